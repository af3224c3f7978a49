"""The training tests run on a pinned clock (2028-03-15): "this year" is 2028, last year 2027.

Beside the World's personas (the workers among them: county_officer and social_worker at
county units (县直), township_supervisor, visiting_cadre and school_staff in 廉州镇,
village_worker and provider_staff in 甲一村), `staff` adds:
- `a2_worker`: the child director of 甲二村 (廉州镇);
- `b1_worker`: the child director of 乙一村 (党江镇);
- `inactive`: a disabled account with a child-director grant (no worker);
- `expired`: an account whose validity ended (no worker);
- `dropped`: an account whose only grant was withdrawn (no worker);
- `outsider`: a child director of another county (海城区).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role, RoleGrant, User
from geo.models import Region, Unit, UnitKind
from testing.clock import pinned_clock
from testing.world import World, make_user
from training.models import Attendance, TrainingSession

TODAY = dt.date(2028, 3, 15)
NOW = dt.datetime(2028, 3, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
WORKER_PERSONAS = (
    "county_officer",
    "township_supervisor",
    "village_worker",
    "school_staff",
    "social_worker",
    "visiting_cadre",
    "provider_staff",
)


clock, world_built_at, world = pinned_clock(NOW)


@dataclass
class Staff:
    a2_worker: User
    b1_worker: User
    inactive: User
    expired: User
    dropped: User
    outsider: User
    civil: Unit
    other_county: Region
    other_civil: Unit


def _committee(region: Region) -> Unit:
    return Unit.objects.create(name=f"{region.name}", kind=UnitKind.VILLAGE_COMMITTEE, region=region)


@pytest.fixture
def staff(world: World) -> Staff:
    a2 = _committee(world.village_a2)
    b1 = _committee(world.village_b1)
    inactive = make_user("inactive", Role.VILLAGE_WORKER, a2)
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    expired = make_user("expired", Role.VILLAGE_WORKER, a2)
    expired.valid_until = TODAY - dt.timedelta(days=1)
    expired.save(update_fields=["valid_until"])
    dropped = make_user("dropped", Role.VILLAGE_WORKER, b1)
    RoleGrant.objects.filter(user=dropped).update(active=False)
    other_county = Region.objects.get(code="450502", valid_to__isnull=True)
    return Staff(
        a2_worker=make_user("a2_worker", Role.VILLAGE_WORKER, a2),
        b1_worker=make_user("b1_worker", Role.VILLAGE_WORKER, b1),
        inactive=inactive,
        expired=expired,
        dropped=dropped,
        outsider=make_user("outsider", Role.VILLAGE_WORKER, _committee(world.village_other)),
        civil=Unit.objects.get(name="合浦县民政局"),
        other_county=other_county,
        other_civil=Unit.objects.create(
            name="海城区民政局", kind=UnitKind.CIVIL_AFFAIRS, region=other_county
        ),
    )


def new_session(
    world: World,
    *,
    held_on: dt.date,
    attendees: tuple[User, ...] = (),
    county: Region | None = None,
    organiser: Unit | None = None,
    topic: str = "留守儿童关爱保护业务培训",
    hours: str = "3",
) -> TrainingSession:
    session = TrainingSession.objects.create(
        county=county or world.county,
        organiser=organiser or Unit.objects.get(name="合浦县民政局"),
        topic=topic,
        held_on=held_on,
        hours=Decimal(hours),
        audience=["village_worker"],
        created_by=world.users["county_admin"],
    )
    for user in attendees:
        Attendance.objects.create(session=session, user=user)
    return session
