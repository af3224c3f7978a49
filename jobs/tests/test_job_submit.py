"""RE-4: job_submit enqueues after commit only, and the same idempotency key gives one Job."""

from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django_tasks.signals import task_enqueued
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from jobs.handlers import UnknownJobKindError, job_handler
from jobs.models import DrillEffect, Job, JobState
from jobs.services import job_submit

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@job_handler("tests.other")
def _other(job: Job, context: Any) -> None:
    return None


def _run_worker() -> None:
    """What `manage.py db_worker` does in production, until the queue is empty."""
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", "--no-reload", verbosity=0)


def test_it_runs_the_job_once_the_submitting_transaction_commits(
    db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    user = User.objects.create_user(username="importer", password="x")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = job_submit(kind="jobs.drill", payload={}, idempotency_key="upload-1", user=user)
        assert DrillEffect.objects.count() == 0  # nothing runs before the commit
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert job.attempts == 1
    assert job.created_by == user
    assert job.lease_until is None and job.finished_at is not None
    assert (job.progress_current, job.progress_total) == (2, 2)
    effect = DrillEffect.objects.get(job=job)
    assert job.result == {"effect": effect.pk}


@override_settings(TASKS=DB_TASKS)
def test_it_enqueues_nothing_when_the_request_rolls_back(transactional_db: Any) -> None:
    enqueued: list[Any] = []

    def count(sender: Any, task_result: Any, **kwargs: Any) -> None:
        enqueued.append(task_result)

    task_enqueued.connect(count)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            job_submit(kind="jobs.drill", payload={}, idempotency_key="rolled-back", user=None)
            assert enqueued == []  # not even inside the transaction
            raise RuntimeError("请求失败")
    finally:
        task_enqueued.disconnect(count)
    assert enqueued == []
    assert Job.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    _run_worker()
    assert DrillEffect.objects.count() == 0

    job = job_submit(kind="jobs.drill", payload={}, idempotency_key="committed", user=None)
    task = DBTaskResult.objects.get()
    assert task.task_path == "jobs.tasks.run_job"
    assert task.args_kwargs == {"args": [str(job.pk)], "kwargs": {}}
    job.refresh_from_db()
    assert job.task_id == str(task.pk)
    _run_worker()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert DrillEffect.objects.filter(job=job).count() == 1


@override_settings(TASKS=DB_TASKS)
def test_it_returns_the_same_job_for_the_same_idempotency_key(transactional_db: Any) -> None:
    first = job_submit(kind="jobs.drill", payload={"file": "a.xlsx"}, idempotency_key="same", user=None)
    again = job_submit(kind="jobs.drill", payload={"file": "a.xlsx"}, idempotency_key="same", user=None)
    assert again.pk == first.pk
    assert Job.objects.count() == 1
    assert DBTaskResult.objects.count() == 1  # the second submit enqueued nothing
    _run_worker()
    after = job_submit(kind="jobs.drill", payload={"file": "a.xlsx"}, idempotency_key="same", user=None)
    assert after.pk == first.pk and after.state == JobState.SUCCEEDED
    assert DBTaskResult.objects.count() == 1
    assert DrillEffect.objects.count() == 1


def test_it_refuses_an_unknown_kind(db: Any) -> None:
    with pytest.raises(UnknownJobKindError):
        job_submit(kind="imports.nothing", payload={}, idempotency_key="x", user=None)
    assert Job.objects.count() == 0


def test_it_refuses_a_key_already_used_for_another_kind(db: Any) -> None:
    job_submit(kind="jobs.drill", payload={}, idempotency_key="shared", user=None)
    with pytest.raises(ValueError, match="幂等键已用于另一类任务"):
        job_submit(kind="tests.other", payload={}, idempotency_key="shared", user=None)
    assert Job.objects.count() == 1
