#!/usr/bin/env bash
# run.sh: start Shouhu on this machine (`make run` calls it after installing requirements.txt).
#
#   1. var/ (mode 700); on first run var/secret_key and var/index_key (random, mode 600),
#      passed to Django as SHOUHU_SECRET_KEY_FILE / SHOUHU_INDEX_KEY_FILE, and var/data_keys
#      (the data-at-rest key ring, mode 600) as SHOUHU_DATA_KEYS_FILE;
#   2. migrate, load_regions (idempotent);
#   3. demo data: seed_demo once per database, its output (the demo logins) kept in
#      var/demo-logins.txt (mode 600) and printed on every later run;
#   4. collectstatic;
#   5. the web server (gunicorn, or runserver when SHOUHU_DEBUG=1) and the task worker
#      (manage.py db_worker) with its job reaper (requeue_stale_jobs --every 60) and the
#      nightly job's scheduler (run_schedule --every 60) together.
#      Ctrl-C stops them all.
#
# Environment: HOST (127.0.0.1), PORT (8000), WEB_CONCURRENCY (gunicorn workers, 2),
# DATABASE_URL (default: SQLite at var/shouhu.sqlite3), SEED_DEMO (1/0; default 1 on the
# default SQLite database, 0 when DATABASE_URL is set), SHOUHU_* as in docs/deployment.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=bin/lib.sh
source bin/lib.sh

VENV=${VENV:-.venv}
PY=$VENV/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
VAR_DIR=${SHOUHU_VAR_DIR:-$ROOT/var}
LOGINS=$VAR_DIR/demo-logins.txt

say() { echo ">>> $*"; }

truthy() {
    case "${1,,}" in
        1 | true | yes | on) return 0 ;;
        *) return 1 ;;
    esac
}

# --- 1. var/ and keys ------------------------------------------------------------------------
umask 077
mkdir -p "$VAR_DIR"
chmod 700 "$VAR_DIR"

# new_key FILE: write a random key to FILE (mode 600) unless FILE already holds one.
new_key() {
    if [[ ! -s $1 ]]; then
        local tmp
        tmp=$(mktemp "$1.XXXXXX")
        "$PY" -c 'import secrets; print(secrets.token_urlsafe(64))' >"$tmp"
        chmod 600 "$tmp"
        mv "$tmp" "$1"
        say "已生成密钥 generated key: $1 (mode 600; back it up, never change it once data exists)"
    fi
}

# Keys given by the caller (SHOUHU_SECRET_KEY, or its _FILE) win over var/.
if [[ -z ${SHOUHU_SECRET_KEY:-} && -z ${SHOUHU_SECRET_KEY_FILE:-} ]]; then
    new_key "$VAR_DIR/secret_key"
    export SHOUHU_SECRET_KEY_FILE=$VAR_DIR/secret_key
fi
if [[ -z ${SHOUHU_INDEX_KEY:-} && -z ${SHOUHU_INDEX_KEY_FILE:-} ]]; then
    new_key "$VAR_DIR/index_key"
    export SHOUHU_INDEX_KEY_FILE=$VAR_DIR/index_key
fi
# The data-at-rest key ring (DP-2): one `id:base64key` line, 32 random bytes; rotate with
# `manage.py rotate_data_key` after putting a new line first (docs/security.md).
if [[ -z ${SHOUHU_DATA_KEYS:-} && -z ${SHOUHU_DATA_KEYS_FILE:-} ]]; then
    if [[ ! -s $VAR_DIR/data_keys ]]; then
        tmp=$(mktemp "$VAR_DIR/data_keys.XXXXXX")
        "$PY" -c 'import base64, os, time; print(time.strftime("k%Y%m%d") + ":" + base64.b64encode(os.urandom(32)).decode())' >"$tmp"
        chmod 600 "$tmp"
        mv "$tmp" "$VAR_DIR/data_keys"
        say "已生成数据加密密钥 generated data key: $VAR_DIR/data_keys (mode 600; back it up apart from the database)"
    fi
    export SHOUHU_DATA_KEYS_FILE=$VAR_DIR/data_keys
