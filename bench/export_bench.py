"""Exports at the scale of a province (issue 6 item 8). See bench/README.md.

    .venv/bin/python bench/export_bench.py                # seed (≈ 15–25 min), then measure
    .venv/bin/python bench/export_bench.py --reuse        # measure a database seeded earlier

1. Prepares a PostgreSQL database (shouhu_export_bench by default): migrate, load_regions, the
   demo generator (seed_demo --no-history, as bench/ledger_bench.py does) for `--children`
   files in 合浦县, then spreads them over a province: 合浦县 keeps exactly `--county` active
   files (every 20th), the rest move to 19 other real counties of 广西 (450000), each given
   a copy of 合浦县's townships and villages under its own codes. A province-level user
   (县级管理员 role, grant at 广西壮族自治区) is made. VACUUM (ANALYZE).
2. Times the real views through the Django test Client (force_login, a verified second
   factor), the response body read and dropped (as a download to /dev/null would):
   - the county ledger (花名册, /forms/roster.xlsx) of demo_county_admin: 合浦县;
   - the province ledger (/forms/roster.csv) of the province user;
   and for each the wall time, the rows (from the export's audit row) and the bytes. Each
   export runs in a fresh child process (multiprocessing, fork), so its peak RSS
   (ru_maxrss) is that export's alone, Django and the database connection included.
3. Writes the results into docs/benchmarks.md between the bench:export markers.

bench/stats_bench.py measures the dashboard on the same database.
"""

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import ledger_bench  # noqa: E402  (database preparation, login and machine facts)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shouhu_export_bench"
REPORT = ROOT / "docs" / "benchmarks.md"
SECTION = "## bench:export"
BEGIN, END = "<!-- bench:export:begin -->", "<!-- bench:export:end -->"
PROVINCE_CODE = "45"  # 广西壮族自治区
HEPU = "450521"
OTHER_COUNTIES = 19
BUCKETS = OTHER_COUNTIES + 1
PROVINCE_USER = "bench_province_admin"
COUNTY_USER = "demo_county_admin"
COUNTY_TARGET_S = 20.0
PROVINCE_TARGET_S = 60.0
PROVINCE_TARGET_MB = 300.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_database_args(parser)
    parser.add_argument("--runs", type=int, default=1, help="timed runs per export (each in a new process)")
    parser.add_argument("--only", choices=["county", "province"], help="one export only")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    return parser.parse_args(argv)


def add_database_args(parser: argparse.ArgumentParser) -> None:
    """The options of the shared preparation (also used by bench/stats_bench.py)."""
    parser.add_argument(
        "--children", type=int, default=1_050_000,
        help="files to seed (≈ 95 %% active: 1,050,000 gives one million active files)",
    )  # fmt: skip
    parser.add_argument("--county", type=int, default=50_000, help="active files left in 合浦县")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--on", type=dt.date.fromisoformat, default=dt.date.today(), help="reference date")
    parser.add_argument("--db-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--force", action="store_true", help="allow a database name without 'bench'")


# --- Preparation --------------------------------------------------------------------------------


