"""Who reads and who records guardianship interventions (SECURITY.md AC-5, like the report).

- Read: whoever reads the report (reports.access.reports_readable_by: the routed police unit,
  the county bureau after escalation, county admins of the county, the people named on the
  report). Every read of the page writes an audit VIEW row (object_type "report").
- Record interventions, periods of refused duty and the grounds a worker judges met: the
  police who may act on the report (reports.access.reports_policed_by), county admins of the
  report's county, and the supervisors named on it (ReportMember kind supervisor, active).
  Named supervisors (the township) record criticism and education (批评教育) only: the township
  guides guardians (R20) and JH2014-35-5 counts 批评教育 by 公安机关和未成年人救助保护机构等部门;
  admonitions, warning letters, penalties and criminal cases are police measures (GF13, FDV 16),
  which the police record, or a county admin on their behalf with the police unit named.
  The village worker does not read the report unless named on it (AC-5), so records nothing.
- Petitions to revoke guardianship: county admins of the county (县民政局 petitions itself or
  follows a petition) and the named supervisors.
A named social worker reads but records nothing here.

Out of scope answers 404 exactly as a missing object does, with a denial row in the audit log.
"""

import uuid
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from accounts.models import Role, User
from audit.models import EventType, Outcome
from audit.services import audit_event
from geo.models import RegionLevel
from interventions.models import (
    POLICE_KINDS,
    DutyRefusal,
    Guardian,
    Intervention,
    InterventionKind,
    Petition,
)
from registry.access import active_grants
from reports.access import reports_policed_by, reports_readable_by
from reports.models import MemberKind, Report

NOT_FOUND = "未找到该记录"

READ = "read"
RECORD = "record"
PETITION = "petition"

M = TypeVar("M", bound=Model)


def _admin_counties(user: User) -> list[uuid.UUID]:
    return [
        grant.scope_region.id
        for grant in active_grants(user)
        if grant.role == Role.COUNTY_ADMIN and grant.scope_region.level == RegionLevel.COUNTY
    ]


def _supervised_q(user: User) -> Q:
    return Q(members__user=user, members__active=True, members__kind=MemberKind.SUPERVISOR)


def reports_recordable_by(user: User) -> QuerySet[Report]:
    """Reports on which this user records interventions, refusals and concerns."""
    scope = Q(pk__in=reports_policed_by(user).values("pk")) | Q(county_id__in=_admin_counties(user))
    scope |= _supervised_q(user)
    return reports_readable_by(user).filter(pk__in=Report.objects.filter(scope).values("pk"))


def reports_petitionable_by(user: User) -> QuerySet[Report]:
    """Reports on which this user records petitions to revoke guardianship."""
    scope = Q(county_id__in=_admin_counties(user)) | _supervised_q(user)
    return reports_readable_by(user).filter(pk__in=Report.objects.filter(scope).values("pk"))


def reports_for(user: User, need: str) -> QuerySet[Report]:
    if need == RECORD:
        return reports_recordable_by(user)
    if need == PETITION:
        return reports_petitionable_by(user)
    return reports_readable_by(user)


def kinds_for(user: User, report: Report) -> list[str]:
    """The intervention kinds this user may record on `report` (all, or criticism only for a
    named supervisor who is neither the report's police nor a county admin)."""
    full = report.county_id in _admin_counties(user) or reports_policed_by(user).filter(pk=report.pk).exists()
    if full:
        return list(InterventionKind.values)
    return [InterventionKind.CRITICISM] if reports_recordable_by(user).filter(pk=report.pk).exists() else []


def needs_police_unit(kind: str) -> bool:
    return kind in POLICE_KINDS


def _denied(user: User, model: str, object_id: object, need: str) -> None:
    audit_event(
        user=user,
        action=EventType.DENIED,
        outcome=Outcome.DENIED,
        object_type=f"interventions.{model}",
        object_id=_uuid_or_blank(object_id),
        detail={"status": 404, "need": need},
    )


def _uuid_or_blank(value: object) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return ""


def access_report(user: User, report_id: uuid.UUID | str, *, need: str = READ) -> Report:
    """The report, if this user may read it (or record on it: need RECORD or PETITION);
    else Http404 as if missing."""
    try:
        return (
            reports_for(user, need)
            .select_related("child", "county", "township", "routed_unit")
            .get(pk=report_id)
        )
    except (Report.DoesNotExist, ValueError, ValidationError) as exc:
        _denied(user, "report", report_id, need)
        raise Http404(NOT_FOUND) from exc


def _on_report(user: User, queryset: QuerySet[M], object_id: uuid.UUID | str, need: str) -> M:
    """A row of this app whose report the user may use for `need`; else Http404 as if missing."""
    try:
        return queryset.filter(report__in=reports_for(user, need).values("pk")).get(pk=object_id)
    except (ObjectDoesNotExist, ValueError, ValidationError) as exc:
        _denied(user, queryset.model._meta.model_name or "", object_id, need)
        raise Http404(NOT_FOUND) from exc


def access_guardian(user: User, guardian_id: uuid.UUID | str, *, need: str = READ) -> Guardian:
    queryset = Guardian.objects.select_related("report__child", "report__routed_unit", "parent", "entrusted")
    return _on_report(user, queryset, guardian_id, need)


def access_intervention(user: User, intervention_id: uuid.UUID | str) -> Intervention:
    """An intervention to void: who may record on its report."""
    queryset = Intervention.objects.select_related("report__child", "guardian", "unit")
    return _on_report(user, queryset, intervention_id, RECORD)


def access_refusal(user: User, refusal_id: uuid.UUID | str) -> DutyRefusal:
    queryset = DutyRefusal.objects.select_related("report__child", "guardian")
    return _on_report(user, queryset, refusal_id, RECORD)


def access_petition(user: User, petition_id: uuid.UUID | str) -> Petition:
    queryset = Petition.objects.select_related("report__child", "guardian")
    return _on_report(user, queryset, petition_id, PETITION)
