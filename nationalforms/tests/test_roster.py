"""附件2 花名册: the downloaded files read back row by row, masking, scope, filters, denial."""

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from python_calamine import CalamineWorkbook

from audit.models import AuditEvent, EventType
from core.masking import mask_id, mask_phone
from geo.models import Region
from nationalforms.roster import ROSTER_COLUMNS, ROSTER_HEADERS, roster_row, roster_row_of, roster_rows
from registry import choices as c
from registry.models import Child, EntrustedGuardian, Parent
from testing.world import World, make_child

FORMULA = '=HYPERLINK("http://e.cn","点我")'
DENIED = ["school_staff", "police", "social_worker", "visiting_cadre", "reporter", "auditor", "no_role"]


@pytest.fixture
def county(world: World) -> World:
    """The World, plus a guardian for a1, a fuller file in b1, and a child whose name is a
    formula (in b1, outside the village worker's and the township supervisor's scope)."""
    a1 = world.children["a1"]
    EntrustedGuardian.objects.create(
        child=a1,
        name="张奶奶",
        phone="13600000009",
        id_number="450521195501010021",
        relation=c.GuardianRelation.GRANDMOTHER,
        address="甲一村 3 号",
    )
    shenzhen = Region.objects.get(code="4403", valid_to__isnull=True)
    make_child(
        world.village_b1,
        world.users["county_admin"],
        name=FORMULA,
        health=c.Health.DISABLED,
        disability_category=c.DisabilityCategory.PHYSICAL,
        disability_grade=c.DisabilityGrade.G2,
        income_sources=[c.Income.MIGRANT_WORK, c.Income.FARMING],
        assistance=[c.Assistance.DIBAO],
        is_in_difficulty=True,
        hukou_place="+广西合浦",
        father={
            "name": "-冯父",
            "status": "away",
            "phone": "13511112222",
            "work_province": shenzhen.parent,
            "work_city": shenzhen,
            "birth_date": dt.date(1985, 2, 3),
        },
    )
    return world


