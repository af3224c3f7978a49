"""Loading regions. A code whose name changed is renamed by ending the old row and starting
a new one, so history keeps the old name (R28 note, divisions README)."""

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from geo.models import CODE_LENGTH, Region, RegionLevel

LEVEL_BY_LENGTH = {length: level for level, length in CODE_LENGTH.items()}
PARENT_LENGTH = {4: 2, 6: 4, 9: 6, 12: 9}


@dataclass
class LoadResult:
    created: int = 0
    renamed: int = 0
    unchanged: int = 0


def _read_rows(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [(row["code"].strip(), row["name"].strip()) for row in csv.DictReader(handle)]


@transaction.atomic
def regions_load(*, rows: list[tuple[str, str]], on: dt.date) -> LoadResult:
    """Insert or rename regions; rows must come parents first (shorter codes first)."""
    result = LoadResult()
    current = {r.code: r for r in Region.objects.filter(valid_to__isnull=True)}
    for code, name in sorted(rows, key=lambda row: (len(row[0]), row[0])):
        level = LEVEL_BY_LENGTH.get(len(code))
        if level is None or not code.isdigit():
            raise ValidationError(f"区划代码 {code} 应为 2、4、6、9 或 12 位数字。")
        parent = None
        if len(code) in PARENT_LENGTH:
            parent = current.get(code[: PARENT_LENGTH[len(code)]])
            if parent is None:
                raise ValidationError(f"区划代码 {code} 的上级区划尚未导入。")
        existing = current.get(code)
        if existing is not None and existing.name == name:
            result.unchanged += 1
            continue
        region = Region(code=code, name=name, level=RegionLevel(level), parent=parent, valid_from=on)
        if existing is not None:
            Region.objects.filter(pk=existing.pk).update(valid_to=on)
            region.save()
            Region.objects.filter(pk=existing.pk).update(successor=region)
            result.renamed += 1
        else:
            region.save()
            result.created += 1
        current[code] = region
    return result


def regions_load_files(*, paths: list[Path], on: dt.date, level: str | None = None) -> LoadResult:
    """Load CSV files; with `level`, every code must be of that level (e.g. villages)."""
    rows: list[tuple[str, str]] = []
    for path in paths:
        rows.extend(_read_rows(path))
    if level is not None:
        length = CODE_LENGTH[RegionLevel(level)]
        for line, (code, _name) in enumerate(rows, start=2):
            if len(code) != length:
                raise ValidationError(f"第 {line} 行：区划代码 {code} 应为 {length} 位。")
    return regions_load(rows=rows, on=on)
