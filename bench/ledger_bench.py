"""Ledger benchmark at one million children (issue 2). See bench/README.md.

    .venv/bin/python bench/ledger_bench.py --children 1000000

Resets a PostgreSQL database (shouhu_bench by default), migrates, loads the regions, seeds
the demo county with seed_demo --no-history, runs VACUUM ANALYZE, then times the ledger as a
village director (儿童主任), a township supervisor and a county admin: the first page, a
filtered page deep in the list, a pinyin search and an ID-tail search. Results go to
docs/benchmarks.md, between the markers of the section "Ledger at one million children".
"""

import argparse
import datetime as dt
import logging
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shouhu_bench"
REPORT = ROOT / "docs" / "benchmarks.md"
SECTION = "## Ledger at one million children (issue 2)"
BEGIN, END = "<!-- bench:ledger:begin -->", "<!-- bench:ledger:end -->"
PASSWORD = "bench-Passw0rd-not-a-secret"
PERSONAS = {
    "village_worker": "demo_village_worker",
    "township_supervisor": "demo_township_supervisor",
    "county_admin": "demo_county_admin",
}
PERSONA_LABELS = {
    "village_worker": "儿童主任（一个村）",
    "township_supervisor": "儿童督导员（廉州镇）",
    "county_admin": "县民政管理员（全县）",
}
BULK_TABLES = ("registry_child", "registry_parent", "registry_entrustedguardian")
TARGET_MS = 100.0
PROBE_RUNS = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--on", type=dt.date.fromisoformat, default=dt.date.today(), help="reference date")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per case (after warm-up)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--depth", type=int, default=20, help="page number of the deep filtered page")
    parser.add_argument(
        "--mode", choices=["auto", "http", "selector"], default="auto",
        help="http: Django test Client requests to /children/; selector: access + selectors only; "
        "auto: both when the ledger view is in place, else selector",
    )  # fmt: skip
    parser.add_argument(
        "--db-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help="PostgreSQL URL (env BENCH_DATABASE_URL); the database is dropped and recreated",
    )  # fmt: skip
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--force", action="store_true", help="allow a database name without 'bench'")
    parser.add_argument("--explain", action="store_true", help="save EXPLAIN ANALYZE of each case")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    return parser.parse_args()


