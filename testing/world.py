"""A small county for tests: personas per role, each with in-scope and out-of-scope files.

Regions come from the real NBS list (loaded once per test database); villages, units,
users and children are made once per test module inside an outer transaction (conftest.py),
and each test gets fresh instances of them (`world_load`) inside its own savepoint.
"""

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from accounts.models import Role, RoleGrant, User
from core import idnumber
from geo.models import Region, RegionLevel, Unit, UnitKind
from registry import choices as c
from registry.models import Assignment, Child, UnitAssignment
from registry.services import FileData, child_file_open

PASSWORD = "Test-Passw0rd-Shouhu"  # noqa: S105 - test personas only
_counter = itertools.count()


def village(township: Region, suffix: str, name: str) -> Region:
    code = f"{township.code}{suffix}"
    return Region.objects.create(code=code, name=name, level=RegionLevel.VILLAGE, parent=township)


def make_user(username: str, role: str, unit: Unit, region: Region | None = None) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, full_name=username)
    RoleGrant.objects.create(user=user, role=role, unit=unit, region=region)
    return user


def child_data(village: Region, **overrides: Any) -> FileData:
    birth = overrides.pop("birth_date", dt.date(2015, 6, 1))
    sex = overrides.pop("sex", c.Sex.MALE)
    # The sequence's last digit gives the sex: odd is male.
    seq = (next(_counter) % 450 + 50) * 2 + (1 if sex == c.Sex.MALE else 0)
    number = overrides.pop("id_number", idnumber.make("450521", birth, seq))
    guangdong = Region.objects.get(code="44", valid_to__isnull=True)
    father = overrides.pop(
        "father",
        {"name": "张父", "status": c.ParentStatus.AWAY, "phone": "13800000001", "work_province": guangdong},
    )
    mother = overrides.pop(
        "mother",
        {"name": "李母", "status": c.ParentStatus.AWAY, "phone": "13900000002", "work_province": guangdong},
    )
    guardian = overrides.pop("guardian", None)
    values: dict[str, Any] = {
        "name": "张三",
        "sex": sex,
        "ethnicity": "汉族",
        "id_number": number,
        "birth_date": birth,
        "schooling": c.Schooling.PRIMARY,
        "village": village,
        "care_type": c.CareType.GRANDPARENTS,
        "guardianship_rating": c.Rating.GOOD,
        "current_address": "合浦县某村 1 号",
    }
    values.update(overrides)
    return FileData(child=values, father=father, mother=mother, guardian=guardian)


def make_child(village: Region, by: User | None = None, **overrides: Any) -> Child:
    return child_file_open(user=by, data=child_data(village, **overrides))  # type: ignore[arg-type]


@dataclass
class World:
    county: Region
    township_a: Region
    township_b: Region
    village_a1: Region
    village_a2: Region
    village_b1: Region
    village_other: Region
    school: Unit
    provider: Unit = field(init=False)
    users: dict[str, User] = field(default_factory=dict)
    children: dict[str, Child] = field(default_factory=dict)

    # Which children each persona may see; write roles may also change them.
    VISIBLE = {
        "county_admin": {"a1", "a2", "b1"},
        "county_officer": {"a1", "a2", "b1"},
        "township_supervisor": {"a1", "a2"},
        "village_worker": {"a1"},
        "school_staff": {"a1"},
        "police": {"a1", "a2"},
        "social_worker": {"a1"},
        "visiting_cadre": {"a2"},
        "reporter": set(),  # a hospital's staff: files reports, sees no file (R17)
        "provider_staff": {"a1"},  # a children's home: the children assigned to it (R16)
        "system_admin": set(),
        "security_admin": set(),
        "auditor": set(),
        "no_role": set(),
    }
    WRITABLE = {
        "county_admin": {"a1", "a2", "b1"},
        "township_supervisor": {"a1", "a2"},
        "village_worker": {"a1"},
    }


@dataclass(frozen=True)
class WorldKeys:
    """The primary keys of a built World: enough to load fresh instances of it."""

    regions: dict[str, Any]
    units: dict[str, Any]
    users: dict[str, Any]
    children: dict[str, Any]


_REGION_FIELDS = (
    "county",
    "township_a",
    "township_b",
    "village_a1",
    "village_a2",
    "village_b1",
    "village_other",
)
_UNIT_FIELDS = ("school", "provider")


def world_keys(world: World) -> WorldKeys:
    return WorldKeys(
        regions={name: getattr(world, name).pk for name in _REGION_FIELDS},
        units={name: getattr(world, name).pk for name in _UNIT_FIELDS},
        users={key: user.pk for key, user in world.users.items()},
        children={key: child.pk for key, child in world.children.items()},
    )