fi

# A local run speaks plain http: cookies marked Secure would never come back.
export SHOUHU_SECURE_COOKIES=${SHOUHU_SECURE_COOKIES:-0}
if [[ -z ${SHOUHU_ALLOWED_HOSTS:-} ]]; then
    SHOUHU_ALLOWED_HOSTS="localhost,127.0.0.1,[::1]"
    case "$HOST" in
        localhost | 127.0.0.1 | ::1 | 0.0.0.0 | ::) ;;
        *:*) SHOUHU_ALLOWED_HOSTS+=",[$HOST]" ;;
        *) SHOUHU_ALLOWED_HOSTS+=",$HOST" ;;
    esac
fi
export SHOUHU_ALLOWED_HOSTS

DEBUG_MODE=0
if truthy "${SHOUHU_DEBUG:-0}"; then
    DEBUG_MODE=1
fi

# --- 2. database -----------------------------------------------------------------------------
if [[ -n ${DATABASE_URL:-} ]]; then
    say "数据库 database: $(redact_url "$DATABASE_URL")"
else
    say "数据库 database: SQLite $VAR_DIR/shouhu.sqlite3"
fi
"$PY" manage.py migrate --noinput
"$PY" manage.py load_regions

# --- 3. demo data ----------------------------------------------------------------------------
# demo_state: 0 = demo data loaded in this database, 3 = not loaded.
demo_state() {
    local rc=0
    "$PY" - <<'PY' || rc=$?
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouhu.settings")
django.setup()
from core.models import demo_loaded  # noqa: E402

sys.exit(0 if demo_loaded() else 3)
PY
    if [[ $rc -ne 0 && $rc -ne 3 ]]; then
        echo "could not read the demo flag (exit $rc)" >&2
        exit "$rc"
    fi
    return "$rc"
}

if [[ -z ${SEED_DEMO:-} ]]; then
    if [[ -n ${DATABASE_URL:-} ]]; then SEED_DEMO=0; else SEED_DEMO=1; fi
fi
demo_loaded=0
if truthy "$SEED_DEMO"; then
    if ! "$PY" manage.py help seed_demo >/dev/null 2>&1; then
        loud "注意 NOTICE: manage.py seed_demo 尚不存在，未载入演示数据" \
            "The seed_demo command does not exist yet: no demo data, no demo logins."
    elif [[ -s $LOGINS ]] && demo_state; then
        demo_loaded=1
    else
        say "载入演示数据 seeding demo data (manage.py seed_demo)…"
        tmp=$(mktemp "$LOGINS.XXXXXX")
        if ! "$PY" manage.py seed_demo >"$tmp"; then
            rm -f "$tmp"
            echo "manage.py seed_demo failed" >&2
            exit 1
        fi
        chmod 600 "$tmp"
        mv "$tmp" "$LOGINS"
        demo_loaded=1
    fi
else
    say "未载入演示数据 demo data not seeded (SEED_DEMO=$SEED_DEMO)"
    if [[ -s $LOGINS ]] && demo_state; then
        demo_loaded=1
    fi
fi

# --- 4. static files -------------------------------------------------------------------------
"$PY" manage.py collectstatic --noinput -v 0

# --- 5. web server and task worker -----------------------------------------------------------
case "$HOST" in
    *:*) BIND="[$HOST]:$PORT" ;;
    *) BIND="$HOST:$PORT" ;;
esac
case "$HOST" in
    0.0.0.0) PROBE_HOST=127.0.0.1 ;;
    ::) PROBE_HOST="[::1]" ;;
    *:*) PROBE_HOST="[$HOST]" ;;
    *) PROBE_HOST=$HOST ;;
esac
URL="http://$PROBE_HOST:$PORT/"

