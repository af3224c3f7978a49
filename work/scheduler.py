"""When the nightly job runs: `manage.py run_schedule` submits work.nightly for the day once
the local time has passed SHOUHU_NIGHTLY_AT. The idempotency key `work.nightly:<date>` makes
one job per date however many schedulers (hosts) ask; a county admin's "run now" is a
separate job with its own key, and runs only when no nightly job is queued or running.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts.models import User
from jobs.models import Job, JobState
from jobs.services import job_submit

KIND = "work.nightly"
MAX_ATTEMPTS = 3


def nightly_at() -> dt.time:
    raw = settings.SHOUHU_NIGHTLY_AT
    try:
        return dt.time.fromisoformat(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SHOUHU_NIGHTLY_AT 应为 HH:MM 格式的时间，得到 {raw!r}") from exc


def nightly_key(on: dt.date) -> str:
    return f"{KIND}:{on.isoformat()}"


def nightly_submit_due(*, now: dt.datetime | None = None) -> Job | None:
    """The day's nightly job, submitted if the time has come; None before SHOUHU_NIGHTLY_AT."""
    local = timezone.localtime(now)
    if local.time() < nightly_at():
        return None
    on = local.date()
    return job_submit(
        kind=KIND,
        payload={"on": on.isoformat()},
        idempotency_key=nightly_key(on),
        user=None,
        max_attempts=MAX_ATTEMPTS,
    )


def nightly_active() -> Job | None:
    return Job.objects.filter(kind=KIND, state__in=[JobState.QUEUED, JobState.RUNNING]).first()


def nightly_run_now(*, user: User) -> tuple[Job, bool]:
    """(job, submitted): a new run for today, or the nightly job already queued or running."""
    active = nightly_active()
    if active is not None:
        return active, False
    on = timezone.localdate()
    job = job_submit(
        kind=KIND,
        payload={"on": on.isoformat()},
        idempotency_key=f"{nightly_key(on)}:manual:{uuid.uuid4()}",
        user=user,
        max_attempts=MAX_ATTEMPTS,
    )
    return job, True


def nightly_runs(limit: int = 20) -> list[Job]:
    return list(Job.objects.filter(kind=KIND).select_related("created_by").order_by("-created_at")[:limit])
