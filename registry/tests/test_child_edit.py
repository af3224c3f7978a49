from django.test import Client

from registry.models import Child
from registry.tests.helpers import edit_post
from testing.world import World


def test_it_saves_an_edit_and_keeps_history(world: World, login) -> None:
    client: Client = login("village_worker")
    child = world.children["a1"]
    response = client.post(f"/children/{child.id}/edit/", edit_post(child, current_address="新地址 9 号"))
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.current_address == "新地址 9 号"
    assert child.version == 2
    page = client.get(f"/children/{child.id}/").content.decode()
    assert "现居住地" in page and "新地址 9 号" in page and "合浦县某村 1 号" in page


def test_it_refuses_a_stale_version_and_shows_the_difference(world: World, login) -> None:
    child = world.children["a1"]
    loaded = edit_post(child)  # both editors load version 1
    supervisor: Client = login("township_supervisor")
    assert (
        supervisor.post(
            f"/children/{child.id}/edit/", {**loaded, "current_address": "督导员改的地址"}
        ).status_code
        == 302
    )
    worker: Client = login("village_worker")
    response = worker.post(f"/children/{child.id}/edit/", {**loaded, "current_address": "儿童主任改的地址"})
    assert response.status_code == 409
    body = response.content.decode()
    assert "档案已被他人修改" in body and "督导员改的地址" in body
    child.refresh_from_db()
    assert child.current_address == "督导员改的地址"
    assert child.version == 2


def test_it_recomputes_derived_fields(world: World, login) -> None:
    client: Client = login("village_worker")
    child = world.children["a1"]
    payload = edit_post(child, guardianship_rating="poor", **{"mother-status": "at_home"})
    assert client.post(f"/children/{child.id}/edit/", payload).status_code == 302
    child.refresh_from_db()
    assert child.is_key and child.key_reasons == ["poor_rating"]
    assert not child.is_left_behind  # the mother is at home and capable


def test_it_answers_404_outside_my_scope(world: World, login) -> None:
    client: Client = login("village_worker")
    other = world.children["a2"]
    assert client.get(f"/children/{other.id}/edit/").status_code == 404
    response = client.post(f"/children/{other.id}/edit/", edit_post(other, current_address="x"))
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.current_address != "x"


def test_it_answers_404_to_read_only_roles(world: World, login) -> None:
    client: Client = login("school_staff")
    child = world.children["a1"]
    assert client.get(f"/children/{child.id}/").status_code == 200
    assert (
        client.post(f"/children/{child.id}/edit/", edit_post(child, current_address="x")).status_code == 404
    )
    assert Child.objects.get(pk=child.pk).current_address != "x"


def test_it_refuses_moving_a_file_to_a_village_outside_scope(world: World, login) -> None:
    client: Client = login("village_worker")
    child = world.children["a1"]
    response = client.post(f"/children/{child.id}/edit/", edit_post(child, village=str(world.village_b1.id)))
    assert response.status_code == 200
    assert "village" in response.context["forms"].child.errors
    child.refresh_from_db()
    assert child.village_id == world.village_a1.id


def test_it_never_sends_full_numbers_to_the_edit_form(world: World, login) -> None:
    client: Client = login("village_worker")
    child = world.children["a1"]
    body = client.get(f"/children/{child.id}/edit/").content.decode()
    assert child.id_number not in body and "13800000001" not in body
    assert f"已登记 {child.id_number[:6]}********{child.id_number[-4:]}" in body
    assert client.post(f"/children/{child.id}/edit/", edit_post(child)).status_code == 302
    child.refresh_from_db()
    father = child.parents.get(role="father")
    assert child.id_number and father.phone == "13800000001"  # empty inputs kept the values
    payload = edit_post(child, **{"father-phone": "13511112222"})
    assert client.post(f"/children/{child.id}/edit/", payload).status_code == 302
    father.refresh_from_db()
    assert father.phone == "13511112222"


def test_it_writes_no_history_for_unchanged_family_records(world: World, login) -> None:
    from registry.models import Parent

    client: Client = login("village_worker")
    child = world.children["a1"]
    assert client.post(f"/children/{child.id}/edit/", edit_post(child)).status_code == 302  # adds work places
    child.refresh_from_db()
    before = Parent.history.filter(child_id=child.id).count()
    assert (
        client.post(f"/children/{child.id}/edit/", edit_post(child, current_address="只改地址")).status_code
        == 302
    )
    assert Parent.history.filter(child_id=child.id).count() == before
    events = client.get(f"/children/{child.id}/").context["events"]
    assert events[0].section == "儿童基本信息" and [c.label for c in events[0].changes] == ["现居住地"]
