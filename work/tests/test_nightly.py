"""The nightly job (work.nightly) and its scheduler: one job per date however often and on
however many hosts the scheduler asks; nothing before SHOUHU_NIGHTLY_AT; a second run on
the same date changes nothing; the county admin's page shows the runs and can run it now."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from jobs.models import Job, JobState
from registry import choices as c
from registry.models import Parent
from testing.world import World, make_child
from work.models import LifeEventProposal, ReminderDigest
from work.scheduler import KIND
from work.services import nightly_run
from work.tests.helpers import today, turning_16_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_it_submits_one_job_per_date_after_the_set_time(settings) -> None:
    settings.SHOUHU_NIGHTLY_AT = "02:00"
    day = dt.date(2026, 3, 1)
    with time_machine.travel(_at(day, 1, 59), tick=False):
        call_command("run_schedule", "--once", verbosity=0)
    assert Job.objects.filter(kind=KIND).count() == 0
    with time_machine.travel(_at(day, 2, 0), tick=False):
        call_command("run_schedule", "--once", verbosity=0)
        call_command("run_schedule", "--once", verbosity=0)  # another host, or a second tick
    with time_machine.travel(_at(day, 23, 59), tick=False):
        call_command("run_schedule", verbosity=0)
    jobs = list(Job.objects.filter(kind=KIND))
    assert [(job.idempotency_key, job.payload) for job in jobs] == [
        ("work.nightly:2026-03-01", {"on": "2026-03-01"})
    ]
    with time_machine.travel(_at(day + dt.timedelta(days=1), 2, 30), tick=False):
        call_command("run_schedule", "--once", verbosity=0)
    assert Job.objects.filter(kind=KIND).count() == 2


@pytest.mark.django_db
def test_it_refuses_a_malformed_time(settings) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.SHOUHU_NIGHTLY_AT = "2 Uhr"
    with pytest.raises(ImproperlyConfigured):
        call_command("run_schedule", "--once", verbosity=0)
    with pytest.raises(CommandError):
        call_command("run_schedule", "--once", "--every", "5", verbosity=0)


@pytest.fixture
def busy(world: World) -> None:
    """Something for every step: a 16-year-old, parents back home, an overdue visit."""
    admin = world.users["county_admin"]
    make_child(world.village_a1, admin, name="满十六", birth_date=turning_16_in(-3))
    returned = make_child(world.village_a1, admin, name="父母返乡")
    Parent.objects.filter(child=returned).update(status=c.ParentStatus.AT_HOME)


def _changes(result: dict[str, object]) -> list[int]:
    """What a run wrote: proposals made, files recomputed, digests sent."""
    out = list(result["proposals"].values())  # type: ignore[union-attr]
    if "care" in result:
        out.append(result["care"]["changed"])  # type: ignore[index]
    if "agreements" in result:
        out += [result["agreements"]["changed"], result["agreements"]["expired"]]  # type: ignore[index]
    if "digests" in result:
        out.append(result["digests"]["sent"])  # type: ignore[index]
    return out


def test_it_changes_nothing_the_second_time(world: World, busy: None) -> None:
    first = nightly_run(on=today())
    assert first["proposals"] == {"aged_out": 1, "aged_18": 0, "parents_returned": 1}
    second = nightly_run(on=today())
    assert _changes(second) == [0] * len(_changes(second))
    assert LifeEventProposal.objects.count() == 2
    if apps.is_installed("notify"):
        assert first["digests"]["sent"] == 1  # the village director of 甲一村
        assert ReminderDigest.objects.filter(user=world.users["village_worker"]).count() == 1
        from notify.models import Notification

        note = Notification.objects.get(recipient=world.users["village_worker"], kind="work.digest")
        assert "待确认退出建议 2 条" in note.body


def test_it_runs_as_a_job_and_records_its_result(
    world: World, busy: None, django_capture_on_commit_callbacks
) -> None:
    from jobs.services import job_submit

    with django_capture_on_commit_callbacks(execute=True):
        job = job_submit(kind=KIND, payload={"on": today().isoformat()}, idempotency_key="t", user=None)
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["proposals"] == {"aged_out": 1, "aged_18": 0, "parents_returned": 1}
    assert job.result["tasks_overdue"] == {"overdue": 0, "notified": 0, "already": 0, "messages": 0}
    assert job.progress_current == job.progress_total == 7000  # seven steps of 1000


def test_it_fails_a_job_without_a_date(world: World, django_capture_on_commit_callbacks) -> None:
    from jobs.services import job_submit

    with django_capture_on_commit_callbacks(execute=True):
        job = job_submit(kind=KIND, payload={}, idempotency_key="t", user=None)
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert "日期" in job.error


def test_the_county_admin_runs_it_now_and_sees_the_result(
    world: World, login, busy: None, django_capture_on_commit_callbacks
) -> None:
    client = login("county_admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/work/nightly/")
    assert response.status_code == 302
    job = Job.objects.get(kind=KIND)
    assert job.state == JobState.SUCCEEDED
    assert job.created_by == world.users["county_admin"]
    body = client.get("/work/nightly/").content.decode()
    assert "年满16周岁 1 条" in body and "父母返乡 1 条" in body


def test_run_now_waits_for_a_job_in_progress(world: World, login) -> None:
    client = login("county_admin")
    client.post("/work/nightly/")  # queued: its wake-up call comes after commit, never in this test
    client.post("/work/nightly/")
    assert Job.objects.filter(kind=KIND).count() == 1


@pytest.mark.parametrize("persona", ["township_supervisor", "village_worker", "county_officer", "auditor"])
def test_it_refuses_everyone_but_county_admins(world: World, login, persona: str) -> None:
    client: Client = login(persona)
    assert client.get("/work/nightly/").status_code == 403
    assert client.post("/work/nightly/").status_code == 403
    assert not Job.objects.filter(kind=KIND).exists()
