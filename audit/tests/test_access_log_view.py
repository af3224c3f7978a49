import pytest
from django.test import Client

from audit.models import AuditEvent
from testing.world import World


def test_it_lets_county_admins_ask_who_looked_at_a_child(world: World, login) -> None:
    child = world.children["a1"]
    login("village_worker").get(f"/children/{child.id}/")
    client: Client = login("county_admin")
    response = client.get("/audit/access-log/", {"object_id": str(child.id)})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.username, r.action) for r in rows] == [("village_worker", "view")]


def test_it_lets_the_auditor_filter_by_outcome_and_event(world: World, login) -> None:
    login("village_worker").get(f"/children/{world.children['b1'].id}/")  # out of scope
    login("village_worker").get("/children/")
    client: Client = login("auditor")
    response = client.get("/audit/access-log/", {"outcome": "denied"})
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r.username, r.action, r.object_id) for r in rows] == [
        ("village_worker", "denied", str(world.children["b1"].id))
    ]
    assert "拒绝访问" in response.content.decode()
    listed = client.get("/audit/access-log/", {"action": "list", "username": "village_worker"})
    assert [r.action for r in listed.context["rows"]] == ["list"]


def test_reading_the_audit_log_is_itself_audited(world: World, login) -> None:
    login("auditor").get("/audit/access-log/", {"username": "village_worker"})
    row = AuditEvent.objects.get()
    assert (row.username, row.action, row.object_type) == ("auditor", "list", "audit_log")
    assert row.detail == {"username": "village_worker"}


@pytest.mark.parametrize(
    "persona",
    [
        "county_officer",
        "township_supervisor",
        "village_worker",
        "police",
        "no_role",
        "system_admin",  # 三员分立: accounts, not the audit trail
        "security_admin",
    ],
)
def test_it_denies_everyone_else(world: World, login, persona: str) -> None:
    assert login(persona).get("/audit/access-log/").status_code == 403


def test_it_is_append_only(world: World, login) -> None:
    login("village_worker").get("/children/")
    entry = AuditEvent.objects.get()
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(username="x")
