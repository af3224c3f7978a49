from django.test import Client

from audit.models import AuditEvent
from testing.world import World


def test_it_masks_by_default_and_reveals_with_a_logged_reason(world: World, login) -> None:
    client: Client = login("village_worker")
    child = world.children["a1"]
    page = client.get(f"/children/{child.id}/").content.decode()
    assert child.id_number not in page
    assert f"{child.id_number[:6]}********{child.id_number[-4:]}" in page
    assert "13800000001" not in page and "138****0001" in page
    response = client.post(f"/children/{child.id}/reveal/", {"field": "child_id", "reason": "核对户籍"})
    assert response.status_code == 200
    assert child.id_number in response.content.decode()
    entry = AuditEvent.objects.filter(action="reveal").get()
    assert entry.user == world.users["village_worker"] and entry.object_id == str(child.id)
    assert entry.detail == {"field": "child_id", "reason": "核对户籍"}
    assert child.id_number not in str(entry.detail)


def test_it_reveals_a_parent_phone(world: World, login) -> None:
    client: Client = login("police")
    child = world.children["a1"]
    response = client.post(f"/children/{child.id}/reveal/", {"field": "father_phone", "reason": "联系家长"})
    assert "13800000001" in response.content.decode()


def test_it_requires_a_reason(world: World, login) -> None:
    client: Client = login("village_worker")
    child = world.children["a1"]
    response = client.post(f"/children/{child.id}/reveal/", {"field": "child_id", "reason": ""})
    assert response.status_code == 400
    assert child.id_number not in response.content.decode()
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_it_denies_roles_without_reveal_permission(world: World, login) -> None:
    client: Client = login("school_staff")
    child = world.children["a1"]
    response = client.post(f"/children/{child.id}/reveal/", {"field": "child_id", "reason": "核对"})
    assert response.status_code == 403
    assert child.id_number not in response.content.decode()


def test_it_answers_404_outside_scope(world: World, login) -> None:
    client: Client = login("village_worker")
    other = world.children["a2"]
    response = client.post(f"/children/{other.id}/reveal/", {"field": "child_id", "reason": "核对"})
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="reveal").exists()
