"""The inbox over HTTP: listing, the header badge, opening, marking read, the settings form."""

import re
from typing import Any

from django.test import Client

from accounts.models import User
from audit.models import AuditEvent, EventType
from notify.models import Notification, RecipientAddress
from registry.models import Assignment
from testing.world import World


def _badge(client: Client) -> str | None:
    body = client.get("/children/").content.decode()
    match = re.search(r'href="/inbox/">消息(?: <span class="tag warn"[^>]*>(\d+)</span>)?</a>', body)
    assert match, "no inbox link in the header"
    return match.group(1)


def test_it_lists_a_sent_notification_with_the_unread_count(world: World, login: Any, send: Any) -> None:
    child = world.children["a1"]
    send(world.users["village_worker"], title="张三的走访已逾期", link=f"/children/{child.pk}/", child=child)
    send(world.users["village_worker"], title="本周待走访 2 人")
    send(world.users["township_supervisor"], title="别人的通知")
    client = login("village_worker")
    assert _badge(client) == "2"
    body = client.get("/inbox/").content.decode()
    assert "<strong>张三的走访已逾期</strong>" in body
    assert body.index("本周待走访 2 人") < body.index("张三的走访已逾期")  # newest first
    assert "别人的通知" not in body


def test_it_shows_no_badge_without_unread(world: World, login: Any) -> None:
    assert _badge(login("village_worker")) is None


def test_it_marks_read_on_open_and_goes_to_the_link(world: World, login: Any, send: Any) -> None:
    child = world.children["a1"]
    notification = send(world.users["village_worker"], link=f"/children/{child.pk}/", child=child)
    client = login("village_worker")
    response = client.get(f"/inbox/{notification.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/children/{child.pk}/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert _badge(client) is None
    assert "<strong>" not in client.get("/inbox/").content.decode()


def test_it_opens_a_notification_without_link_to_the_inbox(world: World, login: Any, send: Any) -> None:
    notification = send(world.users["village_worker"])
    response = login("village_worker").get(f"/inbox/{notification.pk}/")
    assert (response.status_code, response["Location"]) == (302, "/inbox/")


def test_it_answers_404_for_another_users_notification(world: World, login: Any, send: Any) -> None:
    notification = send(world.users["township_supervisor"])
    response = login("village_worker").get(f"/inbox/{notification.pk}/")
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_it_marks_all_read(world: World, login: Any, send: Any) -> None:
    for _ in range(3):
        send(world.users["village_worker"])
    other = send(world.users["township_supervisor"])
    client = login("village_worker")
    response = client.post("/inbox/read-all/")
    assert (response.status_code, response["Location"]) == (302, "/inbox/")
    assert not Notification.objects.filter(
        recipient=world.users["village_worker"], read_at__isnull=True
    ).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_it_refuses_mark_all_read_by_get(world: World, login: Any, send: Any) -> None:
    send(world.users["village_worker"])
    assert login("village_worker").get("/inbox/read-all/").status_code == 405
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_it_hides_the_text_once_the_child_is_out_of_scope(world: World, login: Any, send: Any) -> None:
    child = world.children["a1"]
    send(world.users["social_worker"], title="张三需要回访", child=child, link=f"/children/{child.pk}/")
    Assignment.objects.filter(user=world.users["social_worker"]).update(active=False)
    body = login("social_worker").get("/inbox/").content.decode()
    assert "张三需要回访" not in body
    assert "已不在您工作范围内" in body


def test_it_pages_the_inbox(world: World, login: Any, send: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("notify.selectors.PAGE_SIZE", 2)
    for number in range(3):
        send(world.users["village_worker"], title=f"第{number}条")
    client = login("village_worker")
    first = client.get("/inbox/")
    assert first.context["page"].next_before is not None
    second = client.get("/inbox/", {"before": str(first.context["page"].next_before)})
    assert second.context["page"].next_before is None
    titles = [n.title for n in first.context["page"].rows] + [n.title for n in second.context["page"].rows]
    assert titles == ["第2条", "第1条", "第0条"]


# --- settings --------------------------------------------------------------------------------


def test_it_saves_the_users_phone_and_email(world: World, login: Any) -> None:
    client = login("village_worker")
    response = client.post("/inbox/settings/", {"phone": "139 1234 5678", "email": "Me@Example.CN"})
    assert response.status_code == 302
    address = RecipientAddress.objects.get(user=world.users["village_worker"])
    assert (address.phone, address.email) == ("13912345678", "Me@example.cn")
    assert AuditEvent.objects.filter(action=EventType.ACCOUNT, object_type="recipient_address").count() == 1
    body = client.get("/inbox/settings/").content.decode()
    assert "139****5678" in body and "13912345678" not in body
    assert "M***@example.cn" in body and "Me@example.cn" not in body


def test_it_keeps_stored_values_when_left_empty_and_clears_on_request(world: World, login: Any) -> None:
    user: User = world.users["village_worker"]
    RecipientAddress.objects.create(user=user, phone="13912345678", email="me@example.cn")
    client = login("village_worker")
    client.post("/inbox/settings/", {"phone": "", "email": ""})
    address = RecipientAddress.objects.get(user=user)
    assert (address.phone, address.email) == ("13912345678", "me@example.cn")
    client.post("/inbox/settings/", {"phone": "", "email": "", "clear_phone": "on"})
    address.refresh_from_db()
    assert (address.phone, address.email) == ("", "me@example.cn")


def test_it_shows_a_chinese_error_at_a_bad_phone(world: World, login: Any) -> None:
    response = login("village_worker").post("/inbox/settings/", {"phone": "0779-7201234", "email": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == ["请填写 11 位手机号码（短信只能发到手机）。"]
    assert not RecipientAddress.objects.exists()


def test_it_sends_anonymous_users_to_login(client: Client, world: World) -> None:
    for url in ("/inbox/", "/inbox/settings/", "/inbox/sent/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_renders_markup_in_a_notification_inert(world: World, login: Any, send: Any) -> None:
    payload = "<script>alert(1)</script>"
    send(world.users["village_worker"], title=payload, body=payload)
    for persona, url in (("village_worker", "/inbox/"), ("township_supervisor", "/inbox/sent/")):
        body = login(persona).get(url).content.decode()
        assert payload not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
