"""Writes of the notify app: sending a notification, delivering it, retrying, reading.

notification_send() writes the inbox item and one Delivery per channel in the caller's
transaction. In-app is delivered at once; e-mail and SMS are delivered by a `notify.deliver`
background job (notify/job_handlers.py) submitted on commit, so a rolled-back caller sends
nothing. The jobs app does the retrying: a failed attempt raises, and jobs.services requeues
the job with its back-off (5 s, 30 s, 2 min, 2 min…) until max_attempts; the last failure
leaves the delivery `given_up`, visible in the sent log, where a county admin may start a
fresh round.

Delivery is at least once: a worker that dies after the gateway accepted a message but
before its `sent` mark is written sends it again on the next attempt.

Mail and text messages leave the system through third parties, so they carry the title and
a link into the site, never the body. No notification carries a full ID or mobile number:
notification_send refuses them (ValueError) in the title, the body and the link.
"""

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import EventType
from audit.services import audit_event
from core import idnumber
from core.masking import mask_phone
from jobs.services import job_submit
from notify.models import Channel, Delivery, DeliveryState, Notification, RecipientAddress
from notify.sms import sms_backend
from registry.access import children_visible_to
from registry.models import Child

logger = logging.getLogger(__name__)

DELIVER_KIND = "notify.deliver"
BODY_MAX = 2000

# Digits typed with spaces or dashes between them count as one number.
_DIGIT_GAPS = re.compile(r"(?<=\d)[\s\-]+(?=[\dXx])")
# 17 digits and a digit or X: an ID number, or part of a longer run of digits, which a
# notification has no reason to carry either (file numbers belong in links, as UUIDs).
# A UUID (the id in a link): its dashes are not gaps between digits of one number. Without this,
# a link such as /reports/12345678-1234-4234-9234-123456789012/ read as an ID number.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ID_LIKE = re.compile(r"\d{17}[\dXx]")
# A mainland mobile number, optionally with the country code, not inside a longer number.
_MOBILE_LIKE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")

NO_ID = "通知内容不能包含身份证号码（或 18 位以上的连续数字），请改用儿童姓名或链接。"
NO_PHONE = "通知内容不能包含手机号码。"
_FIELD_LABELS = {"title": "标题", "body": "正文", "link": "链接"}


class DeliveryFailedError(Exception):
    """One attempt failed and another may succeed: the jobs app retries the job."""


def personal_number_error(text: str) -> str | None:
    """The Chinese reason `text` may not go into a notification, or None."""
    flat = _DIGIT_GAPS.sub("", _UUID.sub("", text.translate(idnumber.FULLWIDTH)))
    if _ID_LIKE.search(flat):
        return NO_ID
    if _MOBILE_LIKE.search(flat):
        return NO_PHONE
    return None


def _refuse_personal_numbers(**texts: str) -> None:
    for name, text in texts.items():
        error = personal_number_error(text)
        if error:
            raise ValueError(f"{_FIELD_LABELS[name]}：{error}")


def _channels(channels: Sequence[str]) -> list[str]:
    """In-app always (the inbox is where nothing gets lost), then the others once each."""
    known = set(Channel.values)
    unknown = [name for name in channels if name not in known]
    if unknown:
        raise ValueError(f"未知的通知渠道：{'、'.join(unknown)}")
    return [Channel.INAPP, *(name for name in dict.fromkeys(channels) if name != Channel.INAPP)]


# --- addresses -------------------------------------------------------------------------------


def recipient_address(user: User) -> RecipientAddress | None:
    return RecipientAddress.objects.filter(user=user).first()


def recipient_email(user: User) -> str:
    address = recipient_address(user)
    return (address.email if address else "") or user.email


def recipient_phone(user: User) -> str:
    address = recipient_address(user)
    return address.phone if address else ""


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def _address(user: User, channel: str) -> tuple[str, str]:
    """(address, masked hint) for the channel, or ("", reason) when there is none."""
    if channel == Channel.EMAIL:
        email = recipient_email(user)
        return (email, mask_email(email)) if email else ("", "收件人未设置接收通知的电子邮箱")
    phone = recipient_phone(user)
    return (phone, mask_phone(phone)) if phone else ("", "收件人未设置接收短信的手机号码")


# --- send ------------------------------------------------------------------------------------


