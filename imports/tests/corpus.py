"""A corpus of messy ledgers, built by the tests themselves, each with its expected outcome.

Every file is what village and township staff really send: title rows above the header, a
"填报单位" line, merged cells, two-level headers (父亲 over 姓名/联系电话/务工地点), numbers
where text was meant (ID numbers Excel has rounded), every way of writing a date, full-width
digits and spaces, the same child twice, rows of another township, formula cells, a footer
with totals and signatures, a file that is not a spreadsheet. Formats: .xlsx (XlsxWriter),
.xls (xlwt), .ods (the ODF zip written by hand), .csv in UTF-8, UTF-8 with BOM and GB18030.

The regions are testing.world's: 廉州镇 (villages 甲一村委会, 甲二村委会), 党江镇 (乙一村委会).
"""

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from core import idnumber
from core.uploads import NOT_WORKBOOK
from imports.normalise import DATE_FORMAT, DATE_MISSING_DAY, ID_LOST_DIGITS
from imports.reading import NO_HEADER
from imports.regions import OUT_OF_SCOPE

# --- the children of the corpus -----------------------------------------------------------------

BIRTH_1 = dt.date(2012, 3, 4)
BIRTH_2 = dt.date(2014, 11, 20)
BIRTH_3 = dt.date(2019, 7, 8)
ID_1 = idnumber.make("450521", BIRTH_1, 123)  # male (odd)
ID_2 = idnumber.make("450521", BIRTH_2, 124)  # female
ID_3 = idnumber.make("450521", BIRTH_3, 125)  # male
ID_FATHER = idnumber.make("450521", dt.date(1985, 1, 2), 11)


@dataclass
class Layout:
    """A sheet as cells (0-based row, column) → value; merges as (top, left, bottom, right);
    formulas as (row, column) → (formula, cached value)."""

    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    formulas: dict[tuple[int, int], tuple[str, Any]] = field(default_factory=dict)
    name: str = "台账"

    def row(self, index: int, values: list[Any], start: int = 0) -> None:
        for offset, value in enumerate(values):
            if value is not None:
                self.cells[(index, start + offset)] = value

    def merge(self, top: int, left: int, bottom: int, right: int, value: Any) -> None:
        self.cells[(top, left)] = value
        self.merges.append((top, left, bottom, right))

    @property
    def height(self) -> int:
        return max(r for r, _c in self.cells) + 1

    @property
    def width(self) -> int:
        return max(c for _r, c in self.cells) + 1


TITLE = "合浦县农村留守儿童信息台账"
UNIT_LINE = "填报单位：合浦县廉州镇人民政府        填报日期：2024年6月1日"
SINGLE = [
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
]
GROUPS = [
    ("父亲", ["姓名", "联系电话", "当前务工地点"]),
    ("母亲", ["姓名", "联系电话", "当前务工地点"]),
    ("受委托监护人", ["姓名", "与被监护人关系", "联系电话"]),
]
FORM_ROWS: list[list[Any]] = [
    [
        *(1, "廉州镇", "甲一村委会", "张小明", "男", BIRTH_1, ID_1, "汉族", "小学", "监护情况较好"),
        *("张大山", 13800138000, "广东省东莞市", "李秀英", 13900139000, "广东广州"),
        *("张老汉", "祖父", 13700137000),
    ],
    [
        *(2, "廉州镇", "甲二村委会", "李小红", "女", BIRTH_2, ID_2, "壮族", "初中", "无人监护"),
        *("—", None, None, "陈芳", "13600136000", "浙江省宁波市", None, None, None),
    ],
    [
        *(3, "党江镇", "乙一村委会", "王小刚", "男", BIRTH_3, ID_3, "汉", "幼儿园", "（外）祖父母照料"),
        *("王强", "13500135000", "广东深圳", "赵丽", "13400134000", "广东深圳"),
        *("王奶奶", "奶奶", "13300133000"),
    ],
]


