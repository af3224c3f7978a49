#!/usr/bin/env bash
# side-by-side.sh NAME1 "COMMAND1" NAME2 "COMMAND2": run two commands at once, each line of
# their output prefixed with its name, and fail if either fails (both always run to the end).
#
# `make test` runs the SQLite and the PostgreSQL pytest runs this way: each is one process
# bound to one core, and this project's machines have two (docs/benchmarks.md, "Test suite").
set -uo pipefail

run() {
    local name=$1 command=$2
    # stdbuf: line-buffered, so the two runs' lines interleave whole.
    bash -c "$command" 2>&1 | stdbuf -oL sed "s/^/[$name] /"
    return "${PIPESTATUS[0]}"
}

run "$1" "$2" &
first=$!
run "$3" "$4" &
second=$!
rc1=0 rc2=0
wait "$first" || rc1=$?
wait "$second" || rc2=$?
echo "[$1] exit $rc1; [$3] exit $rc2"
[[ $rc1 -eq 0 && $rc2 -eq 0 ]]
