"""The one export helper (FI-4, DP-3, DP-6): every CSV or Excel download goes through export_rows().

What it guarantees, whatever the caller passes:
- formulas are neutralised: a text cell starting with = + - @ tab, CR or LF gets a leading '
  (OWASP CSV injection), and XLSX cells are written as strings, never as formulas or links;
- ID and phone columns are masked (core.masking) unless the caller passes reveal=True, which
  needs the reveal permission (registry.access.can_reveal) and is recorded;
- the file names who exported it and when: a first line in CSV; a first row, the document
  properties and the printed page header in XLSX;
- one audit row per export, action "export", with the row count;
- CSV streams (StreamingHttpResponse, constant memory); XLSX is written row by row (_Workbook,
  below) into a private temporary file that is unlinked before the response is returned, so
  nothing stays on disk after the download, finished or not.

Speed (docs/benchmarks.md, bench:export): a province's million rows go through cells() one
by one, so it converts by exact type first and falls back to the general rules.

Which rows a user may export, and whether they may export at all, is the calling view's
decision, through the access layer (registry.access) like any other read.
"""

import csv
import datetime as dt
import functools
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import content_disposition_header

from accounts.models import User
from core.masking import mask_id, mask_phone
from core.uploads import scratch_path

Format = Literal["csv", "xlsx"]
Mask = Literal["id", "phone"]

EXPORT_ACTION = "export"  # audit.models.EventType.EXPORT
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_REVEAL = "您没有导出完整身份证号码或电话号码的权限。"
NOT_SIGNED_IN = "请先登录。"

Cell = str | int | float


@dataclass(frozen=True)
class Column:
    header: str  # Chinese, as the user reads it
    mask: Mask | None = None  # "id" or "phone": masked unless the export reveals
    width: int = 16  # XLSX column width in characters


def neutralise(text: str) -> str:
    """Prefix ' to text a spreadsheet would read as a formula (or DDE) when opened."""
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def _local_time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)


# Exact types first (one dict lookup), then the general rules for subclasses.
_BY_TYPE: dict[type, Callable[[Any], Cell]] = {
    str: neutralise,
    int: lambda value: value,
    float: lambda value: value,
    bool: lambda value: "是" if value else "否",
    type(None): lambda value: "",
    dt.date: dt.date.isoformat,
    dt.datetime: _local_time,
    Decimal: float,
}


def _plain_cell(value: object) -> Cell:
    """A value as a cell: text neutralised, yes/no in Chinese, dates as ISO text, local time."""
    convert = _BY_TYPE.get(type(value))
    if convert is not None:
        return convert(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return _local_time(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))


def export_rows(
    *,
    request: HttpRequest,
    kind: str,
    columns: list[Column],
    rows: Iterable[Sequence[object]],
    fmt: Format,
    filename: str,
    reveal: bool = False,
    object_type: str = "child",
) -> HttpResponseBase:
    """The download response for `rows` (each a sequence matching `columns`).

    `kind` names the export in the audit row (e.g. "ledger"); `object_type` is what the rows are
    (audit object type; large exports of child files raise an alarm). Raises PermissionDenied
    for an anonymous request, or for reveal=True without the reveal permission.
    """
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied(NOT_SIGNED_IN)
    if reveal and not _can_reveal(user):
        raise PermissionDenied(NO_REVEAL)
    export = _Export(request, user, kind, columns, fmt, reveal, object_type)
    name = filename if filename.lower().endswith(f".{fmt}") else f"{filename}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(export.csv_lines(rows), content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = content_disposition_header(True, name)
        return response
    if fmt == "xlsx":
        handle = export.xlsx_file(rows)
        return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX_TYPE)
    raise ValueError(f"unknown export format {fmt!r}")


def _can_reveal(user: User) -> bool:
    from registry.access import can_reveal

    return can_reveal(user)


def _close(rows: Iterator[Sequence[object]]) -> None:
    """End a row generator before the audit row is written: it may hold the database connection
    (nationalforms.roster streams its query), and a download cut short leaves it suspended."""
    close = getattr(rows, "close", None)
    if close is not None:
        close()


class _Echo:
    """csv.writer writes into this and gets the line back, so each row can be yielded."""

    def write(self, value: str) -> str:
        return value


