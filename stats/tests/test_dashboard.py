"""Item 5: every number on the dashboard is the number of files its link lists in the ledger,
for each level's user, before and after edits and an incremental refresh."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, RoleGrant, User
from geo.models import Region, Unit, UnitKind
from registry import choices as c
from registry.models import Child
from registry.services import child_file_exit
from registry.tests.helpers import edit_post
from stats.services import stats_refresh
from stats.tests.links import ledger_count, numbers
from stats.tests.population import build_population
from testing.world import World

DASHBOARD = "/stats/"


def _check_page(client: Client, world: World, persona: str, query: str = "") -> int:
    """Every number on the page equals the ledger's count for its link; returns how many."""
    user = world.users[persona]
    client.force_login(user)
    response = client.get(DASHBOARD + query)
    assert response.status_code == 200
    found = numbers(response.content.decode())
    assert found, "no numbers on the page"
    reader = User.objects.get(pk=user.pk)  # a fresh user object: grants read once, as in a request
    listed = [(url, shown, ledger_count(reader, url)) for url, shown in found]
    assert [row for row in listed if row[1] != row[2]] == []
    return len(found)


def _pages(world: World) -> list[tuple[str, str]]:
    """Each level's own page, and a county user's drill-down to a township and a village."""
    return [
        ("county_officer", ""),
        ("township_supervisor", ""),
        ("county_admin", f"?region={world.village_a2.pk}"),
        ("village_worker", ""),
    ]


def test_every_number_equals_the_ledger_list_before_and_after_edits(world: World, client: Client) -> None:
    children = build_population(world, size=30)
    stats_refresh(since=None)
    for persona, query in _pages(world):
        assert _check_page(client, world, persona, query) > 100
    mark = timezone.now()
    admin = world.users["county_admin"]
    client.force_login(admin)
    # An edit that changes several dimensions, a move to another township, and an exit.
    edited = Child.objects.get(pk=children[5].pk)
    response = client.post(
        f"/children/{edited.pk}/edit/",
        edit_post(edited, care_type=c.CareType.LIVING_ALONE, guardianship_rating=c.Rating.POOR),
    )
    assert response.status_code == 302
    moved = (
        Child.objects.filter(status=c.Status.ACTIVE, village=world.village_a1).exclude(pk=edited.pk).first()
    )
    assert moved is not None
    response = client.post(f"/children/{moved.pk}/edit/", edit_post(moved, village=str(world.village_b1.pk)))
    assert response.status_code == 302
    leaving = Child.objects.filter(status=c.Status.ACTIVE, village=world.village_a2).first()
    assert leaving is not None
    child_file_exit(
        user=admin,
        child=leaving,
        expected_version=leaving.version,
        reason=c.ExitReason.DECEASED,
        on=timezone.localdate(),
    )
    report = stats_refresh(since=mark)
    assert not report.full and report.villages == 3  # a1 (moved out), a2 (exit), b1 (moved in)
    for persona, query in [("county_admin", ""), ("village_worker", "")]:
        _check_page(client, world, persona, query)


