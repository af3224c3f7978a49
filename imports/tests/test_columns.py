"""Headers are recognised by their usual Chinese names, however they are typed."""

import pytest

from imports.columns import FIELD_BY_KEY, FIELDS, guess_mapping, header_key
from registry.models import Child, EntrustedGuardian, Parent

BRIEF_KEYS = {
    *("name", "sex", "ethnicity", "birth_date", "id_number", "hukou_registered", "hukou_rural"),
    *("hukou_place", "current_address", "health", "disability", "disability_category"),
    *("disability_grade", "illness", "boarding", "schooling", "grade", "household_address"),
    *("income_sources", "assistance", "care_type", "guardianship_rating", "guardianship_type"),
    *("is_in_difficulty", "is_de_facto_orphan", "township", "village", "village_code"),
    *(f"{role}_{name}" for role in ("father", "mother") for name in ("name", "birth_date", "id_number")),
    *(f"{role}_{name}" for role in ("father", "mother") for name in ("phone", "status", "work_place")),
    *("father_incapacity_reason", "mother_incapacity_reason"),
    *("guardian_name", "guardian_phone", "guardian_id_number", "guardian_relation", "guardian_address"),
}


def test_it_has_every_field_of_the_form_once() -> None:
    assert {f.key for f in FIELDS} == BRIEF_KEYS
    assert len(FIELDS) == len(BRIEF_KEYS)
    assert FIELD_BY_KEY["father_phone"].group == "father"
    assert FIELD_BY_KEY["village"].required and FIELD_BY_KEY["name"].required


def test_every_plain_field_is_a_field_of_the_child_file() -> None:
    combined = {"disability", "guardianship_type", "township", "village", "village_code"}
    for f in FIELDS:
        if f.group == "child" and f.key not in combined:
            Child._meta.get_field(f.key)
        elif f.group in ("father", "mother") and not f.key.endswith("work_place"):
            Parent._meta.get_field(f.key.split("_", 1)[1])
        elif f.group == "guardian":
            EntrustedGuardian._meta.get_field(f.key.split("_", 1)[1])


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (" 姓 名 ", "姓名"),
        ("*姓名", "姓名"),
        ("姓名（必填）", "姓名"),
        ("姓名(必填)", "姓名"),
        ("公民身份\n号码：", "公民身份号码"),
        ("村（社区）", "村(社区)"),
        ("ＩＤ　号", "ID号"),
    ],
)
def test_header_key_normalises_what_people_type(text: str, key: str) -> None:
    assert header_key(text) == key


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("姓名", "name"),
        ("儿童姓名", "name"),
        ("留守儿童姓名", "name"),
        ("身份证号", "id_number"),
        ("公民身份号码", "id_number"),
        ("身份证号码", "id_number"),
        ("身份证件号码", "id_number"),
        ("出生日期", "birth_date"),
        ("出生年月日", "birth_date"),
        ("出生年月", "birth_date"),
        ("性别", "sex"),
        ("民族", "ethnicity"),
        ("就学情况", "schooling"),
        ("就读情况", "schooling"),
        ("在校情况", "schooling"),
        ("监护类型", "guardianship_type"),
        ("监护情况评估", "guardianship_rating"),
        ("残疾类别及等级", "disability"),
        ("是否学校寄宿", "boarding"),
        ("家庭经济来源", "income_sources"),
        ("救助帮扶情况", "assistance"),
        ("乡镇", "township"),
        ("镇", "township"),
        ("乡镇（街道）", "township"),
        ("村", "village"),
        ("村（社区）", "village"),
        ("所属村", "village"),
        ("村委会", "village"),
        ("村代码", "village_code"),
        ("区划代码", "village_code"),
        ("父亲姓名", "father_name"),
        ("父亲联系电话", "father_phone"),
        ("父亲当前务工地点", "father_work_place"),
        ("父亲务工地点", "father_work_place"),
        ("母亲身份证号码", "mother_id_number"),
        ("母亲当前状态", "mother_status"),
        ("受委托监护人姓名", "guardian_name"),
        ("监护人联系电话", "guardian_phone"),
        ("受委托监护人与被监护人关系", "guardian_relation"),
        ("与儿童关系", "guardian_relation"),
        ("受委托监护人居住地址", "guardian_address"),
    ],
)
def test_it_recognises_the_usual_names(header: str, field: str) -> None:
    assert guess_mapping([header]) == {0: field}


def test_it_leaves_unknown_columns_unmapped() -> None:
    assert guess_mapping(["序号", "备注", "", "联系电话"]) == {}


def test_each_field_is_mapped_once_first_match_wins() -> None:
    assert guess_mapping(["姓名", "儿童姓名", "身份证号"]) == {0: "name", 2: "id_number"}


def test_a_remembered_mapping_wins_and_can_ignore_a_column() -> None:
    remembered = {header_key("孩子名"): "name", header_key("身份证号"): ""}
    assert guess_mapping(["孩子名", "身份证号", "性别"], remembered) == {0: "name", 2: "sex"}


def test_a_remembered_mapping_to_an_unknown_field_is_ignored() -> None:
    assert guess_mapping(["姓名"], {"姓名": "no_such_field"}) == {}
