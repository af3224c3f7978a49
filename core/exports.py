"""The one export helper (FI-4, DP-3, DP-6): every CSV or Excel download goes through export_rows().

What it guarantees, whatever the caller passes:
- formulas are neutralised: a text cell starting with = + - @ tab, CR or LF gets a leading '
  (OWASP CSV injection), and XLSX cells are written as strings, never as formulas or links;
- ID and phone columns are masked (core.masking) unless the caller passes reveal=True, which
  needs the reveal permission (registry.access.can_reveal) and is recorded;
- the file names who exported it and when: a first line in CSV; a first row, the document
  properties and the printed page header in XLSX;
- one audit row per export, action "export", with the row count;
- CSV streams (StreamingHttpResponse, constant memory); XLSX is built by XlsxWriter in
  constant-memory mode into a private temporary file that is unlinked before the response is
  returned, so nothing stays on disk after the download, finished or not.

Which rows a user may export, and whether they may export at all, is the calling view's
decision, through the access layer (registry.access) like any other read.
"""

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
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
        return [self._cell(value, column) for value, column in zip(row, self.columns, strict=True)]

    def _cell(self, value: object, column: Column) -> Cell:
        if value is None:
            return ""
        if column.mask and not self.reveal:
            return mask_id(str(value)) if column.mask == "id" else mask_phone(str(value))
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, int | float):
            return value
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, dt.datetime):
            return (
                timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
                if timezone.is_aware(value)
                else str(value)
            )
        if isinstance(value, dt.date):
            return value.isoformat()
        return neutralise(str(value))

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
        try:
            yield "\ufeff" + writer.writerow([neutralise(self.watermark)])
            yield writer.writerow([neutralise(column.header) for column in self.columns])
            for row in rows:
                line = writer.writerow(self.cells(row))
                count += 1  # counted when handed to the server, even if the client stops here
                yield line
            complete = True
        finally:
            self.log(count, complete=complete)

    # --- XLSX --------------------------------------------------------------------------------

    def xlsx_file(self, rows: Iterable[Sequence[object]]) -> IO[bytes]:
        """Build the workbook in a private temporary file, log, and return an open handle to
        the unlinked file: the bytes live until the response closes the handle."""
        directory = Path(settings.SHOUHU_EXPORT_DIR)
        with scratch_path(directory=directory, suffix=".xlsx") as path:
            count = self._write_xlsx(path, directory, rows)
            handle = path.open("rb")
        try:
            self.log(count, complete=True)  # fails closed: no audit row, no file
        except BaseException:
            handle.close()
            raise
        return handle

    def _write_xlsx(self, path: Path, directory: Path, rows: Iterable[Sequence[object]]) -> int:
        import xlsxwriter

        options = {
            "constant_memory": True,
            "tmpdir": str(directory),
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        }
        workbook = xlsxwriter.Workbook(str(path), options)
        try:
            return self._fill(workbook, rows)
        finally:
            workbook.close()

    def _fill(self, book: Any, rows: Iterable[Sequence[object]]) -> int:
        self._properties(book)
        sheet = book.add_worksheet("导出数据")
        bold = book.add_format({"bold": True})
        text = book.add_format({"num_format": "@"})
        for index, column in enumerate(self.columns):
            sheet.set_column(index, index, column.width, text)
        sheet.set_header(f"&L{self.watermark.replace('&', '&&')}")
        sheet.freeze_panes(2, 0)
        sheet.write_string(0, 0, neutralise(self.watermark))
        for index, column in enumerate(self.columns):
            sheet.write_string(1, index, neutralise(column.header), bold)
        count = 0
        for count, row in enumerate(rows, start=1):
            for index, value in enumerate(self.cells(row)):
                if isinstance(value, str):
                    if value:
                        sheet.write_string(count + 1, index, value)
                else:
                    sheet.write_number(count + 1, index, value)
        return count

    def _properties(self, book: Any) -> None:
        book.set_properties(
            {
                "title": f"守护 导出：{self.kind}",
                "author": self.user.username,
                "company": "守护",
                "comments": self.watermark,
                "created": self.at.astimezone(dt.UTC).replace(tzinfo=None),  # written as UTC
            }
        )
