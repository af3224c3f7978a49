from django.test import Client

from registry.models import Child, Parent
from registry.tests.helpers import file_post
from testing.world import World


def test_it_opens_a_file_in_my_village(world: World, login) -> None:
    client: Client = login("village_worker")
    response = client.post("/children/new/", file_post(world.village_a1.id))
    child = Child.objects.get(name="陈小明")
    assert response.status_code == 302
    assert response["Location"] == f"/children/{child.id}/"
    assert child.file_no.startswith(world.village_a1.code)
    assert child.township_id == world.township_a.id and child.county_id == world.county.id
    assert str(child.birth_date) == "2016-03-08" and child.sex == "M"  # filled from the ID number
    assert child.is_left_behind and not child.is_key
    assert child.name_initials == "cxm" and child.name_pinyin == "chenxiaoming"
    assert Parent.objects.filter(child=child).count() == 2
    assert child.history.count() == 1
    assert child.history.first().history_user == world.users["village_worker"]


def test_it_refuses_another_village(world: World, login) -> None:
    client: Client = login("village_worker")
    response = client.post("/children/new/", file_post(world.village_a2.id))
    assert response.status_code == 200
    assert "village" in response.context["forms"].child.errors
    assert not Child.objects.filter(name="陈小明").exists()


def test_it_shows_field_errors_in_chinese(world: World, login) -> None:
    client: Client = login("village_worker")
    payload = file_post(world.village_a1.id, id_number="450521201603082311", **{"father-phone": "123"})
    response = client.post("/children/new/", payload)
    assert response.status_code == 200
    forms = response.context["forms"]
    assert "校验位" in forms.child.errors["id_number"][0]
    assert "手机号码" in forms.father.errors["phone"][0]
    assert not Child.objects.filter(name="陈小明").exists()


def test_it_refuses_a_birth_date_that_contradicts_the_id(world: World, login) -> None:
    client: Client = login("village_worker")
    response = client.post("/children/new/", file_post(world.village_a1.id, birth_date="2016-03-09"))
    assert "出生日期与身份证号码不一致" in response.context["forms"].child.errors["birth_date"][0]


def test_it_refuses_a_second_active_file_for_the_same_id(world: World, login) -> None:
    client: Client = login("county_admin")
    existing = world.children["b1"]
    response = client.post("/children/new/", file_post(world.village_a1.id, id_number=existing.id_number))
    assert response.status_code == 200
    assert "已有在册档案" in response.context["forms"].child.errors["id_number"][0]
    assert Child.objects.filter(id_index=existing.id_index).count() == 1


def test_it_denies_read_only_roles(world: World, login) -> None:
    for persona in ("county_officer", "school_staff", "police", "social_worker"):
        client: Client = login(persona)
        assert client.get("/children/new/").status_code == 403
        assert client.post("/children/new/", file_post(world.village_a1.id)).status_code == 403
    assert not Child.objects.filter(name="陈小明").exists()


def test_it_offers_only_villages_in_scope(world: World, login) -> None:
    client: Client = login("township_supervisor")
    response = client.get("/children/new/")
    villages = set(response.context["forms"].child.fields["village"].queryset)
    assert villages == {world.village_a1, world.village_a2}
    schools = set(response.context["forms"].child.fields["school"].queryset)
    assert schools == {world.school}
