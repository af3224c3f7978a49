"""The one access layer for child files (house style rules 8 and 9).

Every list, detail, search, export, API call and count starts from children_visible_to();
single files are fetched with access_child(). Out of scope raises Http404 exactly like a
missing file.
"""

import uuid
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import ASSIGNED_ROLES, REGION_ROLES, REVEAL_ROLES, WRITE_ROLES, Role, RoleGrant, User
from audit.models import EmergencyAccess
from geo.models import Region, RegionLevel
from registry.models import Assignment, Child, UnitAssignment

_LEVEL_FIELD = {
    RegionLevel.COUNTY: "county_id",
    RegionLevel.TOWNSHIP: "township_id",
    RegionLevel.VILLAGE: "village_id",
}


def active_grants(user: User) -> list[RoleGrant]:
    """The user's active grants, loaded once per user object."""
    cached: list[RoleGrant] | None = getattr(user, "_shouhu_grants", None)
    if cached is None:
        if not user.is_authenticated or not user.is_active:
            cached = []
        else:
            cached = list(
                RoleGrant.objects.filter(user=user, active=True, unit__active=True)
                .select_related("unit__region", "region")
                .prefetch_related("unit__serves")
            )
        user._shouhu_grants = cached  # type: ignore[attr-defined]
    return cached


def user_roles(user: User) -> set[str]:
    return {grant.role for grant in active_grants(user)}


def _region_q(region: Region) -> Q:
    field = _LEVEL_FIELD.get(RegionLevel(region.level))
    if field is None:  # a province or city grant covers every county below it
        return Q(county__code__startswith=region.code)
    return Q(**{field: region.id})


def grant_scope_q(user: User, grant: RoleGrant) -> Q:
    """The children one grant covers (its role's scope). For apps whose actions admit some
    grants only (schooling): they filter the grants, this gives each one's scope."""
    return _grant_q(user, grant)


def _grant_q(user: User, grant: RoleGrant) -> Q:
    role = Role(grant.role)
    if role in REGION_ROLES:
        return _region_q(grant.scope_region)
    if role == Role.SCHOOL_STAFF:
        return Q(school_id=grant.unit_id)
    if role == Role.POLICE:
        served = list(grant.unit.serves.all()) or [grant.unit.region]
        return reduce(or_, (_region_q(region) for region in served))
    if role in ASSIGNED_ROLES:
        assigned = Assignment.objects.filter(user=user, active=True).values("child_id")
        return Q(id__in=assigned)
    if role == Role.PROVIDER_STAFF:
        # A provider's staff see the children referred or assigned to their unit (R16).
        referred = UnitAssignment.objects.filter(unit_id=grant.unit_id, active=True).values("child_id")
        return Q(id__in=referred)
    return Q(pk__in=[])


def _scope_q(user: User, *, write: bool) -> Q | None:
    grants = [g for g in active_grants(user) if not write or g.role in WRITE_ROLES]
    if not grants:
        return None
    return reduce(or_, (_grant_q(user, grant) for grant in grants))


def children_visible_to(user: User) -> QuerySet[Child]:
    scope = _scope_q(user, write=False)
    if scope is None:
        return Child.objects.none()
    return Child.objects.filter(scope)


def children_editable_by(user: User) -> QuerySet[Child]:
    scope = _scope_q(user, write=True)
    if scope is None:
        return Child.objects.none()
    return Child.objects.filter(scope)


def children_visitable_by(user: User) -> QuerySet[Child]:
    """Children this user may record a visit (走访) for: the files the user may change, plus
    the children actively assigned to the user by name (visiting cadres, social workers)
    among those the user may see. A township supervisor's township is in the first part."""
    write = _scope_q(user, write=True)
    read = _scope_q(user, write=False)
    if read is None:
        return Child.objects.none()
    assigned = Q(id__in=Assignment.objects.filter(user=user, active=True).values("child_id"))
    scope = read & assigned
    if write is not None:
        scope |= write
    return Child.objects.filter(scope)


