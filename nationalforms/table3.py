"""附件3 农村留守儿童统计表 (MF42): 32 columns and their cross-column identities (R31).

The original column headings were not obtained (REQUIREMENTS.md §13 gap 4). The columns below
are a reconstruction that satisfies every identity R31 quotes (1 = 2+5+8 = Σ11..18 = 19+20;
2 = 3+4; 13+14 = 24+25) and a few of our own; the page says so (RECONSTRUCTION_NOTE).

Everything here is pure Python on ChildFacts, except facts_from_children() (the one loader)
and table3() (which calls it). ChildFacts holds no personal data and is JSON-able through
dataclasses.asdict, so the submissions app can freeze facts in a snapshot and tally them later.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import FilteredRelation, Q, QuerySet

from registry import choices as c
from registry import rules
from registry.models import Child

RECONSTRUCTION_NOTE = "列设置依据民发〔2016〕42号附件3勾稽关系重建"
CHECK_PASSED = "勾稽关系通过"

SCHOOLING_ORDER: tuple[str, ...] = tuple(c.Schooling.values)  # columns 11–18, R30 order
CARE_TYPE_ORDER: tuple[str, ...] = tuple(c.CareType.values)  # columns 26–31
COMPULSORY = frozenset({c.Schooling.PRIMARY, c.Schooling.JUNIOR})
# Column 23 is headed 14–16 岁 (R2); a left-behind child is under 16, so it holds ages 14 and 15.
AGE_COLUMNS = ((21, 0, 5), (22, 6, 13), (23, 14, 16))
_SEX_COLUMN: dict[str, int] = {c.Sex.MALE: 19, c.Sex.FEMALE: 20}

COLUMNS: tuple[tuple[int, str], ...] = (
    (1, "留守儿童合计"),
    (2, "父母均外出务工"),
    (3, "其中：至少一方跨省务工"),
    (4, "其中：均在省内务工"),
    (5, "一方外出务工、另一方无监护能力"),
    (6, "其中：父亲外出"),
    (7, "其中：母亲外出"),
    (8, "一方外出务工、另一方已故、失踪或服刑等"),
    (9, "残疾"),
    (10, "患病（含严重精神障碍）"),
    *((11 + i, f"就学情况：{label}") for i, label in enumerate(c.Schooling.labels)),
    (19, "男"),
    (20, "女"),
    (21, "0–5岁"),
    (22, "6–13岁"),
    (23, "14–16岁"),
    (24, "义务教育阶段学校寄宿"),
    (25, "义务教育阶段非寄宿"),
    *((26 + i, f"监护类型：{label}") for i, label in enumerate(c.CareType.labels)),
    (32, "监护情况差"),
)
HEADINGS = dict(COLUMNS)
WIDTH = len(COLUMNS)  # 32


@dataclass(frozen=True)
class ChildFacts:
    """Everything the table needs about one child, and nothing that identifies the child."""

    sex: str
    birth_date: dt.date
    schooling: str
    boarding: bool
    care_type: str
    rating: str
    health: str
    father_status: str
    father_incapacity: str
    mother_status: str
    mother_incapacity: str
    cross_province: bool  # a parent away works outside the child's province


# --- counting ----------------------------------------------------------------------------------


def _parents(facts: ChildFacts) -> tuple[rules.ParentFacts, rules.ParentFacts]:
    father = rules.ParentFacts(status=facts.father_status, incapacity_reason=facts.father_incapacity)
    mother = rules.ParentFacts(status=facts.mother_status, incapacity_reason=facts.mother_incapacity)
    return father, mother


def counts_on(facts: ChildFacts, on: dt.date) -> bool:
    """Whether this child is a left-behind child on the reference date (by age and parents;
    the hukou condition is the loader's, through the file's is_left_behind)."""
    father, mother = _parents(facts)
    return rules.is_left_behind(birth=facts.birth_date, on=on, father=father, mother=mother)


def _family_column(facts: ChildFacts) -> list[int]:
    """Columns 2–8 this child falls in: 2 (and 3 or 4), 5 (and 6 or 7), or 8."""
    father, mother = _parents(facts)
    if father.is_away and mother.is_away:
        return [2, 3 if facts.cross_province else 4]
    at_home = mother if father.is_away else father
    if at_home.status == c.ParentStatus.AT_HOME:  # at home without guardianship capacity
        return [5, 6 if father.is_away else 7]
    return [8]


def _columns_of(facts: ChildFacts, on: dt.date) -> list[int]:
    columns = [1, *_family_column(facts)]
    if facts.health == c.Health.DISABLED:
        columns.append(9)
    if facts.health == c.Health.ILL:
        columns.append(10)
    if facts.schooling in SCHOOLING_ORDER:
        columns.append(11 + SCHOOLING_ORDER.index(facts.schooling))
    columns.append(_SEX_COLUMN.get(facts.sex, 0))
    age = rules.age_on(facts.birth_date, on)
    columns.extend(number for number, low, high in AGE_COLUMNS if low <= age <= high)
    if facts.schooling in COMPULSORY:
        columns.append(24 if facts.boarding else 25)
    if facts.care_type in CARE_TYPE_ORDER:
        columns.append(26 + CARE_TYPE_ORDER.index(facts.care_type))
    if facts.rating == c.Rating.POOR:
        columns.append(32)
    return [number for number in columns if number]


def _add(counts: list[int], item: ChildFacts, on: dt.date) -> None:
    if counts_on(item, on):
        for number in _columns_of(item, on):
            counts[number - 1] += 1


def tally(facts: Iterable[ChildFacts], *, on: dt.date) -> list[int]:
    """The 32 counts (index 0 is column 1) of the children who are left behind on `on`.

    A value outside its code list (a schooling or care type the table has no column for)
    counts in column 1 but in none of its group, so check() reports the broken identity
    instead of the table hiding the child."""
    counts = [0] * WIDTH
    for item in facts:
        _add(counts, item, on)
    return counts


# --- the identities (勾稽关系) ------------------------------------------------------------------


def _list(numbers: Sequence[int]) -> str:
    if len(numbers) > 3 and list(numbers) == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}至{numbers[-1]}"
    return "、".join(str(n) for n in numbers)


def _equal_sum(counts: Sequence[int], left: int, right: Sequence[int]) -> str | None:
    total = sum(counts[n - 1] for n in right)
    if counts[left - 1] == total:
        return None
    return f"第{left}列（{HEADINGS[left]}）应等于第{_list(right)}列之和：{counts[left - 1]} ≠ {total}"


def _sums_equal(counts: Sequence[int], left: Sequence[int], right: Sequence[int]) -> str | None:
    a, b = sum(counts[n - 1] for n in left), sum(counts[n - 1] for n in right)
    if a == b:
        return None
    return f"第{_list(left)}列之和应等于第{_list(right)}列之和：{a} ≠ {b}"


def _at_most_total(counts: Sequence[int], column: int) -> str | None:
    if counts[column - 1] <= counts[0]:
        return None
    value, total = counts[column - 1], counts[0]
    return f"第{column}列（{HEADINGS[column]}）不应大于第1列（{HEADINGS[1]}）：{value} > {total}"


def check(counts: Sequence[int]) -> list[str]:
    """One Chinese message per identity the counts break; empty when all hold."""
    if len(counts) != WIDTH:
        return [f"统计表应有{WIDTH}列，实有{len(counts)}列"]
    found = [
        _equal_sum(counts, 1, (2, 5, 8)),
        _equal_sum(counts, 1, tuple(range(11, 19))),
        _equal_sum(counts, 1, (19, 20)),
        _equal_sum(counts, 1, (21, 22, 23)),
        _equal_sum(counts, 1, tuple(range(26, 32))),
        _equal_sum(counts, 2, (3, 4)),
        _equal_sum(counts, 5, (6, 7)),
        _sums_equal(counts, (13, 14), (24, 25)),
        *(_at_most_total(counts, column) for column in (9, 10, 32)),
    ]
    negative = (n for n in range(1, WIDTH + 1) if counts[n - 1] < 0)
    found.extend(f"第{n}列（{HEADINGS[n]}）不应为负数：{counts[n - 1]}" for n in negative)
    return [message for message in found if message]


# --- loading and the whole table ----------------------------------------------------------------

_FACT_FIELDS = (
    "village_id",
    "township_id",
    "county__code",
    "sex",
    "birth_date",
    "schooling",
    "boarding",
    "care_type",
    "guardianship_rating",
    "health",
    "f__status",
    "f__incapacity_reason",
    "f__work_province__code",
    "m__status",
    "m__incapacity_reason",
    "m__work_province__code",
)


def _away_outside(status: str | None, province: str | None, home: str) -> bool:
    return status == c.ParentStatus.AWAY and bool(province) and not str(province).startswith(home)


def _facts(row: dict[str, Any]) -> ChildFacts:
    home = (row["county__code"] or "")[:2]
    return ChildFacts(
        sex=row["sex"],
        birth_date=row["birth_date"],
        schooling=row["schooling"],
        boarding=row["boarding"],
        care_type=row["care_type"],
        rating=row["guardianship_rating"],
        health=row["health"],
        father_status=row["f__status"] or "",
        father_incapacity=row["f__incapacity_reason"] or "",
        mother_status=row["m__status"] or "",
        mother_incapacity=row["m__incapacity_reason"] or "",
        cross_province=_away_outside(row["f__status"], row["f__work_province__code"], home)
        or _away_outside(row["m__status"], row["m__work_province__code"], home),
    )


def counted_children(children: QuerySet[Child]) -> QuerySet[Child]:
    """The files the table counts: active, left behind (R1, hukou included)."""
    return children.filter(status=c.Status.ACTIVE, is_left_behind=True)


def _fact_rows(children: QuerySet[Child]) -> Any:
    return (
        children.annotate(
            f=FilteredRelation("parents", condition=Q(parents__role=c.ParentRole.FATHER)),
            m=FilteredRelation("parents", condition=Q(parents__role=c.ParentRole.MOTHER)),
        )
        .order_by()
        .values("id", *_FACT_FIELDS)
    )


def facts_from_children(children: QuerySet[Child]) -> Iterator[tuple[Any, Any, ChildFacts]]:
    """(village_id, township_id, facts) of each counted file of `children` (already scoped by
    the caller), in one query (both parents joined), read in chunks."""
    for row in _fact_rows(counted_children(children)).iterator(chunk_size=2000):
        yield row["village_id"], row["township_id"], _facts(row)


def facts_by_child(children: QuerySet[Child]) -> Iterator[tuple[Any, ChildFacts]]:
    """(child id, facts) of EVERY file of `children`, counted or not (a snapshot keeps them
    all and counts them later, at its reference date), in one query read in chunks."""
    for row in _fact_rows(children).iterator(chunk_size=2000):
        yield row["id"], _facts(row)


@dataclass(frozen=True)
class Table3Row:
    region_id: Any  # None for the total row
    name: str
    counts: list[int]
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Table3:
    on: dt.date
    by: str  # "township" | "village"
    rows: list[Table3Row]
    total: Table3Row
    columns: tuple[tuple[int, str], ...] = field(default=COLUMNS)

    @property
    def passed(self) -> bool:
        return self.total.passed and all(row.passed for row in self.rows)


def build_table(
    facts: Iterable[tuple[Any, Any, ChildFacts]],
    *,
    on: dt.date,
    by: str,
    regions: Sequence[tuple[Any, str]],
    names: Callable[[set[Any]], Sequence[tuple[Any, str]]] | None = None,
) -> Table3:
    """The table from (village_id, township_id, facts) triples, read once (counts are kept,
    facts are not): one row per region in `regions` ((id, name), in order; regions without
    children get zeros), then a row per region met in the facts but not listed, named by
    `names` (ids → (id, name) pairs) or "未知区划", and the total row."""
    if by not in {"township", "village"}:
        raise ValueError(f"by must be 'township' or 'village', not {by!r}")
    grouped: dict[Any, list[int]] = {region_id: [0] * WIDTH for region_id, _ in regions}
    for village_id, township_id, item in facts:
        key = township_id if by == "township" else village_id
        _add(grouped.setdefault(key, [0] * WIDTH), item, on)
    listed = dict(regions)
    extra = set(grouped) - set(listed)
    named = list(regions) + list(names(extra) if names and extra else [])
    named += [(key, "未知区划") for key in extra - {key for key, _ in named}]
    rows = [Table3Row(key, name, grouped[key], check(grouped[key])) for key, name in named]
    total = [sum(row.counts[i] for row in rows) for i in range(WIDTH)]
    return Table3(on=on, by=by, rows=rows, total=Table3Row(None, "合计", total, check(total)))


def region_names(ids: set[Any]) -> list[tuple[Any, str]]:
    from geo.models import Region

    return list(Region.objects.filter(pk__in=ids).order_by("code").values_list("id", "name"))


def table3(children: QuerySet[Child], *, on: dt.date, by: str) -> Table3:
    """附件3 for the scoped `children`: a row per township or village that has counted files,
    plus the total. Views that want zero rows for empty regions call build_table() with
    the regions of the user's scope."""
    return build_table(facts_from_children(children), on=on, by=by, regions=[], names=region_names)
