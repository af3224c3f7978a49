"""The numbers of care work (关爱服务统计, issue 7 item 5): activities held, children reached,
the reach among key children, volunteer hours, services by kind and by provider, and the
delivery of purchased-service contracts against their plan.

Two rules decide what is counted where, and the page says them:
- an activity counts where it is held (its county, township or village) and when it is held
  (`held_on` inside the period);
- a child counts where the child's file is (village, township, county), like every count of
  the dashboard, when the child attended (attended=True) at least one activity held in the
  period, wherever it was held. Counts of children are distinct and start from
  registry.access.children_visible_to, so a number never covers a child its list would not
  show. The reach among key children compares the key children in the register now (status
  active, is_key) with those of them who were reached.

These are live aggregate queries, not the pre-aggregated count tables of the dashboard: the
activity tables are small next to the children table, and a number must move as soon as a
volunteer saves an attendance sheet. Each table is one grouped query per number, whatever the
number of rows.
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from activities.models import Activity, Participation, VolunteerService
from geo.models import Region, RegionLevel, Unit
from providers import selectors as provider_selectors
from providers.choices import ServiceKind
from providers.models import Contract
from registry import choices as c
from registry.access import children_visible_to
from registry.models import Child
from stats.models import Category
from stats.selectors import _needs_county_filter, child_regions, ledger_url, region_params

# The region field of an activity or a child file, per level of the region.
_LEVEL_FIELD = {
    RegionLevel.COUNTY: "county_id",
    RegionLevel.TOWNSHIP: "township_id",
    RegionLevel.VILLAGE: "village_id",
}
# The field that names a row's region below a region of this level.
_ROW_FIELD = {
    RegionLevel.PROVINCE: "county_id",
    RegionLevel.CITY: "county_id",
    RegionLevel.COUNTY: "township_id",
    RegionLevel.TOWNSHIP: "village_id",
}
ZERO_HOURS = Decimal("0.0")
TOTAL = "total"


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @classmethod
    def this_year(cls, today: dt.date) -> "Period":
        return cls(dt.date(today.year, 1, 1), today)

    def params(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@dataclass(frozen=True)
class Filters:
    """What the list behind a number is narrowed to, besides region and period."""

    key: bool = False
    kind: str = ""
    provider: uuid.UUID | None = None

    def params(self) -> dict[str, str]:
        params = {"key": "1"} if self.key else {}
        if self.kind:
            params["kind"] = self.kind
        if self.provider:
            params["provider"] = str(self.provider)
        return params


def kind_label(kind: str) -> str:
    return str(ServiceKind(kind).label) if kind in ServiceKind.values else kind


def region_q(region: Region, prefix: str = "") -> Q:
    """Activities (prefix "") or child files (prefix "child__"…) in `region` or below it."""
    name = _LEVEL_FIELD.get(RegionLevel(region.level))
    if name is None:  # a province or city: every county below it
        return Q(**{f"{prefix}county__code__startswith": region.code})
    return Q(**{f"{prefix}{name}": region.pk})


# --- the querysets behind the numbers ---------------------------------------------------------


def activities_held(region: Region, period: Period, filters: Filters = Filters()) -> QuerySet[Activity]:
    held = Activity.objects.filter(region_q(region), held_on__range=(period.start, period.end))
    if filters.kind:
        held = held.filter(kind=filters.kind)
    if filters.provider:
        held = held.filter(provider_id=filters.provider)
    return held


def _attended(period: Period, filters: Filters, prefix: str = "") -> Q:
    """Attended participations in the period (through `prefix` from a child: "participations__")."""
    q = Q(
        **{
            f"{prefix}attended": True,
            f"{prefix}activity__held_on__gte": period.start,
            f"{prefix}activity__held_on__lte": period.end,
        }
    )
    if filters.kind:
        q &= Q(**{f"{prefix}activity__kind": filters.kind})
    if filters.provider:
        q &= Q(**{f"{prefix}activity__provider_id": filters.provider})
    return q


def children_reached(
    user: User, region: Region, period: Period, filters: Filters = Filters()
) -> QuerySet[Child]:
    """The children of `region` the user may see who attended an activity in the period (the
    key children among them, active in the register now, with filters.key); each once."""
    served = Participation.objects.filter(_attended(period, filters)).values("child_id")
    reached = children_visible_to(user).filter(region_q(region), id__in=served)
    if filters.key:
        reached = reached.filter(is_key=True, status=c.Status.ACTIVE)
    return reached


def children_list(user: User, region: Region, period: Period, filters: Filters) -> QuerySet[Child]:
    """children_reached() for the list page: with each child's number of services in the
    period (attended participations matching the filters), ordered by village and name."""
    services = Count("participations", filter=_attended(period, filters, "participations__"))
    return (
        children_reached(user, region, period, filters)
        .select_related("township", "village")
        .annotate(services=services)
        .order_by("village__code", "name_pinyin", "id")
    )


def _participations(user: User, region: Region, period: Period) -> QuerySet[Participation]:
    visible = children_visible_to(user).filter(region_q(region)).values("id")
    return Participation.objects.filter(_attended(period, Filters()), child_id__in=visible)


# --- the tables -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: int | Decimal
    url: str

    @property
    def text(self) -> str:
        return str(self.value)


@dataclass
class CareRow:
    label: str
    region: Region | None
    activities: Number
    children: Number
    key_reached: Number
    key_total: Number
    hours: Number

    @property
    def reach(self) -> float | None:
        """Key children reached over key children in the register; None when there are none."""
        total = int(self.key_total.value)
        return int(self.key_reached.value) / total if total else None

    @property
    def reach_text(self) -> str:
        return "—" if self.reach is None else f"{self.reach * 100:.1f}%"

    def cells(self) -> list[object]:
        """The row as the export writes it."""
        reach = "" if self.reach is None else round(self.reach * 100, 1)
        return [
            self.label,
            self.activities.value,
            self.children.value,
            self.key_reached.value,
            self.key_total.value,
            reach,
            self.hours.value,
        ]


@dataclass
class KindRow:
    label: str
    activities: Number
    children: Number


@dataclass
class DeliveryRow:
    """One service of a contract: its plan and what the provider delivered."""

    kind: str
    planned_sessions: int
    planned_children: int
    delivered_sessions: int
    delivered_children: int

    @property
    def label(self) -> str:
        return kind_label(self.kind)

    @staticmethod
    def _share(done: int, planned: int) -> str:
        return f"{done * 100 / planned:.0f}%" if planned else "—"

    @property
    def sessions_share(self) -> str:
        return self._share(self.delivered_sessions, self.planned_sessions)

    @property
    def children_share(self) -> str:
        return self._share(self.delivered_children, self.planned_children)


@dataclass
class ContractDelivery:
    contract: Contract
    rows: list[DeliveryRow]
    url: str  # the contract's page in the providers register, if there is one


@dataclass
class CareBoard:
    region: Region
    period: Period
    rows: list[CareRow]
    total: CareRow
    by_kind: list[KindRow]
    by_provider: list[KindRow]
    contracts: list[ContractDelivery]
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def chart(self) -> dict[str, Any]:
        """The rows as bars for static/shouhu/charts.js; each bar opens the list behind it."""
        series = (("活动场次", "activities"), ("服务儿童", "children"), ("服务重点对象", "key_reached"))
        return _bars(self.rows or [self.total], series)

    def kind_chart(self) -> dict[str, Any]:
        return _bars(self.by_kind, (("活动场次", "activities"), ("服务儿童", "children")))


def _bars(rows: Sequence[CareRow | KindRow], series: Iterable[tuple[str, str]]) -> dict[str, Any]:
    numbers = [[getattr(row, attr) for row in rows] for _, attr in series]
    return {
        "kind": "bar",
        "x": [row.label for row in rows],
        "series": [
            {"name": name, "data": [int(n.value) for n in column], "urls": [n.url for n in column]}
            for (name, _), column in zip(series, numbers, strict=True)
        ],
    }


# --- links ------------------------------------------------------------------------------------


def activities_url(params: dict[str, str]) -> str:
    """The activities list with these filters (activities:list: township, village, kind,
    provider, from, to); "" (the number is shown without a link) while there is no such page."""
    try:
        path = reverse("activities:list")
    except NoReverseMatch:
        return ""
    return f"{path}?{urlencode(params)}"


def _activity_params(region: Region, period: Period, filters: Filters) -> dict[str, str]:
    params: dict[str, str] = {}
    if region.level == RegionLevel.VILLAGE:
        params["village"] = str(region.pk)
    elif region.level == RegionLevel.TOWNSHIP:
        params["township"] = str(region.pk)
    if filters.kind:
        params["kind"] = filters.kind
    if filters.provider:
        params["provider"] = str(filters.provider)
    return {**params, **period.params()}


def _activities_link(region: Region, period: Period, filters: Filters) -> str:
    return activities_url(_activity_params(region, period, filters))


def children_url(region: Region, period: Period, filters: Filters = Filters()) -> str:
    params = {"region": str(region.pk), **period.params(), **filters.params()}
    return f"{reverse('stats:care_children')}?{urlencode(params)}"


def contract_url(contract: Contract) -> str:
    try:
        return reverse("providers:contract_detail", args=[contract.pk])
    except NoReverseMatch:
        return ""


# --- computing --------------------------------------------------------------------------------


def _grouped(rows: Iterable[dict[str, Any]], key: str) -> dict[Any, Any]:
    return {row[key]: row["n"] for row in rows}


def _per(rows: QuerySet[Any], key: str, number: Any) -> dict[Any, Any]:
    """{value of `key`: `number`} over the rows grouped by `key`."""
    return _grouped(rows.values(key).annotate(n=number).order_by(), key)


@dataclass
class _Counts:
    """Per row region id, and the region's total under TOTAL (not None: activities held in a
    township with no village group under None)."""

    activities: dict[Any, int] = field(default_factory=dict)
    children: dict[Any, int] = field(default_factory=dict)
    key_reached: dict[Any, int] = field(default_factory=dict)
    key_total: dict[Any, int] = field(default_factory=dict)
    hours: dict[Any, Decimal] = field(default_factory=dict)


def _region_counts(user: User, region: Region, period: Period, row_field: str | None) -> _Counts:
    """The five numbers of the region (key TOTAL) and, with `row_field`, of each row below it."""
    counts = _Counts()
    held = activities_held(region, period)
    served = _participations(user, region, period)
    key_served = served.filter(child__is_key=True, child__status=c.Status.ACTIVE)
    key_total = children_visible_to(user).filter(region_q(region), is_key=True, status=c.Status.ACTIVE)
    hours = VolunteerService.objects.filter(activity__in=held.values("id"))
    counts.activities[TOTAL] = held.count()
    counts.children[TOTAL] = served.values("child_id").distinct().count()
    counts.key_reached[TOTAL] = key_served.values("child_id").distinct().count()
    counts.key_total[TOTAL] = key_total.count()
    counts.hours[TOTAL] = hours.aggregate(n=Sum("hours"))["n"] or ZERO_HOURS
    if row_field is None:
        return counts
    distinct_children = Count("child_id", distinct=True)
    by_child, by_activity = f"child__{row_field}", f"activity__{row_field}"
    counts.activities.update(_per(held, row_field, Count("id")))
    counts.children.update(_per(served, by_child, distinct_children))
    counts.key_reached.update(_per(key_served, by_child, distinct_children))
    counts.key_total.update(_per(key_total, row_field, Count("id")))
    counts.hours.update(_per(hours, by_activity, Sum("hours")))
    return counts


def _care_row(
    label: str, region: Region, key: Any, counts: _Counts, period: Period, *, with_county: bool
) -> CareRow:
    ledger = region_params(region, with_county=with_county)
    activities = _activities_link(region, period, Filters())
    return CareRow(
        label=label,
        region=region,
        activities=Number(counts.activities.get(key, 0), activities),
        children=Number(counts.children.get(key, 0), children_url(region, period)),
        key_reached=Number(counts.key_reached.get(key, 0), children_url(region, period, Filters(key=True))),
        key_total=Number(counts.key_total.get(key, 0), ledger_url(ledger, Category.KEY)),
        hours=Number(counts.hours.get(key, ZERO_HOURS), activities),
    )


def _kind_rows(user: User, region: Region, period: Period) -> list[KindRow]:
    held = _per(activities_held(region, period), "kind", Count("id"))
    children = _per(_participations(user, region, period), "activity__kind", Count("child_id", distinct=True))
    rows = []
    for kind, label in ServiceKind.choices:
        if not held.get(kind) and not children.get(kind):
            continue
        filters = Filters(kind=kind)
        rows.append(
            KindRow(
                label=str(label),
                activities=Number(held.get(kind, 0), _activities_link(region, period, filters)),
                children=Number(children.get(kind, 0), children_url(region, period, filters)),
            )
        )
    return rows


def _provider_rows(user: User, region: Region, period: Period) -> list[KindRow]:
    """Per provider unit (activities with a provider; those a unit organised and delivered
    itself have none and are not in this table)."""
    held = _per(activities_held(region, period).filter(provider__isnull=False), "provider_id", Count("id"))
    served = _participations(user, region, period).filter(activity__provider__isnull=False)
    children = _per(served, "activity__provider_id", Count("child_id", distinct=True))
    units = Unit.objects.filter(pk__in=set(held) | set(children)).order_by("name")
    rows = []
    for unit in units:
        filters = Filters(provider=unit.pk)
        rows.append(
            KindRow(
                label=unit.name,
                activities=Number(held.get(unit.pk, 0), _activities_link(region, period, filters)),
                children=Number(children.get(unit.pk, 0), children_url(region, period, filters)),
            )
        )
    return rows


def contracts_for(region: Region, period: Period) -> QuerySet[Contract]:
    """Contracts that cover a township of the region and overlap the period."""
    if region.level == RegionLevel.VILLAGE:
        townships = Q(townships=region.parent_id)
    else:
        townships = Q(townships__in=Region.objects.filter(_townships_q(region)).values("id"))
    return (
        Contract.objects.filter(townships, starts_on__lte=period.end, ends_on__gte=period.start)
        .select_related("provider__unit")
        .prefetch_related("items")
        .distinct()
        .order_by("starts_on", "title")
    )


def _townships_q(region: Region) -> Q:
    """Townships in `region` (itself, when it is one)."""
    if region.level == RegionLevel.TOWNSHIP:
        return Q(pk=region.pk)
    return Q(level=RegionLevel.TOWNSHIP, code__startswith=region.code)


def contract_delivery(contract: Contract) -> list[DeliveryRow]:
    """Planned against delivered, per service of the contract, as the providers register
    counts it (providers.selectors.contract_delivery: the provider's activities of that kind
    held in the contract's townships and period, and the distinct children who attended)."""
    return [
        DeliveryRow(
            kind=item.kind,
            planned_sessions=item.planned_sessions,
            planned_children=item.planned_children,
            delivered_sessions=item.sessions,
            delivered_children=item.children,
        )
        for item in provider_selectors.contract_delivery(contract)
    ]


def care_board(user: User, region: Region, period: Period, *, roots: list[Region]) -> CareBoard:
    """The care numbers of `region` in the period: a row per region one level below (per
    village of a township, per township of a county), the region's own total, and the tables
    by service kind, by provider and of contract delivery."""
    with_county = _needs_county_filter(roots)
    row_field = _ROW_FIELD.get(RegionLevel(region.level))
    counts = _region_counts(user, region, period, row_field)
    below = child_regions(region) if row_field else []
    rows = [_care_row(r.name, r, r.pk, counts, period, with_county=with_county) for r in below]
    total = _care_row("合计", region, TOTAL, counts, period, with_county=with_county)
    board = CareBoard(
        region=region,
        period=period,
        rows=rows,
        total=total,
        by_kind=_kind_rows(user, region, period),
        by_provider=_provider_rows(user, region, period),
        contracts=[
            ContractDelivery(contract, contract_delivery(contract), contract_url(contract))
            for contract in contracts_for(region, period)
        ],
    )
    board.charts["chart-care"] = board.chart()
    if board.by_kind:
        board.charts["chart-care-kind"] = board.kind_chart()
    return board


EXPORT_HEADERS = [
    ("区划", 20),
    ("活动场次", 10),
    ("服务儿童数", 12),
    ("服务重点对象数", 14),
    ("重点对象总数", 12),
    ("重点对象覆盖率（%）", 16),
    ("志愿服务时长（小时）", 18),
]


def export_rows(board: CareBoard) -> Iterator[list[object]]:
    for row in board.rows:
        yield row.cells()
    total = board.total.cells()
    total[0] = f"{board.region.name}（合计）"
    yield total
