"""Scoped reads of the schooling app. Every list starts from schooling/access.py."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from registry.models import Child
from schooling.access import cases_visible_to, hukou_children, hukou_generatable
from schooling.models import FAILED_OUTCOMES, OPEN_STATES, DropoutCase, HukouTask
from schooling.services import hukou_candidates


def cases_listed(user: User, *, closed: bool = False) -> QuerySet[DropoutCase]:
    """The open cases in the user's scope, longest out of school first; or the closed ones,
    most recently closed first. Each with its attempt counts (one query)."""
    cases = cases_visible_to(user).select_related("child__village", "child__township", "school")
    cases = cases.annotate(
        attempt_count=Count("attempts"),
        failed_count=Count("attempts", filter=Q(attempts__outcome__in=FAILED_OUTCOMES)),
    )
    if closed:
        return cases.exclude(state__in=OPEN_STATES).order_by("-closed_at")
    return cases.filter(state__in=OPEN_STATES).order_by("first_missed_on", "created_at")


def open_case_of(child: Child) -> DropoutCase | None:
    return DropoutCase.objects.filter(child=child, state__in=OPEN_STATES).first()


@dataclass(frozen=True)
class HukouRow:
    child: Child
    task: HukouTask | None
    overdue_days: int


def hukou_children_listed(user: User) -> QuerySet[Child]:
    """Active children without hukou in the user's scope (R23), by township and village."""
    children = hukou_candidates(hukou_children(user)).select_related("village", "township")
    return children.order_by("township__code", "village__code", "file_no")


def hukou_rows(children: list[Child], *, on: dt.date | None = None) -> list[HukouRow]:
    """Each listed child with its open task, and how many days that task is overdue."""
    on = on or timezone.localdate()
    tasks = {
        task.child_id: task
        for task in HukouTask.objects.filter(
            child__in=[child.pk for child in children], registered_on__isnull=True
        ).select_related("police_unit")
    }
    rows = []
    for child in children:
        task = tasks.get(child.pk)
        overdue = (on - task.due_on).days if task is not None and task.due_on < on else 0
        rows.append(HukouRow(child=child, task=task, overdue_days=overdue))
    return rows


def hukou_without_task(user: User) -> int:
    """How many children the user could generate a task for now."""
    open_tasks = HukouTask.objects.filter(registered_on__isnull=True).values("child_id")
    return hukou_candidates(hukou_generatable(user)).exclude(pk__in=open_tasks).count()


def hukou_recently_done(user: User, *, limit: int = 20) -> QuerySet[HukouTask]:
    done = HukouTask.objects.filter(
        registered_on__isnull=False, child__in=hukou_children(user).values("pk")
    ).select_related("child__village", "child__township", "police_unit", "registered_by")
    return done.order_by("-registered_on", "-created_at")[:limit]