def national_form() -> Layout:
    """MF42 附件1/附件2 as counties circulate it: two title lines, a two-level header with the
    single headers merged down, data, then totals and signatures."""
    layout = Layout()
    width = len(SINGLE) + sum(len(subs) for _g, subs in GROUPS)
    layout.merge(0, 0, 0, width - 1, TITLE)
    layout.merge(1, 0, 1, width - 1, UNIT_LINE)
    for column, header in enumerate(SINGLE):
        layout.merge(2, column, 3, column, header)
    column = len(SINGLE)
    for group, subs in GROUPS:
        layout.merge(2, column, 2, column + len(subs) - 1, group)
        layout.row(3, subs, start=column)
        column += len(subs)
    for offset, values in enumerate(FORM_ROWS):
        layout.row(4 + offset, values)
    footer = 4 + len(FORM_ROWS)
    layout.merge(footer, 0, footer, 2, "合计：3 人")
    layout.row(footer + 2, ["填表人：李四", None, None, "审核人：王五", None, None, "单位负责人：赵六"])
    return layout


# Rows of the national form, as the user sees them.
FORM_HEADER_ROW = 4
FORM_DATA = (5, 6, 7)


# --- writers -------------------------------------------------------------------------------------


def write_xlsx(layout: Layout, path: Path, *, extra_first_sheet: bool = False) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    if extra_first_sheet:
        notes = workbook.add_worksheet("填表说明")
        notes.write(0, 0, "填表说明：身份证号码请设置为文本格式。")
        notes.write(1, 0, "出生日期请写成 2010-05-03。")
    sheet = workbook.add_worksheet(layout.name)
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    merged = {(top, left) for top, left, _b, _r in layout.merges}
    for top, left, bottom, right in layout.merges:
        sheet.merge_range(top, left, bottom, right, layout.cells[(top, left)])
    for (row, column), value in layout.cells.items():
        if (row, column) in merged:
            continue
        if isinstance(value, dt.date):
            sheet.write_datetime(row, column, dt.datetime.combine(value, dt.time()), date_format)
        elif isinstance(value, str):
            sheet.write_string(row, column, value)
        else:
            sheet.write(row, column, value)
    for (row, column), (formula, cached) in layout.formulas.items():
        sheet.write_formula(row, column, formula, None, cached)
    workbook.close()
    return path


def write_xls(layout: Layout, path: Path) -> Path:
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet(layout.name)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    merged = {(top, left) for top, left, _b, _r in layout.merges}
    for top, left, bottom, right in layout.merges:
        sheet.write_merge(top, bottom, left, right, layout.cells[(top, left)])
    for (row, column), value in layout.cells.items():
        if (row, column) in merged:
            continue
        if isinstance(value, dt.date):
            sheet.write(row, column, value, date_style)
        else:
            sheet.write(row, column, value)
    workbook.save(str(path))
    return path


ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"'
)
ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIMETYPE}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _ods_cell(value: Any, span: tuple[int, int] | None) -> str:
    spans = f' table:number-columns-spanned="{span[1]}" table:number-rows-spanned="{span[0]}"' if span else ""
    if value is None:
        return f"<table:table-cell{spans}/>"
    if isinstance(value, dt.date):
        kind = f'office:value-type="date" office:date-value="{value.isoformat()}"'
    elif isinstance(value, int | float) and not isinstance(value, bool):
        kind = f'office:value-type="float" office:value="{value}"'
    else:
        kind = 'office:value-type="string"'
    return f"<table:table-cell {kind}{spans}><text:p>{escape(str(value))}</text:p></table:table-cell>"


