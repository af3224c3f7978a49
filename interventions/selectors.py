"""Reads of the interventions app: the per-guardian panels of the report page and the timeline.

The caller has fetched the report through interventions/access.py.

Counted facts follow the guardian, not the report: a parent or entrusted guardian on the
child's file may have been dealt with on several reports (found begging three times is often
three reports). The counts (interventions by kind, begging admonitions, days of refused duty)
therefore cover every report about the child that the viewing user may read and that names the
same person of the file; the page lists what comes from other reports. A guardian named in
free text is counted on this report only. The grounds a worker judges met (concerns) are this
report's own.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils import timezone

from accounts.models import User
from interventions import rules
from interventions.models import (
    EDUCATION_KINDS,
    Concern,
    DutyRefusal,
    Guardian,
    GuardianConcern,
    Intervention,
    InterventionKind,
    Petition,
    PetitionState,
    PetitionStep,
)
from reports.access import reports_readable_by
from reports.models import Report
from reports.timeline import TimelineEvent

Key = tuple[str, object]


@dataclass
class Elsewhere:
    """What other readable reports hold about the same person of the file (standing rows)."""

    interventions: list[Intervention] = field(default_factory=list)
    refusals: list[DutyRefusal] = field(default_factory=list)


@dataclass
class GuardianPanel:
    guardian: Guardian
    interventions: list[Intervention]  # this report's, voided ones included (struck out)
    elsewhere: list[Intervention]  # standing ones of other reports, with .report
    counts: list[tuple[str, int]]  # (kind label, number) over all readable reports
    begging_admonitions: int
    refusals: list[DutyRefusal]  # this report's, voided included
    open_refusal: DutyRefusal | None
    refused_days: int
    longest: tuple[dt.date, dt.date] | None
    reaches_on: dt.date | None  # the open refusal reaches 6 months on this day (still ahead)
    concerns: list[GuardianConcern]  # active
    grounds: list[rules.Ground]
    petitions: list[Petition]
    open_petition: Petition | None

    @property
    def prompt(self) -> str:
        """The prompt, never a decision: the grounds met and their sources."""
        if not self.grounds:
            return ""
        listed = "；".join(f"{ground.text}（{ground.source}）" for ground in self.grounds)
        return f"已符合申请撤销监护人资格的情形：{listed}，可考虑提起申请"


def _key(guardian: Guardian) -> Key | None:
    if guardian.parent_id is not None:
        return ("parent", guardian.parent_id)
    if guardian.entrusted_id is not None:
        return ("entrusted", guardian.entrusted_id)
    return None


def _guardians(report: Report) -> list[Guardian]:
    steps = Prefetch("steps", queryset=PetitionStep.objects.select_related("by"))
    return list(
        Guardian.objects.filter(report=report)
        .select_related("parent", "entrusted")
        .prefetch_related(
            Prefetch(
                "interventions", queryset=Intervention.objects.select_related("unit", "by", "voided_by")
            ),
            Prefetch("refusals", queryset=DutyRefusal.objects.select_related("recorded_by", "voided_by")),
            Prefetch(
                "concerns",
                queryset=GuardianConcern.objects.filter(cleared_at__isnull=True).select_related("set_by"),
                to_attr="active_concerns",
            ),
            Prefetch("petitions", queryset=Petition.objects.prefetch_related(steps)),
        )
    )


def _elsewhere(report: Report, guardians: list[Guardian], user: User) -> dict[Key, Elsewhere]:
    parents = [g.parent_id for g in guardians if g.parent_id is not None]
    entrusted = [g.entrusted_id for g in guardians if g.entrusted_id is not None]
    if not parents and not entrusted:
        return {}
    rows = (
        Guardian.objects.filter(Q(parent_id__in=parents) | Q(entrusted_id__in=entrusted))
        .filter(report__in=reports_readable_by(user).values("pk"))
        .exclude(report=report)
        .prefetch_related(
            Prefetch(
                "interventions",
                queryset=Intervention.objects.filter(voided_at__isnull=True).select_related("unit", "report"),
            ),
            Prefetch("refusals", queryset=DutyRefusal.objects.filter(voided_at__isnull=True)),
        )
    )
    found: dict[Key, Elsewhere] = {}
    for row in rows:
        key = _key(row)
        if key is not None:
            entry = found.setdefault(key, Elsewhere())
            entry.interventions.extend(row.interventions.all())
            entry.refusals.extend(row.refusals.all())
    return found


def _begging(interventions: list[Intervention]) -> int:
    return sum(1 for i in interventions if i.kind in EDUCATION_KINDS and Concern.BEGGING in i.concerns)


def _counts(interventions: list[Intervention]) -> list[tuple[str, int]]:
    counted = Counter(i.kind for i in interventions)
    return [(str(label), counted[kind]) for kind, label in InterventionKind.choices if counted[kind]]


def _reaches_on(periods: list[rules.Period], open_refusal: DutyRefusal | None, on: dt.date) -> dt.date | None:
    if open_refusal is None:
        return None
    spans = rules.refusal_spans(periods, on)
    if not spans:
        return None
    reached = rules.refusal_reached(spans[-1][0])
    return reached if reached > on else None


def _panel(guardian: Guardian, other: Elsewhere, on: dt.date) -> GuardianPanel:
    own = list(guardian.interventions.all())
    standing = [i for i in own if i.voided_at is None] + other.interventions
    refusals = list(guardian.refusals.all())
    periods = [r.period for r in refusals if r.voided_at is None] + [r.period for r in other.refusals]
    concerns: list[GuardianConcern] = guardian.active_concerns  # type: ignore[attr-defined]
    facts = rules.Facts(
        refusals=tuple(periods),
        begging_admonitions=_begging(standing),
        judged=frozenset(row.ground for row in concerns),
    )
    open_refusal = next((r for r in refusals if r.voided_at is None and r.ended_on is None), None)
    petitions = list(guardian.petitions.all())
    return GuardianPanel(
        guardian=guardian,
        interventions=own,
        elsewhere=sorted(other.interventions, key=lambda i: (i.on, i.recorded_at)),
        counts=_counts(standing),
        begging_admonitions=facts.begging_admonitions,
        refusals=refusals,
        open_refusal=open_refusal,
        refused_days=rules.refused_days(periods, on),
        longest=rules.longest_refusal(periods, on),
        reaches_on=_reaches_on(periods, open_refusal, on),
        concerns=concerns,
        grounds=rules.grounds_met(facts, on),
        petitions=petitions,
        open_petition=next((p for p in petitions if p.is_open), None),
    )


def guardian_panels(report: Report, *, user: User, on: dt.date | None = None) -> list[GuardianPanel]:
    """One panel per guardian named on the report, facts as of `on` (today)."""
    on = on or timezone.localdate()
    guardians = _guardians(report)
    others = _elsewhere(report, guardians, user)
    panels = []
    for guardian in guardians:
        key = _key(guardian)
        panels.append(_panel(guardian, others.get(key, Elsewhere()) if key else Elsewhere(), on))
    return panels


# --- the timeline -----------------------------------------------------------------------------


def _day(day: dt.date) -> dt.datetime:
    """A date-only fact at the start of that day in the local zone (reports/timeline.py)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _voided(row: Intervention | DutyRefusal) -> str:
    return f"（已作废：{row.void_reason}）" if row.voided_at else ""


