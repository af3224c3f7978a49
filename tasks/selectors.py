"""Reads of supervised tasks. Lists and counts start from tasks.access.tasks_visible_to."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from geo.models import Unit
from tasks.models import Task, TaskProgress, TaskState, TaskTemplate

# The list's filters, in the order of the tabs: slug → label.
FILTERS = {
    "overdue": "逾期",
    "open": "进行中",
    "proposed": "待确认完成",
    "done": "已完成",
    "cancelled": "已撤销",
    "all": "全部",
}


def overdue_q(on: dt.date) -> Q:
    """Overdue (逾期) on `on`: still open and the deadline has passed (the deadline day itself
    is not overdue)."""
    return Q(state=TaskState.OPEN, deadline__lt=on)


def tasks_overdue(tasks: QuerySet[Task], *, on: dt.date) -> QuerySet[Task]:
    return tasks.filter(overdue_q(on))


def filter_q(slug: str, *, on: dt.date) -> Q:
    """The list filter's condition; an unknown slug shows the open tasks."""
    if slug == "overdue":
        return overdue_q(on)
    if slug == "proposed":
        return Q(state=TaskState.OPEN, done_proposed_at__isnull=False)
    if slug in (TaskState.DONE, TaskState.CANCELLED):
        return Q(state=slug)
    if slug == "all":
        return Q()
    return Q(state=TaskState.OPEN)


def task_counts(tasks: QuerySet[Task], *, on: dt.date) -> dict[str, int]:
    """One aggregate query: how many tasks under each filter."""
    counts: dict[str, int] = tasks.aggregate(
        **{slug: Count("pk", filter=filter_q(slug, on=on)) for slug in FILTERS}
    )
    return counts


def task_list(tasks: QuerySet[Task], slug: str, *, on: dt.date) -> QuerySet[Task]:
    """The rows of the list: the lead unit and the last report come with them (no N+1)."""
    rows = tasks.filter(filter_q(slug, on=on)).select_related("lead_unit")
    rows = rows.annotate(last_reported_at=Max("progress__reported_at"))
    if slug in (TaskState.DONE, TaskState.CANCELLED, "all"):
        return rows.order_by("-deadline", "-created_at")
    return rows.order_by("deadline", "created_at")


def overdue_days(task: Task, *, on: dt.date) -> int:
    if task.state != TaskState.OPEN or task.deadline >= on:
        return 0
    return (on - task.deadline).days


def progress_of(task: Task) -> QuerySet[TaskProgress]:
    """The task's progress timeline, newest first; the caller fetched the task through access."""
    return TaskProgress.objects.filter(task=task).select_related("unit", "reported_by")


@dataclass(frozen=True)
class UnitStatus:
    unit: Unit
    is_lead: bool
    last: TaskProgress | None


def unit_statuses(task: Task, progress: list[TaskProgress]) -> list[UnitStatus]:
    """Per unit of the task, its latest report (督办: who has not reported yet)."""
    latest: dict[Any, TaskProgress] = {}
    for item in progress:  # newest first
        latest.setdefault(item.unit_id, item)
    units = [task.lead_unit, *task.participants.order_by("kind", "region__code", "name")]
    return [UnitStatus(unit, unit.id == task.lead_unit_id, latest.get(unit.id)) for unit in units]


def templates_active() -> QuerySet[TaskTemplate]:
    return TaskTemplate.objects.filter(active=True)
