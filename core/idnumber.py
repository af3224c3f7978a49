"""Resident ID numbers (公民身份号码, GB 11643-1999) through python-stdnum.

An 18-character number: 6-digit region code, 8-digit birth date, 3-digit sequence whose
last digit is odd for males and even for females, and a MOD 11-2 check character.
"""

import datetime as dt
import functools
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric

FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789xX")


@dataclass(frozen=True)
class IdFacts:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"


def normalise(raw: str) -> str:
    return raw.translate(FULLWIDTH).replace(" ", "").replace("\u3000", "").upper()


def parse(raw: str) -> IdFacts:
    """Validate an ID number and return its facts, or raise ValidationError in Chinese."""
    number = normalise(raw)
    if len(number) != 18:
        raise ValidationError("身份证号码应为 18 位。", code="length")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError("身份证号码只能包含数字，最后一位可以是 X。", code="chars")
    try:
        birth = ric.get_birth_date(number)
    except (stdnum_exceptions.ValidationError, ValueError) as exc:
        raise ValidationError("身份证号码中的出生日期无效。", code="birth_date") from exc
    if number[17] != ric.calc_check_digit(number):
        raise ValidationError("身份证号码校验位不正确，请核对。", code="checksum")
    if not _known_region(number[:6]):
        raise ValidationError("身份证号码前 6 位不是有效的行政区划代码。", code="region")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdFacts(number=number, birth_date=birth, sex=sex)


@functools.lru_cache(maxsize=4096)
def _known_region(code: str) -> bool:
    """The code is a county that exists or existed. Unlike stdnum's validate(), we do not
    require it to have existed in the birth year: numbers issued after a county was created
    or renamed carry the newer code, and those are real, valid numbers."""
    from stdnum import numdb

    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def check_digit(first17: str) -> str:
    return str(ric.calc_check_digit(first17 + "0"))  # it drops the last character


def make(region: str, birth: dt.date, sequence: int) -> str:
    """Build a valid number; sequence's last digit decides the sex (odd = male)."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + check_digit(body)
