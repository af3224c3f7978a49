"""FI-4, DP-3, DP-6: the export helper, downloaded over HTTP as a user does.

No export page exists yet, so this module mounts two small export views next to the project's
URLconf: one exports the files the user may see (through the access layer, like every later
export), one exports fixed rows full of formula triggers. Downloads are reloaded (CSV with
the csv module, XLSX with python-calamine) and compared row by row.
"""

import csv
import io
import tracemalloc
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import path
from django.utils import timezone
from python_calamine import CalamineWorkbook

from audit.models import AuditEvent
from core.exports import Column, export_rows
from core.masking import mask_id, mask_phone
from registry import choices as c
from registry.access import children_visible_to
from registry.models import Child
from shouhu.urls import urlpatterns as project_urlpatterns
from testing.connections import test_connection_kept
from testing.world import World, make_child

pytestmark = pytest.mark.urls("core.tests.test_exports")

COLUMNS = [
    Column("档案编号"),
    Column("姓名"),
    Column("身份证号码", mask="id", width=22),
    Column("父亲电话", mask="phone"),
    Column("所属村"),
    Column("出生日期"),
    Column("重点对象"),
]
HEADERS = [column.header for column in COLUMNS]
TRIGGERS = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", '=HYPERLINK("http://x","y")']


def _child_rows(children: Any) -> Iterator[list[object]]:
    for child in children:
        father = next(p for p in child.parents.all() if p.role == c.ParentRole.FATHER)
        yield [
            child.file_no,
            child.name,
            child.id_number,
            father.phone,
            child.village.name,
            child.birth_date,
            child.is_key,
        ]


@login_required
def children_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    children = children_visible_to(request.user).select_related("village").prefetch_related("parents")
    return export_rows(
        request=request,
        kind="children_test",
        columns=COLUMNS,
        rows=_child_rows(children.order_by("file_no")),
        fmt=fmt,
        filename="儿童名单",
        reveal=request.GET.get("reveal") == "1",
    )


@login_required
def triggers_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    count = int(request.GET.get("rows", "0"))
    rows: Any = (
        ([value, -5, 2.5, None] for value in TRIGGERS) if not count else ([f"行{n}", n] for n in range(count))
    )
    columns = (
        [Column("值"), Column("负数"), Column("小数"), Column("空")]
        if not count
        else [Column("名"), Column("序号")]
    )
    return export_rows(request=request, kind="triggers", columns=columns, rows=rows, fmt=fmt, filename="t")


AWKWARD = ["a&b<c>d", "x\x01y", "1\r2", "l\nm", "t\tu", "_x0041_", " lead", "trail ", "中文"]


@login_required
def awkward_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """Text that XML or Excel cannot take as it is, and every kind of value a row may hold."""
    rows = [
        [text, n, n + 0.5, Decimal("1.25"), None, n % 2 == 0, c.Sex.MALE] for n, text in enumerate(AWKWARD)
    ]
    columns = [Column(header) for header in ("文本", "整数", "小数", "金额", "空", "是否", "代码")]
    return export_rows(request=request, kind="awkward", columns=columns, rows=rows, fmt=fmt, filename="a")


urlpatterns = [
    path("test-export/<str:fmt>/", children_export),
    path("test-export-triggers/<str:fmt>/", triggers_export),
    path("test-export-awkward/<str:fmt>/", awkward_export),
    *project_urlpatterns,
]


@pytest.fixture(autouse=True)
def export_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SHOUHU_EXPORT_DIR = tmp_path / "exports"
    return tmp_path / "exports"


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _csv(response: Any) -> list[list[str]]:
    text = _body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def _xlsx(data: bytes) -> list[list[Any]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="export").order_by("id"))


