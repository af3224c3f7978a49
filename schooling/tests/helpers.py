"""Shared steps of the schooling tests: the objects a test starts from, made through the
services (so they are what the pages would have made), and the World's extra personas."""

import datetime as dt
from typing import Any

from accounts.models import Role
from geo.models import Unit, UnitKind
from registry.models import Child
from schooling import services
from schooling.models import DropoutCase
from testing.world import World, make_user

OPEN = {
    "kind": "dropout",
    "first_missed_on": "2028-02-01",
    "reported_on": "2028-02-20",
    "reason": "家长外出务工，孩子在家照顾弟妹",
}
ATTEMPT = {
    "attempted_on": "2028-02-21",
    "method": "home_visit",
    "participants": "班主任、村儿童主任",
    "outcome": "refused",
    "note": "祖母说孩子不愿意上学",
}


def child(world: World, key: str = "a1") -> Child:
    return Child.objects.get(pk=world.children[key].pk)


def open_case(world: World, key: str = "a1", kind: str = "dropout") -> DropoutCase:
    pupil = child(world, key)
    return services.dropout_case_open(
        user=world.users["school_staff"],
        child=pupil,
        kind=kind,
        first_missed_on=dt.date(2028, 2, 1),
        reported_on=dt.date(2028, 2, 20),
        reason="",
        expected_version=pupil.version,
    )


def fail_attempts(world: World, case: DropoutCase, count: int = 2) -> None:
    for day in range(count):
        services.persuasion_attempt_record(
            user=world.users["school_staff"],
            case=case,
            attempted_on=dt.date(2028, 2, 21 + day),
            participants="班主任",
            method="phone",
            outcome="unreachable",
        )


def escalated_case(world: World, key: str = "a1") -> DropoutCase:
    case = open_case(world, key)
    fail_attempts(world, case)
    case, _ = services.dropout_case_escalate(user=world.users["school_staff"], case=case)
    return case


def other_school_staff(world: World) -> Any:
    """A teacher of 党江镇中心小学, which none of the World's children attends."""
    school = Unit.objects.create(name="党江镇中心小学", kind=UnitKind.SCHOOL, region=world.township_b)
    world.users["other_school_staff"] = make_user("other_school_staff", Role.SCHOOL_STAFF, school)
    return world.users["other_school_staff"]


def other_police(world: World) -> Any:
    """Police of 党江派出所, which serves 党江镇 (b1) only."""
    station = Unit.objects.create(name="党江派出所", kind=UnitKind.POLICE_STATION, region=world.township_b)
    station.serves.add(world.township_b)
    world.users["other_police"] = make_user("other_police", Role.POLICE, station)
    return world.users["other_police"]
