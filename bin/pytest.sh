#!/usr/bin/env bash
# pytest.sh ARGS…: run the project's pytest with ARGS; "no tests collected" (exit 5) is a
# failure, never a silent pass. DATABASE_URL chooses the database (see shouhu/test_settings.py).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bin/lib.sh
source bin/lib.sh

VENV=${VENV:-.venv}
echo ">>> pytest $* (DATABASE_URL=$(redact_url "${DATABASE_URL:-<unset: shouhu/test_settings.py default>}"))"
rc=0
"$VENV/bin/pytest" "$@" || rc=$?
if [[ $rc -eq 5 ]]; then
    loud "失败 FAILED: pytest collected no tests (exit 5)" "pytest $*" \
        "A test run that runs nothing is a failure here: check the markers and paths."
    exit 1
fi
exit "$rc"
