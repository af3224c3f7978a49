"""「我的工作」: each tile's count equals the list it links to, inside the user's scope only;
the first page of the care roles; boundaries of each section."""

import datetime as dt

import pytest
from django.test import Client

from registry.models import Assignment
from testing.world import World
from work.models import LifeEventProposal, ProposalKind
from work.selectors import TILES
from work.tests.helpers import child, quiet, today, turning_16_in, unreachable

D = dt.timedelta


def _families(world: World, village: object, tag: str) -> dict[str, str]:
    """One file per situation in `village`; returns name → the sections it belongs to."""
    on = today()
    child(world, village, f"逾期{tag}", next_visit_due=on - D(days=1))
    child(world, village, f"今天到期{tag}", next_visit_due=on)
    child(world, village, f"七天{tag}", next_visit_due=on + D(days=7))
    child(world, village, f"八天{tag}", next_visit_due=on + D(days=8))
    child(world, village, f"协议将到期{tag}", agreement_required=True, agreement_valid_until=on + D(days=30))
    child(world, village, f"协议较远{tag}", agreement_required=True, agreement_valid_until=on + D(days=31))
    child(world, village, f"无协议{tag}", agreement_required=True, agreement_valid_until=None)
    child(world, village, f"协议过期{tag}", agreement_required=True, agreement_valid_until=on - D(days=1))
    child(world, village, f"不需协议{tag}", agreement_required=False, agreement_valid_until=None)
    unreachable(child(world, village, f"失联{tag}"))
    child(world, village, f"八天未联系{tag}", last_parent_contact_on=on - D(days=8))
    child(world, village, f"七天前联系{tag}", last_parent_contact_on=on - D(days=7))
    child(world, village, f"从未联系{tag}", last_parent_contact_on=None)
    child(world, village, f"将满16{tag}", birth_date=turning_16_in(30))
    child(world, village, f"稍后满16{tag}", birth_date=turning_16_in(31))
    return {
        "overdue": f"逾期{tag}",
        "due": f"今天到期{tag} 七天{tag}",
        "expiring": f"协议将到期{tag}",
        "missing": f"无协议{tag} 协议过期{tag}",
        "contact": f"失联{tag} 八天未联系{tag} 从未联系{tag}",
        "aging": f"将满16{tag}",
    }


@pytest.fixture
def families(world: World) -> dict[str, str]:
    quiet(world)
    inside = _families(world, world.village_a1, "甲")
    _families(world, world.village_b1, "乙")  # another township: outside the village and township scopes
    return inside


def _names(client: Client, slug: str) -> set[str]:
    response = client.get(f"/work/{slug}/")
    assert response.status_code == 200
    return {row.name for row in response.context["page"].rows}


def test_it_lists_each_section_in_the_village_scope(world: World, login, families: dict[str, str]) -> None:
    client = login("village_worker")
    counts = client.get("/work/").context["work_counts"]
    for slug, names in families.items():
        assert _names(client, slug) == set(names.split()), slug
        assert counts[slug] == len(names.split()), slug


@pytest.mark.parametrize(
    "persona",
    ["village_worker", "township_supervisor", "county_admin", "social_worker", "visiting_cadre", "police"],
)
def test_it_counts_what_each_list_shows(world: World, login, families: dict[str, str], persona: str) -> None:
    client = login(persona)
    counts = client.get("/work/").context["work_counts"]
    for slug in TILES:
        assert counts[slug] == len(_names(client, slug)), slug


@pytest.mark.parametrize("persona", ["village_worker", "township_supervisor"])
def test_it_never_lists_another_townships_children(
    world: World, login, families: dict[str, str], persona: str
) -> None:
    client = login(persona)
    for slug in TILES:
        assert not any(name.endswith("乙") for name in _names(client, slug)), slug
    body = client.get("/work/").content.decode()
    assert "乙" not in body


def test_it_lists_the_county_for_a_county_admin(world: World, login, families: dict[str, str]) -> None:
    names = _names(login("county_admin"), "overdue")
    assert names == {"逾期甲", "逾期乙"}


def test_it_filters_a_list_by_village_and_colour(world: World, login, families: dict[str, str]) -> None:
    client = login("county_admin")
    response = client.get("/work/overdue/", {"village": str(world.village_b1.pk)})
    assert {row.name for row in response.context["page"].rows} == {"逾期乙"}
    response = client.get("/work/active/", {"village": str(world.village_a1.pk), "colour": "red"})
    assert response.context["page"].rows == []
    # A malformed filter is ignored, not an error.
    assert client.get("/work/overdue/", {"village": "x", "colour": "purple"}).status_code == 200


def test_it_shows_items_assigned_to_the_user(world: World, login, families: dict[str, str]) -> None:
    client = login("social_worker")  # the World assigns a1 (张三) to the social worker
    assert _names(client, "assigned") == {"张三"}
    Assignment.objects.filter(user=world.users["social_worker"]).update(active=False)
    assert _names(client, "assigned") == set()


def test_it_counts_open_proposals_in_scope(world: World, login, families: dict[str, str]) -> None:
    on = today()
    for key in ("a1", "b1"):
        LifeEventProposal.objects.create(
            child=world.children[key], kind=ProposalKind.AGED_OUT, proposed_on=on, child_version=1
        )
    counts = login("village_worker").get("/work/").context["work_counts"]
    assert counts["proposals"] == 1


def test_it_pages_a_long_list_by_due_date(world: World, login, settings) -> None:
    settings.SHOUHU_LEDGER_PAGE_SIZE = 2
    quiet(world)
    on = today()
    for days in (5, 1, 3, 2, 4):
        child(world, world.village_a1, f"逾期{days}天", next_visit_due=on - D(days=days))
    client = login("village_worker")
    seen: list[str] = []
    url = "/work/overdue/"
    for _ in range(5):
        response = client.get(url)
        seen += [row.name for row in response.context["page"].rows]
        if not response.context["next_url"]:
            break
        url = "/work/overdue/" + response.context["next_url"]
    assert seen == [f"逾期{days}天" for days in (5, 4, 3, 2, 1)]


def test_it_logs_each_list_read(world: World, login, families: dict[str, str]) -> None:
    from audit.models import AuditEvent, EventType

    client = login("village_worker")
    before = AuditEvent.objects.filter(action=EventType.LIST).count()
    client.get("/work/overdue/")
    row = AuditEvent.objects.filter(action=EventType.LIST).latest("id")
    assert AuditEvent.objects.filter(action=EventType.LIST).count() == before + 1
    assert row.detail == {"section": "overdue", "count": 1}


def test_it_is_the_first_page_of_the_care_roles(world: World, login) -> None:
    for persona in ("village_worker", "visiting_cadre", "social_worker"):
        response = login(persona).get("/")
        assert "work/my_work.html" in [t.name for t in response.templates], persona
        assert "counts" in response.context  # the scope counts stay, below
    response = login("township_supervisor").get("/")
    assert "work/township.html" in [t.name for t in response.templates]
    response = login("police").get("/")
    assert "registry/home.html" in [t.name for t in response.templates]


def test_it_sends_anonymous_users_to_the_login_page(client: Client, db: object) -> None:
    for url in (
        "/work/",
        "/work/overdue/",
        "/work/proposals/",
        "/work/township/",
        "/work/assign/",
        "/work/nightly/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
