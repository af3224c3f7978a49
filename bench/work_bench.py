"""「我的工作」and the nightly job at one million children and five million visits (issue 4).
See bench/README.md.

    .venv/bin/python bench/work_bench.py --children 1000000 --visits 5000000

1. Prepares a PostgreSQL database (shouhu_work_bench by default) with the demo county, as
   bench/ledger_bench.py does (its prepare(); --reuse keeps a seeded database).
2. Inserts the visits (care.models.Visit) with one INSERT … SELECT over generate_series per
   pass, spread evenly over the files and over the year before the reference date, with the
   visit table's indexes and keys dropped during the load and rebuilt after it; then sets
   each file's last_visit_on from its latest visit and runs care.services.care_recompute_all
   (colours and due dates), then VACUUM (ANALYZE).
3. Rebuilds registry's care indexes (migration 0005) and times the build; --without-care-indexes
   drops them and times the pages without them.
4. Times, through the Django test Client (force_login, a verified second factor, 3 warm-ups
   then 30 runs, median and p95): "我的工作" and an overdue list for the demo village director
   (儿童主任), the township view and "我的工作" for the demo township supervisor (儿童督导员),
   and the first page ("/") of both.
5. Runs the nightly job (work.nightly) over all children through the job machinery (job_submit
   + job_run, as the worker would) and records its wall time and steps; then runs it a second
   time for the same date to show that it changes nothing.
6. Writes the results into docs/benchmarks.md between the bench:work markers.
"""

import argparse
import datetime as dt
import importlib
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import ledger_bench  # noqa: E402  (shares the database preparation, login and machine facts)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shouhu_work_bench"
REPORT = ROOT / "docs" / "benchmarks.md"
SECTION = "## 我的工作 and the nightly job at one million children (issue 4)"
BEGIN, END = "<!-- bench:work:begin -->", "<!-- bench:work:end -->"
PAGE_TARGET_MS = 150.0
NIGHTLY_TARGET_S = 300.0
VISIT_DAYS = 365  # visits fall in the year before the reference date

# The care indexes come from registry's migration 0005 (a covering partial index for the township
# pages and a partial index on 失联 parents); the bench rebuilds them to time the build, or drops
# them (--without-care-indexes) to show what they are worth.
CARE_INDEX_MIGRATION = "registry.migrations.0005_care_indexes"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--on", type=dt.date.fromisoformat, default=dt.date.today(), help="reference date")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page (after warm-up)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--db-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--reuse", action="store_true", help="keep an already seeded database (and its visits)"
    )
    parser.add_argument("--force", action="store_true", help="allow a database name without 'bench'")
    parser.add_argument(
        "--without-care-indexes",
        action="store_true",
        help="drop registry's care indexes (migration 0005) and time the pages without them",
    )
    parser.add_argument("--skip-nightly", action="store_true", help="time the pages only")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    return parser.parse_args()


def _execute(statement: str, params: list[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    return ledger_bench._execute(statement, params)  # type: ignore[arg-type]


# --- Visits ------------------------------------------------------------------------------------


@dataclass
class Load:
    visits: int = 0
    insert_s: float = 0.0
    index_s: float = 0.0
    last_visit_s: float = 0.0
    recompute_s: float = 0.0
    recompute: dict[str, int] = field(default_factory=dict)
    analyze_s: float = 0.0
    reused: bool = False


def _visit_table() -> str:
    from care.models import Visit

    return Visit._meta.db_table


def _drop_visit_keys(table: str) -> list[tuple[str, str, str]]:
    """Drop the visit table's unique constraints, its foreign keys and indexes (the primary
    key stays: the photos' foreign key depends on it); return what to re-create, in order:
    unique keys, indexes, foreign keys."""
    constraints = _execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass",
        [table],
    )
    indexes = _execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    )
    for name, kind, _ in sorted(constraints, key=lambda row: row[1] != "f"):  # foreign keys first
        if kind in {"u", "f"}:
            _execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        _execute(f'DROP INDEX "{name}"')
    keys = [("constraint", name, definition) for name, kind, definition in constraints if kind == "u"]
    foreign = [("constraint", name, definition) for name, kind, definition in constraints if kind == "f"]
    return [*keys, *(("index", name, definition) for name, definition in indexes), *foreign]


def _restore_visit_keys(table: str, plan: list[tuple[str, str, str]]) -> None:
    _execute("SET maintenance_work_mem = '1GB'")
    for kind, name, definition in plan:
        if kind == "index":
            _execute(definition)
        else:
            _execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