def _expected(world: World, persona: str, *, reveal: bool = False) -> list[list[str]]:
    keys = sorted(
        World.VISIBLE[persona], key=lambda key: Child.objects.get(pk=world.children[key].pk).file_no
    )
    rows = []
    for key in keys:
        child = Child.objects.get(pk=world.children[key].pk)
        phone = child.parents.get(role=c.ParentRole.FATHER).phone
        rows.append(
            [
                child.file_no,
                child.name,
                child.id_number if reveal else mask_id(child.id_number),
                phone if reveal else mask_phone(phone),
                child.village.name,
                child.birth_date.isoformat(),
                "是" if child.is_key else "否",
            ]
        )
    return rows


def test_it_streams_csv_row_by_row_with_masks_a_watermark_and_one_audit_row(login: Any, world: World) -> None:
    client = login("township_supervisor")
    response = client.get("/test-export/csv/")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E5%84%BF%E7%AB%A5%E5%90%8D%E5%8D%95.csv" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"] and response["X-Content-Type-Options"] == "nosniff"
    assert not _exports(), "logged before the rows were sent"
    lines = _csv(response)
    watermark = lines[0][0]
    assert "导出人：township_supervisor（township_supervisor）" in watermark
    assert f"导出时间：{timezone.localtime():%Y-%m-%d %H:}" in watermark
    assert lines[1] == HEADERS
    assert lines[2:] == _expected(world, "township_supervisor")
    assert len(lines[2:]) == 2
    (event,) = _exports()
    assert event.user == world.users["township_supervisor"]
    assert event.detail["rows"] == 2 and event.detail["kind"] == "children_test"
    assert event.detail["format"] == "csv" and event.detail["complete"] is True
    assert event.detail["revealed"] is False


def test_it_builds_xlsx_row_by_row_and_leaves_no_file_behind(
    login: Any, world: World, export_dir: Path
) -> None:
    client = login("county_admin")
    response = client.get("/test-export/xlsx/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment;")
    assert list(export_dir.iterdir()) == [], "the temporary workbook is still on disk"
    data = _body(response)
    sheet = _xlsx(data)
    assert "导出人：county_admin（county_admin）" in sheet[0][0]
    assert sheet[1] == HEADERS
    assert sheet[2:] == _expected(world, "county_admin")
    (event,) = _exports()
    assert event.detail["rows"] == 3 and event.detail["kind"] == "children_test"
    assert event.detail["format"] == "xlsx"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        core = archive.read("docProps/core.xml").decode()
    assert "<dc:creator>county_admin</dc:creator>" in core
    assert "导出人：county_admin" in core  # the description property carries the watermark


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_neutralises_formulas(fmt: str, login: Any, world: World) -> None:
    make_child(world.village_a1, world.users["county_admin"], name='=HYPERLINK("http://x","y")')
    client = login("village_worker")
    response = client.get(f"/test-export/{fmt}/")
    rows = _csv(response) if fmt == "csv" else _xlsx(_body(response))
    names = [row[1] for row in rows[2:]]
    assert '\'=HYPERLINK("http://x","y")' in names
    triggers = client.get(f"/test-export-triggers/{fmt}/")
    data = _body(triggers)
    rows = (
        list(csv.reader(io.StringIO(data.decode("utf-8")[1:], newline=""))) if fmt == "csv" else _xlsx(data)
    )
    assert [row[0] for row in rows[2:]] == [f"'{value}" for value in TRIGGERS]
    assert [row[1] for row in rows[2:]] == (["-5"] * len(TRIGGERS) if fmt == "csv" else [-5] * len(TRIGGERS))
    if fmt == "xlsx":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")  # no formula cells at all


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_reveals_full_numbers_only_with_the_permission(fmt: str, login: Any, world: World) -> None:
    client = login("county_admin")
    response = client.get(f"/test-export/{fmt}/", {"reveal": "1"})
    rows = _csv(response) if fmt == "csv" else _xlsx(_body(response))
    assert rows[2:] == _expected(world, "county_admin", reveal=True)
    assert world.children["a1"].id_number in {row[2] for row in rows[2:]}
    (event,) = _exports()
    assert event.detail["revealed"] is True


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_refuses_to_reveal_without_the_permission(fmt: str, login: Any, world: World) -> None:
    client = login("county_officer")  # may read the county's files, may not reveal
    response = client.get(f"/test-export/{fmt}/", {"reveal": "1"})
    assert response.status_code == 403
    assert world.children["a1"].id_number not in response.content.decode()
    assert not _exports()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_it_never_sends_a_full_id_number_by_default(fmt: str, login: Any, world: World) -> None:
    client = login("county_admin")
    data = _body(client.get(f"/test-export/{fmt}/"))
    text = data.decode("utf-8") if fmt == "csv" else str(_xlsx(data))
    for key in ("a1", "a2", "b1"):
        child = Child.objects.get(pk=world.children[key].pk)
        assert child.id_number not in text
        assert mask_id(child.id_number) in text


