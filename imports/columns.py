"""The fields a ledger spreadsheet may carry (MF42 附件1) and the Chinese headers they go by.

Headers are matched on `header_key` (NFKC, no spaces, no "*"/"（必填）"/"："). A parent's or the
entrusted guardian's column is its group prefix ("父亲", "母亲", "受委托监护人"…) followed by
one of the field's base names, so "父亲姓名", "父亲身份证号码" and a two-level header joined
by the reader ("父亲" + "联系电话") are all found without listing every combination by hand.
"""

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str  # e.g. "name", "id_number", "father_phone"
    label: str  # canonical Chinese header, e.g. "姓名"
    synonyms: tuple[str, ...]
    group: str  # "child", "father", "mother", "guardian", "place"
    required: bool = False  # the column must be mapped for an import to start


# --- base names ---------------------------------------------------------------------------------

_ID = (
    "身份证号",
    "身份证号码",
    "公民身份号码",
    "公民身份证号码",
    "身份证件号码",
    "身份证",
    "身份号码",
    "证件号码",
)
_BIRTH = ("出生日期", "出生年月日", "出生年月", "出生时间", "生日", "出生日期(年月日)")
_PHONE = ("联系电话", "电话", "电话号码", "手机", "手机号", "手机号码", "联系方式", "联系号码")
_ADDRESS = ("居住地址", "现居住地址", "住址", "地址", "家庭住址", "现住址", "居住地")

# (key, label, base names, required); a child's base names also match with a child prefix.
_CHILD: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("name", "姓名", ("姓名", "名字", "留守儿童姓名", "学生姓名", "孩子姓名", "未成年人姓名"), True),
    ("sex", "性别", ("性别",), False),
    ("ethnicity", "民族", ("民族", "族别"), False),
    ("birth_date", "出生日期", _BIRTH, False),
    ("id_number", "公民身份号码", _ID, False),
    (
        "hukou_registered",
        "是否登记户口",
        ("是否登记户口", "是否登记户籍", "是否有户口", "是否有户籍", "有无户口", "户口登记情况", "是否落户"),
        False,
    ),
    (
        "hukou_rural",
        "是否农业户口",
        ("是否农业户口", "户口性质", "户籍性质", "户口类型", "户籍类型", "是否农村户籍", "农业户口"),
        False,
    ),
    ("hukou_place", "户籍所在地", ("户籍所在地", "户籍地", "户籍地址", "户口所在地", "户籍所在地址"), False),
    (
        "current_address",
        "现居住地",
        ("现居住地", "现居住地址", "现住址", "现居地", "现住地址", "居住地"),
        False,
    ),
    ("health", "身体情况", ("身体情况", "身体状况", "健康状况", "健康情况", "身体健康状况"), False),
    (
        "disability",
        "残疾类别及等级",
        ("残疾类别及等级", "残疾类别和等级", "残疾类型及等级", "残疾类别(等级)", "残疾情况", "残疾类别等级"),
        False,
    ),
    ("disability_category", "残疾类别", ("残疾类别", "残疾类型", "残疾种类"), False),
    ("disability_grade", "残疾等级", ("残疾等级", "残疾级别"), False),
    ("illness", "患病类型", ("患病类型", "患病情况", "疾病类型", "所患疾病", "患病名称", "疾病名称"), False),
    (
        "boarding",
        "是否学校寄宿",
        ("是否学校寄宿", "是否寄宿", "是否住校", "是否在校寄宿", "寄宿情况", "是否寄宿生"),
        False,
    ),
    (
        "schooling",
        "就学情况",
        ("就学情况", "就读情况", "在校情况", "就学状况", "就学状态", "受教育情况", "在学情况", "就学"),
        False,
    ),
    (
        "grade",
        "年级班级",
        ("年级班级", "年级", "班级", "就读年级", "所在年级", "年级(班级)", "所在班级"),
        False,
    ),
    ("household_address", "家庭住址", ("家庭住址", "家庭地址", "详细地址", "家庭详细住址", "住址"), False),
    (
        "income_sources",
        "家庭经济来源",
        ("家庭经济来源", "经济来源", "家庭收入来源", "收入来源", "家庭主要经济来源", "主要经济来源"),
        False,
    ),
    (
        "assistance",
        "救助帮扶情况",
        ("救助帮扶情况", "救助情况", "帮扶情况", "享受救助情况", "救助帮扶", "享受救助帮扶情况", "享受政策"),
        False,
    ),
    (
        "care_type",
        "照料类型",
        ("照料类型", "照料方式", "照料情况", "照护类型", "照护方式", "监护方式"),
        False,
    ),
    (
        "guardianship_rating",
        "监护情况评估",
        ("监护情况评估", "监护评估", "监护情况", "监护状况", "监护状况评估", "监护评估等级", "监护情况评价"),
        False,
    ),
    ("guardianship_type", "监护类型", ("监护类型",), False),
    ("is_in_difficulty", "是否困境儿童", ("是否困境儿童", "困境儿童"), False),
    (
        "is_de_facto_orphan",
        "是否事实无人抚养儿童",
        ("是否事实无人抚养儿童", "事实无人抚养儿童", "是否事实孤儿"),
        False,
    ),
)
_CHILD_PREFIXES = ("儿童", "留守儿童", "儿童基本情况", "儿童情况", "儿童信息", "基本情况")