class _Export:
    def __init__(
        self,
        request: HttpRequest,
        user: User,
        kind: str,
        columns: list[Column],
        fmt: Format,
        reveal: bool,
        object_type: str,
    ) -> None:
        self.request, self.user, self.kind, self.columns = request, user, kind, columns
        self.fmt, self.reveal, self.object_type = fmt, reveal, object_type
        self.at = timezone.now()

    @property
    def watermark(self) -> str:
        who = f"{self.user.full_name}（{self.user.username}）" if self.user.full_name else self.user.username
        when = timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M:%S")
        return f"导出人：{who}；导出时间：{when}；内含个人信息，仅限工作使用，不得外传。"

    def cells(self, row: Sequence[object]) -> list[Cell]:
        if len(row) != len(self.columns):
            raise ValueError(f"a row has {len(row)} values for {len(self.columns)} columns")
        # Plain text that no spreadsheet reads as a formula is most cells: kept without a call.
        cells = [
            value
            if type(value) is str and not value.startswith(FORMULA_TRIGGERS)  # type: ignore[attr-defined]
            else _plain_cell(value)
            for value in row
        ]
        for index, masker in self.maskers:
            value = row[index]
            cells[index] = "" if value is None else masker(str(value))
        return cells

    @functools.cached_property
    def maskers(self) -> list[tuple[int, Callable[[str], str]]]:
        """(column index, mask) of the columns masked in this export: none when it reveals."""
        if self.reveal:
            return []
        masks = {"id": mask_id, "phone": mask_phone}
        return [(index, masks[column.mask]) for index, column in enumerate(self.columns) if column.mask]

    def log(self, rows: int, *, complete: bool) -> None:
        from audit.services import access_log

        detail = {"rows": rows, "count": rows, "kind": self.kind, "format": self.fmt}
        detail.update(revealed=self.reveal, complete=complete)
        access_log(request=self.request, action=EXPORT_ACTION, object_type=self.object_type, detail=detail)

    # --- CSV ---------------------------------------------------------------------------------

    def csv_lines(self, rows: Iterable[Sequence[object]]) -> Iterator[str]:
        """UTF-8 with a BOM (so that Excel on Chinese Windows reads it), CRLF lines. The audit
        row is written when the stream ends, with the rows sent: a download cut short is
        logged with complete=False, and a failing audit write aborts the stream."""
        writer = csv.writer(_Echo(), lineterminator="\r\n")
        count, complete = 0, False
        source = iter(rows)
        try:
            yield "\ufeff" + writer.writerow([neutralise(self.watermark)])
            yield writer.writerow([neutralise(column.header) for column in self.columns])
            for row in source:
                line = writer.writerow(self.cells(row))
                count += 1  # counted when handed to the server, even if the client stops here
                yield line
            complete = True
        finally:
            _close(source)
            self.log(count, complete=complete)

    # --- XLSX --------------------------------------------------------------------------------

    def xlsx_file(self, rows: Iterable[Sequence[object]]) -> IO[bytes]:
        """Build the workbook in a private temporary file, log, and return an open handle to
        the unlinked file: the bytes live until the response closes the handle."""
        directory = Path(settings.SHOUHU_EXPORT_DIR)
        with scratch_path(directory=directory, suffix=".xlsx") as path:
            count = self._write_xlsx(path, rows)
            handle = path.open("rb")
        try:
            self.log(count, complete=True)  # fails closed: no audit row, no file
        except BaseException:
            handle.close()
            raise
        return handle

    def _write_xlsx(self, path: Path, rows: Iterable[Sequence[object]]) -> int:
        book = _Workbook(path, self.columns)
        source = iter(rows)
        try:
            book.properties(
                title=f"守护 导出：{self.kind}",
                author=self.user.username,
                comments=self.watermark,
                created=self.at,
            )
            book.header(f"&L{self.watermark.replace('&', '&&')}")
            book.text_row([neutralise(self.watermark)])
            book.text_row([neutralise(column.header) for column in self.columns], bold=True)
            for row in source:
                book.row(self.cells(row))
        finally:
            _close(source)
            book.close()
        return book.number - 2  # after the watermark and the headers


