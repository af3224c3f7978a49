"""Reads of the care app. Children always come through registry.access first."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ASSIGNED_ROLES, REGION_ROLES, Role, User
from care import rules
from care.models import CarePolicy, Visit
from geo.models import CODE_LENGTH, Region, RegionLevel
from jobs.models import Job
from registry import choices as rc
from registry.access import active_grants, children_visitable_by
from registry.models import Child

RECENT_VISITS = 10
DUE_SOON_DAYS = 7


def _counties_under(regions: list[Region]) -> list[Region]:
    """The current counties that contain, or lie under, these regions."""
    county_len = CODE_LENGTH[RegionLevel.COUNTY]
    q = Q()
    for region in regions:
        if len(region.code) >= county_len:
            q |= Q(code=region.code[:county_len])
        else:  # a province or city: every county below it
            q |= Q(code__startswith=region.code)
    if not q:
        return []
    return list(Region.objects.filter(q, level=RegionLevel.COUNTY, valid_to__isnull=True).order_by("code"))


def counties_for(user: User) -> list[Region]:
    """The counties whose care policy this user reads: those of the user's data roles (the
    granted region, or the unit's region for school, police and assigned roles)."""
    regions: list[Region] = []
    for grant in active_grants(user):
        if grant.role in REGION_ROLES:
            regions.append(grant.scope_region)
        elif grant.role in ASSIGNED_ROLES or grant.role in (Role.SCHOOL_STAFF, Role.POLICE):
            regions.append(grant.unit.region)
    return _counties_under(regions)


def counties_administered_by(user: User) -> list[Region]:
    """The counties whose care policy this user may change (county civil-affairs admins)."""
    return _counties_under([g.scope_region for g in active_grants(user) if g.role == Role.COUNTY_ADMIN])


def recompute_job_for(user: User, job_id: Any) -> Job | None:
    """A care recompute job of a county this user administers, else None."""
    from care.services import RECOMPUTE_COUNTY

    job = Job.objects.filter(pk=job_id, kind=RECOMPUTE_COUNTY).first()
    if job is None:
        return None
    counties = {str(county.pk) for county in counties_administered_by(user)}
    return job if str(job.payload.get("county")) in counties else None


def visits_of(child: Child) -> QuerySet[Visit]:
    return Visit.objects.filter(child=child).select_related("visitor").prefetch_related("photos")


@dataclass
class CareSummary:
    """The care section of the file page."""

    colour: str
    colour_label: str
    reasons: list[str]
    last_visit_on: dt.date | None
    next_visit_due: dt.date | None
    overdue_days: int = 0
    due_soon: bool = False
    can_visit: bool = False
    active: bool = True
    visits: list[Visit] = field(default_factory=list)


def care_summary(*, user: User, child: Child, today: dt.date | None = None) -> CareSummary:
    today = today or timezone.localdate()
    due = child.next_visit_due
    colour = child.risk_colour
    active = child.status == rc.Status.ACTIVE
    return CareSummary(
        colour=colour,
        colour_label=str(rc.RiskColour(colour).label) if colour else "",
        reasons=rules.reason_labels(child.risk_reasons or []),
        last_visit_on=child.last_visit_on,
        next_visit_due=due,
        overdue_days=(today - due).days if active and due and due < today else 0,
        due_soon=bool(active and due and today <= due <= today + dt.timedelta(days=DUE_SOON_DAYS)),
        can_visit=active and children_visitable_by(user).filter(pk=child.pk).exists(),
        active=active,
        visits=list(visits_of(child)[:RECENT_VISITS]),
    )


@dataclass(frozen=True)
class ConditionRow:
    code: str
    label: str
    colour: str
    colour_label: str


def policy_rows(policy: CarePolicy) -> list[ConditionRow]:
    """The condition table as the county reads it, in the table's order."""
    from care.choices import Condition

    return [
        ConditionRow(
            str(code),
            str(code.label),
            policy.colour_for(code),
            str(rc.RiskColour(policy.colour_for(code)).label),
        )
        for code in Condition
    ]
