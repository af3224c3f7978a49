"""RE-6 and RE-7: `manage.py backup` and `manage.py restore`, through the commands.

SQLite runs everywhere (the databases are files under tmp_path); the PostgreSQL round trip
runs in `make test-postgres`.
"""

import hashlib
import sqlite3
import stat
import threading
import uuid
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from geo.models import Region

ROWS = 6000
BLOB = b"x" * 4096  # 6,000 rows of 4 KiB: a backup long enough to race against


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _source(path: Path, rows: int = ROWS) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE writes (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
    conn.executemany("INSERT INTO writes (payload) VALUES (?)", ([BLOB] for _ in range(rows)))
    conn.commit()
    conn.close()


def _backup(*args: str) -> tuple[Path, str]:
    out = StringIO()
    call_command("backup", *args, stdout=out)
    lines = out.getvalue().splitlines()
    path = Path(lines[0].split(": ", 1)[1])
    digest = lines[1].split()[1]
    return path, digest


def _ids(path: Path) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [row[0] for row in conn.execute("SELECT id FROM writes ORDER BY id")]
    finally:
        conn.close()


class Writer(threading.Thread):
    """Commits one row per transaction until stopped; `committed` is the count acknowledged."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.committed = ROWS
        self.stop = threading.Event()
        self.started_writing = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA synchronous=FULL")
        while not self.stop.is_set():
            conn.execute("INSERT INTO writes (payload) VALUES (?)", (BLOB,))
            conn.commit()
            self.committed += 1
            self.started_writing.set()
        conn.close()


def test_it_backs_up_sqlite_consistently_under_concurrent_writes(tmp_path: Path) -> None:
    source = tmp_path / "live.sqlite3"
    _source(source)
    writer = Writer(source)
    writer.start()
    try:
        assert writer.started_writing.wait(10)
        before = writer.committed
        path, digest = _backup("--from", _sqlite_url(source), "--output", str(tmp_path / "backups"))
        after = writer.committed
    finally:
        writer.stop.set()
        writer.join(10)

    ids = _ids(path)  # integrity_check = ok
    # One snapshot: every row committed before the backup began, then a gap-free prefix of
    # the rows committed while it ran, and nothing half-written.
    assert before <= len(ids) <= after
    assert ids == list(range(1, len(ids) + 1))
    assert writer.committed > len(ids)  # the writer kept going: the backup did not block it
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert (path.parent / f"{path.name}.sha256").read_text() == f"{digest}  {path.name}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert not list(path.parent.glob("*.partial"))


def test_it_restores_a_sqlite_backup_into_an_empty_target_only(tmp_path: Path) -> None:
    source = tmp_path / "site.sqlite3"
    _source(source, rows=50)
    path, _digest = _backup("--from", _sqlite_url(source), "--output", str(tmp_path))
    target = tmp_path / "restored.sqlite3"

    out = StringIO()
    call_command("restore", str(path), "--into", _sqlite_url(target), stdout=out)
    assert "校验通过" in out.getvalue() and "恢复完成" in out.getvalue()
    assert _ids(target) == list(range(1, 51))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.execute("DELETE FROM writes WHERE id > 10")
    conn.commit()
    conn.close()

    with pytest.raises(CommandError, match="不是空的"):
        call_command("restore", str(path), "--into", _sqlite_url(target), stdout=StringIO())
    assert _ids(target) == list(range(1, 11))  # untouched
    call_command("restore", str(path), "--into", _sqlite_url(target), "--force", stdout=StringIO())
    assert _ids(target) == list(range(1, 51))


def test_it_refuses_a_backup_whose_checksum_does_not_match(tmp_path: Path) -> None:
    source = tmp_path / "site.sqlite3"
    _source(source, rows=50)
    path, _digest = _backup("--from", _sqlite_url(source), "--output", str(tmp_path))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit, as on a bad disk
    path.write_bytes(bytes(data))
    target = tmp_path / "restored.sqlite3"

    with pytest.raises(CommandError, match="校验和不符"):
        call_command("restore", str(path), "--into", _sqlite_url(target), stdout=StringIO())
    assert not target.exists()

    (path.parent / f"{path.name}.sha256").unlink()
    with pytest.raises(CommandError, match="找不到校验文件"):
        call_command("restore", str(path), "--into", _sqlite_url(target), stdout=StringIO())


def test_it_refuses_a_backup_of_the_other_engine(tmp_path: Path) -> None:
    source = tmp_path / "site.sqlite3"
    _source(source, rows=5)
    path, _digest = _backup("--from", _sqlite_url(source), "--output", str(tmp_path))
    with pytest.raises(CommandError, match="不是 postgresql 的备份"):
        call_command("restore", str(path), "--into", "postgres://nobody@127.0.0.1:1/x", stdout=StringIO())


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_url(name: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"


def _pg(url: str) -> psycopg.Connection[Any]:
    parsed = urlparse(url)
    return psycopg.connect(
        host=parsed.hostname,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.path.lstrip("/"),
        autocommit=True,
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump / pg_restore (make test-postgres)")
def test_it_backs_up_and_restores_postgres(db: Any, tmp_path: Path) -> None:
    path, digest = _backup("--output", str(tmp_path))  # the test database: regions are committed
    assert path.suffix == ".dump"
    assert path.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    scratch = f"test_restore_{uuid.uuid4().hex[:12]}"
    url = _pg_url(scratch)
    try:
        call_command("restore", str(path), "--into", url, stdout=StringIO())
        with _pg(url) as conn:
            restored = conn.execute("SELECT count(*) FROM geo_region").fetchone()
            conn.execute("DELETE FROM geo_region WHERE level = 'village'")
        assert restored == (Region.objects.count(),)

        with pytest.raises(CommandError, match="不是空的"):
            call_command("restore", str(path), "--into", url, stdout=StringIO())
        call_command("restore", str(path), "--into", url, "--force", stdout=StringIO())
        with _pg(url) as conn:
            assert conn.execute("SELECT count(*) FROM geo_region").fetchone() == restored
    finally:
        with _pg(_pg_url("postgres")) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
