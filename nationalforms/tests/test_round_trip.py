"""Import → export → import is identical (issue 6 item 7), through the doors users use.

A county admin imports a varied ledger of 30 children over HTTP (every code-list value used
somewhere, parents away and at home, with and without an entrusted guardian, full-width text,
a rare character in a name); exports the roster (附件2 花名册) revealed as .xlsx and .csv;
uploads each export again: the preview says every row 无变化, the commit writes no history;
the roster exported afterwards equals the first one cell by cell, apart from the watermark.
Editing one cell of an export and uploading it shows exactly that one 更新.
"""

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from python_calamine import CalamineWorkbook

from core import idnumber
from core.blind_index import id_index
from core.tests import hostile_files as files
from imports.models import Batch, ImportRow, Outcome
from jobs.services import job_run
from nationalforms.roster import ROSTER_HEADERS
from registry import choices as c
from registry.models import Child, EntrustedGuardian, Parent
from testing.world import World

ChildHistory = Child.history.model  # type: ignore[attr-defined]
ParentHistory = Parent.history.model  # type: ignore[attr-defined]
GuardianHistory = EntrustedGuardian.history.model  # type: ignore[attr-defined]

COUNT = 30
RARE = "𠮷"  # U+20BB7, outside the Basic Multilingual Plane
PLACES = (("廉州镇", "甲一村委会"), ("廉州镇", "甲二村委会"), ("党江镇", "乙一村委会"))
# A ledger as a village keeps it: synonyms rather than the roster's own headers.
HEADERS = (
    "乡镇",
    "村（社区）",
    "儿童姓名",
    "民族",
    "身份证号",
    "是否登记户口",
    "户籍所在地",
    "现居住地",
    "身体情况",
    "残疾类别及等级",
    "患病类型",
    "是否寄宿",
    "就学情况",
    "照料类型",
    "监护情况评估",
    "父亲姓名",
    "父亲身份证号",
    "父亲当前状态",
    "父亲务工地点",
    "父亲联系电话",
    "母亲姓名",
    "母亲身份证号",
    "母亲当前状态",
    "母亲务工地点",
    "母亲联系电话",
    "受委托监护人姓名",
    "受委托监护人联系电话",
    "受委托监护人身份证号",
    "与儿童关系",
    "受委托监护人居住地址",
    "家庭经济来源",
    "救助帮扶情况",
    "是否困境儿童",
    "是否事实无人抚养儿童",
)
ETHNICITIES = ("汉族", "壮族", "瑶族", "苗族", "回族")
SURNAMES = "陈李黄梁冯庞"
GIVEN = "一二三四五六七八九十"
WORK_PLACES = ("广东省 深圳市", "广东省", "浙江省 杭州市", "广东省　东莞市")  # the last: full-width space


def _cycle(values: Sequence[str], n: int) -> str:
    return values[n % len(values)]


def _labels(choices: type[models.TextChoices]) -> list[str]:
    return [str(label) for label in choices.labels]


def _id(birth: dt.date, sequence: int) -> str:
    return idnumber.make("450521", birth, sequence)