# --- a streaming .xlsx writer --------------------------------------------------------------------
#
# XlsxWriter (constant_memory) spends about 10 Python calls and two regular expressions on each
# cell: measured on this 2-core machine, 50,000 roster rows × 43 cells took 23–28 s in
# XlsxWriter alone, more than the 20 s the county export may take in all. The sheet below is
# the same SpreadsheetML that XlsxWriter writes in that mode (inline strings, a frozen header,
# column widths and text format, the page header, the document properties), written one row
# string at a time into a zip stream: about 1 s for the same cells. Only what exports need:
# one sheet, strings and numbers, never formulas.

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NS = "http://schemas.openxmlformats.org"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_NS}/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/docProps/app.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    '<Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_NS}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_NS}/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_NS}/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_NS}/officeDocument/2006/relationships/extended-properties" '
    'Target="docProps/app.xml"/>'
    "</Relationships>"
)
_SHEET_NAME = "导出数据"
_WORKBOOK = (
    f'{_XML}<workbook xmlns="{_NS}/spreadsheetml/2006/main" '
    f'xmlns:r="{_NS}/officeDocument/2006/relationships">'
    f'<bookViews><workbookView/></bookViews><sheets><sheet name="{_SHEET_NAME}" sheetId="1" r:id="rId1"/>'
    "</sheets></workbook>"
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_NS}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_NS}/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_NS}/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Cell formats: 0 normal, 1 text ("@", the columns' format), 2 bold (the header row).
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_NS}/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="@"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
# Characters XML or Excel cannot take as they are: markup, control characters (written as
# Excel's _xHHHH_ escapes), text that already looks like such an escape, and edge whitespace.
_UNSAFE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")  # CR too: XML would read it as LF
_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_FLUSH_ROWS = 500


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline(text: str) -> str:
    """The <is> element of a text cell."""
    if _UNSAFE.search(text) is None:
        return f"<is><t>{text}</t></is>"
    text = _ESCAPED.sub(r"_x005F\1", _xml_text(text))
    text = _CONTROL.sub(lambda match: f"_x{ord(match.group()):04X}_", text)
    preserve = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<is><t{preserve}>{text}</t></is>"


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _Workbook:
    """One-sheet .xlsx written row by row into a zip stream: constant memory."""

    def __init__(self, path: Path, columns: list[Column]) -> None:
        self.archive = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.letters = [_column_letters(index) for index in range(len(columns))]
        self.columns = columns
        self.number = 0
        self.pending: list[str] = []
        self.header_text = ""
        self.sheet: IO[bytes] | None = None

    def properties(self, *, title: str, author: str, comments: str, created: dt.datetime) -> None:
        when = created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        core = (
            f'{_XML}<cp:coreProperties xmlns:cp="{_NS}/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{_xml_text(title)}</dc:title><dc:creator>{_xml_text(author)}</dc:creator>"
            f"<dc:description>{_xml_text(comments)}</dc:description>"
            f"<cp:lastModifiedBy>{_xml_text(author)}</cp:lastModifiedBy>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified></cp:coreProperties>'
        )
        app = (
            f'{_XML}<Properties xmlns="{_NS}/officeDocument/2006/extended-properties" '
            f'xmlns:vt="{_NS}/officeDocument/2006/docPropsVTypes"><Application>Microsoft Excel</Application>'
            "<Company>守护</Company></Properties>"
        )
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("docProps/app.xml", app),
            ("docProps/core.xml", core),
            ("xl/workbook.xml", _WORKBOOK),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
        ):
            self.archive.writestr(name, text)

    def header(self, text: str) -> None:
        """The printed page header (Excel's &-codes, already escaped by the caller)."""
        self.header_text = text

    def _open_sheet(self) -> None:
        self.sheet = self.archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        cols = "".join(
            f'<col min="{index}" max="{index}" width="{column.width + 0.7109375}" style="1" customWidth="1"/>'
            for index, column in enumerate(self.columns, start=1)
        )
        self.pending.append(
            f'{_XML}<worksheet xmlns="{_NS}/spreadsheetml/2006/main" '
            f'xmlns:r="{_NS}/officeDocument/2006/relationships">'
            '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
            '<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
        )

    def text_row(self, texts: list[str], *, bold: bool = False) -> None:
        style = ' s="2"' if bold else ""
        self.number += 1
        number, letters = self.number, self.letters
        cells = "".join(
            f'<c r="{letters[index]}{number}"{style} t="inlineStr">{_inline(text)}</c>'
            for index, text in enumerate(texts)
            if text
        )
        self._append(f'<row r="{number}">{cells}</row>')

    def row(self, values: list[Cell]) -> None:
        """Text as inline strings (never formulas), numbers as numbers; empty text is skipped."""
        self.number += 1
        number, letters = self.number, self.letters
        cells = []
        for index, value in enumerate(values):
            if isinstance(value, str):
                if value:
                    cells.append(f'<c r="{letters[index]}{number}" t="inlineStr">{_inline(value)}</c>')
            elif isinstance(value, int) or math.isfinite(value):
                cells.append(f'<c r="{letters[index]}{number}"><v>{value!r}</v></c>')
            else:  # inf and nan are no spreadsheet numbers
                cells.append(f'<c r="{letters[index]}{number}" t="inlineStr">{_inline(str(value))}</c>')
        self._append(f'<row r="{number}">{"".join(cells)}</row>')

    def _append(self, text: str) -> None:
        if self.sheet is None:
            self._open_sheet()
        self.pending.append(text)
        if len(self.pending) >= _FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.sheet is not None and self.pending:
            self.sheet.write("".join(self.pending).encode())
        self.pending = []

    def close(self) -> None:
        if self.sheet is None:
            self._open_sheet()
        header = f"<headerFooter><oddHeader>{_xml_text(self.header_text)}</oddHeader></headerFooter>"
        self.pending.append(
            '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            f'footer="0.3"/>{header}</worksheet>'
        )
        self._flush()
        if self.sheet is not None:
            self.sheet.close()
        self.archive.close()
