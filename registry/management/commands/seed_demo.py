import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.models import demo_loaded
from registry.choices import CareType
from registry.demo import DemoError, DemoSummary, demo_seed


class Command(BaseCommand):
    help = (
        "导入演示数据：合浦县各乡镇的虚拟村（社区）、单位、约两万名儿童档案和每个角色一个演示账号。"
        "仅用于演示和测试环境；已导入过则不做任何修改。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2016, help="随机种子（同一种子生成相同数据）")
        parser.add_argument("--children", type=int, default=20000, help="儿童档案数")
        parser.add_argument(
            "--on", type=dt.date.fromisoformat, default=None, help="基准日期 YYYY-MM-DD，默认今天"
        )
        parser.add_argument("--password", default=None, help="所有演示账号的密码；默认每个账号随机生成")
        parser.add_argument(
            "--no-history", action="store_true", help="不写历史记录（仅用于性能测试的大数据量）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if demo_loaded():
            self.stdout.write("演示数据已导入过，本次未做任何修改。")
            return
        if options["children"] < 1:
            raise CommandError("--children 应为正整数。")
        on: dt.date = options["on"] or timezone.localdate()
        started = time.perf_counter()
        try:
            summary = demo_seed(
                seed=options["seed"],
                children=options["children"],
                on=on,
                password=options["password"],
                history=not options["no_history"],
                progress=self._progress(options["children"]) if options["verbosity"] > 1 else None,
            )
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self._report(summary, time.perf_counter() - started)
        # Visits for the demo accounts' files, then the risk colours and visit due dates of the
        # new files (issue 4), as the nightly job would.
        from care.demo import demo_visits_create
        from care.services import care_recompute_all

        visits = demo_visits_create(on=on, seed=options["seed"])
        self.stdout.write(f"演示走访记录 {visits} 条（演示村及指派给演示驻村干部、社工的儿童）。")
        from reports.demo import demo_reports_create

        reports = demo_reports_create(seed=options["seed"])
        self.stdout.write(f"演示强制报告 {reports} 份（一份已处置并通报乡镇，一份待派出所受理）。")
        from providers.demo import demo_providers_create

        providers = demo_providers_create(on=on)
        self.stdout.write(f"演示服务机构 {providers} 个（含儿童之家和县社工站），政府购买服务合同 1 份。")

        computing = time.perf_counter()
        counts = care_recompute_all(on=on)
        self.stdout.write(
            f"风险等级与走访截止日期已计算（{time.perf_counter() - computing:.1f} 秒）："
            f"{counts.get('total', 0)} 份档案。"
        )
        from submissions.demo import demo_round_create

        files = demo_round_create(on=on)
        self.stdout.write(f"演示报送轮次 1 个（演示村已报送 {files} 份档案，乡镇已审核通过；其余村未报送）。")
        from activities.demo import demo_activities_create

        activities = demo_activities_create(on=on)
        self.stdout.write(
            f"演示关爱活动 {activities} 场（演示村的儿童之家课后辅导、安全教育和家庭教育讲座）。"
        )
        from training.demo import demo_training_create

        sessions = demo_training_create(on=on)
        self.stdout.write(f"演示业务培训 {sessions} 期（演示儿童主任、督导员和教师已参加培训）。")
        # The dashboards' count tables and this month's trend point (issue 6), as the nightly
        # job would; the scheduler's tick keeps them current from here on.
        from stats.services import stats_nightly

        stats_nightly(on=on)
        self.stdout.write("统计分析数据已生成。")

    def _progress(self, total: int) -> Callable[[int], None]:
        """A progress callback that writes a line about every tenth of the way."""
        step = max(total // 10, 1)
        started = time.perf_counter()
        next_line = [step]

        def report(children: int) -> None:
            if children >= next_line[0] or children == total:
                next_line[0] = (children // step + 1) * step
                self.stdout.write(f"  已生成 {children} 份档案（{time.perf_counter() - started:.0f} 秒）")

        return report

    def _report(self, summary: DemoSummary, seconds: float) -> None:
        self.stdout.write(
            f"演示数据导入完成（{seconds:.1f} 秒）：村（社区）{summary.villages} 个，"
            f"新建单位 {summary.units} 个，儿童档案 {summary.children} 份（已退出 {summary.exited}），"
            f"父母 {summary.parents} 条，"
            f"受委托监护人 {summary.guardians} 条。"
        )
        labels = dict(CareType.choices)
        shares = "，".join(
            f"{labels[care]} {100 * count / summary.children:.1f}%"
            for care, count in summary.care.most_common()
        )
        self.stdout.write(f"监护类型：{shares}。")
        rows = [("用户名", "角色", "单位", "密码")]
        rows += [(a.username, a.role, a.unit, a.password) for a in summary.accounts]
        widths = [max(_width(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            self.stdout.write("  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)))
        self.stdout.write("请妥善保管以上密码；演示账号仅用于演示环境。")


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
