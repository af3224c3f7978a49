"""Load and soak test at county scale (issue 3, RE-8). See bench/README.md.

    .venv/bin/python bench/soak.py --children 200000 --users 100 --minutes 30

1. Prepares a PostgreSQL database (shouhu_soak_bench) with the demo county at N children, as
   bench/ledger_bench.py does (--reuse keeps a seeded one).
2. Makes one account per simulated user (village workers, township supervisors, county
   admins, school staff), each with a password and a confirmed TOTP device whose key the
   locust scenario uses to compute its codes, exactly as an authenticator app would.
3. Starts gunicorn on PostgreSQL with production settings (DEBUG off) and an access log.
4. Runs bench/locustfile.py headless (locust from requirements-bench.txt, in .venv-bench)
   with U users for M minutes, and samples the resident memory of gunicorn's processes and
   the machine's load every 15 seconds.
5. Writes p50/p95/p99, requests per second, the error rate, the 5xx count (from gunicorn's
   own access log) and the memory growth into docs/benchmarks.md between the bench:soak
   markers (or prints them with --no-report).
"""

import argparse
import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import ledger_bench  # noqa: E402  (shares the database preparation and the machine facts)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shouhu_soak_bench"
RESULTS = ROOT / "bench" / "results"
REPORT = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:soak:begin -->", "<!-- bench:soak:end -->"
PASSWORD = "soak-Passw0rd-not-a-secret"
ROLE_MIX = (
    ("village_worker", 0.6),
    ("township_supervisor", 0.2),
    ("county_admin", 0.1),
    ("school_staff", 0.1),
)
TARGET_P95_MS = 500.0
TARGET_GROWTH = 0.10  # per hour


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--spawn-rate", type=float, default=2, help="users started per second")
    parser.add_argument("--warmup-minutes", type=float, default=5, help="memory baseline taken after this")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument(
        "--keep-alive", type=int, default=10,
        help="gunicorn keep-alive seconds; above the longest think time, or idle connections are "
        "closed just as the client reuses them (connection resets that are no fault of the app)",
    )  # fmt: skip
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument("--on", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--db-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--force", action="store_true", help="allow a database name without 'bench'")
    parser.add_argument("--locust", default=str(ROOT / ".venv-bench" / "bin" / "locust"))
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    return parser.parse_args()


# --- Accounts ---------------------------------------------------------------------------


def make_accounts(users: int) -> list[dict[str, Any]]:
    """One account per simulated user, spread over the busiest villages and all townships."""
    from django.db.models import Count
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Role, RoleGrant, User
    from geo.models import Region, RegionLevel, Unit, UnitKind
    from registry.models import Child

    villages = [
        row["village"]
        for row in Child.objects.values("village").annotate(n=Count("id")).order_by("-n")[:users]
    ]
    townships = list(Region.objects.filter(level=RegionLevel.TOWNSHIP, units__isnull=False).distinct())
    county_unit = Unit.objects.get(kind=UnitKind.CIVIL_AFFAIRS)
    schools = list(Unit.objects.filter(kind=UnitKind.SCHOOL).order_by("name"))
    accounts: list[dict[str, Any]] = []
    plan: list[str] = []
    for role, share in ROLE_MIX:
        plan += [role] * round(users * share)
    plan = (plan + ["village_worker"] * users)[:users]
    counters = dict.fromkeys(dict(ROLE_MIX), 0)
    for number, role in enumerate(plan):
        index = counters[role]
        counters[role] += 1
        # Accounts of an earlier run are kept (the audit log refers to them): reset, not remade.
        user, _ = User.objects.get_or_create(
            username=f"soak_{role}_{index:03d}", defaults={"full_name": f"压测{number:03d}"}
        )
        user.set_password(PASSWORD)
        user.save()
        RoleGrant.objects.filter(user=user).delete()
        TOTPDevice.objects.filter(user=user).delete()
        if role == "village_worker":
            village = Region.objects.get(pk=villages[index % len(villages)])
            unit = Unit.objects.filter(kind=UnitKind.VILLAGE_COMMITTEE, region=village).first()
            RoleGrant.objects.create(user=user, role=Role.VILLAGE_WORKER, unit=unit, region=village)
        elif role == "township_supervisor":
            township = townships[index % len(townships)]
            unit = Unit.objects.filter(kind=UnitKind.TOWNSHIP_GOVERNMENT, region=township).first()
            RoleGrant.objects.create(user=user, role=Role.TOWNSHIP_SUPERVISOR, unit=unit, region=township)
        elif role == "county_admin":
            RoleGrant.objects.create(user=user, role=Role.COUNTY_ADMIN, unit=county_unit)
        else:
            RoleGrant.objects.create(user=user, role=Role.SCHOOL_STAFF, unit=schools[index % len(schools)])
        device = TOTPDevice.objects.create(user=user, name="压测验证器", confirmed=True)
        accounts.append(
            {
                "username": user.username,
                "password": PASSWORD,
                "totp_key": device.key,
                "role": role,
                "edits": role == "village_worker",
                "terms": ["zs", "wang", "li", "张", "0017", "lx"],
            }
        )
    return accounts


# --- Measuring --------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """pid and its children (gunicorn's master and workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    if children.exists():
        for child in children.read_text().split():
            found += _tree(int(child))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes (utime and stime of /proc/<pid>/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, IndexError, ValueError):
            continue
    return total / tick


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


def rss_mib(pid: int) -> float:
    total = 0
    for each in _tree(pid):
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def start_gunicorn(args: argparse.Namespace, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "shouhu.settings",
            "DATABASE_URL": args.db_url,
            "SHOUHU_DEBUG": "0",
            "SHOUHU_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SHOUHU_SECURE_COOKIES": "0",
        }
    )
    command = [
        sys.executable, "-m", "gunicorn", "shouhu.wsgi:application",
        "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers), "--threads", str(args.threads),
        "--keep-alive", str(args.keep_alive),
        "--access-logfile", str(log), "--access-logformat", '%(s)s %(M)s "%(r)s"',
        "--error-logfile", str(RESULTS / "soak-gunicorn-error.log"), "--no-control-socket",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    import urllib.request

    for _ in range(60):
        time.sleep(1)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/accounts/login/", timeout=5)
            return process
        except OSError:
            if process.poll() is not None:
                sys.exit("gunicorn stopped at start-up; see bench/results/soak-gunicorn-error.log")
    sys.exit("gunicorn did not answer within 60 s")


def run_locust(
    args: argparse.Namespace, accounts_file: Path, gunicorn: subprocess.Popen[bytes]
) -> list[dict[str, float]]:
    if not Path(args.locust).exists():
        sys.exit(
            f"{args.locust} is missing: python3 -m venv .venv-bench && .venv-bench/bin/pip install -r requirements-bench.txt"
        )
    env = dict(os.environ, SOAK_ACCOUNTS=str(accounts_file))
    command = [
        args.locust, "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
        "-u", str(args.users), "-r", str(args.spawn_rate), "--run-time", f"{int(args.minutes * 60)}s",
        "--host", f"http://127.0.0.1:{args.port}", "--csv", str(RESULTS / "soak"), "--only-summary",
        "--stop-timeout", "10",
    ]  # fmt: skip
    locust = subprocess.Popen(command, cwd=ROOT, env=env)
    samples: list[dict[str, float]] = []
    started = time.monotonic()
    while locust.poll() is None:
        busy, total = machine_busy_seconds()
        samples.append(
            {
                "t": time.monotonic() - started,
                "rss": rss_mib(gunicorn.pid),
                "load": os.getloadavg()[0],
                "busy": busy,
                "total": total,
                "gunicorn_cpu": cpu_seconds(_tree(gunicorn.pid)),
                "locust_cpu": cpu_seconds(_tree(locust.pid)),
            }
        )
        time.sleep(15)
    return samples


def cpu_shares(samples: list[dict[str, float]]) -> dict[str, float]:
    """Shares of the machine's CPU capacity over the run: all busy, gunicorn, locust, and the rest
    (PostgreSQL and every other process). PostgreSQL is not split out: its backends come and go
    with the connections, and a backend that ends between two samples takes its CPU time with
    it, so summing the live backends' times under-counts it (an earlier version reported 0 %)."""
    first, last = samples[0], samples[-1]
    capacity = max(last["total"] - first["total"], 1e-9)
    shares = {
        name: (last[key] - first[key]) / capacity
        for name, key in (("busy", "busy"), ("gunicorn", "gunicorn_cpu"), ("locust", "locust_cpu"))
    }
    shares["other"] = max(shares["busy"] - shares["gunicorn"] - shares["locust"], 0.0)
    return shares


# --- Report -----------------------------------------------------------------------------


def read_stats() -> dict[str, dict[str, str]]:
    with open(RESULTS / "soak_stats.csv", encoding="utf-8") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def count_access_log(log: Path) -> dict[str, int]:
    counts = {"all": 0, "5xx": 0, "4xx": 0, "409": 0}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        status = line.split(" ", 1)[0]
        if not status.isdigit():
            continue
        counts["all"] += 1
        if status.startswith("5"):
            counts["5xx"] += 1
        elif status == "409":
            counts["409"] += 1
        elif status.startswith("4"):
            counts["4xx"] += 1
    return counts


def growth(samples: list[dict[str, float]], warmup_s: float) -> tuple[float, float, float]:
    """Baseline after warm-up, last sample, growth per hour (fraction)."""
    steady = [s for s in samples if s["t"] >= warmup_s] or samples
    first, last = steady[0], steady[-1]
    hours = max((last["t"] - first["t"]) / 3600, 1e-9)
    return first["rss"], last["rss"], (last["rss"] - first["rss"]) / first["rss"] / hours


def report(args: argparse.Namespace, setup: Any, samples: list[dict[str, float]], log: Path) -> str:
    stats = read_stats()
    total = stats.pop("Aggregated")
    access = count_access_log(log)
    base, last, per_hour = growth(samples, args.warmup_minutes * 60)
    requests = int(total["Request Count"])
    failures = int(total["Failure Count"])
    p95 = float(total["95%"])
    met_latency = p95 < TARGET_P95_MS
    met_5xx = access["5xx"] == 0
    met_memory = per_hour < TARGET_GROWTH
    verdict = "PASS" if met_latency and met_5xx and met_memory else "FAIL"
    facts = ledger_bench.machine()
    cpu = cpu_shares(samples)
    lines = [
        f"Run {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by `bench/soak.py` ({verdict}).",
        "",
        f"- Data: {setup.children:,} children on PostgreSQL (demo county, `seed_demo --children {args.children}`).",
        f"- Load: {args.users} simulated users (locust), each its own account signed in with password + TOTP; "
        f"think time {os.environ.get('SOAK_THINK_MIN', '2')}–{os.environ.get('SOAK_THINK_MAX', '8')} s; "
        f"{args.minutes:g} minutes; gunicorn {args.workers} workers × {args.threads} threads, DEBUG off.",
        f"- Machine: {facts.get('cpu', '?')}; {facts.get('memory', '?')}; locust, gunicorn and PostgreSQL "
        f"on the same 2 cores; load average {min(s['load'] for s in samples):.1f}–{max(s['load'] for s in samples):.1f}.",
        f"- CPU over the run (share of both cores): busy {cpu['busy']:.0%} — gunicorn {cpu['gunicorn']:.0%}, "
        f"locust {cpu['locust']:.0%}, PostgreSQL and all other processes {cpu['other']:.0%}.",
        "",
        "| | target | measured | |",
        "|---|---|---|---|",
        f"| p50 / p95 / p99 (all requests) | p95 < {TARGET_P95_MS:.0f} ms | {total['50%']} / {total['95%']} / {total['99%']} ms | {'met' if met_latency else 'NOT met'} |",
        f"| requests per second | | {float(total['Requests/s']):.1f} ({requests:,} requests) | |",
        f"| error rate (locust failures) | | {failures / max(requests, 1):.3%} ({failures}) | |",
        f"| 5xx answers (gunicorn access log) | 0 | {access['5xx']} of {access['all']:,} | {'met' if met_5xx else 'NOT met'} |",
        f"| 409 stale-edit refusals (expected when two users save one file) | | {access['409']} | |",
        f"| gunicorn memory (master + workers), after {args.warmup_minutes:g} min → end | < {TARGET_GROWTH:.0%}/h | {base:.0f} → {last:.0f} MiB ({per_hour:+.1%}/h) | {'met' if met_memory else 'NOT met'} |",
        "",
        "| request | count | p50 ms | p95 ms | p99 ms | failures |",
        "|---|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for name, row in sorted(stats.items(), key=lambda item: -int(item[1]["Request Count"])):
        lines.append(
            f"| {row['Type']} {name} | {int(row['Request Count']):,} | {row['50%']} | {row['95%']} | "
            f"{row['99%']} | {row['Failure Count']} |"
        )
    return "\n".join(lines)


def write_report(text: str) -> None:
    content = REPORT.read_text(encoding="utf-8")
    if BEGIN not in content:
        content += (
            "\n## Load and soak at county scale (issue 3, RE-8)\n\n"
            "How to run: `bench/README.md` (`bench/soak.py`).\n\n"
            f"{BEGIN}\n{END}\n"
        )
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    REPORT.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    args = parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    ledger_bench.configure(args.db_url)
    args.runs, args.warmup = 0, 0
    setup = ledger_bench.prepare(args)
    accounts = make_accounts(args.users)
    accounts_file = RESULTS / "soak_accounts.json"
    accounts_file.write_text(json.dumps(accounts, ensure_ascii=False), encoding="utf-8")
    from django.db import connections

    connections.close_all()
    log = RESULTS / "soak-access.log"
    log.unlink(missing_ok=True)
    gunicorn = start_gunicorn(args, log)
    try:
        samples = run_locust(args, accounts_file, gunicorn)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    (RESULTS / "soak_memory.json").write_text(json.dumps(samples), encoding="utf-8")
    text = report(args, setup, samples, log)
    print(text)
    if not args.no_report:
        write_report(text)


if __name__ == "__main__":
    main()
