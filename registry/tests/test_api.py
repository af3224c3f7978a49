"""The child-file API: scope per persona, masking, access log, create, edit and conflicts."""

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent, EventType
from core import idnumber
from core.masking import mask_id, mask_phone
from geo.models import Region, Unit, UnitKind
from registry import choices as c
from registry.models import Child, EntrustedGuardian
from registry.services import FileData, child_file_update
from testing.world import World, make_child

LIST = "/api/children/"


def detail(child: Child) -> str:
    return f"/api/children/{child.pk}/"


def ids(response: Any) -> set[str]:
    return {row["id"] for row in response.json()["results"]}


def province(code: str = "44") -> str:
    return str(Region.objects.get(code=code, valid_to__isnull=True).pk)


def new_file(world: World, **overrides: Any) -> dict[str, Any]:
    away = {"status": c.ParentStatus.AWAY, "work_province": province()}
    payload: dict[str, Any] = {
        "name": "陈小明",
        "id_number": idnumber.make("450521", dt.date(2016, 3, 1), 123),
        "schooling": c.Schooling.PRIMARY,
        "village": str(world.village_a1.pk),
        "care_type": c.CareType.GRANDPARENTS,
        "guardianship_rating": c.Rating.GOOD,
        "father": {"name": "陈父", **away, "phone": "13811112222"},
        "mother": {"name": "黄母", **away},
        "guardian": {"name": "陈祖父", "relation": c.GuardianRelation.GRANDFATHER, "phone": "13933334444"},
    }
    payload.update(overrides)
    return payload


def send(client: Client, method: str, url: str, data: dict[str, Any]) -> Any:
    return getattr(client, method)(url, data=json.dumps(data), content_type="application/json")


# Scope ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", list(World.VISIBLE))
def test_it_lists_exactly_the_visible_children(world: World, login: Any, persona: str) -> None:
    response = login(persona).get(LIST)
    assert response.status_code == 200
    assert ids(response) == {str(world.children[key].pk) for key in World.VISIBLE[persona]}


