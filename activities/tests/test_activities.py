"""The list, create, edit and delete pages of activities, through HTTP as each role."""

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from activities.models import Activity, Participation
from activities.tests.helpers import make_activity, mark
from audit.models import AuditEvent
from providers.models import Provider
from testing.world import World

pytestmark = pytest.mark.django_db


def _post(world: World, **overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "safety_education",
        "title": "防溺水安全教育",
        "held_on": timezone.localdate().isoformat(),
        "township": world.township_a.pk,
        "village": world.village_a1.pk,
        "place": "村委会会议室",
        "target_group": "children",
        "note": "",
    }
    data.update(overrides)
    return data


def test_it_lists_only_activities_in_scope(world: World, client: Client) -> None:
    make_activity(world, title="甲一村作业辅导")
    make_activity(world, village=world.village_a2, title="甲二村作业辅导")
    make_activity(world, village=world.village_b1, title="乙一村作业辅导")
    client.force_login(world.users["village_worker"])
    body = client.get("/activities/").content.decode()
    assert "甲一村作业辅导" in body
    assert "甲二村作业辅导" not in body and "乙一村作业辅导" not in body
    client.force_login(world.users["township_supervisor"])
    body = client.get("/activities/").content.decode()
    assert "甲二村作业辅导" in body and "乙一村作业辅导" not in body


def test_it_filters_the_list(world: World, client: Client) -> None:
    make_activity(world, title="本月作业辅导")
    make_activity(world, title="上年法治宣传", kind="legal_education", held_on=dt.date(2020, 5, 3))
    client.force_login(world.users["county_admin"])
    body = client.get("/activities/", {"kind": "legal_education"}).content.decode()
    assert "上年法治宣传" in body and "本月作业辅导" not in body
    body = client.get("/activities/", {"month": "2020-05"}).content.decode()
    assert "上年法治宣传" in body and "本月作业辅导" not in body
    body = client.get("/activities/", {"village": world.village_b1.pk}).content.decode()
    assert "没有符合条件的活动" in body


def test_it_refuses_the_list_to_roles_without_activities(world: World, client: Client) -> None:
    for persona in ("police", "school_staff", "social_worker", "auditor"):
        client.force_login(world.users[persona])
        assert client.get("/activities/").status_code == 403
        assert client.get("/activities/new/").status_code == 403


def test_it_creates_an_activity_organised_by_the_users_unit(world: World, client: Client) -> None:
    client.force_login(world.users["village_worker"])
    response = client.post("/activities/new/", _post(world))
    activity = Activity.objects.get(title="防溺水安全教育")
    assert response.status_code == 302
    assert response["Location"] == f"/activities/{activity.pk}/children/"
    assert activity.organiser.name == "甲一村委会"
    assert activity.county == world.county and activity.created_by == world.users["village_worker"]
    assert activity.history.count() == 1
    assert AuditEvent.objects.filter(
        object_type="activity", object_id=str(activity.pk), action="create"
    ).exists()


def test_it_keeps_a_village_worker_in_the_village(world: World, client: Client) -> None:
    client.force_login(world.users["village_worker"])
    response = client.post("/activities/new/", _post(world, village=world.village_a2.pk))
    assert response.status_code == 400
    assert "请选择有效的村（社区）" in response.content.decode()
    response = client.post("/activities/new/", _post(world, village=""))
    assert response.status_code == 400
    assert "请选择您负责的村（社区）" in response.content.decode()
    assert not Activity.objects.exists()


def test_it_gives_chinese_errors_at_the_field(world: World, client: Client) -> None:
    client.force_login(world.users["county_admin"])
    response = client.post("/activities/new/", _post(world, title="", held_on="明天"))
    body = response.content.decode()
    assert response.status_code == 400
    assert "请填写活动名称。" in body and "请填写正确的日期。" in body


def test_it_offers_registered_providers_of_the_county(world: World, client: Client) -> None:
    Provider.objects.create(unit=world.provider)
    client.force_login(world.users["township_supervisor"])
    body = client.get("/activities/new/").content.decode()
    assert "甲一村儿童之家" in body
    response = client.post("/activities/new/", _post(world, provider=world.provider.pk))
    assert response.status_code == 302
    assert Activity.objects.get().provider == world.provider


