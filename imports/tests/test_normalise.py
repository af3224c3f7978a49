"""Values normalised as the ledger writes them, and one row read into the child file's values
with errors per cell (masked), by the same cross-field rules the web form uses."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import idnumber
from geo.models import Region
from imports import normalise as n
from imports.columns import guess_mapping
from imports.reading import Cell, RawRow
from imports.regions import AMBIGUOUS, CODE_MISMATCH, OUT_OF_SCOPE, RegionLookup
from registry import choices as c
from testing.world import World, village

ID = idnumber.make("450521", dt.date(2012, 3, 4), 123)  # a boy


def _bad(parse: Any, value: Any) -> str:
    with pytest.raises(n.BadValue) as failed:
        parse(value)
    return failed.value.message


# --- text -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  张　三  ", "张 三"),
        ("ＡＢＣ１２３", "ABC123"),
        ("广东省\n东莞市", "广东省 东莞市"),
        (12.0, "12"),
        (None, ""),
        (True, "是"),
    ],
)
def test_text_is_half_width_stripped_and_collapsed(raw: Cell, clean: str) -> None:
    assert n.text(raw) == clean


@given(st.text())
def test_text_is_idempotent_and_has_no_outer_or_double_spaces(raw: str) -> None:
    once = n.text(raw)
    assert n.text(once) == once
    assert once == once.strip() and "  " not in once and "\u3000" not in once


# --- ID numbers -------------------------------------------------------------------------------------


def test_an_id_number_is_read_from_text_full_width_or_with_a_small_x() -> None:
    assert n.id_number(ID) == ID
    assert n.id_number(" " + ID.translate(str.maketrans("0123456789", "０１２３４５６７８９")) + " ") == ID
    assert n.id_number("'" + ID) == ID  # typed with Excel's text apostrophe
    assert n.id_number("") == ""


@pytest.mark.parametrize("raw", [float(ID.replace("X", "0")), int(ID.replace("X", "0")), "4.50521E+17"])
def test_an_id_number_stored_as_a_number_is_an_error_never_a_guess(raw: Cell) -> None:
    assert _bad(n.id_number, raw) == n.ID_LOST_DIGITS


@given(st.dates(dt.date(1950, 1, 1), dt.date(2024, 12, 31)), st.integers(0, 999))
def test_every_valid_id_reads_back_and_none_survives_excel(birth: dt.date, sequence: int) -> None:
    number = idnumber.make("450521", birth, sequence)
    assert n.id_number(number) == number
    assert _bad(n.id_number, float(number.replace("X", "0"))) == n.ID_LOST_DIGITS


def test_a_wrong_id_number_says_why() -> None:
    wrong_check = ID[:17] + ("0" if ID[17] != "0" else "1")
    assert _bad(n.id_number, wrong_check) == "身份证号码校验位不正确，请核对"
    assert _bad(n.id_number, "45052120120304") == "身份证号码应为 18 位"


# --- dates ------------------------------------------------------------------------------------------

MAY_3 = dt.date(2010, 5, 3)


@pytest.mark.parametrize(
    "raw",
    [
        "2010-05-03",
        "2010.5.3",
        "2010/5/3",
        "2010年5月3日",
        "2010 年 5 月 3 日",
        "20100503",
        20100503,
        "２０１０．０５．０３",
        "2010-05-03 00:00:00",
        40301,
        40301.0,
        "40301",
        MAY_3,
        dt.datetime(2010, 5, 3, 8, 30),
    ],
)
def test_a_date_is_read_in_every_usual_form(raw: Cell) -> None:
    assert n.date(raw) == MAY_3


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("五月三日", n.DATE_FORMAT),
        ("2010-02-30", "日期不存在：2010年2月30日"),
        ("2010.05", n.DATE_MISSING_DAY),
        ("2010年5月", n.DATE_MISSING_DAY),
        (2010.05, n.DATE_FORMAT),  # a month typed as a number
        (2010, n.DATE_FORMAT),  # a year: as a serial it would be 1905
        (True, n.DATE_FORMAT),
    ],
)
def test_a_date_that_cannot_be_read_is_an_error(raw: Cell, reason: str) -> None:
    assert _bad(n.date, raw) == reason


@given(st.dates(dt.date(1930, 1, 1), dt.date(2099, 12, 31)))
def test_excel_serials_of_the_1900_system_give_the_date_excel_shows(day: dt.date) -> None:
    # Excel counts 1900-02-29, which never was, so from March 1900 on serial = days since 1899-12-30.
    assert n.date((day - dt.date(1899, 12, 30)).days) == day


def test_blank_dates_are_none() -> None:
    assert n.date("") is None and n.date(None) is None and n.date("  ") is None


# --- booleans, choices, phones ---------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["是", "有", "√", "Y", "y", "yes", 1, 1.0, "1", True])
def test_yes(raw: Cell) -> None:
    assert n.boolean(raw) is True


@pytest.mark.parametrize("raw", ["否", "无", "×", "N", "no", 0, "0", False])
def test_no(raw: Cell) -> None:
    assert n.boolean(raw) is False


def test_a_boolean_that_is_neither_is_an_error() -> None:
    assert _bad(n.boolean, "也许") == n.BOOLEAN
    assert n.boolean("") is None


def test_a_choice_is_read_by_label_code_or_synonym() -> None:
    assert n.choice("男", c.Sex.choices) == "M"
    assert n.choice("女性", c.Sex.choices, {"女性": "F"}) == "F"
    assert n.choice("primary", c.Schooling.choices) == "primary"
    assert n.choice("（外）祖父母照料", c.CareType.choices) == "grandparents"  # full-width brackets
    assert n.choice("", c.Sex.choices) == ""
    assert n.SCHOOLING.code("小学在读") == "primary"
    assert n.CARE_TYPE.code("祖父母") == "grandparents"


def test_an_unknown_choice_lists_what_may_be_written() -> None:
    assert (
        _bad(lambda v: n.choice(v, c.Rating.choices), "还行") == "无法识别“还行”：请填写 较好、一般、差 之一"
    )


def test_a_multi_choice_takes_every_usual_separator() -> None:
    assert n.multi("打工、种养殖,政府救助；亲朋接济/其他", c.Income.choices) == [
        "migrant_work",
        "farming",
        "government_aid",
        "relatives_help",
        "other",
    ]
    assert n.multi("低保 低保", c.Assistance.choices) == ["dibao"]
    assert n.multi("无", c.Assistance.choices) == []
    assert _bad(lambda v: n.multi(v, c.Assistance.choices), "低保、彩票").startswith("无法识别“彩票”")


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        (13800138000.0, "13800138000"),
        (13800138000, "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0779-2222333", "0779-2222333"),
        ("", ""),
    ],
)
def test_a_phone_number_is_normalised(raw: Cell, number: str) -> None:
    assert n.phone(raw) == number


def test_a_wrong_phone_number_is_an_error() -> None:
    assert _bad(n.phone, "12345") == "请填写 11 位手机号码或带区号的固定电话"


# --- one row -----------------------------------------------------------------------------------------


@dataclass
class Places:
    township_b: Region
    a1: Region
    a2: Region
    b1: Region

    @property
    def county(self) -> list[Region]:
        return [self.a1, self.a2, self.b1]


@pytest.fixture
def places(world: World) -> Places:
    """The world's villages (the world is built once per module; RegionLookup.for_user is
    tested with its users below)."""
    return Places(township_b=world.township_b, a1=world.village_a1, a2=world.village_a2, b1=world.village_b1)


def _row(
    places: Places, cells: dict[str, Cell], scope: list[Region] | None = None
) -> tuple[n.RowValues, list[n.CellError]]:
    headers = list(cells)
    mapping = guess_mapping(headers)
    assert len(mapping) == len(headers), mapping  # every test header is recognised
    regions = RegionLookup(places.county if scope is None else scope)
    return n.normalise_row(RawRow(7, tuple(cells.values())), mapping, headers, regions=regions)


def _where(errors: list[n.CellError]) -> dict[str, str]:
    return {error.column: error.reason for error in errors}


BASE: dict[str, Cell] = {"姓名": "张小明", "身份证号": ID, "就学情况": "小学", "村": "甲一村委会"}


def test_a_good_row_gives_typed_values_and_leaves_blank_cells_out(places: Places) -> None:
    values, errors = _row(places, BASE | {"民族": "", "出生日期": "2012-03-04", "性别": "男"})
    assert errors == []
    assert values.number == 7
    assert values.village == places.a1
    assert values.child == {
        "name": "张小明",
        "id_number": ID,
        "birth_date": dt.date(2012, 3, 4),
        "sex": "M",
        "schooling": "primary",
    }
    assert values.father == {} and values.mother == {} and values.guardian is None


def test_the_id_number_gives_birth_date_and_sex_and_must_agree_with_them(places: Places) -> None:
    values, errors = _row(places, BASE)
    assert (values.child["birth_date"], values.child["sex"]) == (dt.date(2012, 3, 4), "M")
    assert errors == []
    _values, errors = _row(places, BASE | {"出生日期": "2012-03-05", "性别": "女"})
    assert _where(errors) == {"出生日期": n.BIRTH_MISMATCH, "性别": n.SEX_MISMATCH}


def test_without_an_id_number_birth_date_and_sex_are_required_by_the_form_rules(places: Places) -> None:
    _values, errors = _row(places, BASE | {"身份证号": "", "出生日期": "", "性别": ""})
    assert _where(errors) == {
        "出生日期": "未填写身份证号码时，请填写出生日期",
        "性别": "未填写身份证号码时，请选择性别",
    }


def test_a_bad_id_number_is_one_error_masked(places: Places) -> None:
    _values, errors = _row(places, BASE | {"身份证号": ID[:17] + "Y"})
    assert [(e.row, e.column, e.value) for e in errors] == [(7, "身份证号", f"{ID[:6]}********{ID[14:17]}Y")]


def test_a_bad_phone_is_masked_in_the_error(places: Places) -> None:
    _values, errors = _row(places, BASE | {"父亲姓名": "张父", "父亲联系电话": "1380013800099"})
    assert [(e.column, e.value) for e in errors] == [("父亲联系电话", "138****0099")]


def test_a_blank_name_is_an_error(places: Places) -> None:
    _values, errors = _row(places, BASE | {"姓名": "  "})
    assert _where(errors) == {"姓名": n.REQUIRED}


def test_a_name_padded_for_alignment_is_squeezed_and_a_long_one_refused(places: Places) -> None:
    values, _errors = _row(places, BASE | {"姓名": "张　小 明"})
    assert values.child["name"] == "张小明"
    _values, errors = _row(places, BASE | {"姓名": "张" * 33})
    assert _where(errors) == {"姓名": "内容过长：最多 32 个字"}


@pytest.mark.parametrize(
    ("label", "care_type", "rating"),
    [
        ("无人监护", "unsupervised", "poor"),
        ("父或母无监护能力", None, "poor"),
        ("受委托监护人监护能力不足", None, "poor"),
        ("监护情况一般", None, "fair"),
        ("监护情况较好", None, "good"),
        ("（外）祖父母照料", "grandparents", None),  # our own ledger export's 监护类型
        ("单独居住", "living_alone", None),
    ],
)
def test_the_mixed_guardianship_type_fills_care_type_and_rating(
    places: Places, label: str, care_type: str | None, rating: str | None
) -> None:
    values, errors = _row(places, BASE | {"监护类型": label})
    assert errors == []
    assert (values.child.get("care_type"), values.child.get("guardianship_rating")) == (care_type, rating)


def test_an_explicit_rating_column_wins_over_the_mixed_type(places: Places) -> None:
    values, _errors = _row(
        places, BASE | {"监护类型": "监护情况较好", "监护情况评估": "差", "照料类型": "亲友照料"}
    )
    assert values.child["guardianship_rating"] == "poor"
    assert values.child["care_type"] == "relatives"


def test_an_unknown_guardianship_type_is_an_error(places: Places) -> None:
    _values, errors = _row(places, BASE | {"监护类型": "很好"})
    assert _where(errors)["监护类型"].startswith("无法识别“很好”：请填写 无人监护、")


def test_disability_category_and_grade_in_one_column(places: Places) -> None:
    values, errors = _row(places, BASE | {"残疾类别及等级": "肢体残疾二级"})
    assert errors == []
    assert {k: values.child[k] for k in ("health", "disability_category", "disability_grade")} == {
        "health": "disabled",
        "disability_category": "physical",
        "disability_grade": "2",
    }
    values, _errors = _row(places, BASE | {"残疾类别及等级": "智力 3级"})
    assert (values.child["disability_category"], values.child["disability_grade"]) == ("intellectual", "3")
    _values, errors = _row(places, BASE | {"残疾类别及等级": "很严重"})
    assert list(_where(errors)) == ["残疾类别及等级"]


def test_the_form_rules_apply_and_land_on_the_right_column(places: Places) -> None:
    _values, errors = _row(places, BASE | {"身体情况": "患病"})
    assert _where(errors) == {"": "患病类型：患病儿童请填写患病类型"}  # no such column: row level
    _values, errors = _row(places, BASE | {"身体情况": "患病", "患病类型": ""})
    assert _where(errors) == {"患病类型": "患病儿童请填写患病类型"}


def test_a_parent_away_needs_a_work_place(places: Places) -> None:
    _values, errors = _row(places, BASE | {"父亲当前状态": "外出务工", "父亲务工地点": ""})
    assert _where(errors) == {"父亲务工地点": "外出务工的，请至少填写务工省份"}
    values, errors = _row(places, BASE | {"父亲当前状态": "外出务工", "父亲务工地点": "东莞"})
    assert errors == []
    assert (values.father["work_province"].code, values.father["work_city"].code) == ("44", "4419")


def test_a_parent_only_named_is_not_checked_for_a_work_place(places: Places) -> None:
    values, errors = _row(places, BASE | {"父亲姓名": "张大山", "父亲联系电话": 13800138000})
    assert errors == []
    assert values.father == {"name": "张大山", "phone": "13800138000"}


def test_a_work_place_gives_province_city_and_the_rest(places: Places) -> None:
    values, _errors = _row(places, BASE | {"母亲务工地点": "广东东莞长安镇某电子厂"})
    mother = values.mother
    assert (mother["work_province"].code, mother["work_city"].code) == ("44", "4419")
    assert mother["work_detail"] == "长安镇某电子厂"
    values, _errors = _row(places, BASE | {"母亲务工地点": "浙江省"})
    assert values.mother["work_province"].code == "33" and "work_city" not in values.mother


def test_a_parent_entered_as_a_dash_is_deceased(places: Places) -> None:
    values, errors = _row(places, BASE | {"父亲姓名": "—"})
    assert errors == [] and values.father == {"status": "deceased"}


def test_an_incapacity_in_the_writers_words_is_other_with_those_words(places: Places) -> None:
    values, errors = _row(places, BASE | {"母亲当前状态": "在家", "母亲无监护能力原因": "精神障碍"})
    assert errors == []
    assert values.mother["incapacity_reason"] == "other" and values.mother["incapacity_note"] == "精神障碍"
    values, _errors = _row(places, BASE | {"母亲当前状态": "在家", "母亲无监护能力原因": "重病"})
    assert values.mother["incapacity_reason"] == "serious_illness"


def test_a_guardian_needs_name_and_relation(places: Places) -> None:
    values, errors = _row(
        places, BASE | {"监护人姓名": "张老汉", "与儿童关系": "爷爷", "监护人电话": "13700137000"}
    )
    assert errors == []
    assert values.guardian == {"name": "张老汉", "relation": "grandfather", "phone": "13700137000"}
    _values, errors = _row(places, BASE | {"监护人姓名": "张老汉", "与儿童关系": ""})
    assert _where(errors) == {"与儿童关系": "添加受委托监护人时必须填写此项"}


def test_many_columns_of_the_form(places: Places) -> None:
    values, errors = _row(
        places,
        BASE
        | {
            "民族": "壮",
            "是否登记户口": "是",
            "户口性质": "农业",
            "是否学校寄宿": "走读",
            "家庭经济来源": "打工、种养殖",
            "救助帮扶情况": "低保",
            "是否困境儿童": "否",
            "年级班级": "三（2）班",
        },
    )
    assert errors == []
    assert {k: values.child[k] for k in ("ethnicity", "hukou_registered", "hukou_rural", "boarding")} == {
        "ethnicity": "壮族",
        "hukou_registered": True,
        "hukou_rural": True,
        "boarding": False,
    }
    assert values.child["income_sources"] == ["migrant_work", "farming"]
    assert values.child["assistance"] == ["dibao"]
    assert values.child["is_in_difficulty"] is False
    assert values.child["grade"] == "三(2)班"


# --- villages ------------------------------------------------------------------------------------------


def test_a_village_outside_the_write_scope_is_an_error_that_tells_nothing_more(world: World) -> None:
    regions = RegionLookup.for_user(world.users["village_worker"])  # 甲一村 only
    headers = list(BASE)
    mapping = guess_mapping(headers)
    for name in ("甲一村", "甲二村委会", "外县社区", "不存在村"):
        cells = tuple((BASE | {"村": name}).values())
        _values, errors = n.normalise_row(RawRow(7, cells), mapping, headers, regions=regions)
        assert _where(errors) == ({} if name == "甲一村" else {"村": OUT_OF_SCOPE})


def test_a_village_is_found_by_short_name_with_its_township(places: Places) -> None:
    values, errors = _row(places, BASE | {"乡镇": "廉州", "村": "甲二"})
    assert errors == [] and values.village == places.a2
    _values, errors = _row(places, BASE | {"乡镇": "党江镇", "村": "甲二村"})
    assert _where(errors) == {"村": OUT_OF_SCOPE}


def test_the_township_tells_apart_villages_of_the_same_name(places: Places) -> None:
    twin = village(places.township_b, "202", "甲一村委会")
    _values, errors = _row(places, BASE, scope=[*places.county, twin])
    assert _where(errors) == {"村": AMBIGUOUS.rstrip("。")}
    values, errors = _row(places, BASE | {"乡镇": "党江镇"}, scope=[*places.county, twin])
    assert errors == [] and values.village == twin


def test_a_village_code_is_used_and_checked_against_the_name(places: Places) -> None:
    values, errors = _row(places, BASE | {"村代码": 450521100202.0, "村": ""})
    assert errors == [] and values.village == places.a2
    _values, errors = _row(places, BASE | {"村代码": "450521100202"})
    assert _where(errors) == {"村": CODE_MISMATCH.rstrip("。")}


def test_a_blank_village_is_an_error_when_the_column_is_there(places: Places) -> None:
    _values, errors = _row(places, BASE | {"村": ""})
    assert _where(errors) == {"村": "请填写所属村（社区）"}


def test_without_place_columns_the_only_village_of_the_user_is_taken(places: Places) -> None:
    no_place = {k: v for k, v in BASE.items() if k != "村"}
    values, errors = _row(places, no_place, scope=[places.a1])
    assert errors == [] and values.village == places.a1
    values, errors = _row(places, no_place)
    assert errors == [] and values.village is None  # the import flow decides


def test_lookups_need_no_query_and_work_places_one(world: World, django_assert_num_queries: Any) -> None:
    regions = RegionLookup.for_user(world.users["county_admin"])
    with django_assert_num_queries(1):
        for _ in range(3):
            assert regions.village(township="", village="乙一村", code="") == world.village_b1
            assert regions.work_place("广东省东莞市")[1] is not None