def configure(url: str) -> None:
    """Environment for shouhu.settings; must run before Django is imported."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "shouhu.settings"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SHOUHU_SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ.setdefault("SHOUHU_INDEX_KEY", "bench-index-key-not-for-production")
    # base64 of the 32 bytes b"bench-data-key-not-for-prod-0001"
    os.environ.setdefault("SHOUHU_DATA_KEYS", "bench:YmVuY2gtZGF0YS1rZXktbm90LWZvci1wcm9kLTAwMDE=")
    os.environ["SHOUHU_ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ["SHOUHU_SECURE_COOKIES"] = "0"
    import django

    django.setup()
    # Each force_login is a sign-in to axes, which logs it at INFO: thousands of lines.
    logging.getLogger("axes").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")


# --- Database ---------------------------------------------------------------------------


def reset_database(url: str, *, force: bool) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if parsed.scheme not in {"postgres", "postgresql"}:
        sys.exit("The benchmark needs PostgreSQL: pass --db-url postgres://…")
    if "bench" not in name and not force:
        sys.exit(f"Refusing to drop database {name!r}: its name lacks 'bench' (use --force).")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _execute(statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return list(cursor.fetchall()) if cursor.description else []


@contextmanager
def bulk_load_mode() -> Iterator[dict[str, float]]:
    """Drop secondary indexes and foreign keys of the big tables during the load, then rebuild
    them in one pass each (and validate the keys): far cheaper than maintaining them row by row.
    Primary keys and unique constraints stay."""
    timings: dict[str, float] = {}
    tables = list(BULK_TABLES)
    foreign_keys = _execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
        [tables],
    )
    indexes = _execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
        [tables],
    )
    for table, name, _ in foreign_keys:
        _execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        _execute(f'DROP INDEX "{name}"')
    try:
        yield timings
    finally:
        started = time.perf_counter()
        _execute("SET maintenance_work_mem = '1GB'")
        for _, definition in indexes:
            _execute(definition)
        for table, name, definition in foreign_keys:
            _execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        timings["indexes"] = time.perf_counter() - started
        print(
            f"  {len(indexes)} indexes rebuilt, {len(foreign_keys)} foreign keys re-added "
            f"in {timings['indexes']:.0f} s"
        )


def _seeded(children: int) -> bool:
    from django.db import DatabaseError

    from core.models import demo_loaded
    from registry.models import Child

    try:
        return demo_loaded() and Child.objects.count() >= children
    except DatabaseError:  # no database yet, or not migrated
        return False


@dataclass
class Setup:
    children: int = 0
    seed_s: float = 0.0
    index_s: float = 0.0
    analyze_s: float = 0.0
    total_s: float = 0.0
    reused: bool = False


def prepare(args: argparse.Namespace) -> Setup:
    from django.core.management import call_command

    from registry.models import Child

    setup = Setup()
    if args.reuse and _seeded(args.children):
        setup.children, setup.reused = Child.objects.count(), True
        print(f"Reusing the seeded database ({setup.children} children).")
        return setup
    started = time.perf_counter()
    reset_database(args.db_url, force=args.force)
    from django.db import connection

    connection.close()
    call_command("migrate", verbosity=0)
    call_command("load_regions", verbosity=0)
    with bulk_load_mode() as timings:
        seeding = time.perf_counter()
        call_command(
            "seed_demo", children=args.children, seed=args.seed, on=args.on, password=PASSWORD,
            no_history=True, verbosity=2,
        )  # fmt: skip
        setup.seed_s = time.perf_counter() - seeding
    setup.index_s = timings.get("indexes", 0.0)
    analyzing = time.perf_counter()
    _execute("VACUUM (ANALYZE)")
    setup.analyze_s = time.perf_counter() - analyzing
    setup.total_s = time.perf_counter() - started
    setup.children = Child.objects.count()
    print(
        f"Setup: {setup.total_s:.0f} s in all, seed_demo {setup.seed_s:.0f} s, "
        f"ANALYZE {setup.analyze_s:.0f} s"
    )
    return setup


# --- Cases ------------------------------------------------------------------------------


@dataclass
class Case:
    persona: str
    name: str
    filters: Any  # registry.selectors.LedgerFilters
    after: str = ""
    page: int = 1
    rows: int = 0
    probe: bool = False  # beyond the brief: fewer runs, since these can take seconds
    timings_ms: dict[str, list[float]] = field(default_factory=dict)  # by mode
    plan: str = ""

    def median(self, mode: str) -> float:
        return statistics.median(self.timings_ms[mode])

    def p95(self, mode: str) -> float:
        """Nearest-rank 95th percentile."""
        ordered = sorted(self.timings_ms[mode])
        return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def _user(persona: str) -> Any:
    from accounts.models import User

    return User.objects.get(username=PERSONAS[persona])


def _page(persona: str, filters: Any, after: str, on: dt.date) -> Any:
    """The selector path of the ledger view: access layer, filters, keyset page."""
    from registry.access import children_visible_to
    from registry.selectors import keyset_page, ledger

    user = _user(persona)  # fresh, so role grants are loaded as in a request
    children = ledger(children_visible_to(user), filters, on=on)
    return keyset_page(children.select_related("village", "township"), after=after)


def _deep_cursor(persona: str, filters: Any, depth: int, on: dt.date) -> tuple[str, int]:
    """Follow next-cursors to page `depth` (or the last page); return its cursor and number."""
    after, page = "", 1
    while page < depth:
        next_cursor = _page(persona, filters, after, on).next_cursor
        if not next_cursor:
            break
        after, page = next_cursor, page + 1
    return after, page


def _tail_in_scope(persona: str, on: dt.date) -> str:
    """An ID tail that some child in the user's scope has: a search that finds someone."""
    from registry.access import children_visible_to

    children = children_visible_to(_user(persona)).exclude(id_tail="").order_by("file_no")
    tails = list(children.values_list("id_tail", flat=True)[:200])
    return tails[len(tails) // 2]


def _phone_in_scope(persona: str) -> str:
    """A parent's phone number from a file in the user's scope."""
    from registry.access import children_visible_to
    from registry.models import Parent

    children = children_visible_to(_user(persona)).order_by("file_no").values("id")[:200]
    phones = Parent.objects.filter(child_id__in=children).exclude(phone="").order_by("phone")
    return str(phones.values_list("phone", flat=True).first())


def build_cases(depth: int, on: dt.date) -> list[Case]:
    from registry.selectors import LedgerFilters

    cases: list[Case] = []
    for persona in PERSONAS:
        key = LedgerFilters(key="1")
        after, page = _deep_cursor(persona, key, depth, on)
        one_parent = LedgerFilters(care_type="one_parent")
        after_one, page_one = _deep_cursor(persona, one_parent, depth, on)
        tail = _tail_in_scope(persona, on)
        empty = LedgerFilters(care_type="living_alone", schooling="kindergarten")  # no one: ages 10+
        cases += [
            Case(persona, "first page", LedgerFilters()),
            Case(persona, f"key children, page {page}", key, after=after, page=page),
            Case(
                persona, f"care type one_parent, page {page_one}", one_parent, after=after_one, page=page_one
            ),
            Case(persona, "pinyin search “zs”", LedgerFilters(q="zs")),
            Case(persona, f"ID-tail search “{tail}”", LedgerFilters(q=tail)),
            # Probes beyond the brief: paths that scan the whole scope when the planner
            # cannot see how few rows match.
            Case(
                persona,
                "probe: phone search (11 digits)",
                LedgerFilters(q=_phone_in_scope(persona)),
                probe=True,
            ),
            Case(persona, "probe: empty filter combination", empty, probe=True),
        ]
    return cases


# --- Measuring --------------------------------------------------------------------------


def _http_request(case: Case) -> tuple[Any, Callable[[], Any]]:
    """(client, request): filters by GET; a search term only by POST, as the view expects."""
    from django.test import Client

    client = Client()
    user = _user(case.persona)
    client.force_login(user)
    _pass_second_factor(client, user)
    params = {
        name: value for name, value in vars(case.filters).items() if value and name not in {"q", "status"}
    }
    if case.after:
        params["after"] = case.after
    if case.filters.q:
        return client, lambda: client.post("/children/", {**params, "q": case.filters.q})
    return client, lambda: client.get("/children/", params)


def _pass_second_factor(client: Any, user: Any) -> None:
    """Leave the session as django_otp.login() does, so roles that need a TOTP code (AU-4)
    reach the ledger instead of the code step; the bench times pages, not sign-in."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def http_ready(cases: list[Case], on: dt.date) -> bool:
    """The ledger view is in place: it answers 200 with the rows the selectors find."""
    first = next(case for case in cases if case.persona == "county_admin")
    _, request = _http_request(first)
    response = request()
    if response.status_code != 200 or response.content.strip() == b"todo":
        print(f"/children/ answered {response.status_code} {response.get('Location', '')}")
        return False
    rows = _page(first.persona, first.filters, "", on).rows
    return bool(rows) and str(rows[0].id).encode() in response.content  # the row links to its file


def measure(case: Case, *, mode: str, runs: int, warmup: int, on: dt.date) -> None:
    if mode == "http":
        _, request = _http_request(case)

        def once() -> int:
            response = request()
            if response.status_code != 200:
                raise RuntimeError(f"{case.persona} {case.name}: HTTP {response.status_code}")
            return 0
    else:

        def once() -> int:
            return len(_page(case.persona, case.filters, case.after, on).rows)

    for _ in range(warmup):
        once()
    timings = case.timings_ms.setdefault(mode, [])
    for _ in range(runs):
        started = time.perf_counter()
        once()
        timings.append((time.perf_counter() - started) * 1000)
    case.rows = len(_page(case.persona, case.filters, case.after, on).rows)


def explain(case: Case, on: dt.date) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the page query the selectors build for this case."""
    from django.db import connection

    from registry.access import children_visible_to
    from registry.selectors import ledger

    children = ledger(children_visible_to(_user(case.persona)), case.filters, on=on)
    if case.after:
        children = children.filter(file_no__gt=case.after)
    query = children.select_related("village", "township").order_by("file_no")[:51]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


# --- Reporting --------------------------------------------------------------------------


def machine() -> dict[str, str]:
    from django import get_version

    model = ""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line), ""
        )
    except OSError:
        pass
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    version = _execute("SHOW server_version")[0][0]
    return {
        "cpu": f"{os.cpu_count()} cores, {model or platform.processor()}",
        "memory": memory,
        "postgresql": f"PostgreSQL {version}",
        "software": f"Python {platform.python_version()}, Django {get_version()}",
        "load": _load(),
    }


