"""Restore drill (RE-6, RE-7): back up, restore into a scratch database, prove it is the same.

    .venv/bin/python bench/restore_drill.py --engine postgres --children 20000
    .venv/bin/python bench/restore_drill.py --engine sqlite --children 20000
    .venv/bin/python bench/restore_drill.py --engine postgres --source-url postgres://…/shouhu

1. Source: with --source-url, that database (read only: it is backed up, never written; it
   must not change while the drill runs, since step 3 reads it again: use a paused replica or
   a maintenance window, or every row written meanwhile shows up as a difference); otherwise
   a fresh drill database (PostgreSQL shouhu_drill_src, or var/drill/source.sqlite3),
   migrated, with the regions and `seed_demo --children N`.
2. `manage.py backup` of the source (timed), then `manage.py restore` of that file into a
   scratch database (PostgreSQL shouhu_drill_restore, or var/drill/restored.sqlite3; dropped
   first), timed: the restore time is the measurable part of the RTO.
3. Per table: row count and a SHA-256 over every row in primary-key order, source vs
   restored. Then `manage.py verify_audit_chain` on the restored database when that command
   exists, `manage.py check --database default` and `manage.py migrate --check` as smoke
   tests, and on PostgreSQL `pg_amcheck --heapallindexed` (B-tree and heap consistency).
4. Prints a report (Markdown) and exits 1 on any difference or failed step.

The scratch databases are dropped at the end unless --keep. Nothing here reads DATABASE_URL.
"""

import argparse
import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DRILL_DIR = ROOT / "var" / "drill"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
ZONE = ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE
DRILL_DATA_KEY = "drill:ZHJpbGwtZGF0YS1rZXktbm90LWZvci1wcm9kLTAwMDE="  # 32 bytes, not a secret


@dataclass
class Step:
    name: str
    seconds: float
    ok: bool
    note: str = ""


@dataclass
class Drill:
    engine: str
    source: str
    scratch: str
    steps: list[Step] = field(default_factory=list)
    tables: list[tuple[str, int, int, bool]] = field(default_factory=list)
    backup_file: Path | None = None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--children", type=int, default=20000, help="seed_demo size of a fresh source")
    parser.add_argument("--source-url", help="back up this database instead of seeding one")
    parser.add_argument("--pg-server", default=PG_SERVER, help="server of the drill databases")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases and backup")
    return parser.parse_args()


def env_for(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="shouhu.settings",
        DATABASE_URL=url,
        SHOUHU_SECRET_KEY=env.get("SHOUHU_SECRET_KEY", "drill-secret-key-not-for-production"),
        SHOUHU_INDEX_KEY=env.get("SHOUHU_INDEX_KEY", "drill-index-key-not-for-production"),
        # Backup, restore and the checks never decrypt a column; seed_demo encrypts with this.
        SHOUHU_DATA_KEYS=env.get("SHOUHU_DATA_KEYS", DRILL_DATA_KEY),
    )
    return env


def manage(url: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *argv], cwd=ROOT, env=env_for(url), capture_output=True, text=True
    )


