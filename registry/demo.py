"""The demo data set behind `manage.py seed_demo`: a synthetic Hepu County (合浦县).

Everything is drawn from one random.Random(seed) in a fixed order, and every timestamp is
computed from the reference date, so the same seed, size and date give the same rows
(primary keys included). Passwords are the exception: secrets.token_urlsafe unless given.

Files are built in memory as plain records and written in batches of 2,000 rows with
executemany (SQLite) or COPY (PostgreSQL), not through child_file_open: 20,000 files take
10–15 seconds, a million about seven minutes of CPU (encryption of the personal columns
included). The derived columns (pinyin keys, ID facts,
township and county, left-behind, key child) use the same rules and helpers as
registry.services.derive(); test_seed_demo checks that derive() agrees on the files. Each
object gets its simple_history "created" row (exited files also their exit row) unless
history=False, which only the benchmark uses.

Care arrangements follow the 2016 national result quoted in R30: (外)祖父母 89.3 %, other
relatives 3.3 %, one parent away and the other incapable 3.4 %, nobody 4 %. Age bands follow
the same survey (0–5: 27.7 %, 6–13: 67.3 %, 14–15: 5.0 %).
"""

import contextlib
import datetime as dt
import functools
import operator
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, Value, When

from accounts.models import Role, RoleGrant, User
from core import idnumber
from core.blind_index import id_index, phone_index
from core.models import InstanceFlag
from core.pinyin import pinyin_keys
from geo.models import Region, RegionLevel, Unit, UnitKind
from registry import choices as c
from registry import rules
from registry.models import Assignment, Child, EntrustedGuardian, Parent, UnitAssignment

COUNTY_CODE = "450521"  # 合浦县
HISTORY_REASON = "演示数据"
DEMO_FLAG = "demo_loaded"
BATCH_SIZE = 2000
Record = SimpleNamespace

# One card per family; the deck is reshuffled when empty, so shares hold at any size.
CARE_DECK: dict[str, int] = {
    c.CareType.GRANDPARENTS: 893,
    c.CareType.RELATIVES: 33,
    c.CareType.ONE_PARENT: 34,
    c.CareType.UNSUPERVISED: 24,
    c.CareType.LIVING_ALONE: 16,
}
AGE_BAND_WEIGHTS = ((0, 5, 277), (6, 13, 673), (14, 15, 50))
RATING_WEIGHTS: dict[str, dict[str, int]] = {
    c.CareType.GRANDPARENTS: {c.Rating.GOOD: 55, c.Rating.FAIR: 40, c.Rating.POOR: 5},
    c.CareType.RELATIVES: {c.Rating.GOOD: 40, c.Rating.FAIR: 50, c.Rating.POOR: 10},
    c.CareType.ONE_PARENT: {c.Rating.GOOD: 10, c.Rating.FAIR: 45, c.Rating.POOR: 45},
    c.CareType.UNSUPERVISED: {c.Rating.POOR: 100},
    c.CareType.LIVING_ALONE: {c.Rating.FAIR: 20, c.Rating.POOR: 80},
}
MIN_AGE: dict[str, int] = {c.CareType.UNSUPERVISED: 6, c.CareType.LIVING_ALONE: 10}
EXIT_WEIGHTS = {
    c.ExitReason.AGED_OUT: 40,
    c.ExitReason.PARENTS_RETURNED: 25,
    c.ExitReason.MOVED_WITH_PARENTS: 20,
    c.ExitReason.MOVED_AWAY: 10,
    c.ExitReason.OTHER: 5,
}
EXITED_FAMILY_SHARE = 0.05


def _weighted(table: str) -> tuple[tuple[str, int], ...]:
    """'陈:12 李:8' → (("陈", 12), ("李", 8)), so long weight tables fit on a few lines."""
    pairs = (item.split(":") for item in table.split())
    return tuple((key, int(weight)) for key, weight in pairs)


# City code (NBS, 4 digits) and weight: the Pearl River Delta first, as for Beihai's migrants.
WORK_CITIES = _weighted(
    "4419:16 4401:14 4403:14 4406:10 4413:4 4420:4 4407:3 4408:3 4501:6 4505:5 4502:1 "
    "3301:3 3302:2 3303:2 3502:2 3505:2 3101:3 4601:2 3205:2 1101:1"
)
# fmt: off
WORK_DETAILS = (
    "电子厂", "服装厂", "家具厂", "建筑工地", "物流公司", "餐馆", "五金厂", "玩具厂",
    "制鞋厂", "装修队", "快递站点", "超市", "水产市场", "陶瓷厂", "保安公司",
)
# fmt: on
SURNAMES = _weighted(
    "陈:12 李:8 黄:7 林:5 张:5 王:4 刘:4 梁:4 庞:3 杨:3 吴:3 周:2 廖:2 钟:2 苏:2 罗:2 何:2 "
    "谢:2 邓:2 莫:2 冯:2 赖:1 许:1 劳:1 揭:1 彭:1 叶:1 朱:1 曾:1 郑:1 潘:1 文:1 卢:1 韦:1 宋:1 邱:1"
)
GIVEN = {
    "child_M": "子浩宇俊杰明伟涛鑫豪嘉文博志家建海晨泽轩睿航毅辉鹏斌阳思天雨锦铭",
    "child_F": "雨欣怡婷静雪梓涵琳佳慧思颖诗晓丽芳嘉萱月悦彤瑶琪妍梦蕾洁可心",
    "adult_M": "海华强军勇伟平东斌亮明志国建永春林德荣成福金文兵进",
    "adult_F": "丽芳燕红霞梅玲娟敏艳秀英兰凤珍桂琴莲玉春美群翠金",
}
VILLAGE_HEADS = "乾江石沙白龙凤清水长坡岭塘湾平新福禄安和东西南北上下大高山田车马黄红青云竹桥荔榄樟榕松杨梅"
VILLAGE_TAILS = "江塘头角岭坡垌湾田村埇冲屋寨围山口沙岸营圩城垌湖桥塘园"
COMMUNITY_TAILS = "东西南北中"
ILLNESSES = ("地中海贫血", "先天性心脏病", "癫痫", "哮喘", "白血病", "肾病综合征", "1型糖尿病", "血友病")
INCAPACITY_NOTES = {
    c.IncapacityReason.SERIOUS_ILLNESS: ("尿毒症，长期透析", "肝硬化", "恶性肿瘤术后康复期", "脑梗死后遗症"),
    c.IncapacityReason.SERIOUS_DISABILITY: ("肢体一级残疾", "视力一级残疾", "精神残疾二级", "智力残疾二级"),
}
CN_NUMBERS = "零一二三四五六七八九十"
PHONE_PREFIXES = (
    tuple(f"13{d}" for d in range(10))
    + tuple(f"15{d}" for d in "0123789")
    + tuple(f"18{d}" for d in range(10))
)

