"""The scorecard (考核, R26): townships of the county or villages of the township, ranked by
any indicator, with an .xlsx export through core.exports."""

import io

import pytest
from django.test import Client
from django.utils import timezone
from python_calamine import CalamineWorkbook

from audit.models import AuditEvent
from stats.models import Indicator, IndicatorCode, Level
from stats.services import stats_refresh
from testing.world import World

Code = IndicatorCode
PAGE = "/stats/scorecard/"
EXPORT = "/stats/scorecard/export/"


def _set(region: object, level: str, code: str, numerator: int, denominator: int) -> None:
    Indicator.objects.update_or_create(
        region=region,
        code=code,
        defaults={
            "level": level,
            "numerator": numerator,
            "denominator": denominator,
            "value": numerator / denominator if denominator else None,
            "computed_at": timezone.now(),
        },
    )


@pytest.fixture
def scored(world: World) -> World:
    stats_refresh(since=None)
    _set(world.township_a, Level.TOWNSHIP, Code.DATA_COMPLETENESS, 9, 10)
    _set(world.township_b, Level.TOWNSHIP, Code.DATA_COMPLETENESS, 5, 10)
    _set(world.township_a, Level.TOWNSHIP, Code.OVERDUE_SHARE, 3, 10)
    _set(world.township_b, Level.TOWNSHIP, Code.OVERDUE_SHARE, 1, 10)
    return world


def _order(response) -> list[tuple[int | None, str]]:
    card = response.context["card"]
    return [(row.rank, row.region.name) for row in card.rows]


def test_it_ranks_townships_by_the_chosen_indicator(scored: World, client: Client) -> None:
    client.force_login(scored.users["county_admin"])
    best = _order(client.get(PAGE, {"sort": Code.DATA_COMPLETENESS}))
    assert best[:2] == [(1, "廉州镇"), (2, "党江镇")]
    assert all(rank is None for rank, _ in best[2:])  # townships with no files come last, unranked
    assert _order(client.get(PAGE, {"sort": Code.DATA_COMPLETENESS, "dir": "asc"}))[:2] == [
        (1, "党江镇"),
        (2, "廉州镇"),
    ]
    # Lower is better for the overdue share: the default order puts 党江镇 first.
    assert _order(client.get(PAGE, {"sort": Code.OVERDUE_SHARE}))[:2] == [(1, "党江镇"), (2, "廉州镇")]
    body = client.get(PAGE, {"sort": Code.OVERDUE_SHARE}).content.decode()
    assert "90.0%" in body and "9/10" in body and "工作考核" in body


def test_equal_values_share_a_rank(scored: World, client: Client) -> None:
    _set(scored.township_b, Level.TOWNSHIP, Code.DATA_COMPLETENESS, 9, 10)
    client.force_login(scored.users["county_officer"])
    assert [rank for rank, _ in _order(client.get(PAGE, {"sort": Code.DATA_COMPLETENESS}))[:2]] == [1, 1]


def test_a_supervisor_ranks_the_villages_of_the_township(scored: World, client: Client) -> None:
    _set(scored.village_a1, Level.VILLAGE, Code.DATA_COMPLETENESS, 1, 4)
    _set(scored.village_a2, Level.VILLAGE, Code.DATA_COMPLETENESS, 3, 4)
    client.force_login(scored.users["township_supervisor"])
    order = _order(client.get(PAGE, {"sort": Code.DATA_COMPLETENESS}))
    assert order == [(1, "甲二村委会"), (2, "甲一村委会")]


def test_the_export_is_the_page_as_a_spreadsheet(scored: World, client: Client) -> None:
    client.force_login(scored.users["county_admin"])
    page = client.get(PAGE, {"sort": Code.DATA_COMPLETENESS}).context["card"]
    response = client.get(EXPORT, {"sort": Code.DATA_COMPLETENESS})
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert str(rows[0][0]).startswith("导出人：")
    assert rows[1][:5] == ["排名", "区划", "重点对象按期走访率（%）", "分子", "分母"]
    body = rows[2:]
    assert [(r[0], r[1]) for r in body[: len(page.rows)]] == [
        (row.rank or "", row.region.name) for row in page.rows
    ]
    completeness = rows[1].index("档案信息完整率（%）")
    assert body[0][completeness] == 90 and body[0][completeness + 1] == 9 and body[0][completeness + 2] == 10
    assert body[-1][1] == "合浦县（合计）"
    event = AuditEvent.objects.filter(action="export").get()
    assert event.object_type == "statistics" and event.detail["rows"] == len(body)


@pytest.mark.parametrize("url", [PAGE, EXPORT])
@pytest.mark.parametrize(
    "persona",
    ["village_worker", "school_staff", "police", "social_worker", "visiting_cadre", "auditor", "no_role"],
)
def test_it_refuses_other_roles(world: World, client: Client, url: str, persona: str) -> None:
    client.force_login(world.users[persona])
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize(
    ("persona", "region"),
    [
        ("township_supervisor", "township_b"),
        ("township_supervisor", "village_a1"),  # a village has nothing below it to rank
        ("county_admin", "village_other"),
    ],
)
@pytest.mark.parametrize("url", [PAGE, EXPORT])
def test_a_region_outside_the_scope_is_404(
    world: World, client: Client, persona: str, region: str, url: str
) -> None:
    client.force_login(world.users[persona])
    assert client.get(url, {"region": str(getattr(world, region).pk)}).status_code == 404
    assert not AuditEvent.objects.filter(action="export").exists()
