"""The append-only access log: every view, search, list, export and reveal of personal data."""

from typing import Any, NoReturn

from django.db import models

from accounts.models import User


class AccessAction(models.TextChoices):
    VIEW = "view", "查看档案"
    SEARCH = "search", "搜索"
    LIST = "list", "浏览台账"
    REVEAL = "reveal", "查看完整号码"
    EXPORT = "export", "导出"
    API_READ = "api_read", "接口读取"
    DENIED = "denied", "拒绝访问"


class AppendOnlyQuerySet(models.QuerySet["AccessLog"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("访问日志只能追加，不能修改")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise PermissionError("访问日志只能追加，不能删除")


class AccessLog(models.Model):
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="用户")
    username = models.CharField("用户名", max_length=150, blank=True)
    roles = models.CharField("角色", max_length=200, blank=True)
    ip = models.GenericIPAddressField("IP 地址", null=True)
    action = models.CharField("操作", max_length=16, choices=AccessAction.choices)
    object_type = models.CharField("对象类型", max_length=32, blank=True)
    object_id = models.CharField("对象标识", max_length=64, blank=True, db_index=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "访问日志"
        verbose_name_plural = verbose_name
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"], name="accesslog_user_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Integrity guard, not business logic: a stored row is never rewritten.
        if self.pk is not None:
            raise PermissionError("访问日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise PermissionError("访问日志只能追加，不能删除")
