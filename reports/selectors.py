"""Reads of the reports app. Every list starts from reports/access.py; functions that take a
report expect one the caller fetched through access_report."""

import datetime as dt
import statistics
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import ASSIGNED_ROLES, REGION_ROLES, Role, User
from geo.models import Region, RegionLevel
from registry.access import active_grants, children_visible_to
from registry.models import Child
from registry.selectors import LedgerFilters, ledger
from reports.access import reports_readable_by
from reports.models import Report, ReportState
from reports.timeline import TimelineEvent

SEARCH_LIMIT = 20

# --- the child search of the filing form -----------------------------------------------------


def children_to_report(user: User, term: str) -> list[Child]:
    """Files matching a name, pinyin or ID tail among those the user may see (the ledger's
    search), the first SEARCH_LIMIT by name."""
    if not term.strip():
        return []
    found = ledger(children_visible_to(user), LedgerFilters(q=term, status=""))
    return list(found.select_related("village", "township").order_by("name", "id")[:SEARCH_LIMIT])


def townships_for_filing(user: User) -> QuerySet[Region]:
    """Current townships of the counties the user works in (an unknown child's township)."""
    codes = sorted({region.code[:6] for region in _grant_regions(user) if len(region.code) >= 6})
    if not codes:
        return Region.objects.none()
    within = reduce(or_, (Q(code__startswith=code) for code in codes))
    return Region.objects.filter(within, level=RegionLevel.TOWNSHIP, valid_to__isnull=True).order_by("code")


def default_township(user: User) -> Region | None:
    """The township of the user's first grant region at township level or below."""
    for region in _grant_regions(user):
        if len(region.code) >= 9:
            return Region.objects.filter(code=region.code[:9], valid_to__isnull=True).first()
    return None


def _grant_regions(user: User) -> list[Region]:
    regions = []
    for grant in active_grants(user):
        if grant.role in REGION_ROLES:
            regions.append(grant.scope_region)
        elif grant.role in ASSIGNED_ROLES or grant.role in (
            Role.SCHOOL_STAFF,
            Role.POLICE,
            Role.REPORTER,
            Role.PROVIDER_STAFF,
        ):
            regions.append(grant.unit.region)
    return regions


def policy_counties(user: User) -> list[Region]:
    """The counties whose escalation settings the user reads (those of the user's data roles)."""
    codes = sorted({region.code[:6] for region in _grant_regions(user) if len(region.code) >= 6})
    return list(Region.objects.filter(code__in=codes, level=RegionLevel.COUNTY, valid_to__isnull=True))


# --- lists -----------------------------------------------------------------------------------


def inbox(reports: QuerySet[Report]) -> QuerySet[Report]:
    """Unacknowledged first (escalated before the rest), then the newest."""
    waiting = Case(
        When(state=ReportState.ROUTED, escalation_level__gt=0, then=Value(0)),
        When(state=ReportState.ROUTED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        reports.select_related("child", "township", "routed_unit")
        .annotate(waiting=waiting)
        .order_by("waiting", "-reported_at")
    )


def reports_for_child(user: User, child: Child) -> QuerySet[Report]:
    """The reports on this child the user may read (for the child's file page)."""
    return (
        reports_readable_by(user).filter(child=child).select_related("routed_unit").order_by("-reported_at")
    )


# --- response times --------------------------------------------------------------------------

INTERVALS = (
    ("found_reported", "发现→报告", "found_at", "reported_at"),
    ("reported_acknowledged", "报告→受理", "reported_at", "acknowledged_at"),
    ("acknowledged_attended", "受理→到场", "acknowledged_at", "attended_at"),
)


@dataclass(frozen=True)
class Interval:
    code: str
    label: str
    minutes: float | None  # None while the later step has not happened

    @property
    def text(self) -> str:
        return "—" if self.minutes is None else _minutes_text(self.minutes)


def _minutes_text(minutes: float) -> str:
    whole = round(minutes)
    if whole < 60:
        return f"{whole} 分钟"
    hours, rest = divmod(whole, 60)
    return f"{hours} 小时 {rest} 分钟" if rest else f"{hours} 小时"


def _between(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60


def response_times(report: Report) -> list[Interval]:
    """found → reported → acknowledged → attended, in minutes."""
    return [
        Interval(code, label, _between(getattr(report, start), getattr(report, end)))
        for code, label, start, end in INTERVALS
    ]


@dataclass(frozen=True)
class Summary:
    count: int
    medians: list[Interval]


def response_time_summary(reports: QuerySet[Report]) -> Summary:
    """How many reports, and the median of each interval over those that reached its end."""
    rows = list(reports.values_list("found_at", "reported_at", "acknowledged_at", "attended_at"))
    medians = []
    for index, (code, label, _start, _end) in enumerate(INTERVALS):
        values = [m for row in rows if (m := _between(row[index], row[index + 1])) is not None]
        medians.append(Interval(code, label, statistics.median(values) if values else None))
    return Summary(count=len(rows), medians=medians)


# --- the timeline ----------------------------------------------------------------------------


def _who(user: User | None, unit: str = "") -> str:
    name = str(user) if user else ""
    return "，".join(part for part in (name, unit) if part)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def timeline_events(report: Report) -> list[TimelineEvent]:
    """The report's steps, oldest first: filed, each routing, each escalation, acknowledged,
    attended, each response action, each placement (start and end), township notified."""
    events = [
        TimelineEvent(
            report.reported_at,
            "report",
            "提交强制报告",
            _who(report.reporter, report.reporter_unit.name),
            "、".join(trigger.label for trigger in report.trigger_list),
        )
    ]
    for route in report.routings.select_related("unit", "routed_by"):
        label = "改派至" if route.routed_by_id else "送达"
        events.append(
            TimelineEvent(
                route.routed_at, "report", f"{label}{route.unit.name}", _who(route.routed_by), route.reason
            )
        )
    for escalation in report.escalations.all():
        events.append(
            TimelineEvent(
                escalation.escalated_at,
                "report",
                f"超时未受理，第 {escalation.level} 次升级",
                "系统",
                "已通知：" + "、".join(escalation.notified) if escalation.notified else "",
            )
        )
    events.extend(_response_events(report))
    return sorted(events, key=lambda event: event.at)


def _response_events(report: Report) -> list[TimelineEvent]:
    events = []
    if report.acknowledged_at:
        events.append(TimelineEvent(report.acknowledged_at, "response", "受理", _who(report.acknowledged_by)))
    if report.attended_at:
        events.append(TimelineEvent(report.attended_at, "response", "出警到场", _who(report.attended_by)))
    for action in report.actions.select_related("recorded_by"):
        events.append(
            TimelineEvent(
                action.done_at, "response", action.get_kind_display(), _who(action.recorded_by), action.note
            )
        )
    for placement in report.placements.select_related("recorded_by"):
        kind = placement.get_kind_display()
        events.append(
            TimelineEvent(
                _day_start(placement.started_on),
                "response",
                f"临时安置开始（{kind}）",
                _who(placement.recorded_by),
                date_only=True,
            )
        )
        if placement.ended_on:
            events.append(
                TimelineEvent(
                    _day_start(placement.ended_on), "response", f"临时安置结束（{kind}）", date_only=True
                )
            )
    if report.township_notified_at:
        events.append(
            TimelineEvent(
                report.township_notified_at, "response", "通报乡镇", _who(report.township_notified_by)
            )
        )
    return events
