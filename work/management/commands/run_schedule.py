"""manage.py run_schedule [--once | --every SECONDS]: the scheduler of the nightly job and of
the mandatory reports' escalation clock, and the statistics' refresh.

Each tick escalates every mandatory report left unacknowledged past its county's window
(reports.services.escalations_run: 30 and 120 minutes by default; idempotent, so several
schedulers may tick at once), refreshes the statistics' count tables for the villages whose
files changed since the last tick (stats.services.stats_refresh_tick), and submits work.nightly
for the day once the local time has passed SHOUHU_NIGHTLY_AT (default 02:00). Run it as a
long-lived process (--every 60) or from cron/systemd every minute (--once). Several copies on
several hosts still make one job per date (docs/operations.md).
"""

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from reports.services import escalations_run
from stats.services import stats_refresh_tick
from work.scheduler import nightly_at, nightly_submit_due


class Command(BaseCommand):
    help = "到达 SHOUHU_NIGHTLY_AT 后提交当天的夜间任务（work.nightly）；同一天只会有一个任务。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="检查一次后退出（默认）")
        parser.add_argument(
            "--every", type=float, default=0, metavar="SECONDS", help="每隔 SECONDS 秒检查一次，直到被停止"
        )

    def handle(self, *args: Any, once: bool, every: float, **options: Any) -> None:
        if every < 0:
            raise CommandError("--every 不能为负数")
        if once and every:
            raise CommandError("--once 与 --every 只能选一个")
        nightly_at()  # a malformed SHOUHU_NIGHTLY_AT fails here, not at night
        announced: set[str] = set()
        while True:
            escalated = escalations_run(now=timezone.now())
            stats_refresh_tick()  # the dashboards' counts, current within a minute (issue 6)
            if escalated and options["verbosity"] >= 1:
                self.stdout.write(f"强制报告超时升级 {len(escalated)} 件")
            job = nightly_submit_due()
            if options["verbosity"] >= 1:
                if job is None and not every:
                    self.stdout.write("未到运行时间")
                elif job is not None and job.idempotency_key not in announced:
                    announced.add(job.idempotency_key)
                    self.stdout.write(f"夜间任务 {job.idempotency_key}：{job.get_state_display()}")
            if not every:
                return
            time.sleep(every)
            close_old_connections()