def data_size() -> dict[str, str]:
    from registry.models import Child, EntrustedGuardian, Parent

    sizes = _execute(
        "SELECT pg_size_pretty(pg_total_relation_size('registry_child')), "
        "pg_size_pretty(pg_database_size(current_database()))"
    )[0]
    return {
        "children": f"{Child.objects.count():,}",
        "active": f"{Child.objects.filter(status='active').count():,}",
        "parents": f"{Parent.objects.count():,}",
        "guardians": f"{EntrustedGuardian.objects.count():,}",
        "child_table": sizes[0],
        "database": sizes[1],
    }


def scope_sizes() -> dict[str, int]:
    from registry.access import children_visible_to

    return {
        persona: children_visible_to(_user(persona)).filter(status="active").count() for persona in PERSONAS
    }


MODE_NOTES = {
    "http": "HTTP = server time of a Django test Client request to /children/ (force_login; filters by "
    "GET, search terms by POST as the view expects), with middleware, session, access log and template",
    "selector": "Selector = children_visible_to() + ledger() + keyset_page() materialised: the "
    "database part of the same request",
}


def _load() -> str:
    loadavg = Path("/proc/loadavg")
    return " ".join(loadavg.read_text().split()[:3]) if loadavg.exists() else "n/a"


def render(
    cases: list[Case], *, modes: list[str], mode_note: str, setup: Setup, runs: int, load_before: str
) -> str:
    info, size, scopes = machine(), data_size(), scope_sizes()
    lines = [
        BEGIN,
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} by `bench/ledger_bench.py`.{mode_note}",
        "",
        f"- Machine: {info['cpu']}, {info['memory']} RAM; {info['postgresql']}; {info['software']}.",
        f"- Load average (1, 5, 15 min) when measuring began: {load_before}; at the end: {info['load']}. "
        "The machine is shared: other work inflates both columns.",
        f"- Data: {size['children']} child files ({size['active']} active), {size['parents']} parents, "
        f"{size['guardians']} entrusted guardians; registry_child {size['child_table']} with indexes, "
        f"database {size['database']}.",
    ]
    if setup.reused:
        lines.append("- Seeding: database reused from an earlier run (`--reuse`).")
    else:
        lines.append(
            f"- Seeding: {setup.total_s / 60:.1f} min in all — `seed_demo --no-history` "
            f"{setup.seed_s:.0f} s, index and foreign-key rebuild {setup.index_s:.0f} s, "
            f"VACUUM ANALYZE {setup.analyze_s:.0f} s."
        )
    lines += [
        "- Scope (active files): " + "; ".join(f"{PERSONA_LABELS[p]} {n:,}" for p, n in scopes.items()) + ".",
        f"- {runs} timed runs per case after warm-up ({PROBE_RUNS} for probes); page size 50; "
        f"target median < {TARGET_MS:.0f} ms ({modes[0]}).",
        *(f"- {MODE_NOTES[mode]}." for mode in modes),
        "",
        "| User | Case | Rows | " + " | ".join(f"{m} median ms | {m} p95 ms" for m in modes) + " | Target |",
        "|---|---|---:|" + "---:|---:|" * len(modes) + "---|",
    ]
    for case in cases:
        verdict = "met" if case.median(modes[0]) < TARGET_MS else "**missed**"
        figures = " | ".join(f"{case.median(m):.1f} | {case.p95(m):.1f}" for m in modes)
        lines.append(
            f"| {PERSONA_LABELS[case.persona]} | {case.name} | {case.rows} | {figures} | {verdict} |"
        )
    lines.append(END)
    return "\n".join(lines)


