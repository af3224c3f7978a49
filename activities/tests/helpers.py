"""Shared steps of the activities tests: activities made through the services (so they are
what the pages would have made), in the World's villages."""

import datetime as dt
from typing import Any

from django.utils import timezone

from activities import services
from activities.models import Activity, Participation
from geo.models import Region, Unit
from registry.models import Child
from testing.world import World


def child(world: World, key: str = "a1") -> Child:
    return Child.objects.get(pk=world.children[key].pk)


def make_activity(
    world: World,
    *,
    village: Region | None = None,
    whole_township: bool = False,
    children: tuple[str, ...] = (),
    provider: Unit | None = None,
    by: str = "county_admin",
    held_on: dt.date | None = None,
    **values: Any,
) -> Activity:
    """An activity in `village` (甲一村 by default; its whole township with `whole_township`)
    with the given children expected."""
    village = village or world.village_a1
    township = Region.objects.get(pk=village.parent_id)
    user = world.users[by]
    base = {
        "kind": "homework_club",
        "title": "周末作业辅导",
        "organiser": provider or world.school,
        "provider": provider,
        "county": world.county,
        "township": township,
        "village": None if whole_township else village,
        "place": "村儿童之家",
        "held_on": held_on or timezone.localdate(),
        "target_group": "children",
        "note": "",
    }
    activity = services.activity_create(user=user, values={**base, **values})
    services.participants_add(user=user, activity=activity, children=[child(world, key) for key in children])
    return activity


def row(activity: Activity, world: World, key: str) -> Participation:
    return Participation.objects.get(activity=activity, child_id=world.children[key].pk)


def mark(
    world: World, activity: Activity, key: str, *, attended: bool = True, by: str = "county_admin"
) -> None:
    services.attendance_record(
        user=world.users[by],
        activity=activity,
        marks=[services.Mark(participation=row(activity, world, key), attended=attended)],
    )
