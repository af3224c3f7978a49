"""OP-2: alarms as Alert rows, seen by the security admin and the auditor (and by county
admins and township supervisors for their region): ≥20 denials of one user in 10 minutes,
break-the-glass, lockouts and large exports."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import Alert, AlertKind, AuditEvent, EventType
from audit.services import audit_event
from testing.world import World

OUT_OF_SCOPE = "/children/{id}/"


def _denied(client: Client, world: World, times: int) -> None:
    url = OUT_OF_SCOPE.format(id=world.children["b1"].id)
    for _ in range(times):
        assert client.get(url).status_code == 404


def test_it_raises_one_alert_at_20_denials_in_10_minutes(world: World, login) -> None:
    client: Client = login("village_worker")
    _denied(client, world, 19)
    assert not Alert.objects.exists()
    _denied(client, world, 1)
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.DENIALS and alert.subject == world.users["village_worker"]
    assert "20 次" in alert.message
    _denied(client, world, 5)  # one alert per window, not one per further denial
    assert Alert.objects.count() == 1
    # The alert is itself in the audit trail.
    row = AuditEvent.objects.get(action=EventType.ALERT)
    assert row.object_id == str(alert.pk) and row.detail["kind"] == AlertKind.DENIALS


def test_it_counts_only_the_last_10_minutes(world: World, login) -> None:
    client: Client = login("village_worker")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _denied(client, world, 10)
        traveller.shift(dt.timedelta(minutes=6))
        _denied(client, world, 9)
        traveller.shift(dt.timedelta(minutes=5))  # the first ten are now outside the window
        _denied(client, world, 1)
    assert not Alert.objects.exists()


def test_403s_count_as_denials_too(world: World, login) -> None:
    client: Client = login("county_officer")
    for _ in range(20):
        assert client.get("/children/new/").status_code == 403
    assert Alert.objects.get().kind == AlertKind.DENIALS


def test_it_alerts_on_break_the_glass(world: World, login) -> None:
    child = world.children["b1"]
    client: Client = login("village_worker")
    client.post("/audit/emergency/", {"file_no": child.file_no, "reason": "乙一村转来的紧急个案，需核对"})
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.EMERGENCY_ACCESS and alert.child_id == child.id
    assert "乙一村转来的紧急个案" in alert.message
    assert alert.region == world.village_a1  # the requester's village: their supervisors are told
    assert set(alert.recipient_roles.split()) == {
        "security_admin",
        "auditor",
        "county_admin",
        "township_supervisor",
    }


def test_it_alerts_on_a_lockout(world: World) -> None:
    """accounts calls audit_event with the lockout event (accounts/events.py)."""
    audit_event(action=EventType.LOCKOUT, username="village_worker", outcome="denied", object_type="account")
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.LOCKOUT and "village_worker" in alert.message
    assert set(alert.recipient_roles.split()) == {"security_admin", "auditor"}


@pytest.mark.parametrize(("rows", "alerts"), [(1000, 0), (1001, 1)])
def test_it_alerts_on_a_large_export(world: World, rows: int, alerts: int) -> None:
    audit_event(
        user=world.users["county_admin"], action=EventType.EXPORT, object_type="child", detail={"count": rows}
    )
    assert Alert.objects.filter(kind=AlertKind.EXPORT_VOLUME).count() == alerts


def _alerts_page(client: Client) -> str:
    response = client.get("/audit/alerts/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_alerts_page_shows_each_reader_their_alerts(world: World, login) -> None:
    village_worker = world.users["village_worker"]
    # Break-the-glass by the village worker (township A) and a lockout.
    client: Client = login("village_worker")
    client.post(
        "/audit/emergency/",
        {"file_no": world.children["b1"].file_no, "reason": "乙一村转来的紧急个案，需核对"},
    )
    audit_event(action=EventType.LOCKOUT, username="locked_user", object_type="account")
    for persona in ("security_admin", "auditor"):
        body = _alerts_page(login(persona))
        assert "紧急查看（破窗访问）" in body and "locked_user" in body
        assert world.children["b1"].file_no in body and world.children["b1"].name not in body
    body = _alerts_page(login("county_admin"))
    assert "紧急查看（破窗访问）" in body and "locked_user" not in body
    body = _alerts_page(login("township_supervisor"))  # township A: the worker's supervisor
    assert village_worker.username in body and "locked_user" not in body


def test_a_supervisor_elsewhere_does_not_see_it(world: World, login) -> None:
    from accounts.models import RoleGrant
    from geo.models import Unit, UnitKind

    other_gov = Unit.objects.create(
        name="党江镇人民政府", kind=UnitKind.TOWNSHIP_GOVERNMENT, region=world.township_b
    )
    RoleGrant.objects.filter(user=world.users["township_supervisor"]).update(unit=other_gov)
    login("village_worker").post(
        "/audit/emergency/",
        {"file_no": world.children["b1"].file_no, "reason": "乙一村转来的紧急个案，需核对"},
    )
    assert Alert.objects.count() == 1
    response = login("township_supervisor").get("/audit/alerts/")
    assert list(response.context["rows"]) == []


@pytest.mark.parametrize("persona", ["village_worker", "county_officer", "police", "system_admin", "no_role"])
def test_others_get_403(world: World, login, persona: str) -> None:
    assert login(persona).get("/audit/alerts/").status_code == 403
