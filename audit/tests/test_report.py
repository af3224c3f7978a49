"""DP-7: the periodic access report (who accessed which child in a period), on screen and as
an XLSX or CSV download through the export helper (formulas neutralised, watermarked); the
download is itself audited. Downloads are reloaded and compared row by row."""

import csv
import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from python_calamine import CalamineWorkbook

from accounts.models import Role, RoleGrant, User
from audit.models import AuditEvent, EventType
from audit.services import audit_event
from testing.world import PASSWORD, World


def _at(days_ago: int, **kwargs: object) -> None:
    with time_machine.travel(timezone.now() - dt.timedelta(days=days_ago), tick=False):
        audit_event(**kwargs)  # type: ignore[arg-type]


@pytest.fixture
def history(world: World) -> World:
    """Reads of a1 and a2 last week, one of a1 two months ago, and a search (no child)."""
    a1, a2 = world.children["a1"].id, world.children["a2"].id
    worker, police = world.users["village_worker"], world.users["police"]
    _at(5, user=worker, action=EventType.VIEW, object_type="child", object_id=a1)
    _at(4, user=worker, action=EventType.VIEW, object_type="child", object_id=a1)
    _at(4, user=worker, action=EventType.REVEAL, object_type="child", object_id=a1, reason="核对户籍")
    _at(3, user=police, action=EventType.API_READ, object_type="child", object_id=a2)
    _at(60, user=police, action=EventType.VIEW, object_type="child", object_id=a1)
    _at(2, user=worker, action=EventType.SEARCH, object_type="child", detail={"count": 3})
    return world


def _period(days: int = 7) -> dict[str, str]:
    today = timezone.localdate()
    return {"since": str(today - dt.timedelta(days=days)), "until": str(today)}


def test_it_reports_who_accessed_which_child(history: World, login) -> None:
    response = login("auditor").get("/audit/report/", _period())
    assert response.status_code == 200
    rows = response.context["rows"]
    summary = sorted((r.file_no, r.username, r.count) for r in rows)
    assert summary == sorted(
        [
            (history.children["a1"].file_no, "village_worker", 3),
            (history.children["a2"].file_no, "police", 1),
        ]
    )
    worker_row = next(r for r in rows if r.username == "village_worker")
    assert worker_row.action_summary() == "查看档案 2、查看完整号码 1"
    body = response.content.decode()
    assert history.children["a1"].file_no in body and history.children["a1"].name not in body


def test_the_period_decides(history: World, login) -> None:
    rows = login("county_admin").get("/audit/report/", _period(90)).context["rows"]
    assert sorted((r.username, r.count) for r in rows) == [
        ("police", 1),
        ("police", 1),
        ("village_worker", 3),
    ]


def _csv(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _xlsx(response: Any) -> list[list[object]]:
    data = b"".join(response.streaming_content)
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _expected(history: World) -> list[tuple[str, str, str]]:
    return sorted(
        [
            (history.children["a1"].file_no, "village_worker", "3"),
            (history.children["a2"].file_no, "police", "1"),
        ]
    )


def test_it_downloads_the_same_report_as_csv(history: World, login) -> None:
    client: Client = login("auditor")
    response = client.get("/audit/report/download/", {**_period(), "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = _csv(response)
    assert table[0][0].startswith("导出人：auditor")  # the export helper's watermark
    assert table[1][:5] == ["档案编号", "档案标识", "用户名", "角色", "访问次数"]
    assert sorted((row[0], row[2], row[4]) for row in table[2:]) == _expected(history)
    row = AuditEvent.objects.filter(action=EventType.EXPORT).get()
    assert (row.username, row.object_type, row.detail["count"]) == ("auditor", "access_report", 2)


def test_it_downloads_the_report_as_xlsx_by_default(history: World, login) -> None:
    response = login("county_admin").get("/audit/report/download/", _period())
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = _xlsx(response)
    assert str(sheet[0][0]).startswith("导出人：county_admin")
    assert sheet[1][:3] == ["档案编号", "档案标识", "用户名"]
    assert sorted((str(r[0]), str(r[2]), str(r[4]).removesuffix(".0")) for r in sheet[2:]) == _expected(
        history
    )
    assert AuditEvent.objects.get(action=EventType.EXPORT).detail["format"] == "xlsx"


def test_it_neutralises_formulas_in_the_download(world: World, login) -> None:
    sneaky = User.objects.create_user(username='=HYPERLINK("http://x")', password=PASSWORD)
    RoleGrant.objects.create(user=sneaky, role=Role.COUNTY_OFFICER, unit=world.school)
    _at(1, user=sneaky, action=EventType.VIEW, object_type="child", object_id=world.children["a1"].id)
    client: Client = login("auditor")
    table = _csv(client.get("/audit/report/download/", {**_period(), "format": "csv"}))
    assert table[2][2] == '\'=HYPERLINK("http://x")'
    sheet = _xlsx(client.get("/audit/report/download/", {**_period(), "format": "xlsx"}))
    assert sheet[2][2] == '\'=HYPERLINK("http://x")'


def test_it_defaults_to_last_month(world: World, login) -> None:
    response = login("auditor").get("/audit/report/")
    assert response.status_code == 200
    first_of_month = timezone.localdate().replace(day=1)
    assert response.context["form"].cleaned_data["until"] == first_of_month - dt.timedelta(days=1)


@pytest.mark.parametrize(
    "persona", ["township_supervisor", "county_officer", "system_admin", "security_admin"]
)
def test_others_get_403(world: World, login, persona: str) -> None:
    client: Client = login(persona)
    assert client.get("/audit/report/").status_code == 403
    assert client.get("/audit/report/download/").status_code == 403
