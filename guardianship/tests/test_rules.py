"""Rule tables of entrusted guardianship: periods (month ends, leap years), when an agreement
is required, and the template's placeholders."""

import datetime as dt

import pytest

from guardianship import rules
from guardianship.rules import ParentFacts

D = dt.date


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (D(2028, 1, 1), 12, D(2028, 12, 31)),
        (D(2028, 3, 1), 12, D(2029, 2, 28)),  # the period ends before a common-year 1 March
        (D(2027, 3, 1), 12, D(2028, 2, 29)),  # …and on 29 February in a leap year
        (D(2028, 2, 29), 12, D(2029, 2, 28)),  # no 29 February next year: the month's last day
        (D(2028, 2, 29), 48, D(2032, 2, 28)),  # the corresponding day exists again
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # 31 January + 1 month: all of February
        (D(2027, 1, 31), 1, D(2027, 2, 28)),
        (D(2028, 1, 30), 1, D(2028, 2, 29)),
        (D(2028, 3, 31), 1, D(2028, 4, 30)),  # April has no 31st
        (D(2028, 8, 31), 6, D(2029, 2, 28)),
        (D(2028, 12, 31), 1, D(2029, 1, 30)),
        (D(2028, 12, 1), 1, D(2028, 12, 31)),  # across the year end
        (D(2028, 11, 15), 6, D(2029, 5, 14)),
        (D(2028, 5, 31), 36, D(2031, 5, 30)),
    ],
)
def test_period_end(start: dt.date, months: int, end: dt.date) -> None:
    assert rules.period_end(start, months) == end


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2028, 1, 31), 1, D(2028, 3, 1)),
        (D(2028, 2, 29), 12, D(2029, 3, 1)),
        (D(2028, 12, 31), 2, D(2029, 3, 1)),
        (D(2028, 10, 31), 2, D(2028, 12, 31)),
        (D(2028, 11, 30), 3, D(2029, 3, 1)),
    ],
)
def test_add_months_takes_the_first_of_the_next_month_when_the_day_is_missing(
    day: dt.date, months: int, expected: dt.date
) -> None:
    assert rules.add_months(day, months) == expected


AWAY = ParentFacts("away")
HOME = ParentFacts("at_home")
HOME_ILL = ParentFacts("at_home", "serious_illness")
DECEASED = ParentFacts("deceased")


@pytest.mark.parametrize(
    ("active", "care_type", "parents", "required"),
    [
        (True, "grandparents", [AWAY, AWAY], True),
        (True, "relatives", [AWAY, AWAY], True),
        (True, "entrusted_adult", [AWAY, AWAY], True),
        (True, "grandparents", [AWAY, HOME_ILL], True),  # the parent at home cannot guard (R1)
        (True, "grandparents", [AWAY, DECEASED], True),
        (True, "grandparents", [AWAY], True),  # one parent recorded
        (True, "grandparents", [AWAY, HOME], False),  # a capable parent at home guards
        (True, "one_parent", [AWAY, HOME], False),
        (True, "one_parent", [AWAY, AWAY], False),  # care type says a parent cares: no entrusting
        (True, "unsupervised", [AWAY, AWAY], False),  # a red alert for the care rules, not paperwork
        (True, "living_alone", [AWAY, AWAY], False),
        (True, "grandparents", [DECEASED, DECEASED], False),  # nobody to entrust: not this agreement
        (True, "grandparents", [], False),
        (False, "grandparents", [AWAY, AWAY], False),  # exited files need nothing
    ],
)
def test_agreement_required(active: bool, care_type: str, parents: list[ParentFacts], required: bool) -> None:
    assert rules.agreement_required(active=active, care_type=care_type, parents=parents) is required


def test_is_expiring_counts_both_ends() -> None:
    on = D(2028, 2, 25)
    assert rules.is_expiring(D(2028, 2, 25), on=on, within_days=30)
    assert rules.is_expiring(D(2028, 3, 26), on=on, within_days=30)
    assert not rules.is_expiring(D(2028, 3, 27), on=on, within_days=30)
    assert not rules.is_expiring(D(2028, 2, 24), on=on, within_days=30)  # already ended
    assert not rules.is_expiring(None, on=on, within_days=30)


def test_render_fills_placeholders_and_leaves_lines_for_blanks() -> None:
    text = "委托人（父亲）：{父亲姓名}；儿童：{儿童姓名}；学校：{学校}"
    out = rules.render(text, {"父亲姓名": "张父", "儿童姓名": "张三", "学校": ""})
    assert out == f"委托人（父亲）：张父；儿童：张三；学校：{rules.BLANK}"


def test_unknown_placeholders_are_named() -> None:
    assert rules.unknown_placeholders("{儿童姓名}{身份证号}{电话}{ 空格 }") == ["电话", "身份证号"]
    assert rules.unknown_placeholders("全部已知：" + "".join(f"{{{p}}}" for p in rules.PLACEHOLDERS)) == []


def test_format_date() -> None:
    assert rules.format_date(D(2029, 2, 28)) == "2029年2月28日"
    assert rules.format_date(None) == ""
