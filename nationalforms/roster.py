"""附件2 花名册 (the roster): one row per child with the 附件1 fields in the form's order.

The layout was not obtained (REQUIREMENTS.md §13); the headers below are the contract with the
import (imports reads them back; import → export → import is a round trip), so they change only
together with it.

Two ways to a row, equal by test:
- roster_row() takes objects (registry models, or simple_history historical instances of a
  frozen snapshot) and reads them by attribute only;
- roster_rows() streams a queryset of any size in constant memory: one joined query of tuples
  read as it streams, no model instances (a province is a million rows).

Values are raw (full ID and phone numbers): core.exports.export_rows masks the columns marked
mask="id"/"phone" unless the export reveals. Only what the roster shows is read; the parents'
free-text work place (work_detail) is not: the form asks for province and city (R30).
"""

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import ExpressionWrapper, F, FilteredRelation, Model, Q, QuerySet, TextField

from core import crypto
from core.exports import Column
from core.fields import EncryptedCharField
from registry import choices as c
from registry.models import Child, EntrustedGuardian, Parent

CHUNK = 2000
LIST_SEPARATOR = "、"

ROSTER_COLUMNS: list[Column] = [
    Column("序号", width=6),
    Column("县（市、区）", width=12),
    Column("乡镇（街道）", width=12),
    Column("村（社区）", width=14),
    Column("姓名", width=10),
    Column("性别", width=6),
    Column("民族", width=8),
    Column("出生日期", width=12),
    Column("公民身份号码", mask="id", width=21),
    Column("是否登记户口", width=8),
    Column("户籍所在地", width=24),
    Column("现居住地", width=24),
    Column("身体情况", width=8),
    Column("残疾类别及等级", width=14),
    Column("患病类型", width=12),
    Column("是否学校寄宿", width=8),
    Column("就学情况", width=8),
    Column("就读学校", width=18),
    Column("父亲姓名", width=10),
    Column("父亲出生日期", width=12),
    Column("父亲公民身份号码", mask="id", width=21),
    Column("父亲当前务工地点", width=16),
    Column("父亲联系电话", mask="phone", width=14),
    Column("父亲当前状态", width=10),
    Column("母亲姓名", width=10),
    Column("母亲出生日期", width=12),
    Column("母亲公民身份号码", mask="id", width=21),
    Column("母亲当前务工地点", width=16),
    Column("母亲联系电话", mask="phone", width=14),
    Column("母亲当前状态", width=10),
    Column("有无委托监护人", width=8),
    Column("受委托监护人姓名", width=10),
    Column("受委托监护人联系电话", mask="phone", width=14),
    Column("受委托监护人公民身份号码", mask="id", width=21),
    Column("与儿童关系", width=10),
    Column("受委托监护人居住地址", width=24),
    Column("监护类型", width=16),
    Column("监护情况评估", width=8),
    Column("家庭经济来源", width=16),
    Column("救助帮扶情况", width=16),
    Column("困境儿童", width=8),
    Column("事实无人抚养儿童", width=8),
    Column("档案编号", width=18),
]
ROSTER_HEADERS: list[str] = [column.header for column in ROSTER_COLUMNS]

_SEX = dict(c.Sex.choices)
_HEALTH = dict(c.Health.choices)
_DISABILITY = dict(c.DisabilityCategory.choices)
_GRADE = dict(c.DisabilityGrade.choices)
_SCHOOLING = dict(c.Schooling.choices)
_PARENT_STATUS = dict(c.ParentStatus.choices)
_RELATION = dict(c.GuardianRelation.choices)
_CARE_TYPE = dict(c.CareType.choices)
_RATING = dict(c.Rating.choices)
_INCOME = dict(c.Income.choices)
_ASSISTANCE = dict(c.Assistance.choices)


def _label(labels: Mapping[str, str], code: str | None) -> str:
    return labels.get(code, code) if code else ""


def _labels(labels: Mapping[str, str], codes: Iterable[str] | None) -> str:
    return LIST_SEPARATOR.join(labels.get(code, code) for code in codes or ())


def disability_text(category: str | None, grade: str | None) -> str:
    """残疾类别及等级 in one cell: "肢体残疾二级"."""
    return f"{_label(_DISABILITY, category)}{_label(_GRADE, grade)}"


def work_place(province: str | None, city: str | None) -> str:
    """当前务工地点: province and city names (R30), "广东省 深圳市"."""
    return " ".join(name for name in (province, city) if name)


# --- from objects (models or historical instances) ----------------------------------------------


def _name_of(obj: Any, relation: str) -> str:
    """The name of a related region or unit, or "" when the key is empty (historical
    instances expose the same foreign-key attributes as models)."""
    if obj is None or getattr(obj, f"{relation}_id", None) is None:
        return ""
    related = getattr(obj, relation, None)
    return str(related.name) if related is not None else ""


