"""Writes of the stats app: the count tables, their monthly snapshots and the work indicators.

Called by the scheduler, never by signals (STYLE anti-pattern 1):
- stats_refresh_tick(): every scheduler tick (work `run_schedule`, every 60 s). Recomputes the
  villages whose files (or their contacts, agreements, reports, dropout cases) changed since
  the previous tick, then their townships and counties from the village rows.
- stats_nightly(): once a night. Rebuilds everything (age bands move with the date, the
  indicators' windows move with the clock) and takes the month's snapshot.
- stats_refresh(since=…) and stats_snapshot_month() are the two steps, for imports, commands
  and tests.

A refresh runs in one transaction that first locks the RefreshState row, so two schedulers
never interleave their deletes and inserts; readers see the old rows or the new, never half.
"""

import datetime as dt
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.expressions import Combinable
from django.utils import timezone

from contact.models import ParentContact
from geo.models import Region
from guardianship.models import GuardianshipAgreement
from registry import choices as c
from registry import rules
from registry.models import Child, Parent
from registry.selectors import AGE_BANDS
from reports.models import Report
from schooling.models import CaseState, DropoutCase
from stats.models import (
    Category,
    ChildCount,
    CountSnapshot,
    Dimension,
    Indicator,
    IndicatorCode,
    Level,
    RefreshState,
)

STATE_KEY = "counts"
# The next tick starts this long before the previous one did: a transaction still open then
# (an import writing for a minute) commits rows whose updated_at is older than its commit.
TICK_OVERLAP = dt.timedelta(minutes=10)
CONTACT_DAYS = 30
RESPONSE_DAYS = 90
DROPOUT_DAYS = 365
BATCH = 2000

CATEGORY_Q: dict[str, Q] = {
    Category.ALL: Q(),
    Category.LEFT_BEHIND: Q(is_left_behind=True),
    Category.IN_DIFFICULTY: Q(is_in_difficulty=True),
    Category.DE_FACTO_ORPHAN: Q(is_de_facto_orphan=True),
    Category.KEY: Q(is_key=True),
}
_DIMENSION_FIELD: dict[str, str] = {
    Dimension.CARE_TYPE: "care_type",
    Dimension.RATING: "guardianship_rating",
    Dimension.SCHOOLING: "schooling",
    Dimension.SEX: "sex",
    Dimension.RISK_COLOUR: "risk_colour",
}
# Indicators whose township and county values are sums of the village numerators and
# denominators; the response time is a median and is computed at each level from the reports.
ADDITIVE = (
    IndicatorCode.VISIT_COVERAGE,
    IndicatorCode.OVERDUE_SHARE,
    IndicatorCode.AGREEMENTS_SIGNED,
    IndicatorCode.PARENTS_IN_CONTACT,
    IndicatorCode.DROPOUTS_RETURNED,
    IndicatorCode.DATA_COMPLETENESS,
)
_PARENT_LEVEL = {Level.VILLAGE: Level.TOWNSHIP, Level.TOWNSHIP: Level.COUNTY}

Ids = set[uuid.UUID]


@dataclass(frozen=True)
class RefreshReport:
    full: bool
    villages: int
    townships: int
    counties: int
    count_rows: int
    indicator_rows: int
    refreshed_at: dt.datetime


# --- entry points ----------------------------------------------------------------------------


def stats_refresh_tick() -> RefreshReport:
    """For the scheduler tick: refresh what changed since the previous refresh began (less
    TICK_OVERLAP); the very first call rebuilds everything."""
    state = RefreshState.objects.filter(key=STATE_KEY).first()
    since = state.started_at - TICK_OVERLAP if state and state.started_at else None
    return stats_refresh(since=since)


def stats_nightly(*, on: dt.date | None = None) -> RefreshReport:
    """For the nightly job: a full rebuild at today's date, then this month's snapshot."""
    report = stats_refresh(since=None, on=on)
    stats_snapshot_month(on=on)
    return report


