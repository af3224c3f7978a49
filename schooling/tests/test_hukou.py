"""The no-hukou list and its registration tasks through HTTP (R23): generated on demand and
idempotently by the county admin or the township supervisor, one per child, at the station
serving the child's township; completed by that station's police, which sets the file's
hukou with history; overdue tasks marked; every other role refused."""

import datetime as dt
import uuid
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from registry.models import Child
from schooling.models import HukouTask
from testing.world import World

from .helpers import child, other_police


def _unregister(world: World, *keys: str) -> None:
    Child.objects.filter(pk__in=[world.children[key].pk for key in keys]).update(hukou_registered=False)


def _generate(world: World, login: Any, persona: str = "township_supervisor") -> Any:
    """Generate as `persona`, and read the page the message is on (so no later answer carries it)."""
    client = login(persona)
    response = client.post("/schooling/hukou/generate/")
    if response.status_code == 302:
        client.get(response["Location"])
    return response


def test_the_police_see_the_children_without_hukou_they_serve(world: World, login: Any) -> None:
    _unregister(world, "a1", "b1", "other")
    response = login("police").get("/schooling/hukou/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "张三" in body and "王五" not in body and "赵六" not in body and "李四" not in body
    assert "尚未生成任务" in body
    assert AuditEvent.objects.filter(action=EventType.LIST, object_type="hukou_task").exists()


def test_the_supervisor_generates_one_task_per_child(world: World, login: Any) -> None:
    _unregister(world, "a1", "a2", "b1")
    assert "生成登记任务（2 名）" in login("township_supervisor").get("/schooling/hukou/").content.decode()
    response = _generate(world, login)
    assert response.status_code == 302 and response["Location"] == "/schooling/hukou/"
    tasks = HukouTask.objects.select_related("police_unit").order_by("child__name")
    assert {task.child_id for task in tasks} == {world.children["a1"].pk, world.children["a2"].pk}
    task = tasks[0]
    assert task.police_unit.name == "廉州派出所" and task.due_on == dt.date(2028, 3, 26)
    assert task.created_by == world.users["township_supervisor"] and task.history.count() == 1
    assert AuditEvent.objects.filter(action=EventType.CREATE, detail__change="hukou_task").count() == 2

    again = _generate(world, login)  # idempotent: one open task per child
    assert again.status_code == 302 and HukouTask.objects.count() == 2
    assert AuditEvent.objects.filter(action=EventType.CREATE, detail__change="hukou_task").count() == 2


def test_a_township_without_a_station_is_reported(world: World, login: Any) -> None:
    _unregister(world, "b1")
    response = login("county_admin").post("/schooling/hukou/generate/", follow=True)
    body = response.content.decode()
    assert "另有 1 名儿童所在乡镇没有对应的派出所" in body
    assert not HukouTask.objects.exists()


def test_exited_children_get_no_task(world: World, login: Any) -> None:
    _unregister(world, "a1")
    Child.objects.filter(pk=world.children["a1"].pk).update(status="exited", exit_reason="moved_away")
    _generate(world, login)
    assert not HukouTask.objects.exists()


@pytest.mark.parametrize("persona", ["police", "village_worker", "school_staff", "county_officer", "no_role"])
def test_only_county_admins_and_supervisors_generate(persona: str, world: World, login: Any) -> None:
    _unregister(world, "a1")
    assert _generate(world, login, persona).status_code == 403
    assert not HukouTask.objects.exists()


def test_generating_is_post_only(world: World, login: Any) -> None:
    _unregister(world, "a1")
    assert login("county_admin").get("/schooling/hukou/generate/").status_code == 405
    assert not HukouTask.objects.exists()


def test_the_police_record_the_registration_and_the_file_follows(world: World, login: Any) -> None:
    _unregister(world, "a1")
    _generate(world, login)
    task = HukouTask.objects.get()
    client = login("police")
    listing = client.get("/schooling/hukou/").content.decode()
    assert f"/schooling/hukou/{task.pk}/registered/" in listing
    pupil = child(world)
    page = client.get(f"/schooling/hukou/{task.pk}/registered/")
    assert page.status_code == 200 and "张三" in page.content.decode()
    data = {"registered_on": "2028-02-24", "note": "已办理出生登记", "version": pupil.version}
    response = client.post(f"/schooling/hukou/{task.pk}/registered/", data)
    assert response.status_code == 302

    task.refresh_from_db()
    assert (str(task.registered_on), task.registered_by, task.note) == (
        "2028-02-24",
        world.users["police"],
        "已办理出生登记",
    )
    pupil = child(world)
    assert pupil.hukou_registered and pupil.version == data["version"] + 1
    latest = pupil.history.latest()
    assert latest.hukou_registered and latest.history_user == world.users["police"]
    assert AuditEvent.objects.filter(
        action=EventType.UPDATE, object_id=str(pupil.pk), detail__change="hukou_registered"
    ).exists()
    listing = client.get("/schooling/hukou/").content.decode()
    assert "最近完成的登记" in listing and "2028-02-24 张三" in listing
    again = client.get(f"/schooling/hukou/{task.pk}/registered/")
    assert again.status_code == 302  # done: back to the list


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"registered_on": "2028-02-26"}, "registered_on", "登记日期不能晚于今天。"),
        ({"registered_on": "2015-05-31"}, "registered_on", "登记日期不能早于儿童出生日期。"),
        ({"registered_on": ""}, "registered_on", "请填写登记日期。"),
    ],
)
def test_registration_errors_go_on_the_field(
    data: dict[str, str], field: str, message: str, world: World, login: Any
) -> None:
    _unregister(world, "a1")
    _generate(world, login)
    task = HukouTask.objects.get()
    payload = {"registered_on": "2028-02-24", "version": child(world).version, **data}
    response = login("police").post(f"/schooling/hukou/{task.pk}/registered/", payload)
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    task.refresh_from_db()
    assert task.registered_on is None and not child(world).hukou_registered


