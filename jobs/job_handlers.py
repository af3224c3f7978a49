"""Handlers of the jobs app itself: `jobs.drill`, the effect the kill drill counts.

bench/job_kill_drill.py submits drill jobs and SIGKILLs the worker while they run; the
tests use the same handler. It writes nothing but its DrillEffect row, so its presence in
production is harmless (jobs are submitted only by code, never by a URL).
"""

import random
import time
from typing import Any

from jobs.handlers import PermanentJobError, job_handler
from jobs.models import DrillEffect, Job
from jobs.services import JobContext


@job_handler("jobs.drill")
def drill(job: Job, context: JobContext) -> dict[str, Any]:
    """Insert one DrillEffect, then sleep a few ms mid-transaction (payload sleep_ms: [lo, hi])
    so that a kill can land between the effect and the commit. payload fail: "always" raises
    (retried), "permanent" raises PermanentJobError."""
    effect = DrillEffect.objects.create(job=job, attempt=job.attempts)
    context.progress(1, 2)
    low, high = job.payload.get("sleep_ms", [0, 0])
    if high:
        time.sleep(random.uniform(low, high) / 1000)  # noqa: S311 - timing jitter, not security
    fail = job.payload.get("fail")
    if fail == "always":
        raise RuntimeError("演练：处理失败")
    if fail == "permanent":
        raise PermanentJobError("演练：数据有误", result={"rows": [{"row": 537, "reason": "演练"}]})
    context.progress(2, 2)
    return {"effect": effect.pk}
