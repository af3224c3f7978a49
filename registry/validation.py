"""Cross-field rules of the child file, shared by the web forms and the API serializers.

Each function reads values through `value(name)` (the submitted value, or on an edit the
stored one) and returns {field: Chinese message}; callers attach the messages to their fields.
"""

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from core import idnumber
from registry import choices as c

Getter = Callable[[str], Any]
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
GUARDIAN_REQUIRED = "添加受委托监护人时必须填写此项。"


def clean_phone(value: str) -> str:
    """Normalise a phone number (full-width digits, spaces) or raise a Chinese error."""
    value = value.translate(idnumber.FULLWIDTH).replace(" ", "")
    if value and not PHONE_RE.match(value):
        raise ValidationError("请填写 11 位手机号码或带区号的固定电话。")
    return value


def child_errors(value: Getter, *, today: dt.date | None = None) -> dict[str, str]:
    """`today`: the date a birth date may not be after (by default the server's local date;
    an import passes its own, fixed for the whole file)."""
    errors: dict[str, str] = {}
    if not value("id_number"):
        if not value("birth_date"):
            errors["birth_date"] = "未填写身份证号码时，请填写出生日期。"
        if not value("sex"):
            errors["sex"] = "未填写身份证号码时，请选择性别。"
    birth = value("birth_date")
    if isinstance(birth, dt.date) and birth > (today or timezone.localdate()):
        errors["birth_date"] = "出生日期不能晚于今天。"
    if value("health") == c.Health.DISABLED and not value("disability_category"):
        errors["disability_category"] = "残疾儿童请选择残疾类别。"
    if value("health") == c.Health.ILL and not value("illness"):
        errors["illness"] = "患病儿童请填写患病类型。"
    if value("key_manual") and not value("key_manual_reason"):
        errors["key_manual_reason"] = "人工认定为重点对象时，请说明原因。"
    return errors


def parent_errors(value: Getter) -> dict[str, str]:
    errors: dict[str, str] = {}
    province, city = value("work_province"), value("work_city")
    if city and province and not city.code.startswith(province.code):
        errors["work_city"] = "务工城市不在所选省份内。"
    if (value("status") or c.ParentStatus.AWAY) == c.ParentStatus.AWAY and not (city or province):
        errors["work_province"] = "外出务工的，请至少填写务工省份。"
    if value("incapacity_reason") == c.IncapacityReason.OTHER and not value("incapacity_note"):
        errors["incapacity_note"] = "请说明无监护能力的原因。"
    return errors


def guardian_errors(value: Getter) -> dict[str, str]:
    from registry.models import EntrustedGuardian

    errors = {name: GUARDIAN_REQUIRED for name in ("name", "relation") if not value(name)}
    if any(value(name) for name in EntrustedGuardian.CHECKLIST):
        if not value("assessed_by"):
            errors["assessed_by"] = "请填写评估人。"
        if not value("assessed_on"):
            errors["assessed_on"] = "请填写评估日期。"
    return errors
