"""The grounds as a rule table (interventions/rules.py): calendar months around month ends and
29 February, continuous refusals, the begging count, the judged grounds. Pure functions."""

import datetime as dt

import pytest

from interventions import rules
from interventions.rules import Facts, Period

D = dt.date


def _codes(facts: Facts, on: dt.date) -> list[str]:
    return [ground.code for ground in rules.grounds_met(facts, on)]


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2024, 1, 15), 6, D(2024, 7, 15)),
        (D(2023, 8, 31), 6, D(2024, 2, 29)),  # no 31 February: the month's last day, a leap year
        (D(2024, 8, 31), 6, D(2025, 2, 28)),  # and a common year
        (D(2023, 8, 29), 6, D(2024, 2, 29)),
        (D(2022, 8, 29), 6, D(2023, 2, 28)),
        (D(2024, 2, 29), 6, D(2024, 8, 29)),  # from a leap day: the 29th, not the month end
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 3, 31), 6, D(2024, 9, 30)),
        (D(2024, 7, 31), 6, D(2025, 1, 31)),  # across the year end
        (D(2024, 12, 31), 2, D(2025, 2, 28)),
    ],
)
def test_add_months_takes_the_corresponding_day_or_the_month_end(
    start: dt.date, months: int, expected: dt.date
) -> None:
    assert rules.add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "on", "met"),
    [
        (D(2024, 1, 15), D(2024, 7, 14), False),
        (D(2024, 1, 15), D(2024, 7, 15), True),  # 182 days later: calendar months, not 180 days
        (D(2024, 1, 1), D(2024, 6, 29), False),  # 180 days later, not yet 6 months
        (D(2024, 1, 1), D(2024, 7, 1), True),
        (D(2023, 8, 31), D(2024, 2, 28), False),
        (D(2023, 8, 31), D(2024, 2, 29), True),
        (D(2024, 8, 31), D(2025, 2, 27), False),
        (D(2024, 8, 31), D(2025, 2, 28), True),
        (D(2024, 2, 29), D(2024, 8, 28), False),
        (D(2024, 2, 29), D(2024, 8, 29), True),
        (D(2023, 9, 1), D(2024, 2, 29), False),
        (D(2023, 9, 1), D(2024, 3, 1), True),
    ],
)
def test_an_open_refusal_meets_the_ground_after_six_calendar_months(
    start: dt.date, on: dt.date, met: bool
) -> None:
    facts = Facts(refusals=(Period(start),))
    assert ("refused_duty" in _codes(facts, on)) is met


@pytest.mark.parametrize(
    ("periods", "on", "met"),
    [
        # Ended one day short: never met, however late we look.
        ((Period(D(2024, 1, 15), D(2024, 7, 14)),), D(2025, 1, 1), False),
        ((Period(D(2024, 1, 15), D(2024, 7, 15)),), D(2025, 1, 1), True),
        # Two refusals of 4 months with a gap do not add up (长达六个月: continuous).
        (
            (Period(D(2024, 1, 1), D(2024, 4, 30)), Period(D(2024, 6, 1), D(2024, 9, 30))),
            D(2025, 1, 1),
            False,
        ),
        # Touching periods (next starts the day after) are one refusal.
        ((Period(D(2024, 1, 1), D(2024, 3, 31)), Period(D(2024, 4, 1), D(2024, 7, 1))), D(2025, 1, 1), True),
        # Overlapping ones too, in any order.
        ((Period(D(2024, 3, 1)), Period(D(2024, 1, 1), D(2024, 3, 10))), D(2024, 7, 1), True),
        # What happens after `on` is not known yet.
        ((Period(D(2024, 1, 15), D(2024, 12, 31)),), D(2024, 7, 14), False),
        ((Period(D(2030, 1, 1)),), D(2024, 7, 14), False),
    ],
)
def test_refusals_count_when_continuous(periods: tuple[Period, ...], on: dt.date, met: bool) -> None:
    assert ("refused_duty" in _codes(Facts(refusals=periods), on)) is met


def test_refused_days_sum_the_periods_once_each_day_both_ends_counted() -> None:
    periods = (
        Period(D(2024, 1, 1), D(2024, 1, 10)),  # 10 days
        Period(D(2024, 1, 5), D(2024, 1, 12)),  # overlaps: 2 more
        Period(D(2024, 2, 1)),  # open: 1–15 February = 15 days
    )
    assert rules.refused_days(periods, D(2024, 2, 15)) == 27
    assert rules.refused_days((), D(2024, 2, 15)) == 0
    assert rules.refused_days((Period(D(2024, 2, 15)),), D(2024, 2, 15)) == 1
    assert rules.longest_refusal(periods, D(2024, 2, 15)) == (D(2024, 2, 1), D(2024, 2, 15))
    assert rules.longest_refusal((), D(2024, 2, 15)) is None


@pytest.mark.parametrize(("count", "met"), [(0, False), (2, False), (3, True), (7, True)])
def test_begging_needs_three_criticisms_or_admonitions(count: int, met: bool) -> None:
    assert ("begging" in _codes(Facts(begging_admonitions=count), D(2024, 1, 1))) is met


def test_judged_grounds_are_met_as_ticked_and_counted_ones_cannot_be_ticked() -> None:
    facts = Facts(judged=frozenset({"inciting_crime", "serious_harm", "refused_duty", "begging", "nonsense"}))
    assert _codes(facts, D(2024, 1, 1)) == ["serious_harm", "inciting_crime"]


def test_no_facts_no_ground() -> None:
    assert rules.grounds_met(Facts(), D(2024, 1, 1)) == []


def test_grounds_come_in_table_order_with_their_sources() -> None:
    facts = Facts(
        refusals=(Period(D(2020, 1, 1)),),
        begging_admonitions=3,
        judged=frozenset(ground.code for ground in rules.JUDGED),
    )
    met = rules.grounds_met(facts, D(2024, 1, 1))
    assert [ground.code for ground in met] == [ground.code for ground in rules.GROUNDS]
    assert rules.BY_CODE["refused_duty"].source == "GF13；JH2014 第35条第（三）项"
    assert rules.BY_CODE["begging"].source == "JH2014 第35条第（五）项"
    assert rules.BY_CODE["serious_harm"].sources == ("GF13", "JH2014-35-1")
    # The seven JH2014 items are all there, each once; GF13's three are among them.
    items = sorted(s for g in rules.GROUNDS for s in g.sources if s.startswith("JH2014"))
    assert items == [f"JH2014-35-{n}" for n in range(1, 8)]
    assert sum("GF13" in g.sources for g in rules.GROUNDS) == 3
