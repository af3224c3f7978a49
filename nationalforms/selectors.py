"""Scoped reads for the national forms. Every one starts from registry.access."""

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from accounts.models import REGION_ROLES, User
from geo.models import RegionLevel
from nationalforms import table3 as t3
from registry.access import active_grants, children_visible_to, regions_visible_to, user_roles
from registry.models import Child

# The levels that hand forms upward: the village child director, the township supervisor,
# the county (civil affairs and the county departments).
FORM_ROLES = REGION_ROLES
_LEVEL_RANK = {
    RegionLevel.VILLAGE: 3,
    RegionLevel.TOWNSHIP: 2,
    RegionLevel.COUNTY: 1,
}


def can_use_forms(user: User) -> bool:
    return bool(user_roles(user) & FORM_ROLES)


def table3_breakdown(user: User) -> str:
    """Rows per township for a county (or wider) grant, per village for a township or a
    village grant: the level just below the widest region the user holds."""
    ranks = [
        _LEVEL_RANK.get(RegionLevel(grant.scope_region.level), 0)
        for grant in active_grants(user)
        if grant.role in FORM_ROLES
    ]
    return "township" if ranks and min(ranks) <= 1 else "village"


def _region_rows(user: User, by: str) -> list[tuple[Any, str]]:
    level = RegionLevel.TOWNSHIP if by == "township" else RegionLevel.VILLAGE
    regions = regions_visible_to(user).filter(level=level).order_by("code")
    return list(regions.values_list("id", "name"))


def table3_children(user: User) -> QuerySet[Child]:
    return children_visible_to(user)


def table3_for(user: User, *, on: dt.date) -> t3.Table3:
    """附件3 for the user's scope on the reference date: a row for every current region of
    the breakdown level (zeros included), and for any older region version a file still
    points at (named as it was). The files are read once, in chunks; only counts are kept."""
    by = table3_breakdown(user)
    facts = t3.facts_from_children(table3_children(user))
    return t3.build_table(facts, on=on, by=by, regions=_region_rows(user, by), names=t3.region_names)