# SQL for each visit column; a column not named here gets a neutral value by its type.
VISIT_VALUES = {
    "id": "gen_random_uuid()",
    "child_id": "c.id",
    "visited_on": "%(on)s::date - (random() * %(days)s)::int",
    "kind": "(ARRAY['home','home','home','phone','video'])[1 + floor(random() * 5)::int]",
    "visitor_id": "%(visitor)s",
    "visitor_role": "'village_worker'",
    "present": '\'["child", "grandparents"]\'::jsonb',
    "guardian_at_home": "true",
    "guardian_capable": "random() > 0.05",
    "living_conditions_ok": "random() > 0.1",
    "hazards_found": "random() < 0.02",
    "attending_school": "random() > 0.05",
    "health_ok": "random() > 0.05",
    "emotional_ok": "random() > 0.05",
    "parent_contact_recent": "random() > 0.3",
    "follow_up_needed": "random() < 0.03",
    "submission_key": "gen_random_uuid()",
    "created_at": "now()",
}


def _neutral(model_field: Any) -> str:
    from django.db import models

    if isinstance(model_field, models.BooleanField):
        return "false"
    if isinstance(model_field, models.JSONField):
        return "'[]'::jsonb" if model_field.default is list else "'{}'::jsonb"
    if isinstance(model_field, models.UUIDField):
        return "gen_random_uuid()"
    if isinstance(model_field, models.DateTimeField):
        return "now()"
    if isinstance(model_field, models.DateField):
        return "%(on)s::date"
    if isinstance(model_field, models.IntegerField):
        return "0"
    if model_field.null:
        return "NULL"
    return "''"  # text, including the encrypted fields (an empty value is stored as it is)


def _insert_visits(table: str, total: int, on: dt.date, visitor_id: Any) -> None:
    """`total` visits over all files: total // N each, and one more for the first total % N."""
    from care.models import Visit

    fields = [f for f in Visit._meta.concrete_fields]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = ", ".join(VISIT_VALUES.get(f.column) or _neutral(f) for f in fields)
    select = f"INSERT INTO {table} ({columns}) SELECT {values} FROM "
    children = _execute("SELECT count(*) FROM registry_child")[0][0]
    each, extra = divmod(total, children)
    params = {"on": on, "days": VISIT_DAYS, "visitor": visitor_id}
    if each:
        _execute(select + f"registry_child c CROSS JOIN generate_series(1, {each}) AS n", params)
    if extra:
        _execute(select + f"(SELECT id FROM registry_child ORDER BY id LIMIT {extra}) AS c", params)


def load_visits(args: argparse.Namespace, reused: bool) -> Load:
    from accounts.models import User
    from care.models import Visit

    load = Load()
    table = _visit_table()
    if reused and Visit.objects.count() >= args.visits:
        load.visits, load.reused = Visit.objects.count(), True
        print(f"Reusing {load.visits:,} visits.")
        return load
    _execute(f"TRUNCATE {table} CASCADE")
    visitor = User.objects.get(username=ledger_bench.PERSONAS["village_worker"])
    plan = _drop_visit_keys(table)
    started = time.perf_counter()
    _insert_visits(table, args.visits, args.on, visitor.pk)
    load.insert_s = time.perf_counter() - started
    started = time.perf_counter()
    _restore_visit_keys(table, plan)
    load.index_s = time.perf_counter() - started
    load.visits = Visit.objects.count()
    print(f"  {load.visits:,} visits in {load.insert_s:.0f} s, keys and indexes {load.index_s:.0f} s")
    started = time.perf_counter()
    _execute(
        f"UPDATE registry_child AS c SET last_visit_on = v.latest FROM "
        f"(SELECT child_id, max(visited_on) AS latest FROM {table} GROUP BY child_id) AS v "
        "WHERE c.id = v.child_id"
    )
    load.last_visit_s = time.perf_counter() - started
    _execute("VACUUM (ANALYZE) registry_child")
    load.recompute_s, load.recompute = _recompute(args.on)
    started = time.perf_counter()
    _execute("VACUUM (ANALYZE)")
    load.analyze_s = time.perf_counter() - started
    return load