def access_child_to_visit(user: User, child_id: uuid.UUID | str) -> Child:
    """The file, if this user may record a visit for it; else Http404 as if missing (and a
    denial row, like access_child)."""
    try:
        return children_visitable_by(user).select_related("village", "township", "county").get(pk=child_id)
    except (Child.DoesNotExist, ValueError, ValidationError) as exc:
        _record_denial(user, child_id, for_write=True)
        raise Http404("未找到该档案") from exc


def access_child(user: User, child_id: uuid.UUID | str, *, for_write: bool = False) -> Child:
    """The child file, if this user may see it (or change it); else Http404 as if missing.
    A file outside the scope may still be read under an active break-the-glass grant."""
    base = children_editable_by(user) if for_write else children_visible_to(user)
    try:
        return base.select_related("village", "township", "county", "school").get(pk=child_id)
    except (Child.DoesNotExist, ValueError) as exc:
        emergency = None if for_write else child_via_emergency_access(user, child_id)
        if emergency is not None:
            return emergency
        _record_denial(user, child_id, for_write=for_write)
        raise Http404("未找到该档案") from exc


def child_via_emergency_access(user: User, child_id: uuid.UUID | str) -> Child | None:
    """The file, if an active break-the-glass grant (AC-8) opens it to this user: read-only,
    one file, until the grant expires. Only asked when the normal scope says no, so it
    costs nothing on the usual path, and lists and counts never include such files."""
    if not can_request_emergency_access(user):
        return None
    granted = EmergencyAccess.objects.filter(user=user, child_id=child_id, expires_at__gt=timezone.now())
    try:
        return (
            Child.objects.select_related("village", "township", "county", "school")
            .filter(pk__in=granted.values("child_id"))
            .first()
        )
    except (ValueError, ValidationError):
        return None


def _record_denial(user: User, child_id: uuid.UUID | str, *, for_write: bool) -> None:
    """Every refusal is an audit row (LG-1); whether the file exists is for auditors only."""
    from audit.services import child_access_denied

    try:
        exists = Child.objects.filter(pk=child_id).exists()
    except (ValueError, ValidationError):
        exists = False
    child_access_denied(user=user, child_id=child_id, for_write=for_write, exists=exists)


def can_request_emergency_access(user: User) -> bool:
    """Break-the-glass (AC-8) is for staff with a region role."""
    return bool(user_roles(user) & REGION_ROLES)


def child_by_file_no(file_no: str) -> Child | None:
    """The file with this number, for a break-the-glass request only: the caller grants
    access through audit.services.emergency_access_grant, which is audited and alerted."""
    return Child.objects.filter(file_no=file_no).first()


def can_write(user: User) -> bool:
    return bool(user_roles(user) & WRITE_ROLES)


def can_reveal(user: User) -> bool:
    return bool(user_roles(user) & REVEAL_ROLES)


def can_read_access_log(user: User) -> bool:
    return Role.COUNTY_ADMIN in user_roles(user)


def villages_writable_by(user: User) -> QuerySet[Region]:
    """Current villages where this user may open new files."""
    grants = [g for g in active_grants(user) if g.role in WRITE_ROLES]
    if not grants:
        return Region.objects.none()
    q = reduce(or_, (Q(code__startswith=g.scope_region.code) for g in grants))
    return Region.objects.filter(q, level=RegionLevel.VILLAGE, valid_to__isnull=True)


def regions_visible_to(user: User) -> QuerySet[Region]:
    """Current townships and villages inside the user's region grants (for filters)."""
    grants = [g for g in active_grants(user) if g.role in REGION_ROLES or g.role == Role.POLICE]
    roots: list[Region] = []
    for grant in grants:
        if grant.role == Role.POLICE:
            roots.extend(grant.unit.serves.all() or [grant.unit.region])
        else:
            roots.append(grant.scope_region)
    if not roots:
        return Region.objects.none()
    q = reduce(or_, (Q(code__startswith=region.code) for region in roots))
    return Region.objects.filter(
        q, level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE], valid_to__isnull=True
    )
