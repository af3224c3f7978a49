"""Reads of the stats app. They read the count tables only (ChildCount, CountSnapshot,
Indicator, RefreshState) and the regions: never the children table.

Every count comes with the ledger link that lists exactly those children: the region's filter
(county, township or village), the category (key children: key=1) and the dimension's value,
as registry.selectors.ledger reads them.
"""

import datetime as dt
import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet, Sum
from django.urls import reverse

from geo.models import Region, RegionLevel
from registry import choices as c
from registry.selectors import AGE_BAND_LABELS, NO_COLOUR
from stats.models import (
    Category,
    ChildCount,
    CountSnapshot,
    Dimension,
    Indicator,
    IndicatorCode,
    RefreshState,
)

CountKey = tuple[str, str, str]  # (category, dimension, value)
TREND_MONTHS = 12
_STORED_LEVELS = (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP, RegionLevel.COUNTY)
_CHILD_LEVEL = {RegionLevel.COUNTY: RegionLevel.TOWNSHIP, RegionLevel.TOWNSHIP: RegionLevel.VILLAGE}
_LEDGER_PARAM: dict[str, str] = {
    Dimension.CARE_TYPE: "care_type",
    Dimension.RATING: "rating",
    Dimension.SCHOOLING: "schooling",
    Dimension.AGE_BAND: "age_band",
    Dimension.SEX: "sex",
    Dimension.RISK_COLOUR: "risk_colour",
}
# Lower is better for these two; the others rank highest first.
LOWER_IS_BETTER = frozenset({IndicatorCode.OVERDUE_SHARE, IndicatorCode.RESPONSE_MINUTES})


def dimension_values(dimension: str) -> list[tuple[str, str]]:
    """(value, label) of a dimension, in the order the tables list them."""
    choices: dict[str, list[tuple[str, str]]] = {
        Dimension.CARE_TYPE: list(c.CareType.choices),
        Dimension.RATING: list(c.Rating.choices),
        Dimension.SCHOOLING: list(c.Schooling.choices),
        Dimension.AGE_BAND: list(AGE_BAND_LABELS.items()),
        Dimension.SEX: list(c.Sex.choices),
        Dimension.RISK_COLOUR: [*c.RiskColour.choices, ("", "未评定")],
    }
    return choices[dimension]


# --- links -----------------------------------------------------------------------------------


def region_params(region: Region, *, with_county: bool) -> dict[str, str]:
    """The ledger filter for a region. A county needs its own filter only when the user sees
    more than one county; a city or province root is the user's whole scope."""
    if region.level == RegionLevel.VILLAGE:
        return {"village": str(region.pk)}
    if region.level == RegionLevel.TOWNSHIP:
        return {"township": str(region.pk)}
    if region.level == RegionLevel.COUNTY and with_county:
        return {"county": str(region.pk)}
    return {}


def ledger_url(base: dict[str, str], category: str, dimension: str = Dimension.TOTAL, value: str = "") -> str:
    params = dict(base)
    if category == Category.KEY:
        params["key"] = "1"
    elif category != Category.ALL:
        params["category"] = category
    if dimension != Dimension.TOTAL:
        params[_LEDGER_PARAM[dimension]] = value or (NO_COLOUR if dimension == Dimension.RISK_COLOUR else "")
    url = _ledger_path()
    return f"{url}?{urlencode(params)}" if params else url


@functools.cache
def _ledger_path() -> str:
    # A province page builds ~800 links: reverse() once (bench:stats: 90 → 75 ms).
    return reverse("registry:ledger")


# --- the dashboard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    count: int
    url: str
    label: str = ""  # the category's name (the column header)


@dataclass
class Row:
    label: str
    cells: list[Cell]
    region: Region | None = None


@dataclass
class Table:
    code: str
    title: str
    rows: list[Row]
    total: Row | None = None

    def chart(self) -> dict[str, Any]:
        """What static/shouhu/charts.js draws: a bar per row, a series per category."""
        return {
            "kind": "bar",
            "x": [row.label for row in self.rows],
            "series": [
                {
                    "name": label,
                    "data": [row.cells[index].count for row in self.rows],
                    # Each bar opens the ledger list behind it, as the table's numbers do.
                    "urls": [row.cells[index].url for row in self.rows],
                }
                for index, (_, label) in enumerate(Category.choices)
            ],
        }


@dataclass
class Trend:
    months: list[dt.date]
    rows: list[tuple[dt.date, list[int]]]

    def chart(self) -> dict[str, Any]:
        return {
            "kind": "line",
            "x": [f"{month:%Y-%m}" for month in self.months],
            "series": [
                {"name": label, "data": [counts[index] for _, counts in self.rows]}
                for index, (_, label) in enumerate(Category.choices)
            ],
        }


@dataclass
class Dashboard:
    region: Region
    children_level: str | None
    tiles: list[tuple[str, Cell]]
    by_region: Table | None
    tables: list[Table]
    trend: Trend
    scorecard: "Scorecard"
    refreshed_at: dt.datetime | None
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)