def test_it_logs_a_download_cut_short_with_the_rows_sent(login: Any, world: World) -> None:
    client = login("county_admin")
    response = client.get("/test-export/csv/")
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks), next(chunks)  # watermark, headers, one row
    # The client went away: the server closes the response (the test connection is kept, as
    # Django's test client keeps it for its own calls).
    with test_connection_kept():
        response.close()
    (event,) = _exports()
    assert event.detail["rows"] == 1 and event.detail["complete"] is False


def test_it_serves_no_file_when_the_audit_row_cannot_be_written(
    login: Any, world: World, export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit import services

    def broken(**kwargs: Any) -> None:
        raise services.AuditWriteError("审计日志写入失败")

    monkeypatch.setattr(services, "access_log", broken)
    client = login("county_admin")
    response = client.get("/test-export/xlsx/")
    assert response.status_code == 503
    assert response["Content-Type"] != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert list(export_dir.iterdir()) == []


def test_it_builds_large_workbooks_in_constant_memory(login: Any, world: World, export_dir: Path) -> None:
    """20,000 rows: XlsxWriter's constant-memory mode writes each row out as it goes."""
    client = login("county_admin")
    tracemalloc.start()
    try:
        response = client.get("/test-export-triggers/xlsx/", {"rows": "20000"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    sheet = _xlsx(_body(response))
    assert len(sheet) == 20_002 and sheet[-1] == ["行19999", 19999]
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MB while building the workbook"
    assert list(export_dir.iterdir()) == []


def test_it_refuses_anonymous_requests_before_any_row(client: Client, world: World) -> None:
    response = client.get("/test-export/csv/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not _exports()


def test_it_writes_awkward_text_and_every_kind_of_value_so_it_reads_back(login: Any, world: World) -> None:
    client = login("county_admin")
    data = _body(client.get("/test-export-awkward/xlsx/"))
    expected = [
        [text, n, n + 0.5, 1.25, "", "是" if n % 2 == 0 else "否", str(c.Sex.MALE)]
        for n, text in enumerate(AWKWARD)
    ]
    assert _xlsx(data)[2:] == expected
    table = _csv(client.get("/test-export-awkward/csv/"))
    assert table[2:] == [[str(value) for value in row] for row in expected]


def test_the_workbook_is_well_formed_with_a_frozen_header_and_a_watermark(login: Any, world: World) -> None:
    data = _body(login("county_admin").get("/test-export/xlsx/"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        parts = {name: archive.read(name) for name in archive.namelist()}
    for part in parts.values():
        ElementTree.fromstring(part)  # raises on XML that is not well-formed
    assert set(parts) >= {"[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml", "docProps/app.xml"}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    assert '<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>' in sheet
    assert "<oddHeader>&amp;L导出人：county_admin（county_admin）" in sheet
    assert sheet.count("<col ") == len(COLUMNS) and 'width="22.7109375"' in sheet  # 身份证号码: width 22
    assert '<c r="A2" s="2" t="inlineStr"><is><t>档案编号</t></is></c>' in sheet  # bold headers
