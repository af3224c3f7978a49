"""Overdue (逾期): open after the deadline day, computed on the day; the county's list and
counts; the nightly notice to the county admins, once per task and date and per deadline."""

import datetime as dt
from typing import Any

import pytest

from audit.models import AuditEvent
from notify.models import Notification
from tasks.models import Task, TaskOverdueNotice, TaskParticipant, TaskState
from tasks.selectors import overdue_days, task_counts, tasks_overdue
from tasks.services import tasks_overdue_notify
from tasks.tests.conftest import TODAY, OtherCounty, Units
from testing.world import World


def _task(world: World, units: Units, title: str, deadline: dt.date, **extra: Any) -> Task:
    """A task row as it stands after time has passed (the service refuses past deadlines)."""
    task = Task.objects.create(
        county=extra.pop("county", world.county),
        title=title,
        lead_unit=extra.pop("lead_unit", units.township),
        deadline=deadline,
        **extra,
    )
    TaskParticipant.objects.create(task=task, unit=units.station)
    return task


@pytest.fixture
def dated(world: World, units: Units) -> dict[str, Task]:
    now = dt.datetime(2028, 2, 20, tzinfo=dt.UTC)
    return {
        "yesterday": _task(world, units, "昨天到期", TODAY - dt.timedelta(days=1)),
        "today": _task(world, units, "今天到期", TODAY),
        "tomorrow": _task(world, units, "明天到期", TODAY + dt.timedelta(days=1)),
        "done_late": _task(
            world, units, "早已完成", TODAY - dt.timedelta(days=5), state=TaskState.DONE, completed_at=now
        ),
        "cancelled": _task(
            world, units, "已撤销", TODAY - dt.timedelta(days=5), state=TaskState.CANCELLED, cancelled_at=now
        ),
    }


def _titles(tasks: Any) -> set[str]:
    return {task.title for task in tasks}


def test_overdue_starts_the_day_after_the_deadline(dated: dict[str, Task]) -> None:
    every = Task.objects.all()
    assert _titles(tasks_overdue(every, on=TODAY)) == {"昨天到期"}
    assert _titles(tasks_overdue(every, on=TODAY + dt.timedelta(days=1))) == {"昨天到期", "今天到期"}
    assert _titles(tasks_overdue(every, on=TODAY - dt.timedelta(days=1))) == set()
    assert overdue_days(dated["yesterday"], on=TODAY) == 1
    assert overdue_days(dated["today"], on=TODAY) == 0
    assert overdue_days(dated["done_late"], on=TODAY) == 0
    counts = task_counts(every, on=TODAY)
    assert (counts["overdue"], counts["open"], counts["done"], counts["cancelled"], counts["all"]) == (
        1,
        3,
        1,
        1,
        5,
    )


def test_the_county_filters_overdue_tasks(dated: dict[str, Task], login: Any) -> None:
    client = login("county_admin")
    page = client.get("/tasks/?state=overdue")
    body = page.content.decode()
    assert "昨天到期" in body and "逾期 1 天" in body
    assert "今天到期" not in body and "早已完成" not in body
    assert {key: count for key, _label, count in page.context["tabs"]} == {
        "overdue": 1,
        "open": 3,
        "proposed": 0,
        "done": 1,
        "cancelled": 1,
        "all": 5,
    }
    opened = client.get("/tasks/").content.decode()  # the default: in progress
    assert "今天到期" in opened and "明天到期" in opened and "早已完成" not in opened
    finished = client.get("/tasks/?state=done").content.decode()
    assert "早已完成" in finished and "昨天到期" not in finished
    # A unit sees the overdue tasks it leads or joins, with the same filter.
    police = login("police").get("/tasks/?state=overdue").content.decode()
    assert "昨天到期" in police


def test_the_detail_page_says_how_late_a_task_is(dated: dict[str, Task], login: Any, clock: Any) -> None:
    client = login("county_admin")
    assert "逾期 1 天" in client.get(f"/tasks/{dated['yesterday'].pk}/").content.decode()
    assert "逾期" not in client.get(f"/tasks/{dated['today'].pk}/").content.decode()


def test_the_nightly_notice_tells_the_county_admins_once(
    world: World, units: Units, dated: dict[str, Task], other_county: OtherCounty
) -> None:
    elsewhere = _task(
        world,
        units,
        "海城区逾期任务",
        TODAY - dt.timedelta(days=3),
        county=other_county.county,
        lead_unit=other_county.unit,
    )
    report = tasks_overdue_notify(on=TODAY)
    assert report == {"overdue": 2, "notified": 2, "already": 0, "messages": 2}
    told = Notification.objects.filter(kind="tasks.overdue")
    assert {(n.recipient.username, n.link) for n in told} == {
        ("county_admin", f"/tasks/{dated['yesterday'].pk}/"),
        ("other_admin", f"/tasks/{elsewhere.pk}/"),
    }
    mine = told.get(recipient=world.users["county_admin"])
    assert mine.title == "督办任务逾期：昨天到期" and "已逾期 1 天" in mine.body
    assert AuditEvent.objects.filter(
        object_id=str(dated["yesterday"].pk), detail__change="task_overdue_notified"
    ).exists()

    # Again the same night, and the nights after: nothing new for the same deadline.
    assert tasks_overdue_notify(on=TODAY)["notified"] == 0
    later = tasks_overdue_notify(on=TODAY + dt.timedelta(days=1))
    assert later == {"overdue": 3, "notified": 1, "already": 2, "messages": 1}  # 今天到期 is late now
    assert Notification.objects.filter(kind="tasks.overdue").count() == 3


def test_a_new_deadline_that_passes_is_told_again(world: World, units: Units, dated: dict[str, Task]) -> None:
    task = dated["yesterday"]
    tasks_overdue_notify(on=TODAY)
    Task.objects.filter(pk=task.pk).update(deadline=TODAY + dt.timedelta(days=2))
    tasks_overdue_notify(on=TODAY + dt.timedelta(days=2))
    assert TaskOverdueNotice.objects.filter(task=task).count() == 1  # due that day, not late yet
    tasks_overdue_notify(on=TODAY + dt.timedelta(days=3))
    notices = TaskOverdueNotice.objects.filter(task=task).order_by("on")
    assert [(n.on, n.deadline, n.recipients) for n in notices] == [
        (TODAY, TODAY - dt.timedelta(days=1), 1),
        (TODAY + dt.timedelta(days=3), TODAY + dt.timedelta(days=2), 1),
    ]


def test_closed_tasks_are_never_told(world: World, units: Units, dated: dict[str, Task]) -> None:
    tasks_overdue_notify(on=TODAY + dt.timedelta(days=30))
    told = set(TaskOverdueNotice.objects.values_list("task__title", flat=True))
    assert told == {"昨天到期", "今天到期", "明天到期"}
