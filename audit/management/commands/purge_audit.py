"""LG-4: `manage.py purge_audit` removes audit rows older than SHOUHU_AUDIT_RETENTION_DAYS
(at least 185) and leaves a checkpoint so that the chain stays verifiable. On PostgreSQL it
must run as the table owner: the application role has no DELETE on the audit table."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.chain import audit_purge_expired, retention_days


class Command(BaseCommand):
    help = "删除超过保存期限（SHOUHU_AUDIT_RETENTION_DAYS，不少于 185 天）的审计日志，并写入清理检查点。"

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            days = retention_days()
        except ImproperlyConfigured as exc:
            raise CommandError(f"{exc}：为满足日志留存要求，本次不删除任何记录。") from exc
        result = audit_purge_expired()
        cutoff = timezone.localtime(result.cutoff).strftime("%Y-%m-%d %H:%M")
        if not result.deleted:
            self.stdout.write(f"没有早于 {cutoff}（保存期限 {days} 天）的审计日志。")
            return
        self.stdout.write(
            f"已删除 {result.deleted} 条早于 {cutoff} 的审计日志（保存期限 {days} 天），"
            f"检查点记录 id={result.checkpoint.pk if result.checkpoint else '—'}。"
        )
