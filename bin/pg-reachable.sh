#!/usr/bin/env bash
# pg-reachable.sh URL: exit 0 if the PostgreSQL server of URL (postgres://user[:pw]@host:port/db)
# accepts a login. It connects to the maintenance database "postgres", the one Django uses to
# create the test database "test_<NAME>", so database NAME itself need not exist.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bin/lib.sh
source bin/lib.sh

url=${1:?usage: pg-reachable.sh postgres://user@host:port/name}
VENV=${VENV:-.venv}
if "$VENV/bin/python" - "$url" <<'PY'; then
import sys

import psycopg
from psycopg.conninfo import make_conninfo

try:
    with psycopg.connect(make_conninfo(sys.argv[1], dbname="postgres", connect_timeout=5)) as conn:
        conn.execute("select 1")
except Exception as exc:
    print(f"PostgreSQL: {type(exc).__name__}: {str(exc).strip()}", file=sys.stderr)
    sys.exit(1)
PY
    echo "PostgreSQL reachable at $(redact_url "$url")"
    exit 0
fi
exit 1