def region_counts(region: Region) -> dict[CountKey, int]:
    """The region's counts: its own rows, or for a city or province the sum of its counties."""
    if region.level in _STORED_LEVELS:
        rows = ChildCount.objects.filter(region=region).values_list("category", "dimension", "value", "count")
        return {(cat, dim, value): count for cat, dim, value, count in rows}
    summed = (
        _counties_below(region, ChildCount.objects.all())
        .values("category", "dimension", "value")
        .annotate(total=Sum("count"))
        .order_by()
    )
    return {(row["category"], row["dimension"], row["value"]): row["total"] for row in summed}


def _counties_below(region: Region, rows: QuerySet[Any]) -> QuerySet[Any]:
    return rows.filter(level=RegionLevel.COUNTY, region__code__startswith=region.code)


def child_regions(region: Region) -> list[Region]:
    """The regions one level below (the counties of a city or province): the current ones and
    any older one that still has counts."""
    level = _CHILD_LEVEL.get(RegionLevel(region.level))
    if region.level == RegionLevel.VILLAGE:
        return []
    if level is None:
        q = Q(level=RegionLevel.COUNTY, code__startswith=region.code)
    else:
        q = Q(parent=region, level=level)
    counted = ChildCount.objects.filter(dimension=Dimension.TOTAL, category=Category.ALL).values("region_id")
    return list(
        Region.objects.filter(q).filter(Q(valid_to__isnull=True) | Q(pk__in=counted)).order_by("code")
    )


def _children_totals(regions: list[Region]) -> dict[uuid.UUID, dict[str, int]]:
    rows = ChildCount.objects.filter(
        region_id__in=[region.pk for region in regions], dimension=Dimension.TOTAL
    ).values_list("region_id", "category", "count")
    found: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for region_id, category, count in rows:
        found[region_id][category] = count
    return found


def _row(label: str, base: dict[str, str], counts: dict[CountKey, int], dimension: str, value: str) -> Row:
    return Row(
        label=label,
        cells=[
            Cell(
                counts.get((category, dimension, value), 0),
                ledger_url(base, category, dimension, value),
                str(label),
            )
            for category, label in Category.choices
        ],
    )


def dimension_table(dimension: str, base: dict[str, str], counts: dict[CountKey, int]) -> Table:
    rows = [_row(str(label), base, counts, dimension, value) for value, label in dimension_values(dimension)]
    return Table(code=dimension, title=str(Dimension(dimension).label), rows=rows)


def region_table(
    region: Region, children: list[Region], counts: dict[CountKey, int], *, with_county: bool
) -> Table:
    totals = _children_totals(children)
    rows = []
    for child in children:
        base = region_params(child, with_county=with_county)
        cells = [
            Cell(totals[child.pk].get(cat, 0), ledger_url(base, cat), str(label))
            for cat, label in Category.choices
        ]
        rows.append(Row(label=child.name, cells=cells, region=child))
    total = _row("合计", region_params(region, with_county=with_county), counts, Dimension.TOTAL, "")
    title = f"各{RegionLevel(children[0].level).label if children else '下级区划'}人数"
    return Table(code="regions", title=title, rows=rows, total=total)


def month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def trend(region: Region, *, on: dt.date) -> Trend:
    """Children by category per month over the last 12 months, from the snapshots."""
    months = [month_start(on, back) for back in range(TREND_MONTHS - 1, -1, -1)]
    rows = CountSnapshot.objects.filter(month__gte=months[0], dimension=Dimension.TOTAL)
    rows = rows.filter(region=region) if region.level in _STORED_LEVELS else _counties_below(region, rows)
    summed = rows.values("month", "category").annotate(total=Sum("count")).order_by()
    found = {(row["month"], row["category"]): row["total"] for row in summed}
    taken = sorted({month for month, _ in found})
    return Trend(
        months=taken,
        rows=[(month, [found.get((month, cat), 0) for cat in Category.values]) for month in taken],
    )


def refreshed_at() -> dt.datetime | None:
    state = RefreshState.objects.filter(key="counts").only("refreshed_at").first()
    return state.refreshed_at if state else None


def dashboard(region: Region, *, roots: list[Region], on: dt.date) -> Dashboard:
    with_county = _needs_county_filter(roots)
    base = region_params(region, with_county=with_county)
    counts = region_counts(region)
    children = child_regions(region)
    tables = [dimension_table(dim, base, counts) for dim in Dimension.values if dim != Dimension.TOTAL]
    by_region = region_table(region, children, counts, with_county=with_county) if children else None
    board = Dashboard(
        region=region,
        children_level=children[0].level if children else None,
        tiles=[
            (str(label), Cell(counts.get((cat, Dimension.TOTAL, ""), 0), ledger_url(base, cat), str(label)))
            for cat, label in Category.choices
        ],
        by_region=by_region,
        tables=tables,
        trend=trend(region, on=on),
        scorecard=scorecard(region, children),
        refreshed_at=refreshed_at(),
    )
    for table in [*([by_region] if by_region else []), *tables]:
        board.charts[f"chart-{table.code}"] = table.chart()
    board.charts["chart-trend"] = board.trend.chart()
    return board


