"""Who sees which statistics. The scope is the region of the user's region-role grants, read
through registry.access (the one access layer): county admins and officers their county,
township supervisors their township(s), village workers their village. Other roles get 403;
a region outside the scope gets 404, exactly as a missing one.
"""

import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Role, User
from geo.models import Region, RegionLevel
from registry.access import active_grants

DASHBOARD_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.COUNTY_OFFICER, Role.TOWNSHIP_SUPERVISOR, Role.VILLAGE_WORKER}
)
# The scorecard ranks the units below a county or a township: a village worker has none.
SCORECARD_ROLES = frozenset({Role.COUNTY_ADMIN, Role.COUNTY_OFFICER, Role.TOWNSHIP_SUPERVISOR})
NO_ACCESS = "您没有查看统计分析的权限。"
NOT_FOUND = "未找到该区划"


def stats_roots(user: User, roles: frozenset[Role]) -> list[Region]:
    """The top regions of the user's grants in `roles`, ordered by code, none inside another.
    Raises PermissionDenied when there are none."""
    regions = {grant.scope_region for grant in active_grants(user) if grant.role in roles}
    roots = sorted(regions, key=lambda region: region.code)
    roots = [r for r in roots if not any(o.code != r.code and r.code.startswith(o.code) for o in roots)]
    if not roots:
        raise PermissionDenied(NO_ACCESS)
    return roots


def stats_region(roots: list[Region], region_id: str | None, *, above_village: bool = False) -> Region:
    """The region asked for (`?region=`), if it is a root or below one; the first root when
    none is asked for. Http404 for anything else, whether it exists or not."""
    if not region_id:
        region = roots[0]
    else:
        try:
            region = Region.objects.select_related("parent").get(pk=uuid.UUID(region_id))
        except (ValueError, Region.DoesNotExist) as exc:
            raise Http404(NOT_FOUND) from exc
        if not any(region.code.startswith(root.code) for root in roots):
            raise Http404(NOT_FOUND)
    if above_village and region.level == RegionLevel.VILLAGE:
        raise Http404(NOT_FOUND)
    return region
