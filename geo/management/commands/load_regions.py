import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from geo.services import regions_load_files

DATA = Path(__file__).resolve().parent.parent.parent / "data"
DEFAULT_FILES = ["provinces.csv", "cities.csv", "areas.csv", "towns-4505.csv"]


class Command(BaseCommand):
    help = "导入统计用区划代码（NBS CSV 布局：code,name,…）。默认导入随项目附带的全国省市县及北海市乡镇。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", type=Path, help="CSV 文件，按省、市、县、乡镇顺序")
        parser.add_argument("--valid-from", type=dt.date.fromisoformat, default=dt.date(2022, 10, 31))

    def handle(self, *args: Any, **options: Any) -> None:
        files = options["files"] or [DATA / name for name in DEFAULT_FILES]
        result = regions_load_files(paths=files, on=options["valid_from"])
        self.stdout.write(
            f"区划导入完成：新增 {result.created}，更名 {result.renamed}，未变 {result.unchanged}"
        )
