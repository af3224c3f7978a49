"""manage.py stats_refresh [--full] [--snapshot]: refresh the count tables now.

Without options it does what the scheduler tick does (the villages changed since the last
refresh); --full rebuilds everything (after a bulk load such as seed_demo, or a change of the
regions); --snapshot also takes this month's snapshot for the trend charts.
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from stats.services import stats_refresh, stats_refresh_tick, stats_snapshot_month


class Command(BaseCommand):
    help = "刷新统计分析的预汇总数据（默认只重算有变化的村；--full 全量重算；--snapshot 同时生成本月快照）。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--full", action="store_true", help="全量重算")
        parser.add_argument("--snapshot", action="store_true", help="同时生成本月快照")

    def handle(self, *args: Any, full: bool, snapshot: bool, **options: Any) -> None:
        report = stats_refresh(since=None) if full else stats_refresh_tick()
        scope = "全部村（社区）" if report.full else f"{report.villages} 个村（社区）"
        self.stdout.write(
            f"已刷新{scope}、{report.townships} 个乡镇、{report.counties} 个县："
            f"人数统计 {report.count_rows} 行，考核指标 {report.indicator_rows} 行"
        )
        if snapshot:
            rows = stats_snapshot_month()
            self.stdout.write(f"本月快照 {rows} 行")
