"""The audit trail: one append-only, hash-chained table of events (LG-1…LG-4), the alerts
raised from it (OP-2) and the break-the-glass grants it records (AC-8).

A row is never rewritten or deleted by the application: the model and its queryset refuse,
and on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE too (migration 0003). Only
`manage.py purge_audit` removes rows older than the retention period, and it leaves a
checkpoint row so that the chain stays verifiable.
"""

import datetime as dt
import hashlib
import ipaddress
import json
import uuid
from typing import Any, NoReturn

from django.db import models
from django.utils import timezone

from accounts.models import Role, User

GENESIS = "0" * 64  # prev_hash of the first row ever written


class EventType(models.TextChoices):
    # Sessions (written by accounts through audit.services.audit_event).
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出登录"
    LOCKOUT = "lockout", "账号锁定"
    # Reads of personal data.
    VIEW = "view", "查看档案"
    SEARCH = "search", "搜索"
    LIST = "list", "浏览台账"
    PRINT = "print", "打印"
    EXPORT = "export", "导出"
    REVEAL = "reveal", "查看完整号码"
    API_READ = "api_read", "接口读取"
    # Writes.
    CREATE = "create", "新建"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    # Security.
    DENIED = "denied", "拒绝访问"
    PERMISSION = "permission", "权限变更"
    ACCOUNT = "account", "账号变更"
    CONFIG = "config", "配置变更"
    EMERGENCY_ACCESS = "emergency_access", "紧急查看"
    ALERT = "alert", "告警"
    CHECKPOINT = "checkpoint", "日志清理检查点"


# Reads and writes of a child file: what the per-child log and the access report show.
CHILD_ACCESS_EVENTS = frozenset(
    {
        EventType.VIEW,
        EventType.PRINT,
        EventType.EXPORT,
        EventType.REVEAL,
        EventType.API_READ,
        EventType.CREATE,
        EventType.UPDATE,
        EventType.DELETE,
        EventType.EMERGENCY_ACCESS,
    }
)


class Outcome(models.TextChoices):
    SUCCESS = "success", "成功"
    FAILURE = "failure", "失败"
    DENIED = "denied", "拒绝"


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("审计日志只能追加，不能修改")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise PermissionError("审计日志只能追加，不能删除")


class AuditEvent(models.Model):
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="用户")
    username = models.CharField("用户名", max_length=150, blank=True)
    roles = models.CharField("角色", max_length=200, blank=True)
    ip = models.GenericIPAddressField("IP 地址", null=True)
    action = models.CharField("事件类型", max_length=32, choices=EventType.choices)
    outcome = models.CharField("结果", max_length=8, choices=Outcome.choices, default=Outcome.SUCCESS)
    object_type = models.CharField("对象类型", max_length=32, blank=True)
    object_id = models.CharField("对象标识", max_length=64, blank=True, db_index=True)
    request_id = models.CharField("请求编号", max_length=32, blank=True)
    reason = models.CharField("理由", max_length=500, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    prev_hash = models.CharField("前一条哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = verbose_name
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["user", "at"], name="accesslog_user_at"),
            models.Index(fields=["action", "user", "at"], name="auditevent_action_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Integrity guard, not business logic: a stored row is never rewritten.
        if self.pk is not None:
            raise PermissionError("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise PermissionError("审计日志只能追加，不能删除")

    def canonical(self) -> bytes:
        """The fields the hash covers, serialised the same way on every database."""
        fields = {
            "at": _utc(self.at),
            "user": str(self.user_id) if self.user_id else "",
            "username": self.username,
            "roles": self.roles,
            "ip": _ip(self.ip),
            "action": self.action,
            "outcome": self.outcome,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "request_id": self.request_id,
            "reason": self.reason,
            "detail": self.detail,
        }
        return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical() + self.prev_hash.encode()).hexdigest()


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _ip(value: str | None) -> str:
    # PostgreSQL's inet and SQLite's text may spell an IPv6 address differently.
    return ipaddress.ip_address(value).compressed if value else ""


class AlertKind(models.TextChoices):
    DENIALS = "denials", "短时间内多次被拒绝访问"
    EMERGENCY_ACCESS = "emergency_access", "紧急查看（破窗访问）"
    LOCKOUT = "lockout", "账号被锁定"
    EXPORT_VOLUME = "export_volume", "大批量导出"


class Alert(models.Model):
    """An alarm for people to look at (OP-2). Who sees it: the roles in `recipient_roles`;
    region-bound roles (county admin, township supervisor) only inside their region."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    kind = models.CharField("类型", max_length=32, choices=AlertKind.choices)
    subject = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="涉及用户"
    )
    subject_username = models.CharField("涉及用户名", max_length=150, blank=True)
    region = models.ForeignKey(
        "geo.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="区划"
    )
    child = models.ForeignKey(
        "registry.Child",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="档案",
    )
    # Space-delimited role codes, e.g. " security_admin auditor county_admin ".
    recipient_roles = models.CharField("接收角色", max_length=200)
    message = models.CharField("内容", max_length=300)
    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="+", verbose_name="审计记录")

    class Meta:
        verbose_name = "告警"
        verbose_name_plural = verbose_name
        ordering = ["-at"]
        indexes = [models.Index(fields=["kind", "subject", "at"], name="alert_kind_subject_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.subject_username}"

    def recipient_labels(self) -> list[str]:
        labels = dict(Role.choices)
        return [str(labels.get(code, code)) for code in self.recipient_roles.split()]


class EmergencyAccess(models.Model):
    """Break-the-glass (AC-8): read-only access by one user to one file until `expires_at`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="用户")
    child = models.ForeignKey(
        "registry.Child", on_delete=models.PROTECT, related_name="+", verbose_name="档案"
    )
    reason = models.CharField("理由", max_length=500)
    granted_at = models.DateTimeField("开始时间", default=timezone.now)
    expires_at = models.DateTimeField("到期时间")

    class Meta:
        verbose_name = "紧急查看授权"
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["user", "expires_at"], name="emergency_user_expires")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("granted_at")),
                name="emergency_expires_after_grant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.child_id}（至 {self.expires_at:%Y-%m-%d %H:%M}）"
