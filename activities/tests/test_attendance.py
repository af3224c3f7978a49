"""Picking children, taking attendance on a phone, and the child's timeline."""

import pytest
from django.test import Client

from activities.models import Participation
from activities.tests.helpers import child, make_activity, mark, row
from registry.models import UnitAssignment
from registry.timeline import child_timeline
from testing.world import World

pytestmark = pytest.mark.django_db


def test_it_offers_only_visible_children_of_the_township(world: World, client: Client) -> None:
    activity = make_activity(world, whole_township=True, by="township_supervisor")
    client.force_login(world.users["village_worker"])
    assert client.get(f"/activities/{activity.pk}/children/").status_code == 404  # 甲一村 worker, but…
    activity.village = world.village_a1
    activity.save(update_fields=["village"])
    body = client.get(f"/activities/{activity.pk}/children/").content.decode()
    assert "张三" in body and "李四" not in body and "王五" not in body
    client.force_login(world.users["township_supervisor"])
    body = client.get(f"/activities/{activity.pk}/children/").content.decode()
    assert "张三" in body and "李四" in body and "王五" not in body  # 王五 is in 党江镇


def test_it_searches_by_pinyin_initials(world: World, client: Client) -> None:
    activity = make_activity(world)
    client.force_login(world.users["county_admin"])
    body = client.post(f"/activities/{activity.pk}/children/", {"search": "1", "q": "ls"}).content.decode()
    assert f'value="{world.children["a2"].pk}"' in body and f'value="{world.children["a1"].pk}"' not in body


def test_it_adds_and_removes_expected_children(world: World, client: Client) -> None:
    activity = make_activity(world)
    client.force_login(world.users["township_supervisor"])
    response = client.post(
        f"/activities/{activity.pk}/children/", {"child": [world.children["a1"].pk, world.children["a2"].pk]}
    )
    assert response.status_code == 302
    assert set(activity.participations.values_list("child_id", flat=True)) == {
        world.children["a1"].pk,
        world.children["a2"].pk,
    }
    removed = row(activity, world, "a2")
    assert client.post(f"/activities/{activity.pk}/children/", {"remove": removed.pk}).status_code == 302
    assert not Participation.objects.filter(pk=removed.pk).exists()


def test_it_refuses_to_add_a_child_outside_scope(world: World, client: Client) -> None:
    activity = make_activity(world)
    client.force_login(world.users["village_worker"])
    for key in ("a2", "b1", "other"):
        response = client.post(
            f"/activities/{activity.pk}/children/",
            {"child": [world.children["a1"].pk, world.children[key].pk]},
        )
        assert response.status_code == 404
    assert not activity.participations.exists()


def test_it_lets_provider_staff_pick_only_their_assigned_children(world: World, client: Client) -> None:
    activity = make_activity(world, provider=world.provider)
    client.force_login(world.users["provider_staff"])
    body = client.get(f"/activities/{activity.pk}/children/").content.decode()
    assert "张三" in body and "李四" not in body
    response = client.post(f"/activities/{activity.pk}/children/", {"child": world.children["a2"].pk})
    assert response.status_code == 404
    assert (
        client.post(f"/activities/{activity.pk}/children/", {"child": world.children["a1"].pk}).status_code
        == 302
    )
    assert activity.participations.count() == 1


def test_it_lists_the_expected_children_for_attendance(world: World, client: Client) -> None:
    activity = make_activity(world, whole_township=True, children=("a1", "a2"), by="township_supervisor")
    client.force_login(world.users["village_worker"])
    assert client.get(f"/activities/{activity.pk}/attendance/").status_code == 404  # a township's activity
    client.force_login(world.users["township_supervisor"])
    body = client.get(f"/activities/{activity.pk}/attendance/").content.decode()
    assert "张三" in body and "李四" in body and "全部到场" in body
    assert 'type="checkbox"' in body and "<table" not in body  # one row per child, no wide table


def test_it_saves_attendance_in_one_post(world: World, client: Client) -> None:
    activity = make_activity(world, children=("a1", "a2"))
    a1, a2 = row(activity, world, "a1"), row(activity, world, "a2")
    client.force_login(world.users["township_supervisor"])
    response = client.post(
        f"/activities/{activity.pk}/attendance/",
        {"shown": [a1.pk, a2.pk], "present": [a1.pk], f"outcome-{a1.pk}": "完成了数学作业"},
    )
    assert response.status_code == 302
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.attended, a1.outcome, a1.recorded_by) == (
        True,
        "完成了数学作业",
        world.users["township_supervisor"],
    )
    assert a2.attended is False and a2.recorded_at is not None