@transaction.atomic
def _analyse() -> None:
    """After a full rebuild, fresh planner statistics for the count tables: with the old ones
    PostgreSQL scanned the whole table for a province page (bench:stats: 112 → 56 ms)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE stats_childcount, stats_indicator, stats_countsnapshot")


@transaction.atomic
def stats_refresh(*, since: dt.datetime | None, on: dt.date | None = None) -> RefreshReport:
    """Recompute the village rows of the villages touched since `since` (every village when
    None), then their townships and counties from the village rows. Age bands are taken at `on`
    (today), the indicators' windows end now. One transaction: the refresh state's row lock
    keeps two refreshes apart, and a page never reads half a refresh."""
    state = _locked_state()
    now = timezone.now()
    on = on or timezone.localdate(now)
    if since is None:
        villages: Ids | None = None
        extra_townships: Ids = set()
    else:
        villages, extra_townships = _touched(since)
    count_rows, indicator_rows, townships, counties = _recompute(villages, extra_townships, on=on, now=now)
    state.started_at = now
    state.refreshed_at = timezone.now()
    fields = ["started_at", "refreshed_at"]
    if since is None:
        state.full_at = now
        fields.append("full_at")
        _analyse()
    state.save(update_fields=fields)
    return RefreshReport(
        full=since is None,
        villages=-1 if villages is None else len(villages),
        townships=len(townships),
        counties=len(counties),
        count_rows=count_rows,
        indicator_rows=indicator_rows,
        refreshed_at=state.refreshed_at,
    )


@transaction.atomic
def stats_snapshot_month(*, on: dt.date | None = None) -> int:
    """Copy the current counts into the snapshot of the month of `on` (today), replacing any
    earlier copy of that month: idempotent, and the last copy of a month is its month-end
    state. Earlier months are never touched. Returns the number of rows."""
    _locked_state()
    month = (on or timezone.localdate()).replace(day=1)
    taken = timezone.now()
    CountSnapshot.objects.filter(month=month).delete()
    fields = ("region_id", "level", "category", "dimension", "value", "count")
    rows = (
        CountSnapshot(month=month, taken_at=taken, **dict(zip(fields, values, strict=True)))
        for values in ChildCount.objects.values_list(*fields).iterator(chunk_size=BATCH)
    )
    return _bulk_create(CountSnapshot, rows)


# --- what changed ----------------------------------------------------------------------------


def _locked_state() -> RefreshState:
    RefreshState.objects.get_or_create(key=STATE_KEY)
    return RefreshState.objects.select_for_update().get(key=STATE_KEY)


def _history(model: Any) -> QuerySet[Any]:
    return model.history.all()  # type: ignore[no-any-return]


def _touched(since: dt.datetime) -> tuple[Ids, Ids]:
    """(villages, townships) whose numbers may have changed since `since`: the villages of
    files written or recomputed since, every village those files were ever in (a file that
    moved leaves a count behind), and the villages of children with a contact, agreement,
    report or dropout case written since; the townships of reports written since (a report
    on a child with no file counts at its township)."""
    changed = Child.objects.filter(Q(updated_at__gt=since) | Q(care_computed_at__gt=since))
    villages: Ids = set(changed.values_list("village_id", flat=True).distinct())
    villages |= set(
        _history(Child).filter(id__in=changed.values("id")).values_list("village_id", flat=True).distinct()
    )
    related = (
        _history(ParentContact)
        .filter(history_date__gt=since)
        .values("child_id")
        .order_by()
        .union(
            _history(GuardianshipAgreement).filter(history_date__gt=since).values("child_id").order_by(),
            _history(DropoutCase).filter(history_date__gt=since).values("child_id").order_by(),
            _history(Report)
            .filter(history_date__gt=since, child_id__isnull=False)
            .values("child_id")
            .order_by(),
        )
    )
    villages |= set(Child.objects.filter(id__in=related).values_list("village_id", flat=True).distinct())
    townships: Ids = set(
        _history(Report).filter(history_date__gt=since).values_list("township_id", flat=True).distinct()
    )
    return villages, townships


def _recompute(
    villages: Ids | None, extra_townships: Ids, *, on: dt.date, now: dt.datetime
) -> tuple[int, int, Ids, Ids]:
    """Village rows, then township and county roll-ups. villages=None: all of them."""
    if villages is None:
        ChildCount.objects.all().delete()
        Indicator.objects.all().delete()
        townships: Ids | None = None
        counties: Ids | None = None
    else:
        ChildCount.objects.filter(region_id__in=villages).delete()
        Indicator.objects.filter(region_id__in=villages).delete()
        townships = _parents(villages) | extra_townships
        counties = _parents(townships)
    count_rows = _bulk_create(ChildCount, _village_counts(villages, on=on, now=now))
    indicator_rows = _bulk_create(Indicator, _village_indicators(villages, on=on, now=now))
    for level, parents in ((Level.TOWNSHIP, townships), (Level.COUNTY, counties)):
        count_rows += _roll_up_counts(level, parents, now=now)
        indicator_rows += _roll_up_indicators(level, parents, now=now)
    done_townships = townships if townships is not None else _present(Level.TOWNSHIP)
    done_counties = counties if counties is not None else _present(Level.COUNTY)
    return count_rows, indicator_rows, done_townships, done_counties


def _parents(regions: Iterable[uuid.UUID]) -> Ids:
    found = Region.objects.filter(pk__in=list(regions), parent__isnull=False)
    return set(found.values_list("parent_id", flat=True))


def _present(level: str) -> Ids:
    return set(ChildCount.objects.filter(level=level).values_list("region_id", flat=True).distinct())


def _bulk_create(model: Any, rows: Iterable[Any]) -> int:
    batch: list[Any] = []
    total = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            model.objects.bulk_create(batch)
            total += len(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch)
        total += len(batch)
    return total


# --- counts ----------------------------------------------------------------------------------


def _active(villages: Ids | None) -> QuerySet[Child]:
    children = Child.objects.filter(status=c.Status.ACTIVE)
    return children if villages is None else children.filter(village_id__in=list(villages))


def age_band_expression(on: dt.date) -> Case:
    """The age band of a birth date on `on`, in SQL: the same ranges the ledger filters by
    (registry.rules.birth_range_for_age); "" for an age outside every band."""
    whens = [
        When(birth_date__range=rules.birth_range_for_age(low, high, on), then=Value(code))
        for code, low, high in AGE_BANDS
    ]
    return Case(*whens, default=Value(""))


def _dimension_value(dimension: str, on: dt.date) -> Combinable:
    if dimension == Dimension.AGE_BAND:
        return age_band_expression(on)
    return F(_DIMENSION_FIELD[dimension])


def _category_counts() -> dict[str, Count]:
    return {category: Count("id", filter=q) if q else Count("id") for category, q in CATEGORY_Q.items()}


def _village_counts(villages: Ids | None, *, on: dt.date, now: dt.datetime) -> Iterable[ChildCount]:
    """One grouped query per dimension over the active files of these villages."""
    children = _active(villages)
    for dimension in Dimension.values:
        if dimension == Dimension.TOTAL:
            grouped = children.values("village_id").annotate(**_category_counts()).order_by()
        else:
            grouped = (
                children.annotate(dim_value=_dimension_value(dimension, on))
                .values("village_id", "dim_value")
                .annotate(**_category_counts())
                .order_by()
            )
        for values in grouped:
            row: dict[str, Any] = dict(values)
            value = str(row.get("dim_value") or "")
            if dimension == Dimension.AGE_BAND and not value:
                continue  # 18 or over: in no band (such files are exited at 18)
            for category in CATEGORY_Q:
                if row[category]:
                    yield ChildCount(
                        region_id=row["village_id"],
                        level=Level.VILLAGE,
                        category=category,
                        dimension=dimension,
                        value=value,
                        count=row[category],
                        computed_at=now,
                    )


def _roll_up_counts(level: str, parents: Ids | None, *, now: dt.datetime) -> int:
    below = Level.VILLAGE if level == Level.TOWNSHIP else Level.TOWNSHIP
    rows = ChildCount.objects.filter(level=below, region__parent__isnull=False)
    if parents is not None:
        ChildCount.objects.filter(region_id__in=list(parents)).delete()
        rows = rows.filter(region__parent_id__in=list(parents))
    grouped: Iterable[Any] = (
        rows.values("region__parent_id", "category", "dimension", "value")
        .annotate(total=Sum("count"))
        .order_by()
    )
    return _bulk_create(
        ChildCount,
        (
            ChildCount(
                region_id=row["region__parent_id"],
                level=level,
                category=row["category"],
                dimension=row["dimension"],
                value=row["value"],
                count=row["total"],
                computed_at=now,
            )
            for row in grouped
        ),
    )


# --- indicators ------------------------------------------------------------------------------


def _complete_q() -> Q:
    """Data completeness: ID number, hukou place and current address, and for each parent
    working away a phone and a work province."""
    gap = Parent.objects.filter(child=OuterRef("pk"), status=c.ParentStatus.AWAY).filter(
        Q(phone="") | Q(work_province__isnull=True)
    )
    return ~Q(id_number="") & ~Q(hukou_place="") & ~Q(current_address="") & ~Q(Exists(gap))


def _file_indicators(villages: Ids | None, on: dt.date) -> dict[uuid.UUID, dict[str, tuple[int, int]]]:
    """(numerator, denominator) per village and indicator, from the active files, one query."""
    contact_since = on - dt.timedelta(days=CONTACT_DAYS)
    grouped = (
        _active(villages)
        .values("village_id")
        .annotate(
            active=Count("id"),
            key=Count("id", filter=Q(is_key=True)),
            key_covered=Count("id", filter=Q(is_key=True, next_visit_due__gte=on)),
            overdue=Count("id", filter=Q(next_visit_due__lt=on)),
            required=Count("id", filter=Q(agreement_required=True)),
            signed=Count("id", filter=Q(agreement_required=True, agreement_valid_until__gte=on)),
            left_behind=Count("id", filter=Q(is_left_behind=True)),
            contacted=Count("id", filter=Q(is_left_behind=True, last_parent_contact_on__gte=contact_since)),
            complete=Count("id", filter=_complete_q()),
        )
        .order_by()
    )
    return {
        row["village_id"]: {
            IndicatorCode.VISIT_COVERAGE: (row["key_covered"], row["key"]),
            IndicatorCode.OVERDUE_SHARE: (row["overdue"], row["active"]),
            IndicatorCode.AGREEMENTS_SIGNED: (row["signed"], row["required"]),
            IndicatorCode.PARENTS_IN_CONTACT: (row["contacted"], row["left_behind"]),
            IndicatorCode.DATA_COMPLETENESS: (row["complete"], row["active"]),
        }
        for row in grouped
    }


def _dropout_indicators(villages: Ids | None, now: dt.datetime) -> dict[uuid.UUID, tuple[int, int]]:
    """Schooling cases closed in the last 12 months: (returned to school, all closed)."""
    closed = DropoutCase.objects.filter(
        closed_at__gte=now - dt.timedelta(days=DROPOUT_DAYS),
        state__in=[CaseState.RETURNED, CaseState.NOT_RETURNED],
    )
    if villages is not None:
        closed = closed.filter(child__village_id__in=list(villages))
    grouped = (
        closed.values("child__village_id")
        .annotate(total=Count("id"), returned=Count("id", filter=Q(state=CaseState.RETURNED)))
        .order_by()
    )
    return {row["child__village_id"]: (row["returned"], row["total"]) for row in grouped}


def _response_medians(
    field: str, regions: Ids | None, now: dt.datetime
) -> dict[uuid.UUID, tuple[int, int, float | None]]:
    """Per region (`field` of the report: child__village_id, township_id or county_id), over the
    reports of the last 90 days: (acknowledged, reported, median minutes reported → acknowledged),
    as reports.selectors.response_time_summary computes it."""
    reports = Report.objects.filter(reported_at__gte=now - dt.timedelta(days=RESPONSE_DAYS))
    reports = reports.filter(**{f"{field}__isnull": False})
    if regions is not None:
        reports = reports.filter(**{f"{field}__in": list(regions)})
    minutes: dict[uuid.UUID, list[float]] = defaultdict(list)
    totals: dict[uuid.UUID, int] = defaultdict(int)
    for region, reported, acknowledged in reports.values_list(field, "reported_at", "acknowledged_at"):
        totals[region] += 1
        if acknowledged is not None:
            minutes[region].append((acknowledged - reported).total_seconds() / 60)
    return {
        region: (len(minutes[region]), total, statistics.median(minutes[region]) if minutes[region] else None)
        for region, total in totals.items()
    }


def _share(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _village_indicators(villages: Ids | None, *, on: dt.date, now: dt.datetime) -> Iterable[Indicator]:
    files = _file_indicators(villages, on)
    dropouts = _dropout_indicators(villages, now)
    responses = _response_medians("child__village_id", villages, now)
    for village in set(files) | set(dropouts) | set(responses):
        values = dict(files.get(village, {}))
        values[IndicatorCode.DROPOUTS_RETURNED] = dropouts.get(village, (0, 0))
        for code in ADDITIVE:
            numerator, denominator = values.get(code, (0, 0))
            yield Indicator(
                region_id=village,
                level=Level.VILLAGE,
                code=code,
                numerator=numerator,
                denominator=denominator,
                value=_share(numerator, denominator),
                computed_at=now,
            )
        acknowledged, reported, median = responses.get(village, (0, 0, None))
        yield Indicator(
            region_id=village,
            level=Level.VILLAGE,
            code=IndicatorCode.RESPONSE_MINUTES,
            numerator=acknowledged,
            denominator=reported,
            value=median,
            computed_at=now,
        )


def _roll_up_indicators(level: str, parents: Ids | None, *, now: dt.datetime) -> int:
    below = Level.VILLAGE if level == Level.TOWNSHIP else Level.TOWNSHIP
    rows = Indicator.objects.filter(level=below, code__in=ADDITIVE, region__parent__isnull=False)
    if parents is not None:
        Indicator.objects.filter(region_id__in=list(parents)).delete()
        rows = rows.filter(region__parent_id__in=list(parents))
    grouped: Iterable[Any] = (
        rows.values("region__parent_id", "code")
        .annotate(numerator=Sum("numerator"), denominator=Sum("denominator"))
        .order_by()
    )
    made = [
        Indicator(
            region_id=row["region__parent_id"],
            level=level,
            code=row["code"],
            numerator=row["numerator"],
            denominator=row["denominator"],
            value=_share(row["numerator"], row["denominator"]),
            computed_at=now,
        )
        for row in grouped
    ]
    field = "township_id" if level == Level.TOWNSHIP else "county_id"
    for region, (acknowledged, reported, median) in _response_medians(field, parents, now).items():
        made.append(
            Indicator(
                region_id=region,
                level=level,
                code=IndicatorCode.RESPONSE_MINUTES,
                numerator=acknowledged,
                denominator=reported,
                value=median,
                computed_at=now,
            )
        )
    return _bulk_create(Indicator, made)