def timed(
    drill: Drill, name: str, url: str, *argv: str, must: bool = True
) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    done = manage(url, *argv)
    ok = done.returncode == 0
    note = "" if ok else (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    drill.steps.append(Step(name, time.monotonic() - started, ok, note))
    if must and not ok:
        print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
        raise SystemExit(f"step failed: {name}")
    return done


# --- databases -------------------------------------------------------------------------------


def pg_admin(server: str) -> Any:
    import psycopg

    return psycopg.connect(f"{server}/postgres", autocommit=True)


def pg_drop(server: str, name: str) -> None:
    from psycopg import sql

    with pg_admin(server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def pg_create(server: str, name: str) -> None:
    from psycopg import sql

    pg_drop(server, name)
    with pg_admin(server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def sqlite_remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def prepare(args: argparse.Namespace) -> Drill:
    DRILL_DIR.mkdir(parents=True, exist_ok=True)
    if args.engine == "postgres":
        source = args.source_url or f"{args.pg_server}/shouhu_drill_src"
        drill = Drill("postgres", source, f"{args.pg_server}/shouhu_drill_restore")
        pg_drop(args.pg_server, "shouhu_drill_restore")
        if not args.source_url:
            pg_create(args.pg_server, "shouhu_drill_src")
    else:
        source_path = DRILL_DIR / "source.sqlite3"
        restored = DRILL_DIR / "restored.sqlite3"
        source = args.source_url or f"sqlite:///{source_path}"
        drill = Drill("sqlite", source, f"sqlite:///{restored}")
        sqlite_remove(restored)
        if not args.source_url:
            sqlite_remove(source_path)
    if not args.source_url:
        timed(drill, "seed: migrate", source, "migrate", "--noinput", "--verbosity", "0")
        timed(drill, "seed: load_regions", source, "load_regions", "--verbosity", "0")
        timed(drill, f"seed: seed_demo --children {args.children}", source, "seed_demo",
              "--children", str(args.children), "--password", "Drill-Passw0rd-not-a-secret")  # fmt: skip
    return drill


# --- comparing -------------------------------------------------------------------------------


def _pg_conn(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


def pg_tables(url: str) -> dict[str, list[str]]:
    """Table → primary-key columns (all columns when there is no primary key)."""
    with _pg_conn(url) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )]  # fmt: skip
        tables = {}
        for name in names:
            pk = [r[0] for r in conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
                "ORDER BY a.attnum", [f'public."{name}"'],
            )]  # fmt: skip
            tables[name] = pk or [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                "AND table_name = %s ORDER BY ordinal_position", [name],
            )]  # fmt: skip
    return tables


def pg_digest(url: str, table: str, order: list[str]) -> tuple[int, str]:
    from psycopg import sql

    digest, rows = hashlib.sha256(), 0
    query = sql.SQL("SELECT t::text FROM {} t ORDER BY {}").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in order)
    )
    with _pg_conn(url) as conn, conn.transaction(), conn.cursor(name="drill") as cursor:
        cursor.itersize = 5000
        cursor.execute(query)
        for (text,) in cursor:
            digest.update(text.encode() + b"\n")
            rows += 1
    return rows, digest.hexdigest()


def sqlite_path(url: str) -> Path:
    return Path(urlparse(url).path[1:])


def sqlite_tables(url: str) -> dict[str, list[str]]:
    conn = sqlite3.connect(sqlite_path(url))
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )]  # fmt: skip
        tables = {}
        for name in names:
            info = list(conn.execute(f'PRAGMA table_info("{name}")'))
            pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5] > 0]
            tables[name] = pk or [r[1] for r in info]
        return tables
    finally:
        conn.close()


def sqlite_digest(url: str, table: str, order: list[str]) -> tuple[int, str]:
    digest, rows = hashlib.sha256(), 0
    conn = sqlite3.connect(sqlite_path(url))
    try:
        columns = ", ".join(f'"{c}"' for c in order)
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY {columns}'):
            digest.update(repr(row).encode() + b"\n")
            rows += 1
    finally:
        conn.close()
    return rows, digest.hexdigest()


def compare(drill: Drill) -> None:
    tables, digest = (pg_tables, pg_digest) if drill.engine == "postgres" else (sqlite_tables, sqlite_digest)
    started = time.monotonic()
    source, restored = tables(drill.source), tables(drill.scratch)
    for name in sorted(set(source) | set(restored)):
        if name not in source or name not in restored:
            drill.tables.append((name, -1, -1, False))
            continue
        rows_a, hash_a = digest(drill.source, name, source[name])
        rows_b, hash_b = digest(drill.scratch, name, restored[name])
        drill.tables.append((name, rows_a, rows_b, rows_a == rows_b and hash_a == hash_b))
    same = all(ok for *_rest, ok in drill.tables)
    name = f"compare {len(drill.tables)} tables (rows + SHA-256)"
    drill.steps.append(Step(name, time.monotonic() - started, same))


# --- the drill -------------------------------------------------------------------------------


def backup_and_restore(drill: Drill) -> None:
    out_dir = DRILL_DIR / "backups"
    done = timed(drill, "backup", drill.source, "backup", "--output", str(out_dir))
    drill.backup_file = Path(done.stdout.splitlines()[0].split(": ", 1)[1])
    size = drill.backup_file.stat().st_size
    drill.steps[-1].note = f"{drill.backup_file.name}, {size / 1e6:.1f} MB"
    done = timed(drill, "restore (checksum, then restore)", drill.source, "restore", str(drill.backup_file),
                 "--into", drill.scratch)  # fmt: skip
    drill.steps[-1].note = done.stdout.strip().splitlines()[-1]  # the command's own timing


