"""E-mail and SMS deliveries through the jobs app: sent, retried, given up, retried again."""

from typing import Any, ClassVar

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.test import override_settings

from accounts.models import User
from jobs.models import Job, JobState
from notify.models import Channel, DeliveryState, Notification, RecipientAddress
from notify.services import delivery_retry, notification_send
from notify.sms import BaseSmsBackend, SmsError
from testing.world import World

PHONE = "13912345678"


class FlakySmsBackend(BaseSmsBackend):
    """Fails the first `failures` sends, then delivers into `sent`."""

    failures: ClassVar[int] = 0
    calls: ClassVar[int] = 0
    sent: ClassVar[list[str]] = []

    def send(self, phone: str, text: str) -> None:
        FlakySmsBackend.calls += 1
        if FlakySmsBackend.calls <= FlakySmsBackend.failures:
            raise SmsError("网关忙", code="E503")
        FlakySmsBackend.sent.append(text)


class BrokenEmailBackend(BaseEmailBackend):
    """An SMTP server that is down; its error quotes the address, as real ones do."""

    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError(f"refused for {email_messages[0].to[0]}")


@pytest.fixture
def flaky() -> type[FlakySmsBackend]:
    FlakySmsBackend.calls, FlakySmsBackend.failures, FlakySmsBackend.sent = 0, 0, []
    return FlakySmsBackend


def _with_addresses(user: User) -> User:
    user.email = "worker@example.cn"
    user.save()
    RecipientAddress.objects.create(user=user, phone=PHONE)
    return user


def test_it_mails_the_title_and_a_link_not_the_body(
    world: World, send: Any, mailoutbox: Any, settings: Any
) -> None:
    settings.SHOUHU_SITE_URL = "https://shouhu.example.gov.cn"
    notification = send(_with_addresses(world.users["village_worker"]), body="正文不出站", channels=["email"])
    email = notification.deliveries.get(channel=Channel.EMAIL)
    assert (email.state, email.attempts, email.address_hint) == (DeliveryState.SENT, 1, "w***@example.cn")
    assert email.sent_at is not None
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["worker@example.cn"]
    assert message.subject == "【守护】本周有 2 名儿童待走访"
    assert f"https://shouhu.example.gov.cn/inbox/{notification.pk}/" in message.body
    assert "正文不出站" not in message.body
    assert Job.objects.get(pk=email.job_id).state == JobState.SUCCEEDED


def test_it_prefers_the_notification_email_to_the_account_email(
    world: World, send: Any, mailoutbox: Any
) -> None:
    user = _with_addresses(world.users["village_worker"])
    address = RecipientAddress.objects.get(user=user)
    address.email = "notify@example.cn"
    address.save()
    send(user, channels=["email"])
    assert mailoutbox[0].to == ["notify@example.cn"]


def test_it_texts_through_the_sms_backend(world: World, send: Any, sms_outbox: Any) -> None:
    notification = send(_with_addresses(world.users["village_worker"]), channels=["sms"])
    sms = notification.deliveries.get(channel=Channel.SMS)
    assert (sms.state, sms.attempts, sms.address_hint) == (DeliveryState.SENT, 1, "139****5678")
    assert [(m.phone, m.text) for m in sms_outbox] == [
        (PHONE, "【守护】本周有 2 名儿童待走访。请登录守护查看。")
    ]


def test_it_retries_until_the_gateway_answers(world: World, send: Any, flaky: Any) -> None:
    flaky.failures = 2
    with override_settings(SHOUHU_SMS_BACKEND="notify.tests.test_delivery.FlakySmsBackend"):
        notification = send(_with_addresses(world.users["village_worker"]), channels=["sms"])
    sms = notification.deliveries.get(channel=Channel.SMS)
    assert (sms.state, sms.attempts, sms.last_error) == (DeliveryState.SENT, 3, "")
    assert flaky.calls == 3 and len(flaky.sent) == 1
    job = Job.objects.get(pk=sms.job_id)
    assert (job.state, job.attempts) == (JobState.SUCCEEDED, 3)
    # Every attempt left a history row: counted, then failed twice, then sent.
    rows = list(sms.history.order_by("history_date", "history_id").values_list("attempts", "state"))
    assert (2, DeliveryState.FAILED) in rows and rows[-1] == (3, DeliveryState.SENT)


def test_it_gives_up_after_max_attempts_without_keeping_the_servers_words(
    world: World, send: Any, settings: Any
) -> None:
    settings.SHOUHU_NOTIFY_MAX_ATTEMPTS = 4
    settings.EMAIL_BACKEND = "notify.tests.test_delivery.BrokenEmailBackend"
    notification = send(_with_addresses(world.users["village_worker"]), channels=["email"])
    email = notification.deliveries.get(channel=Channel.EMAIL)
    assert (email.state, email.attempts, email.max_attempts) == (DeliveryState.GIVEN_UP, 4, 4)
    assert email.last_error == "邮件发送失败（ConnectionRefusedError）"
    job = Job.objects.get(pk=email.job_id)
    assert (job.state, job.attempts) == (JobState.FAILED, 4)
    assert "worker@example.cn" not in job.error


def test_it_sends_nothing_when_the_caller_rolls_back(
    world: World, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    user = _with_addresses(world.users["village_worker"])
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        notification_send(recipient=user, kind="t", title="t", body="", channels=["email"])
        raise RuntimeError("调用方失败")
    assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_a_county_admin_starts_a_fresh_round_for_a_given_up_delivery(
    world: World, send: Any, flaky: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SHOUHU_NOTIFY_MAX_ATTEMPTS = 2
    settings.SHOUHU_SMS_BACKEND = "notify.tests.test_delivery.FlakySmsBackend"
    flaky.failures = 3
    notification = send(_with_addresses(world.users["village_worker"]), channels=["sms"])
    sms = notification.deliveries.get(channel=Channel.SMS)
    assert (sms.state, sms.attempts) == (DeliveryState.GIVEN_UP, 2)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_retry(by=world.users["county_admin"], delivery=sms)
    sms.refresh_from_db()
    # Attempt 3 failed, attempt 4 got through: the round had two more attempts.
    assert (sms.state, sms.attempts, sms.max_attempts) == (DeliveryState.SENT, 4, 4)
    assert flaky.calls == 4
