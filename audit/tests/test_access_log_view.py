import pytest
from django.test import Client

from audit.models import AccessLog
from testing.world import World


def test_it_lets_county_admins_ask_who_looked_at_a_child(world: World, login) -> None:
    child = world.children["a1"]
    login("village_worker").get(f"/children/{child.id}/")
    client: Client = login("county_admin")
    response = client.get("/audit/access-log/", {"object_id": str(child.id)})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.username, r.action) for r in rows] == [("village_worker", "view")]


@pytest.mark.parametrize(
    "persona", ["county_officer", "township_supervisor", "village_worker", "police", "no_role"]
)
def test_it_denies_everyone_else(world: World, login, persona: str) -> None:
    assert login(persona).get("/audit/access-log/").status_code == 403


def test_it_is_append_only(world: World, login) -> None:
    login("village_worker").get("/children/")
    entry = AccessLog.objects.get()
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        AccessLog.objects.all().delete()
    with pytest.raises(PermissionError):
        AccessLog.objects.update(username="x")
