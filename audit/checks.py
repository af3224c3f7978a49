"""System check: the audit retention period may not be set below six months (LG-4)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error


def check_retention(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from audit.chain import MIN_RETENTION_DAYS

    days = getattr(settings, "SHOUHU_AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS)
    if isinstance(days, int) and days >= MIN_RETENTION_DAYS:
        return []
    return [
        Error(
            f"SHOUHU_AUDIT_RETENTION_DAYS = {days!r}：审计日志至少保存 {MIN_RETENTION_DAYS} 天"
            "（网络安全法要求网络日志留存不少于六个月）。",
            hint=f"把 SHOUHU_AUDIT_RETENTION_DAYS 设为不小于 {MIN_RETENTION_DAYS} 的整数。",
            id="audit.E001",
        )
    ]