# Units at county level: (name, kind). Middle schools: (name, township code, townships served).
COUNTY_UNITS = (
    ("合浦县民政局", UnitKind.CIVIL_AFFAIRS),
    ("合浦县教育局", UnitKind.EDUCATION),
    ("合浦县公安局", UnitKind.POLICE_BUREAU),
    ("合浦县人民医院", UnitKind.HOSPITAL),
    ("合浦县社会工作服务中心", UnitKind.SOCIAL_WORK),
    ("合浦县人民法院", UnitKind.COURT),
    ("合浦县人民检察院", UnitKind.PROCURATORATE),
    ("合浦县司法局", UnitKind.JUSTICE),
    ("合浦县妇联", UnitKind.WOMENS_FEDERATION),
    ("团合浦县委", UnitKind.YOUTH_LEAGUE),
)
SENIOR_SCHOOL = "合浦县第一中学"
MIDDLE_SCHOOLS = (
    (SENIOR_SCHOOL, "450521100", ()),
    ("合浦县廉州中学", "450521100", ("100", "101", "102", "103")),
    ("合浦县公馆中学", "450521106", ("104", "106", "107")),
    ("合浦县山口中学", "450521108", ("105", "108", "109")),
    ("合浦县石康中学", "450521111", ("110", "111", "113")),
    ("合浦县常乐中学", "450521112", ("112", "200")),
)
SHOWCASE_TOWNSHIP = "450521100"  # 廉州镇: the township of the demo accounts

DEMO_ACCOUNTS = (
    # (role, how the unit is found)
    (Role.COUNTY_ADMIN, "civil_affairs"),
    (Role.COUNTY_OFFICER, "education"),
    (Role.TOWNSHIP_SUPERVISOR, "township_government"),
    (Role.VILLAGE_WORKER, "village_committee"),
    (Role.SCHOOL_STAFF, "school"),
    (Role.POLICE, "police_station"),
    (Role.SOCIAL_WORKER, "social_work"),
    (Role.VISITING_CADRE, "township_government"),
    (Role.REPORTER, "hospital"),
    (Role.PROVIDER_STAFF, "childrens_home"),  # the demo village's 儿童之家 (R16)
    # 三员分立 (AC-6): they run the system and see no child file.
    (Role.SYSTEM_ADMIN, "civil_affairs"),
    (Role.SECURITY_ADMIN, "civil_affairs"),
    (Role.AUDITOR, "civil_affairs"),
)
ASSIGNED_PER_USER = 10
SERVED_BY_HOME = 15  # children of the demo village assigned to its 儿童之家


class DemoError(Exception):
    """The database is not ready for the demo (e.g. regions missing)."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    unit: str
    password: str


@dataclass
class DemoSummary:
    villages: int = 0
    units: int = 0
    children: int = 0
    parents: int = 0
    guardians: int = 0
    exited: int = 0
    care: Counter[str] = field(default_factory=Counter)
    accounts: list[DemoAccount] = field(default_factory=list)

    def add(self, batch: "Batch") -> None:
        self.children += len(batch.children)
        self.parents += len(batch.parents)
        self.guardians += len(batch.guardians)
        self.exited += sum(1 for child in batch.children if child.status == c.Status.EXITED)
        self.care.update(child.care_type for child in batch.children)


@dataclass
class Places:
    """The county as the generator sees it: villages with weights, units, work places."""

    county: Region
    townships: list[Region]
    villages: list[Region]
    village_weights: list[float]
    units: dict[tuple[str, str], Unit]  # (kind key, region code or name) → unit
    work_places: list[tuple[Region, Region]]
    work_weights: list[int]
    primary_school: dict[str, Unit]  # township code → 中心小学
    junior_school: dict[str, Unit]  # township code → 中学


@dataclass
class Batch:
    """Rows of Child, Parent and EntrustedGuardian, as records (see record())."""

    children: list[Record] = field(default_factory=list)
    parents: list[Record] = field(default_factory=list)
    guardians: list[Record] = field(default_factory=list)


def record(model_type: type[models.Model], **values: Any) -> Record:
    """A row as a plain namespace keyed by attname, with the model's static defaults.

    Model instances would cost a third of a million-file load (Model.__init__ walks every
    field and descriptor); the rows only need attribute access for rows_insert().
    """
    defaults = _static_defaults(model_type)
    unknown = values.keys() - defaults.keys()
    if unknown:
        raise TypeError(f"{model_type.__name__} has no fields {sorted(unknown)}")
    fresh = {name: factory() for name, factory in _container_defaults(model_type) if name not in values}
    return Record(**{**defaults, **fresh, **values})


@functools.cache
def _static_defaults(model_type: type[models.Model]) -> dict[str, Any]:
    """Static defaults ("" for text); None where the default is callable (set those)."""
    return {
        f.attname: None if f.has_default() and callable(f.default) else f.get_default()
        for f in model_type._meta.concrete_fields
    }


@functools.cache
def _container_defaults(model_type: type[models.Model]) -> tuple[tuple[str, Any], ...]:
    """Fields whose default is `list` or `dict` (JSON columns): a fresh one per row."""
    return tuple(
        (f.attname, f.default)
        for f in model_type._meta.concrete_fields
        if f.has_default() and f.default in (list, dict)
    )


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _aware(day: dt.date, minutes: int) -> dt.datetime:
    """A local office-hours moment on `day` (08:30 plus `minutes`)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(day, dt.time(8, 30), tzinfo=zone) + dt.timedelta(minutes=minutes)


def _day_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    if end <= start:
        return end
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


# --- Places -----------------------------------------------------------------------------


def _county() -> tuple[Region, list[Region]]:
    county = (
        Region.objects.filter(code=COUNTY_CODE, valid_to__isnull=True)
        .select_related("parent__parent")
        .first()
    )
    if county is None:
        raise DemoError("未找到合浦县（450521）区划，请先运行 manage.py load_regions。")
    townships = list(
        Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP, valid_to__isnull=True).order_by(
            "code"
        )
    )
    if not townships:
        raise DemoError("合浦县下没有乡镇区划，请先运行 manage.py load_regions。")
    for township in townships:
        township.parent = county  # cached: no queries when a child's county is set
    return county, townships


def _village_names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        stem = rng.choice(VILLAGE_HEADS) + rng.choice(VILLAGE_TAILS)
        if stem[0] != stem[1] and stem not in taken:
            taken.add(stem)
            names.append(stem + "村委会")
    return names