def _needs_county_filter(roots: list[Region]) -> bool:
    """Whether the user sees more than one county (then the ledger offers a county filter)."""
    counties = {root.code[:6] for root in roots if len(root.code) >= 6}
    return len(counties) > 1 or any(root.level in (RegionLevel.PROVINCE, RegionLevel.CITY) for root in roots)


# --- the scorecard ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    code: str
    numerator: int
    denominator: int
    value: float | None

    @property
    def label(self) -> str:
        return str(IndicatorCode(self.code).label)

    @property
    def text(self) -> str:
        if self.value is None:
            return "—"
        if self.code == IndicatorCode.RESPONSE_MINUTES:
            return minutes_text(self.value)
        return f"{self.value * 100:.1f}%"

    @property
    def detail(self) -> str:
        if self.code == IndicatorCode.RESPONSE_MINUTES:
            return f"{self.numerator}/{self.denominator} 件已受理"
        return f"{self.numerator}/{self.denominator}"

    @property
    def number(self) -> float | str:
        """The value as the export writes it: a percentage or minutes, one decimal."""
        if self.value is None:
            return ""
        return round(self.value if self.code == IndicatorCode.RESPONSE_MINUTES else self.value * 100, 1)


@dataclass
class ScoreRow:
    region: Region
    scores: dict[str, Score]
    rank: int | None = None

    def ordered(self) -> list[Score]:
        return [self.scores[code] for code in IndicatorCode.values]


@dataclass
class Scorecard:
    region: Region
    rows: list[ScoreRow]
    total: ScoreRow
    sort: str
    descending: bool


def score_headers(card: Scorecard) -> list[tuple[str, str, str]]:
    """(indicator, label, the direction its header link sorts by): a click on the current
    column turns its order round."""
    return [
        (code, str(label), ("asc" if card.descending else "desc") if card.sort == code else _best_first(code))
        for code, label in IndicatorCode.choices
    ]


def _best_first(code: str) -> str:
    return "asc" if code in LOWER_IS_BETTER else "desc"


def minutes_text(minutes: float) -> str:
    whole = round(minutes)
    if whole < 60:
        return f"{whole} 分钟"
    hours, rest = divmod(whole, 60)
    return f"{hours} 小时 {rest} 分钟" if rest else f"{hours} 小时"


def _empty(code: str) -> Score:
    return Score(code, 0, 0, None)


def sort_order(sort: str | None, direction: str | None) -> tuple[str, bool]:
    """(indicator, descending): an unknown indicator sorts by visit coverage; the default
    direction puts the best first."""
    code = sort if sort in IndicatorCode.values else IndicatorCode.VISIT_COVERAGE
    if direction in ("asc", "desc"):
        return code, direction == "desc"
    return code, code not in LOWER_IS_BETTER


def scorecard(
    region: Region, children: list[Region], *, sort: str | None = None, direction: str | None = None
) -> Scorecard:
    """The indicators of the regions below `region`, ranked by one indicator (None last);
    equal values share a rank."""
    code, descending = sort_order(sort, direction)
    found: dict[uuid.UUID, dict[str, Score]] = defaultdict(dict)
    ids = [region.pk, *(child.pk for child in children)]
    for region_id, indicator, numerator, denominator, value in Indicator.objects.filter(
        region_id__in=ids
    ).values_list("region_id", "code", "numerator", "denominator", "value"):
        found[region_id][indicator] = Score(indicator, numerator, denominator, value)
    rows = [_score_row(child, found[child.pk]) for child in children]
    _rank(rows, code, descending)
    return Scorecard(region, rows, _score_row(region, found[region.pk]), code, descending)


def _score_row(region: Region, scores: dict[str, Score]) -> ScoreRow:
    return ScoreRow(region, {code: scores.get(code) or _empty(code) for code in IndicatorCode.values})


def _rank(rows: list[ScoreRow], code: str, descending: bool) -> None:
    measured = [row for row in rows if row.scores[code].value is not None]
    unmeasured = [row for row in rows if row.scores[code].value is None]
    measured.sort(key=lambda row: (row.scores[code].value or 0.0) * (-1 if descending else 1))
    for position, row in enumerate(measured, start=1):
        tied = position > 1 and row.scores[code].value == measured[position - 2].scores[code].value
        row.rank = measured[position - 2].rank if tied else position
    rows[:] = measured + unmeasured


def scorecard_rows(card: Scorecard) -> Iterable[list[object]]:
    """Rows of the .xlsx export: rank, name, then each indicator's value and its parts."""
    for row in [*card.rows, card.total]:
        name = row.region.name if row is not card.total else f"{card.region.name}（合计）"
        cells: list[object] = ["" if row.rank is None else row.rank, name]
        for score in row.ordered():
            cells.extend([score.number, score.numerator, score.denominator])
        yield cells
