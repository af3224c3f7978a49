"""AC-8 break-the-glass: a region role reads one file outside its scope, read-only, for
SHOUHU_EMERGENCY_ACCESS_MINUTES, with a typed reason that is audited and alerted."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import Alert, AlertKind, AuditEvent, EmergencyAccess, EventType
from registry.models import Child
from testing.world import World

REASON = "党江镇转来的紧急个案，需要核对监护人情况"


def _ask(client: Client, child: Child, reason: str = REASON) -> object:
    return client.post("/audit/emergency/", {"file_no": child.file_no, "reason": reason})


def test_it_opens_a_file_outside_the_scope_read_only(world: World, login) -> None:
    child = world.children["b1"]  # another township
    client: Client = login("township_supervisor")
    assert client.get(f"/children/{child.id}/").status_code == 404
    response = _ask(client, child)
    assert response.status_code == 302 and response["Location"] == f"/children/{child.id}/"
    page = client.get(f"/children/{child.id}/")
    assert page.status_code == 200 and child.name in page.content.decode()
    assert client.get(f"/api/children/{child.id}/").status_code == 200
    # Read-only: no edit, no exit; and the file does not join the ledger or the counts.
    assert client.get(f"/children/{child.id}/edit/").status_code == 404
    assert client.post(f"/children/{child.id}/exit/", {"version": 1}).status_code == 404
    assert child.name not in client.post("/children/", {"q": ""}).content.decode()
    grant = EmergencyAccess.objects.get()
    assert grant.user == world.users["township_supervisor"] and grant.child_id == child.id
    assert grant.expires_at - grant.granted_at == dt.timedelta(minutes=60)


def test_it_audits_the_reason(world: World, login) -> None:
    child = world.children["b1"]
    response = _ask(login("village_worker"), child)
    row = AuditEvent.objects.get(action=EventType.EMERGENCY_ACCESS)
    assert row.reason == REASON
    assert (row.username, row.object_type, row.object_id) == ("village_worker", "child", str(child.id))
    assert row.request_id == response["X-Request-ID"]  # type: ignore[index]
    assert row.detail["minutes"] == 60


@pytest.mark.parametrize("reason", ["", "  ", "看一下", "紧急 需要 看看"])
def test_it_refuses_without_a_reason_of_ten_characters(world: World, login, reason: str) -> None:
    child = world.children["b1"]
    client: Client = login("township_supervisor")
    response = _ask(client, child, reason)
    assert response.status_code == 400
    body = response.content.decode()  # type: ignore[attr-defined]
    assert "10 个字" in body or "必填" in body or "这个字段" in body
    assert child.name not in body
    assert not EmergencyAccess.objects.exists()
    assert not AuditEvent.objects.filter(action=EventType.EMERGENCY_ACCESS).exists()
    assert client.get(f"/children/{child.id}/").status_code == 404


def test_it_expires(world: World, login, settings) -> None:
    settings.SHOUHU_EMERGENCY_ACCESS_MINUTES = 10  # shorter than the 15-minute idle timeout
    child = world.children["b1"]
    client: Client = login("township_supervisor")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _ask(client, child)
        traveller.shift(dt.timedelta(minutes=9, seconds=59))
        assert client.get(f"/children/{child.id}/").status_code == 200
        traveller.shift(dt.timedelta(seconds=2))
        assert client.get(f"/children/{child.id}/").status_code == 404
    assert AuditEvent.objects.filter(action=EventType.DENIED, object_id=str(child.id)).count() == 1


def test_it_names_an_unknown_file_number(world: World, login) -> None:
    client: Client = login("village_worker")
    response = client.post("/audit/emergency/", {"file_no": "450521100201999999", "reason": REASON})
    assert response.status_code == 400
    assert "未找到该档案编号" in response.content.decode()
    assert AuditEvent.objects.get().action == EventType.DENIED  # counts towards the denial alarm


def test_it_grants_nothing_for_a_file_already_open(world: World, login) -> None:
    client: Client = login("township_supervisor")
    response = _ask(client, world.children["a1"])  # in scope
    assert response.status_code == 302
    _ask(client, world.children["b1"])
    _ask(client, world.children["b1"])  # the first grant is still running
    assert EmergencyAccess.objects.count() == 1
    assert Alert.objects.filter(kind=AlertKind.EMERGENCY_ACCESS).count() == 1


@pytest.mark.parametrize("persona", ["school_staff", "police", "social_worker", "auditor", "system_admin"])
def test_it_is_for_region_roles_only(world: World, login, persona: str) -> None:
    client: Client = login(persona)
    assert client.get("/audit/emergency/").status_code == 403
    assert _ask(client, world.children["b1"]).status_code == 403  # type: ignore[attr-defined]
    assert not EmergencyAccess.objects.exists()