def write_ods(layout: Layout, path: Path) -> Path:
    """The ODF zip by hand: mimetype first and stored, content.xml, the manifest. Merges are
    spans with covered cells, as LibreOffice writes them."""
    spans = {(t, left): (b - t + 1, r - left + 1) for t, left, b, r in layout.merges}
    covered = {
        (row, column)
        for t, left, b, r in layout.merges
        for row in range(t, b + 1)
        for column in range(left, r + 1)
        if (row, column) != (t, left)
    }
    rows = []
    for row in range(layout.height):
        cells = [
            "<table:covered-table-cell/>"
            if (row, column) in covered
            else _ods_cell(layout.cells.get((row, column)), spans.get((row, column)))
            for column in range(layout.width)
        ]
        rows.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS}>'
        f'<office:body><office:spreadsheet><table:table table:name="{escape(layout.name)}">{"".join(rows)}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", ODS_MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return f"{value.year}/{value.month}/{value.day}"  # as Excel on Chinese Windows saves it
    return str(value)


def write_csv(layout: Layout, path: Path, *, encoding: str) -> Path:
    """As Excel saves a sheet as CSV: merged cells keep their value in the first cell only."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in range(layout.height):
        writer.writerow([_csv_text(layout.cells.get((row, column))) for column in range(layout.width)])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


# --- expectations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    rows: tuple[int, ...] = ()  # the row numbers read, as the user sees them
    errors: frozenset[tuple[int, str]] = frozenset()  # (row, column header) with an error, exactly
    reasons: dict[tuple[int, str], str] = field(default_factory=dict)  # some reasons, verbatim
    values: dict[int, dict[str, Any]] = field(default_factory=dict)  # row → {"child.x"|"father.x"|…}
    header_row: int | None = None
    headers: tuple[str, ...] = ()  # some joined headers that must be there
    refused: str | None = None  # the upload guard refuses the file with this message
    file_error: str | None = None  # read_sheet raises ImportFileError with this message


@dataclass(frozen=True)
class CorpusFile:
    name: str  # the name the user uploads it under
    build: Callable[[Path], Path]  # writes the file into a directory, returns its path
    kind: str  # what the upload guard must decide from the bytes ("" if refused)
    expect: Expect
    persona: str = "county_admin"  # who imports it (testing.world)


FORM_VALUES: dict[int, dict[str, Any]] = {
    5: {
        "child.name": "张小明",
        "child.id_number": ID_1,
        "child.birth_date": BIRTH_1,
        "child.sex": "M",
        "child.schooling": "primary",
        "child.guardianship_rating": "good",
        "village": "450521100201",
        "father.name": "张大山",
        "father.phone": "13800138000",
        "father.work_province": "44",
        "father.work_city": "4419",
        "mother.work_city": "4401",
        "guardian.relation": "grandfather",
        "guardian.phone": "13700137000",
    },
    6: {
        "child.ethnicity": "壮族",
        "child.care_type": "unsupervised",
        "child.guardianship_rating": "poor",
        "father.status": "deceased",
        "mother.work_province": "33",
        "village": "450521100202",
        "guardian": None,
    },
    7: {
        "child.ethnicity": "汉族",
        "child.schooling": "kindergarten",
        "child.care_type": "grandparents",
        "village": "450521101201",
        "guardian.relation": "grandmother",
    },
}
FORM_HEADERS = ("姓名", "父亲姓名", "父亲联系电话", "母亲当前务工地点", "受委托监护人与被监护人关系")
FORM_EXPECT = Expect(rows=FORM_DATA, values=FORM_VALUES, header_row=FORM_HEADER_ROW, headers=FORM_HEADERS)


def _form(writer: Callable[[Layout, Path], Path], name: str) -> Callable[[Path], Path]:
    return lambda directory: writer(national_form(), directory / name)


# --- the messy files -----------------------------------------------------------------------------


def numeric_ids() -> Layout:
    """ID numbers typed into number cells: Excel keeps 15 significant digits."""
    layout = Layout()
    layout.row(0, ["姓名", "性别", "身份证号", "就学情况", "村", "父亲联系电话"])
    layout.row(1, ["张一", "男", float(ID_1.replace("X", "0")), "小学", "甲一村", 13800000001])
    layout.row(2, ["张二", "女", ID_2, "小学", "甲一村", "138 0000 0002"])
    layout.row(3, ["张三", "男", int(ID_3[:15]), "小学", "甲一村", None])
    return layout


def every_date() -> Layout:
    """A birth-date column written every way people write it; no ID numbers."""
    layout = Layout()
    layout.row(0, ["儿童姓名", "性别", "出生年月日", "就学情况", "所属村"])
    forms: list[Any] = [
        dt.date(2010, 5, 3),  # a date cell
        40301,  # an Excel serial in a General cell (2010-05-03)
        "2010-05-03",
        "2010.5.3",
        "2010/5/3",
        "2010年5月3日",
        "20100503",
        20100503,
        "２０１０－０５－０３",  # full-width
        "五月三日",  # nonsense
        "2010-02-30",  # no such day
        "2010.05",  # no day
    ]
    for offset, value in enumerate(forms):
        layout.row(1 + offset, [f"孩子{offset + 1}", "女", value, "小学", "甲一村委会"])
    return layout


EVERY_DATE_GOOD = tuple(range(2, 11))
EVERY_DATE_BAD = {11: DATE_FORMAT, 12: "日期不存在：2010年2月30日", 13: DATE_MISSING_DAY}


def formulas() -> Layout:
    """Formula cells: what the spreadsheet program cached is what we import."""
    layout = Layout()
    layout.row(0, ["姓名", "性别", "出生日期", "身份证号码", "就学情况", "村（社区）"])
    layout.row(1, [None, "男", None, ID_1, "小学", "甲一村委会"])
    layout.formulas[(1, 0)] = ('=CONCATENATE("张","小明")', "张小明")
    layout.formulas[(1, 2)] = ("=DATE(2012,3,4)", 40972)  # the cached serial of 2012-03-04
    layout.row(2, ["李四", None, None, ID_2, "初中", None])
    layout.formulas[(2, 5)] = ("=F2", "甲一村委会")
    return layout


def fullwidth() -> Layout:
    """Full-width digits, letters and spaces; headers with stars, （必填） and line breaks."""
    layout = Layout()
    layout.row(
        0,
        [
            "*姓名",
            "身份证号码（必填）",
            "就学\n情况",
            "村（社区）：",
            "监护人 联系电话",
            "监护人姓名",
            "与儿童关系",
        ],
    )
    id_fullwidth = ID_1.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    layout.row(
        1, ["张　小明", id_fullwidth, "小学", "甲一村委会", "１３８００１３８０００", "张　老汉", "爷爷"]
    )
    return layout


def duplicates() -> Layout:
    """The same child twice: both rows read; the file-level check is the import flow's."""
    layout = Layout()
    layout.row(0, ["姓名", "身份证号", "就学情况", "村"])
    layout.row(1, ["张小明", ID_1, "小学", "甲一村委会"])
    layout.row(2, ["张小明", ID_1, "小学", "甲一村委会"])
    return layout


