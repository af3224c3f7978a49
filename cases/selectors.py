"""Scoped reads of the cases app: the case list, a child's cases, follow-ups due for "my work",
and the one timeline of a report (issue 5 item 9).

Lists start from cases/access.py. The timeline functions take a report or case the caller has
already fetched through the access layer.
"""

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet

from accounts.models import SEPARATED_ROLES, Role, RoleGrant, User
from audit.services import scrub
from cases.access import cases_managed_by, cases_readable_by
from cases.models import (
    EDITABLE_STATES,
    OPEN_MEASURE_STATES,
    Assessment,
    Case,
    CaseState,
    CaseTransition,
    FollowUp,
    Measure,
    MeasureStatus,
)
from interventions.selectors import timeline_events as intervention_events
from registry.access import active_grants, children_editable_by
from registry.models import Child
from reports.access import reports_readable_by
from reports.models import Report, ReportMember
from reports.selectors import timeline_events as report_events
from reports.timeline import TimelineEvent

STAGE = "assessment"


def case_list(user: User, *, on: dt.date, closed: bool = False) -> QuerySet[Case]:
    """The cases this user manages (county admin, named supervisor): open ones, or the closed
    ones, with the number of overdue measures and follow-ups on `on`."""
    states = [CaseState.CLOSED] if closed else [s for s in CaseState.values if s != CaseState.CLOSED]
    overdue_measures = Q(measures__status__in=OPEN_MEASURE_STATES, measures__due_on__lt=on)
    overdue_follow_ups = Q(follow_ups__done_on__isnull=True, follow_ups__due_on__lt=on)
    return (
        cases_managed_by(user)
        .filter(state__in=states)
        .select_related("report", "report__child", "township")
        .annotate(
            overdue_measures=Count("measures", filter=overdue_measures, distinct=True),
            overdue_follow_ups=Count("follow_ups", filter=overdue_follow_ups, distinct=True),
        )
        .order_by("-opened_at", "pk")
    )


def cases_for_child(user: User, child: Child) -> QuerySet[Case]:
    """The child's cases this user may read (for the child's file), newest first."""
    return (
        cases_readable_by(user)
        .filter(report__child=child)
        .select_related("report", "report__child", "township")
        .order_by("-opened_at")
    )


def follow_ups_due(user: User, *, on: dt.date, within_days: int = 7) -> QuerySet[FollowUp]:
    """Follow-ups assigned to this user, not yet recorded, due by `on` + `within_days`, on cases
    still being worked (not closing or closed), while the user may still do them. Each row has
    `overdue` (due before `on`). For the "my work" tile."""
    may_do = Q(case__report_id__in=reports_readable_by(user).values("pk")) | Q(
        case__report__child_id__in=children_editable_by(user).values("pk")
    )
    return (
        FollowUp.objects.filter(
            may_do,
            assigned_to=user,
            done_on__isnull=True,
            due_on__lte=on + dt.timedelta(days=within_days),
            case__state__in=EDITABLE_STATES,
        )
        .select_related("case__report__child", "case__township")
        .annotate(overdue=ExpressionWrapper(Q(due_on__lt=on), output_field=BooleanField()))
        .order_by("due_on", "scheduled_at")
    )


def latest_assessment(case: Case) -> Assessment | None:
    return case.assessments.select_related("recorded_by").order_by("-assessed_on", "-recorded_at").first()


def measures_of(case: Case) -> QuerySet[Measure]:
    return case.measures.select_related("unit", "assigned_by", "responded_by").order_by(
        "due_on", "assigned_at"
    )


def follow_ups_of(case: Case) -> QuerySet[FollowUp]:
    return case.follow_ups.select_related("assigned_to", "done_by").order_by("due_on", "scheduled_at")


def is_overdue(measure: Measure, on: dt.date) -> bool:
    return measure.status in OPEN_MEASURE_STATES and measure.due_on < on


def assignee_candidates(case: Case) -> list[User]:
    """Who may be given a follow-up: the people named on the report, the county admins of its
    county, and the child directors (village workers) of the child's village."""
    report = case.report
    named = ReportMember.objects.filter(report=report, active=True).values("user_id")
    county = report.county_id
    admins = RoleGrant.objects.filter(role=Role.COUNTY_ADMIN, active=True).filter(
        Q(region_id=county) | Q(region__isnull=True, unit__region_id=county)
    )
    scope = Q(pk__in=named) | Q(pk__in=admins.values("user_id"))
    child = report.child
    if child is not None:
        village = child.village_id
        workers = RoleGrant.objects.filter(role=Role.VILLAGE_WORKER, active=True).filter(
            Q(region_id=village) | Q(region__isnull=True, unit__region_id=village)
        )
        scope |= Q(pk__in=workers.values("user_id"))
    return list(User.objects.filter(scope, is_active=True).order_by("username"))


