"""The township supervisor's overview: per village, colour counts, visit coverage, overdue,
agreement and contact gaps; each number is what the linked list shows."""

import datetime as dt

import pytest
from django.test import Client

from testing.world import World
from work.tests.helpers import child, quiet, today

D = dt.timedelta


@pytest.fixture
def village_a1(world: World) -> None:
    """Four new files in 甲一村 besides 张三: due yesterday, today, in 5 days, never computed."""
    quiet(world)
    on = today()
    child(
        world,
        world.village_a1,
        "逾期",
        next_visit_due=on - D(days=1),
        risk_colour="red",
        last_visit_on=on - D(days=30),
    )
    child(
        world,
        world.village_a1,
        "今天",
        next_visit_due=on,
        risk_colour="orange",
        last_visit_on=on - D(days=29),
    )
    child(
        world, world.village_a1, "五天", next_visit_due=on + D(days=5), risk_colour="orange", last_visit_on=on
    )
    child(world, world.village_a1, "未算", next_visit_due=None, risk_colour="", last_visit_on=None)
    child(world, world.village_a1, "缺协议", agreement_required=True, last_parent_contact_on=on - D(days=8))


def _row(client: Client, village: object) -> dict[str, int]:
    response = client.get("/work/township/")
    assert response.status_code == 200
    rows = {row.village.pk: row for row in response.context["rows"]}
    return rows[village].counts  # type: ignore[index]


def test_it_shows_each_villages_figures(world: World, login, village_a1: None) -> None:
    counts = _row(login("township_supervisor"), world.village_a1.pk)
    # 张三 and 缺协议 are green, due in 60 days; 5 + 1 files in all.
    assert counts["active"] == 6
    assert (counts["red"], counts["orange"], counts["yellow"], counts["green"], counts["uncoloured"]) == (
        1,
        2,
        0,
        2,
        1,
    )
    assert counts["overdue"] == 1
    assert counts["covered"] == 4  # today, in 5 days and the two in 60 days; not overdue, not uncomputed
    assert counts["recent"] == 2  # visited today and 29 days ago; 30 days ago is out
    assert counts["missing"] == 1
    assert counts["contact"] == 1


def test_it_renders_coverage_as_a_share(world: World, login, village_a1: None) -> None:
    body = login("township_supervisor").get("/work/township/").content.decode()
    assert "67%" in body  # 4 of 6 visited within their interval
    assert "33%" in body  # 2 of 6 in the last 30 days


def test_it_counts_what_the_linked_lists_show(world: World, login, village_a1: None) -> None:
    client = login("township_supervisor")
    counts = _row(client, world.village_a1.pk)
    village = str(world.village_a1.pk)
    for slug in ("active", "overdue", "recent", "missing", "contact"):
        rows = client.get(f"/work/{slug}/", {"village": village}).context["page"].rows
        assert counts[slug] == len(rows), slug
    for colour in ("red", "orange", "green"):
        rows = client.get("/work/active/", {"village": village, "colour": colour}).context["page"].rows
        assert counts[colour] == len(rows), colour


def test_it_lists_the_supervisors_villages_only(world: World, login, village_a1: None) -> None:
    rows = login("township_supervisor").get("/work/township/").context["rows"]
    assert {row.village.pk for row in rows} == {world.village_a1.pk, world.village_a2.pk}


def test_it_lists_every_village_for_a_county_admin(world: World, login, village_a1: None) -> None:
    rows = login("county_admin").get("/work/township/").context["rows"]
    assert {world.village_a1.pk, world.village_a2.pk, world.village_b1.pk} <= {row.village.pk for row in rows}
    assert world.village_other.pk not in {row.village.pk for row in rows}


@pytest.mark.parametrize(
    "persona", ["village_worker", "visiting_cadre", "social_worker", "police", "auditor"]
)
def test_it_refuses_other_roles(world: World, login, persona: str) -> None:
    assert login(persona).get("/work/township/").status_code == 403


def test_its_tiles_count_what_my_work_lists(world: World, login, village_a1: None) -> None:
    from work.selectors import TILES

    client = login("township_supervisor")
    counts = client.get("/work/township/").context["work_counts"]
    assert counts == {**counts, **client.get("/work/").context["work_counts"]}
    for slug in TILES:
        assert counts[slug] == len(client.get(f"/work/{slug}/").context["page"].rows), slug


def test_the_supervisors_first_page_counts_as_the_registry_does(
    world: World, login, village_a1: None
) -> None:
    from registry.access import children_visible_to
    from registry.selectors import counts_for

    response = login("township_supervisor").get("/")
    assert "work/township.html" in [t.name for t in response.templates]
    assert response.context["counts"] == counts_for(children_visible_to(world.users["township_supervisor"]))