def smoke(drill: Drill) -> None:
    if "verify_audit_chain" in manage(drill.scratch, "help", "--commands").stdout.split():
        timed(drill, "verify_audit_chain (restored)", drill.scratch, "verify_audit_chain", must=False)
    else:
        drill.steps.append(Step("verify_audit_chain (restored)", 0, True, "command not present yet: skipped"))
    timed(drill, "check --database default (restored)", drill.scratch, "check", "--database", "default",
          must=False)  # fmt: skip
    timed(drill, "migrate --check (restored)", drill.scratch, "migrate", "--check", must=False)
    amcheck = shutil.which("pg_amcheck") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_amcheck"))), None
    )
    if drill.engine == "postgres" and amcheck:
        parsed = urlparse(drill.scratch)
        started = time.monotonic()
        done = subprocess.run(
            [str(amcheck), "--install-missing", "--heapallindexed", "-h", parsed.hostname or "localhost",
             "-p", str(parsed.port or 5432), "-U", parsed.username or "postgres", parsed.path.lstrip("/")],
            capture_output=True, text=True,
        )  # fmt: skip
        note = "" if done.returncode == 0 else (done.stdout + done.stderr).strip()[:200]
        drill.steps.append(Step("pg_amcheck --heapallindexed (restored)", time.monotonic() - started,
                                done.returncode == 0, note))  # fmt: skip


def cleanup(drill: Drill, args: argparse.Namespace) -> None:
    if args.keep:
        return
    if drill.engine == "postgres":
        pg_drop(args.pg_server, "shouhu_drill_restore")
        if not args.source_url:
            pg_drop(args.pg_server, "shouhu_drill_src")
    else:
        sqlite_remove(sqlite_path(drill.scratch))
        if not args.source_url:
            sqlite_remove(sqlite_path(drill.source))
    if drill.backup_file is not None:
        drill.backup_file.unlink(missing_ok=True)
        Path(f"{drill.backup_file}.sha256").unlink(missing_ok=True)


def counts_line(drill: Drill) -> str:
    found = {name: rows for name, rows, _r, _ok in drill.tables}
    wanted = ["registry_child", "registry_parent", "registry_historicalchild"]
    wanted += sorted(name for name in found if name.startswith("audit_") and found[name] > 0)
    total = sum(rows for rows in found.values() if rows > 0)
    listed = ", ".join(f"{name} {found[name]:,}" for name in wanted if name in found)
    return f"{listed}; all tables {total:,}"


def report(drill: Drill, args: argparse.Namespace) -> Iterator[str]:
    ok = all(step.ok for step in drill.steps) and all(t[3] for t in drill.tables)
    now = dt.datetime.now(ZONE)
    where = f"fresh demo database, seed_demo --children {args.children}"
    if args.source_url:
        where = "given source"
    yield f"Run {now:%Y-%m-%d %H:%M %Z} by `bench/restore_drill.py --engine {drill.engine}` ({where}): "
    yield f"**{'PASS' if ok else 'FAIL'}**. {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}."
    yield ""
    yield f"Rows: {counts_line(drill)}."
    yield ""
    yield "| Step | Seconds | Result | Note |"
    yield "|---|---:|---|---|"
    for step in drill.steps:
        yield f"| {step.name} | {step.seconds:.1f} | {'ok' if step.ok else 'FAILED'} | {step.note} |"
    differing = [t for t in drill.tables if not t[3]]
    yield ""
    yield f"Tables compared: {len(drill.tables)}; identical: {len(drill.tables) - len(differing)}; " \
          f"different: {len(differing)}."  # fmt: skip
    for name, rows_a, rows_b, _ok in differing:
        yield f"- DIFFERENT {name}: source {rows_a} rows, restored {rows_b} rows"


def main() -> int:
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    drill = prepare(args)
    try:
        backup_and_restore(drill)
        compare(drill)
        smoke(drill)
    finally:
        lines = list(report(drill, args))
        cleanup(drill, args)
    print("\n".join(lines))
    ok = all(step.ok for step in drill.steps) and all(t[3] for t in drill.tables)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