def _recompute(on: dt.date) -> tuple[float, dict[str, int]]:
    """The first computation of every file's care state and agreement state (the nightly job
    then finds little to change, as on any later night)."""
    from care.services import care_recompute_all
    from guardianship.services import agreements_recompute_all

    started = time.perf_counter()
    counts = care_recompute_all(on=on)
    print(f"  care_recompute_all: {time.perf_counter() - started:.0f} s, {counts}")
    agreements = agreements_recompute_all(on=on)
    seconds = time.perf_counter() - started
    print(f"  + agreements_recompute_all: {seconds:.0f} s in all, {agreements}")
    return seconds, counts


def care_indexes(drop: bool) -> dict[str, float]:
    statements = importlib.import_module(CARE_INDEX_MIGRATION).statements("postgresql")
    timings: dict[str, float] = {}
    for name, statement in statements.items():
        _execute(f'DROP INDEX IF EXISTS "{name}"')  # a reused database may hold an older definition
        if drop:
            continue
        started = time.perf_counter()
        _execute(statement)
        timings[name] = time.perf_counter() - started
    _execute("ANALYZE registry_child")
    _execute("ANALYZE registry_parent")
    return timings


# --- Pages -------------------------------------------------------------------------------------


@dataclass
class Page:
    persona: str
    label: str
    url: str
    timings_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.timings_ms)
        return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


PAGES = [
    Page("village_worker", "我的工作 /work/", "/work/"),
    Page("village_worker", "first page /", "/"),
    Page("village_worker", "overdue list /work/overdue/", "/work/overdue/"),
    Page("township_supervisor", "township view /work/township/", "/work/township/"),
    Page("township_supervisor", "我的工作 /work/", "/work/"),
    Page("township_supervisor", "first page / (township view + scope counts)", "/"),
]


def _client(persona: str) -> Any:
    from django.test import Client

    client = Client()
    user = ledger_bench._user(persona)
    client.force_login(user)
    ledger_bench._pass_second_factor(client, user)
    return client


def time_pages(pages: list[Page], *, runs: int, warmup: int) -> None:
    for page in pages:
        client = _client(page.persona)
        for number in range(warmup + runs):
            started = time.perf_counter()
            response = client.get(page.url)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{page.persona} {page.url}: HTTP {response.status_code}")
            if number >= warmup:
                page.timings_ms.append(elapsed)
        print(f"  {page.persona:20} {page.label:45} median {page.median:7.1f} ms  p95 {page.p95:7.1f} ms")


# --- The nightly job ---------------------------------------------------------------------------


@dataclass
class Night:
    label: str
    wall_s: float
    result: dict[str, Any]


def run_nightly(on: dt.date, label: str) -> Night:
    """Submit work.nightly and run it here, as the worker's task would (job_run)."""
    import uuid

    from jobs.services import job_run, job_submit

    job = job_submit(
        kind="work.nightly",
        payload={"on": on.isoformat()},
        idempotency_key=f"bench:{on.isoformat()}:{uuid.uuid4()}",
        user=None,
    )
    started = time.perf_counter()
    outcome = job_run(job_id=job.pk)
    wall = time.perf_counter() - started
    job.refresh_from_db()
    if outcome != "succeeded":
        raise RuntimeError(f"nightly job {outcome}: {job.error}")
    print(f"  nightly ({label}): {wall:.1f} s, {job.result}")
    return Night(label, wall, job.result or {})


# --- Report ------------------------------------------------------------------------------------


def scopes() -> dict[str, int]:
    from registry.access import children_visible_to

    return {
        persona: children_visible_to(ledger_bench._user(persona)).filter(status="active").count()
        for persona in ("village_worker", "township_supervisor")
    }


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _night_line(night: Night) -> str:
    result = night.result
    steps = [
        f"{name} {result.get(f'{name}_seconds', 0):.0f} s"
        for name in ("proposals", "care", "agreements", "digests")
        if name in result
    ]
    care = result.get("care") or {}
    agreements = result.get("agreements") or {}
    proposals = result.get("proposals") or {}
    digests = result.get("digests") or {}
    return (
        f"| {night.label} | {night.wall_s:.1f} | {' · '.join(steps)} | {care.get('changed', '—')} | "
        f"{agreements.get('changed', '—')} | "
        f"{sum(proposals.values()) if proposals else '—'} | {digests.get('sent', '—')} | "
        f"{_verdict(night.wall_s < NIGHTLY_TARGET_S)} |"
    )


