"""Grounds to petition to revoke guardianship (撤销监护人资格, REQUIREMENTS.md R21), as data, and the
pure function that says which are met.

Sources:
- GF13: 国发〔2016〕13号 (three grounds), read in full [S].
- JH2014-35-n: 《关于依法处理监护人侵害未成年人权益行为若干问题的意见》 Art. 35, item n (seven
  grounds) [S for the article as summarised in R21; the item wording below is recalled, U].
A GF13 ground and its JH2014 counterpart are one Ground with both sources, so the prompt names
each fact once.

Two grounds are counted from the records; the others are a worker's judgement, ticked on the
guardian (GuardianConcern rows) and passed in as `judged`:
- refused duty: one continuous refusal of 6 calendar months or more. Months follow the Civil
  Code (民法典 Arts. 201–202): the first day is not counted and the period ends on the
  corresponding day of the sixth month, or on that month's last day when it has no such day.
  Refusal from 2024-01-15 reaches 6 months on 2024-07-15; from 2023-08-31 on 2024-02-29; from
  2024-08-31 on 2025-02-28. Periods that overlap or touch (the next starts the day after the
  last one ends) are one refusal; separate refusals do not add up to the 6 months (the law
  says 长达六个月), though the page shows their total days.
- begging: 3 or more criticisms or admonitions (批评教育 or 训诫) for begging (JH2014-35-5 says
  "三次以上批评教育"; 训诫 is the formal kind of it).
A counted ground checks the count or the clock only: the rest of its wording (生活无着, 严重影响
正常生活和学习) stays the worker's judgement, which the page says.

Nothing here decides: the page shows the grounds met as a prompt to consider a petition.
"""

import calendar
import datetime as dt
from dataclasses import dataclass

REFUSAL_MONTHS = 6
BEGGING_ADMONITIONS = 3

SOURCES = {
    "GF13": "国发〔2016〕13号《国务院关于加强农村留守儿童关爱保护工作的意见》",
    "JH2014": (
        "最高人民法院、最高人民检察院、公安部、民政部《关于依法处理监护人侵害未成年人权益行为若干问题的意见》"
    ),
}


@dataclass(frozen=True)
class Ground:
    code: str
    text: str
    sources: tuple[str, ...]  # "GF13" or "JH2014-35-n"
    counted: bool  # True: from the records; False: a worker's judgement (a concern flag)

    @property
    def source(self) -> str:
        """The sources in short Chinese: "GF13；JH2014 第35条第（三）项"."""
        return "；".join(_source_label(code) for code in self.sources)


_ITEMS = "一二三四五六七"


def _source_label(code: str) -> str:
    if code.startswith("JH2014-35-"):
        item = int(code.rsplit("-", 1)[1])
        return f"JH2014 第35条第（{_ITEMS[item - 1]}）项"
    return code


GROUNDS: tuple[Ground, ...] = (
    Ground(
        "serious_harm",
        "性侵害、出卖、遗弃、虐待、暴力伤害（含家庭暴力）儿童，严重损害其身心健康",
        ("GF13", "JH2014-35-1"),
        counted=False,
    ),
    Ground(
        "unsupervised_danger",
        "将儿童置于无人监管和照看的状态，导致其面临死亡或者严重伤害危险，经教育不改",
        ("GF13", "JH2014-35-2"),
        counted=False,
    ),
    Ground(
        "refused_duty",
        "拒不履行监护职责长达六个月以上，导致儿童流离失所或者生活无着",
        ("GF13", "JH2014-35-3"),
        counted=True,
    ),
    Ground(
        "addiction_no_entrust",
        "有吸毒、赌博、长期酗酒等恶习或者因服刑等原因无法履行监护职责，且拒绝将监护职责委托给他人，"
        "致使儿童处于困境或者危险状态",
        ("JH2014-35-4",),
        counted=False,
    ),
    Ground(
        "begging",
        "胁迫、诱骗、利用儿童乞讨，经三次以上批评教育拒不改正，严重影响儿童正常生活和学习",
        ("JH2014-35-5",),
        counted=True,
    ),
    Ground(
        "inciting_crime",
        "教唆、利用儿童实施违法犯罪行为，情节恶劣",
        ("JH2014-35-6",),
        counted=False,
    ),
    Ground(
        "other_serious",
        "有其他严重侵害儿童合法权益的行为",
        ("JH2014-35-7",),
        counted=False,
    ),
)
BY_CODE = {ground.code: ground for ground in GROUNDS}
JUDGED = tuple(ground for ground in GROUNDS if not ground.counted)


@dataclass(frozen=True)
class Period:
    """A refusal of duty: its first day and its last day (None: still going on)."""

    started_on: dt.date
    ended_on: dt.date | None = None


@dataclass(frozen=True)
class Facts:
    refusals: tuple[Period, ...] = ()
    begging_admonitions: int = 0
    judged: frozenset[str] = frozenset()  # codes of the judgement grounds ticked


def add_months(day: dt.date, months: int) -> dt.date:
    """The corresponding day `months` later, or that month's last day (民法典 Art. 202)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def refusal_spans(periods: tuple[Period, ...] | list[Period], on: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The continuous refusals as of `on`: (first day, last day), oldest first. An open period
    runs to `on`; anything after `on` is not known yet and is left out."""
    spans: list[tuple[dt.date, dt.date]] = []
    for period in sorted(periods, key=lambda p: p.started_on):
        if period.started_on > on:
            continue
        last = min(period.ended_on or on, on)
        if spans and period.started_on <= spans[-1][1] + dt.timedelta(days=1):
            spans[-1] = (spans[-1][0], max(spans[-1][1], last))
        else:
            spans.append((period.started_on, last))
    return spans


def refused_days(periods: tuple[Period, ...] | list[Period], on: dt.date) -> int:
    """Days of refused duty up to `on`, both ends counted, overlaps once."""
    return sum((last - first).days + 1 for first, last in refusal_spans(periods, on))


def longest_refusal(
    periods: tuple[Period, ...] | list[Period], on: dt.date
) -> tuple[dt.date, dt.date] | None:
    spans = refusal_spans(periods, on)
    return max(spans, key=lambda span: (span[1] - span[0], span[0])) if spans else None


def refusal_reached(first: dt.date) -> dt.date:
    """The day a refusal that began on `first` reaches REFUSAL_MONTHS."""
    return add_months(first, REFUSAL_MONTHS)


def _refused_long_enough(facts: Facts, on: dt.date) -> bool:
    return any(last >= refusal_reached(first) for first, last in refusal_spans(facts.refusals, on))


def grounds_met(facts: Facts, on: dt.date) -> list[Ground]:
    """The grounds the facts meet on `on`, in GROUNDS order. A prompt, never a decision."""
    met = set(facts.judged) & {ground.code for ground in JUDGED}
    if _refused_long_enough(facts, on):
        met.add("refused_duty")
    if facts.begging_admonitions >= BEGGING_ADMONITIONS:
        met.add("begging")
    return [ground for ground in GROUNDS if ground.code in met]
