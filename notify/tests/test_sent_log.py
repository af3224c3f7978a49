"""The sent log: who sees which deliveries, filters, and the county admin's retry."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import Role, User
from audit.models import AuditEvent, EventType
from geo.models import Unit, UnitKind
from notify.models import Channel, Delivery, DeliveryState, Notification
from testing.world import World, make_user


def _b1_worker(world: World) -> User:
    unit = Unit.objects.create(name="乙一村委会", kind=UnitKind.VILLAGE_COMMITTEE, region=world.village_b1)
    return make_user("b1_worker", Role.VILLAGE_WORKER, unit)


def _given_up(recipient: User, title: str) -> Delivery:
    notification = Notification.objects.create(recipient=recipient, kind="test", title=title)
    Delivery.objects.create(notification=notification, channel=Channel.INAPP, state=DeliveryState.SENT)
    return Delivery.objects.create(
        notification=notification,
        channel=Channel.SMS,
        state=DeliveryState.GIVEN_UP,
        attempts=5,
        max_attempts=5,
        address_hint="139****5678",
        last_error="短信发送失败（SmsError）",
    )


def _titles(client: Client, **params: str) -> str:
    response = client.get("/inbox/sent/", params)
    assert response.status_code == 200
    return response.content.decode()


def test_a_supervisor_sees_the_township_recipients_only(world: World, login: Any, send: Any) -> None:
    send(world.users["village_worker"], title="甲一村的通知")
    send(world.users["visiting_cadre"], title="驻村干部的通知")
    send(_b1_worker(world), title="乙一村的通知")
    body = _titles(login("township_supervisor"))
    assert "甲一村的通知" in body and "驻村干部的通知" in body
    assert "乙一村的通知" not in body
    assert AuditEvent.objects.filter(action=EventType.LIST, object_type="notification").count() == 1


def test_a_county_admin_sees_the_county(world: World, login: Any, send: Any) -> None:
    send(world.users["village_worker"], title="甲一村的通知")
    send(_b1_worker(world), title="乙一村的通知")
    body = _titles(login("county_admin"))
    assert "甲一村的通知" in body and "乙一村的通知" in body


def test_it_hides_notifications_about_children_out_of_the_readers_scope(world: World, login: Any) -> None:
    # A recipient in township A, a child of township B (made directly: notification_send
    # would refuse it): the township A supervisor must not read about that child.
    Notification.objects.create(
        recipient=world.users["village_worker"], kind="t", title="关于外村儿童", child=world.children["b1"]
    )
    Delivery.objects.create(
        notification=Notification.objects.get(title="关于外村儿童"), channel=Channel.INAPP, state="sent"
    )
    assert "关于外村儿童" not in _titles(login("township_supervisor"))


def test_it_shows_a_given_up_delivery_and_filters_by_state(world: World, login: Any, send: Any) -> None:
    send(world.users["village_worker"], title="已送达的通知")
    _given_up(world.users["village_worker"], "发不出去的通知")
    client = login("township_supervisor")
    body = _titles(client, state="given_up")
    assert "发不出去的通知" in body and "5 / 5" in body and "139****5678" in body
    assert '<span class="tag warn">已放弃</span>' in body
    assert "已送达的通知" not in body
    assert "重试" not in body  # supervisors see, county admins retry
    assert "已送达的通知" in _titles(client, state="sent")


@pytest.mark.parametrize("persona", ["village_worker", "police", "social_worker", "system_admin", "auditor"])
def test_it_refuses_other_roles(world: World, login: Any, persona: str) -> None:
    assert login(persona).get("/inbox/sent/").status_code == 403


def test_a_county_admin_retries_a_given_up_delivery(world: World, login: Any) -> None:
    delivery = _given_up(world.users["village_worker"], "发不出去的通知")
    client = login("county_admin")
    assert "重试" in _titles(client, state="given_up")
    response = client.post(f"/inbox/sent/{delivery.pk}/retry/")
    assert (response.status_code, response["Location"]) == (302, "/inbox/sent/")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.max_attempts) == (DeliveryState.PENDING, 10)
    assert delivery.job is not None
    assert AuditEvent.objects.filter(action=EventType.UPDATE, object_type="delivery").count() == 1
    # A second tap while the round is pending starts nothing.
    client.post(f"/inbox/sent/{delivery.pk}/retry/")
    assert Delivery.objects.get(pk=delivery.pk).job_id == delivery.job_id


def test_a_supervisor_may_not_retry(world: World, login: Any) -> None:
    delivery = _given_up(world.users["village_worker"], "发不出去的通知")
    assert login("township_supervisor").post(f"/inbox/sent/{delivery.pk}/retry/").status_code == 403
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.GIVEN_UP


def test_a_county_admin_cannot_retry_outside_the_county(world: World, login: Any) -> None:
    unit = Unit.objects.create(name="外县社区", kind=UnitKind.VILLAGE_COMMITTEE, region=world.village_other)
    delivery = _given_up(make_user("outsider", Role.VILLAGE_WORKER, unit), "外县的通知")
    assert login("county_admin").post(f"/inbox/sent/{delivery.pk}/retry/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.GIVEN_UP


def test_it_lists_in_a_constant_number_of_queries(world: World, login: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _given_up(world.users["village_worker"], "第一条通知")
    client = login("county_admin")
    client.get("/inbox/sent/")  # warm the session
    with CaptureQueriesContext(connection) as one:
        _titles(client)
    for number in range(20):
        _given_up(world.users["visiting_cadre"], f"通知{number}")
    with CaptureQueriesContext(connection) as many:
        body = _titles(client)
    assert "通知19" in body
    assert len(many) == len(one)