def village_merged_down() -> Layout:
    """One village cell merged down over its children, and a template's pre-numbered empty rows."""
    layout = Layout()
    layout.row(0, ["序号", "乡镇", "村（社区）", "姓名", "身份证号", "就学情况"])
    layout.merge(1, 1, 3, 1, "廉州镇")
    layout.merge(1, 2, 3, 2, "甲二村委会")
    layout.row(1, [1, None, None, "甲", ID_1, "小学"])
    layout.row(2, [2, None, None, "乙", ID_2, "初中"])
    layout.row(3, [3, None, None, "丙", ID_3, "幼儿园"])
    for number in range(4, 9):
        layout.row(number, [number])
    return layout


def no_header() -> Layout:
    layout = Layout()
    layout.row(0, ["会议记录"])
    layout.row(1, ["时间", "地点", "参加人员"])
    layout.row(2, ["2024年6月1日", "镇政府", "张三、李四"])
    return layout


def _not_a_spreadsheet(directory: Path) -> Path:
    path = directory / "台账.xlsx"
    path.write_bytes(b"\x00\x01\x02\x03WordDocument\x00" + bytes(range(256)) * 4)
    return path


def _plain_text(directory: Path) -> Path:
    path = directory / "说明.csv"
    path.write_text("请各村于6月底前报送台账。\n联系人：李四\n", encoding="utf-8")
    return path


