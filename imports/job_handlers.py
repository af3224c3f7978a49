"""The import jobs (docs/operations.md §6.3): the preview outside a transaction, with progress
heartbeats; the commit inside the job's transaction, all or nothing."""

from typing import Any

from imports import services
from jobs.handlers import job_handler
from jobs.models import Job
from jobs.services import JobContext


@job_handler(services.PREVIEW_KIND, transactional=False, lease_seconds=600)
def preview(job: Job, context: JobContext) -> dict[str, Any]:
    return services.preview_run(job, context)


@job_handler(services.COMMIT_KIND, lease_seconds=1800)
def commit(job: Job, context: JobContext) -> dict[str, Any]:
    return services.commit_run(job, context)