def assigner_unit(user: User) -> str:
    """The unit a measure's assigner works for (their first data-role grant), for the
    referral page."""
    names = [g.unit.name for g in active_grants(user) if g.role not in SEPARATED_ROLES]
    return names[0] if names else ""


# --- the timeline ----------------------------------------------------------------------------


def _who(user: User | None, unit: str = "") -> str:
    name = str(user) if user is not None else ""
    return f"{name}（{unit}）" if name and unit else name or unit


def _reason(text: str) -> str:
    flat = " ".join(text.split())
    return str(scrub(flat))[:120]


def _transition_events(case: Case) -> Iterable[TimelineEvent]:
    rows = CaseTransition.objects.filter(case=case).select_related("by")
    for row in rows:
        detail = f"理由：{_reason(row.reason)}" if row.reason else ""
        yield TimelineEvent(
            at=row.at, stage=STAGE, label=row.get_kind_display(), who=_who(row.by), detail=detail
        )


def _assessment_events(case: Case) -> Iterable[TimelineEvent]:
    for row in case.assessments.select_related("recorded_by"):
        yield TimelineEvent(
            at=row.recorded_at,
            stage=STAGE,
            label=f"评估（{row.assessed_on:%Y-%m-%d}）：综合风险{row.get_risk_display()}",
            who=_who(row.recorded_by),
            detail=f"参与：{row.participant_labels}",
        )


def _measure_events(case: Case) -> Iterable[TimelineEvent]:
    rows = case.measures.select_related("unit", "assigned_by", "responded_by", "completed_by", "cancelled_by")
    for m in rows:
        kind, unit = m.get_kind_display(), m.unit.name
        label = f"{'转介' if m.is_referral else '安排'}帮扶措施：{kind}"
        detail = f"责任单位：{unit}，完成期限 {m.due_on:%Y-%m-%d}"
        yield TimelineEvent(
            at=m.assigned_at, stage=STAGE, label=label, who=_who(m.assigned_by), detail=detail
        )
        if m.responded_at and m.status == MeasureStatus.DECLINED:
            yield TimelineEvent(
                at=m.responded_at,
                stage=STAGE,
                label=f"未承接转介：{kind}",
                who=_who(m.responded_by, unit),
                detail=f"原因：{_reason(m.decline_reason)}",
            )
        elif m.responded_at:
            yield TimelineEvent(
                at=m.responded_at, stage=STAGE, label=f"承接转介：{kind}", who=_who(m.responded_by, unit)
            )
        if m.completed_at:
            yield TimelineEvent(
                at=m.completed_at, stage=STAGE, label=f"完成帮扶措施：{kind}", who=_who(m.completed_by)
            )
        if m.cancelled_at:
            yield TimelineEvent(
                at=m.cancelled_at,
                stage=STAGE,
                label=f"撤销帮扶措施：{kind}",
                who=_who(m.cancelled_by),
                detail=f"原因：{_reason(m.cancel_reason)}",
            )


def _follow_up_events(case: Case) -> Iterable[TimelineEvent]:
    for f in case.follow_ups.select_related("assigned_to", "scheduled_by", "done_by"):
        yield TimelineEvent(
            at=f.scheduled_at,
            stage=STAGE,
            label="安排回访",
            who=_who(f.scheduled_by),
            detail=f"回访人：{_who(f.assigned_to)}，期限 {f.due_on:%Y-%m-%d}",
        )
        if f.done_at and f.done_on:
            yield TimelineEvent(
                at=f.done_at, stage=STAGE, label=f"完成回访（{f.done_on:%Y-%m-%d}）", who=_who(f.done_by)
            )


def case_events(case: Case) -> list[TimelineEvent]:
    """The case's own events: opened, assessments, measures (assigned, answered, done,
    cancelled), follow-ups (scheduled, done), close requested / approved / rejected, reopened."""
    return [
        *_transition_events(case),
        *_assessment_events(case),
        *_measure_events(case),
        *_follow_up_events(case),
    ]


def case_timeline(report: Report) -> list[TimelineEvent]:
    """The whole chain of one report as one timeline, oldest first: the report and the police
    response (reports.selectors), the case (here) and any guardianship intervention
    (interventions.selectors). The caller fetched the report through the access layer."""
    events = list(report_events(report))
    case = Case.objects.filter(report=report).first()
    if case is not None:
        events.extend(case_events(case))
    events.extend(intervention_events(report))
    return sorted(events, key=lambda event: event.at)


def child_cases_context(user: User, child: Child) -> list[dict[str, Any]]:
    """For the child file page (item 9): each case of the child this user may read, with the
    whole chain's timeline. The caller logs the read of each case (audit object_type "case")."""
    return [{"case": case, "events": case_timeline(case.report)} for case in cases_for_child(user, child)]
