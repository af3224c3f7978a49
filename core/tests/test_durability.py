"""RE-5 and RE-7: the database must not acknowledge commits it could lose.

PostgreSQL: the system check (`manage.py check --database default`, also run by migrate)
reports fsync / full_page_writes / synchronous_commit off as an error, and a process's first
connection to such a server is refused. SQLite: every connection opened from DATABASE_URL
runs in WAL mode with synchronous=FULL.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import ConnectionHandler
from django.test import override_settings

from core import durability
from shouhu.db import database_from_url

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL durability settings (make test-postgres)"
)


def _check() -> str:
    """`manage.py check --database default`; returns what it printed (raises on errors)."""
    out, err = StringIO(), StringIO()
    call_command("check", "--database", "default", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def async_commit(db: Any) -> Iterator[None]:
    """synchronous_commit = off for the test connection's session, as a careless
    `ALTER ROLE … SET` or postgresql.conf would set it."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


@postgres_only
def test_it_passes_the_check_on_a_safe_server(db: Any) -> None:
    assert "core.E001" not in _check()


@postgres_only
def test_it_reports_synchronous_commit_off_as_an_error(async_commit: None) -> None:
    with pytest.raises(SystemCheckError) as info:
        _check()
    message = str(info.value)
    assert "core.E001" in message
    assert "synchronous_commit = off" in message
    assert "fsync" not in message.split("HINT")[0]  # only the unsafe setting is named


@postgres_only
def test_it_only_warns_when_the_benchmark_override_is_set(async_commit: None) -> None:
    with override_settings(SHOUHU_ALLOW_UNSAFE_DURABILITY=True):
        output = _check()
    assert "core.W001" in output
    assert "synchronous_commit = off" in output


@contextmanager
def fresh_guard() -> Iterator[None]:
    """A process that has not yet verified its server (as a new gunicorn worker)."""
    saved = set(durability._verified)
    durability._verified.clear()
    try:
        yield
    finally:
        durability._verified.clear()
        durability._verified.update(saved)


def _connection_with(options: str) -> BaseDatabaseWrapper:
    """A new connection to the test database whose session starts with these options."""
    wrapper = connections.create_connection("default")
    wrapper.settings_dict = {
        **wrapper.settings_dict,
        "OPTIONS": {**wrapper.settings_dict.get("OPTIONS", {}), "options": options},
    }
    return wrapper


@postgres_only
def test_it_refuses_a_new_connection_to_an_unsafe_server(db: Any) -> None:
    unsafe = _connection_with("-c synchronous_commit=off")
    with fresh_guard():
        for _ in range(2):  # refused every time, not only on the first try
            with pytest.raises(ImproperlyConfigured, match=r"拒绝启动.*synchronous_commit = off"):
                unsafe.ensure_connection()
            assert unsafe.connection is None  # closed: no later query slips through
    with fresh_guard(), override_settings(SHOUHU_ALLOW_UNSAFE_DURABILITY=True):
        unsafe.ensure_connection()
        assert unsafe.connection is not None
    unsafe.close()

    safe = _connection_with("-c synchronous_commit=on")
    with fresh_guard():
        safe.ensure_connection()
        with safe.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    safe.close()


def test_it_opens_sqlite_files_in_wal_mode_with_full_sync(tmp_path: Path, django_db_blocker: Any) -> None:
    db = database_from_url(f"sqlite:///{tmp_path / 'shouhu.sqlite3'}", settings.BASE_DIR)
    handler = ConnectionHandler({"default": db})
    wrapper = handler["default"]
    with django_db_blocker.unblock():
        try:
            with wrapper.cursor() as cursor:
                cursor.execute("PRAGMA synchronous")
                assert cursor.fetchone() == (2,)  # FULL
                cursor.execute("PRAGMA journal_mode")
                assert cursor.fetchone() == ("wal",)
                cursor.execute("PRAGMA foreign_keys")
                assert cursor.fetchone() == (1,)
        finally:
            wrapper.close()
