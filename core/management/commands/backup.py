"""manage.py backup [--output DIR] [--from DATABASE_URL]: one consistent backup file (RE-6, RE-7).

- SQLite: the online backup API (sqlite3.Connection.backup, one step), never a copy of the
  live file; the copy is switched to a self-contained rollback journal and must pass
  PRAGMA integrity_check.
- PostgreSQL: pg_dump -Fc (one consistent snapshot); connection settings and the password
  travel in PG* environment variables, never on the command line.

The file is written under a temporary name and renamed when complete, with mode 600 (it holds
every child's file), next to a `sha256sum`-compatible .sha256 file. `restore` refuses a file
whose checksum does not match. Encryption and the off-site copy are separate steps
(docs/operations.md).
"""

import hashlib
import os
import shutil
import sqlite3
import subprocess
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shouhu.db import database_from_url

SQLITE_SUFFIX = ".sqlite3"
PG_SUFFIX = ".dump"
CHUNK = 1 << 20


def database_settings(url: str | None) -> dict[str, Any]:
    """The DATABASES entry for a URL, or the default database's settings."""
    if url:
        return database_from_url(url, settings.BASE_DIR)
    return dict(settings.DATABASES["default"])


def engine_of(db: dict[str, Any]) -> str:
    engine = str(db["ENGINE"])
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise CommandError(f"不支持的数据库引擎：{engine}")


def pg_env(db: dict[str, Any]) -> dict[str, str]:
    """Environment for pg_dump / pg_restore / psql: the password never appears in argv."""
    env = dict(os.environ)
    values = {
        "PGHOST": db.get("HOST"),
        "PGPORT": db.get("PORT"),
        "PGUSER": db.get("USER"),
        "PGPASSWORD": db.get("PASSWORD"),
        "PGDATABASE": db.get("NAME"),
    }
    for key, value in values.items():
        env.pop(key, None)
        if value:
            env[key] = str(value)
    env["PGAPPNAME"] = "shouhu-backup"
    return env


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CommandError(f"找不到 {name}：请安装 PostgreSQL 客户端（Debian: postgresql-client）")
    return path


def sqlite_connect(name: str) -> sqlite3.Connection:
    """A plain connection to an existing SQLite file, or to a file: URI as Django's tests use."""
    if name.startswith("file:"):
        return sqlite3.connect(name, uri=True, timeout=30)
    if not Path(name).is_file():
        raise CommandError(f"SQLite 数据库不存在：{name}")
    return sqlite3.connect(name, timeout=30)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def write_checksum(path: Path) -> str:
    digest = sha256_of(path)
    target = checksum_path(path)
    tmp = target.with_name(target.name + ".partial")
    tmp.write_text(f"{digest}  {path.name}\n", encoding="ascii")
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return digest


def _private_file(path: Path) -> None:
    """Create an empty file of mode 600 (whatever the umask), refusing to reuse a name."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def backup_sqlite(name: str, target: Path) -> None:
    source = sqlite_connect(name)
    dest = sqlite3.connect(target)
    try:
        # pages=-1: one step under one read transaction, so the copy is a single snapshot;
        # in WAL mode writers carry on meanwhile.
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")
        (status,) = dest.execute("PRAGMA integrity_check").fetchone()
    finally:
        dest.close()
        source.close()
    if status != "ok":
        raise CommandError(f"备份副本未通过完整性检查：{status}")


def backup_postgres(db: dict[str, Any], target: Path) -> None:
    command = [pg_tool("pg_dump"), "--format=custom", "--no-password", "--file", str(target)]
    # Fixed argv, no shell; the password is in the environment.
    done = subprocess.run(command, env=pg_env(db), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise CommandError(f"pg_dump 失败（退出码 {done.returncode}）：{done.stderr.strip()}")


def _target_path(directory: Path, suffix: str) -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    path = directory / f"shouhu-{stamp}{suffix}"
    counter = 1
    while path.exists() or path.with_name(path.name + ".partial").exists():
        counter += 1
        path = directory / f"shouhu-{stamp}-{counter}{suffix}"
    return path


class Command(BaseCommand):
    help = "备份数据库（SQLite：在线备份 API；PostgreSQL：pg_dump -Fc），并写 .sha256 校验文件。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--output", type=Path, help="备份目录（默认 SHOUHU_BACKUP_DIR）")
        parser.add_argument(
            "--from", dest="source_url", metavar="DATABASE_URL", help="要备份的数据库（默认本站数据库）"
        )

    def handle(self, *args: Any, output: Path | None, source_url: str | None, **options: Any) -> None:
        db = database_settings(source_url)
        engine = engine_of(db)
        directory = Path(output or settings.SHOUHU_BACKUP_DIR)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = _target_path(directory, SQLITE_SUFFIX if engine == "sqlite" else PG_SUFFIX)
        partial = path.with_name(path.name + ".partial")
        _private_file(partial)
        try:
            if engine == "sqlite":
                backup_sqlite(str(db["NAME"]), partial)
            else:
                backup_postgres(db, partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        digest = write_checksum(path)
        self.stdout.write(f"备份完成 backup written: {path}")
        self.stdout.write(f"sha256 {digest}")
        self.stdout.write(f"大小 size: {path.stat().st_size} bytes")