pids=()
stopped=0
# stop: TERM each child's process group (runserver's autoreloader has a child of its own),
# wait up to 15 s, then KILL what is left.
stop() {
    [[ $stopped -eq 1 ]] && return
    stopped=1
    trap - INT TERM EXIT
    local pid alive
    for pid in "${pids[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    for _ in $(seq 30); do
        alive=0
        for pid in "${pids[@]}"; do
            if kill -0 -- "-$pid" 2>/dev/null; then alive=1; fi
        done
        [[ $alive -eq 0 ]] && break
        sleep 0.5
    done
    for pid in "${pids[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    say "已停止 stopped"
}
trap 'echo; say "正在停止 stopping…"; stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# Job control gives each child its own process group: Ctrl-C reaches only this script, whose
# trap stops both children in order.
set -m
"$PY" manage.py db_worker &
pids+=("$!")
# The job reaper: requeues jobs whose worker died (lease expired), RE-4.
"$PY" manage.py requeue_stale_jobs --every 60 --verbosity 0 &
pids+=("$!")
# The scheduler: submits the nightly life-events job (work.nightly) once a day, issue 4.
"$PY" manage.py run_schedule --every 60 --verbosity 0 &
pids+=("$!")
if [[ $DEBUG_MODE -eq 1 ]]; then
    "$PY" manage.py runserver "$BIND" &
    MODE="runserver (SHOUHU_DEBUG=1)"
else
    # No access log: request lines can carry query strings with personal data (DP-5).
    # No control socket: it would live in ~/.gunicorn and clash between two checkouts.
    # shouhu.gunicorn_conf refuses to start on PostgreSQL with unsafe durability (RE-5).
    "$PY" -m gunicorn shouhu.wsgi:application -c python:shouhu.gunicorn_conf --bind "$BIND" \
        --workers "$WEB_CONCURRENCY" --graceful-timeout 10 --error-logfile - --no-control-socket &
    MODE="gunicorn, $WEB_CONCURRENCY workers"
fi
web=$!
pids+=("$web")
set +m

# http_status URL: print the HTTP status of URL (000 when nothing answers).
http_status() {
    "$PY" - "$1" <<'PY'
import sys
import urllib.error
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:  # noqa: S310
        print(response.status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except Exception:
    print("000")
PY
}

ready=0
for _ in $(seq 120); do
    if ! kill -0 "$web" 2>/dev/null; then
        echo "the web server exited during start-up" >&2
        exit 1
    fi
    if [[ $(http_status "$URL") != 000 ]]; then
        ready=1
        break
    fi
    sleep 0.5
done
if [[ $ready -eq 0 ]]; then
    echo "the web server did not answer at $URL within 60 s" >&2
    exit 1
fi

if [[ $DEBUG_MODE -eq 0 ]]; then
    static=$(find "$VAR_DIR/staticfiles" -type f -name '*.js' -print -quit 2>/dev/null || true)
    if [[ -n $static ]]; then
        static_url="${URL}static/${static#"$VAR_DIR/staticfiles/"}"
        code=$(http_status "$static_url")
        if [[ $code != 200 ]]; then
            loud "注意 NOTICE: 静态文件未能提供 static files are not served (HTTP $code)" \
                "$static_url" \
                "gunicorn needs whitenoise.middleware.WhiteNoiseMiddleware in MIDDLEWARE" \
                "(see docs/deployment.md), or run with SHOUHU_DEBUG=1 make run."
        fi
    fi
fi

bar="================================================================================"
echo
echo "$bar"
echo "  守护 Shouhu 已启动 is running: $URL"
echo "  $MODE + 任务进程 task worker (manage.py db_worker) + 每晚任务调度 scheduler (run_schedule)"
echo "  按 Ctrl-C 停止 press Ctrl-C to stop"
if [[ $demo_loaded -eq 1 && -s $LOGINS ]]; then
    echo
    echo "  演示账号 demo logins ($LOGINS):"
    sed 's/^/    /' "$LOGINS"
fi
echo "$bar"
echo

rc=0
wait -n "${pids[@]}" || rc=$?
echo "a process exited (status $rc); stopping the other" >&2
stop
exit "$rc"
