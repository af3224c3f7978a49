"""The registry's rules as tables: eligibility (R1), ages (R2), key children."""

import datetime as dt

import pytest

from registry import choices as c
from registry import rules
from registry.rules import ParentFacts

AWAY = ParentFacts(status="away")
HOME = ParentFacts(status="at_home")
HOME_ILL = ParentFacts(status="at_home", incapacity_reason="serious_illness")
HOME_DISABLED = ParentFacts(status="at_home", incapacity_reason="serious_disability")
DEAD = ParentFacts(status="deceased")
JAILED = ParentFacts(status="imprisoned")
TODAY = dt.date(2026, 11, 29)
CHILD = dt.date(2015, 6, 1)


@pytest.mark.parametrize(
    ("father", "mother", "expected"),
    [
        (AWAY, AWAY, True),
        (AWAY, HOME, False),
        (HOME, AWAY, False),
        (HOME, HOME, False),
        (AWAY, HOME_ILL, True),
        (HOME_DISABLED, AWAY, True),
        (AWAY, DEAD, True),
        (JAILED, AWAY, True),
        (DEAD, DEAD, False),  # an orphan is not left behind: another category
        (HOME_ILL, HOME_ILL, False),
        (AWAY, None, False),
    ],
)
def test_it_decides_left_behind_from_the_parents(
    father: ParentFacts, mother: ParentFacts | None, expected: bool
) -> None:
    assert rules.is_left_behind(birth=CHILD, on=TODAY, father=father, mother=mother) is expected


@pytest.mark.parametrize(
    ("birth", "on", "expected"),
    [
        (dt.date(2010, 11, 30), dt.date(2026, 11, 29), True),  # 16 tomorrow
        (dt.date(2010, 11, 29), dt.date(2026, 11, 29), False),  # 16 today
        (dt.date(2010, 11, 28), dt.date(2026, 11, 29), False),
        (dt.date(2008, 2, 29), dt.date(2024, 2, 28), True),  # leap-day child, day before 16th birthday
        (dt.date(2008, 2, 29), dt.date(2024, 2, 29), False),  # 16th birthday falls on 29 February
        (dt.date(2004, 2, 29), dt.date(2020, 2, 29), False),
        (dt.date(2027, 1, 1), dt.date(2026, 11, 29), False),  # not yet born
        (dt.date(2026, 11, 29), dt.date(2026, 11, 29), True),  # born today
    ],
)
def test_it_counts_under_sixteen_on_the_reference_date(birth: dt.date, on: dt.date, expected: bool) -> None:
    assert rules.is_left_behind(birth=birth, on=on, father=AWAY, mother=AWAY) is expected


@pytest.mark.parametrize(
    ("registered", "rural", "expected"),
    [(True, True, True), (True, False, False), (False, False, True), (False, True, True)],
)
def test_it_requires_rural_hukou_when_registered(registered: bool, rural: bool, expected: bool) -> None:
    result = rules.is_left_behind(
        birth=CHILD, on=TODAY, father=AWAY, mother=AWAY, hukou_registered=registered, hukou_rural=rural
    )
    assert result is expected


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (dt.date(2012, 2, 29), dt.date(2013, 2, 28), 0),
        (dt.date(2012, 2, 29), dt.date(2013, 3, 1), 1),  # common year: birthday counts on 1 March
        (dt.date(2012, 2, 29), dt.date(2016, 2, 29), 4),
        (dt.date(2010, 12, 31), dt.date(2026, 12, 30), 15),
        (dt.date(2010, 12, 31), dt.date(2026, 12, 31), 16),
    ],
)
def test_it_computes_ages(birth: dt.date, on: dt.date, age: int) -> None:
    assert rules.age_on(birth, on) == age


@pytest.mark.parametrize(
    ("birth", "band"),
    [
        (dt.date(2021, 11, 30), "0-5"),  # 4 on the reference date
        (dt.date(2020, 11, 30), "0-5"),  # 5, turns 6 tomorrow
        (dt.date(2020, 11, 29), "6-13"),  # 6 today
        (dt.date(2012, 11, 30), "6-13"),  # 13
        (dt.date(2012, 11, 29), "14-15"),  # 14 today
        (dt.date(2010, 11, 30), "14-15"),  # 15
        (dt.date(2010, 11, 29), None),  # 16
    ],
)
def test_it_puts_children_in_age_bands(birth: dt.date, band: str | None) -> None:
    assert rules.age_band(birth, TODAY) == band


@pytest.mark.parametrize(("low", "high"), [(0, 5), (6, 13), (14, 15)])
@pytest.mark.parametrize("on", [TODAY, dt.date(2024, 2, 29), dt.date(2025, 3, 1), dt.date(2025, 2, 28)])
def test_it_turns_age_bands_into_birth_ranges(low: int, high: int, on: dt.date) -> None:
    earliest, latest = rules.birth_range_for_age(low, high, on)
    assert low <= rules.age_on(latest, on) <= high
    assert low <= rules.age_on(earliest, on) <= high
    assert rules.age_on(latest + dt.timedelta(days=1), on) < low or latest + dt.timedelta(days=1) > on
    assert rules.age_on(earliest - dt.timedelta(days=1), on) > high


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        ({}, []),
        ({"guardianship_rating": "poor"}, ["poor_rating"]),
        ({"care_type": "living_alone"}, ["unsupervised"]),
        ({"care_type": "unsupervised", "guardianship_rating": "poor"}, ["poor_rating", "unsupervised"]),
        ({"schooling": "dropout"}, ["dropout"]),
        ({"hukou_registered": False}, ["no_hukou"]),
        ({"health": "disabled"}, ["disabled"]),
        ({"health": "ill"}, ["ill"]),
        ({"manual": True}, ["manual"]),
        ({"guardianship_rating": "fair"}, []),
    ],
)
def test_it_derives_key_children(overrides: dict[str, object], reasons: list[str]) -> None:
    facts: dict[str, object] = {
        "guardianship_rating": c.Rating.GOOD,
        "care_type": c.CareType.GRANDPARENTS,
        "schooling": c.Schooling.PRIMARY,
        "hukou_registered": True,
        "health": c.Health.HEALTHY,
    }
    facts.update(overrides)
    assert rules.key_reasons(**facts) == reasons  # type: ignore[arg-type]
