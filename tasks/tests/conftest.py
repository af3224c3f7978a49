"""The tasks tests run on a pinned clock (deadlines and overdue count days).

The World's units: 合浦县民政局 (county admin, and the 三员), 合浦县教育局 (county officer),
廉州镇人民政府 (township supervisor, visiting cadre), 甲一村委会 (village worker), 廉州派出所
(police), 合浦县社工站 (social worker), 廉州镇中心小学 (school staff).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Role
from geo.models import Region, Unit, UnitKind
from tasks.models import Task
from tasks.services import TaskData, task_create
from testing.clock import pinned_clock
from testing.world import World, make_user

TODAY = dt.date(2028, 2, 25)  # a leap year
NOW = dt.datetime(2028, 2, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


clock, world_built_at, world = pinned_clock(NOW)


@dataclass
class Units:
    civil: Unit
    education: Unit
    township: Unit
    committee: Unit
    station: Unit
    social: Unit
    school: Unit


@pytest.fixture
def units(world: World) -> Units:
    def get(name: str) -> Unit:
        return Unit.objects.get(name=name)

    return Units(
        civil=get("合浦县民政局"),
        education=get("合浦县教育局"),
        township=get("廉州镇人民政府"),
        committee=get("甲一村委会"),
        station=get("廉州派出所"),
        social=get("合浦县社工站"),
        school=get("廉州镇中心小学"),
    )


def new_task(world: World, units: Units, **overrides: Any) -> Task:
    """A task made through the service (history, audit, notifications), lead 廉州镇人民政府,
    participants 合浦县教育局 and 廉州派出所, due in ten days."""
    values: dict[str, Any] = {
        "title": "全面排查农村留守儿童",
        "deadline": TODAY + dt.timedelta(days=10),
        "lead_unit": units.township,
        "participants": [units.education, units.station],
        "description": "逐村逐户排查，建立信息台账。",
        "plan_section": "三（二）",
    }
    values.update(overrides)
    return task_create(user=world.users["county_admin"], county=world.county, data=TaskData(**values))


@pytest.fixture
def task(world: World, units: Units) -> Task:
    return new_task(world, units)


@dataclass
class OtherCounty:
    county: Region
    unit: Unit
    admin: Any


@pytest.fixture
def other_county(world: World) -> OtherCounty:
    """海城区 (450502): its civil-affairs bureau and county admin."""
    county = Region.objects.get(code="450502", valid_to__isnull=True)
    unit = Unit.objects.create(name="海城区民政局", kind=UnitKind.CIVIL_AFFAIRS, region=county)
    return OtherCounty(county=county, unit=unit, admin=make_user("other_admin", Role.COUNTY_ADMIN, unit))
