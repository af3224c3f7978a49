"""Writes of the interventions app. Each runs in one transaction, calls full_clean() then
save(), and leaves history rows (the view adds the audit row in the same transaction).

A refused write raises ValidationError with a Chinese message at the field (or as a non-field
error) and writes nothing. The caller has fetched every object through interventions/access.py
and checked the user's powers there (kinds_for); the services check the facts.
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from geo.models import Unit, UnitKind
from interventions import rules
from interventions.models import (
    ADVANCES,
    OPEN_STATES,
    POLICE_KINDS,
    Concern,
    DutyRefusal,
    Guardian,
    GuardianConcern,
    Intervention,
    InterventionKind,
    Outcome,
    Petition,
    PetitionState,
    PetitionStep,
    Relation,
)
from registry.models import EntrustedGuardian, Parent
from reports.models import Report

POLICE_UNITS = frozenset({UnitKind.POLICE_STATION, UnitKind.POLICE_BUREAU})


def _today() -> dt.date:
    return timezone.localdate()


def _not_future(day: dt.date, field: str, label: str) -> None:
    if day > _today():
        raise ValidationError({field: f"{label}不能晚于今天。"})


def _not_before_birth(report: Report, day: dt.date, field: str, label: str) -> None:
    child = report.child
    if child is not None and day < child.birth_date:
        raise ValidationError({field: f"{label}不能早于儿童出生日期。"})


def _text(value: str) -> str:
    return " ".join(value.split())


def _save(obj: Guardian | Intervention | DutyRefusal | GuardianConcern | Petition, user: User) -> None:
    obj._history_user = user  # type: ignore[union-attr,attr-defined]
    obj.full_clean()
    obj.save()


# --- guardians -----------------------------------------------------------------------------------


@transaction.atomic
def guardian_add(
    *,
    user: User,
    report: Report,
    parent: Parent | None = None,
    entrusted: EntrustedGuardian | None = None,
    name: str = "",
    relation: str = "",
) -> tuple[Guardian, bool]:
    """Name a guardian on the report: a parent or the entrusted guardian on the child's file
    (their name and relation are copied), or a person named here. Naming the same person of
    the file again returns the first row (created False)."""
    Report.objects.select_for_update().filter(pk=report.pk).first()  # one writer per report
    if parent is not None or entrusted is not None:
        child_id = parent.child_id if parent is not None else entrusted.child_id  # type: ignore[union-attr]
        if report.child_id is None or child_id != report.child_id:
            raise ValidationError({"person": "该人员不在这名儿童的档案中。"})
        existing = Guardian.objects.filter(report=report, parent=parent, entrusted=entrusted).first()
        if existing is not None:
            return existing, False
        if parent is not None:
            name, relation = parent.name, parent.role
        else:
            name, relation = entrusted.name, entrusted.relation  # type: ignore[union-attr]
        if not name:
            raise ValidationError(
                {"person": "档案中没有登记该人员的姓名，请先在档案中补充，或选择“其他人员”。"}
            )
    else:
        name = _text(name)
        if not name:
            raise ValidationError({"name": "请填写监护人姓名。"})
        if relation not in Relation.values:
            raise ValidationError({"relation": "请选择与儿童的关系。"})
    guardian = Guardian(
        report=report, parent=parent, entrusted=entrusted, name=name, relation=relation, added_by=user
    )
    _save(guardian, user)
    return guardian, True


# --- interventions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class InterventionData:
    submission_key: uuid.UUID
    kind: str
    on: dt.date
    unit: Unit
    concerns: list[str]
    note: str = ""


def _check_intervention(guardian: Guardian, data: InterventionData) -> None:
    _not_future(data.on, "on", "日期")
    _not_before_birth(guardian.report, data.on, "on", "日期")
    if data.kind in POLICE_KINDS and data.unit.kind not in POLICE_UNITS:
        label = InterventionKind(data.kind).label
        raise ValidationError({"unit": f"{label}由公安机关作出，请选择作出的公安机关。"})
    if not data.concerns:
        raise ValidationError({"concerns": "请至少选择一项涉及情形。"})
    if set(data.concerns) - set(Concern.values):
        raise ValidationError({"concerns": "涉及情形不正确。"})
    if data.kind == InterventionKind.WARNING_LETTER and Concern.VIOLENCE not in data.concerns:
        raise ValidationError(
            {"concerns": "告诫书针对家庭暴力（反家庭暴力法第十六条），请选择“家庭暴力、虐待”。"}
        )


@transaction.atomic
def intervention_record(
    *, user: User, guardian: Guardian, data: InterventionData
) -> tuple[Intervention, bool]:
    """Record an intervention on the guardian; returns (intervention, created). The same
    submission key again (a double tap, a retry) returns the first record and writes nothing."""
    existing = Intervention.objects.filter(submission_key=data.submission_key).first()
    if existing is not None:
        if existing.guardian_id != guardian.pk:
            raise ValidationError("提交标识重复，请刷新页面后重新填写。")
        return existing, False
    _check_intervention(guardian, data)
    intervention = Intervention(
        report_id=guardian.report_id,
        guardian=guardian,
        kind=data.kind,
        on=data.on,
        unit=data.unit,
        by=user,
        concerns=[code for code in Concern.values if code in data.concerns],
        note=data.note.strip(),
        submission_key=data.submission_key,
    )
    _save(intervention, user)
    return intervention, True


def _void_reason(reason: str) -> str:
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": "请填写作废原因。"})
    return reason


@transaction.atomic
def intervention_void(*, user: User, intervention: Intervention, reason: str) -> Intervention:
    """Void a wrongly entered intervention (作废, with a reason and history; never deleted): it
    stays on the page, struck out, and no longer counts."""
    reason = _void_reason(reason)
    locked = Intervention.objects.select_for_update().get(pk=intervention.pk)
    if locked.voided_at is not None:
        raise ValidationError("这条干预记录已经作废。")
    locked.voided_at, locked.voided_by, locked.void_reason = timezone.now(), user, reason
    locked._history_user = user  # type: ignore[attr-defined]
    locked.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return locked


# --- refused duty ----------------------------------------------------------------------------


def _standing_refusals(guardian: Guardian) -> list[DutyRefusal]:
    return list(DutyRefusal.objects.select_for_update().filter(guardian=guardian, voided_at__isnull=True))


@transaction.atomic
def refusal_start(*, user: User, guardian: Guardian, started_on: dt.date, note: str = "") -> DutyRefusal:
    """Start a period of refused duty. Refused while another period is open or when the day
    falls inside a recorded period."""
    Guardian.objects.select_for_update().filter(pk=guardian.pk).first()  # one writer per guardian
    _not_future(started_on, "started_on", "开始日期")
    _not_before_birth(guardian.report, started_on, "started_on", "开始日期")
    for period in _standing_refusals(guardian):
        if period.ended_on is None:
            raise ValidationError(
                f"已有自 {period.started_on:%Y-%m-%d} 起尚未结束的拒不履行记录，请先登记其结束。"
            )
        if period.started_on <= started_on <= period.ended_on:
            raise ValidationError(
                {
                    "started_on": f"该日期已在 {period.started_on:%Y-%m-%d} 至 "
                    f"{period.ended_on:%Y-%m-%d} 的记录之内。"
                }
            )
    refusal = DutyRefusal(
        report_id=guardian.report_id,
        guardian=guardian,
        started_on=started_on,
        note=note.strip(),
        recorded_by=user,
    )
    _save(refusal, user)
    return refusal


@transaction.atomic
def refusal_end(*, user: User, refusal: DutyRefusal, ended_on: dt.date) -> DutyRefusal:
    """Record the last day of a period of refused duty (the guardian resumed the day after)."""
    locked = DutyRefusal.objects.select_for_update().get(pk=refusal.pk)
    if locked.voided_at is not None:
        raise ValidationError("这条记录已经作废。")
    if locked.ended_on is not None:
        raise ValidationError(f"这段拒不履行已于 {locked.ended_on:%Y-%m-%d} 结束。")
    _not_future(ended_on, "ended_on", "结束日期")
    if ended_on < locked.started_on:
        raise ValidationError({"ended_on": f"结束日期不能早于开始日期（{locked.started_on:%Y-%m-%d}）。"})
    later = DutyRefusal.objects.filter(
        guardian_id=locked.guardian_id, voided_at__isnull=True, started_on__gt=locked.started_on
    )
    clash = later.filter(started_on__lte=ended_on).order_by("started_on").first()
    if clash is not None:
        raise ValidationError({"ended_on": f"结束日期与 {clash.started_on:%Y-%m-%d} 起的记录重叠。"})
    locked.ended_on, locked.ended_by = ended_on, user
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(update_fields=["ended_on", "ended_by"])
    return locked


@transaction.atomic
def refusal_void(*, user: User, refusal: DutyRefusal, reason: str) -> DutyRefusal:
    """Void a wrongly entered period (作废, with a reason; never deleted): it no longer counts."""
    reason = _void_reason(reason)
    locked = DutyRefusal.objects.select_for_update().get(pk=refusal.pk)
    if locked.voided_at is not None:
        raise ValidationError("这条记录已经作废。")
    locked.voided_at, locked.voided_by, locked.void_reason = timezone.now(), user, reason
    locked._history_user = user  # type: ignore[attr-defined]
    locked.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return locked


# --- the grounds a worker judges met -----------------------------------------------------------


@transaction.atomic
def concerns_set(
    *, user: User, guardian: Guardian, grounds: set[str], basis: str
) -> tuple[set[str], set[str]]:
    """Set the judgement grounds (rules.JUDGED) ticked on the guardian: new ones get a row with
    the basis, unticked ones are cleared with it as the reason. Returns (added, cleared).
    Refused when nothing changes, or without a basis."""
    Guardian.objects.select_for_update().filter(pk=guardian.pk).first()
    judged = {ground.code for ground in rules.JUDGED}
    if grounds - judged:
        raise ValidationError({"grounds": "情形不正确。"})
    active = {
        row.ground: row for row in GuardianConcern.objects.filter(guardian=guardian, cleared_at__isnull=True)
    }
    added, cleared = grounds - set(active), set(active) - grounds
    if not added and not cleared:
        raise ValidationError("情形判断没有变化。")
    basis = basis.strip()
    if not basis:
        raise ValidationError({"basis": "请填写判断依据（或取消的原因）。"})
    now = timezone.now()
    for code in cleared:
        row = active[code]
        row.cleared_at, row.cleared_by, row.clear_reason = now, user, basis
        row._history_user = user  # type: ignore[attr-defined]
        row.save(update_fields=["cleared_at", "cleared_by", "clear_reason"])
    for code in sorted(added):
        _save(
            GuardianConcern(
                report_id=guardian.report_id, guardian=guardian, ground=code, basis=basis, set_by=user
            ),
            user,
        )
    return added, cleared


# --- petitions to revoke guardianship ------------------------------------------------------------


@dataclass(frozen=True)
class PetitionData:
    petitioner_kind: str
    petitioner_name: str
    grounds: list[str]
    court: str
    filed_on: dt.date
    note: str = ""


def _step(petition: Petition, state: str, on: dt.date, user: User, note: str = "") -> None:
    step = PetitionStep(petition=petition, state=state, on=on, by=user, note=note)
    step.full_clean()
    step.save()


@transaction.atomic
def petition_file(*, user: User, guardian: Guardian, data: PetitionData) -> Petition:
    """Record a petition filed with the court. One open petition per guardian."""
    Guardian.objects.select_for_update().filter(pk=guardian.pk).first()
    if Petition.objects.filter(guardian=guardian, state__in=OPEN_STATES).exists():
        raise ValidationError("该监护人已有尚未结束的撤销监护人资格申请，请在原申请中更新进展。")
    _not_future(data.filed_on, "filed_on", "申请日期")
    if not data.grounds:
        raise ValidationError({"grounds": "请至少选择一项申请理由。"})
    if set(data.grounds) - set(rules.BY_CODE):
        raise ValidationError({"grounds": "申请理由不正确。"})
    petition = Petition(
        report_id=guardian.report_id,
        guardian=guardian,
        petitioner_kind=data.petitioner_kind,
        petitioner_name=_text(data.petitioner_name),
        grounds=[ground.code for ground in rules.GROUNDS if ground.code in data.grounds],
        court=_text(data.court),
        filed_on=data.filed_on,
        note=data.note.strip(),
        filed_by=user,
    )
    _save(petition, user)
    _step(petition, PetitionState.FILED, data.filed_on, user)
    return petition


def _locked_open(petition: Petition) -> Petition:
    locked = Petition.objects.select_for_update().get(pk=petition.pk)
    if not locked.is_open:
        raise ValidationError(f"该申请已结束（{locked.get_state_display()}），不能再更新。")
    return locked


def _latest_date(petition: Petition) -> tuple[dt.date, str]:
    dates = [(petition.filed_on, "申请日期")]
    if petition.accepted_on:
        dates.append((petition.accepted_on, "受理日期"))
    if petition.heard_on:
        dates.append((petition.heard_on, "开庭日期"))
    return max(dates)


def _check_step_date(petition: Petition, on: dt.date, field: str, label: str) -> None:
    _not_future(on, field, label)
    latest, latest_label = _latest_date(petition)
    if on < latest:
        raise ValidationError({field: f"{label}不能早于{latest_label}（{latest:%Y-%m-%d}）。"})


@transaction.atomic
def petition_advance(*, user: User, petition: Petition, to: str, on: dt.date, note: str = "") -> Petition:
    """The court accepted (受理) or heard (开庭审理) the petition, or it was withdrawn (撤回)."""
    locked = _locked_open(petition)
    if to not in ADVANCES:
        raise ValidationError({"to": "请选择进展。"})
    if locked.state not in ADVANCES[to]:
        raise ValidationError(
            {"to": f"申请现为“{locked.get_state_display()}”，不能登记为“{PetitionState(to).label}”。"}
        )
    _check_step_date(locked, on, "on", "日期")
    fields = ["state"]
    if to == PetitionState.ACCEPTED:
        locked.accepted_on = on
        fields.append("accepted_on")
    elif to == PetitionState.HEARD:
        locked.heard_on = on
        fields.append("heard_on")
    else:
        locked.decided_on, locked.outcome = on, Outcome.WITHDRAWN
        fields += ["decided_on", "outcome"]
    locked.state = to
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(update_fields=fields)
    _step(locked, to, on, user, _text(note))
    return locked


@dataclass(frozen=True)
class Decision:
    decided_on: dt.date
    outcome: str
    new_guardian_name: str = ""
    new_guardian_relation: str = ""
    new_guardian_institution: str = ""
    protection_order: bool = False
    maintenance_note: str = ""


def _check_decision(decision: Decision) -> None:
    if decision.outcome not in (Outcome.REVOKED, Outcome.REJECTED):
        raise ValidationError({"outcome": "请选择判决结果（撤销监护人资格或驳回申请）。"})
    named = bool(decision.new_guardian_name or decision.new_guardian_relation)
    if decision.outcome == Outcome.REVOKED:
        if decision.new_guardian_institution and named:
            raise ValidationError({"new_guardian_institution": "另行指定的监护人填写个人或机构其中一项。"})
        if not decision.new_guardian_institution and not named:
            raise ValidationError(
                {"new_guardian_name": "撤销监护人资格的，请填写法院另行指定的监护人或机构。"}
            )
        if named and not (decision.new_guardian_name and decision.new_guardian_relation):
            field = "new_guardian_relation" if decision.new_guardian_name else "new_guardian_name"
            raise ValidationError({field: "请同时填写另行指定监护人的姓名和与儿童的关系。"})
    elif named or decision.new_guardian_institution:
        raise ValidationError({"new_guardian_name": "驳回申请的，不另行指定监护人。"})


@transaction.atomic
def petition_decide(*, user: User, petition: Petition, decision: Decision) -> Petition:
    """The court's decision: guardianship revoked (with the new guardian it designated) or the
    petition rejected; a personal-safety protection order and the maintenance the parent still
    pays (WBF 108). The file is not changed here: the worker updates the guardian on the file."""
    locked = _locked_open(petition)
    _check_step_date(locked, decision.decided_on, "decided_on", "判决日期")
    _check_decision(decision)
    revoked = decision.outcome == Outcome.REVOKED
    locked.state, locked.decided_on, locked.outcome = (
        PetitionState.DECIDED,
        decision.decided_on,
        decision.outcome,
    )
    locked.new_guardian_name = _text(decision.new_guardian_name) if revoked else ""
    locked.new_guardian_relation = decision.new_guardian_relation if revoked else ""
    locked.new_guardian_institution = _text(decision.new_guardian_institution) if revoked else ""
    locked.protection_order = decision.protection_order
    locked.maintenance_note = decision.maintenance_note.strip()
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(
        update_fields=[
            "state",
            "decided_on",
            "outcome",
            "new_guardian_name",
            "new_guardian_relation",
            "new_guardian_institution",
            "protection_order",
            "maintenance_note",
        ]
    )
    _step(locked, PetitionState.DECIDED, decision.decided_on, user, str(Outcome(decision.outcome).label))
    return locked
