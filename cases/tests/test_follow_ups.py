"""Follow-ups (回访): scheduled by the case's workers for someone who may do them, listed for
"my work" (overdue marked), recorded on their own page."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cases.models import CaseState, FollowUp
from cases.selectors import follow_ups_due
from cases.tests.conftest import TODAY
from cases.tests.helpers import fresh, make_case, make_follow_up
from notify.models import Notification
from testing.world import World


def _due(days: int) -> str:
    return (TODAY + dt.timedelta(days=days)).isoformat()


def test_a_follow_up_for_the_child_director_shows_in_their_work(world: World, login: Any, clock: Any) -> None:
    case = make_case(world, "a1")
    client = login("township_supervisor")
    form = client.get(f"/cases/{case.pk}/follow-ups/new/").context["form"]
    offered = {user.username for user in form.fields["assigned_to"].queryset}
    assert offered == {"township_supervisor", "county_admin", "village_worker"}
    response = client.post(
        f"/cases/{case.pk}/follow-ups/new/",
        {"due_on": _due(5), "assigned_to": str(world.users["village_worker"].pk)},
    )
    assert response.status_code == 302
    item = FollowUp.objects.get(case=case)
    assert (item.assigned_to, item.scheduled_by) == (
        world.users["village_worker"],
        world.users["township_supervisor"],
    )
    notice = Notification.objects.get(kind="case_follow_up")
    assert (
        notice.recipient == world.users["village_worker"] and notice.link == f"/cases/follow-ups/{item.pk}/"
    )

    worker = world.users["village_worker"]
    due = list(follow_ups_due(worker, on=timezone.localdate()))
    assert [(f.pk, f.overdue) for f in due] == [(item.pk, False)]
    assert list(follow_ups_due(worker, on=timezone.localdate(), within_days=2)) == []
    assert list(follow_ups_due(world.users["social_worker"], on=timezone.localdate())) == []
    clock.shift(dt.timedelta(days=7))
    assert [(f.pk, f.overdue) for f in follow_ups_due(worker, on=timezone.localdate())] == [(item.pk, True)]


def test_the_child_director_records_the_visit_without_reading_the_case(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    item = make_follow_up(world, case, to="village_worker")
    client = login("village_worker")
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    page = client.get(f"/cases/follow-ups/{item.pk}/")
    assert page.status_code == 200 and "张三" in page.content.decode()
    assert "心理" not in page.content.decode() and "风险" not in page.content.decode()
    response = client.post(
        f"/cases/follow-ups/{item.pk}/", {"done_on": TODAY.isoformat(), "note": "祖母已能照料，孩子按时上学"}
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/follow-ups/{item.pk}/"
    item.refresh_from_db()
    assert (item.done_on, item.done_by, item.note) == (
        TODAY,
        world.users["village_worker"],
        "祖母已能照料，孩子按时上学",
    )
    assert fresh(case).version == 2
    assert list(follow_ups_due(world.users["village_worker"], on=TODAY)) == []
    again = client.post(f"/cases/follow-ups/{item.pk}/", {"done_on": TODAY.isoformat(), "note": "再记一次"})
    assert "这次回访已经记录过了。" in again.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"done_on": "2028-03-02", "note": "好"}, "回访日期不能晚于今天。"),
        ({"done_on": "2028-02-20", "note": "好"}, "回访日期不能早于立案日期。"),
        ({"done_on": "2028-03-01", "note": " "}, "请填写回访情况。"),
    ],
)
def test_it_refuses_a_bad_record(world: World, login: Any, data: dict[str, str], message: str) -> None:
    item = make_follow_up(world, make_case(world, "a1"), to="township_supervisor")
    response = login("township_supervisor").post(f"/cases/follow-ups/{item.pk}/", data)
    assert response.status_code == 200 and message in response.content.decode()
    item.refresh_from_db()
    assert item.done_on is None


def test_the_named_social_worker_schedules_follow_ups(world: World, login: Any) -> None:
    case = make_case(world, "a1", social_worker=True)
    client = login("social_worker")
    response = client.post(
        f"/cases/{case.pk}/follow-ups/new/",
        {"due_on": _due(3), "assigned_to": str(world.users["social_worker"].pk)},
    )
    assert response.status_code == 302
    assert FollowUp.objects.get(case=case).assigned_to == world.users["social_worker"]
    assert not Notification.objects.filter(kind="case_follow_up").exists()  # not to oneself


def test_it_refuses_an_assignee_who_may_not_do_it_and_a_past_date(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    client = login("county_admin")
    school = client.post(
        f"/cases/{case.pk}/follow-ups/new/",
        {"due_on": _due(3), "assigned_to": str(world.users["school_staff"].pk)},
    )
    assert "请选择有效的回访人。" in school.content.decode()
    past = client.post(
        f"/cases/{case.pk}/follow-ups/new/",
        {"due_on": _due(-1), "assigned_to": str(world.users["county_admin"].pk)},
    )
    assert "回访期限不能早于今天。" in past.content.decode()
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("persona", ["police", "village_worker", "social_worker"])
def test_others_may_not_schedule_or_record(world: World, login: Any, persona: str) -> None:
    case = make_case(world, "a1")  # nobody but the supervisor and county admins work on it
    item = make_follow_up(world, case, to="township_supervisor")
    client = login(persona)
    schedule = client.post(
        f"/cases/{case.pk}/follow-ups/new/", {"due_on": _due(3), "assigned_to": str(world.users[persona].pk)}
    )
    record = client.post(f"/cases/follow-ups/{item.pk}/", {"done_on": TODAY.isoformat(), "note": "好"})
    assert schedule.status_code == record.status_code == 404
    item.refresh_from_db()
    assert FollowUp.objects.count() == 1 and item.done_on is None


def test_a_closing_case_takes_no_follow_up_and_leaves_my_work(world: World, login: Any) -> None:
    case = make_case(world, "a1", state=CaseState.CLOSING)
    item = make_follow_up(world, case, to="township_supervisor")
    client = login("township_supervisor")
    refused = client.post(f"/cases/follow-ups/{item.pk}/", {"done_on": TODAY.isoformat(), "note": "好"})
    assert "个案待审批结案，不能再记录回访。" in refused.content.decode()
    scheduled = client.post(
        f"/cases/{case.pk}/follow-ups/new/",
        {"due_on": _due(3), "assigned_to": str(world.users["township_supervisor"].pk)},
    )
    assert "个案正在等待结案审批，不能修改。" in scheduled.content.decode()
    assert list(follow_ups_due(world.users["township_supervisor"], on=TODAY)) == []
    item.refresh_from_db()
    assert item.done_on is None and FollowUp.objects.count() == 1
