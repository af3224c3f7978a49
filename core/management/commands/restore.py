"""manage.py restore FILE [--into DATABASE_URL] [--force]: restore a `backup` file (RE-6, RE-7).

1. The checksum in FILE.sha256 is verified first; a missing or mismatching checksum is refused.
2. The target (default: this site's database) must be empty unless --force.
3. SQLite: the online backup API copies the file into the target in one step, then
   PRAGMA integrity_check. PostgreSQL: the database is created when missing, then
   `pg_restore --exit-on-error --single-transaction --no-owner` (with --force also
   `--clean --if-exists`), so a failed restore leaves the target as it was.

Stop the web and worker processes before restoring into the live database
(docs/operations.md, 恢复步骤).
"""

import os
import sqlite3
import subprocess
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from django.core.management.base import BaseCommand, CommandError
from psycopg import sql

from core.management.commands.backup import (
    PG_SUFFIX,
    SQLITE_SUFFIX,
    checksum_path,
    database_settings,
    engine_of,
    pg_env,
    pg_tool,
    sha256_of,
)


def verify_checksum(path: Path) -> str:
    if not path.is_file():
        raise CommandError(f"备份文件不存在：{path}")
    sums = checksum_path(path)
    if not sums.is_file():
        raise CommandError(f"找不到校验文件 {sums.name}：拒绝恢复未经校验的备份")
    expected = sums.read_text(encoding="ascii").split()[0].lower()
    actual = sha256_of(path)
    if actual != expected:
        raise CommandError(f"校验和不符（应为 {expected}，实为 {actual}）：备份文件已损坏或被改动，拒绝恢复")
    return actual


def _sqlite_tables(conn: sqlite3.Connection) -> int:
    query = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    (count,) = conn.execute(query).fetchone()
    return int(count)


def restore_sqlite(source: Path, target: str, *, force: bool) -> int:
    uri = target.startswith("file:")
    if not uri and not Path(target).parent.is_dir():
        raise CommandError(f"目标目录不存在：{Path(target).parent}")
    if not uri and not Path(target).exists():
        # The restored file holds every child's file: mode 600 whatever the umask.
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    backup = sqlite3.connect(f"file:{quote(str(source.resolve()))}?mode=ro", uri=True)
    dest = sqlite3.connect(target, uri=uri, timeout=30)
    try:
        if _sqlite_tables(dest) and not force:
            raise CommandError(f"目标数据库 {target} 不是空的：加 --force 才会覆盖")
        backup.backup(dest)
        dest.execute("PRAGMA journal_mode=WAL")  # as shouhu/db.py opens it
        (status,) = dest.execute("PRAGMA integrity_check").fetchone()
        if status != "ok":
            raise CommandError(f"恢复后的数据库未通过完整性检查：{status}")
        return _sqlite_tables(dest)
    finally:
        dest.close()
        backup.close()


def _pg_connect(db: dict[str, Any], dbname: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname=dbname,
        autocommit=True,
    )


def _pg_tables(db: dict[str, Any]) -> int | None:
    """Tables in the target database outside the system schemas; None if it does not exist."""
    with _pg_connect(db, "postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
    if not exists:
        return None
    with _pg_connect(db, str(db["NAME"])) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'"
        ).fetchone()
    return int(row[0]) if row else 0


def restore_postgres(source: Path, db: dict[str, Any], *, force: bool) -> int:
    tables = _pg_tables(db)
    if tables is None:
        with _pg_connect(db, "postgres") as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(str(db["NAME"]))))
    elif tables and not force:
        raise CommandError(f"目标数据库 {db['NAME']} 不是空的（{tables} 个表）：加 --force 才会覆盖")
    command = [
        pg_tool("pg_restore"),
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-password",
        "--dbname",
        str(db["NAME"]),
    ]
    if tables:
        command += ["--clean", "--if-exists"]
    command.append(str(source))
    # Fixed argv, no shell; the password is in the environment.
    done = subprocess.run(command, env=pg_env(db), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise CommandError(f"pg_restore 失败（退出码 {done.returncode}），目标未改动：{done.stderr.strip()}")
    return _pg_tables(db) or 0


class Command(BaseCommand):
    help = "从 backup 生成的备份文件恢复数据库：先核对 sha256，目标非空时须加 --force。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="备份文件（.sqlite3 或 .dump），旁边须有 .sha256")
        parser.add_argument("--into", metavar="DATABASE_URL", help="恢复到的数据库（默认本站数据库）")
        parser.add_argument("--force", action="store_true", help="覆盖非空的目标数据库")

    def handle(self, *args: Any, file: Path, into: str | None, force: bool, **options: Any) -> None:
        digest = verify_checksum(file)
        self.stdout.write(f"校验通过 checksum ok: sha256 {digest}")
        db = database_settings(into)
        engine = engine_of(db)
        expected = SQLITE_SUFFIX if engine == "sqlite" else PG_SUFFIX
        if file.suffix != expected:
            raise CommandError(f"{file.name} 不是 {engine} 的备份（应以 {expected} 结尾）")
        started = time.monotonic()
        if engine == "sqlite":
            tables = restore_sqlite(file, str(db["NAME"]), force=force)
        else:
            tables = restore_postgres(file, db, force=force)
        elapsed = time.monotonic() - started
        self.stdout.write(f"恢复完成 restored into {db['NAME']}: {tables} 个表，用时 {elapsed:.1f} 秒")
