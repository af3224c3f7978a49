"""Submitting, running and recovering jobs (RE-3, RE-4).

States: queued → running → succeeded | failed; running → queued again on a retry.

- job_submit creates the Job and enqueues its django-task in transaction.on_commit: a
  rolled-back request enqueues nothing, and the same idempotency key gives the same Job.
- job_run claims the job in a short committed transaction (state queued, or running with an
  expired lease; attempts < max_attempts), so a worker that dies still uses up an attempt
  and a job that kills its worker cannot loop for ever. It then runs the handler; for a
  transactional handler, inside one transaction that first locks the job row and ends by
  marking it succeeded, so the effect and the mark commit together (exactly once).
- jobs_requeue_stale (the reaper) requeues running jobs whose lease expired (their worker
  died: the database rolled its transaction back), fails them once max_attempts is spent,
  and re-enqueues queued jobs whose wake-up call was lost. Rows locked by a live run are
  skipped (SKIP LOCKED), so a slow handler is never run twice on PostgreSQL.

What django-tasks-db does on its own (read in django_tasks_db 0.13, db_worker.py and
models.py): the worker marks the task row RUNNING in a transaction that commits before the
task starts, and keeps no lease, heartbeat or retry; a worker killed mid-task leaves the row
RUNNING for ever and the task never runs again. Hence the lease and the reaper here.
"""

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from jobs.handlers import JobHandler, PermanentJobError, UnknownJobKindError, handler_for
from jobs.models import Job, JobState

logger = logging.getLogger(__name__)

REAPER_BATCH = 500
ERROR_MAX_CHARS = 4000
RETRY_DELAYS = (5, 30, 120)  # seconds before attempt 2, 3, 4…, when the backend can defer


class LeaseLostError(Exception):
    """Another attempt owns the job now; this one must not write its result."""


@dataclass
class JobContext:
    job: Job
    handler: JobHandler

    def progress(self, current: int, total: int | None = None) -> None:
        """Record progress. A transactional handler's progress could only become visible at
        its commit, so it is kept in memory and saved with the success mark (no UPDATE per
        row). A non-transactional handler's progress commits now and renews the lease (a
        heartbeat); LeaseLostError tells it another attempt has taken over."""
        self.job.progress_current = current
        if total is not None:
            self.job.progress_total = total
        if self.handler.transactional:
            # Saved with the success mark; meanwhile published beside the transaction.
            from jobs import progress

            progress.publish(self.job.pk, current, self.job.progress_total, force=current == total)
            return
        now = timezone.now()
        fields: dict[str, Any] = {"progress_current": current, "updated_at": now}
        if total is not None:
            fields["progress_total"] = total
        if not _owned(self.job).update(lease_until=now + _lease(self.handler), **fields):
            raise LeaseLostError(str(self.job.pk))


@dataclass
class RequeueReport:
    requeued: int = 0
    failed: int = 0
    reenqueued: int = 0


def _lease(handler: JobHandler | None = None) -> dt.timedelta:
    if handler is not None and handler.lease_seconds:
        return dt.timedelta(seconds=handler.lease_seconds)
    return dt.timedelta(seconds=settings.SHOUHU_JOB_LEASE_SECONDS)


def _owned(job: Job) -> Any:
    """The job's row, if this attempt still owns it (compare-and-set on state and attempts)."""
    return Job.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts)


def _enqueue_on_commit(job_id: uuid.UUID, *, delay: int = 0) -> None:
    # robust: if the enqueue fails after the commit, the caller still succeeds (its Job is
    # committed) and the reaper enqueues the job later.
    transaction.on_commit(lambda: _enqueue(job_id, delay), robust=True)


def _enqueue(job_id: uuid.UUID, delay: int) -> None:
    from jobs.tasks import run_job

    task = run_job
    if delay and task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + dt.timedelta(seconds=delay))
    result = task.enqueue(str(job_id))
    Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(task_id=str(result.id))


# --- submit ----------------------------------------------------------------------------------


