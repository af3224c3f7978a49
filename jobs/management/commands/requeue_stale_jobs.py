"""manage.py requeue_stale_jobs [--every SECONDS]: the job reaper (RE-4).

Run it every minute (cron, systemd timer) or as a long-lived process with --every 60; see
docs/operations.md. Several copies on several hosts are safe.
"""

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from jobs.services import jobs_requeue_stale


class Command(BaseCommand):
    help = "重新排队租约已过期的后台任务；超过最多尝试次数的标记为失败。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--every", type=float, default=0, metavar="SECONDS", help="每隔 SECONDS 秒运行一次，直到被停止"
        )

    def handle(self, *args: Any, every: float, **options: Any) -> None:
        if every < 0:
            raise CommandError("--every 不能为负数")
        while True:
            report = jobs_requeue_stale()
            changed = report.requeued or report.failed or report.reenqueued
            if options["verbosity"] >= 1 and (every == 0 or changed):
                self.stdout.write(
                    f"重新排队 {report.requeued} 个，标记失败 {report.failed} 个，"
                    f"补发唤醒 {report.reenqueued} 个"
                )
            if not every:
                return
            time.sleep(every)
            close_old_connections()  # as a request would: drop a broken or expired connection