def _make_villages(rng: random.Random, townships: list[Region]) -> tuple[list[Region], list[float]]:
    """10–25 villages per township: 1–3 社区 (codes 001…) and 村委会 (codes 201…)."""
    existing = set(
        Region.objects.filter(code__startswith=COUNTY_CODE, level=RegionLevel.VILLAGE).values_list(
            "code", flat=True
        )
    )
    taken: set[str] = set()
    villages: list[Region] = []
    weights: list[float] = []
    for township in townships:
        total = rng.randint(10, 25)
        communities = rng.randint(1, 3) if township.name.endswith("镇") else 0
        short = township.name[0]
        community_names = [f"{short}{tail}社区居委会" for tail in rng.sample(COMMUNITY_TAILS, communities)]
        village_names = _village_names(rng, total - communities, taken)
        for prefix, names in (("0", community_names), ("2", village_names)):
            sequence = 1
            for name in names:
                while (code := f"{township.code}{prefix}{sequence:02d}") in existing:
                    sequence += 1
                sequence += 1
                village = Region(
                    id=_uuid(rng), code=code, name=name, level=RegionLevel.VILLAGE, parent=township
                )
                villages.append(village)
                weights.append(rng.uniform(0.5, 1.5) * (0.6 if prefix == "0" else 1.0))
    Region.objects.bulk_create(villages)
    return villages, weights


def _unit_specs(
    county: Region, townships: list[Region], villages: list[Region]
) -> list[tuple[str, str, Region]]:
    by_code = {t.code: t for t in townships}
    specs: list[tuple[str, str, Region]] = [(name, kind, county) for name, kind in COUNTY_UNITS]
    specs += [(name, UnitKind.SCHOOL, by_code[code]) for name, code, _ in MIDDLE_SCHOOLS if code in by_code]
    for township in townships:
        short = township.name.removesuffix("镇").removesuffix("乡")
        specs.append((f"{township.name}人民政府", UnitKind.TOWNSHIP_GOVERNMENT, township))
        specs.append((f"{short}派出所", UnitKind.POLICE_STATION, township))
        specs.append((f"{township.name}中心小学", UnitKind.SCHOOL, township))
    specs += [(village.name, UnitKind.VILLAGE_COMMITTEE, village) for village in villages]
    demo = _demo_village(villages)
    if demo is not None:  # last, so that the draws before it stay as they were
        specs.append((childrens_home_name(demo), UnitKind.CHILDRENS_HOME, demo))
    return specs


def _demo_village(villages: Sequence[Region]) -> Region | None:
    """The village of the demo accounts: the first 村委会 of the showcase township."""
    committees = [v for v in villages if v.code.startswith(SHOWCASE_TOWNSHIP) and v.code[9] == "2"]
    return min(committees, key=lambda v: v.code) if committees else None


def childrens_home_name(village: Region) -> str:
    """甲一村委会 → 甲一村儿童之家."""
    return f"{village.name.removesuffix('委会')}儿童之家"


def _make_units(
    rng: random.Random, county: Region, townships: list[Region], villages: list[Region]
) -> tuple[dict[tuple[str, str], Unit], int]:
    """Create the units, reusing any that already exist under the same name and region."""
    existing = {(u.region_id, u.name): u for u in Unit.objects.filter(region__code__startswith=COUNTY_CODE)}
    units: dict[tuple[str, str], Unit] = {}
    new: list[Unit] = []
    for name, kind, region in _unit_specs(county, townships, villages):
        unit_id = _uuid(rng)  # drawn even when unused, so later draws do not depend on the database
        unit = existing.get((region.id, name))
        if unit is None:
            unit = Unit(id=unit_id, name=name, kind=kind, region=region)
            new.append(unit)
        units[(kind, region.code if kind != UnitKind.SCHOOL else name)] = unit
    Unit.objects.bulk_create(new)
    through = Unit.serves.through
    links = [
        through(unit_id=unit.id, region_id=unit.region_id)
        for unit in new
        if unit.kind in {UnitKind.POLICE_STATION, UnitKind.POLICE_BUREAU}
    ]
    through.objects.bulk_create(links)
    return units, len(new)


def _work_places() -> tuple[list[tuple[Region, Region]], list[int]]:
    cities = {
        r.code: r
        for r in Region.objects.filter(
            code__in=[city for city, _ in WORK_CITIES], valid_to__isnull=True
        ).select_related("parent")
    }
    places: list[tuple[Region, Region]] = []
    weights: list[int] = []
    for city_code, weight in WORK_CITIES:
        city = cities.get(city_code)
        if city is not None and city.parent is not None:
            places.append((city.parent, city))
            weights.append(weight)
    if not places:
        raise DemoError("未找到务工省市区划，请先运行 manage.py load_regions。")
    return places, weights


def places_build(rng: random.Random) -> tuple[Places, int]:
    county, townships = _county()
    villages, weights = _make_villages(rng, townships)
    units, created_units = _make_units(rng, county, townships, villages)
    work_places, work_weights = _work_places()
    primary = {t.code: units[(UnitKind.SCHOOL, f"{t.name}中心小学")] for t in townships}
    junior: dict[str, Unit] = {}
    for name, _, served in MIDDLE_SCHOOLS:
        for suffix in served:
            if (UnitKind.SCHOOL, name) in units:
                junior[f"{COUNTY_CODE}{suffix}"] = units[(UnitKind.SCHOOL, name)]
    places = Places(
        county=county,
        townships=townships,
        villages=villages,
        village_weights=weights,
        units=units,
        work_places=work_places,
        work_weights=work_weights,
        primary_school=primary,
        junior_school=junior,
    )
    return places, created_units


# --- Families ---------------------------------------------------------------------------


@dataclass
class _Family:
    """What siblings share: one household, one pair of parents, one caregiver."""

    village: Region
    care: str
    rating: str
    exit_reason: str
    surname: str
    opened: dt.date
    exited: dt.date | None
    minutes: int
    household: dict[str, Any]
    father: dict[str, Any]
    mother: dict[str, Any]
    guardian: dict[str, Any] | None
    de_facto_orphan: bool = False
    dibao: bool = False

    @property
    def father_facts(self) -> rules.ParentFacts:
        return rules.ParentFacts(self.father["status"], self.father["incapacity_reason"])

    @property
    def mother_facts(self) -> rules.ParentFacts:
        return rules.ParentFacts(self.mother["status"], self.mother["incapacity_reason"])


