from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import events, services


class Command(BaseCommand):
    help = (
        "创建系统管理员账号（AU-1）：在本县民政局（缺少时自动创建）授予系统管理员角色，"
        "打印一次性随机密码；首次登录须修改密码并绑定动态验证码。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="登录用户名")
        parser.add_argument("--full-name", required=True, help="姓名")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user, password = services.admin_create(
                username=options["username"], full_name=options["full_name"]
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        events.record(None, "user_create", events.SUCCESS, object_id=user.pk, role="system_admin", via="cli")
        self.stdout.write(f"已创建系统管理员 {user.username}（{user.full_name}）。")
        self.stdout.write(f"一次性密码（只显示这一次）：{password}")
        self.stdout.write("首次登录后须修改密码，并用手机验证器绑定动态验证码。")
