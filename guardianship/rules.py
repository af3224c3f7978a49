"""Rules of entrusted guardianship as plain functions, tested as tables (tests/test_rules.py).

When an agreement is required (R5–R7; docs/architecture.md "委托监护"): the file is active, the
child is cared for by grandparents, other relatives or another entrusted adult, at least one
parent is away working (so there is someone who entrusts), and no parent is at home able to act
as guardian. A child cared for by one parent at home, or living alone / unsupervised (a red
alert handled by the care rules, not a paperwork gap) needs none.

Periods: an agreement "for N months from D" runs to the day before the corresponding day N
months later; when that month has no such day (31 January + 1 month, 29 February + 12 months)
the corresponding day is the 1st of the next month, as for a 29 February birthday
(registry.rules.add_years), so the period ends on the last day of the month.
"""

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from registry import choices as c

ENTRUSTED_CARE = frozenset({c.CareType.GRANDPARENTS, c.CareType.RELATIVES, c.CareType.ENTRUSTED_ADULT})
MAX_MONTHS = 36
TERM_CHOICES = ((6, "6 个月"), (12, "1 年"), (24, "2 年"), (36, "3 年"))
BLANK = "＿＿＿＿＿＿"

PLACEHOLDERS = (
    "儿童姓名",
    "儿童性别",
    "儿童出生日期",
    "父亲姓名",
    "母亲姓名",
    "受委托监护人姓名",
    "与儿童关系",
    "委托期限起",
    "委托期限止",
    "县",
    "乡镇",
    "村委会",
    "学校",
    "生成日期",
)
_PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")


@dataclass(frozen=True)
class ParentFacts:
    status: str
    incapacity_reason: str = ""


def agreement_required(*, active: bool, care_type: str, parents: Iterable[ParentFacts]) -> bool:
    parents = list(parents)
    if not active or care_type not in ENTRUSTED_CARE:
        return False
    someone_entrusts = any(p.status == c.ParentStatus.AWAY for p in parents)
    parent_guards_at_home = any(
        p.status == c.ParentStatus.AT_HOME and not p.incapacity_reason for p in parents
    )
    return someone_entrusts and not parent_guards_at_home


def add_months(day: dt.date, months: int) -> dt.date:
    """The corresponding day `months` later; with no such day, the 1st of the next month."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    if day.day <= calendar.monthrange(year, month)[1]:
        return day.replace(year=year, month=month)
    return dt.date(year + month // 12, month % 12 + 1, 1)


def period_end(start: dt.date, months: int) -> dt.date:
    """The last day of a period of `months` months that starts on (and includes) `start`."""
    return add_months(start, months) - dt.timedelta(days=1)


def is_expiring(valid_until: dt.date | None, *, on: dt.date, within_days: int) -> bool:
    return valid_until is not None and on <= valid_until <= on + dt.timedelta(days=within_days)


def placeholders_in(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in placeholders_in(text) if name not in PLACEHOLDERS})


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill {占位符}; an empty value leaves a line to write on by hand."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)) or BLANK, text)


def format_date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""