@transaction.atomic
def job_submit(
    *,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str,
    user: User | None,
    max_attempts: int = 3,
) -> Job:
    """The job for this idempotency key: created and enqueued (after commit) the first time,
    returned as it is on every later call with the same key."""
    handler_for(kind)  # an unknown kind is refused before anything is written
    existing = Job.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        job = Job(
            kind=kind,
            payload=payload,
            idempotency_key=idempotency_key,
            created_by=user,
            max_attempts=max_attempts,
            enqueued_at=timezone.now(),
        )
        job.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                job.save(force_insert=True)
        except IntegrityError:
            existing = Job.objects.get(idempotency_key=idempotency_key)  # a concurrent submit won
        else:
            _enqueue_on_commit(job.pk)
            return job
    if existing.kind != kind:
        raise ValueError(f"幂等键已用于另一类任务（{existing.kind}）")
    return existing


# --- run -------------------------------------------------------------------------------------


def job_claim(*, job_id: uuid.UUID | str) -> Job | None:
    """Take the job for one attempt, or None when it is not runnable now (done, owned by a
    live attempt, or out of attempts). Commits before the handler runs: see the module doc."""
    now = timezone.now()
    state = Job.objects.filter(pk=job_id).values_list("state", flat=True).first()
    if state not in (JobState.QUEUED, JobState.RUNNING):
        return None
    # A queued row is only ever locked for a moment (an enqueue noting its task id, the
    # reaper's re-send): wait for it, or this wake-up call would be wasted. A running row
    # may be locked by a live attempt for as long as its handler runs: skip it.
    locking = Job.objects.select_for_update(skip_locked=state == JobState.RUNNING)
    with transaction.atomic():
        job = (
            locking.filter(pk=job_id, attempts__lt=F("max_attempts"))
            .filter(Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING, lease_until__lt=now))
            .first()
        )
        if job is None:
            return None
        try:
            lease = _lease(handler_for(job.kind))
        except UnknownJobKindError:
            lease = _lease()
        claimed = Job.objects.filter(pk=job.pk, state=job.state, attempts=job.attempts).update(
            state=JobState.RUNNING,
            attempts=F("attempts") + 1,
            lease_until=now + lease,
            started_at=now,
            updated_at=now,
        )
        if not claimed:
            return None
    job.refresh_from_db()
    return job


def job_run(*, job_id: uuid.UUID | str) -> str:
    """Run one attempt of the job; returns what happened: succeeded, failed, retry, skipped
    or lost (another attempt took over)."""
    job = job_claim(job_id=job_id)
    if job is None:
        return "skipped"
    try:
        handler = handler_for(job.kind)
        if handler.transactional:
            _run_in_transaction(job, handler)
        else:
            _run_outside_transaction(job, handler)
    except LeaseLostError:
        logger.warning("job %s attempt %s lost its lease", job.pk, job.attempts)
        return "lost"
    except (PermanentJobError, UnknownJobKindError) as exc:
        message = exc.message if isinstance(exc, PermanentJobError) else str(exc)
        result = exc.result if isinstance(exc, PermanentJobError) else None
        return _record_failure(job, message, result=result, retry=False)
    except Exception as exc:
        # Exception text only, no traceback: tracebacks can quote values (DP-5).
        logger.warning("job %s attempt %s raised %s", job.pk, job.attempts, type(exc).__name__)
        return _record_failure(job, f"{type(exc).__name__}: {exc}", result=None, retry=True)
    return "succeeded"


def _run_in_transaction(job: Job, handler: JobHandler) -> None:
    from jobs import progress

    try:
        with transaction.atomic():
            # The row lock is held until commit: a second attempt (or the reaper) cannot take
            # the job while this one may still commit its effect.
            locked = _owned(job).select_for_update().first()
            if locked is None:
                raise LeaseLostError(str(job.pk))
            result = handler.func(locked, JobContext(locked, handler))
            _mark_succeeded(locked, result)
    finally:
        progress.discard(job.pk)
        progress.close()  # one side connection per attempt, never left open


def job_progress(job: Job) -> tuple[int, int | None]:
    """(current, total) for a progress bar: the job row's figures, or, while a transactional
    attempt runs, what it published beside its transaction (jobs.progress)."""
    current, total = job.progress_current, job.progress_total
    if job.state == JobState.RUNNING:
        from jobs import progress

        published = progress.read(job.pk)
        if published is not None and published[0] >= current:
            current, total = published[0], published[1] if published[1] is not None else total
    return current, total


def _run_outside_transaction(job: Job, handler: JobHandler) -> None:
    result = handler.func(job, JobContext(job, handler))
    with transaction.atomic():
        _mark_succeeded(job, result)