def render(
    args: argparse.Namespace,
    setup: Any,
    load: Load,
    indexes: dict[str, float],
    pages: list[Page],
    nights: list[Night],
    load_before: str,
) -> str:
    info, size = ledger_bench.machine(), ledger_bench.data_size()
    scope = scopes()
    visit_size = _execute(f"SELECT pg_size_pretty(pg_total_relation_size('{_visit_table()}'))")[0][0]
    lines = [
        BEGIN,
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} by `bench/work_bench.py`.",
        "",
        f"- Machine: {info['cpu']}, {info['memory']} RAM; {info['postgresql']}; {info['software']}.",
        f"- Load average (1, 5, 15 min) when measuring began: {load_before}; at the end: {info['load']}. "
        "The machine is shared: other work inflates the figures.",
        f"- Data: {size['children']} child files ({size['active']} active), {size['parents']} parents, "
        f"{load.visits:,} visits ({visit_size}); database {size['database']}.",
    ]
    if setup.reused:
        lines.append("- Seeding: database reused from an earlier run (`--reuse`).")
    else:
        lines.append(
            f"- Seeding: {setup.total_s / 60:.1f} min for the files (`seed_demo --no-history`, see the "
            "ledger section)."
        )
    if load.reused:
        lines.append("- Visits: reused from an earlier run.")
    else:
        lines.append(
            f"- Visits: INSERT … SELECT {load.insert_s:.0f} s, keys and indexes {load.index_s:.0f} s, "
            f"last_visit_on from the visits {load.last_visit_s:.0f} s, first `care_recompute_all` and "
            f"`agreements_recompute_all` {load.recompute_s:.0f} s "
            f"({load.recompute.get('changed', 0):,} colours changed), VACUUM ANALYZE "
            f"{load.analyze_s:.0f} s."
        )
    if indexes:
        built = ", ".join(f"`{name}` {seconds:.1f} s" for name, seconds in indexes.items())
        lines.append(f"- Care indexes (registry migration 0005) rebuilt: {built}.")
    else:
        lines.append("- Care indexes (registry migration 0005): **dropped** (`--without-care-indexes`).")
    lines += [
        f"- Scope (active files): 儿童主任（一个村） {scope['village_worker']:,}; 儿童督导员（廉州镇） "
        f"{scope['township_supervisor']:,}.",
        f"- Pages: server time of a Django test Client GET (middleware, session, audit row, queries, "
        f"template), {args.runs} runs after {args.warmup} warm-ups; target median < {PAGE_TARGET_MS:.0f} ms.",
        "",
        "| User | Page | median ms | p95 ms | Target |",
        "|---|---|---:|---:|---|",
    ]
    for page in pages:
        label = ledger_bench.PERSONA_LABELS[page.persona]
        lines.append(
            f"| {label} | {page.label} | {page.median:.1f} | {page.p95:.1f} | "
            f"{_verdict(page.median < PAGE_TARGET_MS)} |"
        )
    if nights:
        lines += [
            "",
            f"Nightly job `work.nightly` over all files (job_submit + job_run, wall time; target < "
            f"{NIGHTLY_TARGET_S / 60:.0f} min):",
            "",
            "| Run | wall s | steps | colours/due dates changed | agreement states changed | proposals made "
            "| digests sent | Target |",
            "|---|---:|---|---:|---:|---:|---:|---|",
            *(_night_line(night) for night in nights),
        ]
    lines.append(END)
    return "\n".join(lines)


def write_report(block: str, path: Path = REPORT) -> None:
    """Replace the generated block of our section (re-reading the file now: other sections
    are written by others), keeping any text written around it."""
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
    path.write_text(head + SECTION + section + tail, encoding="utf-8")


def _step(label: str, action: Callable[[], Any]) -> Any:
    print(label)
    return action()


def main() -> None:
    args = parse_args()
    ledger_bench.configure(args.db_url)
    setup = _step("Files…", lambda: ledger_bench.prepare(args))
    load = _step("Visits…", lambda: load_visits(args, setup.reused))
    indexes = _step("Care indexes…", lambda: care_indexes(args.without_care_indexes))
    load_before = ledger_bench._load()
    _step("Pages…", lambda: time_pages(PAGES, runs=args.runs, warmup=args.warmup))
    nights: list[Night] = []
    if not args.skip_nightly:
        print("Nightly job…")
        nights.append(run_nightly(args.on, "run 1"))
        nights.append(run_nightly(args.on, "run 2, same date (must change nothing)"))
    block = render(args, setup, load, indexes, PAGES, nights, load_before)
    if args.no_report:
        print(block)
    else:
        write_report(block)
        print(f"Results written to {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
