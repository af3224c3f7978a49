"""LG-3: `manage.py verify_audit_chain` exits 0 when the hash chain is intact, else names
the first broken link and exits 1."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from audit.chain import verify_chain


class Command(BaseCommand):
    help = "校验审计日志哈希链：完整时退出码为 0；否则指出第一处断开的记录并以退出码 1 结束。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            default="",
            help="之前另行保存的最新哈希（每日导出）；若它已不在链中，说明日志被整体改写。",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        report = verify_chain(anchor=options["anchor"])
        elapsed = time.monotonic() - started
        if report.broken_id is not None:
            at = timezone.localtime(report.broken_at).isoformat() if report.broken_at else ""
            raise CommandError(
                f"审计日志哈希链断开：第一处在记录 id={report.broken_id}（时间 {at}）：{report.problem}。"
                f"此前 {report.count} 条记录完好。",
                returncode=1,
            )
        if report.anchor_found is False:
            raise CommandError(f"链中找不到锚定哈希 {options['anchor']}：日志可能被整体改写。", returncode=1)
        self.stdout.write(f"审计日志哈希链完整：共 {report.count} 条记录，用时 {elapsed:.2f} 秒。")
        self.stdout.write(f"最新哈希：{report.head or '（空）'}")