@transaction.atomic
def notification_send(
    *,
    recipient: User,
    kind: str,
    title: str,
    body: str,
    link: str = "",
    child: Child | None = None,
    channels: Sequence[str] = (Channel.INAPP,),
) -> Notification:
    """Write the notification and its deliveries; e-mail and SMS go out after commit.

    Raises ValueError (Chinese message) for a full ID or mobile number in the text, a link
    outside the site, an unknown channel, or a child the recipient may not see. A missing
    e-mail address or phone number is not an error: that delivery is `failed` with the
    reason, and the notification is still in the inbox."""
    wanted = _channels(channels)
    _refuse_personal_numbers(title=title, body=body, link=link)
    if child is not None and not children_visible_to(recipient).filter(pk=child.pk).exists():
        raise ValueError("收件人无权查看该儿童档案，不能向其发送有关该儿童的通知。")
    if len(body) > BODY_MAX:
        raise ValueError(f"正文不能超过 {BODY_MAX} 个字。")
    notification = Notification(
        recipient=recipient, kind=kind.strip(), title=title.strip(), body=body.strip(), link=link, child=child
    )
    try:
        notification.full_clean(exclude=["recipient", "child"])  # given as objects: no lookups
    except ValidationError as exc:
        raise ValueError("；".join(exc.messages)) from exc
    notification.save(force_insert=True)
    for channel in wanted:
        _delivery_create(notification, channel)
    return notification


def _delivery_create(notification: Notification, channel: str) -> Delivery:
    now = notification.created_at
    if channel == Channel.INAPP:
        return Delivery.objects.create(
            notification=notification,
            channel=channel,
            state=DeliveryState.SENT,
            attempts=1,
            max_attempts=1,
            sent_at=now,
            created_at=now,
        )
    delivery = Delivery(
        notification=notification,
        channel=channel,
        max_attempts=settings.SHOUHU_NOTIFY_MAX_ATTEMPTS,
        created_at=now,
    )
    recipient = notification.recipient
    address, hint = _address(recipient, channel)
    if not recipient.is_active:
        delivery.state, delivery.last_error = DeliveryState.FAILED, "收件人账号已停用，不发送"
    elif not address:
        delivery.state, delivery.last_error = DeliveryState.FAILED, hint
    else:
        delivery.address_hint = hint
    delivery.full_clean(exclude=["notification", "job"])
    delivery.save(force_insert=True)
    if delivery.state == DeliveryState.PENDING:
        _submit(delivery, user=None, key=f"{DELIVER_KIND}:{delivery.pk}")
    return delivery


def _submit(delivery: Delivery, *, user: User | None, key: str) -> None:
    delivery.job = job_submit(
        kind=DELIVER_KIND,
        payload={"delivery": str(delivery.pk)},
        idempotency_key=key,
        user=user,
        max_attempts=delivery.max_attempts - delivery.attempts,
    )
    delivery.save(update_fields=["job"])


# --- deliver (the job's work) ----------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    delivery: Delivery
    retry: bool  # failed, and the next attempt may succeed