def _intervention_events(report: Report) -> list[TimelineEvent]:
    rows = Intervention.objects.filter(report=report).select_related("guardian", "unit", "by")
    return [
        TimelineEvent(
            at=_day(row.on),
            stage="intervention",
            label=f"{row.get_kind_display()}：{row.guardian}",
            who=f"{row.by} · {row.unit}",
            detail="涉及情形：" + "、".join(row.concern_labels) + _voided(row),
        )
        for row in rows
    ]


def _refusal_events(report: Report) -> list[TimelineEvent]:
    events = []
    for row in DutyRefusal.objects.filter(report=report).select_related(
        "guardian", "recorded_by", "ended_by"
    ):
        events.append(
            TimelineEvent(
                at=_day(row.started_on),
                stage="intervention",
                label=f"开始拒不履行监护职责：{row.guardian}",
                who=str(row.recorded_by),
                detail=_voided(row),
            )
        )
        if row.ended_on is not None:
            events.append(
                TimelineEvent(
                    at=_day(row.ended_on),
                    stage="intervention",
                    label=f"拒不履行监护职责结束：{row.guardian}",
                    who=str(row.ended_by or row.recorded_by),
                    detail=_voided(row),
                )
            )
    return events


def _concern_events(report: Report) -> list[TimelineEvent]:
    events = []
    rows = GuardianConcern.objects.filter(report=report).select_related("guardian", "set_by", "cleared_by")
    for row in rows:
        ground = rules.BY_CODE[row.ground]
        events.append(
            TimelineEvent(
                at=row.set_at,
                stage="intervention",
                label=f"认定情形：{row.guardian}",
                who=str(row.set_by),
                detail=f"{ground.text}（{ground.source}）",
            )
        )
        if row.cleared_at is not None:
            events.append(
                TimelineEvent(
                    at=row.cleared_at,
                    stage="intervention",
                    label=f"取消认定情形：{row.guardian}",
                    who=str(row.cleared_by),
                    detail=ground.text,
                )
            )
    return events


def _step_detail(petition: Petition, step: PetitionStep) -> str:
    if step.state == PetitionState.FILED:
        kind = petition.get_petitioner_kind_display()
        return f"申请人：{kind} {petition.petitioner_name}；法院：{petition.court}"
    if step.state == PetitionState.DECIDED:
        parts = [petition.get_outcome_display()]
        if petition.new_guardian_label:
            parts.append(f"另行指定监护人：{petition.new_guardian_label}")
        if petition.protection_order:
            parts.append("签发人身安全保护令")
        return "；".join(parts)
    return step.note


def _petition_events(report: Report) -> list[TimelineEvent]:
    steps = PetitionStep.objects.filter(petition__report=report).select_related("petition__guardian", "by")
    return [
        TimelineEvent(
            at=_day(step.on),
            stage="intervention",
            label=f"撤销监护人资格申请：{step.get_state_display()}（{step.petition.guardian}）",
            who=str(step.by),
            detail=_step_detail(step.petition, step),
        )
        for step in steps
    ]


def timeline_events(report: Report) -> list[TimelineEvent]:
    """The report's interventions, refusals, judged grounds and petition steps, oldest first.
    Who may see them was decided when the report was fetched (reports/access.py)."""
    events = [
        *_intervention_events(report),
        *_refusal_events(report),
        *_concern_events(report),
        *_petition_events(report),
    ]
    return sorted(events, key=lambda event: event.at)
