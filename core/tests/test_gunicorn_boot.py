"""RE-5: gunicorn itself refuses to start on a PostgreSQL database with unsafe durability.

shouhu/gunicorn_conf.py's on_starting hook runs core.durability's check in the master, before
it binds or forks. These tests start a real gunicorn (`-c python:shouhu.gunicorn_conf`, as
bin/run.sh and docs/deployment.md do) against a database of their own: a copy of the migrated
test database, one of them with `ALTER DATABASE … SET synchronous_commit = off`. The shared
databases are never altered.
"""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from psycopg import sql

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL durability settings (make test-postgres); on SQLite gunicorn has nothing to check",
)
BOOT_TIMEOUT = 90  # seconds: Django's start-up on a busy 2-core machine


def _admin() -> psycopg.Connection[Any]:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
        password=db["PASSWORD"] or None, dbname="postgres", autocommit=True,
    )  # fmt: skip


def _url(name: str) -> str:
    db = connection.settings_dict
    user = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    host = db["HOST"] + (f":{db['PORT']}" if db["PORT"] else "")
    return f"postgres://{user}@{host}/{name}"


@pytest.fixture(scope="module")
def boot_databases(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, str]]:
    """Two databases of this module's own, copied from the migrated test database: "safe" as
    it is, "unsafe" with synchronous_commit = off; dropped afterwards. Copied before any test
    opens its transaction, as CREATE DATABASE … TEMPLATE refuses a template with sessions."""
    suffix = uuid.uuid4().hex[:12]
    names = {kind: f"shouhu_boot_{kind}_{suffix}" for kind in ("safe", "unsafe")}
    template = sql.Identifier(connection.settings_dict["NAME"])
    with django_db_blocker.unblock():
        connections.close_all()
    try:
        with _admin() as admin:
            for name in names.values():
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), template)
                )
            admin.execute(
                sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
                    sql.Identifier(names["unsafe"])
                )
            )
        yield names
    finally:
        with _admin() as admin:
            for name in names.values():
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _start_gunicorn(name: str, log: Path) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if key != "SHOUHU_ALLOW_UNSAFE_DURABILITY"}
    env.update(
        DJANGO_SETTINGS_MODULE="shouhu.settings",
        DATABASE_URL=_url(name),
        SHOUHU_ALLOWED_HOSTS="127.0.0.1",
        SHOUHU_SECURE_COOKIES="0",
        SHOUHU_DEBUG="0",
    )
    command = [
        sys.executable, "-m", "gunicorn", "shouhu.wsgi:application", "-c", "python:shouhu.gunicorn_conf",
        "--bind", "127.0.0.1:0", "--workers", "1", "--error-logfile", "-", "--no-control-socket",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def _wait_for(log: Path, pattern: str, proc: subprocess.Popen[bytes]) -> re.Match[str] | None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found
        time.sleep(0.3)
    return None


def _serve_status(proc: subprocess.Popen[bytes], log: Path, path: str) -> int:
    """Wait until gunicorn listens and its worker answers; the status of GET path (0: never)."""
    port = _wait_for(log, r"Listening at: http://127\.0\.0\.1:(\d+)", proc)
    deadline = time.monotonic() + BOOT_TIMEOUT
    while port and time.monotonic() < deadline and proc.poll() is None:
        status = _get(f"http://127.0.0.1:{port.group(1)}{path}")
        if status:
            return status
        time.sleep(0.3)
    return 0


@postgres_only
@pytest.mark.django_db  # so that pytest-django creates the test database the copies come from
def test_it_serves_the_login_page_when_durability_is_safe(
    boot_databases: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "gunicorn.log"
    proc = _start_gunicorn(boot_databases["safe"], log)
    try:
        status = _serve_status(proc, log, "/accounts/login/")
    finally:
        _stop(proc)
    output = log.read_text(errors="replace")
    assert status == 200, output
    assert "拒绝启动" not in output


@postgres_only
@pytest.mark.django_db
def test_it_refuses_to_boot_with_synchronous_commit_off(
    boot_databases: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "gunicorn.log"
    proc = _start_gunicorn(boot_databases["unsafe"], log)
    try:
        returncode = proc.wait(timeout=BOOT_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"gunicorn started on synchronous_commit = off:\n{log.read_text(errors='replace')}")
    finally:
        _stop(proc)
    output = log.read_text(errors="replace")
    assert returncode != 0, output
    assert "拒绝启动 gunicorn" in output
    assert "synchronous_commit = off" in output
    assert "在 postgresql.conf 中设置" in output  # core.durability.HINT
    # Refused in the master, before the port was bound or a worker forked.
    assert "Listening at" not in output
    assert "Booting worker" not in output


@postgres_only
def test_it_boots_with_a_warning_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    """An outage at start-up is not an unsafe setting: gunicorn starts, says it could not
    check, and each worker's first connection is still checked (core.durability)."""
    log = tmp_path / "gunicorn.log"
    proc = _start_gunicorn(f"shouhu_boot_missing_{uuid.uuid4().hex[:12]}", log)
    try:
        listening = _wait_for(log, r"Listening at", proc)
        running = proc.poll() is None
    finally:
        _stop(proc)
    output = log.read_text(errors="replace")
    assert listening and running, output
    assert "未能检查持久性设置" in output
    assert "拒绝启动" not in output
