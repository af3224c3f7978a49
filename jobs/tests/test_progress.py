"""A transactional job's progress is visible while its transaction is still open (issue 6:
the import's progress bar), on SQLite and on PostgreSQL, and is cleaned up when it ends."""

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from jobs import progress
from jobs.handlers import job_handler
from jobs.models import Job, JobProgress, JobState
from jobs.services import JobContext, job_progress, job_run, job_submit

SEEN: dict[str, Any] = {}


@job_handler("tests.progress")
def _steps(job: Job, context: JobContext) -> dict[str, Any]:
    context.progress(3, 10)
    # What a polling page would read now, from inside the open transaction's point of view
    # the row still says 0: the side channel says 3.
    job.state = JobState.RUNNING
    SEEN["published"] = progress.read(job.pk)
    SEEN["combined"] = job_progress(job)
    context.progress(10, 10)
    return {}


def test_it_publishes_progress_beside_the_transaction_and_discards_it_at_the_end(db: Any) -> None:
    job = job_submit(kind="tests.progress", payload={}, idempotency_key="progress-1", user=None)
    assert job_run(job_id=job.pk) == "succeeded"
    assert SEEN["published"] == (3, 10)
    assert SEEN["combined"] == (3, 10)
    job.refresh_from_db()
    assert job_progress(job) == (10, 10)
    assert progress.read(job.pk) is None  # discarded once the job ended


def test_a_running_job_reports_the_published_figures(db: Any) -> None:
    job = job_submit(kind="tests.progress", payload={}, idempotency_key="progress-2", user=None)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, lease_until=timezone.now())
    job.refresh_from_db()
    progress.publish(job.pk, 40, 100, force=True)
    assert job_progress(job) == (40, 100)
    progress.discard(job.pk)
    assert job_progress(job) == (0, None)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_another_connection_sees_the_progress_while_the_writer_holds_its_transaction(
    transactional_db: Any,
) -> None:
    """The side connection commits on its own: a second thread (another web process) reads it
    while the job's transaction, holding the row lock on the Job, is still open."""
    job = job_submit(kind="tests.progress", payload={}, idempotency_key="progress-3", user=None)
    from django.db import transaction

    seen: list[Any] = []

    def poll() -> None:
        try:
            seen.append(JobProgress.objects.filter(job_id=job.pk).values_list("current", flat=True).first())
        finally:
            connection.close()

    with transaction.atomic():
        Job.objects.select_for_update().filter(pk=job.pk).first()
        progress.publish(job.pk, 7, 9, force=True)
        reader = threading.Thread(target=poll)
        reader.start()
        reader.join(timeout=10)
    assert seen == [7]
    progress.discard(job.pk)
    progress.close()


@job_handler("tests.progress_crash")
def _crash_then_succeed(job: Job, context: JobContext) -> dict[str, Any]:
    context.progress(1, 2)
    if job.attempts == 1:
        raise RuntimeError("第一次失败")
    context.progress(2, 2)
    return {}


def test_a_retried_job_publishes_again_after_its_failed_attempt(db: Any) -> None:
    """The failed attempt's progress is discarded beside the transaction too: the retry's
    publish must not wait for a row lock held by the test's (or a worker's) open transaction."""
    job = job_submit(kind="tests.progress_crash", payload={}, idempotency_key="progress-4", user=None)
    assert job_run(job_id=job.pk) == "retry"
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now())
    assert job_run(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job_progress(job) == (2, 2)
