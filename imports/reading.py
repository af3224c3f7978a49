"""Reading an accepted spreadsheet (.xlsx, .xls, .ods, .csv) into header texts and raw rows.

The upload guard (core.uploads) has already accepted the file and decided its kind from its
bytes; this module finds the header row below title rows, joins two-level headers, fills
merged cells and returns the data rows as the file has them (no normalisation: that is
imports.normalise). Formula cells give the value the spreadsheet program cached.

python-calamine 0.9.1 facts this relies on (tests prove them): `iter_rows()` yields rows from
row 0 (leading blank rows included) but columns from the first used column (`start[1]`);
`merged_cell_ranges` are absolute ((row, col), (row, col)) pairs, None for .ods; covered
cells of a merge read as "".
"""

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from imports.columns import guess_mapping, header_key

Cell = str | int | float | bool | dt.date | dt.datetime | dt.timedelta | None

HEADER_SEARCH_ROWS = 20
MIN_HEADER_FIELDS = 3
NO_HEADER = "未找到表头：请确认表格中有“姓名”“身份证号”等列名。"
DAMAGED = "文件已损坏，无法读取。"
# A row whose first filled cell starts with one of these is a sign-off or total line.
SERIAL_HEADERS = frozenset({"序号", "编号", "序", "No.", "No", "NO", "NO."})
FOOTER_WORDS = ("合计", "总计", "小计", "填表人", "填报人", "制表人", "审核人", "复核人", "单位负责人")


@dataclass(frozen=True)
class RawRow:
    number: int  # the row number the user sees in the spreadsheet (1-based)
    cells: tuple[Cell, ...]  # aligned with Sheet.headers (padded/truncated)


@dataclass(frozen=True)
class Sheet:
    name: str  # sheet name ("" for csv)
    header_row: int  # row number of the (last) header row
    headers: tuple[str, ...]  # header texts as in the file; two-level headers joined ("父亲姓名")
    rows: list[RawRow]  # data rows below the header; blank rows and a "合计"/"填表人" footer skipped