def _parent(n: int, role: str) -> dict[str, str]:
    """Status cycles through every value; away parents get a work place and a phone."""
    father = role == "父亲"
    status = _cycle(_labels(c.ParentStatus), n // 2 if father else n // 3)
    born = dt.date(1980 + n % 10, 1 + n % 12, 1 + n % 27)
    cells = {
        f"{role}姓名": ("冯" if father else "黄") + _cycle(GIVEN, n) + ("父" if father else "母"),
        f"{role}身份证号": _id(born, 200 + 2 * n + (1 if father else 0)),
        f"{role}当前状态": status,
    }
    if status == "外出务工":
        cells[f"{role}务工地点"] = _cycle(WORK_PLACES, n)
        # Full-width digits, as some ledgers carry them.
        cells[f"{role}联系电话"] = f"1380000{n:04d}" if father else f"１３９００００{n:04d}"
    return cells


def _guardian(n: int) -> dict[str, str]:
    if n % 4 == 0:
        return {}
    return {
        "受委托监护人姓名": f"梁{_cycle(GIVEN, n)}婆",
        "受委托监护人联系电话": f"1360000{n:04d}",
        "受委托监护人身份证号": _id(dt.date(1955, 1 + n % 12, 2), 300 + n),
        "与儿童关系": _cycle(_labels(c.GuardianRelation), n // 2),
        "受委托监护人居住地址": f"合浦县廉州镇中山路{n}号",
    }


def _health(n: int) -> dict[str, str]:
    if n % 4 == 1:
        category = _cycle(_labels(c.DisabilityCategory), n // 4)
        return {"身体情况": "残疾", "残疾类别及等级": category + _cycle(_labels(c.DisabilityGrade), n // 4)}
    if n % 4 == 2:
        return {"身体情况": "患病", "患病类型": "先天性心脏病"}
    return {"身体情况": "健康"}


def _name(n: int) -> str:
    if n == 7:
        return "陈" + RARE
    if n == 8:
        return "李　小　龙"  # full-width spaces a ledger pads names with
    return _cycle(SURNAMES, n) + _cycle(GIVEN, n) + GIVEN[n // 10]


def ledger_row(n: int) -> list[str]:
    township, village = PLACES[n % len(PLACES)]
    birth = dt.date(2010, 1, 1) + dt.timedelta(days=97 * n)
    incomes, assistance = _labels(c.Income), _labels(c.Assistance)
    cells = {
        "乡镇": township,
        "村（社区）": village,
        "儿童姓名": _name(n),
        "民族": _cycle(ETHNICITIES, n),
        "身份证号": _id(birth, 100 + n),
        "是否登记户口": "否" if n == 5 else "是",
        "户籍所在地": "广西壮族自治区合浦县",
        "现居住地": f"{village}（{n}队）１２号" if n % 2 else f"{village}{n}号",
        "是否寄宿": _cycle(("是", "否"), n // 3),
        "就学情况": _cycle(_labels(c.Schooling), n),
        "照料类型": _cycle(_labels(c.CareType), n // 2),
        "监护情况评估": _cycle(_labels(c.Rating), n // 3),
        "家庭经济来源": "、".join(incomes[: 1 + n % len(incomes)]),
        "救助帮扶情况": "" if n % 5 == 0 else "、".join(assistance[n % len(assistance) :]),
        "是否困境儿童": "是" if n % 7 == 0 else "否",
        "是否事实无人抚养儿童": "是" if n % 11 == 0 else "否",
        **_health(n),
        **_parent(n, "父亲"),
        **_parent(n, "母亲"),
        **_guardian(n),
    }
    return [cells.get(header, "") for header in HEADERS]


# --- the doors ---------------------------------------------------------------------------------


def _upload(client: Client, content: bytes, name: str) -> Batch:
    """Upload and preview; when the mapping screen comes up, save what it proposes (the roster's
    extra columns stay 不导入: test_the_mapping_screen_proposes_every_roster_column_…)."""
    response = client.post("/imports/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content.decode()[:3000]
    batch = Batch.objects.latest("created_at")
    assert response["Location"] in (f"/imports/{batch.id}/", f"/imports/{batch.id}/mapping/")
    if response["Location"].endswith("/mapping/"):
        batch = _map(client, batch)
    return _run_preview(batch)


def _map(client: Client, batch: Batch) -> Batch:
    page = client.get(f"/imports/{batch.id}/mapping/")
    form = page.context["form"]
    data = {f"col_{index}": field.value() or "" for index, field in form.columns()}
    response = client.post(f"/imports/{batch.id}/mapping/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    batch.refresh_from_db()
    return batch


def _run_preview(batch: Batch) -> Batch:
    batch.refresh_from_db()
    assert batch.preview_job_id is not None
    assert job_run(job_id=batch.preview_job_id) == "succeeded"
    batch.refresh_from_db()
    return batch


def _commit(client: Client, batch: Batch) -> Batch:
    assert client.post(f"/imports/{batch.id}/commit/").status_code == 302
    batch.refresh_from_db()
    assert batch.commit_job_id is not None
    outcome = job_run(job_id=batch.commit_job_id)
    batch.refresh_from_db()
    assert outcome == "succeeded", batch.commit_job.error if batch.commit_job else None
    return batch


def _errors(batch: Batch) -> list[tuple[int, list[Any]]]:
    return [(row.number, row.errors) for row in ImportRow.objects.filter(batch=batch, outcome=Outcome.ERROR)]


def _export(client: Client, fmt: str) -> bytes:
    response = client.get(f"/forms/roster.{fmt}", {"reveal": "1"})
    assert response.status_code == 200
    return _body(response)


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _cells(content: bytes, fmt: str) -> list[list[Any]]:
    if fmt == "xlsx":
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
        return [list(row) for row in sheet.to_python()]
    return [list(row) for row in csv.reader(io.StringIO(content.decode("utf-8-sig")))]


def _history_rows() -> tuple[int, int, int]:
    return ChildHistory.objects.count(), ParentHistory.objects.count(), GuardianHistory.objects.count()


@pytest.fixture
def imported(world: World, login: Any) -> Client:
    client: Client = login("county_admin")
    content = files.xlsx([list(HEADERS), *(ledger_row(n) for n in range(1, COUNT + 1))])
    batch = _upload(client, content, "台账.xlsx")
    assert _errors(batch) == []
    assert batch.new_count == COUNT
    _commit(client, batch)
    _assert_varied(Child.objects.exclude(pk__in=[child.pk for child in world.children.values()]))
    return client


def _assert_varied(children: Any) -> None:
    """The file is as varied as promised: every code-list value is used somewhere."""

    def used(model: Any, field: str, **filters: Any) -> set[object]:
        return set(model.objects.filter(**filters).values_list(field, flat=True))

    assert children.count() == COUNT
    for field, choices in (
        ("sex", c.Sex),
        ("health", c.Health),
        ("disability_category", c.DisabilityCategory),
        ("disability_grade", c.DisabilityGrade),
        ("schooling", c.Schooling),
        ("care_type", c.CareType),
        ("guardianship_rating", c.Rating),
    ):
        assert set(choices.values) <= set(children.values_list(field, flat=True)), field
    for field in ("hukou_registered", "boarding", "is_in_difficulty", "is_de_facto_orphan"):
        assert set(children.values_list(field, flat=True)) == {True, False}, field
    incomes = {code for codes in children.values_list("income_sources", flat=True) for code in codes}
    assistance = {code for codes in children.values_list("assistance", flat=True) for code in codes}
    assert incomes == set(c.Income.values) and assistance == set(c.Assistance.values)
    for role in c.ParentRole.values:
        assert used(Parent, "status", child__in=children, role=role) == set(c.ParentStatus.values), role
    assert used(EntrustedGuardian, "relation", child__in=children) == set(c.GuardianRelation.values)
    assert 0 < EntrustedGuardian.objects.filter(child__in=children).count() < COUNT
    assert children.filter(name="陈" + RARE).exists() and children.filter(name="李小龙").exists()


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_reimporting_the_revealed_roster_changes_nothing(imported: Client, fmt: str) -> None:
    client = imported
    first = _export(client, fmt)
    table = _cells(first, fmt)
    assert str(table[0][0]).startswith("导出人：county_admin") and table[1] == ROSTER_HEADERS
    assert len(table) == 2 + COUNT + 3  # watermark, headers, the 30 and the World's three in the county
    ids = {row[ROSTER_HEADERS.index("公民身份号码")] for row in table[2:]}
    assert ledger_row(1)[HEADERS.index("身份证号")] in ids  # revealed: the numbers in full
    before = _history_rows()

    batch = _upload(client, first, f"花名册.{fmt}")
    assert _errors(batch) == []
    assert (batch.new_count, batch.update_count, batch.unchanged_count) == (0, 0, COUNT + 3)
    page = client.get(f"/imports/{batch.id}/").content.decode()
    assert "确认导入（0 份新建，0 份更新）" in page
    _commit(client, batch)
    assert batch.commit_job is not None and batch.commit_job.result == {
        "rows": COUNT + 3,
        "created": 0,
        "updated": 0,
        "unchanged": COUNT + 3,
    }
    assert _history_rows() == before

    second = _cells(_export(client, fmt), fmt)
    assert second[1:] == table[1:]


# Roster columns that carry nothing the import writes: a row number, the county (implied by the
# village), the school (a school is chosen from the school list, not typed), "has a guardian"
# (implied by the guardian's columns) and the file number (given by the system).
NOT_IMPORTED = {"序号", "县（市、区）", "就读学校", "有无委托监护人", "档案编号"}


def test_the_mapping_screen_proposes_every_roster_column_the_import_writes(imported: Client) -> None:
    client = imported
    response = client.post("/imports/", {"file": SimpleUploadedFile("花名册.xlsx", _export(client, "xlsx"))})
    batch = Batch.objects.latest("created_at")
    assert batch.headers == ROSTER_HEADERS
    unmapped = {header for index, header in enumerate(batch.headers) if str(index) not in batch.mapping}
    assert unmapped == NOT_IMPORTED
    # Those columns are known not to be imported: no mapping screen, straight to the preview.
    assert response["Location"] == f"/imports/{batch.id}/"


def test_one_cell_edited_in_the_export_is_the_one_update(imported: Client) -> None:
    client = imported
    table = _cells(_export(client, "xlsx"), "xlsx")
    column = ROSTER_HEADERS.index("监护情况评估")
    row = next(i for i, cells in enumerate(table) if i > 1 and cells[column] == "较好")
    child = Child.objects.get(id_index=id_index(str(table[row][ROSTER_HEADERS.index("公民身份号码")])))
    edited = [list(cells) for cells in table]
    edited[row][column] = "差"
    before = _history_rows()

    batch = _upload(client, files.xlsx(edited), "花名册-改.xlsx")
    assert _errors(batch) == []
    assert (batch.new_count, batch.update_count, batch.unchanged_count) == (0, 1, COUNT + 2)
    update = ImportRow.objects.get(batch=batch, outcome=Outcome.UPDATE)
    assert (update.number, update.child_id) == (row + 1, child.pk)
    assert update.changes == [["监护情况评估", "较好", "差"]]
    page = client.get(f"/imports/{batch.id}/", {"outcome": Outcome.UPDATE}).content.decode()
    assert "<td>监护情况评估</td><td>较好</td><td>差</td>" in page
    assert "确认导入（0 份新建，1 份更新）" in page

    _commit(client, batch)
    child_rows, parent_rows, guardian_rows = before
    assert _history_rows() == (child_rows + 1, parent_rows, guardian_rows)
    child.refresh_from_db()
    assert child.guardianship_rating == c.Rating.POOR
    after = _cells(_export(client, "xlsx"), "xlsx")
    assert len(after) == len(table)
    differences = [
        (i, j) for i in range(1, len(table)) for j, value in enumerate(after[i]) if value != table[i][j]
    ]
    assert differences == [(row, column)]


def test_a_masked_roster_does_not_overwrite_the_numbers(imported: Client) -> None:
    """The default (masked) export uploaded back: the masked ID numbers are refused, never
    stored over the real ones."""
    client = imported
    response = client.get("/forms/roster.xlsx")
    masked = _body(response)
    batch = _upload(client, masked, "花名册.xlsx")
    assert (batch.error_count, batch.new_count, batch.update_count) == (COUNT + 3, 0, 0)
    for _, errors in _errors(batch):
        assert errors[0]["column"] == "公民身份号码" and "*" in errors[0]["value"]
        assert "脱敏" in errors[0]["reason"]  # says why, and what to do instead
    response = client.post(f"/imports/{batch.id}/commit/", follow=True)
    assert "只有预览完成且没有错误的批次才能导入" in response.content.decode()
    batch.refresh_from_db()
    assert batch.commit_job_id is None
