"""PostgreSQL crash drill (RE-5): no acknowledged commit is lost to `pg_ctl stop -m immediate`.

    .venv/bin/python bench/pg_crash_drill.py                    # 20 rounds, 4 writers
    .venv/bin/python bench/pg_crash_drill.py --rounds 5 --no-report

1. Creates a throw-away cluster with `initdb` in a new temporary directory and starts it on a
   Unix socket in that directory only (listen_addresses = ''): the shared server is never
   touched. initdb refuses to run as root, so as root the PostgreSQL programs run as the
   `postgres` OS user (`runuser`, else `su`). Prints fsync, full_page_writes,
   synchronous_commit and wal_sync_method as SHOW reports them; a safe round needs fsync and
   synchronous_commit on.
2. Each round: --writers threads, one connection each, insert rows with increasing ids, one
   transaction per row, and record an id as acknowledged only after commit() has returned.
   A random 0.2–2 s after every writer is connected the drill runs
   `pg_ctl stop -m immediate` (no checkpoint, no flush); the writers get errors and stop.
   `pg_controldata` must then report an unclean state ("in production"), proof that the
   stop was a crash. The cluster is started again (crash recovery replays the WAL) and every
   acknowledged id of the round must be in the table. A commit that raised (sent, no answer)
   is "in doubt": it may or may not be there, and is counted apart.
3. Negative control (--control-rounds, 1; 0 to skip): rounds whose writers run with
   synchronous_commit = off, where PostgreSQL acknowledges before the WAL is written, so
   losses are allowed and only reported. Then `manage.py check --database default` runs
   against the drill cluster twice: as it is (must pass) and after
   `ALTER DATABASE drill SET synchronous_commit = off` (must fail with core.E001).
4. Prints a per-round table and PASS/FAIL, and writes it into docs/benchmarks.md between the
   bench:pgcrash markers (--no-report: print only). Exits 1 if a safe round lost an
   acknowledged id, acknowledged nothing, did not crash, had a writer stop before the crash or
   found a row that was never committed, or if the check did not refuse the unsafe setting.

What it proves, and what not: `-m immediate` kills the PostgreSQL processes, not the kernel.
WAL that was written but not yet fsynced survives in the page cache, so the drill shows that
PostgreSQL does not acknowledge a commit whose WAL is still in its own memory; it cannot tell
fsync = on from fsync = off. Power loss needs a VM reset or a block device that drops unflushed
writes (dm-log-writes, dm-flakey). The start-up refusal of fsync = off and full_page_writes =
off (core/durability.py) covers that part.
"""

import argparse
import datetime as dt
import glob
import itertools
import os
import platform
import pwd
import random
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"
SECTION = "## PostgreSQL crash drill (issue 3, RE-5)"
BEGIN, END = "<!-- bench:pgcrash:begin -->", "<!-- bench:pgcrash:end -->"
SETTINGS = ("fsync", "full_page_writes", "synchronous_commit", "wal_sync_method", "wal_writer_delay")
PAYLOAD = "守护" * 50  # 300 bytes of UTF-8 per row, so that the WAL moves along
DRILL_ENV = {
    "DJANGO_SETTINGS_MODULE": "shouhu.settings",
    "SHOUHU_SECRET_KEY": "drill-secret-key-not-for-production",
    "SHOUHU_INDEX_KEY": "drill-index-key-not-for-production",
    "SHOUHU_DATA_KEYS": "drill:ZHJpbGwtZGF0YS1rZXktbm90LWZvci1wcm9kLTAwMDE=",  # 32 bytes, not a secret
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20, help="safe rounds (synchronous_commit = on)")
    parser.add_argument("--control-rounds", type=int, default=1, help="rounds with synchronous_commit = off")
    parser.add_argument("--writers", type=int, default=4, help="writer threads, one connection each")
    parser.add_argument("--delay", type=float, nargs=2, default=[0.2, 2.0], metavar=("LO", "HI"))
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--bindir", help="PostgreSQL programs (default: pg_config --bindir)")
    parser.add_argument("--dir", help="parent of the temporary cluster directory (default: the system's)")
    parser.add_argument("--keep", action="store_true", help="keep the stopped cluster directory")
    parser.add_argument("--no-report", action="store_true", help="do not touch docs/benchmarks.md")
    return parser.parse_args()


# --- The throw-away cluster ---------------------------------------------------------------