def _execute(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return ledger_bench._execute(statement, params)


@dataclass
class Setup:
    seconds: float = 0.0
    seed_s: float = 0.0
    spread_s: float = 0.0
    reused: bool = False


def _spread_done() -> bool:
    from django.db import DatabaseError

    from accounts.models import User

    try:
        return User.objects.filter(username=PROVINCE_USER).exists()
    except DatabaseError:
        return False


def prepare(args: argparse.Namespace) -> Setup:
    """The seeded province, reused when --reuse finds one."""
    from django.core.management import call_command

    setup = Setup()
    if args.reuse and ledger_bench._seeded(args.children) and _spread_done():
        setup.reused = True
        print("Reusing the seeded database.")
        return setup
    started = time.perf_counter()
    ledger_bench.reset_database(args.db_url, force=args.force)
    from django.db import connection

    connection.close()
    call_command("migrate", verbosity=0)
    call_command("load_regions", verbosity=0)
    with ledger_bench.bulk_load_mode():
        seeding = time.perf_counter()
        call_command(
            "seed_demo", children=args.children, seed=args.seed, on=args.on,
            password=ledger_bench.PASSWORD, no_history=True, verbosity=2,
        )  # fmt: skip
        setup.seed_s = time.perf_counter() - seeding
        spreading = time.perf_counter()
        spread_over_province(county_files=args.county)
        setup.spread_s = time.perf_counter() - spreading
    province_user()
    _execute("VACUUM (ANALYZE)")
    setup.seconds = time.perf_counter() - started
    print(
        f"Setup: {setup.seconds / 60:.1f} min (seed_demo {setup.seed_s:.0f} s, spread {setup.spread_s:.0f} s)"
    )
    return setup


def _clone_regions() -> list[tuple[int, str, str, str, str]]:
    """Copies of 合浦县's townships and villages under 19 other counties of the province:
    (bucket, Hepu village id, village id, township id, county id) for each copy."""
    import uuid

    from geo.models import Region, RegionLevel

    counties = list(
        Region.objects.filter(level=RegionLevel.COUNTY, code__startswith=PROVINCE_CODE, valid_to__isnull=True)
        .exclude(code__startswith=HEPU[:4])  # 北海市: its real townships are loaded
        .order_by("code")[:OTHER_COUNTIES]
    )
    townships = list(
        Region.objects.filter(parent__code=HEPU, level=RegionLevel.TOWNSHIP, valid_to__isnull=True)
    )
    villages = list(Region.objects.filter(parent__in=townships, level=RegionLevel.VILLAGE))
    made: list[Region] = []
    mapping: list[tuple[int, str, str, str, str]] = []
    for bucket, county in enumerate(counties, start=1):
        copies: dict[uuid.UUID, Region] = {}
        for township in townships:
            copy = Region(
                code=county.code + township.code[6:], name=township.name, level=RegionLevel.TOWNSHIP
            )
            copy.parent = county
            copies[township.pk] = copy
            made.append(copy)
        for village in villages:
            township_copy = copies[village.parent_id]
            copy = Region(
                code=township_copy.code + village.code[9:], name=village.name, level=RegionLevel.VILLAGE
            )
            copy.parent = township_copy
            made.append(copy)
            mapping.append((bucket, str(village.pk), str(copy.pk), str(township_copy.pk), str(county.pk)))
    Region.objects.bulk_create(made, batch_size=2000)
    return mapping


def spread_over_province(*, county_files: int) -> None:
    """Leave `county_files` active files (every BUCKETS-th by file number) and as large a share
    of the exited ones in 合浦县; move the others to the copies of their village in the other
    counties. One UPDATE through a mapping table (run while the child table's secondary indexes
    are dropped), then the table is rewritten to shed the dead row versions."""
    mapping = _clone_regions()
    _execute("DROP TABLE IF EXISTS bench_village_map")
    _execute(
        "CREATE TABLE bench_village_map (bucket int, hepu uuid, village uuid, township uuid, county uuid, "
        "PRIMARY KEY (hepu, bucket))"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_village_map VALUES (%s, %s, %s, %s, %s)", mapping)
    _execute(
        """
        UPDATE registry_child c
        SET county_id = m.county, township_id = m.township, village_id = m.village
        FROM (
            SELECT id,
                   row_number() OVER (PARTITION BY status = 'active' ORDER BY file_no) - 1 AS rank,
                   status = 'active' AS active
            FROM registry_child
        ) r, bench_village_map m
        WHERE r.id = c.id AND m.hepu = c.village_id
          AND m.bucket = CASE WHEN r.active AND r.rank >= %s THEN 1 + (r.rank %% %s)
                              ELSE r.rank %% %s END
        """,
        [county_files * BUCKETS, OTHER_COUNTIES, BUCKETS],
    )
    _execute("DROP TABLE bench_village_map")
    _execute("VACUUM FULL registry_child")


def province_user() -> Any:
    """A 县级管理员 whose grant is the whole province (as a provincial civil-affairs office's)."""
    from accounts.models import Role, RoleGrant, User
    from geo.models import Region, RegionLevel

    province = Region.objects.get(code=PROVINCE_CODE, level=RegionLevel.PROVINCE, valid_to__isnull=True)
    county_admin = User.objects.get(username=COUNTY_USER)
    unit = RoleGrant.objects.filter(user=county_admin).first().unit  # type: ignore[union-attr]
    user, _ = User.objects.get_or_create(username=PROVINCE_USER, defaults={"full_name": "省级测试管理员"})
    RoleGrant.objects.get_or_create(user=user, role=Role.COUNTY_ADMIN, unit=unit, region=province)
    return user


# --- Measuring ----------------------------------------------------------------------------------


@dataclass
class Export:
    key: str  # "county" or "province"
    label: str
    username: str
    url: str
    target_s: float
    target_mb: float | None = None
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    base_mb: float = 0.0
    rows: int = 0
    bytes: int = 0

    @property
    def met(self) -> bool:
        fast = max(self.seconds) < self.target_s
        return fast and (self.target_mb is None or max(self.peak_mb) < self.target_mb)


EXPORTS = {
    "county": ("县级花名册 .xlsx（合浦县）", COUNTY_USER, "/forms/roster.xlsx", COUNTY_TARGET_S, None),
    "province": (
        "省级花名册 .csv（广西）",
        PROVINCE_USER,
        "/forms/roster.csv",
        PROVINCE_TARGET_S,
        PROVINCE_TARGET_MB,
    ),
}


def _status_kb(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


def _download(username: str, url: str, out: Any) -> None:
    """In a fresh process: sign in, download, drop the bytes; report through `out`."""
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from audit.models import AuditEvent

    connection.close()  # the parent's connection object must not be shared
    client = Client()
    user = User.objects.get(username=username)
    client.force_login(user)
    ledger_bench._pass_second_factor(client, user)
    base = _status_kb("VmRSS")
    started = time.perf_counter()
    response = client.get(url)
    if response.status_code != 200:
        out.send({"error": f"{url}: HTTP {response.status_code}"})
        return
    size = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        size += len(chunk)
    response.close()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    event = AuditEvent.objects.filter(action="export").order_by("-pk").first()
    detail = event.detail if event else {}
    out.send(
        {"seconds": seconds, "peak_kb": peak, "base_kb": base, "bytes": size, "rows": detail.get("rows", 0)}
    )


def measure(export: Export) -> None:
    """One download in a child process (fork), so that its peak RSS is its own."""
    from django.db import connection

    connection.close()
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_download, args=(export.username, export.url, send))
    process.start()
    result = receive.recv()
    process.join()
    if "error" in result:
        raise RuntimeError(result["error"])
    export.seconds.append(result["seconds"])
    export.peak_mb.append(result["peak_kb"] / 1024)
    export.base_mb = result["base_kb"] / 1024
    export.rows, export.bytes = result["rows"], result["bytes"]


# --- Reporting ----------------------------------------------------------------------------------


def province_facts() -> dict[str, str]:
    from django.db.models import Count

    from accounts.models import User
    from registry.access import children_visible_to
    from registry.models import Child

    county = children_visible_to(User.objects.get(username=COUNTY_USER)).filter(status="active").count()
    province = children_visible_to(User.objects.get(username=PROVINCE_USER)).filter(status="active").count()
    counties = Child.objects.values("county_id").aggregate(n=Count("county_id", distinct=True))["n"]
    return {"county": f"{county:,}", "province": f"{province:,}", "counties": str(counties)}


def render(exports: list[Export], setup: Setup, load_before: str) -> str:
    info, size, facts = ledger_bench.machine(), ledger_bench.data_size(), province_facts()
    lines = [
        BEGIN,
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} by `bench/export_bench.py`.",
        "",
        f"- Machine: {info['cpu']}, {info['memory']} RAM; {info['postgresql']}; {info['software']}.",
        f"- Load average (1, 5, 15 min) when measuring began: {load_before}; at the end: {info['load']}. "
        "The machine is shared: other work slows every figure below.",
        f"- Data: {size['children']} child files ({size['active']} active) in {facts['counties']} counties "
        f"of 广西, {size['parents']} parents, {size['guardians']} entrusted guardians; database "
        f"{size['database']}. 合浦县 has {facts['county']} active files, the province {facts['province']}.",
        "- Seeding: database reused from an earlier run (`--reuse`)."
        if setup.reused
        else f"- Seeding: {setup.seconds / 60:.1f} min in all (seed_demo {setup.seed_s:.0f} s, "
        f"spreading over the province {setup.spread_s:.0f} s).",
        "- Each export: a Django test Client GET of the real view (force_login, second factor passed), "
        "as the county's 县民政管理员 and as a user granted the province, masked (the default), every "
        "byte of the response read and dropped; in a fresh process, so peak RSS (ru_maxrss) is that "
        "download's, Django included. Rows as the export's audit row records them.",
        "",
        "| Export | Rows | Size MB | Wall s | Peak RSS MB (before the request) | Target | |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for export in exports:
        target = f"< {export.target_s:.0f} s" + (f", < {export.target_mb:.0f} MB" if export.target_mb else "")
        wall = " / ".join(f"{s:.1f}" for s in export.seconds)
        peak = " / ".join(f"{m:.0f}" for m in export.peak_mb)
        lines.append(
            f"| {export.label} | {export.rows:,} | {export.bytes / 1e6:.0f} | {wall} | {peak} "
            f"({export.base_mb:.0f}) | {target} | {'met' if export.met else '**missed**'} |"
        )
    lines.append(END)
    return "\n".join(lines)


def write_report(block: str, path: Path = REPORT) -> None:
    """Replace the block between our markers (the file is re-read just before writing, since
    other benches write their own sections); add the section at the end the first time."""
    text = path.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\nHow to run: see `bench/README.md`.\n\n{block}\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    args = parse_args()
    ledger_bench.configure(args.db_url)
    setup = prepare(args)
    load_before = ledger_bench._load()
    exports = [Export(key, *EXPORTS[key]) for key in EXPORTS if args.only in (None, key)]
    for export in exports:
        for _ in range(args.runs):
            measure(export)
            print(
                f"  {export.label}: {export.rows:,} rows, {export.bytes / 1e6:.0f} MB, "
                f"{export.seconds[-1]:.1f} s, peak RSS {export.peak_mb[-1]:.0f} MB"
            )
    block = render(exports, setup, load_before)
    if args.no_report:
        print(block)
    else:
        write_report(block)
        print(f"Results written to {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
