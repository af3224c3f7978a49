"""附件3: the tally, the identities (勾稽关系), and the page and its download."""

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from audit.models import AuditEvent, EventType
from geo.models import Region
from nationalforms import table3 as t3
from registry import choices as c
from registry.models import Child
from registry.selectors import LedgerFilters, ledger
from testing.world import World, make_child

ON = dt.date(2024, 6, 30)


def facts(**overrides: Any) -> t3.ChildFacts:
    values: dict[str, Any] = {
        "sex": c.Sex.MALE,
        "birth_date": dt.date(2015, 6, 1),
        "schooling": c.Schooling.PRIMARY,
        "boarding": False,
        "care_type": c.CareType.GRANDPARENTS,
        "rating": c.Rating.GOOD,
        "health": c.Health.HEALTHY,
        "father_status": c.ParentStatus.AWAY,
        "father_incapacity": "",
        "mother_status": c.ParentStatus.AWAY,
        "mother_incapacity": "",
        "cross_province": True,
    }
    values.update(overrides)
    return t3.ChildFacts(**values)


def col(counts: list[int], number: int) -> int:
    return counts[number - 1]


# --- the tally on hand-made facts ---------------------------------------------------------------


def test_it_has_32_numbered_columns_with_the_r30_orders() -> None:
    assert [number for number, _ in t3.COLUMNS] == list(range(1, 33))
    assert t3.HEADINGS[11] == "就学情况：幼儿园" and t3.HEADINGS[17] == "就学情况：辍学"
    assert t3.HEADINGS[26] == "监护类型：（外）祖父母照料" and t3.HEADINGS[31] == "监护类型：单独居住"


def test_it_puts_each_family_situation_in_its_column() -> None:
    both_cross = facts()
    both_home_province = facts(cross_province=False)
    mother_ill_at_home = facts(mother_status=c.ParentStatus.AT_HOME, mother_incapacity="serious_illness")
    father_disabled_at_home = facts(
        father_status=c.ParentStatus.AT_HOME, father_incapacity="serious_disability"
    )
    father_deceased = facts(father_status=c.ParentStatus.DECEASED)
    counts = t3.tally(
        [both_cross, both_home_province, mother_ill_at_home, father_disabled_at_home, father_deceased], on=ON
    )
    assert [col(counts, n) for n in range(1, 9)] == [5, 2, 1, 1, 2, 1, 1, 1]
    assert t3.check(counts) == []


def test_it_counts_only_children_left_behind_on_the_reference_date() -> None:
    at_home = facts(father_status=c.ParentStatus.AT_HOME)  # the father cares for the child
    sixteen = facts(birth_date=dt.date(2008, 6, 30))  # 16 on the reference date
    unborn = facts(birth_date=dt.date(2024, 7, 1))
    fifteen = facts(birth_date=dt.date(2008, 7, 1), schooling=c.Schooling.JUNIOR, boarding=True)
    counts = t3.tally([at_home, sixteen, unborn, fifteen], on=ON)
    assert col(counts, 1) == 1
    assert (col(counts, 21), col(counts, 22), col(counts, 23)) == (0, 0, 1)
    assert (col(counts, 14), col(counts, 24), col(counts, 25)) == (1, 1, 0)


def test_it_counts_ages_on_the_reference_date_in_the_r2_bands() -> None:
    ages = [facts(birth_date=dt.date(2024 - years, 6, 30)) for years in (0, 5, 6, 13, 14, 15)]
    counts = t3.tally(ages, on=ON)
    assert (col(counts, 21), col(counts, 22), col(counts, 23)) == (2, 2, 2)


def test_it_counts_health_sex_schooling_care_and_rating() -> None:
    items = [
        facts(health=c.Health.DISABLED, sex=c.Sex.FEMALE, rating=c.Rating.POOR),
        facts(health=c.Health.ILL, schooling=c.Schooling.DROPOUT, care_type=c.CareType.LIVING_ALONE),
        facts(schooling=c.Schooling.PRIMARY, boarding=True),
    ]
    counts = t3.tally(items, on=ON)
    assert (col(counts, 9), col(counts, 10), col(counts, 32)) == (1, 1, 1)
    assert (col(counts, 19), col(counts, 20)) == (2, 1)
    assert (col(counts, 13), col(counts, 17), col(counts, 24), col(counts, 25)) == (2, 1, 1, 1)
    assert (col(counts, 26), col(counts, 31)) == (2, 1)
    assert t3.check(counts) == []


def test_it_names_the_broken_identity_in_chinese() -> None:
    counts = t3.tally([facts(), facts(sex=c.Sex.FEMALE)], on=ON)
    counts[19 - 1] += 1
    assert t3.check(counts) == ["第1列（留守儿童合计）应等于第19、20列之和：2 ≠ 3"]
    counts[19 - 1] -= 1
    counts[11 - 1] += 1
    assert t3.check(counts) == ["第1列（留守儿童合计）应等于第11至18列之和：2 ≠ 3"]