def find_bindir(given: str | None) -> Path:
    candidates = [given] if given else []
    if not given and shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    # Debian and Ubuntu keep the server programs out of PATH, one directory per major version.
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for candidate in candidates:
        if candidate and all((Path(candidate) / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    sys.exit("PostgreSQL server programs (initdb, pg_ctl, postgres) not found: pass --bindir DIR")


def _version_key(path: str) -> int:
    digits = Path(path).parent.name
    return int(digits) if digits.isdigit() else 0


def runas_prefix() -> tuple[list[str], str]:
    """How to run the PostgreSQL programs: as ourselves, or (as root) as the postgres user."""
    if os.geteuid() != 0:
        return [], f"as {pwd.getpwuid(os.geteuid()).pw_name}"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        sys.exit(
            "The drill runs as root, and initdb refuses root. There is no `postgres` OS user to run the "
            "PostgreSQL programs as: create one (useradd --system postgres) or run the drill as an "
            "ordinary user."
        )
    for prefix, how in (
        (["runuser", "-u", "postgres", "--"], "as postgres via runuser"),
        (["su", "postgres", "-s", "/bin/sh", "-c"], "as postgres via su"),
    ):
        if shutil.which(prefix[0]) and _probe(prefix):
            return prefix, how
    sys.exit(
        "The drill runs as root, and initdb refuses root; neither `runuser -u postgres` nor "
        "`su postgres` worked here. Run the drill as an ordinary user instead."
    )


def _probe(prefix: list[str]) -> bool:
    argv = [*prefix, "true"]
    return subprocess.run(argv, capture_output=True, check=False, timeout=30).returncode == 0


@dataclass
class Cluster:
    bindir: Path
    home: Path
    port: int
    prefix: list[str]

    @property
    def data(self) -> Path:
        return self.home / "data"

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bindir / tool), *args]
        # su takes one shell command; runuser (and no prefix) take the argument vector.
        command = [*self.prefix, shlex.join(argv)] if self.prefix[:1] == ["su"] else [*self.prefix, *argv]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def init(self) -> None:
        self.run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-instructions",
        )  # fmt: skip

    def start(self) -> float:
        """Start (after a crash: recover) and return the seconds pg_ctl waited."""
        # pg_ctl hands -o to a shell.
        options = f"-p {self.port} -k {shlex.quote(str(self.home))} -c listen_addresses=''"
        began = time.monotonic()
        log = str(self.home / "server.log")
        self.run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "120", "-o", options, "start")
        return time.monotonic() - began

    def crash(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "stop", check=False)

    def state(self) -> str:
        out = self.run("pg_controldata", "-D", str(self.data)).stdout
        return next(
            (line.split(":", 1)[1].strip() for line in out.splitlines() if "cluster state" in line), ""
        )

    def conninfo(self, dbname: str = "drill") -> dict[str, Any]:
        return {"host": str(self.home), "port": self.port, "user": "postgres", "dbname": dbname}


def free_port() -> int:
    # Only names the socket file (no TCP listener); a free TCP port just avoids a confusing clash.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_cluster(args: argparse.Namespace) -> tuple[Cluster, str]:
    bindir = find_bindir(args.bindir)
    prefix, how = runas_prefix()
    home = Path(tempfile.mkdtemp(prefix="shouhu-pgcrash-", dir=args.dir))
    if prefix:
        owner = pwd.getpwnam("postgres")
        os.chown(home, owner.pw_uid, owner.pw_gid)
    return Cluster(bindir=bindir, home=home, port=free_port(), prefix=prefix), how