def _csv(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _xlsx(response: Any) -> list[list[object]]:
    data = b"".join(response.streaming_content)
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _text(value: object, mask: str | None, reveal: bool) -> str:
    """What a spreadsheet cell shows for a roster value (independent of core.exports)."""
    if value is None or value == "":
        return ""
    if mask and not reveal:
        return mask_id(str(value)) if mask == "id" else mask_phone(str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in "=+-@" else text


def expected(children: list[Child], *, reveal: bool = False) -> list[list[str]]:
    rows = []
    for number, child in enumerate(children, start=1):
        row = roster_row_of(Child.objects.get(pk=child.pk), number=number)
        rows.append([_text(v, col.mask, reveal) for v, col in zip(row, ROSTER_COLUMNS, strict=True)])
    return rows


def _in_order(*children: Child) -> list[Child]:
    return sorted(children, key=lambda child: child.file_no)


def test_the_csv_reads_back_equal_to_the_rows_masked_by_default(county: World, login) -> None:
    response = login("county_admin").get("/forms/roster.csv")
    assert response.status_code == 200
    table = _csv(response)
    assert table[0][0].startswith("导出人：county_admin")
    assert table[1] == ROSTER_HEADERS
    children = _in_order(*(county.children[k] for k in ("a1", "a2", "b1")), Child.objects.get(name=FORMULA))
    assert table[2:] == expected(children)
    body = "\n".join(",".join(row) for row in table)
    for child in children:
        assert child.id_number not in body
        assert mask_id(child.id_number) in body
    assert "13800000001" not in body and mask_phone("13800000001") in body
    event = AuditEvent.objects.get(action=EventType.EXPORT)
    assert (event.detail["kind"], event.detail["rows"], event.detail["revealed"]) == ("roster", 4, False)


def test_the_xlsx_reads_back_equal_to_the_rows(county: World, login) -> None:
    response = login("county_admin").get("/forms/roster.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith(".xlsx")
    sheet = _xlsx(response)
    assert sheet[1] == ROSTER_HEADERS
    children = _in_order(*(county.children[k] for k in ("a1", "a2", "b1")), Child.objects.get(name=FORMULA))
    got = [[str(int(v)) if isinstance(v, float) else str(v) for v in row] for row in sheet[2:]]
    assert got == [[str(v) for v in row] for row in expected(children)]


def test_a_formula_is_neutralised_in_both_formats(county: World, login) -> None:
    client = login("county_admin")
    for table in (_csv(client.get("/forms/roster.csv")), _xlsx(client.get("/forms/roster.xlsx"))):
        row = next(r for r in table[2:] if FORMULA in str(r[4]))
        assert row[4] == "'" + FORMULA
        assert row[ROSTER_HEADERS.index("户籍所在地")] == "'+广西合浦"
        assert row[ROSTER_HEADERS.index("父亲姓名")] == "'-冯父"


def test_the_fields_of_a_full_row(county: World, login) -> None:
    table = _csv(login("county_admin").get("/forms/roster.csv"))
    row = dict(zip(table[1], next(r for r in table[2:] if FORMULA in r[4]), strict=True))
    assert [row["县（市、区）"], row["乡镇（街道）"], row["村（社区）"]] == ["合浦县", "党江镇", "乙一村委会"]
    assert row["残疾类别及等级"] == "肢体残疾二级" and row["身体情况"] == "残疾"
    assert row["父亲当前务工地点"] == "广东省 深圳市" and row["父亲出生日期"] == "1985-02-03"
    assert row["家庭经济来源"] == "打工、种养殖" and row["救助帮扶情况"] == "低保"
    assert row["困境儿童"] == "是" and row["事实无人抚养儿童"] == "否" and row["有无委托监护人"] == "否"
    assert row["监护类型"] == "（外）祖父母照料" and row["监护情况评估"] == "较好"
    a1 = _csv(login("county_admin").get("/forms/roster.csv"))[2]
    guardian = dict(zip(table[1], a1, strict=True))
    assert guardian["有无委托监护人"] == "是" and guardian["与儿童关系"] == "祖母"
    assert guardian["受委托监护人联系电话"] == "136****0009"
    assert guardian["受委托监护人公民身份号码"] == "450521********0021"


def test_reveal_gives_full_numbers_to_a_user_who_may_reveal(county: World, login) -> None:
    table = _csv(login("county_admin").get("/forms/roster.csv", {"reveal": "1"}))
    children = _in_order(*(county.children[k] for k in ("a1", "a2", "b1")), Child.objects.get(name=FORMULA))
    assert table[2:] == expected(children, reveal=True)
    assert county.children["a1"].id_number in table[2]
    assert AuditEvent.objects.get(action=EventType.EXPORT).detail["revealed"] is True


def test_reveal_is_refused_to_a_county_officer(county: World, login) -> None:
    response = login("county_officer").get("/forms/roster.csv", {"reveal": "1"})
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=EventType.EXPORT).exists()


def test_a_village_worker_exports_only_the_village(county: World, login) -> None:
    table = _csv(login("village_worker").get("/forms/roster.csv"))
    assert table[2:] == expected([county.children["a1"]])


def test_the_ledger_filters_apply_and_a_search_term_is_ignored(county: World, login) -> None:
    client = login("county_admin")
    township_b = _csv(client.get("/forms/roster.csv", {"township": str(county.township_b.id)}))
    assert [row[4] for row in township_b[2:]] == ["王五", "'" + FORMULA]
    in_difficulty = _csv(client.get("/forms/roster.csv", {"category": "in_difficulty", "q": "张三"}))
    assert [row[4] for row in in_difficulty[2:]] == ["'" + FORMULA]


@pytest.mark.parametrize("persona", DENIED)
def test_other_roles_may_not_export(county: World, client: Client, login, persona: str) -> None:
    client = login(persona)
    assert client.get("/forms/roster.csv").status_code == 403
    assert client.get("/forms/roster.xlsx").status_code == 403


def test_rows_from_history_equal_rows_from_the_file(county: World) -> None:
    """The submissions app builds rows from frozen historical instances."""
    child = Child.objects.get(pk=county.children["a1"].pk)
    parents = {p.role: p for p in Parent.objects.filter(child=child)}
    guardian = EntrustedGuardian.objects.get(child=child)
    live = roster_row(child, parents[c.ParentRole.FATHER], parents[c.ParentRole.MOTHER], guardian, number=7)
    history = roster_row(
        child.history.latest(),
        parents[c.ParentRole.FATHER].history.latest(),
        parents[c.ParentRole.MOTHER].history.latest(),
        guardian.history.latest(),
        number=7,
    )
    assert history == live
    assert live[0] == 7 and live[8] == child.id_number


def test_the_stream_is_one_query_read_in_chunks(county: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 2 over 4 rows: the statements do not grow with the rows (on PostgreSQL the rows
    come from psycopg's stream(), which Django does not log: only the transaction around it)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from nationalforms import roster

    monkeypatch.setattr(roster, "CHUNK", 2)
    children = Child.objects.filter(county=county.county)
    with CaptureQueriesContext(connection) as captured:
        rows = list(roster_rows(children))
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) == (0 if connection.vendor == "postgresql" else 1)
    assert len(captured.captured_queries) <= 3  # SAVEPOINT, SET LOCAL enable_sort, RELEASE
    assert [row[0] for row in rows] == [1, 2, 3, 4]
    assert [row[-1] for row in rows] == sorted(row[-1] for row in rows)


def test_each_rows_code_lists_are_labelled_when_the_same_list_recurs(county: World, login) -> None:
    """The stream parses each distinct list once: rows with equal lists and a row without."""
    lists = {"甲": [c.Income.FARMING], "乙": [c.Income.FARMING], "丙": [], "丁": [c.Income.OTHER]}
    for name, sources in lists.items():
        make_child(county.village_b1, county.users["county_admin"], name=name, income_sources=sources)
    table = _csv(login("county_admin").get("/forms/roster.csv", {"township": str(county.township_b.id)}))
    column = ROSTER_HEADERS.index("家庭经济来源")
    got = {row[4]: row[column] for row in table[2:] if row[4] in lists}
    assert got == {"甲": "种养殖", "乙": "种养殖", "丙": "", "丁": "其他"}


def test_a_download_cut_short_ends_the_query_and_is_logged(county: World, login) -> None:
    """The roster holds the connection while it streams: closing the response must end the
    query before the audit row is written, and leave the connection usable."""
    from testing.connections import test_connection_kept

    response = login("county_admin").get("/forms/roster.csv")
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks), next(chunks)  # watermark, headers, one row of four
    with test_connection_kept():
        response.close()
    event = AuditEvent.objects.get(action=EventType.EXPORT)
    assert (event.detail["rows"], event.detail["complete"]) == (1, False)
    assert Child.objects.filter(county=county.county).count() == 4