def delivery_attempt(*, delivery_id: uuid.UUID | str) -> Attempt:
    """One attempt to deliver by e-mail or SMS. The attempt is counted (committed) before
    anything is sent, so a worker that dies mid-send still uses it up. Never raises for a
    failed send: the outcome says whether to try again."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("notification__recipient")
            .get(pk=delivery_id)
        )
        if delivery.state in (DeliveryState.SENT, DeliveryState.GIVEN_UP):
            return Attempt(delivery, retry=False)  # a duplicate wake-up call
        if delivery.attempts >= delivery.max_attempts:
            _record(delivery, DeliveryState.GIVEN_UP, f"已尝试 {delivery.attempts} 次，不再重试")
            return Attempt(delivery, retry=False)
        address, hint = _address(delivery.notification.recipient, delivery.channel)
        if not address:
            _record(delivery, DeliveryState.FAILED, hint)
            return Attempt(delivery, retry=False)
        delivery.attempts += 1
        delivery.address_hint = hint
        delivery.save(update_fields=["attempts", "address_hint"])
    try:
        _send(delivery, address)
    except Exception as exc:
        # Anything a mail server or SMS gateway raises ends this attempt; the text of the
        # exception is not kept (it can quote the address).
        final = delivery.attempts >= delivery.max_attempts
        logger.warning("通知投递 %s 第 %d 次失败：%s", delivery.pk, delivery.attempts, type(exc).__name__)
        state = DeliveryState.GIVEN_UP if final else DeliveryState.FAILED
        _record(delivery, state, _error_text(delivery.channel, exc))
        return Attempt(delivery, retry=not final)
    delivery.sent_at = timezone.now()
    _record(delivery, DeliveryState.SENT, "")
    return Attempt(delivery, retry=False)


def _record(delivery: Delivery, state: str, error: str) -> None:
    delivery.state = state
    delivery.last_error = error[:200]
    delivery.save(update_fields=["state", "last_error", "sent_at"])


def _error_text(channel: str, exc: Exception) -> str:
    what = "邮件" if channel == Channel.EMAIL else "短信"
    code = getattr(exc, "code", "") if channel == Channel.SMS else ""
    suffix = f"，代码 {code}" if code and not personal_number_error(str(code)) else ""
    return f"{what}发送失败（{type(exc).__name__}{suffix}）"


def external_text(notification: Notification) -> tuple[str, str]:
    """(title, text) for mail and SMS: the title and where to read the rest, never the body."""
    path = reverse("notify:open", kwargs={"notification_id": notification.pk})
    site = settings.SHOUHU_SITE_URL.rstrip("/")
    where = f"请登录守护查看：{site}{path}" if site else "请登录守护，在“消息”中查看。"
    return (
        f"【守护】{notification.title}",
        f"{notification.title}\n\n{where}\n\n本消息由系统自动发送，请勿回复。",
    )


def _send(delivery: Delivery, address: str) -> None:
    subject, text = external_text(delivery.notification)
    if delivery.channel == Channel.EMAIL:
        send_mail(subject, text, None, [address], fail_silently=False)
    else:
        sms_backend().send(address, f"【守护】{delivery.notification.title}。请登录守护查看。")


# --- retry (county admin) --------------------------------------------------------------------


def delivery_retryable(delivery: Delivery) -> bool:
    """Not sent, not in-app, and no attempt of it is queued or running."""
    if delivery.channel == Channel.INAPP or delivery.state == DeliveryState.SENT:
        return False
    job = delivery.job
    return delivery.state != DeliveryState.PENDING and (job is None or job.done)


@transaction.atomic
def delivery_retry(*, by: User, delivery: Delivery) -> Delivery:
    """A fresh round of attempts for a delivery that failed or was given up."""
    locked = Delivery.objects.select_for_update(of=("self",)).select_related("job").get(pk=delivery.pk)
    if not delivery_retryable(locked):
        raise ValidationError("该通知已发出或正在发送，无需重试。")
    locked.max_attempts = locked.attempts + settings.SHOUHU_NOTIFY_MAX_ATTEMPTS
    locked.state = DeliveryState.PENDING
    locked.last_error = ""
    locked.save(update_fields=["max_attempts", "state", "last_error"])
    _submit(locked, user=by, key=f"{DELIVER_KIND}:{locked.pk}:retry:{uuid.uuid4().hex}")
    audit_event(
        user=by,
        action=EventType.UPDATE,
        object_type="delivery",
        object_id=locked.pk,
        detail={"retry": True, "channel": locked.channel, "attempts": locked.attempts},
    )
    return locked


# --- reading ---------------------------------------------------------------------------------


def notification_mark_read(*, notification: Notification) -> bool:
    """Mark read if unread (a conditional UPDATE: two taps do not race); True if it was."""
    return bool(
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    )


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# --- the user's own addresses ----------------------------------------------------------------


@transaction.atomic
def recipient_address_update(*, user: User, phone: str, email: str) -> RecipientAddress:
    """Set where the user's notifications go by SMS and e-mail (empty: none / account e-mail)."""
    address = RecipientAddress.objects.select_for_update().filter(user=user).first()
    address = address or RecipientAddress(user=user)
    changed = [
        name for name, value in (("phone", phone), ("email", email)) if getattr(address, name) != value
    ]
    if not changed and not address._state.adding:
        return address
    address.phone, address.email, address.updated_at = phone, email, timezone.now()
    address.full_clean()
    address.save()
    audit_event(
        user=user,
        action=EventType.ACCOUNT,
        object_type="recipient_address",
        object_id=user.pk,
        detail={"changed": changed},
    )
    return address
