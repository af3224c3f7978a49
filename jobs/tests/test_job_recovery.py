"""RE-4 under a controlled clock: claims, leases, the reaper, bounded retries.

A worker killed by SIGKILL runs no more Python code and its database transaction is rolled
back by the server; the tests reproduce that state by claiming a job (job_claim commits the
attempt) and then doing nothing more. The real thing, with a real worker killed 50 times on
PostgreSQL, is bench/job_kill_drill.py.
"""

import datetime as dt
import threading
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobs.handlers import job_handler
from jobs.models import DrillEffect, Job, JobState
from jobs.services import JobContext, job_claim, job_run, job_submit

LEASE = dt.timedelta(seconds=300)  # settings.SHOUHU_JOB_LEASE_SECONDS
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _reaper() -> str:
    out = StringIO()
    call_command("requeue_stale_jobs", stdout=out)
    return out.getvalue()


def _submit(key: str, **payload: Any) -> Job:
    """Submitted inside the test transaction: its on-commit wake-up call is never sent."""
    max_attempts = payload.pop("max_attempts", 3)
    return job_submit(
        kind="jobs.drill", payload=payload, idempotency_key=key, user=None, max_attempts=max_attempts
    )


def test_it_requeues_the_job_of_a_dead_worker_after_its_lease(
    db: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = _submit("dead-worker")
    claimed = job_claim(job_id=job.pk)  # the worker took the job, then was killed
    assert claimed is not None and claimed.attempts == 1
    assert claimed.lease_until == T0 + LEASE

    assert job_run(job_id=job.pk) == "skipped"  # a live lease: nobody else runs it
    clock.shift(LEASE - dt.timedelta(seconds=1))
    assert "重新排队 0 个" in _reaper()

    clock.shift(dt.timedelta(seconds=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert "重新排队 1 个" in _reaper()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 2
    assert list(DrillEffect.objects.filter(job=job).values_list("attempt", flat=True)) == [2]


def test_it_fails_the_job_once_max_attempts_of_dead_workers_are_spent(db: Any, clock: Any) -> None:
    job = _submit("poison", max_attempts=2)
    for _attempt in (1, 2):
        assert job_claim(job_id=job.pk) is not None
        clock.shift(LEASE + dt.timedelta(seconds=1))
        report = _reaper()
    assert "标记失败 1 个" in report
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.attempts == 2
    assert "已尝试 2 次" in job.error
    assert job_run(job_id=job.pk) == "skipped"
    assert DrillEffect.objects.count() == 0


def test_it_rolls_the_effect_back_and_retries_when_the_handler_raises(db: Any) -> None:
    job = _submit("flaky", fail="always", max_attempts=2)
    assert job_run(job_id=job.pk) == "retry"
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.QUEUED, 1)
    assert job.error == "RuntimeError: 演练：处理失败"
    assert DrillEffect.objects.count() == 0  # the row written before the error is gone

    assert job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILED, 2)
    assert DrillEffect.objects.count() == 0
    assert job_run(job_id=job.pk) == "skipped"


def test_it_fails_at_once_on_a_permanent_error_and_keeps_the_report(db: Any) -> None:
    job = _submit("bad-file", fail="permanent")
    assert job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.FAILED, 1)
    assert job.error == "演练：数据有误"
    assert job.result == {"rows": [{"row": 537, "reason": "演练"}]}
    assert DrillEffect.objects.count() == 0


