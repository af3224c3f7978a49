"""Item 6: the count tables are refreshed for the villages that changed, rolled up to township
and county, and the monthly snapshot is taken once per month."""

import datetime as dt
import uuid

from django.test import Client
from django.utils import timezone

from registry import choices as c
from registry.models import Child
from registry.tests.helpers import edit_post
from stats.models import Category, ChildCount, CountSnapshot, Dimension, Level, RefreshState
from stats.selectors import region_counts
from stats.services import stats_nightly, stats_refresh, stats_refresh_tick, stats_snapshot_month
from testing.world import World, make_child


def _total(region: object, category: str = Category.ALL) -> int:
    row = ChildCount.objects.filter(region=region, category=category, dimension=Dimension.TOTAL).first()
    return row.count if row else 0


def _rows_of(region: object) -> set[tuple[object, ...]]:
    return set(ChildCount.objects.filter(region=region).values_list("id", "count", "computed_at"))


def test_it_rolls_village_rows_up_to_township_and_county(world: World) -> None:
    admin = world.users["county_admin"]
    make_child(world.village_a1, admin, name="甲", care_type=c.CareType.LIVING_ALONE)
    make_child(world.village_b1, admin, name="乙", sex=c.Sex.FEMALE)
    stats_refresh(since=None)
    assert [_total(world.village_a1), _total(world.village_a2), _total(world.village_b1)] == [2, 1, 2]
    assert _total(world.township_a) == 3 and _total(world.township_b) == 2 and _total(world.county) == 5
    assert _total(world.county, Category.LEFT_BEHIND) == 5
    county = region_counts(world.county)
    assert county[(Category.ALL, Dimension.CARE_TYPE, c.CareType.LIVING_ALONE)] == 1
    assert county[(Category.ALL, Dimension.SEX, c.Sex.FEMALE)] == 1
    assert (
        sum(n for (cat, dim, _), n in county.items() if cat == Category.ALL and dim == Dimension.AGE_BAND)
        == 5
    )
    levels = dict(
        ChildCount.objects.filter(dimension=Dimension.TOTAL, category=Category.ALL).values_list(
            "region", "level"
        )
    )
    assert levels[world.village_a1.pk] == Level.VILLAGE and levels[world.county.pk] == Level.COUNTY


def test_a_refresh_picks_up_a_change_and_leaves_other_villages_alone(world: World, client: Client) -> None:
    stats_refresh(since=None)
    untouched = _rows_of(world.village_b1)
    mark = timezone.now()
    client.force_login(world.users["county_admin"])
    child = Child.objects.get(pk=world.children["a1"].pk)
    response = client.post(f"/children/{child.pk}/edit/", edit_post(child, care_type=c.CareType.RELATIVES))
    assert response.status_code == 302
    report = stats_refresh(since=mark)
    assert (report.villages, report.townships, report.counties) == (1, 1, 1)
    counts = region_counts(world.village_a1)
    assert counts[(Category.ALL, Dimension.CARE_TYPE, c.CareType.RELATIVES)] == 1
    assert (Category.ALL, Dimension.CARE_TYPE, c.CareType.GRANDPARENTS) not in counts
    assert region_counts(world.county)[(Category.ALL, Dimension.CARE_TYPE, c.CareType.GRANDPARENTS)] == 2
    assert _rows_of(world.village_b1) == untouched  # not rewritten
    assert _rows_of(world.township_b) != set()


def test_a_file_that_moves_leaves_no_count_behind(world: World, client: Client) -> None:
    stats_refresh(since=None)
    mark = timezone.now()
    client.force_login(world.users["county_admin"])
    child = Child.objects.get(pk=world.children["a1"].pk)
    client.post(f"/children/{child.pk}/edit/", edit_post(child, village=str(world.village_b1.pk)))
    stats_refresh(since=mark)
    assert _total(world.village_a1) == 0 and _total(world.village_b1) == 2
    assert _total(world.township_a) == 1 and _total(world.county) == 3