class FamilyGenerator:
    """Draws families from one random stream; the order of draws is the contract."""

    def __init__(self, rng: random.Random, places: Places, on: dt.date, *, created_by: User) -> None:
        self.rng = rng
        self.created_by = created_by
        self.places = places
        self.on = on
        self.used_ids: set[int] = set()
        self.file_seq: Counter[str] = Counter()
        self.workers: dict[str, str] = {}
        self.deck: list[str] = []
        self.village_cum = _cumulative(places.village_weights)
        self.work_cum = _cumulative(places.work_weights)
        self.surnames = [name for name, _ in SURNAMES]
        self.surname_cum = _cumulative([weight for _, weight in SURNAMES])

    def batches(self, total: int, size: int = BATCH_SIZE) -> Iterator[Batch]:
        """Families until `total` children; a batch closes after `size` children."""
        made = 0
        batch = Batch()
        while made < total:
            made += self.family(batch, limit=total - made)
            if len(batch.children) >= size:
                yield batch
                batch = Batch()
        if batch.children:
            yield batch

    # Drawing helpers.

    def _pick(self, weights: dict[Any, int]) -> Any:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _draw_care(self) -> str:
        if not self.deck:
            self.deck = [care for care, count in CARE_DECK.items() for _ in range(count)]
            self.rng.shuffle(self.deck)
        return self.deck.pop()

    def _surname(self, exclude: str = "") -> str:
        while True:
            name = self.rng.choices(self.surnames, cum_weights=self.surname_cum)[0]
            if name != exclude:
                return name

    def _given(self, pool: str) -> str:
        chars = GIVEN[pool]
        if self.rng.random() < 0.2:
            return self.rng.choice(chars)
        return self.rng.choice(chars) + self.rng.choice(chars)

    def _adult_name(self, surname: str, sex: str) -> str:
        return surname + self._given(f"adult_{sex}")

    def _id_number(self, birth: dt.date, sex: str) -> str:
        """A valid, unused number in Hepu's code; the sequence parity carries the sex."""
        while True:
            sequence = self.rng.randrange(500) * 2 + (1 if sex == c.Sex.MALE else 0)
            key = birth.toordinal() * 1000 + sequence
            if key not in self.used_ids:
                self.used_ids.add(key)
                return idnumber.make(COUNTY_CODE, birth, sequence)

    def _phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"

    def _birth_for_age(self, age: int) -> dt.date:
        earliest, latest = rules.birth_range_for_age(age, age, self.on)
        return _day_between(self.rng, earliest, latest)

    def _adult_birth(self, younger: dt.date, low: int, high: int) -> dt.date:
        """A birth date `low`–`high` years before `younger`."""
        base = rules.add_years(younger, -self.rng.randint(low, high))
        return base - dt.timedelta(days=self.rng.randint(0, 364))

    def _age(self, care: str, exit_reason: str) -> int:
        if exit_reason == c.ExitReason.AGED_OUT:
            return self.rng.randint(16, 17)
        while True:
            low, high, _ = self.rng.choices(AGE_BAND_WEIGHTS, weights=[w for *_, w in AGE_BAND_WEIGHTS])[0]
            age = self.rng.randint(low, high)
            if age >= MIN_AGE.get(care, 0):
                return age

    def _ages(self, size: int, care: str, exit_reason: str) -> list[int]:
        ages: list[int] = []
        for _ in range(size):
            age = self._age(care, exit_reason)
            for _retry in range(3):  # siblings of one age are twins: allowed, but rare
                if age not in ages:
                    break
                age = self._age(care, exit_reason)
            ages.append(age)
        return sorted(ages, reverse=True)

    # One family.

    def family(self, batch: Batch, *, limit: int) -> int:
        """Add one family's files to the batch; return the number of children added."""
        rng = self.rng
        village = rng.choices(self.places.villages, cum_weights=self.village_cum)[0]
        care = self._draw_care()
        exit_reason = self._pick(EXIT_WEIGHTS) if rng.random() < EXITED_FAMILY_SHARE else ""
        size = min(limit, rng.choices((1, 2, 3), weights=(50, 35, 15))[0])
        if exit_reason == c.ExitReason.AGED_OUT:
            size = min(size, 2)
        ages = self._ages(size, care, exit_reason)
        births = [self._birth_for_age(age) for age in ages]
        family = self._make_family(village, care, exit_reason, births[0])
        for birth in births:
            self._child(batch, family, birth)
        return len(births)

    def _make_family(self, village: Region, care: str, exit_reason: str, eldest: dt.date) -> _Family:
        rng = self.rng
        surname = self._surname()
        mother_surname = self._surname(exclude=surname)
        opened = _day_between(rng, self.on - dt.timedelta(days=1461), self.on - dt.timedelta(days=1))
        exited = None
        if exit_reason and exit_reason != c.ExitReason.AGED_OUT:
            exited = _day_between(rng, opened + dt.timedelta(days=30), self.on)
        father_birth = self._adult_birth(eldest, 22, 36)
        mother_birth = self._adult_birth(eldest, 20, 33)
        father, mother, orphan = self._parents(
            care, exit_reason, surname, mother_surname, father_birth, mother_birth
        )
        rating = self._pick(RATING_WEIGHTS[care])
        guardian = self._guardian(care, rating, surname, mother_surname, father_birth, mother_birth, eldest)
        family = _Family(
            village=village,
            care=care,
            rating=rating,
            exit_reason=exit_reason,
            surname=surname,
            opened=opened,
            exited=exited,
            minutes=rng.randint(0, 540),
            household={},
            father=father,
            mother=mother,
            guardian=guardian,
            de_facto_orphan=orphan,
        )
        self._household(family)
        if guardian is not None:
            guardian["address"] = family.household["household_address"]
            guardian["assessed_by"] = self._worker(village)
            guardian["assessed_on"] = opened
        return family

    def _worker(self, village: Region) -> str:
        """The village's 儿童主任, who assesses entrusted guardians."""
        if village.code not in self.workers:
            sex = self.rng.choice("MF")
            self.workers[village.code] = self._adult_name(self._surname(), sex)
        return self.workers[village.code]

    def _parent(
        self, role: str, surname: str, birth: dt.date, status: str, incapacity: str = ""
    ) -> dict[str, Any]:
        sex = c.Sex.MALE if role == c.ParentRole.FATHER else c.Sex.FEMALE
        known = status != c.ParentStatus.DECEASED  # a deceased parent is entered as "—"
        reachable = status in {c.ParentStatus.AWAY, c.ParentStatus.AT_HOME}
        id_number = self._id_number(birth, sex) if known else ""
        phone = self._phone() if reachable else ""
        values: dict[str, Any] = {
            "role": role,
            "name": self._adult_name(surname, sex) if known else "",
            "birth_date": birth if known else None,
            "id_number": id_number,
            "id_index": id_index(id_number or None),
            "phone": phone,
            "phone_index": phone_index(phone or None),
            "status": status,
            "work_province_id": None,
            "work_city_id": None,
            "work_detail": "",
            "away_since": None,
            "incapacity_reason": incapacity,
            "incapacity_note": "",
        }
        if incapacity:
            values["incapacity_note"] = self.rng.choice(INCAPACITY_NOTES[c.IncapacityReason(incapacity)])
        if status == c.ParentStatus.AWAY:
            province, city = self.rng.choices(self.places.work_places, cum_weights=self.work_cum)[0]
            values.update(
                work_province_id=province.pk,
                work_city_id=city.pk,
                work_detail=self.rng.choice(WORK_DETAILS),
                away_since=_day_between(
                    self.rng, self.on - dt.timedelta(days=3650), self.on - dt.timedelta(days=60)
                ),
            )
        return values

    def _parent_statuses(self, care: str, exit_reason: str) -> tuple[str, str, str, str, bool]:
        """(father status, mother status, father incapacity, mother incapacity, de facto orphan)."""
        rng, away, home = self.rng, c.ParentStatus.AWAY, c.ParentStatus.AT_HOME
        if exit_reason == c.ExitReason.PARENTS_RETURNED:
            return home, home, "", "", False
        if care == c.CareType.ONE_PARENT:
            # One parent away; the one at home cannot act as guardian.
            incapacity = rng.choice(
                [c.IncapacityReason.SERIOUS_ILLNESS, c.IncapacityReason.SERIOUS_DISABILITY]
            )
            if rng.random() < 0.75:
                return away, home, "", incapacity, False
            return home, away, incapacity, "", False
        roll = rng.random()
        gone = {c.ParentStatus.DECEASED: 50, c.ParentStatus.MISSING: 30, c.ParentStatus.IMPRISONED: 20}
        if care in {c.CareType.GRANDPARENTS, c.CareType.RELATIVES} and roll < 0.01:
            return self._pick(gone), self._pick(gone), "", "", True
        if roll < 0.04:
            if rng.random() < 0.5:
                return away, self._pick(gone), "", "", False
            return self._pick(gone), away, "", "", False
        return away, away, "", "", False

    def _parents(
        self,
        care: str,
        exit_reason: str,
        surname: str,
        mother_surname: str,
        father_birth: dt.date,
        mother_birth: dt.date,
    ) -> tuple[dict[str, Any], dict[str, Any], bool]:
        father_status, mother_status, father_inc, mother_inc, orphan = self._parent_statuses(
            care, exit_reason
        )
        father = self._parent(c.ParentRole.FATHER, surname, father_birth, father_status, father_inc)
        mother = self._parent(c.ParentRole.MOTHER, mother_surname, mother_birth, mother_status, mother_inc)
        if father["work_city_id"] and mother["work_city_id"] and self.rng.random() < 0.6:
            mother.update(work_province_id=father["work_province_id"], work_city_id=father["work_city_id"])
        return father, mother, orphan

    def _guardian(
        self,
        care: str,
        rating: str,
        surname: str,
        mother_surname: str,
        father_birth: dt.date,
        mother_birth: dt.date,
        eldest: dt.date,
    ) -> dict[str, Any] | None:
        rng, rel = self.rng, c.GuardianRelation
        if care == c.CareType.GRANDPARENTS:
            relation = self._pick(
                {
                    rel.GRANDMOTHER: 45,
                    rel.GRANDFATHER: 25,
                    rel.MATERNAL_GRANDMOTHER: 20,
                    rel.MATERNAL_GRANDFATHER: 10,
                }
            )
            sex = c.Sex.MALE if relation in {rel.GRANDFATHER, rel.MATERNAL_GRANDFATHER} else c.Sex.FEMALE
            family_name = {rel.GRANDFATHER: surname, rel.MATERNAL_GRANDFATHER: mother_surname}.get(relation)
            maternal = relation in {rel.MATERNAL_GRANDFATHER, rel.MATERNAL_GRANDMOTHER}
            birth = self._adult_birth(mother_birth if maternal else father_birth, 20, 32)
        elif care == c.CareType.RELATIVES:
            relation = self._pick({rel.UNCLE_AUNT: 70, rel.OTHER_RELATIVE: 20, rel.SIBLING: 10})
            sex = rng.choice([c.Sex.MALE, c.Sex.FEMALE])
            family_name = surname if relation == rel.SIBLING or rng.random() < 0.6 else mother_surname
            if relation == rel.OTHER_RELATIVE:
                family_name = None
            if relation == rel.SIBLING:
                birth = _day_between(rng, rules.add_years(self.on, -26), rules.add_years(self.on, -18))
            else:
                birth = self._adult_birth(eldest, 20, 45)
        else:
            return None
        id_number = self._id_number(birth, sex)
        phone = self._phone() if rng.random() < 0.85 else ""
        values: dict[str, Any] = {
            "name": self._adult_name(family_name or self._surname(exclude=surname), sex),
            "id_number": id_number,
            "id_index": id_index(id_number),
            "phone": phone,
            "phone_index": phone_index(phone or None),
            "relation": relation,
        }
        values.update(dict.fromkeys(EntrustedGuardian.CHECKLIST, True))
        if rating == c.Rating.POOR and rng.random() < 0.6:
            values[rng.choice(["check_able_to_care", "check_no_neglect"])] = False
        return values

    def _household(self, family: _Family) -> None:
        rng = self.rng
        village = family.village
        township = village.parent
        assert township is not None
        address = f"合浦县{township.name}{village.name}第{rng.randint(1, 12)}村民小组{rng.randint(1, 80)}号"
        family.dibao = rng.random() < (0.5 if family.de_facto_orphan else 0.08)
        assistance = [c.Assistance.DIBAO] if family.dibao else []
        if family.de_facto_orphan and rng.random() < 0.5:
            assistance.append(c.Assistance.TEKUN)
        for code, share in ((c.Assistance.TEMPORARY, 0.03), (c.Assistance.HOUSING, 0.01)):
            if rng.random() < share:
                assistance.append(code)
        income = []
        if c.ParentStatus.AWAY in {family.father["status"], family.mother["status"]}:
            income.append(c.Income.MIGRANT_WORK)
        if rng.random() < 0.6:
            income.append(c.Income.FARMING)
        if assistance:
            income.append(c.Income.GOVERNMENT_AID)
        if rng.random() < (0.6 if family.de_facto_orphan else 0.1):
            income.append(c.Income.RELATIVES_HELP)
        family.household = {
            "household_address": address,
            "current_address": address,
            "hukou_place": f"广西壮族自治区合浦县{township.name}{village.name}",
            "ethnicity": self._pick({"汉族": 960, "壮族": 30, "瑶族": 5, "苗族": 5}),
            "income_sources": [str(code) for code in income or [c.Income.FARMING]],
            "assistance": [str(code) for code in assistance],
        }

    def _school(self, age: int, village: Region) -> tuple[str, Unit | None, str, bool]:
        """(schooling, school, grade, boarding), consistent with the age."""
        rng, s = self.rng, c.Schooling
        township = village.parent.code if village.parent else ""
        if age <= 2 or (age <= 5 and rng.random() < 0.15):
            return s.NOT_IN_KINDERGARTEN, None, "", False
        if age <= 5:
            return s.KINDERGARTEN, None, ("小班", "中班", "大班")[age - 3], False
        if age <= 14:
            if rng.random() < (0.003 if 10 <= age <= 11 else 0.015 if age >= 12 else 0):
                return s.DROPOUT, None, "", False
            if age <= 11:
                grade = f"{CN_NUMBERS[age - 5]}年级（{rng.randint(1, 4)}）班"
                return (
                    s.PRIMARY,
                    self.places.primary_school.get(township),
                    grade,
                    age >= 9 and rng.random() < 0.15,
                )
            grade = f"{'七八九'[age - 12]}年级（{rng.randint(1, 8)}）班"
            return s.JUNIOR, self.places.junior_school.get(township), grade, rng.random() < 0.7
        weights = {s.SENIOR: 45, s.VOCATIONAL: 25, s.JUNIOR: 15, s.NOT_IN_SCHOOL: 12, s.DROPOUT: 3}
        if age > 15:
            weights = {s.SENIOR: 55, s.VOCATIONAL: 30, s.NOT_IN_SCHOOL: 15}
        schooling = self._pick(weights)
        if schooling == s.SENIOR:
            grade = ("高一", "高二", "高三")[min(age - 15 + rng.randint(0, 1), 2)]
            return (
                schooling,
                self.places.units.get((UnitKind.SCHOOL, SENIOR_SCHOOL)),
                grade,
                rng.random() < 0.9,
            )
        if schooling == s.VOCATIONAL:
            return schooling, None, "中职一年级", rng.random() < 0.8
        if schooling == s.JUNIOR:
            return (
                schooling,
                self.places.junior_school.get(township),
                f"九年级（{rng.randint(1, 8)}）班",
                True,
            )
        return schooling, None, "", False

    def _health(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.010:
            return {
                "health": c.Health.DISABLED,
                "disability_category": self._pick(
                    {
                        c.DisabilityCategory.INTELLECTUAL: 30,
                        c.DisabilityCategory.PHYSICAL: 25,
                        c.DisabilityCategory.HEARING: 10,
                        c.DisabilityCategory.SPEECH: 10,
                        c.DisabilityCategory.VISUAL: 8,
                        c.DisabilityCategory.MENTAL: 7,
                        c.DisabilityCategory.MULTIPLE: 10,
                    }
                ),
                "disability_grade": self._pick({"1": 15, "2": 25, "3": 30, "4": 30}),
            }
        if roll < 0.025:
            return {"health": c.Health.ILL, "illness": self.rng.choice(ILLNESSES)}
        return {"health": c.Health.HEALTHY}

    def _dates(self, family: _Family, birth: dt.date) -> tuple[dt.datetime, dt.datetime, dt.date | None]:
        """(created_at, updated_at, exit date): opened after birth, exited after opening."""
        month = dt.timedelta(days=30)
        if family.exit_reason == c.ExitReason.AGED_OUT:
            exit_day: dt.date | None = rules.add_years(birth, 16)
            assert exit_day is not None
            opened = _day_between(
                self.rng, max(birth + month, exit_day - dt.timedelta(days=1461)), exit_day - month
            )
        else:
            exit_day = family.exited
            opened = min(max(family.opened, birth + month), exit_day or self.on)
        created = _aware(opened, family.minutes)
        updated = _aware(exit_day, family.minutes + 30) if exit_day else created
        return created, updated, exit_day

    def _child(self, batch: Batch, family: _Family, birth: dt.date) -> None:
        rng = self.rng
        sex = c.Sex.MALE if rng.random() < 0.545 else c.Sex.FEMALE
        taken = {child.name for child in batch.children[-3:]}
        name = family.surname + self._given(f"child_{sex}")
        while name in taken:  # siblings do not share a name
            name = family.surname + self._given(f"child_{sex}")
        registered = rng.random() >= 0.01
        age = rules.age_on(birth, self.on)
        schooling, school, grade, boarding = self._school(age, family.village)
        health = self._health()
        in_difficulty = family.de_facto_orphan or rng.random() < (
            0.7 if health["health"] != c.Health.HEALTHY else 0.3 if family.dibao else 0.005
        )
        assistance = list(family.household["assistance"])
        if health["health"] == c.Health.ILL and rng.random() < 0.5:
            assistance.append(str(c.Assistance.MEDICAL))
        household = {**family.household, "assistance": assistance}
        if not registered:
            household["hukou_place"] = ""
        created, updated, exit_day = self._dates(family, birth)
        manual = rng.random() < 0.003
        child = record(
            Child,
            id=_uuid(rng),
            name=name,
            sex=sex,
            birth_date=birth,
            id_number=self._id_number(birth, sex) if registered else "",
            hukou_registered=registered,
            hukou_rural=True,
            village_id=family.village.pk,
            schooling=schooling,
            school_id=school.pk if school else None,
            grade=grade,
            boarding=boarding,
            care_type=family.care,
            guardianship_rating=family.rating,
            is_in_difficulty=in_difficulty,
            is_de_facto_orphan=family.de_facto_orphan,
            key_manual=manual,
            key_manual_reason="家庭遭遇重大变故" if manual else "",
            created_at=created,
            updated_at=updated,
            created_by_id=self.created_by.pk,
            version=1,
            **household,
            **health,
        )
        if family.exit_reason:
            child.status, child.exit_reason, child.exit_date = c.Status.EXITED, family.exit_reason, exit_day
            child.exit_note = "户籍迁出本县" if family.exit_reason == c.ExitReason.OTHER else ""
            child.version = 2
        self._derive(child, family)
        self.file_seq[family.village.code] += 1
        child.file_no = f"{family.village.code}{self.file_seq[family.village.code]:06d}"
        batch.children.append(child)
        for values in (family.father, family.mother):
            batch.parents.append(record(Parent, id=_uuid(rng), child_id=child.id, **values))
        if family.guardian is not None:
            batch.guardians.append(
                record(EntrustedGuardian, id=_uuid(rng), child_id=child.id, **family.guardian)
            )

    def _derive(self, child: Record, family: _Family) -> None:
        """registry.services.derive() without re-parsing the ID number built a moment ago
        (stdnum's checks were half the time of a 1M-file load). test_seed_demo checks that
        derive() gives the same values for every generated file."""
        child.name_pinyin, child.name_initials = _pinyin_keys(child.name)
        child.id_index = id_index(child.id_number or None)
        child.id_tail = child.id_number[-4:]
        township = family.village.parent
        assert township is not None and township.parent is not None
        child.township_id, child.county_id = township.pk, township.parent.pk
        child.is_left_behind = rules.is_left_behind(
            birth=child.birth_date,
            on=self.on,
            father=family.father_facts,
            mother=family.mother_facts,
            hukou_registered=child.hukou_registered,
            hukou_rural=child.hukou_rural,
        )
        child.key_reasons = rules.key_reasons(
            guardianship_rating=child.guardianship_rating,
            care_type=child.care_type,
            schooling=child.schooling,
            hukou_registered=child.hukou_registered,
            health=child.health,
            manual=child.key_manual,
        )
        child.is_key = bool(child.key_reasons)


@functools.lru_cache(maxsize=200_000)
def _pinyin_keys(name: str) -> tuple[str, str]:
    return pinyin_keys(name)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out: list[float] = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


# --- Writing ----------------------------------------------------------------------------
#
# Rows go straight to the database: executemany on SQLite, COPY on PostgreSQL. bulk_create
# spends most of its time compiling SQL (999 parameters per statement on SQLite) and would
# overwrite the computed created_at/updated_at (auto_now); values are still converted with
# each field's get_db_prep_save, as the ORM does.

Getter = Callable[[Any], Any]
_PLAIN_FIELDS = (models.CharField, models.TextField, models.BooleanField, models.IntegerField)


def _passes_as_is(model_field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> bool:
    """Whether get_db_prep_save would hand the Python value over unchanged, so the call can be
    skipped (4M calls at a million files). True for plain text, booleans and integers; on
    PostgreSQL also for UUIDs, dates, aware datetimes and keys to them. Never for anything
    else: encrypted fields (core.fields) and JSON must go through their field."""
    if getattr(model_field, "encrypted", False):
        return False
    if isinstance(model_field, models.ForeignKey):
        return _passes_as_is(model_field.target_field, connection)
    if isinstance(model_field, _PLAIN_FIELDS):
        return True
    return connection.vendor == "postgresql" and isinstance(model_field, models.UUIDField | models.DateField)


def _prepared(model_field: models.Field[Any, Any], read: Getter, connection: BaseDatabaseWrapper) -> Getter:
    prep = model_field.get_db_prep_save
    return lambda obj: prep(read(obj), connection)


def _column_getters(
    model_type: type[models.Model], overrides: dict[str, Getter], connection: BaseDatabaseWrapper
) -> tuple[list[str], list[Getter]]:
    columns: list[str] = []
    getters: list[Getter] = []
    for model_field in model_type._meta.concrete_fields:
        if isinstance(model_field, models.AutoField | models.BigAutoField):
            continue  # history_id: the database numbers the rows
        read: Getter = overrides.get(model_field.attname) or operator.attrgetter(model_field.attname)
        assert model_field.column is not None  # concrete fields have a column
        columns.append(model_field.column)
        getters.append(
            read if _passes_as_is(model_field, connection) else _prepared(model_field, read, connection)
        )
    return columns, getters


def rows_insert(
    model_type: type[models.Model], objs: Sequence[Any], overrides: dict[str, Getter] | None = None
) -> None:
    """Insert one row per object; `overrides` reads a column's value differently (history)."""
    if not objs:
        return
    connection = connections[router.db_for_write(model_type)]
    columns, getters = _column_getters(model_type, overrides or {}, connection)
    rows = [tuple(getter(obj) for getter in getters) for obj in objs]
    quote = connection.ops.quote_name
    table = quote(model_type._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 -- names from model metadata
            cursor.executemany(sql, rows)


def _history(
    kind: str, date: Getter, reason: Getter | str, user: User | None, **fields: Getter
) -> dict[str, Getter]:
    """Overrides that turn an object into its simple_history row."""
    user_id = user.pk if user is not None else None
    return {
        "history_type": lambda obj: kind,
        "history_date": date,
        "history_change_reason": reason if callable(reason) else (lambda obj: reason),
        "history_user_id": lambda obj: user_id,
        **fields,
    }


def _exit_reason_label(child: Record) -> str:
    return "退出：" + c.ExitReason(child.exit_reason).label


def _child_history(children: list[Record], user: User | None) -> None:
    """A "created" row per file, as it was when opened, and an exit row for exited files."""
    opened = _history(
        "+",
        operator.attrgetter("created_at"),
        HISTORY_REASON,
        user,
        status=lambda obj: c.Status.ACTIVE,
        exit_reason=lambda obj: "",
        exit_date=lambda obj: None,
        exit_note=lambda obj: "",
        version=lambda obj: 1,
        updated_at=operator.attrgetter("created_at"),
    )
    rows_insert(Child.history.model, children, opened)  # type: ignore[attr-defined]
    exited = [child for child in children if child.status == c.Status.EXITED]
    closed = _history("~", operator.attrgetter("updated_at"), _exit_reason_label, user)
    rows_insert(Child.history.model, exited, closed)  # type: ignore[attr-defined]


def batch_write(batch: Batch, *, history: bool = True, user: User | None = None) -> None:
    """Write one batch; with history, each object also gets its "created" history row."""
    rows_insert(Child, batch.children)
    rows_insert(Parent, batch.parents)
    rows_insert(EntrustedGuardian, batch.guardians)
    if not history:
        return
    _child_history(batch.children, user)
    opened_at = {child.id: child.created_at for child in batch.children}
    family_opened = _history("+", lambda obj: opened_at[obj.child_id], HISTORY_REASON, user)
    rows_insert(Parent.history.model, batch.parents, family_opened)  # type: ignore[attr-defined]
    rows_insert(EntrustedGuardian.history.model, batch.guardians, family_opened)  # type: ignore[attr-defined]


# --- Accounts ---------------------------------------------------------------------------


def _account_units(places: Places) -> dict[str, Unit]:
    county, township = places.county.code, SHOWCASE_TOWNSHIP
    first_committee = _demo_village(places.villages)
    assert first_committee is not None  # every township has 村委会 (_make_villages)
    return {
        "civil_affairs": places.units[(UnitKind.CIVIL_AFFAIRS, county)],
        "education": places.units[(UnitKind.EDUCATION, county)],
        "township_government": places.units[(UnitKind.TOWNSHIP_GOVERNMENT, township)],
        "village_committee": places.units[(UnitKind.VILLAGE_COMMITTEE, first_committee.code)],
        "school": places.primary_school[township],
        "police_station": places.units[(UnitKind.POLICE_STATION, township)],
        "social_work": places.units[(UnitKind.SOCIAL_WORK, county)],
        "hospital": places.units[(UnitKind.HOSPITAL, county)],
        "childrens_home": places.units[(UnitKind.CHILDRENS_HOME, first_committee.code)],
    }


def accounts_create(
    rng: random.Random, places: Places, *, on: dt.date, password: str | None
) -> tuple[dict[str, User], list[DemoAccount]]:
    """One demo user per role, each with one grant at its unit; the county admin grants them."""
    units = _account_units(places)
    usernames = [f"demo_{role}" for role, _ in DEMO_ACCOUNTS]
    clash = User.objects.filter(username__in=usernames).values_list("username", flat=True).first()
    if clash:
        raise DemoError(f"用户 {clash} 已存在，演示数据未导入。")
    # Created on the reference day, with the password set then: an older date would make the
    # password expired and the account dormant (AU-2, AC-7) at the first login.
    joined = _aware(on, 0)
    passwords = [password or secrets.token_urlsafe(12) for _ in DEMO_ACCOUNTS]
    hashes = _hash_passwords(passwords)
    users: dict[str, User] = {}
    accounts: list[DemoAccount] = []
    for (role, unit_key), secret in zip(DEMO_ACCOUNTS, passwords, strict=True):
        unit = units[unit_key]
        user = User(
            username=f"demo_{role}",
            password=hashes[secret],
            id=_uuid(rng),
            full_name=f"演示-{Role(role).label}",
            date_joined=joined,
            password_changed_at=joined,
        )
        user._history_date = joined  # type: ignore[attr-defined]
        user.save()
        admin = users.get(Role.COUNTY_ADMIN)
        grant = RoleGrant(id=_uuid(rng), user=user, role=role, unit=unit, granted_at=joined, granted_by=admin)
        rows_insert(RoleGrant, [grant])
        rows_insert(
            RoleGrant.history.model, [grant], _history("+", lambda obj: joined, HISTORY_REASON, admin)
        )  # type: ignore[attr-defined]
        users[role] = user
        accounts.append(DemoAccount(user.username, Role(role).label, unit.name, secret))
    return users, accounts


def assignments_create(rng: random.Random, users: dict[str, User], places: Places, *, on: dt.date) -> None:
    """Key children of 廉州镇 for the social worker; for the cadre, children of the demo
    village first, then of the rest of 廉州镇 (a small demo may leave the village empty)."""
    admin = users[Role.COUNTY_ADMIN]
    village = _account_units(places)["village_committee"].region
    township = Child.objects.filter(status=c.Status.ACTIVE, township__code=SHOWCASE_TOWNSHIP)
    elsewhere = Case(When(village=village, then=Value(0)), default=Value(1))
    chosen = {
        Role.SOCIAL_WORKER: township.filter(is_key=True).order_by("file_no"),
        Role.VISITING_CADRE: township.order_by(elsewhere, "file_no"),
    }
    assigned = _aware(on, 60)
    for role, children in chosen.items():
        rows = [
            Assignment(
                id=_uuid(rng),
                child=child,
                user=users[role],
                role=role,
                assigned_at=assigned,
                assigned_by=admin,
            )
            for child in children[:ASSIGNED_PER_USER]
        ]
        rows_insert(Assignment, rows)
        rows_insert(
            Assignment.history.model, rows, _history("+", lambda obj: assigned, HISTORY_REASON, admin)
        )  # type: ignore[attr-defined]
    _home_assignments_create(rng, admin, _account_units(places)["childrens_home"], assigned)


def _home_assignments_create(rng: random.Random, admin: User, home: Unit, assigned: dt.datetime) -> None:
    """The demo village's children, the key ones first, assigned to its 儿童之家: the demo
    provider-staff account sees them (R16)."""
    village = Child.objects.filter(status=c.Status.ACTIVE, village_id=home.region_id)
    children = village.order_by("-is_key", "file_no")
    rows = [
        UnitAssignment(
            id=_uuid(rng),
            child=child,
            unit=home,
            source=UnitAssignment.Source.ASSIGNED,
            assigned_at=assigned,
            assigned_by=admin,
        )
        for child in children[:SERVED_BY_HOME]
    ]
    rows_insert(UnitAssignment, rows)
    rows_insert(
        UnitAssignment.history.model, rows, _history("+", lambda obj: assigned, HISTORY_REASON, admin)
    )  # type: ignore[attr-defined]


def _hash_passwords(passwords: list[str]) -> dict[str, str]:
    """Hash in threads: Argon2 takes about half a second each and releases the GIL."""
    unique = sorted(set(passwords))
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(unique, pool.map(make_password, unique), strict=True))


@contextlib.contextmanager
def _large_sqlite_cache() -> Iterator[None]:
    """SQLite's default 2 MB page cache spills to the WAL over and over during a bulk load."""
    connection = connections[router.db_for_write(Child)]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous}")


# --- Entry point ------------------------------------------------------------------------


@transaction.atomic
def demo_seed(
    *,
    seed: int,
    children: int,
    on: dt.date,
    password: str | None = None,
    history: bool = True,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Build the demo county in one transaction and set the demo_loaded flag."""
    rng = random.Random(seed)  # noqa: S311 -- synthetic data, repeatable by design
    places, created_units = places_build(rng)
    users, accounts = accounts_create(rng, places, on=on, password=password)
    admin = users[Role.COUNTY_ADMIN]
    generator = FamilyGenerator(rng, places, on, created_by=admin)
    summary = DemoSummary(villages=len(places.villages), units=created_units, accounts=accounts)
    with _large_sqlite_cache():
        for batch in generator.batches(children):
            batch_write(batch, history=history, user=admin)
            summary.add(batch)
            if progress is not None:
                progress(summary.children)
    assignments_create(rng, users, places, on=on)
    InstanceFlag.objects.update_or_create(key=DEMO_FLAG, defaults={"value": "1"})
    return summary
