"""Jobs of the care app (discovered by jobs.apps): the recompute after a policy change."""

from typing import Any

from django.utils import timezone

from care.services import RECOMPUTE_COUNTY, care_recompute_all
from geo.models import Region
from jobs.handlers import PermanentJobError, job_handler
from jobs.models import Job
from jobs.services import JobContext


@job_handler(RECOMPUTE_COUNTY, transactional=False)
def recompute_county(job: Job, context: JobContext) -> dict[str, Any]:
    """Every child of the county with the policy as saved now. Not one transaction: each
    batch commits (its progress and lease renewal too), and a re-run after a crash finds the
    rows already done unchanged, so running it twice is harmless (idempotent)."""
    county = Region.objects.filter(pk=job.payload.get("county")).first()
    if county is None:
        raise PermanentJobError("未找到该县（市、区）")
    return care_recompute_all(on=timezone.localdate(), county=county, progress=context.progress)
