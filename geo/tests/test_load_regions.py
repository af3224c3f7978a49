import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from geo.models import Region, RegionLevel


def test_it_loaded_hepu_with_its_fifteen_townships(db) -> None:
    hepu = Region.objects.get(code="450521", valid_to__isnull=True)
    assert hepu.name == "合浦县" and hepu.level == RegionLevel.COUNTY
    assert hepu.parent.name == "北海市" and hepu.parent.parent.name == "广西壮族自治区"
    townships = Region.objects.filter(parent=hepu, valid_to__isnull=True)
    assert townships.count() == 15
    assert {"廉州镇", "星岛湖镇", "曲樟乡"} <= set(townships.values_list("name", flat=True))


def test_it_loads_villages_and_is_idempotent(db, tmp_path: Path, capsys) -> None:
    csv = tmp_path / "villages.csv"
    csv.write_text("code,name\n450521100201,沙场村委会\n450521100202,西门江社区\n", encoding="utf-8")
    call_command("load_villages", str(csv))
    call_command("load_villages", str(csv))
    assert "新增 0，更名 0，未变 2" in capsys.readouterr().out
    village = Region.objects.get(code="450521100201")
    assert village.level == RegionLevel.VILLAGE and village.parent.name == "廉州镇"


def test_it_keeps_history_when_a_region_is_renamed(db, tmp_path: Path) -> None:
    csv = tmp_path / "villages.csv"
    csv.write_text("code,name\n450521100201,沙场村委会\n", encoding="utf-8")
    call_command("load_villages", str(csv), "--valid-from", "2023-01-01")
    old = Region.objects.get(code="450521100201")
    csv.write_text("code,name\n450521100201,沙场社区\n", encoding="utf-8")
    call_command("load_villages", str(csv), "--valid-from", "2025-06-01")
    old.refresh_from_db()
    new = Region.objects.get(code="450521100201", valid_to__isnull=True)
    assert old.valid_to == dt.date(2025, 6, 1) and old.successor == new and old.name == "沙场村委会"
    assert new.name == "沙场社区" and new.valid_from == dt.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code,name\n4505211002,半截代码\n", "第 3 行：区划代码 4505211002 应为 12 位"),
        ("code,name\n450521101,一个乡镇\n", "应为 12 位"),
        ("code,name\n450521999201,无上级\n", "上级区划尚未导入"),
    ],
)
def test_it_refuses_bad_codes_and_writes_nothing(db, tmp_path: Path, content: str, message: str) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("code,name\n450521100203,好的村\n" + content.split("\n", 1)[1], encoding="utf-8")
    with pytest.raises(ValidationError, match=message):
        call_command("load_villages", str(csv))
    assert not Region.objects.filter(code="450521100203").exists()


def test_it_explains_a_missing_file(db) -> None:
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("load_villages", "/nonexistent/villages.csv")