@pytest.mark.parametrize("persona", list(World.VISIBLE))
def test_it_hides_out_of_scope_children_as_missing(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    hidden = set(world.children) - World.VISIBLE[persona]
    for key in hidden:
        child = world.children[key]
        for url in (detail(child), f"{detail(child)}parents/", f"{detail(child)}guardian/"):
            assert client.get(url).status_code == 404, (persona, key, url)
    missing = client.get(f"/api/children/{uuid.uuid4()}/")
    assert missing.status_code == 404
    out_of_scope = client.get(detail(world.children["other"]))
    assert out_of_scope.json() == missing.json()


@pytest.mark.parametrize("persona", list(World.VISIBLE))
def test_it_shows_each_visible_child(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for key in World.VISIBLE[persona]:
        response = client.get(detail(world.children[key]))
        assert response.status_code == 200
        assert response.json()["file_no"] == world.children[key].file_no


def test_it_requires_login(world: World, client: Client) -> None:
    child = world.children["a1"]
    for url in (LIST, detail(child), f"{detail(child)}parents/", "/api/schema/"):
        assert client.get(url).status_code in (401, 403), url
    assert send(client, "post", LIST, new_file(world)).status_code in (401, 403)
    assert not Child.objects.filter(name="陈小明").exists()
    assert not AuditEvent.objects.exists()


def test_it_answers_a_non_uuid_as_not_found(world: World, login: Any) -> None:
    assert login("county_admin").get("/api/children/12/").status_code == 404


# Privacy -------------------------------------------------------------------------------


def test_it_masks_id_and_phone_numbers(world: World, login: Any) -> None:
    child = world.children["a1"]
    EntrustedGuardian.objects.create(
        child=child,
        name="张祖母",
        relation=c.GuardianRelation.GRANDMOTHER,
        id_number=idnumber.make("450521", dt.date(1960, 1, 2), 222),
        phone="13566667777",
    )
    client = login("county_admin")
    parents = {p.role: p for p in child.parents.all()}
    full_numbers = [world.children[key].id_number for key in ("a1", "a2", "b1")]
    full_numbers += ["13800000001", "13900000002", "13566667777", child.guardian.id_number]
    for url in (LIST, detail(child), f"{detail(child)}parents/", f"{detail(child)}guardian/"):
        response = client.get(url)
        assert response.status_code == 200
        content = response.content.decode()
        for number in full_numbers:
            assert number not in content, (url, number)
        for column in ("id_index", "phone_index", "name_pinyin", "name_initials", "id_tail"):
            assert column not in content
    body = client.get(detail(child)).json()
    assert body["id_number"] == mask_id(child.id_number)
    assert body["father"]["phone"] == mask_phone(parents["father"].phone)
    assert body["guardian"]["phone"] == "135****7777"


# Access log ----------------------------------------------------------------------------


def test_it_logs_every_detail_read(world: World, login: Any) -> None:
    child = world.children["a1"]
    client = login("village_worker")
    for url in (detail(child), f"{detail(child)}parents/", f"{detail(child)}guardian/"):
        client.get(url)
    rows = AuditEvent.objects.filter(action=EventType.API_READ, object_id=str(child.pk))
    assert rows.count() == 3
    assert {row.username for row in rows} == {"village_worker"}
    assert {row.object_type for row in rows} == {"child"}


def test_it_logs_a_list_as_one_row(world: World, login: Any) -> None:
    login("township_supervisor").get(LIST, {"village": str(world.village_a1.pk)})
    row = AuditEvent.objects.get()
    assert row.action == EventType.LIST
    assert row.detail["count"] == 1
    assert row.detail["filters"]["village"] == str(world.village_a1.pk)


@pytest.mark.parametrize(
    ("term", "kind"),
    [("李四", "name"), ("450521201506011011", "id"), ("13700000003", "phone"), ("ls", "pinyin")],
)
def test_it_logs_searches_without_the_term(world: World, login: Any, term: str, kind: str) -> None:
    login("county_admin").get(LIST, {"q": term})
    row = AuditEvent.objects.get()
    assert row.action == EventType.SEARCH
    assert row.detail["kind"] == kind
    assert isinstance(row.detail["count"], int)
    assert term not in json.dumps(row.detail, ensure_ascii=False)


# Filters and pages ---------------------------------------------------------------------


def test_it_filters_like_the_ledger(world: World, login: Any) -> None:
    client = login("county_admin")
    a1, a2 = world.children["a1"], world.children["a2"]
    assert ids(client.get(LIST, {"township": str(world.township_b.pk)})) == {str(world.children["b1"].pk)}
    assert ids(client.get(LIST, {"q": "李四"})) == {str(a2.pk)}
    assert ids(client.get(LIST, {"q": "13700000003"})) == {str(a2.pk)}
    assert ids(client.get(LIST, {"q": a1.id_number})) == {str(a1.pk)}
    assert ids(client.get(LIST, {"status": "exited"})) == set()
    assert len(ids(client.get(LIST, {"status": "all"}))) == 3
    # The filters the dashboard's numbers link to (issue 6) work on the API too.
    same_sex = {str(child.pk) for child in (a1, a2, world.children["b1"]) if child.sex == a1.sex}
    assert ids(client.get(LIST, {"sex": a1.sex})) == same_sex
    assert ids(client.get(LIST, {"county": str(world.county.pk)})) == ids(client.get(LIST))
    Child.objects.filter(pk=world.children["b1"].pk).update(risk_colour="red")
    Child.objects.exclude(pk=world.children["b1"].pk).update(risk_colour="green")
    assert ids(client.get(LIST, {"risk_colour": "red"})) == {str(world.children["b1"].pk)}


def test_it_searches_only_inside_the_scope(world: World, login: Any) -> None:
    response = login("village_worker").get(LIST, {"q": world.children["a2"].id_number})
    assert response.status_code == 200
    assert ids(response) == set()


def test_it_rejects_bad_filters(world: World, login: Any) -> None:
    response = login("county_admin").get(LIST, {"village": "not-a-uuid", "care_type": "nobody"})
    assert response.status_code == 400
    assert set(response.json()) == {"village", "care_type"}


def test_it_pages_by_file_number(world: World, login: Any) -> None:
    client = login("county_admin")
    seen: list[str] = []
    url: str | None = LIST + "?page_size=2"
    while url:
        body = client.get(url).json()
        seen.extend(row["file_no"] for row in body["results"])
        url = body["next"]
    assert seen == sorted(world.children[key].file_no for key in ("a1", "a2", "b1"))


def test_it_lists_in_a_constant_number_of_queries(world: World, login: Any) -> None:
    client = login("county_admin")
    client.get(LIST)  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for n in range(10):
        make_child(world.village_b1, world.users["county_admin"], name=f"王{n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert len(response.json()["results"]) == 13
    assert len(many) == len(few) <= 12  # + audit chain head (and lock on PostgreSQL)


# Create --------------------------------------------------------------------------------


def test_it_opens_a_file_in_own_village(world: World, login: Any) -> None:
    response = send(login("village_worker"), "post", LIST, new_file(world))
    assert response.status_code == 201, response.json()
    child = Child.objects.get(pk=response.json()["id"])
    assert response["Location"] == detail(child)
    assert child.village == world.village_a1
    assert child.created_by == world.users["village_worker"]
    assert child.birth_date == dt.date(2016, 3, 1) and child.sex == c.Sex.MALE
    assert child.is_left_behind
    assert child.parents.count() == 2
    assert child.guardian.name == "陈祖父"
    history = child.history.get()
    assert history.history_type == "+"
    assert history.history_user == world.users["village_worker"]
    assert child.id_number not in response.content.decode()
    assert "13811112222" not in response.content.decode()


def test_it_refuses_a_file_in_another_village(world: World, login: Any) -> None:
    payload = new_file(world, village=str(world.village_a2.pk))
    response = send(login("village_worker"), "post", LIST, payload)
    assert response.status_code == 400
    assert "village" in response.json()
    assert not Child.objects.filter(name="陈小明").exists()


@pytest.mark.parametrize("persona", ["county_officer", "school_staff", "police", "social_worker", "no_role"])
def test_it_forbids_creating_without_a_write_role(world: World, login: Any, persona: str) -> None:
    response = send(login(persona), "post", LIST, new_file(world))
    assert response.status_code == 403
    assert not Child.objects.filter(name="陈小明").exists()


def test_it_refuses_a_second_active_file_for_the_same_id(world: World, login: Any) -> None:
    payload = new_file(world, id_number=world.children["a1"].id_number)
    response = send(login("village_worker"), "post", LIST, payload)
    assert response.status_code == 400
    assert "id_number" in response.json()


def test_it_validates_the_id_number(world: World, login: Any) -> None:
    response = send(login("village_worker"), "post", LIST, new_file(world, id_number="450521201603011230"))
    assert response.status_code == 400
    assert "id_number" in response.json()


def test_it_refuses_a_masked_number_on_create(world: World, login: Any) -> None:
    payload = new_file(world, id_number=mask_id(world.children["a1"].id_number))
    response = send(login("village_worker"), "post", LIST, payload)
    assert response.status_code == 400
    assert "id_number" in response.json()


def test_it_applies_the_rules_of_the_web_form(world: World, login: Any) -> None:
    payload = new_file(
        world,
        birth_date="2999-01-01",
        id_number="",
        health=c.Health.DISABLED,
        father={"name": "陈父", "status": c.ParentStatus.AWAY},
        mother={
            "name": "黄母",
            "work_province": province("45"),
            "work_city": str(Region.objects.get(code="4401", valid_to__isnull=True).pk),
        },
        guardian={"name": "陈祖父", "relation": "grandfather", "check_no_abuse": True},
    )
    response = send(login("village_worker"), "post", LIST, payload)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"birth_date", "sex", "disability_category", "father", "mother", "guardian"}
    assert body["father"] == {"work_province": ["外出务工的，请至少填写务工省份。"]}
    assert set(body["mother"]) == {"work_city"}
    assert set(body["guardian"]) == {"assessed_by", "assessed_on"}
    assert not Child.objects.filter(name="陈小明").exists()


def test_it_offers_only_schools_of_the_users_county(world: World, login: Any) -> None:
    far = Unit.objects.create(name="外县小学", kind=UnitKind.SCHOOL, region=world.village_other)
    client = login("village_worker")
    response = send(client, "post", LIST, new_file(world, school=str(far.pk)))
    assert response.status_code == 400
    assert "school" in response.json()
    response = send(client, "post", LIST, new_file(world, school=str(world.school.pk)))
    assert response.status_code == 201
    assert response.json()["school"]["name"] == "廉州镇中心小学"


# Edit ----------------------------------------------------------------------------------


def test_it_changes_a_file_with_its_version(world: World, login: Any) -> None:
    child = world.children["a1"]
    response = send(login("village_worker"), "patch", detail(child), {"version": 1, "grade": "三年级二班"})
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    child.refresh_from_db()
    assert child.grade == "三年级二班"
    assert child.version == 2
    assert child.history.first().history_user == world.users["village_worker"]


def test_it_requires_the_version(world: World, login: Any) -> None:
    child = world.children["a1"]
    response = send(login("village_worker"), "patch", detail(child), {"grade": "三年级二班"})
    assert response.status_code == 400
    assert "version" in response.json()


def test_it_refuses_a_stale_version_with_what_changed(world: World, login: Any) -> None:
    child = world.children["a1"]
    child_file_update(
        user=world.users["township_supervisor"],
        child=child,
        expected_version=1,
        data=FileData(child={"name": "张三丰"}, father={"status": "away"}, mother={"status": "away"}),
    )
    client = login("village_worker")
    before = client.get(detail(child)).json()
    payload = {**{k: before[k] for k in ("schooling", "care_type", "guardianship_rating")}}
    payload.update(version=1, name="张三", village=str(world.village_a1.pk))
    response = send(client, "put", detail(child), payload)
    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2
    changes = [change for event in body["changes"] for change in event["changes"]]
    assert {"field": "name", "label": "姓名", "old": "张三", "new": "张三丰"} in changes
    child.refresh_from_db()
    assert child.name == "张三丰"
    assert child.version == 2


def test_it_refuses_a_version_never_issued(world: World, login: Any) -> None:
    child = world.children["a1"]
    response = send(login("village_worker"), "patch", detail(child), {"version": 7, "grade": "一年级"})
    assert response.status_code == 400
    assert "version" in response.json()
    child.refresh_from_db()
    assert child.version == 1


def test_it_masks_numbers_in_a_conflict(world: World, login: Any) -> None:
    child = world.children["a1"]
    new_id = idnumber.make("450521", child.birth_date, 333)
    child_file_update(
        user=world.users["county_admin"],
        child=child,
        expected_version=1,
        data=FileData(child={"id_number": new_id}, father={"phone": "13812345678"}, mother={}),
    )
    response = send(login("village_worker"), "patch", detail(child), {"version": 1, "grade": "一年级"})
    assert response.status_code == 409
    content = response.content.decode()
    assert new_id not in content and child.id_number not in content
    assert "13812345678" not in content
    assert mask_id(new_id) in content


def test_it_hides_files_the_user_may_not_change(world: World, login: Any) -> None:
    response = send(login("village_worker"), "patch", detail(world.children["a2"]), {"version": 1})
    assert response.status_code == 404
    response = send(login("police"), "patch", detail(world.children["a1"]), {"version": 1})
    assert response.status_code == 403


def test_it_refuses_moving_a_file_to_a_village_outside_the_scope(world: World, login: Any) -> None:
    child = world.children["a1"]
    payload = {"version": 1, "village": str(world.village_b1.pk)}
    response = send(login("township_supervisor"), "patch", detail(child), payload)
    assert response.status_code == 400
    assert "village" in response.json()
    child.refresh_from_db()
    assert child.village == world.village_a1


def test_it_keeps_masked_numbers_sent_back_unchanged(world: World, login: Any) -> None:
    child = world.children["a1"]
    client = login("village_worker")
    body = client.get(detail(child)).json()
    payload = {
        "version": body["version"],
        "id_number": body["id_number"],
        "father": {"phone": body["father"]["phone"], "id_number": "", "work_province": province()},
        "current_address": "合浦县某村 2 号",
    }
    response = send(client, "patch", detail(child), payload)
    assert response.status_code == 200, response.json()
    child.refresh_from_db()
    assert child.id_number == world.children["a1"].id_number
    assert child.parents.get(role="father").phone == "13800000001"
    assert child.current_address == "合浦县某村 2 号"


def test_it_refuses_a_masked_number_that_is_not_the_stored_one(world: World, login: Any) -> None:
    child = world.children["a1"]
    payload = {"version": 1, "father": {"phone": "139****0000"}}
    response = send(login("village_worker"), "patch", detail(child), payload)
    assert response.status_code == 400
    assert "phone" in response.json()["father"]


def test_it_changes_family_records_through_the_file(world: World, login: Any) -> None:
    child = world.children["a1"]
    client = login("village_worker")
    guardian = {"name": "张祖母", "relation": c.GuardianRelation.GRANDMOTHER, "phone": "13566667777"}
    payload = {"version": 1, "father": {"status": c.ParentStatus.AT_HOME}, "guardian": guardian}
    response = send(client, "patch", detail(child), payload)
    assert response.status_code == 200, response.json()
    child.refresh_from_db()
    assert not child.is_left_behind  # the father came home
    assert child.guardian.phone == "13566667777"
    assert response.json()["guardian"]["phone"] == "135****7777"
    response = send(client, "patch", detail(child), {"version": 2, "guardian": None})
    assert response.status_code == 200
    assert not EntrustedGuardian.objects.filter(child=child).exists()


def test_it_keeps_unsent_family_records(world: World, login: Any) -> None:
    child = world.children["a1"]
    EntrustedGuardian.objects.create(child=child, name="张祖母", relation=c.GuardianRelation.GRANDMOTHER)
    child.parents.filter(role="mother").update(status=c.ParentStatus.AT_HOME)
    response = send(login("village_worker"), "patch", detail(child), {"version": 1, "grade": "四年级"})
    assert response.status_code == 200
    child.refresh_from_db()
    assert EntrustedGuardian.objects.filter(child=child).exists()
    assert child.parents.get(role="mother").status == c.ParentStatus.AT_HOME
    assert not child.is_left_behind  # derived from the stored mother, who is at home


def test_it_requires_name_and_relation_for_a_new_guardian(world: World, login: Any) -> None:
    child = world.children["a1"]
    response = send(
        login("village_worker"), "patch", detail(child), {"version": 1, "guardian": {"phone": ""}}
    )
    assert response.status_code == 400
    assert set(response.json()["guardian"]) == {"name", "relation"}


# Family endpoints ----------------------------------------------------------------------


def test_it_lists_the_parents(world: World, login: Any) -> None:
    response = login("school_staff").get(f"{detail(world.children['a1'])}parents/")
    assert response.status_code == 200
    assert [p["role"] for p in response.json()] == ["father", "mother"]


def test_it_answers_404_when_there_is_no_guardian(world: World, login: Any) -> None:
    response = login("village_worker").get(f"{detail(world.children['a1'])}guardian/")
    assert response.status_code == 404


# Schema --------------------------------------------------------------------------------


def test_it_serves_the_schema(world: World, login: Any) -> None:
    response = login("no_role").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/children/", "/api/children/{id}/", "/api/regions/", "/api/units/"} <= set(paths)
