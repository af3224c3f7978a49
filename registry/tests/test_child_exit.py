from django.test import Client

from registry.models import Child
from testing.world import World, make_child


def test_it_exits_without_deleting_and_reactivates(world: World, login) -> None:
    client: Client = login("village_worker")
    child = world.children["a1"]
    response = client.post(
        f"/children/{child.id}/exit/",
        {"version": 1, "exit_reason": "parents_returned", "exit_date": "2026-11-01", "exit_note": "父母返乡"},
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.status == "exited" and child.exit_reason == "parents_returned" and child.version == 2
    assert Child.objects.filter(pk=child.pk).exists()
    response = client.post(f"/children/{child.id}/reactivate/", {"version": 2, "reason": "父母再次外出"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.status == "active" and child.exit_reason == "" and child.version == 3
    page = client.get(f"/children/{child.id}/").content.decode()
    assert "恢复在册：父母再次外出" in page and "退出：父母返乡" in page


def test_it_requires_a_reason(world: World, login) -> None:
    client: Client = login("village_worker")
    child = world.children["a1"]
    client.post(f"/children/{child.id}/exit/", {"version": 1, "exit_reason": "", "exit_date": "2026-11-01"})
    child.refresh_from_db()
    assert child.status == "active"


def test_it_refuses_reactivating_when_another_active_file_has_the_id(world: World, login) -> None:
    client: Client = login("county_admin")
    child = world.children["a1"]
    client.post(
        f"/children/{child.id}/exit/", {"version": 1, "exit_reason": "duplicate", "exit_date": "2026-11-01"}
    )
    make_child(world.village_a2, world.users["county_admin"], name="张三", id_number=child.id_number)
    response = client.post(
        f"/children/{child.id}/reactivate/", {"version": 2, "reason": "误退出"}, follow=True
    )
    assert "已有在册档案" in response.content.decode()
    child.refresh_from_db()
    assert child.status == "exited"


def test_it_answers_404_outside_scope(world: World, login) -> None:
    client: Client = login("village_worker")
    other = world.children["b1"]
    response = client.post(
        f"/children/{other.id}/exit/", {"version": 1, "exit_reason": "other", "exit_date": "2026-11-01"}
    )
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == "active"


def test_it_does_not_exit_on_get(world: World, login) -> None:
    client: Client = login("village_worker")
    assert client.get(f"/children/{world.children['a1'].id}/exit/").status_code == 405