def test_a_stale_file_version_is_refused(world: World, login: Any) -> None:
    _unregister(world, "a1")
    _generate(world, login)
    task = HukouTask.objects.get()
    data = {"registered_on": "2028-02-24", "version": child(world).version + 3}
    response = login("police").post(f"/schooling/hukou/{task.pk}/registered/", data)
    assert response.status_code == 409
    task.refresh_from_db()
    assert task.registered_on is None and not child(world).hukou_registered


def test_police_of_another_unit_get_404(world: World, login: Any) -> None:
    _unregister(world, "a1", "b1")
    _generate(world, login, "county_admin")
    task = HukouTask.objects.get(child_id=world.children["a1"].pk)
    other_police(world)
    client = login("other_police")
    data = {"registered_on": "2028-02-24", "version": child(world).version}
    denied = client.post(f"/schooling/hukou/{task.pk}/registered/", data)
    missing = client.post(f"/schooling/hukou/{uuid.uuid4()}/registered/", data)
    assert denied.status_code == missing.status_code == 404
    assert len(denied.content) == len(missing.content) and "张三" not in denied.content.decode()
    task.refresh_from_db()
    assert task.registered_on is None and not child(world).hukou_registered
    listing = client.get("/schooling/hukou/").content.decode()
    assert "王五" in listing and "张三" not in listing


@pytest.mark.parametrize("persona", ["county_admin", "township_supervisor", "village_worker", "school_staff"])
def test_only_the_police_record_a_registration(persona: str, world: World, login: Any) -> None:
    _unregister(world, "a1")
    _generate(world, login)
    task = HukouTask.objects.get()
    client = login(persona)
    assert client.get(f"/schooling/hukou/{task.pk}/registered/").status_code == 404
    client.post(f"/schooling/hukou/{task.pk}/registered/", {"registered_on": "2028-02-24", "version": 1})
    task.refresh_from_db()
    assert task.registered_on is None


@pytest.mark.parametrize("persona", ["school_staff", "county_officer", "social_worker", "auditor", "no_role"])
def test_the_list_is_refused_to_other_roles(persona: str, world: World, login: Any) -> None:
    _unregister(world, "a1")
    response = login(persona).get("/schooling/hukou/")
    assert response.status_code == 403 and "张三" not in response.content.decode()


def test_an_overdue_task_is_marked(world: World, login: Any, clock: Any) -> None:
    _unregister(world, "a1")
    _generate(world, login)
    assert "已逾期" not in login("police").get("/schooling/hukou/").content.decode()
    clock.move_to(dt.datetime(2028, 3, 30, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    body = login("police").get("/schooling/hukou/").content.decode()
    assert "已逾期 4 天" in body
