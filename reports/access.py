"""Who reads a mandatory report and the case that follows it (SECURITY.md AC-5).

A report carries a 安全标记: its details and the reporter's identity are read only by
- the police unit it is routed to now (a re-routing removes the previous unit at once),
- the county police bureau once the report has escalated (it must then act on it),
- county civil affairs (county admins whose scope covers the report's county),
- the people named on it (ReportMember: supervisors and the assigned social worker).
Everybody else gets 404, as for a missing report; the reporter sees the status and the feedback
only (access_report_status). These rules are not the child file's scope: a village worker who may
edit the file does not read the report unless named on it.

Every read of a report or its case is logged by the view (audit_event with action VIEW);
every refusal here writes a denial row (LG-1).

Acting on a report needs more than reading it (access_report's `scope`): the police of the
unit it is routed to (and the county bureau once escalated) acknowledge, attend and record the
response; county admins name members and link an unknown child to a file, with the named
supervisors; county admins and the county bureau re-route; the police and county admins give
the reporter feedback. Each of these sets lies inside the readers.
"""

import uuid
from collections.abc import Callable
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, RoleGrant, User
from geo.models import Region, RegionLevel, Unit, UnitKind
from registry.access import active_grants
from reports.models import MemberKind, Report, ReportMember

NOT_FOUND = "未找到该报告"


def _county_ids(user: User, role: str) -> set[uuid.UUID]:
    """The counties where the user holds a county-level grant of `role`."""
    return {
        grant.scope_region.id
        for grant in active_grants(user)
        if grant.role == role and grant.scope_region.level == RegionLevel.COUNTY
    }


def _reader_q(user: User) -> Q:
    named = ReportMember.objects.filter(user=user, active=True).values("report_id")
    parts = [Q(pk__in=named)]
    units = _police_units(user)
    if units:
        parts.append(Q(routed_unit__in=[unit.id for unit in units]))
    bureau = _bureau_q(units)
    if bureau is not None:
        parts.append(bureau)
    counties = _county_ids(user, Role.COUNTY_ADMIN)
    if counties:
        parts.append(Q(county_id__in=counties))
    return reduce(or_, parts)


def reports_readable_by(user: User) -> QuerySet[Report]:
    """Reports whose details this user may read (AC-5). A user without an active grant reads
    none, even where still named on a report."""
    if not user.is_authenticated or not active_grants(user):
        return Report.objects.none()
    return Report.objects.filter(_reader_q(user))


def _police_units(user: User) -> list[Unit]:
    return [g.unit for g in active_grants(user) if g.role == Role.POLICE]


def _bureau_q(units: list[Unit]) -> Q | None:
    """The reports a county bureau's officers take on: those routed to the bureau itself and,
    once escalated, every report of the bureau's county."""
    bureaus = [unit for unit in units if unit.kind == UnitKind.POLICE_BUREAU]
    if not bureaus:
        return None
    return Q(routed_unit__in=[unit.id for unit in bureaus]) | Q(
        county_id__in=[unit.region_id for unit in bureaus], escalation_level__gte=1
    )


def reports_policed_by(user: User) -> QuerySet[Report]:
    """Reports this user may act on as the police: acknowledge, attend, record the response.
    The unit it is routed to, and the county bureau once it has escalated."""
    units = _police_units(user)
    if not units:
        return Report.objects.none()
    scope = Q(routed_unit__in=[unit.id for unit in units])
    bureau = _bureau_q(units)
    if bureau is not None:
        scope |= bureau
    return Report.objects.filter(scope)


def reports_administered_by(user: User) -> QuerySet[Report]:
    """Reports of the counties whose civil affairs this user administers (county admins):
    they name members, link an unknown child to a file, re-route and give feedback."""
    counties = _county_ids(user, Role.COUNTY_ADMIN)
    return Report.objects.filter(county_id__in=counties) if counties else Report.objects.none()


def reports_reroutable_by(user: User) -> QuerySet[Report]:
    """County admins re-route their county's reports; a county bureau's officers re-route the
    reports they take on (routed to the bureau, or escalated in its county)."""
    scope = Q(pk__in=reports_administered_by(user).values("pk"))
    bureau = _bureau_q(_police_units(user))
    if bureau is not None:
        scope |= bureau
    return Report.objects.filter(scope)


