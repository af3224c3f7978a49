"""Reading accepted files: the header below title rows, merged and two-level headers, the row
numbers the user sees, cached formula values, blank and footer rows."""

import datetime as dt
from pathlib import Path

import pytest

from imports.reading import DAMAGED, NO_HEADER, ImportFileError, read_sheet
from imports.tests.corpus import (
    BIRTH_1,
    ID_1,
    Layout,
    formulas,
    national_form,
    write_csv,
    write_ods,
    write_xls,
    write_xlsx,
)

FORM_HEADERS = (
    *(
        "序号",
        "乡镇",
        "村（社区）",
        "姓名",
        "性别",
        "出生日期",
        "公民身份号码",
        "民族",
        "就学情况",
        "监护类型",
    ),
    *("父亲姓名", "父亲联系电话", "父亲当前务工地点", "母亲姓名", "母亲联系电话", "母亲当前务工地点"),
    *("受委托监护人姓名", "受委托监护人与被监护人关系", "受委托监护人联系电话"),
)


@pytest.mark.parametrize(
    ("suffix", "write"),
    [
        ("xlsx", write_xlsx),
        ("xls", write_xls),
        ("ods", write_ods),
        ("csv", lambda layout, path: write_csv(layout, path, encoding="gb18030")),
    ],
)
def test_it_joins_a_two_level_header_below_title_rows(suffix: str, write: object, tmp_path: Path) -> None:
    path = write(national_form(), tmp_path / f"f.{suffix}")  # type: ignore[operator]
    sheet = read_sheet(path, suffix)
    assert sheet.headers == FORM_HEADERS
    assert sheet.header_row == 4
    assert [row.number for row in sheet.rows] == [5, 6, 7]  # the footer rows are skipped
    assert sheet.rows[0].cells[3] == "张小明"
    assert len(sheet.rows[0].cells) == len(FORM_HEADERS)


def test_row_numbers_are_those_the_user_sees_when_the_sheet_starts_lower_and_further_right(
    tmp_path: Path,
) -> None:
    layout = Layout()
    layout.row(2, ["姓名", "身份证号", "就学情况"], start=3)  # D3
    layout.row(4, ["张三", ID_1, "小学"], start=3)  # D5, a blank row between
    sheet = read_sheet(write_xlsx(layout, tmp_path / "s.xlsx"), "xlsx")
    assert sheet.header_row == 3
    assert sheet.headers == ("姓名", "身份证号", "就学情况")
    assert [(row.number, row.cells) for row in sheet.rows] == [(5, ("张三", ID_1, "小学"))]


def test_the_value_a_formula_cell_cached_is_what_is_read(tmp_path: Path) -> None:
    sheet = read_sheet(write_xlsx(formulas(), tmp_path / "f.xlsx"), "xlsx")
    first, second = sheet.rows
    assert first.cells[0] == "张小明"  # =CONCATENATE("张","小明")
    assert first.cells[2] == 40972  # =DATE(2012,3,4), an unformatted serial
    assert second.cells[5] == "甲一村委会"  # =F2


def test_a_date_cell_is_read_as_a_date(tmp_path: Path) -> None:
    layout = Layout()
    layout.row(0, ["姓名", "出生日期", "就学情况"])
    layout.row(1, ["张三", BIRTH_1, "小学"])
    for suffix, write in (("xlsx", write_xlsx), ("xls", write_xls), ("ods", write_ods)):
        sheet = read_sheet(write(layout, tmp_path / f"d.{suffix}"), suffix)
        value = sheet.rows[0].cells[1]
        assert isinstance(value, dt.date) and value.isoformat()[:10] == "2012-03-04", suffix


def test_a_group_label_written_once_spans_its_subheaders_without_a_merge(tmp_path: Path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("姓名,父亲,,母亲,\r\n,姓名,联系电话,姓名,联系电话\r\n张三,张父,13800000001,李母,\r\n")
    sheet = read_sheet(path, "csv")
    assert sheet.headers == ("姓名", "父亲姓名", "父亲联系电话", "母亲姓名", "母亲联系电话")
    assert sheet.rows[0].cells == ("张三", "张父", "13800000001", "李母", "")


def test_short_and_long_csv_rows_are_aligned_with_the_headers(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("姓名,身份证号,就学情况\n张三\n李四,x,小学,多余\n", encoding="utf-8")
    sheet = read_sheet(path, "csv")
    assert [row.cells for row in sheet.rows] == [("张三", "", ""), ("李四", "x", "小学")]


def test_blank_rows_prenumbered_rows_and_footers_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    lines = [
        "序号,姓名,身份证号,就学情况",
        "1,张三,,小学",
        ",,,",
        "2, ,　,",  # spaces and an ideographic space only
        "3,,,",  # a template's numbered empty row
        "4,李四,,初中",
        "合计,2人,,",
        "填表人：王五,,审核人：赵六,",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    sheet = read_sheet(path, "csv")
    assert [(row.number, row.cells[1]) for row in sheet.rows] == [(2, "张三"), (6, "李四")]


def test_the_first_sheet_with_a_header_is_read(tmp_path: Path) -> None:
    sheet = read_sheet(write_xlsx(national_form(), tmp_path / "n.xlsx", extra_first_sheet=True), "xlsx")
    assert sheet.name == "台账"


def test_a_file_without_a_header_is_refused_in_chinese(tmp_path: Path) -> None:
    layout = Layout()
    layout.row(0, ["姓名"])  # one recognised column is not a header
    layout.row(1, ["张三"])
    with pytest.raises(ImportFileError) as refused:
        read_sheet(write_xlsx(layout, tmp_path / "h.xlsx"), "xlsx")
    assert refused.value.message == NO_HEADER


def _header_after(titles: int) -> Layout:
    layout = Layout()
    for row in range(titles):
        layout.row(row, [f"说明第{row + 1}行"])
    layout.row(titles, ["姓名", "身份证号", "就学情况"])
    layout.row(titles + 1, ["张三", ID_1, "小学"])
    return layout


def test_a_header_below_the_first_twenty_rows_is_not_looked_for(tmp_path: Path) -> None:
    assert read_sheet(write_xlsx(_header_after(19), tmp_path / "ok.xlsx"), "xlsx").header_row == 20
    with pytest.raises(ImportFileError):
        read_sheet(write_xlsx(_header_after(20), tmp_path / "late.xlsx"), "xlsx")


def test_a_damaged_workbook_is_refused_in_chinese(tmp_path: Path) -> None:
    whole = write_xlsx(national_form(), tmp_path / "w.xlsx").read_bytes()
    damaged = tmp_path / "d.xlsx"
    damaged.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ImportFileError) as refused:
        read_sheet(damaged, "xlsx")
    assert refused.value.message == DAMAGED


def test_a_hidden_sheet_is_not_read(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "hidden.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    hidden = workbook.add_worksheet("旧台账")
    hidden.write_row(0, 0, ["姓名", "身份证号", "就学情况"])
    hidden.write_row(1, 0, ["旧数据", ID_1, "小学"])
    visible = workbook.add_worksheet("台账")
    visible.write_row(0, 0, ["姓名", "身份证号", "就学情况"])
    visible.write_row(1, 0, ["新数据", ID_1, "小学"])
    visible.activate()
    hidden.hide()
    workbook.close()
    sheet = read_sheet(path, "xlsx")
    assert (sheet.name, sheet.rows[0].cells[0]) == ("台账", "新数据")
