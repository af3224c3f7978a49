import pytest
from django.test import Client

from testing.world import World, make_child

LINKS = {
    "active": {},
    "left_behind": {"category": "left_behind"},
    "key": {"key": "1"},
    "unsupervised": {"care_type": "unsupervised"},
    "living_alone": {"care_type": "living_alone"},
    "poor_rating": {"rating": "poor"},
    "dropout": {"schooling": "dropout"},
}


@pytest.mark.parametrize("persona", ["county_admin", "township_supervisor", "village_worker", "police"])
def test_it_counts_what_the_ledger_lists(world: World, login, persona: str) -> None:
    admin = world.users["county_admin"]
    make_child(world.village_a1, admin, name="独居", care_type="living_alone", guardianship_rating="poor")
    make_child(world.village_a2, admin, name="辍学", schooling="dropout")
    make_child(world.village_b1, admin, name="无人", care_type="unsupervised")
    client: Client = login(persona)
    counts = client.get("/").context["counts"]
    for key, filters in LINKS.items():
        listed = client.get("/children/", filters).context["page"].rows
        assert counts[key] == len(listed), key


def test_it_shows_nothing_to_a_user_without_a_role(world: World, login) -> None:
    counts = login("no_role").get("/").context["counts"]
    assert counts["active"] == 0
