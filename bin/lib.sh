# shellcheck shell=bash
# Shared helpers for the scripts in bin/ (sourced, not run).

# True when running under CI (CI=true, as .ci/run sets it; CI=1 and CI=yes count too).
is_ci() {
    case "${CI:-}" in
        [Tt][Rr][Uu][Ee] | 1 | [Yy][Ee][Ss]) return 0 ;;
        *) return 1 ;;
    esac
}

# A message nobody scrolls past: loud "TITLE" "line" "line"…, to stderr.
loud() {
    local bar="################################################################################"
    {
        echo
        echo "$bar"
        echo "##  $1"
        shift
        local line
        for line in "$@"; do
            echo "##  $line"
        done
        echo "$bar"
        echo
    } >&2
}

# Hide the password of a database URL before printing it.
redact_url() {
    sed -E 's#(://[^:/@]+:)[^@]*@#\1***@#' <<<"$1"
}
