"""The care rules, as plain functions tested as tables (care/tests/test_rules.py).

Risk colour: each condition the child meets has a colour in the county's table; the child's
colour is the most severe of them, green when none applies (or every one met is set to green).
Exited files have no colour and no due date.

Next visit due: the last visit's date plus the colour's interval in days; a child never
visited counts from the day the file was opened, so a file opened long ago and never visited
is overdue at once. Plain day arithmetic: month ends and 29 February need no special case.
"""

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from care.choices import Condition
from registry import choices as rc

RED, ORANGE, YELLOW, GREEN = (str(colour) for colour in rc.RiskColour)
COLOURS = (RED, ORANGE, YELLOW, GREEN)  # most severe first
SEVERITY = {colour: rank for rank, colour in enumerate(COLOURS)}

# The defaults (issue 4; REQUIREMENTS.md §12 "suggested visit defaults").
DEFAULT_INTERVALS: dict[str, int] = {RED: 7, ORANGE: 14, YELLOW: 30, GREEN: 90}
_DEFAULT_CONDITIONS = {
    Condition.LIVING_ALONE: RED,
    Condition.UNSUPERVISED: RED,
    Condition.POOR_RATING: ORANGE,
    Condition.DROPOUT: ORANGE,
    Condition.NO_HUKOU: ORANGE,
    Condition.SERIOUS_ILLNESS: ORANGE,
    Condition.SERIOUS_DISABILITY: ORANGE,
    Condition.PARENT_UNREACHABLE: ORANGE,
    Condition.VISIT_HAZARD: ORANGE,
    Condition.FAIR_RATING: YELLOW,
    Condition.VISIT_FOLLOW_UP: YELLOW,
}
DEFAULT_CONDITIONS: dict[str, str] = {str(code): colour for code, colour in _DEFAULT_CONDITIONS.items()}

# Short words for badges and lists ("红色：单独居住、辍学").
SHORT_LABELS: dict[str, str] = {
    Condition.LIVING_ALONE: "单独居住",
    Condition.UNSUPERVISED: "无人监护",
    Condition.POOR_RATING: "监护情况差",
    Condition.DROPOUT: "失学辍学",
    Condition.NO_HUKOU: "未登记户口",
    Condition.SERIOUS_ILLNESS: "患病",
    Condition.SERIOUS_DISABILITY: "重度残疾",
    Condition.PARENT_UNREACHABLE: "父母失联",
    Condition.VISIT_HAZARD: "走访发现安全隐患",
    Condition.FAIR_RATING: "监护情况一般",
    Condition.VISIT_FOLLOW_UP: "走访需跟进",
}
SERIOUS_DISABILITY_GRADES = frozenset({"1", "2", ""})  # 一级、二级 (重度), or not yet graded


class RulePolicy(Protocol):
    """What the rules need from a county's policy (care.models.CarePolicy implements it)."""

    def colour_for(self, condition: str) -> str: ...

    def interval_for(self, colour: str) -> int: ...


@dataclass(frozen=True)
class PolicyTable:
    """A policy as plain data: the defaults, and tests."""

    intervals: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_INTERVALS))
    conditions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CONDITIONS))

    def colour_for(self, condition: str) -> str:
        return self.conditions.get(condition, DEFAULT_CONDITIONS.get(condition, GREEN))

    def interval_for(self, colour: str) -> int:
        return self.intervals.get(colour, DEFAULT_INTERVALS[colour])


DEFAULT_POLICY = PolicyTable()


@dataclass(frozen=True)
class Facts:
    """What the colour depends on: the file, the parents' 失联 flags and the latest visit."""

    care_type: str
    guardianship_rating: str
    schooling: str = rc.Schooling.PRIMARY
    hukou_registered: bool = True
    health: str = rc.Health.HEALTHY
    disability_grade: str = ""
    parent_unreachable: bool = False
    visit_hazard: bool = False
    visit_follow_up: bool = False
    active: bool = True


def conditions_met(facts: Facts) -> list[str]:
    """The conditions this child meets, in the table's order."""
    met = {
        Condition.LIVING_ALONE: facts.care_type == rc.CareType.LIVING_ALONE,
        Condition.UNSUPERVISED: facts.care_type == rc.CareType.UNSUPERVISED,
        Condition.POOR_RATING: facts.guardianship_rating == rc.Rating.POOR,
        Condition.DROPOUT: facts.schooling == rc.Schooling.DROPOUT,
        Condition.NO_HUKOU: not facts.hukou_registered,
        Condition.SERIOUS_ILLNESS: facts.health == rc.Health.ILL,
        Condition.SERIOUS_DISABILITY: facts.health == rc.Health.DISABLED
        and facts.disability_grade in SERIOUS_DISABILITY_GRADES,
        Condition.PARENT_UNREACHABLE: facts.parent_unreachable,
        Condition.VISIT_HAZARD: facts.visit_hazard,
        Condition.FAIR_RATING: facts.guardianship_rating == rc.Rating.FAIR,
        Condition.VISIT_FOLLOW_UP: facts.visit_follow_up,
    }
    return [str(code) for code in Condition if met[code]]


def risk_colour(facts: Facts, policy: RulePolicy) -> tuple[str, list[str]]:
    """(colour, reasons): the most severe colour of the conditions met, and those conditions
    that raise the colour above green, most severe first. Exited: ("", [])."""
    if not facts.active:
        return "", []
    raised = [(policy.colour_for(code), code) for code in conditions_met(facts)]
    raised = [(colour, code) for colour, code in raised if colour != GREEN]
    if not raised:
        return GREEN, []
    raised.sort(key=lambda pair: SEVERITY[pair[0]])  # stable: table order within a colour
    return raised[0][0], [code for _colour, code in raised]


def next_due(
    last_visit_on: dt.date | None, colour: str, policy: RulePolicy, *, opened_on: dt.date
) -> dt.date | None:
    """The date by which the next visit is due; None for a file without a colour (exited)."""
    if not colour:
        return None
    base = last_visit_on or opened_on
    return base + dt.timedelta(days=policy.interval_for(colour))


def reason_labels(codes: Iterable[str]) -> list[str]:
    return [SHORT_LABELS.get(code, code) for code in codes]


def interval_order_errors(intervals: Mapping[str, int]) -> list[tuple[str, str]]:
    """Pairs (colour, reason) where the order red ≤ orange ≤ yellow ≤ green is broken: the
    colour whose interval is shorter than a more severe colour's, and the message."""
    problems: list[tuple[str, str]] = []
    for severe, lighter in itertools.pairwise(COLOURS):
        if intervals[lighter] < intervals[severe]:
            problems.append(
                (
                    lighter,
                    f"{rc.RiskColour(lighter).label}的走访间隔不能短于"
                    f"{rc.RiskColour(severe).label}（{intervals[severe]} 天）。",
                )
            )
    return problems