def world_load(keys: WorldKeys) -> World:
    """Fresh instances of a World built earlier (four queries): what one test changes in
    memory never reaches the next."""
    regions = Region.objects.in_bulk(list(keys.regions.values()))
    units = Unit.objects.in_bulk(list(keys.units.values()))
    users = User.objects.in_bulk(list(keys.users.values()))
    children = Child.objects.in_bulk(list(keys.children.values()))
    region = {name: regions[pk] for name, pk in keys.regions.items()}
    world = World(
        county=region["county"],
        township_a=region["township_a"],
        township_b=region["township_b"],
        village_a1=region["village_a1"],
        village_a2=region["village_a2"],
        village_b1=region["village_b1"],
        village_other=region["village_other"],
        school=units[keys.units["school"]],
    )
    world.provider = units[keys.units["provider"]]
    world.users.update({key: users[pk] for key, pk in keys.users.items()})
    world.children.update({key: children[pk] for key, pk in keys.children.items()})
    return world


def build_world() -> World:
    county = Region.objects.get(code="450521", valid_to__isnull=True)
    township_a = Region.objects.get(code="450521100", valid_to__isnull=True)  # 廉州镇
    township_b = Region.objects.get(code="450521101", valid_to__isnull=True)  # 党江镇
    other_township = Region.objects.get(code="450502001", valid_to__isnull=True)  # 海城区中街街道
    world = World(
        county=county,
        township_a=township_a,
        township_b=township_b,
        village_a1=village(township_a, "201", "甲一村委会"),
        village_a2=village(township_a, "202", "甲二村委会"),
        village_b1=village(township_b, "201", "乙一村委会"),
        village_other=village(other_township, "001", "外县社区"),
        school=Unit.objects.create(name="廉州镇中心小学", kind=UnitKind.SCHOOL, region=township_a),
    )
    civil = Unit.objects.create(name="合浦县民政局", kind=UnitKind.CIVIL_AFFAIRS, region=county)
    education = Unit.objects.create(name="合浦县教育局", kind=UnitKind.EDUCATION, region=county)
    township_gov = Unit.objects.create(
        name="廉州镇人民政府", kind=UnitKind.TOWNSHIP_GOVERNMENT, region=township_a
    )
    committee = Unit.objects.create(
        name="甲一村委会", kind=UnitKind.VILLAGE_COMMITTEE, region=world.village_a1
    )
    station = Unit.objects.create(name="廉州派出所", kind=UnitKind.POLICE_STATION, region=township_a)
    station.serves.add(township_a)
    social = Unit.objects.create(name="合浦县社工站", kind=UnitKind.SOCIAL_WORK, region=county)
    users = world.users
    users["county_admin"] = make_user("county_admin", Role.COUNTY_ADMIN, civil)
    users["county_officer"] = make_user("county_officer", Role.COUNTY_OFFICER, education)
    users["township_supervisor"] = make_user("township_supervisor", Role.TOWNSHIP_SUPERVISOR, township_gov)
    users["village_worker"] = make_user("village_worker", Role.VILLAGE_WORKER, committee)
    users["school_staff"] = make_user("school_staff", Role.SCHOOL_STAFF, world.school)
    users["police"] = make_user("police", Role.POLICE, station)
    users["social_worker"] = make_user("social_worker", Role.SOCIAL_WORKER, social)
    users["visiting_cadre"] = make_user("visiting_cadre", Role.VISITING_CADRE, township_gov)
    hospital = Unit.objects.create(name="合浦县人民医院", kind=UnitKind.HOSPITAL, region=county)
    users["reporter"] = make_user("reporter", Role.REPORTER, hospital)
    world.provider = Unit.objects.create(
        name="甲一村儿童之家", kind=UnitKind.CHILDRENS_HOME, region=world.village_a1
    )
    users["provider_staff"] = make_user("provider_staff", Role.PROVIDER_STAFF, world.provider)
    users["system_admin"] = make_user("system_admin", Role.SYSTEM_ADMIN, civil)
    users["security_admin"] = make_user("security_admin", Role.SECURITY_ADMIN, civil)
    users["auditor"] = make_user("auditor", Role.AUDITOR, civil)
    users["no_role"] = User.objects.create_user(username="no_role", password=PASSWORD)
    admin = users["county_admin"]
    world.children["a1"] = make_child(world.village_a1, admin, name="张三", school=world.school)
    world.children["a2"] = make_child(
        world.village_a2,
        admin,
        name="李四",
        father={
            "name": "李父",
            "status": "away",
            "phone": "13700000003",
            "work_province": Region.objects.get(code="45", valid_to__isnull=True),
        },
    )
    world.children["b1"] = make_child(world.village_b1, admin, name="王五")
    world.children["other"] = make_child(world.village_other, admin, name="赵六")
    Assignment.objects.create(
        child=world.children["a1"], user=users["social_worker"], role=Role.SOCIAL_WORKER
    )
    Assignment.objects.create(
        child=world.children["a2"], user=users["visiting_cadre"], role=Role.VISITING_CADRE
    )
    UnitAssignment.objects.create(
        child=world.children["a1"], unit=world.provider, source=UnitAssignment.Source.ASSIGNED
    )
    return world
