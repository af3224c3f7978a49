from typing import Any

from django.core.management.base import BaseCommand

from accounts.tasks import disable_dormant


class Command(BaseCommand):
    help = (
        "停用闲置账号（AC-7）：超过安全策略规定天数（默认 90 天）未使用、或已过有效期的账号；"
        "停用即结束其会话。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        names = disable_dormant()
        if not names:
            self.stdout.write("没有需要停用的账号。")
            return
        self.stdout.write(f"已停用 {len(names)} 个账号：{'、'.join(names)}")
