"""Notifications that are not lost: the inbox item, one delivery per channel, and where a
user wants mail and text messages sent.

A Notification is what the recipient reads in the inbox; it is never deleted. Each channel
(in-app, e-mail, SMS) has a Delivery with its state and attempts, so the sent log shows what
went out, to whom, when and how it ended. Writes go through notify.services.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.fields import EncryptedCharField
from jobs.models import Job
from registry.models import Child


class Channel(models.TextChoices):
    INAPP = "inapp", "站内"
    EMAIL = "email", "邮件"
    SMS = "sms", "短信"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    GIVEN_UP = "given_up", "已放弃"


def validate_site_path(value: str) -> None:
    """A link inside this site: a path starting with one "/", no scheme, host or control
    characters, so a notification can never send its reader elsewhere."""
    if not value:
        return
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        raise ValidationError("链接必须是本站内以 / 开头的路径。", code="link")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError("链接不能包含空白或控制字符。", code="link")


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="notifications", verbose_name="收件人"
    )
    kind = models.CharField("类型", max_length=64)
    title = models.CharField("标题", max_length=120)
    body = models.TextField("正文", max_length=2000, blank=True)
    link = models.CharField("链接", max_length=300, blank=True, validators=[validate_site_path])
    # The child the notification is about, if any: the recipient must be able to see it when
    # it is sent, and the inbox hides the text once they no longer can.
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="涉及儿童"
    )
    created_at = models.DateTimeField("发送时间", default=timezone.now)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]
        indexes = [
            # The inbox: one user's notifications, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notify_inbox"),
            # The unread badge on every page: a COUNT over this partial index only.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notify_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    @property
    def unread(self) -> bool:
        return self.read_at is None


class Delivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    notification = models.ForeignKey(
        Notification, on_delete=models.PROTECT, related_name="deliveries", verbose_name="通知"
    )
    channel = models.CharField("渠道", max_length=8, choices=Channel.choices)
    state = models.CharField(
        "状态", max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField("已尝试次数", default=0)
    max_attempts = models.PositiveIntegerField("最多尝试次数", default=1)
    # Our own words and the exception's class name only: error texts of mail servers and SMS
    # gateways can quote the address.
    last_error = models.CharField("最近错误", max_length=200, blank=True)
    address_hint = models.CharField("发送地址（掩码）", max_length=64, blank=True)
    sent_at = models.DateTimeField("发出时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    # The background job of the current round of attempts (none for in-app deliveries).
    job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="后台任务"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "通知投递"
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="delivery_recent"),
            models.Index(fields=["state", "-created_at"], name="delivery_state_recent"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_one_per_channel"),
            models.CheckConstraint(
                condition=Q(attempts__lte=F("max_attempts")), name="delivery_attempts_bounded"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_channel_display()} {self.get_state_display()} ({self.attempts}/{self.max_attempts})"
        )


class RecipientAddress(models.Model):
    """Where the user wants notifications by e-mail and SMS. The e-mail falls back to the
    account's e-mail (accounts.User.email) when left empty."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="notify_address", verbose_name="用户"
    )
    phone = EncryptedCharField("接收短信的手机号码", max_length=20, blank=True)
    email = EncryptedCharField("接收通知的电子邮箱", max_length=254, blank=True)
    updated_at = models.DateTimeField("修改时间", default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "通知接收地址"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"通知接收地址 {self.user_id}"
