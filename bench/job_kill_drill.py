"""Job kill drill (RE-4): SIGKILL the task worker at random moments; every job's effect must
land exactly once.

    .venv/bin/python bench/job_kill_drill.py            # 600 jobs, 50 kills, PostgreSQL

1. Drops and creates the PostgreSQL database shouhu_drill (127.0.0.1:5432, user postgres;
   --db-url to change; a name without "drill" needs --force) and migrates it.
2. Submits N `jobs.drill` jobs through job_submit. The handler inserts one DrillEffect row
   and then sleeps a few ms inside the job's transaction, so kills land between the effect
   and its commit.
3. Starts `manage.py db_worker` as a subprocess, waits until it has finished at least one
   job, sleeps a random 0–600 ms and SIGKILLs it; runs the reaper (jobs_requeue_stale);
   repeats K times. The lease is short (--lease, 2 s) so that the drill does not wait long.
4. Starts a last worker and runs the reaper every 0.5 s until every job is succeeded or
   failed (or --timeout), then stops the worker with SIGTERM.
5. Prints jobs, succeeded, failed, effects, duplicate effects and lost effects, and exits 1
   unless effects == jobs with no duplicate, no loss and no failure.

DrillEffect has no unique constraint on the job on purpose: a double run would show up here
as a duplicate row instead of being turned into an error by the database.
"""

import argparse
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/shouhu_drill"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=600)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument(
        "--lease", type=int, default=2, help="job lease in seconds (SHOUHU_JOB_LEASE_SECONDS)"
    )
    parser.add_argument("--sleep-ms", type=int, nargs=2, default=[5, 40], metavar=("LO", "HI"))
    parser.add_argument("--max-kill-delay", type=float, default=0.6, help="seconds after first progress")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for the final phase")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--db-url", default=os.environ.get("DRILL_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--force", action="store_true", help="allow a database name without 'drill'")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def configure(args: argparse.Namespace) -> dict[str, str]:
    """Environment for this process and the worker; must run before Django is imported."""
    sys.path.insert(0, str(ROOT))
    env = {
        "DJANGO_SETTINGS_MODULE": "shouhu.settings",
        "DATABASE_URL": args.db_url,
        "SHOUHU_SECRET_KEY": "drill-secret-key-not-for-production",
        "SHOUHU_INDEX_KEY": "drill-index-key-not-for-production",
        "SHOUHU_DATA_KEYS": "drill:ZHJpbGwtZGF0YS1rZXktbm90LWZvci1wcm9kLTAwMDE=",  # 32 bytes, not a secret
        "SHOUHU_TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "SHOUHU_JOB_LEASE_SECONDS": str(args.lease),
    }
    os.environ.update(env)
    return {**os.environ, **env}


def reset_database(url: str, *, force: bool, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if "drill" not in name and not force:
        sys.exit(f"refusing to drop {name!r}: the name lacks 'drill' (pass --force)")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(*argv: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env, check=True)


def start_worker(env: dict[str, str], log: Any) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "manage.py", "db_worker",
        "--no-startup-delay", "--no-reload", "--interval", "0.05", "--verbosity", "0",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)


def counts() -> dict[str, int]:
    from django.db.models import Count

    from jobs.models import Job

    by_state = dict(Job.objects.values_list("state").annotate(n=Count("id")))
    return {state: by_state.get(state, 0) for state in ("queued", "running", "succeeded", "failed")}


def submit(n: int, sleep_ms: list[int]) -> None:
    from jobs.services import job_submit

    for i in range(n):
        job_submit(kind="jobs.drill", payload={"sleep_ms": sleep_ms}, idempotency_key=f"drill-{i}", user=None)