def _parent_cells(parent: Any) -> list[object]:
    if parent is None:
        return ["", None, "", "", "", ""]
    return [
        parent.name,
        parent.birth_date,
        parent.id_number,
        work_place(_name_of(parent, "work_province"), _name_of(parent, "work_city")),
        parent.phone,
        _label(_PARENT_STATUS, parent.status),
    ]


def _guardian_cells(guardian: Any) -> list[object]:
    if guardian is None:
        return [False, "", "", "", "", ""]
    return [
        True,
        guardian.name,
        guardian.phone,
        guardian.id_number,
        _label(_RELATION, guardian.relation),
        guardian.address,
    ]


def roster_row(child: Any, father: Any, mother: Any, guardian: Any, *, number: int) -> list[object]:
    """The roster row of one child, by attribute access only: works on registry models and on
    simple_history historical instances alike. father/mother/guardian may be None."""
    return [
        number,
        _name_of(child, "county"),
        _name_of(child, "township"),
        _name_of(child, "village"),
        child.name,
        _label(_SEX, child.sex),
        child.ethnicity,
        child.birth_date,
        child.id_number,
        child.hukou_registered,
        child.hukou_place,
        child.current_address,
        _label(_HEALTH, child.health),
        disability_text(child.disability_category, child.disability_grade),
        child.illness,
        child.boarding,
        _label(_SCHOOLING, child.schooling),
        _name_of(child, "school"),
        *_parent_cells(father),
        *_parent_cells(mother),
        *_guardian_cells(guardian),
        _label(_CARE_TYPE, child.care_type),
        _label(_RATING, child.guardianship_rating),
        _labels(_INCOME, child.income_sources),
        _labels(_ASSISTANCE, child.assistance),
        child.is_in_difficulty,
        child.is_de_facto_orphan,
        child.file_no,
    ]


# --- streamed from a queryset -------------------------------------------------------------------
#
# A province's roster is a million rows (docs/benchmarks.md, bench:export), so this path reads
# tuples, not model instances or dicts: the encrypted columns come as stored tokens and are
# opened by per-column decryptors, the code lists come as JSON text parsed once per distinct
# text, and each row is built by unpacking its tuple.

_CHILD_FIELDS = (
    "file_no",
    "county__name",
    "township__name",
    "village__name",
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "id_number",
    "hukou_registered",
    "hukou_place",
    "current_address",
    "health",
    "disability_category",
    "disability_grade",
    "illness",
    "boarding",
    "schooling",
    "school__name",
    "care_type",
    "guardianship_rating",
    "income_sources",
    "assistance",
    "is_in_difficulty",
    "is_de_facto_orphan",
)
_PARENT_FIELDS = (
    "name",
    "birth_date",
    "id_number",
    "phone",
    "status",
    "work_province__name",
    "work_city__name",
)
_GUARDIAN_FIELDS = ("id", "name", "phone", "id_number", "relation", "address")
_FIELDS = (
    *_CHILD_FIELDS,
    *(f"f__{name}" for name in _PARENT_FIELDS),
    *(f"m__{name}" for name in _PARENT_FIELDS),
    *(f"guardian__{name}" for name in _GUARDIAN_FIELDS),
)
_LIST_LABELS = {"income_sources": _INCOME, "assistance": _ASSISTANCE}
_JSON = tuple(_LIST_LABELS)
_PARSED_MAX = 10_000  # distinct code lists kept per export (there are a few dozen in practice)

Open = Callable[[str], str]


def _context(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, EncryptedCharField):
        raise TypeError(f"{model.__name__}.{name} is not encrypted")
    return field.context


_ENCRYPTED: dict[str, str] = {
    "id_number": _context(Child, "id_number"),
    "hukou_place": _context(Child, "hukou_place"),
    "current_address": _context(Child, "current_address"),
    **{f"{p}__{n}": _context(Parent, n) for p in ("f", "m") for n in ("id_number", "phone")},
    **{f"guardian__{n}": _context(EntrustedGuardian, n) for n in ("phone", "id_number", "address")},
}


def _joined(children: QuerySet[Child]) -> QuerySet[Child]:
    """Both parents and the guardian joined (LEFT JOINs on the (child, role) and child keys),
    ordered by file number (so by village)."""
    return children.annotate(
        f=FilteredRelation("parents", condition=Q(parents__role=c.ParentRole.FATHER)),
        m=FilteredRelation("parents", condition=Q(parents__role=c.ParentRole.MOTHER)),
    ).order_by("file_no")


def roster_values(children: QuerySet[Child]) -> QuerySet[Child, tuple[Any, ...]]:
    """One tuple per child in _FIELDS order, the encrypted columns as stored tokens and the
    code lists as JSON text (the model fields' conversions skipped; roster_rows() does them)."""
    as_stored = {*_ENCRYPTED, *_JSON}
    columns = [ExpressionWrapper(F(p), output_field=TextField()) if p in as_stored else p for p in _FIELDS]
    rows: QuerySet[Child, tuple[Any, ...]] = _joined(children).values_list(*columns)
    return rows


