"""Reads of child files. Every function takes the scoped queryset from registry.access."""

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core import idnumber
from core.blind_index import id_index, phone_index
from registry import choices as c
from registry import rules
from registry.models import Child, EntrustedGuardian, Parent

ID_FULL = re.compile(r"^\d{17}[\dXx]$")
ID_TAIL = re.compile(r"^\d{3}[\dXx]$")
PHONE = re.compile(r"^1\d{10}$")
PINYIN = re.compile(r"^[a-zA-Z]+$")


@dataclass(frozen=True)
class LedgerFilters:
    township: str = ""
    village: str = ""
    category: str = ""
    care_type: str = ""
    rating: str = ""
    schooling: str = ""
    key: str = ""
    age_band: str = ""
    status: str = c.Status.ACTIVE
    q: str = ""
    sex: str = ""
    risk_colour: str = ""  # a colour, or NO_COLOUR for files whose colour is not computed yet
    county: str = ""


# The statistics' age bands (R2) plus 16–17, where 困境儿童 and 事实无人抚养儿童 are still
# followed (R4): every active file falls in one band, so each dashboard number has its list.
AGE_BANDS = (*rules.AGE_BANDS, ("16-17", 16, 17))
AGE_BAND_LABELS = {**rules.AGE_BAND_LABELS, "16-17": "16–17 岁"}
NO_COLOUR = "none"


def search_kind(term: str) -> str:
    """How a search term is read: id, id_tail, phone, pinyin or name."""
    term = idnumber.normalise(term)
    if ID_FULL.match(term):
        return "id"
    if ID_TAIL.match(term):
        return "id_tail"
    if PHONE.match(term):
        return "phone"
    if PINYIN.match(term):
        return "pinyin"
    return "name"


def _search(children: QuerySet[Child], raw: str) -> QuerySet[Child]:
    term = idnumber.normalise(raw.strip())
    kind = search_kind(term)
    if kind == "id":
        return children.filter(id_index=id_index(term))
    if kind == "id_tail":
        return children.filter(id_tail=term)
    if kind == "phone":
        index = phone_index(term)
        # One IN over a UNION: PostgreSQL cannot turn an OR of two IN subqueries into a join
        # and would test every row of the scope (bench: 2.4 s → 7 ms for a county).
        parents = Parent.objects.filter(phone_index=index).values("child_id")
        guardians = EntrustedGuardian.objects.filter(phone_index=index).values("child_id")
        return children.filter(id__in=parents.union(guardians))
    if kind == "pinyin":
        lowered = term.lower()
        return children.filter(Q(name_initials__startswith=lowered) | Q(name_pinyin__startswith=lowered))
    return children.filter(name__startswith=raw.strip())


_CATEGORY_FIELD = {
    "left_behind": "is_left_behind",
    "in_difficulty": "is_in_difficulty",
    "de_facto_orphan": "is_de_facto_orphan",
}
CATEGORY_CHOICES = [
    ("left_behind", "农村留守儿童"),
    ("in_difficulty", "困境儿童"),
    ("de_facto_orphan", "事实无人抚养儿童"),
]


def ledger(
    children: QuerySet[Child], filters: LedgerFilters, *, on: dt.date | None = None
) -> QuerySet[Child]:
    """Apply the ledger's filters and search to an already scoped queryset."""
    on = on or timezone.localdate()
    exact: dict[str, Any] = {}
    if filters.county:
        exact["county_id"] = filters.county
    if filters.township:
        exact["township_id"] = filters.township
    if filters.village:
        exact["village_id"] = filters.village
    if filters.category in _CATEGORY_FIELD:
        exact[_CATEGORY_FIELD[filters.category]] = True
    if filters.care_type:
        exact["care_type"] = filters.care_type
    if filters.rating:
        exact["guardianship_rating"] = filters.rating
    if filters.schooling:
        exact["schooling"] = filters.schooling
    if filters.key in {"1", "0"}:
        exact["is_key"] = filters.key == "1"
    if filters.sex:
        exact["sex"] = filters.sex
    if filters.risk_colour:
        exact["risk_colour"] = "" if filters.risk_colour == NO_COLOUR else filters.risk_colour
    if filters.status:
        exact["status"] = filters.status
    children = children.filter(**exact)
    for code, low, high in AGE_BANDS:
        if filters.age_band == code:
            earliest, latest = rules.birth_range_for_age(low, high, on)
            children = children.filter(birth_date__range=(earliest, latest))
    if filters.q.strip():
        children = _search(children, filters.q)
    return children


@dataclass
class Page:
    rows: list[Child]
    next_cursor: str | None
    prev_cursor: str | None
    is_first: bool = field(default=True)

    @property
    def links(self) -> list[tuple[str, str, str]]:
        """Pager buttons as (label, parameter, cursor)."""
        out: list[tuple[str, str, str]] = []
        if not self.is_first:
            out.append(("第一页", "", ""))
        if self.prev_cursor:
            out.append(("上一页", "before", self.prev_cursor))
        if self.next_cursor:
            out.append(("下一页", "after", self.next_cursor))
        return out


def keyset_page(children: QuerySet[Child], *, after: str = "", before: str = "", size: int = 50) -> Page:
    """A page ordered by file number, found by seeking, never by OFFSET or COUNT.

    The cursor is a file number: internal and not personal, so it may sit in a URL.
    """
    if before:
        rows = list(children.filter(file_no__lt=before).order_by("-file_no")[: size + 1])
        has_more = len(rows) > size
        rows = list(reversed(rows[:size]))
        return Page(
            rows=rows,
            next_cursor=rows[-1].file_no if rows else None,
            prev_cursor=rows[0].file_no if rows and has_more else None,
            is_first=not has_more,
        )
    seek = children.filter(file_no__gt=after) if after else children
    rows = list(seek.order_by("file_no")[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    return Page(
        rows=rows,
        next_cursor=rows[-1].file_no if rows and has_more else None,
        prev_cursor=rows[0].file_no if rows and after else None,
        is_first=not after,
    )


def counts_for(children: QuerySet[Child]) -> dict[str, int]:
    """Home-page counts for a scope, in one pass (issue 6 moves these to count tables).

    Each count is exactly what the ledger shows for the matching filter link."""
    active = children.filter(status=c.Status.ACTIVE)
    return active.aggregate(
        active=Count("id"),
        left_behind=Count("id", filter=Q(is_left_behind=True)),
        key=Count("id", filter=Q(is_key=True)),
        unsupervised=Count("id", filter=Q(care_type=c.CareType.UNSUPERVISED)),
        living_alone=Count("id", filter=Q(care_type=c.CareType.LIVING_ALONE)),
        poor_rating=Count("id", filter=Q(guardianship_rating=c.Rating.POOR)),
        dropout=Count("id", filter=Q(schooling=c.Schooling.DROPOUT)),
    )