def test_it_marks_everyone_present(world: World, client: Client) -> None:
    activity = make_activity(world, children=("a1", "a2"))
    rows = [row(activity, world, "a1"), row(activity, world, "a2")]
    client.force_login(world.users["county_admin"])
    client.post(f"/activities/{activity.pk}/attendance/", {"shown": [r.pk for r in rows], "all": "1"})
    assert list(activity.participations.values_list("attended", flat=True)) == [True, True]


def test_it_refuses_attendance_for_a_child_outside_scope(world: World, client: Client) -> None:
    activity = make_activity(world, children=("a1", "a2"))
    a1, a2 = row(activity, world, "a1"), row(activity, world, "a2")
    client.force_login(world.users["village_worker"])
    body = client.get(f"/activities/{activity.pk}/attendance/").content.decode()
    assert "张三" in body and "李四" not in body and "另有 1 名儿童" in body
    response = client.post(
        f"/activities/{activity.pk}/attendance/", {"shown": [a1.pk, a2.pk], "present": [a1.pk, a2.pk]}
    )
    assert response.status_code == 404
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert a1.attended is None and a2.attended is None


def test_it_stops_listing_a_child_no_longer_assigned(world: World, client: Client) -> None:
    activity = make_activity(world, provider=world.provider, children=("a1",))
    UnitAssignment.objects.filter(unit=world.provider).update(active=False)
    client.force_login(world.users["provider_staff"])
    body = client.get(f"/activities/{activity.pk}/attendance/").content.decode()
    assert "张三" not in body
    response = client.post(f"/activities/{activity.pk}/attendance/", {"shown": row(activity, world, "a1").pk})
    assert response.status_code == 404


def test_it_refuses_attendance_to_roles_without_activities(world: World, client: Client) -> None:
    activity = make_activity(world, children=("a1",))
    for persona in ("school_staff", "social_worker", "county_officer"):
        client.force_login(world.users[persona])
        assert client.get(f"/activities/{activity.pk}/attendance/").status_code == 403
        assert (
            client.post(
                f"/activities/{activity.pk}/attendance/", {"shown": row(activity, world, "a1").pk}
            ).status_code
            == 403
        )
    assert row(activity, world, "a1").attended is None


def test_it_puts_attendance_on_the_childs_timeline(world: World, client: Client) -> None:
    activity = make_activity(
        world, children=("a1", "a2"), title="暑期防溺水安全教育", kind="safety_education"
    )
    assert not [event for event in child_timeline(child(world, "a1")) if event.section == "关爱活动"]
    mark(world, activity, "a1", attended=True, by="village_worker")
    mark(world, activity, "a2", attended=False)
    (event,) = [event for event in child_timeline(child(world, "a1")) if event.section == "关爱活动"]
    assert event.kind == "参加" and "安全教育" in event.reason and "暑期防溺水安全教育" in event.reason
    assert event.user == str(world.users["village_worker"])
    (absent,) = [event for event in child_timeline(child(world, "a2")) if event.section == "关爱活动"]
    assert absent.kind == "缺席"
    client.force_login(world.users["village_worker"])
    body = client.get(f"/children/{world.children['a1'].pk}/").content.decode()
    assert "关爱活动 参加" in body and "暑期防溺水安全教育" in body


def test_it_records_guardians_and_volunteer_hours(world: World, client: Client) -> None:
    activity = make_activity(world, children=("a1",), kind="family_education", target_group="guardians")
    client.force_login(world.users["village_worker"])
    url = f"/activities/{activity.pk}/adults/"
    assert (
        client.post(
            url, {"name": "王秀英", "relation": "guardian", "child": world.children["a1"].pk}
        ).status_code
        == 302
    )
    adult = activity.adults.get()
    assert adult.name == "王秀英" and adult.child_id == world.children["a1"].pk
    refused = client.post(url, {"name": "李父", "relation": "father", "child": world.children["a2"].pk})
    assert refused.status_code == 400 and "请选择有效的儿童" in refused.content.decode()
    url = f"/activities/{activity.pk}/volunteers/"
    too_long = client.post(url, {"name": "黄志强", "hours": "30"})
    assert too_long.status_code == 400 and "0.5 至 24 小时" in too_long.content.decode()
    assert (
        client.post(
            url, {"name": "黄志强", "team": "青年志愿者协会", "hours": "2.5", "is_me": "on"}
        ).status_code
        == 302
    )
    service = activity.volunteers.get()
    assert str(service.hours) == "2.5" and service.user == world.users["village_worker"]
    assert client.post(url, {"remove": service.pk}).status_code == 302
    assert not activity.volunteers.exists()
