"""The django-tasks entry points. They carry only a job id: the Job row is the truth."""

from typing import Any

from django_tasks import task

from jobs.services import job_run, jobs_requeue_stale


@task()
def run_job(job_id: str) -> str:
    return job_run(job_id=job_id)


@task()
def requeue_stale_jobs() -> dict[str, Any]:
    report = jobs_requeue_stale()
    return {"requeued": report.requeued, "failed": report.failed, "reenqueued": report.reenqueued}