class ImportFileError(Exception):
    """The file cannot be read as a ledger; `message` is the Chinese reason for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_sheet(path: Path, kind: str) -> Sheet:
    """Read the first sheet whose header row can be found (kind: "xlsx", "xls", "ods", "csv")
    or raise ImportFileError."""
    if kind == "csv":
        return _read_csv(path)
    if kind in ("xlsx", "xls", "ods"):
        return _read_workbook(path)
    raise ValueError(f"unknown kind: {kind}")


# --- workbooks ---------------------------------------------------------------------------------


def _read_workbook(path: Path) -> Sheet:
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum

    try:
        with CalamineWorkbook.from_path(str(path)) as workbook:
            for meta in workbook.sheets_metadata:
                if meta.visible != SheetVisibleEnum.Visible:
                    continue  # hidden sheets hold code lists, not the ledger
                grid = _sheet_grid(workbook.get_sheet_by_name(meta.name))
                sheet = _sheet_from_grid(meta.name, grid)
                if sheet is not None:
                    return sheet
    except CalamineError as exc:
        raise ImportFileError(DAMAGED) from exc
    raise ImportFileError(NO_HEADER)


def _sheet_grid(sheet: Any) -> list[list[Any]]:
    """All rows, indexed from row 0 (absolute), merged ranges filled with their value."""
    rows: list[list[Any]] = list(sheet.iter_rows())
    start, end = sheet.start, sheet.end
    if start is None or end is None:
        return []
    # iter_rows() starts at row 0 in 0.9.1; should a later version start at start[0], pad.
    if len(rows) < end[0] + 1:
        rows[:0] = [[] for _ in range(end[0] + 1 - len(rows))]
    column_offset = start[1]
    for (top, left), (bottom, right) in sheet.merged_cell_ranges or ():
        _fill(rows, top, left - column_offset, bottom, right - column_offset)
    return rows


def _fill(rows: list[list[Any]], top: int, left: int, bottom: int, right: int) -> None:
    if top >= len(rows) or left < 0 or left >= len(rows[top]):
        return
    value = rows[top][left]
    for row in rows[top : bottom + 1]:
        stop = min(right + 1, len(row))
        if left < stop:
            row[left:stop] = [value] * (stop - left)


# --- csv ---------------------------------------------------------------------------------------


def _read_csv(path: Path) -> Sheet:
    from core.uploads import UploadRejected, csv_encoding

    try:
        encoding = csv_encoding(path)
    except UploadRejected as exc:
        raise ImportFileError(exc.message) from exc
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        try:
            grid: list[list[Any]] = list(csv.reader(text))
        except csv.Error as exc:
            raise ImportFileError(DAMAGED) from exc
    sheet = _sheet_from_grid("", grid)
    if sheet is None:
        raise ImportFileError(NO_HEADER)
    return sheet


# --- header and rows ---------------------------------------------------------------------------


def _sheet_from_grid(name: str, grid: list[list[Any]]) -> Sheet | None:
    found = _find_header(grid[:HEADER_SEARCH_ROWS])
    if found is None:
        return None
    header_index, headers = found
    return Sheet(
        name=name,
        header_row=header_index + 1,
        headers=headers,
        rows=list(_data_rows(grid, header_index + 1, headers)),
    )


def _find_header(top: list[list[Any]]) -> tuple[int, tuple[str, ...]] | None:
    """The row (and the row above it, for a two-level header) whose texts name the most
    fields; at least MIN_HEADER_FIELDS."""
    texts = [[_text(cell) for cell in row] for row in top]
    best: tuple[int, int, tuple[str, ...]] | None = None  # (score, row index, headers)
    for index, row in enumerate(texts):
        candidates = [_trim(row)]
        if index > 0:
            candidates.append(_trim(_join(texts[index - 1], row)))
        for headers in candidates:
            score = len(guess_mapping(headers))
            if score >= MIN_HEADER_FIELDS and (best is None or score > best[0]):
                best = (score, index, headers)
    return None if best is None else (best[1], best[2])


def _join(upper: list[str], lower: list[str]) -> list[str]:
    """Two header rows as one: "父亲" over "姓名" is "父亲姓名". A group label written once
    (a merge calamine cannot report, as in .ods) spans the empty cells to its right that have
    a sub-header below them."""
    width = max(len(upper), len(lower))
    upper = upper + [""] * (width - len(upper))
    lower = lower + [""] * (width - len(lower))
    filled = list(upper)
    for column in range(1, width):
        group = filled[column - 1]
        has_subheaders = lower[column - 1] and lower[column]
        if not filled[column] and group and has_subheaders and group != lower[column - 1]:
            filled[column] = group
    return [
        top + bottom if top and bottom and top != bottom else (top or bottom)
        for top, bottom in zip(filled, lower, strict=True)
    ]


def _trim(headers: list[str]) -> tuple[str, ...]:
    end = len(headers)
    while end and not headers[end - 1]:
        end -= 1
    return tuple(headers[:end])


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return " ".join(str(cell).split())


def _data_rows(grid: list[list[Any]], first: int, headers: tuple[str, ...]) -> Iterator[RawRow]:
    width = len(headers)
    padding = ("",) * width
    # A template's pre-numbered rows (序号 1, 2, 3… and nothing else) are blank rows.
    content = [i for i, header in enumerate(headers) if header_key(header) not in SERIAL_HEADERS]
    for index in range(first, len(grid)):
        row = grid[index]
        cells = tuple(row[:width])
        if len(cells) < width:
            cells += padding[len(cells) :]
        head = next((cell for cell in cells if cell != "" and cell is not None), None)
        if isinstance(head, str) and head.lstrip().startswith(FOOTER_WORDS):
            continue
        lead = next((cells[i] for i in content if cells[i] != "" and cells[i] is not None), None)
        if lead is None:
            continue
        if isinstance(lead, str) and not lead.strip() and not any(_text(cells[i]) for i in content):
            continue
        yield RawRow(number=index + 1, cells=cast(tuple[Cell, ...], cells))
