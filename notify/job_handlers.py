"""`notify.deliver`: one attempt to send one e-mail or SMS delivery.

Not transactional: sending is an outside effect that no rollback can take back, so each
attempt commits its own bookkeeping (notify.services.delivery_attempt) and the jobs app
only decides when to try again. A failed attempt raises DeliveryFailedError, which the jobs
app retries with its back-off up to the job's max_attempts (the delivery's remaining
attempts); a delivery that cannot succeed (no address) or was given up ends the job at once.
"""

from typing import Any

from jobs.handlers import PermanentJobError, job_handler
from jobs.models import Job
from jobs.services import JobContext
from notify.models import DeliveryState
from notify.services import DELIVER_KIND, DeliveryFailedError, delivery_attempt


@job_handler(DELIVER_KIND, transactional=False, lease_seconds=120)
def deliver(job: Job, context: JobContext) -> dict[str, Any]:
    attempt = delivery_attempt(delivery_id=job.payload["delivery"])
    delivery = attempt.delivery
    if attempt.retry:
        raise DeliveryFailedError(delivery.last_error)
    if delivery.state != DeliveryState.SENT:
        raise PermanentJobError(delivery.last_error or "投递未完成")
    return {"state": delivery.state, "attempts": delivery.attempts}
