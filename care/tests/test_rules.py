"""The care rules as tables: risk colours (with their reasons) and next-visit due dates."""

import datetime as dt
from typing import Any

import pytest

from care import rules
from care.rules import DEFAULT_POLICY, Facts, PolicyTable

GOOD = {"care_type": "grandparents", "guardianship_rating": "good"}


def facts(**overrides: Any) -> Facts:
    return Facts(**{**GOOD, **overrides})


@pytest.mark.parametrize(
    ("overrides", "colour", "reasons"),
    [
        ({}, "green", []),
        ({"care_type": "living_alone"}, "red", ["living_alone"]),
        ({"care_type": "unsupervised"}, "red", ["unsupervised"]),
        ({"guardianship_rating": "poor"}, "orange", ["poor_rating"]),
        ({"schooling": "dropout"}, "orange", ["dropout"]),
        ({"hukou_registered": False}, "orange", ["no_hukou"]),
        ({"health": "ill"}, "orange", ["serious_illness"]),
        ({"health": "disabled", "disability_grade": "1"}, "orange", ["serious_disability"]),
        ({"health": "disabled", "disability_grade": "2"}, "orange", ["serious_disability"]),
        ({"health": "disabled", "disability_grade": ""}, "orange", ["serious_disability"]),  # not yet graded
        ({"health": "disabled", "disability_grade": "3"}, "green", []),  # 三级、四级: not serious
        ({"health": "disabled", "disability_grade": "4"}, "green", []),
        ({"parent_unreachable": True}, "orange", ["parent_unreachable"]),
        ({"visit_hazard": True}, "orange", ["visit_hazard"]),
        ({"guardianship_rating": "fair"}, "yellow", ["fair_rating"]),
        ({"visit_follow_up": True}, "yellow", ["visit_follow_up"]),
        # The most severe wins; every raising condition is a reason, most severe first.
        (
            {"guardianship_rating": "fair", "care_type": "living_alone", "schooling": "dropout"},
            "red",
            ["living_alone", "dropout", "fair_rating"],
        ),
        (
            {"guardianship_rating": "fair", "parent_unreachable": True},
            "orange",
            ["parent_unreachable", "fair_rating"],
        ),
        (
            {"visit_follow_up": True, "guardianship_rating": "fair"},
            "yellow",
            ["fair_rating", "visit_follow_up"],
        ),
        # An exited file has no colour, whatever its facts.
        ({"care_type": "living_alone", "active": False}, "", []),
        ({"active": False}, "", []),
    ],
)
def test_it_gives_the_most_severe_colour_with_its_reasons(
    overrides: dict[str, Any], colour: str, reasons: list[str]
) -> None:
    assert rules.risk_colour(facts(**overrides), DEFAULT_POLICY) == (colour, reasons)


def test_it_follows_the_countys_condition_table() -> None:
    conditions = {**rules.DEFAULT_CONDITIONS, "fair_rating": "orange", "no_hukou": "green", "dropout": "red"}
    county = PolicyTable(conditions=conditions)
    assert rules.risk_colour(facts(guardianship_rating="fair"), county) == ("orange", ["fair_rating"])
    assert rules.risk_colour(facts(hukou_registered=False), county) == ("green", [])  # green never raises
    assert rules.risk_colour(facts(schooling="dropout", hukou_registered=False), county) == (
        "red",
        ["dropout"],
    )


@pytest.mark.parametrize(
    ("last_visit", "colour", "opened", "due"),
    [
        (dt.date(2028, 2, 29), "green", None, dt.date(2028, 5, 29)),  # from 29 February, 90 days
        (dt.date(2027, 1, 31), "yellow", None, dt.date(2027, 3, 2)),  # over a 28-day February
        (dt.date(2028, 1, 31), "yellow", None, dt.date(2028, 3, 1)),  # over a 29-day February
        (dt.date(2028, 2, 22), "red", None, dt.date(2028, 2, 29)),  # lands on the leap day
        (dt.date(2027, 2, 22), "red", None, dt.date(2027, 3, 1)),  # no leap day in 2027
        (dt.date(2028, 2, 20), "orange", None, dt.date(2028, 3, 5)),
        (dt.date(2027, 12, 25), "red", None, dt.date(2028, 1, 1)),  # over the year end
        (dt.date(2027, 12, 31), "green", None, dt.date(2028, 3, 30)),
        (dt.date(2100, 2, 28), "red", None, dt.date(2100, 3, 7)),  # 2100 is not a leap year
        # Never visited: counted from the day the file was opened.
        (None, "green", dt.date(2026, 11, 29), dt.date(2027, 2, 27)),
        (None, "red", dt.date(2028, 2, 25), dt.date(2028, 3, 3)),
        # A visit, however old, counts over the opening date.
        (dt.date(2026, 1, 1), "orange", dt.date(2027, 6, 1), dt.date(2026, 1, 15)),
    ],
)
def test_it_counts_the_next_visit_from_the_last_one(
    last_visit: dt.date | None, colour: str, opened: dt.date | None, due: dt.date
) -> None:
    opened_on = opened or dt.date(2000, 1, 1)
    assert rules.next_due(last_visit, colour, DEFAULT_POLICY, opened_on=opened_on) == due


def test_it_uses_the_countys_intervals_and_none_for_exited_files() -> None:
    county = PolicyTable(intervals={"red": 3, "orange": 10, "yellow": 21, "green": 60})
    assert rules.next_due(dt.date(2028, 2, 27), "red", county, opened_on=dt.date(2028, 1, 1)) == dt.date(
        2028, 3, 1
    )
    assert rules.next_due(dt.date(2028, 2, 27), "green", county, opened_on=dt.date(2028, 1, 1)) == dt.date(
        2028, 4, 27
    )
    assert rules.next_due(dt.date(2028, 2, 27), "", county, opened_on=dt.date(2028, 1, 1)) is None


@pytest.mark.parametrize(
    ("intervals", "broken"),
    [
        ({"red": 7, "orange": 14, "yellow": 30, "green": 90}, []),
        ({"red": 7, "orange": 7, "yellow": 7, "green": 7}, []),  # equal is allowed
        ({"red": 7, "orange": 5, "yellow": 30, "green": 90}, ["orange"]),
        ({"red": 7, "orange": 14, "yellow": 30, "green": 29}, ["green"]),
        ({"red": 30, "orange": 14, "yellow": 7, "green": 90}, ["orange", "yellow"]),
    ],
)
def test_it_names_the_interval_that_breaks_the_order(intervals: dict[str, int], broken: list[str]) -> None:
    errors = rules.interval_order_errors(intervals)
    assert [colour for colour, _message in errors] == broken
    if broken == ["orange"]:
        assert errors[0][1] == "橙色的走访间隔不能短于红色（7 天）。"


def test_it_words_the_reasons() -> None:
    assert rules.reason_labels(["living_alone", "fair_rating"]) == ["单独居住", "监护情况一般"]