def reports_linkable_by(user: User) -> QuerySet[Report]:
    """Who may link a report on an unknown child to a file: county admins and the supervisors
    named on the report."""
    named = ReportMember.objects.filter(user=user, kind=MemberKind.SUPERVISOR, active=True).values(
        "report_id"
    )
    return Report.objects.filter(Q(pk__in=reports_administered_by(user).values("pk")) | Q(pk__in=named))


def reports_answerable_by(user: User) -> QuerySet[Report]:
    """Who may give the reporter feedback (WBF 11): the police acting on it, county admins."""
    return Report.objects.filter(
        Q(pk__in=reports_policed_by(user).values("pk")) | Q(pk__in=reports_administered_by(user).values("pk"))
    )


def reports_filed_by(user: User) -> QuerySet[Report]:
    """The reports this user filed: the reporter's status list."""
    if not user.is_authenticated:
        return Report.objects.none()
    return Report.objects.filter(reporter=user)


def _record_denial(user: User, report_id: uuid.UUID | str, scope: str) -> None:
    """Every refusal is an audit row (LG-1); whether the report exists is for auditors only."""
    from audit.models import EventType, Outcome
    from audit.services import audit_event

    try:
        exists = Report.objects.filter(pk=report_id).exists()
        object_id = str(uuid.UUID(str(report_id)))
    except (ValueError, ValidationError):
        exists, object_id = False, ""
    audit_event(
        user=user if user.is_authenticated else None,
        action=EventType.DENIED,
        outcome=Outcome.DENIED,
        object_type="report",
        object_id=object_id,
        detail={"status": 404, "scope": scope, "exists": exists},
    )


def _get(user: User, queryset: QuerySet[Report], report_id: uuid.UUID | str, scope: str) -> Report:
    try:
        return queryset.select_related("child", "township", "county", "routed_unit", "reporter_unit").get(
            pk=report_id
        )
    except (Report.DoesNotExist, ValueError, ValidationError) as exc:
        _record_denial(user, report_id, scope)
        raise Http404(NOT_FOUND) from exc


_SCOPES: dict[str, Callable[[User], QuerySet[Report]]] = {
    "read": reports_readable_by,
    "police": reports_policed_by,
    "administer": reports_administered_by,
    "reroute": reports_reroutable_by,
    "link": reports_linkable_by,
    "answer": reports_answerable_by,
    "status": reports_filed_by,
}


def access_report(
    user: User, report_id: uuid.UUID | str, *, police: bool = False, scope: str = "read"
) -> Report:
    """The report, if this user may read it (or, with police=True, act on it as the police;
    or do what `scope` names: administer, reroute, link, answer); else Http404 as if missing.
    Every scope but "status" lies within "read", so whoever acts on a report may read it."""
    scope = "police" if police else scope
    return _get(user, _SCOPES[scope](user), report_id, scope)


def access_report_status(user: User, report_id: uuid.UUID | str) -> Report:
    """The reporter's own report, for the status page (no details beyond what they wrote)."""
    return access_report(user, report_id, scope="status")


def may_act(user: User, report: Report, scope: str) -> bool:
    """Whether `user` may do what `scope` names on this report (for showing the forms)."""
    return _SCOPES[scope](user).filter(pk=report.pk).exists()


def may_file_reports(user: User) -> bool:
    """Every data role may file a report (R17: the mandated units and their staff; WBF 11: any
    state organ or village committee); the 三员 accounts (AC-6) do not handle child data."""
    return any(g.role not in _SYSTEM_ROLES for g in active_grants(user))


def filing_grants(user: User) -> list[RoleGrant]:
    """The grants a report may be filed under: the reporter's unit and role."""
    return [g for g in active_grants(user) if g.role not in _SYSTEM_ROLES]


def may_edit_policy(user: User, county: Region) -> bool:
    return county.id in _county_ids(user, Role.COUNTY_ADMIN)


_SYSTEM_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
