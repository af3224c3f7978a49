"""notification_send: what it refuses, and what it writes per channel."""

from typing import Any

import pytest

from accounts.models import User
from notify.models import Channel, Delivery, DeliveryState, Notification
from notify.services import notification_send
from testing.world import World

ID_NUMBER = "45052120150601123X"


@pytest.mark.parametrize(
    ("title", "body", "reason"),
    [
        (f"核对 {ID_NUMBER}", "", "身份证"),
        ("核对身份证", f"号码 {ID_NUMBER.lower()}", "身份证"),
        ("核对身份证", "号码 450521 20150601 1230", "身份证"),  # typed in groups
        ("核对身份证", "号码 ４５０５２１２０１５０６０１１２３Ｘ", "身份证"),  # full-width
        ("核对身份证", "编号 4505211002010000012", "身份证"),  # longer runs too
        ("请回电 13800000001", "", "手机"),
        ("请回电", "电话 138-0000-0001", "手机"),
        ("请回电", "电话 +86 138 0000 0001", "手机"),
        ("请回电", "电话 １３８００００００01", "手机"),
    ],
)
def test_it_refuses_id_and_mobile_numbers(world: World, title: str, body: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        notification_send(recipient=world.users["village_worker"], kind="test", title=title, body=body)
    assert Notification.objects.count() == 0


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-29 共有 12 名儿童待走访",
        "逾期 3 天，第 138 号文件",
        "座机 0779-7201234 可咨询",
        "合计 10000000000 元",
    ],
)
def test_it_accepts_ordinary_numbers(world: World, text: str) -> None:
    notification = notification_send(
        recipient=world.users["village_worker"], kind="test", title=text, body=text
    )
    assert notification.title == text


@pytest.mark.parametrize(
    "link",
    ["/reports/12345678-1234-4234-9234-123456789012/", "/children/11111111-2222-4333-8444-555555555555/"],
)
def test_it_accepts_a_uuid_whose_dashes_join_18_digits(world: World, link: str) -> None:
    """A UUID's dashes are not gaps inside one number (it read as an ID number before)."""
    notification = notification_send(
        recipient=world.users["village_worker"], kind="test", title="t", body="", link=link
    )
    assert notification.link == link


def test_it_refuses_a_number_in_the_link(world: World) -> None:
    with pytest.raises(ValueError, match="链接"):
        notification_send(
            recipient=world.users["village_worker"], kind="test", title="t", body="", link="/x/13800000001/"
        )


@pytest.mark.parametrize(
    "link", ["https://evil.example/", "//evil.example/", "children/", "/a b/", "/\\evil"]
)
def test_it_refuses_a_link_outside_the_site(world: World, link: str) -> None:
    with pytest.raises(ValueError, match="链接"):
        notification_send(recipient=world.users["village_worker"], kind="test", title="t", body="", link=link)
    assert Notification.objects.count() == 0


def test_it_refuses_a_child_the_recipient_cannot_see(world: World) -> None:
    with pytest.raises(ValueError, match="无权查看"):
        notification_send(
            recipient=world.users["village_worker"],
            kind="test",
            title="t",
            body="",
            child=world.children["a2"],
        )
    assert Notification.objects.count() == 0


def test_it_refuses_an_unknown_channel(world: World) -> None:
    with pytest.raises(ValueError, match="未知的通知渠道"):
        notification_send(
            recipient=world.users["village_worker"], kind="t", title="t", body="", channels=["fax"]
        )


def test_it_writes_an_inapp_delivery_sent_at_once(world: World) -> None:
    notification = notification_send(
        recipient=world.users["village_worker"], kind="test", title="t", body="", child=world.children["a1"]
    )
    delivery = Delivery.objects.get(notification=notification)
    assert (delivery.channel, delivery.state, delivery.attempts) == (Channel.INAPP, DeliveryState.SENT, 1)
    assert delivery.sent_at is not None


def test_it_always_keeps_the_inapp_copy(world: World, send: Any) -> None:
    user: User = world.users["village_worker"]
    user.email = "worker@example.cn"
    user.save()
    notification = send(user, channels=["email"])
    channels = set(notification.deliveries.values_list("channel", flat=True))
    assert channels == {Channel.INAPP, Channel.EMAIL}


def test_it_fails_the_delivery_of_a_user_without_address_with_a_reason(
    world: World, send: Any, mailoutbox: Any
) -> None:
    notification = send(world.users["village_worker"], channels=["email", "sms"])
    email = notification.deliveries.get(channel=Channel.EMAIL)
    sms = notification.deliveries.get(channel=Channel.SMS)
    assert (email.state, email.last_error) == (DeliveryState.FAILED, "收件人未设置接收通知的电子邮箱")
    assert (sms.state, sms.last_error) == (DeliveryState.FAILED, "收件人未设置接收短信的手机号码")
    assert email.job is None and sms.job is None
    assert mailoutbox == []


def test_it_does_not_mail_a_disabled_account(world: World, send: Any, mailoutbox: Any) -> None:
    user: User = world.users["village_worker"]
    user.email = "worker@example.cn"
    user.is_active = False
    user.save()
    notification = send(user, channels=["email"])
    email = notification.deliveries.get(channel=Channel.EMAIL)
    assert (email.state, email.last_error) == (DeliveryState.FAILED, "收件人账号已停用，不发送")
    assert mailoutbox == []