_TOWNSHIP_NAMES = (
    *("乡镇", "镇", "乡", "乡镇(街道)", "乡(镇)", "乡镇街道", "所属乡镇", "所在乡镇", "乡镇名称", "街道"),
    *("镇(街道)", "乡(镇、街道)", "乡镇(街道)名称", "所属乡镇(街道)"),
)
_VILLAGE_NAMES = (
    *("村", "村(社区)", "所属村", "所在村", "村委会", "村(居)委会", "村(居)", "村居", "社区", "村名"),
    *("村(社区)名称", "所属村(社区)", "所在村(社区)", "村(居)委会名称", "村委", "行政村", "村(居)委"),
)
_PLACE: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    (
        "township",
        "乡镇（街道）",
        _TOWNSHIP_NAMES,
        False,
    ),
    (
        "village",
        "村（社区）",
        _VILLAGE_NAMES,
        True,
    ),
    (
        "village_code",
        "村代码",
        ("村代码", "区划代码", "村区划代码", "统计用区划代码", "村(社区)代码", "村(社区)区划代码"),
        False,
    ),
)

_PARENT: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("name", "姓名", ("姓名", "名字")),
    ("birth_date", "出生日期", _BIRTH),
    ("id_number", "身份证号", _ID),
    ("phone", "联系电话", _PHONE),
    ("status", "当前状态", ("当前状态", "状态", "目前状态", "现状", "现在状态", "在家或外出")),
    (
        "work_place",
        "务工地点",
        (
            "务工地点",
            "当前务工地点",
            "务工地",
            "外出务工地点",
            "务工地址",
            "打工地点",
            "务工省市",
            "务工地区",
        ),
    ),
    (
        "incapacity_reason",
        "无监护能力原因",
        ("无监护能力原因", "无监护能力情况", "监护能力", "是否有监护能力", "无监护能力原因(重病/重残)"),
    ),
)
_PARENT_PREFIXES = {
    "father": ("父亲", "父", "父亲情况", "父亲信息", "父亲基本情况"),
    "mother": ("母亲", "母", "母亲情况", "母亲信息", "母亲基本情况"),
}
_PARENT_LABEL = {"father": "父亲", "mother": "母亲"}

_GUARDIAN: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("name", "姓名", ("姓名", "名字")),
    ("phone", "联系电话", _PHONE),
    ("id_number", "身份证号", _ID),
    (
        "relation",
        "与被监护人关系",
        (
            "与被监护人关系",
            "与儿童关系",
            "与留守儿童关系",
            "关系",
            "与本人关系",
            "与儿童的关系",
            "与被监护人的关系",
        ),
    ),
    ("address", "居住地址", _ADDRESS),
)
_GUARDIAN_PREFIXES = (
    "受委托监护人",
    "委托监护人",
    "监护人",
    "受委托监护人情况",
    "委托监护人情况",
    "受委托监护人信息",
    "实际监护人",
    "被委托监护人",
)


def header_key(text: str) -> str:
    """Normalised header for matching and for remembered mappings: NFKC (full-width → half),
    no whitespace or newlines, no '*', '（必填）'/'(必填)', '：'."""
    key = unicodedata.normalize("NFKC", text)
    key = _NOISE.sub("", key)
    return key.replace("(必填)", "").replace("(选填)", "")


_NOISE = re.compile(r"[\s*:：\u3000]+")


def _build() -> tuple[tuple[Field, ...], dict[str, str]]:
    fields: list[Field] = []
    for key, label, names, required in _CHILD:
        prefixed = tuple(p + n for p in _CHILD_PREFIXES for n in names)
        fields.append(Field(key, label, names + prefixed, "child", required))
    for key, label, names, required in _PLACE:
        fields.append(Field(key, label, names, "place", required))
    for role, prefixes in _PARENT_PREFIXES.items():
        for key, label, names in _PARENT:
            synonyms = tuple(p + n for p in prefixes for n in names)
            fields.append(Field(f"{role}_{key}", _PARENT_LABEL[role] + label, synonyms, role))
    for key, label, names in _GUARDIAN:
        synonyms = tuple(p + n for p in _GUARDIAN_PREFIXES for n in names)
        if key == "relation":  # "与儿童关系" can only be the guardian's
            synonyms += tuple(n for n in names if n.startswith("与"))
        fields.append(Field(f"guardian_{key}", "受委托监护人" + label, synonyms, "guardian"))
    index: dict[str, str] = {}
    for field in fields:
        for synonym in (field.label, *field.synonyms):
            # First definition wins: "住址" stays the child's household address.
            index.setdefault(header_key(synonym), field.key)
    return tuple(fields), index


FIELDS: tuple[Field, ...]
_INDEX: dict[str, str]
FIELDS, _INDEX = _build()
FIELD_BY_KEY: dict[str, Field] = {field.key: field for field in FIELDS}


def field_for_header(text: str) -> str | None:
    """The field key a header names by its synonyms, or None."""
    return _INDEX.get(header_key(text))


# Columns of the system's own roster (nationalforms.roster) that carry nothing an import writes:
# the row number, the county (implied by the village), the school (chosen from the school list,
# not typed), "has an entrusted guardian" (implied by the guardian's columns) and the file number
# (given by the system). Known, so a roster uploaded back needs no mapping screen.
NOT_IMPORTED = frozenset(
    header_key(text) for text in ("序号", "县（市、区）", "就读学校", "有无委托监护人", "档案编号")
)


def guess_mapping(headers: Sequence[str], remembered: Mapping[str, str] | None = None) -> dict[int, str]:
    """Column index → field key for the columns recognised; a remembered mapping
    (header_key → field key, "" = ignore this column) wins over the synonyms. Each field
    at most once (first match wins)."""
    remembered = remembered or {}
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        if not header:
            continue
        key = header_key(header)
        field = remembered[key] if key in remembered else _INDEX.get(key)
        if field and field in FIELD_BY_KEY and field not in taken:
            mapping[index] = field
            taken.add(field)
    return mapping