def wait_for_progress(start: int, proc: subprocess.Popen[bytes], total: int) -> bool:
    """Until the worker has finished a job (True), or everything is done / it died (False)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = counts()
        if done["succeeded"] > start:
            return True
        if done["succeeded"] + done["failed"] >= total or proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def kill_phase(args: argparse.Namespace, env: dict[str, str], log: Any, rng: random.Random) -> dict[str, int]:
    from django.db import close_old_connections
    from django.utils import timezone

    from jobs.models import Job
    from jobs.services import jobs_requeue_stale

    stats = {"kills": 0, "kills_mid_job": 0, "requeued": 0, "reenqueued": 0}
    for _ in range(args.kills):
        started = timezone.now()
        proc = start_worker(env, log)
        progressed = wait_for_progress(counts()["succeeded"], proc, args.jobs)
        if progressed:
            time.sleep(rng.uniform(0, args.max_kill_delay))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stats["kills"] += 1
        # A job this worker claimed and did not finish: the kill landed inside it.
        stats["kills_mid_job"] += Job.objects.filter(state="running", started_at__gte=started).count()
        close_old_connections()
        report = jobs_requeue_stale()
        stats["requeued"] += report.requeued
        stats["reenqueued"] += report.reenqueued
        if not progressed and counts()["queued"] == 0 and counts()["running"] == 0:
            break
    return stats


def final_phase(args: argparse.Namespace, env: dict[str, str], log: Any) -> dict[str, int]:
    from jobs.services import jobs_requeue_stale

    stats = {"requeued": 0, "reenqueued": 0}
    proc = start_worker(env, log)
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            done = counts()
            if done["succeeded"] + done["failed"] >= args.jobs:
                break
            report = jobs_requeue_stale()
            stats["requeued"] += report.requeued
            stats["reenqueued"] += report.reenqueued
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    return stats


def results() -> dict[str, int]:
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from jobs.models import DrillEffect, Job

    per_job = dict(DrillEffect.objects.values_list("job_id").annotate(n=Count("id")))
    jobs = Job.objects.count()
    succeeded = Job.objects.filter(state="succeeded")
    return {
        "jobs": jobs,
        "succeeded": succeeded.count(),
        "failed": Job.objects.filter(state="failed").count(),
        "unfinished": Job.objects.filter(state__in=["queued", "running"]).count(),
        "effects": sum(per_job.values()),
        "duplicate effects": sum(n - 1 for n in per_job.values() if n > 1),
        "lost effects": jobs - len(per_job),
        "succeeded without effect": succeeded.exclude(pk__in=list(per_job)).count(),
        "jobs run more than once": Job.objects.filter(attempts__gt=1).count(),
        "effects landed on a retry": DrillEffect.objects.filter(attempt__gt=1).count(),
        "task rows left RUNNING by killed workers": DBTaskResult.objects.filter(status="RUNNING").count(),
    }


def main() -> int:
    args = parse_args()
    rng = random.Random(args.seed)
    env = configure(args)
    began = time.monotonic()
    reset_database(args.db_url, force=args.force)
    manage("migrate", "--noinput", "--verbosity", "0", env=env)

    import django

    django.setup()
    from django.db import connection, connections

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (pg_version,) = cursor.fetchone()
    submit(args.jobs, args.sleep_ms)
    print(f"{args.jobs} jobs submitted; killing the worker {args.kills} times…", flush=True)
    with tempfile.TemporaryFile() as log:
        kills = kill_phase(args, env, log, rng)
        final = final_phase(args, env, log)
    found = results()
    elapsed = time.monotonic() - began
    connections.close_all()
    if not args.keep:
        reset_database(args.db_url, force=args.force, drop_only=True)

    ok = (
        found["effects"] == found["jobs"]
        and found["duplicate effects"] == 0
        and found["lost effects"] == 0
        and found["failed"] == 0
        and found["unfinished"] == 0
    )
    report(args, pg_version, kills, final, found, elapsed, ok)
    return 0 if ok else 1


def report(
    args: argparse.Namespace,
    pg_version: str,
    kills: dict[str, int],
    final: dict[str, int],
    found: dict[str, int],
    elapsed: float,
    ok: bool,
) -> None:
    now = dt.datetime.now().astimezone()
    print()
    print(f"Run {now:%Y-%m-%d %H:%M %Z} by `bench/job_kill_drill.py` ({'PASS' if ok else 'FAIL'}).")
    print()
    print(f"- {pg_version.split(' on ')[0]}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}.")
    print(
        f"- {args.jobs} jobs of kind `jobs.drill` (one DrillEffect row each, then {args.sleep_ms[0]}–"
        f"{args.sleep_ms[1]} ms of sleep inside the job's transaction); lease {args.lease} s; "
        f"max_attempts 3; wall time {elapsed:.0f} s."
    )
    print(
        f"- `db_worker` SIGKILLed {kills['kills']} times, each a random 0–{args.max_kill_delay:g} s after "
        f"it finished its first job; {kills['kills_mid_job']} kills landed inside a claimed job. "
        f"Reaper after each kill and every 0.5 s at the end: {kills['requeued'] + final['requeued']} "
        f"jobs requeued after their lease, {kills['reenqueued'] + final['reenqueued']} lost wake-ups re-sent."
    )
    print()
    print("| Figure | Value |")
    print("|---|---:|")
    for key, value in found.items():
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    sys.exit(main())