def test_the_tick_starts_where_the_last_refresh_began(world: World) -> None:
    first = stats_refresh_tick()  # nothing refreshed yet: a full rebuild
    assert first.full
    state = RefreshState.objects.get()
    assert state.started_at is not None and state.full_at is not None
    nothing = stats_refresh_tick()
    assert not nothing.full and nothing.villages == 4  # the World's four files, inside the overlap
    RefreshState.objects.update(started_at=timezone.now() + dt.timedelta(hours=1))
    assert stats_refresh_tick().villages == 0


def test_the_nightly_rebuild_moves_age_bands_with_the_date(world: World) -> None:
    today = timezone.localdate()
    birthday = today.replace(year=today.year - 6) + dt.timedelta(days=1)  # six tomorrow
    make_child(world.village_a2, world.users["county_admin"], name="明天六岁", birth_date=birthday)
    stats_nightly(on=today)
    assert region_counts(world.village_a2)[(Category.ALL, Dimension.AGE_BAND, "0-5")] == 1
    stats_nightly(on=today + dt.timedelta(days=1))
    assert (Category.ALL, Dimension.AGE_BAND, "0-5") not in region_counts(world.village_a2)


def test_the_monthly_snapshot_is_idempotent(world: World) -> None:
    today = timezone.localdate()
    stats_refresh(since=None)
    first = stats_snapshot_month(on=today)
    rows = set(
        CountSnapshot.objects.values_list("month", "region", "category", "dimension", "value", "count")
    )
    assert stats_snapshot_month(on=today) == first
    assert (
        set(CountSnapshot.objects.values_list("month", "region", "category", "dimension", "value", "count"))
        == rows
    )
    assert {month for month, *_ in rows} == {today.replace(day=1)}
    # A later month adds its own rows and leaves this one as it was.
    make_child(world.village_a1, world.users["county_admin"], name="下月新童")
    stats_refresh(since=None)
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    stats_snapshot_month(on=next_month)
    by_month = dict(
        CountSnapshot.objects.filter(
            region=world.county, category=Category.ALL, dimension=Dimension.TOTAL
        ).values_list("month", "count")
    )
    assert by_month == {today.replace(day=1): 3, next_month: 4}


def test_the_trend_reads_the_snapshots(world: World, client: Client) -> None:
    today = timezone.localdate()
    stats_refresh(since=None)
    month = today.replace(day=1)
    for back, count in ((13, 90), (2, 7)):  # 13 months ago is outside the 12-month window
        index = month.year * 12 + month.month - 1 - back
        CountSnapshot.objects.create(
            month=dt.date(index // 12, index % 12 + 1, 1),
            region=world.county,
            level=Level.COUNTY,
            category=Category.ALL,
            dimension=Dimension.TOTAL,
            value="",
            count=count,
            taken_at=timezone.now(),
        )
    stats_snapshot_month(on=today)
    client.force_login(world.users["county_officer"])
    trend = client.get("/stats/").context["board"].trend
    assert [(m, counts[0]) for m, counts in trend.rows][-2:] == [(trend.months[-2], 7), (month, 3)]
    assert 90 not in [counts[0] for _, counts in trend.rows]


def test_refreshes_do_not_duplicate_rows(world: World) -> None:
    stats_refresh(since=None)
    before = ChildCount.objects.count()
    stats_refresh(since=timezone.now() - dt.timedelta(days=1))
    stats_refresh(since=None)
    assert ChildCount.objects.count() == before
    assert not ChildCount.objects.filter(region_id=uuid.uuid4()).exists()


def test_the_scheduler_and_nightly_job_refresh_outside_any_transaction(transactional_world: World) -> None:
    """The scheduler (run_schedule) and the nightly job call these in autocommit: the refresh
    state's row lock must come with its own transaction (PostgreSQL refused the bare lock)."""
    make_child(transactional_world.village_a1, transactional_world.users["county_admin"], name="甲")
    stats_refresh_tick()
    stats_refresh_tick()
    stats_nightly()
    assert _total(transactional_world.village_a1) == 2