def test_it_reports_a_count_larger_than_the_total() -> None:
    counts = t3.tally([facts()], on=ON)
    counts[32 - 1] = 2
    assert t3.check(counts) == ["第32列（监护情况差）不应大于第1列（留守儿童合计）：2 > 1"]


def test_it_reports_a_value_outside_the_code_list_as_a_broken_identity() -> None:
    counts = t3.tally([facts(schooling="unknown")], on=ON)
    assert t3.check(counts) == ["第1列（留守儿童合计）应等于第11至18列之和：1 ≠ 0"]


# --- hypothesis: the identities hold on any data, and a changed count breaks one ------------------

PARENT_STATUSES = st.sampled_from(c.ParentStatus.values)
INCAPACITY = st.sampled_from(c.IncapacityReason.values)
FACTS = st.builds(
    t3.ChildFacts,
    sex=st.sampled_from(c.Sex.values),
    birth_date=st.dates(dt.date(2006, 1, 1), dt.date(2025, 12, 31)),
    schooling=st.sampled_from(c.Schooling.values),
    boarding=st.booleans(),
    care_type=st.sampled_from(c.CareType.values),
    rating=st.sampled_from(c.Rating.values),
    health=st.sampled_from(c.Health.values),
    father_status=PARENT_STATUSES,
    father_incapacity=INCAPACITY,
    mother_status=PARENT_STATUSES,
    mother_incapacity=INCAPACITY,
    cross_province=st.booleans(),
)
REFERENCE = st.dates(dt.date(2016, 7, 31), dt.date(2025, 12, 31))


@settings(max_examples=150, deadline=None)
@given(st.lists(FACTS, max_size=40), REFERENCE)
def test_the_tally_of_any_facts_passes_every_identity(items: list[t3.ChildFacts], on: dt.date) -> None:
    counts = t3.tally(items, on=on)
    assert t3.check(counts) == []
    assert col(counts, 1) == sum(t3.counts_on(item, on) for item in items)


# Columns no identity constrains from below (a count ≤ the total): raising them may still pass.
_FREE_WHEN_RAISED = {9, 10, 32}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(FACTS, min_size=1, max_size=30),
    REFERENCE,
    st.integers(1, 32),
    st.integers(-3, 3).filter(bool),
)
def test_altering_any_count_names_a_broken_identity(
    items: list[t3.ChildFacts], on: dt.date, column: int, delta: int
) -> None:
    counts = t3.tally(items, on=on)
    counts[column - 1] += delta
    problems = t3.check(counts)
    if column in _FREE_WHEN_RAISED and 0 <= counts[column - 1] <= counts[0]:
        assert problems == []
        return
    assert problems, f"column {column} {delta:+d} went unnoticed"
    assert any(column in _columns_named(problem) for problem in problems), problems


def _columns_named(problem: str) -> set[int]:
    """The columns a message names: "第1列", "第19、20列", "第11至18列"."""
    named: set[int] = set()
    for group in re.findall(r"第([\d、至]+)列", problem):
        for item in group.split("、"):
            low, _, high = item.partition("至")
            named.update(range(int(low), int(high or low) + 1))
    return named


# --- the table from the database, the page and the download ---------------------------------------


def _county_extra(world: World) -> dict[str, Child]:
    """More files in township A and B: one with a mother ill at home, one whose father is away
    inside the province, a girl in junior school boarding; one not left behind."""
    admin = world.users["county_admin"]
    home = Region.objects.get(code="45", valid_to__isnull=True)
    return {
        "ill_mother": make_child(
            world.village_a2,
            admin,
            name="钱七",
            mother={"name": "孙母", "status": "at_home", "incapacity_reason": "serious_illness"},
        ),
        "in_province": make_child(
            world.village_b1,
            admin,
            name="周八",
            sex=c.Sex.FEMALE,
            schooling=c.Schooling.JUNIOR,
            boarding=True,
            birth_date=dt.date(2011, 3, 1),
            father={"name": "周父", "status": "away", "work_province": home},
            mother={"name": "吴母", "status": "away", "work_province": home},
        ),
        "not_left_behind": make_child(
            world.village_b1, admin, name="郑九", father={"name": "郑父", "status": "at_home"}
        ),
    }


def _ledger_count(world: World, **filters: Any) -> int:
    children = Child.objects.filter(county=world.county)
    return ledger(children, LedgerFilters(category="left_behind", **filters)).count()