def _csv_scientific(directory: Path) -> Path:
    """A CSV saved by Excel from a sheet whose ID column was a number: "4.50521E+17"."""
    text = (
        "姓名,身份证号,就学情况,村\r\n张一,4.50521E+17,小学,甲一村委会\r\n张二,"
        + ID_2
        + ",小学,甲一村委会\r\n"
    )
    path = directory / "台账.csv"
    path.write_bytes(text.encode("gb18030"))
    return path


def _with(
    layout: Callable[[], Layout], writer: Callable[[Layout, Path], Path], name: str
) -> Callable[[Path], Path]:
    return lambda directory: writer(layout(), directory / name)


def _csv_writer(encoding: str) -> Callable[[Layout, Path], Path]:
    return lambda layout, path: write_csv(layout, path, encoding=encoding)


OUT_OF_TOWNSHIP = Expect(
    rows=FORM_DATA,
    errors=frozenset({(7, "村（社区）")}),
    reasons={(7, "村（社区）"): OUT_OF_SCOPE},
    values={5: {"village": "450521100201"}, 6: {"village": "450521100202"}},
    header_row=FORM_HEADER_ROW,
)

CORPUS: tuple[CorpusFile, ...] = (
    CorpusFile("台账.xlsx", _form(write_xlsx, "台账.xlsx"), "xlsx", FORM_EXPECT),
    CorpusFile(
        "台账（含说明页）.xlsx",
        lambda d: write_xlsx(national_form(), d / "b.xlsx", extra_first_sheet=True),
        "xlsx",
        FORM_EXPECT,
    ),
    CorpusFile("台账.xls", _form(write_xls, "台账.xls"), "xls", FORM_EXPECT),
    CorpusFile("台账.ods", _form(write_ods, "台账.ods"), "ods", FORM_EXPECT),
    CorpusFile("台账-utf8.csv", _form(_csv_writer("utf-8"), "a.csv"), "csv", FORM_EXPECT),
    CorpusFile("台账-bom.csv", _form(_csv_writer("utf-8-sig"), "b.csv"), "csv", FORM_EXPECT),
    CorpusFile("台账-gbk.csv", _form(_csv_writer("gb18030"), "c.csv"), "csv", FORM_EXPECT),
    CorpusFile(
        "廉州镇台账.xlsx", _form(write_xlsx, "x.xlsx"), "xlsx", OUT_OF_TOWNSHIP, "township_supervisor"
    ),
    CorpusFile(
        "廉州镇台账.csv",
        _form(_csv_writer("gb18030"), "x.csv"),
        "csv",
        OUT_OF_TOWNSHIP,
        "township_supervisor",
    ),
    CorpusFile(
        "数字身份证.xlsx",
        _with(numeric_ids, write_xlsx, "n.xlsx"),
        "xlsx",
        Expect(
            rows=(2, 3, 4),
            errors=frozenset({(2, "身份证号"), (4, "身份证号")}),
            reasons={(2, "身份证号"): ID_LOST_DIGITS, (4, "身份证号"): "身份证号码应为 18 位"},
            values={
                2: {"father.phone": "13800000001"},
                3: {"child.id_number": ID_2, "village": "450521100201", "father.phone": "13800000002"},
            },
        ),
    ),
    CorpusFile(
        "数字身份证.xls",
        _with(numeric_ids, write_xls, "n.xls"),
        "xls",
        Expect(rows=(2, 3, 4), errors=frozenset({(2, "身份证号"), (4, "身份证号")})),
    ),
    CorpusFile(
        "数字身份证.ods",
        _with(numeric_ids, write_ods, "n.ods"),
        "ods",
        Expect(rows=(2, 3, 4), errors=frozenset({(2, "身份证号"), (4, "身份证号")})),
    ),
    CorpusFile(
        "科学计数法.csv",
        _csv_scientific,
        "csv",
        Expect(rows=(2, 3), errors=frozenset({(2, "身份证号")}), reasons={(2, "身份证号"): ID_LOST_DIGITS}),
    ),
    CorpusFile(
        "日期.xlsx",
        _with(every_date, write_xlsx, "d.xlsx"),
        "xlsx",
        Expect(
            rows=tuple(range(2, 14)),
            errors=frozenset((row, "出生年月日") for row in EVERY_DATE_BAD),
            reasons={(row, "出生年月日"): reason for row, reason in EVERY_DATE_BAD.items()},
            values={row: {"child.birth_date": dt.date(2010, 5, 3)} for row in EVERY_DATE_GOOD},
        ),
    ),
    CorpusFile(
        "日期.ods",
        _with(every_date, write_ods, "d.ods"),
        "ods",
        Expect(
            rows=tuple(range(2, 14)),
            errors=frozenset((row, "出生年月日") for row in EVERY_DATE_BAD),
            values={row: {"child.birth_date": dt.date(2010, 5, 3)} for row in EVERY_DATE_GOOD},
        ),
    ),
    CorpusFile(
        "日期.csv",
        _with(every_date, _csv_writer("utf-8-sig"), "d.csv"),
        "csv",
        Expect(
            rows=tuple(range(2, 14)),
            errors=frozenset((row, "出生年月日") for row in EVERY_DATE_BAD),
            values={row: {"child.birth_date": dt.date(2010, 5, 3)} for row in EVERY_DATE_GOOD},
        ),
    ),
    CorpusFile(
        "公式.xlsx",
        _with(formulas, write_xlsx, "f.xlsx"),
        "xlsx",
        Expect(
            rows=(2, 3),
            values={
                2: {"child.name": "张小明", "child.birth_date": BIRTH_1, "village": "450521100201"},
                3: {"child.name": "李四", "village": "450521100201"},
            },
        ),
    ),
    CorpusFile(
        "全角.xlsx",
        _with(fullwidth, write_xlsx, "w.xlsx"),
        "xlsx",
        Expect(
            rows=(2,),
            values={
                2: {
                    "child.name": "张小明",
                    "child.id_number": ID_1,
                    "guardian.phone": "13800138000",
                    "guardian.name": "张老汉",
                    "guardian.relation": "grandfather",
                }
            },
        ),
    ),
    CorpusFile(
        "全角.csv",
        _with(fullwidth, _csv_writer("gb18030"), "w.csv"),
        "csv",
        Expect(rows=(2,), values={2: {"child.id_number": ID_1, "child.name": "张小明"}}),
    ),
    CorpusFile(
        "重复.xlsx",
        _with(duplicates, write_xlsx, "r.xlsx"),
        "xlsx",
        Expect(rows=(2, 3), values={2: {"child.id_number": ID_1}, 3: {"child.id_number": ID_1}}),
    ),
    CorpusFile(
        "合并村名.xlsx",
        _with(village_merged_down, write_xlsx, "m.xlsx"),
        "xlsx",
        Expect(rows=(2, 3, 4), values={row: {"village": "450521100202"} for row in (2, 3, 4)}),
    ),
    CorpusFile(
        "合并村名.xls",
        _with(village_merged_down, write_xls, "m.xls"),
        "xls",
        Expect(rows=(2, 3, 4), values={row: {"village": "450521100202"} for row in (2, 3, 4)}),
    ),
    CorpusFile("会议记录.xlsx", _with(no_header, write_xlsx, "h.xlsx"), "xlsx", Expect(file_error=NO_HEADER)),
    CorpusFile("说明.csv", _plain_text, "csv", Expect(file_error=NO_HEADER)),
    CorpusFile("台账.xlsx", _not_a_spreadsheet, "", Expect(refused=NOT_WORKBOOK)),
)
