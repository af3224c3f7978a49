"""Who may read and change a case, a referral and a follow-up (the cases app's access layer).

Rules:
- A case is read by exactly the people who read its report (reports.access.reports_readable_by:
  the routed police unit, the county police bureau after an escalation, county civil-affairs
  admins of the report's county, and the people named on the report). Nobody else learns that
  it exists: 404, as for a missing case.
- Managing a case (opening it, assessments, the plan of measures, follow-ups, closing, approving,
  rejecting, reopening) is for the county admins of the report's county and the supervisors
  named on the report (ReportMember kind supervisor, active). A reader who may not manage gets
  404 on the write pages, like the registry's write pages.
- The social worker named on the report (ReportMember kind social_worker, active; named when
  they accept a referral) also schedules and records follow-ups, updates the measures of their
  own unit and may ask for the case to be closed.
- A referral (a measure given to a unit other than the case's own township government or
  county civil affairs) is answered on its own page by the users whose grant unit is the
  measure's unit. The page shows the child's name and the measure only, never the report.
  The 三员 accounts (AC-6) never see referrals, whatever their unit.
- A follow-up is recorded by the case's workers, or by the user it is assigned to while that
  user still reads the case or may edit the child's file (a village child director).

Every refusal leaves a `denied` audit row (LG-1); the views log every read and write.
"""

import uuid
from dataclasses import dataclass
from typing import Literal, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from accounts.models import SEPARATED_ROLES, Role, User
from audit.models import EventType, Outcome
from audit.services import audit_event
from cases.models import OPEN_MEASURE_STATES, Case, FollowUp, Measure
from geo.models import RegionLevel
from registry.access import active_grants, children_editable_by
from reports.access import access_report, reports_readable_by
from reports.models import MemberKind, Report, ReportMember

NOT_FOUND = "未找到该个案"
Need = Literal["read", "manage", "work"]


def _admin_counties(user: User) -> set[uuid.UUID]:
    """Counties whose cases this user manages as county civil affairs (a county-level grant,
    as reports.access counts them)."""
    return {
        g.scope_region.id
        for g in active_grants(user)
        if g.role == Role.COUNTY_ADMIN and g.scope_region.level == RegionLevel.COUNTY
    }


def _member(user: User, report_id: uuid.UUID, kind: str) -> bool:
    return ReportMember.objects.filter(report_id=report_id, user=user, kind=kind, active=True).exists()


def may_manage_report(user: User, report: Report) -> bool:
    return report.county_id in _admin_counties(user) or _member(user, report.pk, MemberKind.SUPERVISOR)


def is_named_social_worker(user: User, case: Case) -> bool:
    return _member(user, case.report_id, MemberKind.SOCIAL_WORKER)


@dataclass(frozen=True)
class CasePerms:
    """What this user may do on this case (the views and templates ask here)."""

    manage: bool
    social_worker: bool

    @property
    def work(self) -> bool:
        return self.manage or self.social_worker


def case_perms(user: User, case: Case) -> CasePerms:
    return CasePerms(
        manage=may_manage_report(user, case.report), social_worker=is_named_social_worker(user, case)
    )


def cases_readable_by(user: User) -> QuerySet[Case]:
    return Case.objects.filter(report_id__in=reports_readable_by(user).values("pk"))


def cases_managed_by(user: User) -> QuerySet[Case]:
    counties = _admin_counties(user)
    named = ReportMember.objects.filter(user=user, kind=MemberKind.SUPERVISOR, active=True)
    scope = Q(report__county_id__in=counties) | Q(report_id__in=named.values("report_id"))
    return cases_readable_by(user).filter(scope)


def _denied(user: User, object_type: str, object_id: object, *, route_kind: str) -> None:
    try:
        clean_id = str(uuid.UUID(str(object_id)))
    except ValueError:
        clean_id = ""
    audit_event(
        user=user if user.is_authenticated else None,
        action=EventType.DENIED,
        outcome=Outcome.DENIED,
        object_type=object_type,
        object_id=clean_id,
        detail={"status": 404, "page": route_kind},
    )


def _not_found(user: User, object_type: str, object_id: object, route_kind: str) -> Http404:
    _denied(user, object_type, object_id, route_kind=route_kind)
    return Http404(NOT_FOUND)


