"""The periodic access report as a download (DP-7), through the shared export helper
(core.exports): CSV or XLSX, formulas neutralised, watermarked, one `export` audit row."""

import datetime as dt

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import timezone

from audit.selectors import ReportRow
from core.exports import Column, Format, export_rows

COLUMNS = [
    Column("档案编号", width=22),
    Column("档案标识", width=38),
    Column("用户名"),
    Column("角色", width=24),
    Column("访问次数", width=10),
    Column("操作明细", width=40),
    Column("首次访问", width=20),
    Column("最近访问", width=20),
]


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")


def report_download(
    request: HttpRequest, rows: list[ReportRow], *, since: dt.date, until: dt.date, fmt: Format
) -> HttpResponseBase:
    cells = (
        [
            row.file_no,
            row.child_id,
            row.username,
            row.roles,
            row.count,
            row.action_summary(),
            _local(row.first),
            _local(row.last),
        ]
        for row in rows
    )
    # The report names files, not children: not an export of child files (no volume alarm).
    return export_rows(
        request=request,
        kind="access_report",
        columns=COLUMNS,
        rows=cells,
        fmt=fmt,
        filename=f"access-report-{since:%Y%m%d}-{until:%Y%m%d}",
        object_type="access_report",
    )