def test_it_makes_provider_staff_deliver_as_their_unit(world: World, client: Client) -> None:
    client.force_login(world.users["provider_staff"])
    assert 'name="provider"' not in client.get("/activities/new/").content.decode()
    response = client.post(
        "/activities/new/", _post(world, village=world.village_b1.pk, township=world.township_b.pk)
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert activity.provider == world.provider and activity.organiser == world.provider
    assert client.get(f"/activities/{activity.pk}/").status_code == 200


def test_it_refuses_creation_to_the_county_officer(world: World, client: Client) -> None:
    client.force_login(world.users["county_officer"])
    assert client.post("/activities/new/", _post(world)).status_code == 403
    assert not Activity.objects.exists()


def test_it_answers_404_outside_scope_like_a_missing_activity(world: World, client: Client) -> None:
    activity = make_activity(world, village=world.village_a2)
    client.force_login(world.users["village_worker"])
    outside = client.get(f"/activities/{activity.pk}/")
    missing = client.get("/activities/6f0d5c1e-9b7a-4c1e-8d2f-000000000404/")
    assert outside.status_code == missing.status_code == 404
    assert len(outside.content) == len(missing.content)


def test_it_lets_the_county_officer_read_but_not_edit(world: World, client: Client) -> None:
    activity = make_activity(world, children=("a1",))
    client.force_login(world.users["county_officer"])
    body = client.get(f"/activities/{activity.pk}/").content.decode()
    assert "周末作业辅导" in body and "张三" in body and "修改活动" not in body
    assert client.get(f"/activities/{activity.pk}/edit/").status_code == 403


def test_it_edits_with_a_version_check(world: World, client: Client) -> None:
    activity = make_activity(world)
    client.force_login(world.users["township_supervisor"])
    data = _post(world, version=1, title="周末作业辅导（改期）", kind="homework_club")
    response = client.post(f"/activities/{activity.pk}/edit/", data)
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.version == 2 and activity.title == "周末作业辅导（改期）"
    stale = client.post(f"/activities/{activity.pk}/edit/", {**data, "place": "村小学"})
    body = stale.content.decode()
    assert stale.status_code == 409
    assert "活动已被他人修改" in body and "活动名称" in body and "地点" in body
    activity.refresh_from_db()
    assert activity.place == "村委会会议室" and activity.version == 2


def test_it_deletes_only_before_attendance(world: World, client: Client) -> None:
    kept = make_activity(world, children=("a1",), title="已登记到场")
    mark(world, kept, "a1")
    gone = make_activity(world, children=("a1",), title="取消的活动")
    client.force_login(world.users["village_worker"])
    response = client.post(f"/activities/{kept.pk}/delete/", follow=True)
    assert "已经记录了到场情况，不能删除" in response.content.decode()
    assert Activity.objects.filter(pk=kept.pk).exists()
    assert client.post(f"/activities/{gone.pk}/delete/").status_code == 302
    assert not Activity.objects.filter(pk=gone.pk).exists()
    assert not Participation.objects.filter(activity_id=gone.pk).exists()
    assert AuditEvent.objects.filter(object_id=str(gone.pk), action="delete").exists()


def test_it_refuses_deletion_outside_scope(world: World, client: Client) -> None:
    activity = make_activity(world, village=world.village_b1)
    client.force_login(world.users["township_supervisor"])
    assert client.post(f"/activities/{activity.pk}/delete/").status_code == 404
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_children_are_found_by_a_posted_search_and_added(world: World, client: Client) -> None:
    """The picker searches the children the user sees in the activity's township by name, by
    POST (a name never goes into a URL), and adds the ticked ones."""
    activity = make_activity(world, title="甲一村作业辅导")
    client.force_login(world.users["township_supervisor"])
    url = f"/activities/{activity.pk}/children/"
    ids = {key: str(world.children[key].pk) for key in ("a1", "a2", "b1")}
    found = client.post(url, {"search": "1", "q": "李四"})
    body = found.content.decode()
    assert found.status_code == 200 and ids["a2"] in body and ids["a1"] not in body
    assert ids["b1"] not in client.post(url, {"search": "1", "q": "王五"}).content.decode()  # 党江镇
    added = client.post(url, {"child": [str(world.children["a2"].pk)]})
    assert added.status_code == 302 and added["Location"] == url
    listed = Participation.objects.filter(activity=activity).values_list("child__name", flat=True)
    assert list(listed) == ["李四"]
    outside = client.post(url, {"child": [str(world.children["b1"].pk)]})
    assert outside.status_code == 404 and Participation.objects.filter(activity=activity).count() == 1