def test_each_township_row_equals_the_ledger_filtered_the_same_way(world: World, login) -> None:
    _county_extra(world)
    response = login("county_admin").get("/forms/table3/")
    assert response.status_code == 200
    table: t3.Table3 = response.context["table"]
    assert table.by == "township"
    rows = {row.region_id: row for row in table.rows}
    for township in (world.township_a, world.township_b):
        counts = rows[township.id].counts
        assert col(counts, 1) == _ledger_count(world, township=str(township.id))
        assert col(counts, 20) == (
            ledger(Child.objects.filter(township=township), LedgerFilters(category="left_behind"))
            .filter(sex=c.Sex.FEMALE)
            .count()
        )
        for number, care_type in enumerate(c.CareType.values, start=26):
            assert col(counts, number) == _ledger_count(world, township=str(township.id), care_type=care_type)
        for number, schooling in enumerate(c.Schooling.values, start=11):
            assert col(counts, number) == _ledger_count(world, township=str(township.id), schooling=schooling)
    assert col(table.total.counts, 1) == _ledger_count(world) == 5
    assert table.passed
    a, b = rows[world.township_a.id].counts, rows[world.township_b.id].counts
    assert (col(a, 5), col(a, 6)) == (1, 1)  # the mother ill at home: the father is away
    assert (col(b, 3), col(b, 4), col(b, 24)) == (1, 1, 1)
    body = response.content.decode()
    assert "勾稽关系通过" in body and t3.RECONSTRUCTION_NOTE in body
    assert "廉州镇" in body and "党江镇" in body
    assert AuditEvent.objects.filter(action=EventType.LIST, object_type="statistics").exists()


def test_a_township_supervisor_gets_a_row_per_village_and_a_village_worker_one_row(
    world: World, client: Client, login
) -> None:
    table = login("township_supervisor").get("/forms/table3/").context["table"]
    assert table.by == "village"
    assert [row.name for row in table.rows] == ["甲一村委会", "甲二村委会"]
    assert [col(row.counts, 1) for row in table.rows] == [1, 1]
    client.logout()
    table = login("village_worker").get("/forms/table3/").context["table"]
    assert [(row.name, col(row.counts, 1)) for row in table.rows] == [("甲一村委会", 1)]
    assert col(table.total.counts, 1) == 1


def test_the_reference_date_changes_the_ages(world: World, login) -> None:
    client = login("county_admin")
    today = client.get("/forms/table3/").context["table"]
    assert col(today.total.counts, 21) + col(today.total.counts, 22) == 3
    earlier = client.get("/forms/table3/", {"on": "2019-01-01"}).context["table"]
    assert col(earlier.total.counts, 21) == 3  # born 2015: three years old then
    bad = client.get("/forms/table3/", {"on": "2999-01-01"})
    assert "统计基准日不能晚于今天。" in bad.content.decode()


def test_a_broken_row_shows_its_messages(world: World, login, monkeypatch: pytest.MonkeyPatch) -> None:
    original = t3._add

    def broken(counts: list[int], item: t3.ChildFacts, on: dt.date) -> None:
        original(counts, item, on)
        counts[0] += 1  # a column-1 count the other columns do not explain

    monkeypatch.setattr(t3, "_add", broken)
    body = login("county_admin").get("/forms/table3/").content.decode()
    assert "有行未通过勾稽关系检查" in body
    assert "第1列（留守儿童合计）应等于第19、20列之和" in body


def test_it_downloads_the_table_as_xlsx(world: World, login) -> None:
    _county_extra(world)
    response = login("county_admin").get("/forms/table3.xlsx", {"on": "2024-06-30"})
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert str(sheet[0][0]).startswith("导出人：county_admin")
    assert sheet[1][:3] == ["乡镇（街道）", "1 留守儿童合计", "2 父母均外出务工"]
    assert sheet[1][-1] == "勾稽关系检查" and len(sheet[1]) == 34
    by_name = {row[0]: row for row in sheet[2:]}
    assert by_name["合计"][1] == 5 and by_name["合计"][-1] == "勾稽关系通过"
    assert by_name["廉州镇"][1] == 3 and by_name["党江镇"][1] == 2
    event = AuditEvent.objects.get(action=EventType.EXPORT)
    assert (event.object_type, event.detail["kind"]) == ("statistics", "table3")


@pytest.mark.parametrize("persona", ["school_staff", "police", "social_worker", "auditor", "no_role"])
def test_other_roles_may_not_see_the_table(world: World, login, persona: str) -> None:
    client = login(persona)
    assert client.get("/forms/table3/").status_code == 403
    assert client.get("/forms/table3.xlsx").status_code == 403


def test_table3_gives_a_row_per_region_met_and_the_total(world: World) -> None:
    children = Child.objects.filter(county=world.county)
    table = t3.table3(children, on=ON, by="village")
    assert [(row.name, col(row.counts, 1)) for row in table.rows] == [
        ("甲一村委会", 1),
        ("甲二村委会", 1),
        ("乙一村委会", 1),
    ]
    assert col(table.total.counts, 1) == 3 and table.passed
    with pytest.raises(ValueError):
        t3.table3(children, on=ON, by="county")


def test_build_table_keeps_listed_regions_with_zeros_and_names_unknown_ones() -> None:
    triples = [("v1", "t1", facts()), ("v9", "t9", facts())]
    table = t3.build_table(triples, on=ON, by="village", regions=[("v0", "空村"), ("v1", "一村")])
    assert [(row.name, col(row.counts, 1)) for row in table.rows] == [
        ("空村", 0),
        ("一村", 1),
        ("未知区划", 1),
    ]
    assert col(table.total.counts, 1) == 2
