"""The nightly job `work.nightly` (issue 4): life-event proposals, recomputation of colours,
due dates and agreements, and the reminder digests (work.services.nightly_run).

Not transactional: each step commits batch by batch, so a night's recomputation of a
million files never holds row locks for minutes; every step is idempotent by its own means
(one open proposal per child and kind, writes only of what changed, one digest per worker
and date), so a retried or repeated run changes nothing more. Progress renews the lease.
"""

import datetime as dt
from typing import Any

from jobs.handlers import PermanentJobError, job_handler
from jobs.models import Job
from jobs.services import JobContext
from work.scheduler import KIND
from work.services import nightly_run

LEASE_SECONDS = 30 * 60  # a step may report no progress for a while (one big statement)


@job_handler(KIND, transactional=False, lease_seconds=LEASE_SECONDS)
def nightly(job: Job, context: JobContext) -> dict[str, Any]:
    try:
        on = dt.date.fromisoformat(job.payload["on"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentJobError("任务参数缺少有效日期（on）") from exc
    return nightly_run(on=on, progress=context.progress)