def _mark_succeeded(job: Job, result: dict[str, Any] | None) -> None:
    now = timezone.now()
    done = _owned(job).update(
        state=JobState.SUCCEEDED,
        result=result,
        error="",
        lease_until=None,
        finished_at=now,
        updated_at=now,
        progress_current=job.progress_current,
        progress_total=job.progress_total,
    )
    if not done:
        raise LeaseLostError(str(job.pk))


def _record_failure(job: Job, message: str, *, result: dict[str, Any] | None, retry: bool) -> str:
    now = timezone.now()
    retry = retry and job.attempts < job.max_attempts
    delay = RETRY_DELAYS[min(job.attempts, len(RETRY_DELAYS)) - 1]
    fields: dict[str, Any] = {"error": message[:ERROR_MAX_CHARS], "lease_until": None, "updated_at": now}
    if retry:
        fields.update(state=JobState.QUEUED, enqueued_at=now + dt.timedelta(seconds=delay), task_id="")
    else:
        fields.update(state=JobState.FAILED, finished_at=now, result=result)
    with transaction.atomic():
        if not _owned(job).update(**fields):
            return "lost"
        if retry:
            _enqueue_on_commit(job.pk, delay=delay)
    return "retry" if retry else "failed"


# --- recover ---------------------------------------------------------------------------------


@transaction.atomic
def jobs_requeue_stale() -> RequeueReport:
    """The reaper: recover jobs whose worker died and jobs whose wake-up call was lost.
    Safe to run at any time, from several hosts at once."""
    now = timezone.now()
    report = RequeueReport()
    expired = (
        Job.objects.select_for_update(skip_locked=True)
        .filter(state=JobState.RUNNING, lease_until__lt=now)
        .order_by("lease_until")[:REAPER_BATCH]
    )
    for job in expired:
        if job.attempts < job.max_attempts:
            _requeue_expired(job, now)
            report.requeued += 1
        else:
            _fail_expired(job, now)
            report.failed += 1
    # Not locked: a worker may be claiming one of these right now, and a claim must not
    # find the row taken by the reaper. The update below re-checks what was read.
    stale_queue = Job.objects.filter(state=JobState.QUEUED, enqueued_at__lt=now - _lease())
    waiting = list(stale_queue.order_by("enqueued_at")[:REAPER_BATCH])
    for job in _without_live_task(waiting, now):
        resent = Job.objects.filter(pk=job.pk, state=JobState.QUEUED, task_id=job.task_id).update(
            enqueued_at=now, task_id="", updated_at=now
        )
        if resent:
            _enqueue_on_commit(job.pk)
            report.reenqueued += 1
    return report


def _requeue_expired(job: Job, now: dt.datetime) -> None:
    Job.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts).update(
        state=JobState.QUEUED,
        lease_until=None,
        enqueued_at=now,
        task_id="",
        error=f"第 {job.attempts} 次尝试中断：工作进程未在租约到期前完成",
        updated_at=now,
    )
    _enqueue_on_commit(job.pk)


def _fail_expired(job: Job, now: dt.datetime) -> None:
    Job.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts).update(
        state=JobState.FAILED,
        lease_until=None,
        finished_at=now,
        error=f"工作进程中断，已尝试 {job.attempts} 次（上限 {job.max_attempts} 次），不再重试",
        updated_at=now,
    )


def _without_live_task(jobs: list[Job], now: dt.datetime) -> list[Job]:
    """Queued jobs that no pending django-task will run: the enqueue after commit never
    happened, or the worker died after taking the task but before claiming the job (the
    task row then stays RUNNING for ever). Tasks still waiting (READY) are left alone."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from jobs.tasks import run_job

    if not jobs or not isinstance(run_job.get_backend(), DatabaseBackend):
        return jobs  # no way to ask; a duplicate wake-up call is harmless (claims are conditional)
    ids = [job.task_id for job in jobs if job.task_id]
    tasks = {str(t.id): t for t in DBTaskResult.objects.filter(id__in=ids)}
    dead_before = now - _lease()

    def orphaned(task: "DBTaskResult[Any, Any] | None") -> bool:
        if task is None or task.status in ("SUCCESSFUL", "FAILED"):
            return True
        return task.status == "RUNNING" and (task.started_at is None or task.started_at < dead_before)

    return [job for job in jobs if orphaned(tasks.get(job.task_id))]