def write_report(block: str, path: Path = REPORT) -> None:
    """Replace the generated block of our section, keeping any text written around it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\nHow to run: see `bench/README.md`.\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(SECTION)
    following = rest.find("\n## ")
    section, tail = (rest, "") if following < 0 else (rest[:following], rest[following:])
    if BEGIN in section and END in section:
        before, _, remainder = section.partition(BEGIN)
        _, _, after = remainder.partition(END)
        section = before + block + after
    else:
        section = section.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + SECTION + section + tail, encoding="utf-8")


def save_plans(cases: list[Case], children: int) -> Path:
    out = ROOT / "bench" / "results" / f"explain-{children}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "\n\n".join(f"### {case.persona} — {case.name}\n{case.plan}" for case in cases), encoding="utf-8"
    )
    return out


def _modes(requested: str, ready: bool) -> tuple[list[str], str]:
    """Which paths to time: auto is both when the view is in place, the selectors otherwise."""
    if requested == "http" and not ready:
        sys.exit("The ledger view at /children/ is not ready (use --mode selector).")
    if requested == "auto":
        if ready:
            return ["http", "selector"], ""
        return ["selector"], " The ledger view was not ready, so only the selector path was measured."
    return [requested], ""


def main() -> None:
    args = parse_args()
    configure(args.db_url)
    setup = prepare(args)
    cases = build_cases(args.depth, args.on)
    modes, note = _modes(args.mode, http_ready(cases, args.on) if args.mode != "selector" else False)
    load_before = _load()
    print(f"Measuring {len(cases)} cases × {modes}, {args.runs} runs each.{note} Load average {load_before}.")
    for case in cases:
        runs, warmup = (min(args.runs, PROBE_RUNS), 1) if case.probe else (args.runs, args.warmup)
        for mode in modes:
            measure(case, mode=mode, runs=runs, warmup=warmup, on=args.on)
        if args.explain:
            case.plan = explain(case, args.on)
        figures = "  ".join(f"{m} median {case.median(m):6.1f} ms p95 {case.p95(m):6.1f} ms" for m in modes)
        print(f"  {case.persona:20} {case.name:34} rows {case.rows:3}  {figures}")
    if args.explain:
        print(f"Plans: {save_plans(cases, setup.children)}")
    block = render(cases, modes=modes, mode_note=note, setup=setup, runs=args.runs, load_before=load_before)
    if not args.no_report:
        write_report(block)
        print(f"Results written to {REPORT.relative_to(ROOT)}")
    else:
        print(block)


if __name__ == "__main__":
    main()