def test_it_wakes_a_queued_job_whose_enqueue_was_lost(
    db: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = _submit("lost-wakeup")  # committed, but the process died before enqueueing
    assert "补发唤醒 0 个" in _reaper()
    clock.shift(LEASE + dt.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert "补发唤醒 1 个" in _reaper()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert DrillEffect.objects.filter(job=job).count() == 1


@override_settings(TASKS=DB_TASKS)
def test_it_recovers_a_job_whose_worker_died_holding_the_task_row(transactional_db: Any) -> None:
    """django-tasks-db alone: the killed worker's task row stays RUNNING for ever."""
    with time_machine.travel(T0, tick=False) as clock:
        job = _submit("task-row")
        task = DBTaskResult.objects.get()
        clock.shift(LEASE + dt.timedelta(seconds=1))
        assert "补发唤醒 0 个" in _reaper()  # still READY: a worker will take it

        task.claim("killed-worker")  # what db_worker does before running the task…
        clock.shift(LEASE + dt.timedelta(seconds=1))  # …and then nothing: SIGKILL
        assert "补发唤醒 1 个" in _reaper()
        assert DBTaskResult.objects.filter(status="READY").count() == 1
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--interval", "0", "--no-reload", verbosity=0
        )
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert DrillEffect.objects.filter(job=job).count() == 1
    task.refresh_from_db()
    assert task.status == "RUNNING"  # django-tasks-db's own row is never recovered


# --- a live job is never taken over, even past its lease (PostgreSQL row lock) ---------------

_started = threading.Event()
_release = threading.Event()


@job_handler("tests.slow")
def _slow(job: Job, context: JobContext) -> dict[str, Any]:
    DrillEffect.objects.create(job=job, attempt=job.attempts)
    _started.set()
    assert _release.wait(30)
    return {}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test)")
@override_settings(TASKS=DB_TASKS)
def test_it_never_runs_a_live_job_twice_even_past_its_lease(transactional_db: Any) -> None:
    _started.clear()
    _release.clear()
    job = job_submit(kind="tests.slow", payload={}, idempotency_key="slow", user=None)
    outcome: list[str] = []

    def worker() -> None:
        try:
            outcome.append(job_run(job_id=job.pk))
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert _started.wait(30)
        with time_machine.travel(timezone.now() + LEASE * 2, tick=False):
            assert "重新排队 0 个" in _reaper()  # the locked row is skipped
            assert job_run(job_id=job.pk) == "skipped"
    finally:
        _release.set()
        thread.join(30)
    assert outcome == ["succeeded"]
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 1)
    assert DrillEffect.objects.filter(job=job).count() == 1


# --- non-transactional handlers: at least once, with a heartbeat and fencing ------------------

_outside_calls: list[int] = []
_stall: list[Any] = []  # the clock the stalling handler moves, stopped by its test


@job_handler("tests.outside", transactional=False)
def _outside(job: Job, context: JobContext) -> dict[str, Any]:
    _outside_calls.append(job.attempts)
    context.progress(1, 2)  # commits and renews the lease
    if job.payload.get("taken_over") and job.attempts == 1:
        # This worker stalls past its lease; the reaper hands the job to another attempt.
        traveller = time_machine.travel(timezone.now() + LEASE * 2, tick=False)
        traveller.start()
        _stall.append(traveller)
        _reaper()
        assert job_claim(job_id=job.pk) is not None
    context.progress(2, 2)  # a stalled attempt finds out here, and stops
    return {"calls": len(_outside_calls)}


def test_it_renews_the_lease_of_a_non_transactional_handler(db: Any, clock: Any) -> None:
    _outside_calls.clear()
    job = job_submit(kind="tests.outside", payload={}, idempotency_key="outside", user=None)
    assert job_run(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert (job.progress_current, job.progress_total) == (2, 2)
    assert job.result == {"calls": 1}


def test_it_stops_an_attempt_whose_job_was_taken_over(db: Any) -> None:
    _outside_calls.clear()
    job = job_submit(kind="tests.outside", payload={"taken_over": True}, idempotency_key="stall", user=None)
    try:
        assert job_run(job_id=job.pk) == "lost"
    finally:
        while _stall:
            _stall.pop().stop()
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.RUNNING, 2)  # owned by the second attempt
    assert job.result is None
    assert job.progress_current == 1  # the stalled attempt wrote nothing after losing the job