def test_a_few_links_followed_through_the_ledger_page(world: World, client: Client) -> None:
    build_population(world, size=12)
    stats_refresh(since=None)
    client.force_login(world.users["township_supervisor"])
    found = numbers(client.get(DASHBOARD).content.decode())
    followed = 0
    for url, shown in found[:: max(1, len(found) // 12)]:
        page = client.get(url).context["page"]
        assert len(page.rows) == shown and page.next_cursor is None, url
        followed += 1
    assert followed >= 10


def test_a_village_worker_sees_only_their_village(world: World, client: Client) -> None:
    build_population(world, size=20)
    stats_refresh(since=None)
    client.force_login(world.users["village_worker"])
    body = client.get(DASHBOARD).content.decode()
    total = numbers(body)[0]
    assert total[1] == Child.objects.filter(village=world.village_a1, status=c.Status.ACTIVE).count()
    assert "甲一村委会" in body
    assert "甲二村委会" not in body and "乙一村委会" not in body and "党江镇" not in body


@pytest.mark.parametrize(
    ("persona", "region"),
    [
        ("village_worker", "village_a2"),
        ("village_worker", "township_a"),
        ("township_supervisor", "township_b"),
        ("township_supervisor", "village_b1"),
        ("county_admin", "village_other"),
    ],
)
def test_a_region_outside_the_scope_is_like_a_missing_one(
    world: World, client: Client, persona: str, region: str
) -> None:
    client.force_login(world.users[persona])
    outside = client.get(DASHBOARD, {"region": str(getattr(world, region).pk)})
    missing = client.get(DASHBOARD, {"region": "6f0d5c1e-9b7a-4c1e-8d2f-000000000404"})
    garbage = client.get(DASHBOARD, {"region": "not-a-uuid"})
    assert outside.status_code == missing.status_code == garbage.status_code == 404
    assert len(outside.content) == len(missing.content)


@pytest.mark.parametrize(
    "persona",
    [
        "school_staff",
        "police",
        "social_worker",
        "visiting_cadre",
        "reporter",
        "system_admin",
        "auditor",
        "no_role",
    ],
)
def test_it_refuses_other_roles(world: World, client: Client, persona: str) -> None:
    client.force_login(world.users[persona])
    assert client.get(DASHBOARD).status_code == 403


def test_it_requires_login(world: World, client: Client) -> None:
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_page_reads_only_the_count_tables(
    world: World, client: Client, django_assert_max_num_queries
) -> None:
    build_population(world, size=12)
    stats_refresh(since=None)
    client.force_login(world.users["county_admin"])
    client.get(DASHBOARD)  # warm the session
    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(15):
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    touched = [
        q["sql"] for q in queries.captured_queries if re.search(r'"registry_(historical)?child"', q["sql"])
    ]
    assert touched == []
    assert any('"stats_childcount"' in q["sql"] for q in queries.captured_queries)


def test_it_shows_when_the_data_was_refreshed(world: World, client: Client) -> None:
    client.force_login(world.users["county_admin"])
    assert "统计数据尚未生成" in client.get(DASHBOARD).content.decode()
    report = stats_refresh(since=None)
    body = client.get(DASHBOARD).content.decode()
    assert f"数据更新于 {timezone.localtime(report.refreshed_at):%H:%M}" in body
    assert 'id="stats-charts" type="application/json"' in body and "<script>" not in body


def test_a_city_grant_sees_its_counties_and_each_links_to_its_county(world: World, client: Client) -> None:
    """A grant above the county (北海市): the page sums the county rows, one row per county, and
    the ledger links carry the county filter the ledger offers to such users."""
    city = Region.objects.get(code="4505", valid_to__isnull=True)
    unit = Unit.objects.create(name="北海市民政局", kind=UnitKind.CIVIL_AFFAIRS, region=city)
    RoleGrant.objects.create(
        user=world.users["county_officer"], role=Role.COUNTY_OFFICER, unit=unit, region=city
    )
    build_population(world, size=10)
    stats_refresh(since=None)
    client.force_login(world.users["county_officer"])
    board = client.get(DASHBOARD).context["board"]
    assert board.region == city
    rows = {row.label: row.cells[0] for row in board.by_region.rows}
    assert rows["合浦县"].url == f"/children/?county={world.county.pk}"
    assert rows["海城区"].count == Child.objects.filter(county__code="450502", status=c.Status.ACTIVE).count()
    _check_page(client, world, "county_officer")
    _check_page(client, world, "county_officer", f"?region={world.county.pk}")


def test_every_bar_of_a_chart_links_to_the_list_behind_its_number(world: World, client: Client) -> None:
    """The charts' bars are links too: each bar's (url, number) is one of the table's numbers,
    so it lists exactly that many files in the ledger."""
    import json

    build_population(world)
    stats_refresh(since=None)
    client.force_login(world.users["county_admin"])
    body = client.get(DASHBOARD).content.decode()
    charts = json.loads(
        re.search(r'<script id="stats-charts" type="application/json">(.*?)</script>', body, re.S)[1]
    )
    shown = set(numbers(body))
    bars = [
        (url, count)
        for spec in charts.values()
        if spec["kind"] == "bar"
        for series in spec["series"]
        for url, count in zip(series["urls"], series["data"], strict=True)
    ]
    assert bars and set(bars) <= shown