class _Reader:
    """Turns roster_values() tuples into roster rows, for one export."""

    def __init__(self) -> None:
        opens = {path: crypto.decryptor(context) for path, context in _ENCRYPTED.items()}
        self.child = (opens["id_number"], opens["hukou_place"], opens["current_address"])
        self.father = (opens["f__id_number"], opens["f__phone"])
        self.mother = (opens["m__id_number"], opens["m__phone"])
        self.guardian = (opens["guardian__phone"], opens["guardian__id_number"], opens["guardian__address"])
        self.lists: dict[tuple[str, str], str] = {}

    def labels(self, column: str, text: str | None) -> str:
        """_labels() of a JSON list of codes, computed once per distinct text."""
        key = (column, text or "")
        found = self.lists.get(key)
        if found is None:
            if len(self.lists) > _PARSED_MAX:
                self.lists.clear()
            found = self.lists[key] = _labels(_LIST_LABELS[column], json.loads(text) if text else [])
        return found

    def row(self, values: tuple[Any, ...], number: int) -> list[object]:
        (
            file_no, county, township, village, name, sex, ethnicity, birth_date, id_number,
            hukou_registered, hukou_place, current_address, health, disability_category,
            disability_grade, illness, boarding, schooling, school, care_type, rating, income,
            assistance, in_difficulty, orphan,
        ) = values[:25]  # fmt: skip
        open_id, open_hukou, open_address = self.child
        return [
            number,
            county or "",
            township or "",
            village or "",
            name,
            _label(_SEX, sex),
            ethnicity,
            birth_date,
            open_id(id_number) if id_number else "",
            hukou_registered,
            open_hukou(hukou_place) if hukou_place else "",
            open_address(current_address) if current_address else "",
            _label(_HEALTH, health),
            disability_text(disability_category, disability_grade),
            illness,
            boarding,
            _label(_SCHOOLING, schooling),
            school or "",
            *_parent(values[25:32], *self.father),
            *_parent(values[32:39], *self.mother),
            *_guardian(values[39:45], *self.guardian),
            _label(_CARE_TYPE, care_type),
            _label(_RATING, rating),
            self.labels("income_sources", income),
            self.labels("assistance", assistance),
            in_difficulty,
            orphan,
            file_no,
        ]


def _parent(values: tuple[Any, ...], open_id: Open, open_phone: Open) -> list[object]:
    name, birth_date, id_number, phone, status, province, city = values
    if status is None:  # no such parent recorded
        return ["", None, "", "", "", ""]
    return [
        name,
        birth_date,
        open_id(id_number) if id_number else "",
        work_place(province, city),
        open_phone(phone) if phone else "",
        _label(_PARENT_STATUS, status),
    ]


def _guardian(values: tuple[Any, ...], open_phone: Open, open_id: Open, open_address: Open) -> list[object]:
    key, name, phone, id_number, relation, address = values
    if key is None:
        return [False, "", "", "", "", ""]
    return [
        True,
        name,
        open_phone(phone) if phone else "",
        open_id(id_number) if id_number else "",
        _label(_RELATION, relation),
        open_address(address) if address else "",
    ]


def roster_rows(children: QuerySet[Child]) -> Iterator[list[object]]:
    """The roster rows of `children` (scoped and filtered by the caller), numbered from 1.

    One joined query read as it streams, so memory stays constant whatever the scope (see
    _stream). One joined query rather than a family query per chunk: at a county's 50,000
    files the per-chunk `child_id IN (…)` queries cost more than the join."""
    reader = _Reader()
    for number, values in enumerate(_stream(roster_values(children)), start=1):
        yield reader.row(values, number)


def _stream(rows: QuerySet[Child, tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The rows of one query, in constant memory.

    On PostgreSQL the query streams (psycopg's stream(), in chunks of CHUNK rows) inside a
    transaction that forbids sorting (SET LOCAL: for this query only): the planner then reads
    the scope's file-number index and sends rows from the first one, so the database works
    while this process writes the file. Measured at one million rows (docs/benchmarks.md,
    bench:export): a Django server-side cursor outside a transaction is declared WITH HOLD
    and materialises the whole result first, and sorting the joined rows spills 1.2 GB to
    disk before the first row. The caller must close this iterator before using the
    connection again (core.exports does).
    Elsewhere (SQLite in development and tests): a server-side-cursor iterator."""
    if connection.vendor != "postgresql":
        yield from rows.iterator(chunk_size=CHUNK)
        return
    sql, params = rows.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        yield from cursor.cursor.stream(sql, params, size=CHUNK)


def roster_row_of(child: Child, *, number: int = 1) -> list[object]:
    """roster_row() for one live file, its family read in two queries."""
    parents = {p.role: p for p in child.parents.select_related("work_province", "work_city")}
    guardian = EntrustedGuardian.objects.filter(child=child).first()
    return roster_row(
        child, parents.get(c.ParentRole.FATHER), parents.get(c.ParentRole.MOTHER), guardian, number=number
    )
