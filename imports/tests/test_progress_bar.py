"""The commit's progress bar moves while the commit's transaction is still open: the page reads
what the job publishes beside its transaction (jobs.progress), not only the job's row."""

import datetime as dt
from typing import Any

from django.utils import timezone

from imports.tests import helpers as h
from jobs import progress
from jobs.models import Job, JobState
from testing.world import World


def test_the_batch_page_shows_the_running_commits_published_progress(world: World, login: Any) -> None:
    client = login("county_admin")
    batch = h.previewed(client, h.ledger(h.rows(3)))
    assert client.post(f"/imports/{batch.id}/commit/").status_code == 302
    batch.refresh_from_db()
    # The worker has claimed the job and is 40 rows into its (open) transaction.
    Job.objects.filter(pk=batch.commit_job_id).update(
        state=JobState.RUNNING, attempts=1, lease_until=timezone.now() + dt.timedelta(minutes=5)
    )
    progress.publish(batch.commit_job_id, 40, 100, force=True)
    try:
        body = client.get(f"/imports/{batch.id}/", HTTP_HX_REQUEST="true").content.decode()
    finally:
        progress.discard(batch.commit_job_id)
    assert 'value="40"' in body and "已处理 40 / 100 行" in body and 'hx-trigger="every 1s"' in body
