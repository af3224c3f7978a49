"""附件1 农村留守儿童基本情况登记表 (R29): the per-child form, as groups of labelled fields.

One description serves the printable page and the PDF (nationalforms/pdf.py), so both show
the same fields in the same order. ID and phone numbers are masked unless `reveal` (the view
decides who may reveal, and logs it). The form's (外)祖父母 fields are not kept by the file:
they print as blanks to fill in by hand.
"""

from dataclasses import dataclass
from typing import Any

from core.masking import mask_id, mask_phone
from nationalforms.roster import disability_text, work_place
from registry import choices as c
from registry import rules

TITLE = "农村留守儿童基本情况登记表"
SIGNATURES = ("单位负责人", "复核人", "填表人", "填表日期")


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    wide: bool = False  # takes a whole line (addresses, lists)


@dataclass(frozen=True)
class Group:
    title: str
    fields: list[Field]


@dataclass(frozen=True)
class ChildForm:
    title: str
    file_no: str
    place: str  # 县 乡镇 村
    groups: list[Group]

    def texts(self) -> str:
        """Every character printed, for the font check."""
        parts = [self.title, self.file_no, self.place, *SIGNATURES]
        for group in self.groups:
            parts.append(group.title)
            parts.extend(f"{field.label}{field.value}" for field in group.fields)
        return "".join(parts)


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _date(value: Any) -> str:
    return value.isoformat() if value else ""


def _display(obj: Any, name: str) -> str:
    return str(getattr(obj, f"get_{name}_display")()) if getattr(obj, name, "") else ""


def _region(obj: Any, name: str) -> str:
    related = getattr(obj, name) if getattr(obj, f"{name}_id", None) else None
    return str(related.name) if related is not None else ""


def _masked(value: str, kind: str, reveal: bool) -> str:
    if reveal or not value:
        return value or ""
    return mask_id(value) if kind == "id" else mask_phone(value)


def _child_group(child: Any, reveal: bool) -> Group:
    return Group(
        "儿童情况",
        [
            Field("姓名", child.name),
            Field("性别", _display(child, "sex")),
            Field("民族", child.ethnicity),
            Field("出生日期", _date(child.birth_date)),
            Field("公民身份号码", _masked(child.id_number, "id", reveal)),
            Field("是否登记户口", _yes(child.hukou_registered)),
            Field("户籍所在地", child.hukou_place, wide=True),
            Field("现居住地", child.current_address, wide=True),
            Field("身体情况", _display(child, "health")),
            Field("残疾类别及等级", disability_text(child.disability_category, child.disability_grade)),
            Field("患病类型", child.illness),
            Field("是否学校寄宿", _yes(child.boarding)),
            Field("就学情况", _display(child, "schooling")),
            Field("就读学校", _region(child, "school")),
        ],
    )


def _work_place(parent: Any) -> str:
    return work_place(_region(parent, "work_province"), _region(parent, "work_city"))


def _parent_fields(role: str, parent: Any, reveal: bool) -> list[Field]:
    if parent is None:
        return [Field(f"{role}姓名", "")]
    return [
        Field(f"{role}姓名", parent.name),
        Field(f"{role}出生日期", _date(parent.birth_date)),
        Field(f"{role}公民身份号码", _masked(parent.id_number, "id", reveal)),
        Field(f"{role}联系电话", _masked(parent.phone, "phone", reveal)),
        Field(f"{role}当前务工地点", _work_place(parent)),
        Field(f"{role}当前状态", _display(parent, "status")),
    ]


def _family_group(father: Any, mother: Any, reveal: bool) -> Group:
    return Group(
        "家庭情况",
        [
            Field("（外）祖父母姓名及出生日期", "", wide=True),
            *_parent_fields("父亲", father, reveal),
            *_parent_fields("母亲", mother, reveal),
        ],
    )


def _facts(parent: Any) -> rules.ParentFacts | None:
    if parent is None:
        return None
    return rules.ParentFacts(status=parent.status, incapacity_reason=parent.incapacity_reason or "")


def one_away_other_incapable(father: Any, mother: Any) -> str:
    """一方外出另一方无监护能力: "是（母亲无监护能力）" or "否"."""
    f, m = _facts(father), _facts(mother)
    if f is None or m is None:
        return "否"
    if f.is_away and m.status == c.ParentStatus.AT_HOME and m.cannot_guard:
        return "是（母亲无监护能力）"
    if m.is_away and f.status == c.ParentStatus.AT_HOME and f.cannot_guard:
        return "是（父亲无监护能力）"
    return "否"


def _guardian_group(child: Any, father: Any, mother: Any, guardian: Any, reveal: bool) -> Group:
    both_away = bool(father and mother and father.status == mother.status == c.ParentStatus.AWAY)
    fields = [
        Field("父母双方同时外出", _yes(both_away)),
        Field("一方外出另一方无监护能力", one_away_other_incapable(father, mother)),
        Field("有无委托监护人", "有" if guardian is not None else "无"),
    ]
    if guardian is not None:
        fields += [
            Field("受委托监护人姓名", guardian.name),
            Field("受委托监护人联系电话", _masked(guardian.phone, "phone", reveal)),
            Field("受委托监护人公民身份号码", _masked(guardian.id_number, "id", reveal)),
            Field("与被监护人关系", _display(guardian, "relation")),
            Field("受委托监护人居住地址", guardian.address, wide=True),
        ]
    fields += [
        Field("监护类型", _display(child, "care_type")),
        Field("监护情况评估", _display(child, "guardianship_rating")),
    ]
    return Group("监护情况", fields)


def _other_group(child: Any) -> Group:
    income = dict(c.Income.choices)
    assistance = dict(c.Assistance.choices)
    categories = [
        label
        for flag, label in (
            (child.is_left_behind, "农村留守儿童"),
            (child.is_in_difficulty, "困境儿童"),
            (child.is_de_facto_orphan, "事实无人抚养儿童"),
        )
        if flag
    ]
    return Group(
        "其他",
        [
            Field("家庭经济来源", "、".join(income.get(v, v) for v in child.income_sources or ()), wide=True),
            Field("救助帮扶情况", "、".join(assistance.get(v, v) for v in child.assistance or ()), wide=True),
            Field("儿童类别", "、".join(categories), wide=True),
        ],
    )


def child_form(child: Any, father: Any, mother: Any, guardian: Any, *, reveal: bool = False) -> ChildForm:
    place = " ".join(name for name in (_region(child, n) for n in ("county", "township", "village")) if name)
    return ChildForm(
        title=TITLE,
        file_no=child.file_no,
        place=place,
        groups=[
            _child_group(child, reveal),
            _family_group(father, mother, reveal),
            _guardian_group(child, father, mother, guardian, reveal),
            _other_group(child),
        ],
    )