def _with_related(queryset: QuerySet[Case]) -> QuerySet[Case]:
    return queryset.select_related("report", "report__child", "report__county", "township", "child")


def access_case(user: User, case_id: uuid.UUID | str, *, need: Need = "read") -> Case:
    """The case if this user may read it (need="read"), manage it ("manage") or work on it as
    a manager or the named social worker ("work"); else Http404 as if missing."""
    try:
        case = _with_related(cases_readable_by(user)).get(pk=case_id)
    except (Case.DoesNotExist, ValueError, ValidationError) as exc:
        raise _not_found(user, "case", case_id, need) from exc
    perms = case_perms(user, case)
    if (need == "manage" and not perms.manage) or (need == "work" and not perms.work):
        raise _not_found(user, "case", case_id, need)
    return case


def access_report_to_open(user: User, report_id: uuid.UUID | str) -> Report:
    """The report, if this user may open its case (a manager of the report); else Http404."""
    try:
        report = access_report(user, report_id)
    except Http404 as exc:
        raise _not_found(user, "report", report_id, "open") from exc
    if not may_manage_report(user, report):
        raise _not_found(user, "report", report_id, "open")
    return report


def may_update_measure(user: User, measure: Measure) -> bool:
    """Managers update any measure; the named social worker those of their own unit."""
    perms = case_perms(user, measure.case)
    return perms.manage or (perms.social_worker and measure.unit_id in referral_unit_ids(user))


def access_measure(user: User, measure_id: uuid.UUID | str) -> Measure:
    """A measure on the case page, for its manager or its unit's named social worker."""
    readable = Measure.objects.filter(case__in=cases_readable_by(user)).select_related(
        "case__report__child", "case__report", "case", "unit", "assigned_by"
    )
    measure = _first(readable, measure_id)
    if measure is None or not may_update_measure(user, measure):
        raise _not_found(user, "measure", measure_id, "measure")
    return measure


def referral_unit_ids(user: User) -> set[uuid.UUID]:
    """The units whose referrals this user answers (their data-role grants)."""
    return {g.unit_id for g in active_grants(user) if g.role not in SEPARATED_ROLES}


def referrals_for(user: User) -> QuerySet[Measure]:
    """Referrals to this user's units still to be answered or carried out."""
    return (
        Measure.objects.filter(
            is_referral=True, unit_id__in=referral_unit_ids(user), status__in=OPEN_MEASURE_STATES
        )
        .select_related("case__report__child", "case__township", "unit", "assigned_by")
        .order_by("due_on", "assigned_at")
    )


def access_referral(user: User, measure_id: uuid.UUID | str) -> Measure:
    """A referral to one of this user's units (in any status); else Http404 as if missing."""
    referred = Measure.objects.filter(is_referral=True, unit_id__in=referral_unit_ids(user)).select_related(
        "case__report__child", "case__report", "case__township", "case", "unit", "assigned_by"
    )
    measure = _first(referred, measure_id)
    if measure is None:
        raise _not_found(user, "measure", measure_id, "referral")
    return measure


def may_be_assigned(user: User, case: Case) -> bool:
    """Whether `user` may be given (and record) a follow-up of this case: the case's readers,
    or a user who may edit the child's file (the village's child director)."""
    if cases_readable_by(user).filter(pk=case.pk).exists():
        return True
    child_id = case.report.child_id
    return child_id is not None and children_editable_by(user).filter(pk=child_id).exists()


def access_follow_up(user: User, follow_up_id: uuid.UUID | str) -> FollowUp:
    every = FollowUp.objects.select_related("case__report__child", "case__report", "case", "assigned_to")
    follow_up = _first(every, follow_up_id)
    if follow_up is not None:
        case = follow_up.case
        readable = cases_readable_by(user).filter(pk=case.pk).exists()
        if readable and case_perms(user, case).work:
            return follow_up
        if follow_up.assigned_to_id == user.pk and may_be_assigned(user, case):
            return follow_up
    raise _not_found(user, "follow_up", follow_up_id, "follow_up")


_M = TypeVar("_M", bound=Model)


def _first(queryset: QuerySet[_M], object_id: uuid.UUID | str) -> _M | None:
    """The object with this id in `queryset`, or None (also for a malformed id)."""
    try:
        return queryset.filter(pk=object_id).first()
    except (ValueError, ValidationError):
        return None
