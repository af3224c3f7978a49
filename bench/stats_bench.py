"""The statistics at one million children (issue 6 items 6 and 8). See bench/README.md.

    .venv/bin/python bench/stats_bench.py --reuse     # on the database of bench/export_bench.py

1. Prepares (or, with --reuse, reuses) the province database of bench/export_bench.py: one
   million active files in 20 counties of 广西, 合浦县 with 50,000.
2. Times stats_refresh(since=None), the full rebuild the nightly job runs, then the scheduler's
   tick (stats_refresh_tick) twice: with nothing changed, and after `--touched` files of one
   village were changed (their updated_at set to now, as any save does).
3. Times the dashboard (/stats/) through the Django test Client (force_login, a verified second
   factor): the county (demo_county_admin, 合浦县), a township (demo_township_supervisor, 廉州镇)
   and the province (the province user of export_bench); 3 warm-ups, then `--runs` requests
   (50); median and p95 (nearest rank). Also the number of SQL queries per request. The count
   tables are analyzed first (see analyze_counts).
4. Writes the results into docs/benchmarks.md between the bench:stats markers.
"""

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import export_bench  # noqa: E402  (the province database)
import ledger_bench  # noqa: E402  (login and machine facts)

REPORT = ROOT / "docs" / "benchmarks.md"
SECTION = "## bench:stats"
BEGIN, END = "<!-- bench:stats:begin -->", "<!-- bench:stats:end -->"
TARGET_MS = 100.0
BOARDS = (
    ("county", "县民政管理员（合浦县）", export_bench.COUNTY_USER),
    ("township", "儿童督导员（廉州镇）", "demo_township_supervisor"),
    ("province", "省级用户（广西，20 个县）", export_bench.PROVINCE_USER),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    export_bench.add_database_args(parser)
    parser.add_argument("--runs", type=int, default=50, help="timed requests per dashboard (after warm-up)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--touched", type=int, default=20, help="files changed before the second tick")
    parser.add_argument(
        "--no-refresh", action="store_true", help="skip the full refresh (counts already built)"
    )
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    return parser.parse_args()


@dataclass
class Board:
    key: str
    label: str
    username: str
    timings_ms: list[float] = field(default_factory=list)
    queries: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.timings_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.timings_ms)
        return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


@dataclass
class Refresh:
    label: str
    seconds: float
    report: Any


def _timed(label: str, action: Any) -> Refresh:
    started = time.perf_counter()
    report = action()
    seconds = time.perf_counter() - started
    print(f"  {label}: {seconds:.2f} s ({report})")
    return Refresh(label, seconds, report)


def refreshes(touched: int, *, full: bool) -> list[Refresh]:
    from django.utils import timezone

    from registry.models import Child
    from stats.services import stats_refresh, stats_refresh_tick

    done = []
    if full:
        done.append(_timed("全量重算 stats_refresh(since=None)", lambda: stats_refresh(since=None)))
    stats_refresh_tick()  # the watermark is now; the next tick sees only what follows
    done.append(_timed("定时增量（上次之后无新改动）stats_refresh_tick()", stats_refresh_tick))
    village = Child.objects.filter(county__code=export_bench.HEPU, status="active").values("village_id")[:1]
    ids = list(Child.objects.filter(village_id__in=village).values_list("pk", flat=True)[:touched])
    Child.objects.filter(pk__in=ids).update(updated_at=timezone.now())
    done.append(_timed(f"定时增量（一个村 {len(ids)} 份档案有改动）stats_refresh_tick()", stats_refresh_tick))
    return done


def analyze_counts() -> None:
    """What autovacuum does within a minute or so of a full rebuild (it analyzes a table once a
    tenth of its rows changed). Without it the planner keeps the statistics of the rows before
    the rebuild: the first run here, whose counts had all been in one county before the files
    were spread over the province, read stats_childcount sequentially (province 90–112 ms)."""
    ledger_bench._execute("ANALYZE stats_childcount")
    ledger_bench._execute("ANALYZE stats_indicator")
    ledger_bench._execute("ANALYZE stats_countsnapshot")


def measure(board: Board, *, runs: int, warmup: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client()
    user = User.objects.get(username=board.username)
    client.force_login(user)
    ledger_bench._pass_second_factor(client, user)

    def once() -> None:
        response = client.get("/stats/")
        if response.status_code != 200:
            raise RuntimeError(f"{board.username}: HTTP {response.status_code}")

    for _ in range(warmup):
        once()
    with CaptureQueriesContext(connection) as captured:
        once()
    board.queries = len(captured.captured_queries)
    for _ in range(runs):
        started = time.perf_counter()
        once()
        board.timings_ms.append((time.perf_counter() - started) * 1000)


def render(boards: list[Board], done: list[Refresh], setup: Any, load_before: str, runs: int) -> str:
    from stats.models import ChildCount, Indicator

    info, size, facts = ledger_bench.machine(), ledger_bench.data_size(), export_bench.province_facts()
    lines = [
        BEGIN,
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} by `bench/stats_bench.py`.",
        "",
        f"- Machine: {info['cpu']}, {info['memory']} RAM; {info['postgresql']}; {info['software']}.",
        f"- Load average (1, 5, 15 min) when measuring began: {load_before}; at the end: {info['load']}. "
        "The machine is shared: other work slows every figure below.",
        f"- Data: {size['children']} child files ({size['active']} active) in {facts['counties']} counties "
        f"of 广西 (the database of `bench/export_bench.py`); 合浦县 {facts['county']} active files. "
        f"Count tables after the refresh: {ChildCount.objects.count():,} ChildCount rows, "
        f"{Indicator.objects.count():,} Indicator rows.",
        "- Seeding: database reused from an earlier run (`--reuse`)."
        if setup.reused
        else f"- Seeding: {setup.seconds / 60:.1f} min (see bench:export).",
        f"- Dashboard: Django test Client GET /stats/ (force_login, second factor passed), "
        f"with middleware, session, access log and template; {runs} timed requests after warm-up; "
        "p95 is the nearest rank.",
        "",
        "| Refresh | Villages recomputed | Count rows written | Wall s |",
        "|---|---:|---:|---:|",
        *(
            f"| {item.label} | {'all' if item.report.villages < 0 else item.report.villages} | "
            f"{item.report.count_rows:,} | {item.seconds:.2f} |"
            for item in done
        ),
        "",
        "| Dashboard | Queries | median ms | p95 ms | Target |",
        "|---|---:|---:|---:|---|",
    ]
    for board in boards:
        verdict = "met" if board.median < TARGET_MS else "**missed**"
        lines.append(
            f"| {board.label} | {board.queries} | {board.median:.1f} | {board.p95:.1f} | "
            f"median < {TARGET_MS:.0f} ms: {verdict} |"
        )
    lines.append(END)
    return "\n".join(lines)


def write_report(block: str, path: Path = REPORT) -> None:
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
    setup = export_bench.prepare(args)
    load_before = ledger_bench._load()
    print("Refreshing the count tables…")
    done = refreshes(args.touched, full=not args.no_refresh)
    analyze_counts()
    boards = [Board(*spec) for spec in BOARDS]
    for board in boards:
        measure(board, runs=args.runs, warmup=args.warmup)
        print(
            f"  {board.label}: {board.queries} queries, median {board.median:.1f} ms, p95 {board.p95:.1f} ms"
        )
    block = render(boards, done, setup, load_before, args.runs)
    if args.no_report:
        print(block)
    else:
        write_report(block)
        print(f"Results written to {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