def prepare(cluster: Cluster) -> dict[str, str]:
    cluster.init()
    cluster.start()
    with psycopg.connect(**cluster.conninfo("postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE drill")
    with psycopg.connect(**cluster.conninfo(), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE acked (round integer NOT NULL, id bigint NOT NULL, payload text NOT NULL, "
            "PRIMARY KEY (round, id))"
        )
        shown = {name: str(conn.execute(f"SHOW {name}").fetchone()[0]) for name in SETTINGS}  # type: ignore[index]
        shown["version"] = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    return shown


# --- One round ----------------------------------------------------------------------------


@dataclass
class Round:
    number: int
    control: bool
    delay: float = 0.0
    seconds_writing: float = 0.0
    acknowledged: set[int] = field(default_factory=set)
    in_doubt: set[int] = field(default_factory=set)  # commit sent, no answer
    present: set[int] = field(default_factory=set)
    session_values: set[str] = field(default_factory=set)  # synchronous_commit as the writers saw it
    early_stops: list[str] = field(default_factory=list)  # writers that failed before the crash
    hung: int = 0
    state_after_crash: str = ""
    recovery_s: float = 0.0
    error_sample: str = ""
    crashing: threading.Event = field(default_factory=threading.Event, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    ids: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def lost(self) -> set[int]:
        return self.acknowledged - self.present

    @property
    def never_committed(self) -> set[int]:
        """Rows present that no commit was ever sent for: would mean the drill is broken."""
        return self.present - self.acknowledged - self.in_doubt

    def problems(self) -> list[str]:
        found = []
        if not self.control and self.lost:
            found.append(f"{len(self.lost)} acknowledged ids lost")
        if not self.acknowledged:
            found.append("nothing acknowledged: the round tested nothing")
        if self.state_after_crash != "in production":
            found.append(f"not a crash: pg_controldata says {self.state_after_crash!r}")
        if self.early_stops:
            found.append(f"writers stopped before the crash: {self.early_stops[0]}")
        if self.hung:
            found.append(f"{self.hung} writers still blocked 60 s after the crash")
        if self.never_committed:
            found.append(f"{len(self.never_committed)} rows present that were never committed")
        expected = {"off"} if self.control else {"on"}
        if self.session_values != expected:
            found.append(f"writers ran with synchronous_commit {sorted(self.session_values)}")
        return found


def writer(cluster: Cluster, rnd: Round, ready: threading.Barrier) -> None:
    options = "-c synchronous_commit=off" if rnd.control else ""
    try:
        conn = psycopg.connect(**cluster.conninfo(), options=options, connect_timeout=10)
    except psycopg.Error as exc:
        with rnd.lock:
            rnd.early_stops.append(f"connect: {exc}")
        ready.abort()
        return
    try:
        value = str(conn.execute("SHOW synchronous_commit").fetchone()[0])  # type: ignore[index]
        conn.commit()
        with rnd.lock:
            rnd.session_values.add(value)
        ready.wait()
        _write_until_error(conn, rnd)
    except threading.BrokenBarrierError:
        pass
    finally:
        conn.close()


def _write_until_error(conn: psycopg.Connection[Any], rnd: Round) -> None:
    while True:
        with rnd.lock:
            row_id = next(rnd.ids)
        try:
            conn.execute(
                "INSERT INTO acked (round, id, payload) VALUES (%s, %s, %s)", (rnd.number, row_id, PAYLOAD)
            )
        except psycopg.Error as exc:
            _stopped(rnd, exc)
            return
        with rnd.lock:
            rnd.in_doubt.add(row_id)
        try:
            conn.commit()
        except psycopg.Error as exc:
            _stopped(rnd, exc)  # the id stays in doubt: the commit may or may not have landed
            return
        # Acknowledged: commit() returned, so PostgreSQL has promised the row.
        with rnd.lock:
            rnd.in_doubt.discard(row_id)
            rnd.acknowledged.add(row_id)


def _stopped(rnd: Round, exc: psycopg.Error) -> None:
    with rnd.lock:
        if not rnd.crashing.is_set():
            rnd.early_stops.append(str(exc).strip())
        rnd.error_sample = rnd.error_sample or str(exc).strip().splitlines()[0]


def run_round(cluster: Cluster, rnd: Round, writers: int, rng: random.Random, delay: list[float]) -> None:
    ready = threading.Barrier(writers + 1)
    threads = [
        threading.Thread(target=writer, args=(cluster, rnd, ready), daemon=True, name=f"writer-{i}")
        for i in range(writers)
    ]
    for thread in threads:
        thread.start()
    try:
        ready.wait(timeout=60)
    except threading.BrokenBarrierError:
        if not rnd.early_stops:
            rnd.early_stops.append("the writers did not all connect within 60 s")
    began = time.monotonic()
    rnd.delay = rng.uniform(*delay)
    time.sleep(rnd.delay)
    rnd.crashing.set()
    cluster.crash()
    rnd.seconds_writing = time.monotonic() - began
    for thread in threads:
        thread.join(timeout=60)
    rnd.hung = sum(thread.is_alive() for thread in threads)
    rnd.state_after_crash = cluster.state()
    rnd.recovery_s = cluster.start()
    with psycopg.connect(**cluster.conninfo()) as conn:
        rows = conn.execute("SELECT id FROM acked WHERE round = %s", (rnd.number,)).fetchall()
    rnd.present = {row[0] for row in rows}


# --- The project's durability check against the drill cluster -------------------------------


def manage_check(cluster: Cluster) -> tuple[int, str]:
    env = {key: value for key, value in os.environ.items() if key != "SHOUHU_ALLOW_UNSAFE_DURABILITY"}
    # An empty host in DATABASE_URL leaves the socket directory and port to libpq's PGHOST/PGPORT.
    env.update(DRILL_ENV, DATABASE_URL="postgres://postgres@/drill", PGHOST=str(cluster.home))
    env["PGPORT"] = str(cluster.port)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


@dataclass
class CheckResult:
    safe_rc: int
    safe_output: str
    unsafe_rc: int
    unsafe_output: str

    def problems(self) -> list[str]:
        found = []
        if self.safe_rc != 0:
            found.append(f"check failed on the safe cluster:\n{self.safe_output}")
        if self.unsafe_rc == 0 or "core.E001" not in self.unsafe_output:
            found.append(f"check did not refuse synchronous_commit = off:\n{self.unsafe_output}")
        elif "synchronous_commit = off" not in self.unsafe_output:
            found.append(f"check refused without naming the setting:\n{self.unsafe_output}")
        return found


def check_refusal(cluster: Cluster) -> CheckResult:
    safe_rc, safe_output = manage_check(cluster)
    with psycopg.connect(**cluster.conninfo("postgres"), autocommit=True) as conn:
        conn.execute("ALTER DATABASE drill SET synchronous_commit = off")
    try:
        unsafe_rc, unsafe_output = manage_check(cluster)
    finally:
        with psycopg.connect(**cluster.conninfo("postgres"), autocommit=True) as conn:
            conn.execute("ALTER DATABASE drill RESET synchronous_commit")
    return CheckResult(safe_rc, safe_output, unsafe_rc, unsafe_output)


# --- Report -------------------------------------------------------------------------------


def machine(cluster: Cluster) -> dict[str, str]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next(
            (ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if "model name" in ln), ""
        )
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory = f", {int(meminfo.read_text().split('MemTotal:')[1].split()[0]) / 1024 / 1024:.1f} GiB RAM"
    df = subprocess.run(["df", "-T", str(cluster.home)], capture_output=True, text=True, check=False)
    lines = df.stdout.splitlines()
    fstype = lines[1].split()[1] if len(lines) > 1 and len(lines[1].split()) > 1 else "unknown"
    return {
        "cpu": f"{os.cpu_count()} cores ({model or platform.processor() or 'unknown CPU'}){memory}",
        "fs": fstype,
        "load": f"{os.getloadavg()[0]:.2f}",
    }


def render(
    args: argparse.Namespace, shown: dict[str, str], info: dict[str, str], how: str,
    rounds: list[Round], check: CheckResult | None, ok: bool, elapsed: float,
) -> str:  # fmt: skip
    safe = [r for r in rounds if not r.control]
    control = [r for r in rounds if r.control]
    now = dt.datetime.now().astimezone()
    lines = [
        f"Run {now:%Y-%m-%d %H:%M %Z} by `bench/pg_crash_drill.py` ({'PASS' if ok else 'FAIL'}): "
        f"{len(safe)} rounds, {sum(len(r.acknowledged) for r in safe):,} acknowledged commits, "
        f"**{sum(len(r.lost) for r in safe)} acknowledged but lost**.",
        "",
        f"- Machine: {info['cpu']}; cluster on {info['fs']}; load average {info['load']} at the end; "
        f"wall time {elapsed:.0f} s.",
        f"- PostgreSQL {shown['version']} (throw-away cluster from initdb, Unix socket only, run {how}); "
        + ", ".join(f"{name} = {shown[name]}" for name in SETTINGS)
        + ".",
        f"- Each round: {args.writers} writer threads (psycopg, one row per transaction, an id recorded "
        f"only after commit() returned); `pg_ctl stop -m immediate` a random {args.delay[0]:g}–"
        f"{args.delay[1]:g} s after all were connected; pg_controldata confirmed the unclean state; "
        "restart with crash recovery; every acknowledged id looked up.",
        "- *In doubt* = commit sent, no answer before the crash (may or may not be present; "
        "not counted as lost).",
        "",
        "| Round | synchronous_commit | Crash after s | Acknowledged | Commits/s | Present of them | Lost "
        "| In doubt (present) | Recovery s |",
        "|---:|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rounds:
        rate = len(r.acknowledged) / r.seconds_writing if r.seconds_writing else 0.0
        lost = len(r.lost)
        lines.append(
            f"| {r.number}{' (control)' if r.control else ''} | {'off' if r.control else 'on'} | "
            f"{r.delay:.2f} | {len(r.acknowledged):,} | {rate:,.0f} | {len(r.acknowledged & r.present):,} | "
            f"{f'**{lost}**' if lost and not r.control else lost} | {len(r.in_doubt)} "
            f"({len(r.in_doubt & r.present)}) | {r.recovery_s:.2f} |"
        )
    lines.append("")
    if control:
        lost = sum(len(r.lost) for r in control)
        acked = sum(len(r.acknowledged) for r in control)
        lines.append(
            f"- Negative control (writers' sessions with synchronous_commit = off; losses allowed): "
            f"{lost:,} of {acked:,} acknowledged ids lost."
        )
    if check is not None:
        refused = not check.problems()
        lines.append(
            "- `manage.py check --database default` against the drill cluster: exit "
            f"{check.safe_rc} as initdb left it; exit {check.unsafe_rc} after "
            "`ALTER DATABASE drill SET synchronous_commit = off`"
            + (" (core.E001 naming synchronous_commit = off)." if refused else " (**not refused**).")
        )
    sample = next((r.error_sample for r in rounds if r.error_sample), "")
    if sample:
        lines.append(f"- What the writers saw at the crash: `{sample}`.")
    return "\n".join(lines)


def write_report(block: str, path: Path = REPORT) -> None:
    """Replace our block only; re-read right before writing, as other drills write their own."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN not in text or END not in text:
        text = (
            text.rstrip("\n")
            + f"\n\n{SECTION}\n\nHow to run: `bench/README.md` (`bench/pg_crash_drill.py`); "
            "the design is in `docs/operations.md` §4.\n\n" + f"{BEGIN}\n{END}\n"
        )
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{block}\n{END}{tail}", encoding="utf-8")


# --- Main ---------------------------------------------------------------------------------


def drill(args: argparse.Namespace, cluster: Cluster, how: str) -> tuple[bool, str]:
    rng = random.Random(args.seed)
    began = time.monotonic()
    shown = prepare(cluster)
    print(f"PostgreSQL {shown['version']}, " + ", ".join(f"{n} = {shown[n]}" for n in SETTINGS), flush=True)
    problems = []
    if shown["fsync"] != "on" or shown["synchronous_commit"] != "on":
        problems.append("the drill cluster itself is not safe (fsync / synchronous_commit)")
    rounds: list[Round] = []
    plan = [False] * args.rounds + [True] * args.control_rounds
    for number, control in enumerate(plan, start=1):
        rnd = Round(number=number, control=control)
        run_round(cluster, rnd, args.writers, rng, args.delay)
        rounds.append(rnd)
        found = rnd.problems()
        problems += [f"round {number}: {p}" for p in found]
        print(
            f"round {number:2d}{' control' if control else '        '} crash after {rnd.delay:.2f} s: "
            f"acknowledged {len(rnd.acknowledged):6d}, present {len(rnd.acknowledged & rnd.present):6d}, "
            f"lost {len(rnd.lost):4d}, "
            f"in doubt {len(rnd.in_doubt)} ({len(rnd.in_doubt & rnd.present)} present)"
            + (f"  <- {'; '.join(found)}" if found else ""),
            flush=True,
        )
    check = check_refusal(cluster) if args.control_rounds else None
    if check is not None:
        problems += check.problems()
    ok = not problems
    block = render(args, shown, machine(cluster), how, rounds, check, ok, time.monotonic() - began)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return ok, block


def main() -> int:
    args = parse_args()
    cluster, how = make_cluster(args)
    print(f"throw-away cluster in {cluster.home} (socket only, port {cluster.port}), {how}", flush=True)
    try:
        ok, block = drill(args, cluster, how)
    finally:
        cluster.stop()
        if args.keep:
            print(f"kept {cluster.home}")
        else:
            shutil.rmtree(cluster.home, ignore_errors=True)
    print()
    print(block)
    if not args.no_report:
        write_report(block)
        print(f"\nwritten to {REPORT.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
