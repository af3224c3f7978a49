"""Who may do what with care activities (关爱活动, R16), and the one way views reach them.

| action                               | who, each within the scope of that grant                  |
|--------------------------------------|-----------------------------------------------------------|
| see the list and an activity         | county admin (the county), county officer (the county,    |
|                                      | read only), township supervisor (the township), village   |
|                                      | worker (the village), provider staff (activities whose    |
|                                      | provider is their unit)                                   |
| create, edit, delete, pick children, | the same but the county officer                           |
| adults, volunteers, attendance       |                                                           |

A region grant covers the activities held in its region (county, township or village of the
activity); a provider grant those the unit delivers. Anything else answers 404, exactly as a
missing activity. Every page answers 403 to roles that have no activity at all (school staff,
police, social workers, visiting cadres, reporters and the 三员), and the pages that change
something answer 403 to a reader who manages none (the county officer).

Children are a separate question: an activity's expected children are only ever listed,
picked or marked through registry.access.children_visible_to (R16: a provider sees only the
children assigned to it).
"""

import uuid
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, RoleGrant, User
from activities.models import Activity
from geo.models import Region, RegionLevel
from registry.access import active_grants

NOT_FOUND = "未找到该活动"

# Region roles that manage activities in their region; the county officer only reads them.
REGION_MANAGERS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR, Role.VILLAGE_WORKER})
REGION_READERS = REGION_MANAGERS | {Role.COUNTY_OFFICER}
MANAGERS = REGION_MANAGERS | {Role.PROVIDER_STAFF}
READERS = REGION_READERS | {Role.PROVIDER_STAFF}

_LEVEL_FIELD = {
    RegionLevel.COUNTY: "county_id",
    RegionLevel.TOWNSHIP: "township_id",
    RegionLevel.VILLAGE: "village_id",
}


def _region_q(region: Region) -> Q:
    field = _LEVEL_FIELD.get(RegionLevel(region.level))
    if field is None:  # a province or city grant covers every county below it
        return Q(county__code__startswith=region.code)
    return Q(**{field: region.id})


def _grant_q(grant: RoleGrant) -> Q:
    if grant.role == Role.PROVIDER_STAFF:
        return Q(provider_id=grant.unit_id)
    return _region_q(grant.scope_region)


def _grants(user: User, roles: frozenset[str]) -> list[RoleGrant]:
    return [grant for grant in active_grants(user) if grant.role in roles]


def can_read(user: User) -> bool:
    return bool(_grants(user, READERS))


def can_manage(user: User) -> bool:
    return bool(_grants(user, MANAGERS))


def _scoped(user: User, roles: frozenset[str]) -> QuerySet[Activity]:
    grants = _grants(user, roles)
    if not grants:
        return Activity.objects.none()
    return Activity.objects.filter(reduce(or_, (_grant_q(grant) for grant in grants)))


def activities_visible_to(user: User) -> QuerySet[Activity]:
    return _scoped(user, READERS)


def activities_managed_by(user: User) -> QuerySet[Activity]:
    return _scoped(user, MANAGERS)


def access_activity(user: User, activity_id: uuid.UUID | str, *, manage: bool = False) -> Activity:
    """The activity, if this user may see it (or manage it); else Http404 as if missing."""
    base = activities_managed_by(user) if manage else activities_visible_to(user)
    try:
        return base.select_related("organiser", "provider", "county", "township", "village").get(
            pk=activity_id
        )
    except (Activity.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404(NOT_FOUND) from exc


def may_manage(user: User, activity: Activity) -> bool:
    return activities_managed_by(user).filter(pk=activity.pk).exists()


def region_grants(user: User) -> list[RoleGrant]:
    """The grants under which the user creates activities in a region."""
    return _grants(user, REGION_MANAGERS)


def region_reader_grants(user: User) -> list[RoleGrant]:
    """The grants under which the user reads a region's activities (the county officer too)."""
    return _grants(user, REGION_READERS)


def provider_grants(user: User) -> list[RoleGrant]:
    """The grants under which the user creates activities of their own provider unit."""
    return _grants(user, frozenset({Role.PROVIDER_STAFF}))
