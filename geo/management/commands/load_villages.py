import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from geo.models import RegionLevel
from geo.services import regions_load_files


class Command(BaseCommand):
    help = "导入村（社区）：CSV 文件，列为 code,name，code 为 12 位统计用区划代码。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--valid-from", type=dt.date.fromisoformat, default=None, help="生效日期，默认今天"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"找不到文件：{path}")
        on = options["valid_from"] or timezone.localdate()
        result = regions_load_files(paths=[path], on=on, level=RegionLevel.VILLAGE)
        self.stdout.write(
            f"村（社区）导入完成：新增 {result.created}，更名 {result.renamed}，未变 {result.unchanged}"
        )
