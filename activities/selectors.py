"""Scoped reads of the activities app. Activities start from activities/access.py, children
always from registry.access.children_visible_to, cases from cases.access.cases_readable_by."""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from activities.access import activities_visible_to
from activities.models import Activity, Participation
from cases.access import cases_readable_by
from cases.models import Measure, MeasureStatus
from registry import choices as rc
from registry.access import children_visible_to
from registry.models import Child
from registry.selectors import LedgerFilters, ledger
from registry.timeline import Event

# Measures that are services the child receives or received (a referral still waiting for
# the unit's answer, a declined or a cancelled measure is none).
SERVED_MEASURE_STATES = (MeasureStatus.ACCEPTED, MeasureStatus.IN_PROGRESS, MeasureStatus.DONE)
PICK_LIMIT = 50


# --- the list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    kind: str = ""
    township: uuid.UUID | None = None
    village: uuid.UUID | None = None
    provider: uuid.UUID | None = None
    month: str = ""  # "YYYY-MM"
    start: dt.date | None = None  # from (GET "from"), both days included: the care numbers link here
    end: dt.date | None = None  # to (GET "to")


def month_bounds(month: str) -> tuple[dt.date, dt.date] | None:
    """The first and last day of "YYYY-MM", or None when it is not a month."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        return None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def activities_listed(user: User, filters: ListFilters) -> QuerySet[Activity]:
    """The user's activities, newest first, with their expected and attended counts."""
    activities = activities_visible_to(user)
    exact: dict[str, Any] = {
        "kind": filters.kind,
        "township_id": filters.township,
        "village_id": filters.village,
        "provider_id": filters.provider,
    }
    activities = activities.filter(**{name: value for name, value in exact.items() if value})
    bounds = month_bounds(filters.month) if filters.month else None
    if bounds is not None:
        activities = activities.filter(held_on__range=bounds)
    if filters.start:
        activities = activities.filter(held_on__gte=filters.start)
    if filters.end:
        activities = activities.filter(held_on__lte=filters.end)
    activities = activities.select_related("township", "village", "provider", "organiser").annotate(
        expected=Count("participations"),
        attended=Count("participations", filter=Q(participations__attended=True)),
    )
    return activities.order_by("-held_on", "-created_at", "pk")


# --- children of an activity -----------------------------------------------------------------


def expected_rows(user: User, activity: Activity) -> list[Participation]:
    """The expected children this user may see, by village and name (the others are left out:
    a village worker sees the children of their village at a township's activity)."""
    visible = children_visible_to(user).values("pk")
    return list(
        activity.participations.filter(child__in=visible)
        .select_related("child__village", "recorded_by")
        .order_by("child__village__code", "child__name_pinyin", "child__file_no")
    )


def hidden_count(user: User, activity: Activity) -> int:
    """Expected children outside the user's scope (shown as a number only)."""
    visible = children_visible_to(user).values("pk")
    return activity.participations.exclude(child__in=visible).count()


def pickable_children(user: User, activity: Activity) -> QuerySet[Child]:
    """Active children the user may add: those the user sees in the activity's township."""
    listed = activity.participations.values("child_id")
    return (
        children_visible_to(user)
        .filter(status=rc.Status.ACTIVE, township_id=activity.township_id)
        .exclude(pk__in=listed)
    )


def pick_search(
    user: User, activity: Activity, *, q: str = "", village: str = "", key: str = ""
) -> list[Child]:
    """The ledger's search (name, pinyin initials, ID tail…) over the pickable children."""
    children = ledger(pickable_children(user, activity), LedgerFilters(q=q, village=village, key=key))
    return list(children.select_related("village").order_by("village__code", "file_no")[:PICK_LIMIT])


def activity_children(user: User, activity: Activity) -> QuerySet[Child]:
    """The expected children the user may see (for linking an adult to a child)."""
    return children_visible_to(user).filter(pk__in=activity.participations.values("child_id"))


# --- the services a child received (R16) -----------------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    on: dt.date
    source: str  # "activity" or "measure"
    kind: str
    provider: str
    outcome: str
    until: dt.date | None = None
    url: str = ""


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(moment) if moment is not None else None


def _activity_rows(child: Child) -> list[ServiceRow]:
    attended = Participation.objects.filter(child=child, attended=True).select_related(
        "activity__provider", "activity__organiser"
    )
    return [
        ServiceRow(
            on=row.activity.held_on,
            source="activity",
            kind=row.activity.get_kind_display(),
            provider=(row.activity.provider or row.activity.organiser).name,
            outcome=row.outcome or "已参加",
        )
        for row in attended
    ]


def _measure_rows(user: User, child: Child) -> list[ServiceRow]:
    """Measures of the child's cases, only of the cases this user reads: a file reader who
    does not read a case must not learn that it exists."""
    readable = cases_readable_by(user).filter(report__child=child).values("pk")
    measures = Measure.objects.filter(case__in=readable, status__in=SERVED_MEASURE_STATES).select_related(
        "unit"
    )
    rows = []
    for measure in measures:
        started = _local_date(measure.assigned_at) or timezone.localdate()
        rows.append(
            ServiceRow(
                on=started,
                source="measure",
                kind=measure.get_kind_display(),
                provider=measure.unit.name,
                outcome=measure.get_status_display(),
                until=_local_date(measure.completed_at),
            )
        )
    return rows


def child_services(user: User, child: Child) -> list[ServiceRow]:
    """One list, newest first: attended activities and the assistance measures of the cases
    the user reads. The caller has fetched the child through registry.access."""
    rows = _activity_rows(child) + _measure_rows(user, child)
    rows.sort(key=lambda row: (row.until or row.on, row.source, row.kind), reverse=True)
    return rows


def served_child_ids(since: dt.date, until: dt.date) -> QuerySet[Child, Any]:
    """Children who received a service in [since, until]: an attended activity held then, or
    an accepted, ongoing or done measure of a case on the child assigned or completed then.
    A values("pk") queryset, for `id__in` (the "no service" section of work)."""
    attended = Participation.objects.filter(attended=True, activity__held_on__range=(since, until))
    window = Q(assigned_at__date__range=(since, until)) | Q(completed_at__date__range=(since, until))
    measures = Measure.objects.filter(window, status__in=SERVED_MEASURE_STATES)
    return Child.objects.filter(
        Q(pk__in=attended.values("child_id")) | Q(pk__in=measures.values("case__report__child_id"))
    ).values("pk")


# --- the child's timeline --------------------------------------------------------------------


def participation_events(child: Child) -> list[Event]:
    """Each participation with attendance taken, as a timeline event ("关爱活动")."""
    rows = Participation.objects.filter(child=child, attended__isnull=False).select_related(
        "activity", "recorded_by"
    )
    return [
        Event(
            at=row.recorded_at or timezone.now(),
            user=str(row.recorded_by) if row.recorded_by else "系统",
            section="关爱活动",
            kind="参加" if row.attended else "缺席",
            reason=f"{row.activity.held_on:%Y-%m-%d} {row.activity.get_kind_display()}：{row.activity.title}",
        )
        for row in rows
    ]
