"""Rules of the child file, as plain functions tested as tables (registry/tests/test_rules.py).

Eligibility follows R1: a minor under 16 on the reference date, with rural hukou (or none
registered yet), whose parents are both away, or one away while the other cannot act as
guardian (serious illness or disability, or deceased, missing, imprisoned).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from registry import choices as c

LEFT_BEHIND_AGE = 16
# 困境儿童 and 事实无人抚养儿童 are followed until 18 (R4).
CHILD_AGE = 18
AGE_BANDS = (("0-5", 0, 5), ("6-13", 6, 13), ("14-15", 14, 15))
AGE_BAND_LABELS = {"0-5": "0–5 岁", "6-13": "6–13 岁", "14-15": "14–15 岁"}


def add_years(day: dt.date, years: int) -> dt.date:
    """The anniversary; a 29 February birthday falls on 1 March in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def age_on(birth: dt.date, on: dt.date) -> int:
    years = on.year - birth.year
    if add_years(birth, years) > on:
        years -= 1
    return years


def birth_range_for_age(low: int, high: int, on: dt.date) -> tuple[dt.date, dt.date]:
    """Birth dates (inclusive) of everyone whose age on `on` is between low and high."""
    latest = _subtract_years(on, low)
    earliest = _subtract_years(on, high + 1) + dt.timedelta(days=1)
    return earliest, latest


def _subtract_years(day: dt.date, years: int) -> dt.date:
    # Latest birth date whose `years`-th anniversary is on or before `day`.
    try:
        candidate = day.replace(year=day.year - years)
    except ValueError:  # 29 February → 28 February of a common year
        candidate = dt.date(day.year - years, 2, 28)
    while add_years(candidate, years) > day:
        candidate -= dt.timedelta(days=1)
    return candidate


def age_band(birth: dt.date, on: dt.date) -> str | None:
    age = age_on(birth, on)
    for code, low, high in AGE_BANDS:
        if low <= age <= high:
            return code
    return None


@dataclass(frozen=True)
class ParentFacts:
    status: str
    incapacity_reason: str = ""

    @property
    def is_away(self) -> bool:
        return self.status == c.ParentStatus.AWAY

    @property
    def cannot_guard(self) -> bool:
        """This parent cannot act as guardian for the child at home."""
        if self.status in {c.ParentStatus.DECEASED, c.ParentStatus.MISSING, c.ParentStatus.IMPRISONED}:
            return True
        return self.status == c.ParentStatus.AT_HOME and bool(self.incapacity_reason)


def is_left_behind(
    *,
    birth: dt.date,
    on: dt.date,
    father: ParentFacts | None,
    mother: ParentFacts | None,
    hukou_registered: bool = True,
    hukou_rural: bool = True,
) -> bool:
    if age_on(birth, on) >= LEFT_BEHIND_AGE or birth > on:
        return False
    if hukou_registered and not hukou_rural:
        return False
    if father is None or mother is None:
        return False
    if father.is_away and mother.is_away:
        return True
    if father.is_away and mother.cannot_guard:
        return True
    return mother.is_away and father.cannot_guard


def key_reasons(
    *,
    guardianship_rating: str,
    care_type: str,
    schooling: str,
    hukou_registered: bool,
    health: str,
    manual: bool = False,
) -> list[str]:
    """Why a child is a key child (重点对象); empty means not key."""
    reasons: list[str] = []
    if guardianship_rating == c.Rating.POOR:
        reasons.append(c.KeyReason.POOR_RATING)
    if care_type in {c.CareType.UNSUPERVISED, c.CareType.LIVING_ALONE}:
        reasons.append(c.KeyReason.UNSUPERVISED)
    if schooling == c.Schooling.DROPOUT:
        reasons.append(c.KeyReason.DROPOUT)
    if not hukou_registered:
        reasons.append(c.KeyReason.NO_HUKOU)
    if health == c.Health.DISABLED:
        reasons.append(c.KeyReason.DISABLED)
    if health == c.Health.ILL:
        reasons.append(c.KeyReason.ILL)
    if manual:
        reasons.append(c.KeyReason.MANUAL)
    return [str(reason) for reason in reasons]


def reason_labels(codes: Iterable[str]) -> list[str]:
    labels = dict(c.KeyReason.choices)
    return [labels.get(code, code) for code in codes]
