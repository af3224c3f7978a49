"""Writes of the cases app. Each runs in one transaction, locks the case row, leaves history
rows (simple_history, `_history_user`) and one audit row (object_type "case"), and refuses what
the rules forbid with a Chinese ValidationError before writing anything.

Every write bumps Case.version. The state-changing forms (assessment, close request, approval,
rejection, reopening) carry the version they were loaded with: a stale one raises
StaleCaseError (the view answers 409) instead of acting on a case that has moved on.
Measures and follow-ups are added independently of each other and are not version-checked.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import SEPARATED_ROLES, Role, RoleGrant, User
from audit.models import EventType
from audit.services import audit_event
from cases.access import (
    case_perms,
    may_be_assigned,
    may_manage_report,
    may_update_measure,
    referral_unit_ids,
)
from cases.models import (
    OPEN_MEASURE_STATES,
    Assessment,
    Case,
    CaseState,
    CaseTransition,
    FollowUp,
    Measure,
    MeasureStatus,
    Participant,
    TransitionKind,
)
from geo.models import Unit, UnitKind
from notify.services import notification_send
from registry.access import active_grants
from registry.models import UnitAssignment
from registry.services import unit_assignment_open, unit_assignments_end_for_measure
from reports.models import MemberKind, Report, ReportMember, ReportState

CLOSING_REFUSED = "个案正在等待结案审批，不能修改。如需继续帮扶，请先退回结案申请。"
CLOSED_REFUSED = "个案已结案，不能修改。如需继续帮扶，请先重新启用个案。"
ASSESS_FIRST = "请先完成评估，再制定帮扶计划和安排回访。"
NO_RIGHT = "您没有办理该个案的权限。"


class StaleCaseError(Exception):
    """The case changed since the form was loaded; nothing was written."""

    def __init__(self, current: Case) -> None:
        super().__init__("个案已被他人修改，请查看最新情况后重新操作。")
        self.current = current


# --- helpers ---------------------------------------------------------------------------------


def _lock(case: Case, expected_version: int | None = None) -> Case:
    locked = (
        Case.objects.select_for_update(of=("self",))
        .select_related("report", "report__county", "township")
        .get(pk=case.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise StaleCaseError(locked)
    return locked


def _save_case(user: User, case: Case, *fields: str) -> Case:
    """Bump the version, follow the report's child, and save the named fields."""
    case.version += 1
    case.child_id = case.report.child_id
    case._history_user = user  # type: ignore[attr-defined]
    case.full_clean()
    case.save(update_fields=[*fields, "version", "child"])
    return case


def _require_editable(case: Case, *, assessed: bool = False) -> None:
    if case.state == CaseState.CLOSING:
        raise ValidationError(CLOSING_REFUSED)
    if case.state == CaseState.CLOSED:
        raise ValidationError(CLOSED_REFUSED)
    if assessed and case.state == CaseState.ASSESSING:
        raise ValidationError(ASSESS_FIRST)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(NO_RIGHT)


def _reason(reason: str, message: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": message})
    return reason


def _transition(user: User, case: Case, kind: str, before: str, reason: str = "") -> CaseTransition:
    row = CaseTransition(
        case=case,
        kind=kind,
        from_state=before,
        to_state=case.state,
        at=timezone.now(),
        by=user,
        reason=reason,
    )
    row.full_clean()
    row.save(force_insert=True)
    return row


def _audit(user: User, case: Case, change: str, *, created: bool = False, **detail: object) -> None:
    audit_event(
        user=user,
        action=EventType.CREATE if created else EventType.UPDATE,
        object_type="case",
        object_id=case.pk,
        detail={"change": change, **{k: str(v) for k, v in detail.items()}},
    )


def _not_future(day: dt.date, field: str, label: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: f"{label}不能晚于今天。"})


def _not_past(day: dt.date, field: str, label: str) -> None:
    if day < timezone.localdate():
        raise ValidationError({field: f"{label}不能早于今天。"})


def _notify(users: list[User], *, kind: str, title: str, body: str, link: str) -> None:
    """In-app notices without the child's name or any number (they may leave by mail or SMS)."""
    for recipient in dict.fromkeys(users):
        notification_send(recipient=recipient, kind=kind, title=title, body=body, link=link)


def _case_link(case: Case) -> str:
    return reverse("cases:detail", kwargs={"case_id": case.pk})


# --- opening ---------------------------------------------------------------------------------


@transaction.atomic
def case_open(*, user: User, report: Report) -> Case:
    """Open the case of a report the police have notified to the township (R19 → R20). One
    case per report; by a county admin of the report's county or a supervisor named on it."""
    locked = Report.objects.select_for_update(of=("self",)).select_related("township").get(pk=report.pk)
    _require(may_manage_report(user, locked))
    if Case.objects.filter(report=locked).exists():
        raise ValidationError("该报告已经立案，不能重复立案。")
    if locked.state != ReportState.TOWNSHIP_NOTIFIED:
        raise ValidationError("公安机关尚未将该报告通报乡镇，暂不能立案评估。")
    case = Case(
        report=locked,
        child_id=locked.child_id,
        township=locked.township,
        state=CaseState.ASSESSING,
        opened_at=timezone.now(),
        opened_by=user,
    )
    case._history_user = user  # type: ignore[attr-defined]
    case.full_clean()
    case.save(force_insert=True)
    _transition(user, case, TransitionKind.OPEN, "")
    _audit(user, case, "case_open", created=True, report=locked.pk)
    return case


# --- assessments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentData:
    assessed_on: dt.date
    participants: list[str]
    safety: str
    guardianship: str
    physical_health: str
    mental_health: str
    risk: str
    dibao_status: str
    tekun_status: str
    temporary_relief_status: str
    notes: str = ""


@transaction.atomic
def assessment_record(*, user: User, case: Case, expected_version: int, data: AssessmentData) -> Assessment:
    """Record an assessment. The latest assessment (by date) gives the case its risk; the
    first one moves the case from 评估中 to 帮扶中."""
    locked = _lock(case, expected_version)
    _require(may_manage_report(user, locked.report))
    _require_editable(locked)
    _not_future(data.assessed_on, "assessed_on", "评估日期")
    if data.assessed_on < timezone.localdate(locked.report.reported_at):
        raise ValidationError({"assessed_on": "评估日期不能早于报告日期。"})
    unknown = set(data.participants) - set(Participant.values)
    if not data.participants or unknown:
        raise ValidationError({"participants": "请选择参与评估的单位。"})
    assessment = Assessment(
        case=locked,
        assessed_on=data.assessed_on,
        participants=[code for code in Participant.values if code in data.participants],
        safety=data.safety,
        guardianship=data.guardianship,
        physical_health=data.physical_health,
        mental_health=data.mental_health,
        risk=data.risk,
        dibao_status=data.dibao_status,
        tekun_status=data.tekun_status,
        temporary_relief_status=data.temporary_relief_status,
        notes=data.notes.strip(),
        recorded_by=user,
        recorded_at=timezone.now(),
    )
    assessment._history_user = user  # type: ignore[attr-defined]
    assessment.full_clean()
    assessment.save(force_insert=True)
    latest = Assessment.objects.filter(case=locked).order_by("-assessed_on", "-recorded_at").first()
    locked.risk = latest.risk if latest else data.risk
    before = locked.state
    if before == CaseState.ASSESSING:
        locked.state = CaseState.ASSISTING
    _save_case(user, locked, "risk", "state")
    if before != locked.state:
        _transition(user, locked, TransitionKind.ASSESS, before)
    _audit(user, locked, "assessment", assessment=assessment.pk, risk=locked.risk)
    return assessment


# --- measures and referrals ------------------------------------------------------------------


def is_own_unit(case: Case, unit: Unit) -> bool:
    """The case's own township government or the county's civil affairs: no referral."""
    if unit.kind == UnitKind.TOWNSHIP_GOVERNMENT:
        return unit.region_id == case.township_id
    return unit.kind == UnitKind.CIVIL_AFFAIRS and unit.region_id == case.report.county_id


def units_for(case: Case) -> list[Unit]:
    """Active units of the case's county (its regions and everything below them)."""
    code = case.report.county.code
    return list(
        Unit.objects.filter(active=True, region__code__startswith=code)
        .select_related("region")
        .order_by("region__code", "kind", "name")
    )


def _unit_users(unit: Unit) -> list[User]:
    grants = RoleGrant.objects.filter(unit=unit, active=True, user__is_active=True).exclude(
        role__in=SEPARATED_ROLES
    )
    return list(User.objects.filter(pk__in=grants.values("user_id")))


@transaction.atomic
def measure_assign(
    *, user: User, case: Case, kind: str, unit: Unit, due_on: dt.date, note: str = ""
) -> Measure:
    """Add a measure to the plan. A unit other than the case's own township government or
    county civil affairs receives it as a referral (转介) to accept or decline; its users
    are notified."""
    locked = _lock(case)
    _require(may_manage_report(user, locked.report))
    _require_editable(locked, assessed=True)
    if not unit.active or not unit.region.code.startswith(locked.report.county.code):
        raise ValidationError({"unit": "请选择本县的有效单位。"})
    _not_past(due_on, "due_on", "完成期限")
    referral = not is_own_unit(locked, unit)
    now = timezone.now()
    measure = Measure(
        case=locked,
        kind=kind,
        unit=unit,
        due_on=due_on,
        note=note.strip(),
        status=MeasureStatus.REFERRED if referral else MeasureStatus.ACCEPTED,
        is_referral=referral,
        assigned_at=now,
        assigned_by=user,
    )
    measure._history_user = user  # type: ignore[attr-defined]
    measure.full_clean()
    measure.save(force_insert=True)
    _save_case(user, locked)
    _audit(user, locked, "measure_assign", measure=measure.pk, kind=kind, referral=referral)
    if referral:
        _notify(
            _unit_users(unit),
            kind="case_referral",
            title=f"新的帮扶转介：{measure.get_kind_display()}",
            body=(
                f"{locked.township.name}转介一项帮扶措施到贵单位，"
                f"完成期限 {due_on:%Y-%m-%d}，请答复是否承接。"
            ),
            link=reverse("cases:referral", kwargs={"measure_id": measure.pk}),
        )
    return measure


def _lock_measure(measure: Measure) -> tuple[Case, Measure]:
    locked_case = _lock(measure.case)
    locked = Measure.objects.select_for_update(of=("self",)).select_related("unit").get(pk=measure.pk)
    locked.case = locked_case
    return locked_case, locked


def _name_social_worker(user: User, measure: Measure, now: dt.datetime) -> bool:
    """A social worker of the measure's unit who accepts it is named on the report, so that
    they read the case from now on (reports.access: members read the report and its case)."""
    grants = [g for g in active_grants(user) if g.role == Role.SOCIAL_WORKER and g.unit_id == measure.unit_id]
    report_id = measure.case.report_id
    if (
        not grants
        or ReportMember.objects.filter(
            report_id=report_id, user=user, kind=MemberKind.SOCIAL_WORKER, active=True
        ).exists()
    ):
        return False
    member = ReportMember(
        report_id=report_id,
        user=user,
        kind=MemberKind.SOCIAL_WORKER,
        active=True,
        named_at=now,
        named_by=user,
    )
    member._history_user = user  # type: ignore[attr-defined]
    member.full_clean()
    member.save(force_insert=True)
    return True


@transaction.atomic
def measure_respond(*, user: User, measure: Measure, accept: bool, reason: str = "") -> Measure:
    """The receiving unit answers a referral: accept, or decline with a reason. A social
    worker who accepts is named on the report in this same transaction
    (ReportMember kind social_worker) and so reads the case from then on."""
    case, locked = _lock_measure(measure)
    _require(locked.is_referral and locked.unit_id in referral_unit_ids(user))
    _require_editable(case)
    if locked.status != MeasureStatus.REFERRED:
        raise ValidationError(f"这项转介已经答复过了（{locked.get_status_display()}）。")
    now = timezone.now()
    reason = " ".join(reason.split())
    named = False
    if accept:
        locked.status = MeasureStatus.ACCEPTED
        named = _name_social_worker(user, locked, now)
    else:
        locked.status = MeasureStatus.DECLINED
        locked.decline_reason = _reason(reason, "请填写不能承接的原因。")
    if accept and reason:
        locked.progress_note = reason
    child = case.report.child if accept else None
    if child is not None:
        # The provider's staff see the child's file while they carry the measure out (R16).
        unit_assignment_open(
            child=child,
            unit=locked.unit,
            source=UnitAssignment.Source.REFERRAL,
            measure_id=locked.pk,
            by=user,
            note=locked.get_kind_display(),
        )
    locked.responded_at, locked.responded_by = now, user
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(update_fields=["status", "decline_reason", "progress_note", "responded_at", "responded_by"])
    _save_case(user, case)
    change = "referral_accept" if accept else "referral_decline"
    _audit(user, case, change, measure=locked.pk, named_social_worker=named)
    _notify(
        [locked.assigned_by] if locked.assigned_by_id != user.pk else [],
        kind="case_referral_answer",
        title=f"转介{'已承接' if accept else '未被承接'}：{locked.get_kind_display()}",
        body=f"{locked.unit.name}{'已承接' if accept else '未承接'}转介的帮扶措施。",
        link=_case_link(case),
    )
    return locked


_NEXT = {
    MeasureStatus.IN_PROGRESS: {MeasureStatus.ACCEPTED},
    MeasureStatus.DONE: {MeasureStatus.ACCEPTED, MeasureStatus.IN_PROGRESS},
    MeasureStatus.CANCELLED: set(OPEN_MEASURE_STATES),
}


@transaction.atomic
def measure_progress(*, user: User, measure: Measure, status: str, note: str = "") -> Measure:
    """Move a measure on: 实施中, 已完成, or 已撤销 (managers only, with a reason). The
    measure's manager, the named social worker of its unit, or (for a referral) its unit's
    users may mark it started or done."""
    case, locked = _lock_measure(measure)
    if status == MeasureStatus.CANCELLED:
        _require(may_manage_report(user, case.report))
    else:
        unit_user = locked.is_referral and locked.unit_id in referral_unit_ids(user)
        _require(unit_user or may_update_measure(user, locked))
    _require_editable(case)
    if status not in _NEXT:
        raise ValidationError({"status": "请选择有效的状态。"})
    if locked.status not in _NEXT[MeasureStatus(status)]:
        label = MeasureStatus(status).label
        raise ValidationError(f"这项措施目前为“{locked.get_status_display()}”，不能改为“{label}”。")
    note = " ".join(note.split())
    now = timezone.now()
    locked.status = status
    if status == MeasureStatus.CANCELLED:
        locked.cancel_reason = _reason(note, "请填写撤销原因。")
        locked.cancelled_at, locked.cancelled_by = now, user
    else:
        if note:
            locked.progress_note = note
        if status == MeasureStatus.DONE:
            locked.completed_at, locked.completed_by = now, user
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(
        update_fields=[
            "status",
            "progress_note",
            "cancel_reason",
            "cancelled_at",
            "cancelled_by",
            "completed_at",
            "completed_by",
        ]
    )
    if status in (MeasureStatus.DONE, MeasureStatus.CANCELLED):
        unit_assignments_end_for_measure(measure_id=locked.pk, by=user)
    _save_case(user, case)
    _audit(user, case, f"measure_{status}", measure=locked.pk)
    return locked


# --- follow-ups ------------------------------------------------------------------------------


@transaction.atomic
def follow_up_schedule(*, user: User, case: Case, due_on: dt.date, assigned_to: User) -> FollowUp:
    """Schedule a follow-up visit (回访) for someone who may do it (cases.access.may_be_assigned);
    it shows in their "my work" (cases.selectors.follow_ups_due)."""
    locked = _lock(case)
    _require(case_perms(user, locked).work)
    _require_editable(locked, assessed=True)
    _not_past(due_on, "due_on", "回访期限")
    if not may_be_assigned(assigned_to, locked):
        raise ValidationError({"assigned_to": "该人员无权查看这个个案，不能安排其回访。"})
    follow_up = FollowUp(
        case=locked, due_on=due_on, assigned_to=assigned_to, scheduled_at=timezone.now(), scheduled_by=user
    )
    follow_up._history_user = user  # type: ignore[attr-defined]
    follow_up.full_clean()
    follow_up.save(force_insert=True)
    _save_case(user, locked)
    _audit(user, locked, "follow_up_schedule", follow_up=follow_up.pk)
    if assigned_to.pk != user.pk:
        _notify(
            [assigned_to],
            kind="case_follow_up",
            title="新的回访安排",
            body=f"请于 {due_on:%Y-%m-%d} 前完成一次个案回访，并记录回访情况。",
            link=reverse("cases:follow_up", kwargs={"follow_up_id": follow_up.pk}),
        )
    return follow_up


@transaction.atomic
def follow_up_record(*, user: User, follow_up: FollowUp, done_on: dt.date, note: str) -> FollowUp:
    """Record that the follow-up took place (the caller fetched it through access_follow_up)."""
    case = _lock(follow_up.case)
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    _require_editable(case)
    if locked.done_on is not None:
        raise ValidationError("这次回访已经记录过了。")
    _not_future(done_on, "done_on", "回访日期")
    if done_on < timezone.localdate(case.opened_at):
        raise ValidationError({"done_on": "回访日期不能早于立案日期。"})
    note = note.strip()
    if not note:
        raise ValidationError({"note": "请填写回访情况。"})
    locked.done_on, locked.done_by, locked.done_at, locked.note = done_on, user, timezone.now(), note
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(update_fields=["done_on", "done_by", "done_at", "note"])
    _save_case(user, case)
    _audit(user, case, "follow_up_record", follow_up=locked.pk)
    return locked


# --- closing and reopening -------------------------------------------------------------------


def _approvers(case: Case, *, besides: User) -> list[User]:
    """County admins of the case's county and the supervisors named on its report."""
    county = case.report.county_id
    admins = RoleGrant.objects.filter(role=Role.COUNTY_ADMIN, active=True, user__is_active=True).filter(
        Q(region_id=county) | Q(region__isnull=True, unit__region_id=county)
    )
    named = ReportMember.objects.filter(report_id=case.report_id, kind=MemberKind.SUPERVISOR, active=True)
    users = User.objects.filter(Q(pk__in=admins.values("user_id")) | Q(pk__in=named.values("user_id")))
    return list(users.exclude(pk=besides.pk).order_by("username"))


@transaction.atomic
def case_close_request(*, user: User, case: Case, expected_version: int, reason: str) -> Case:
    """Ask for the case to be closed (结案), with a reason: the case waits (待审批结案) for a
    county admin or named supervisor other than the requester. Every measure must be done,
    declined or cancelled, and every follow-up recorded, first."""
    locked = _lock(case, expected_version)
    _require(case_perms(user, locked).work)
    if locked.state != CaseState.ASSISTING:
        messages = {
            CaseState.ASSESSING: "个案尚未评估，不能申请结案。",
            CaseState.CLOSING: "已经申请结案，正在等待审批。",
            CaseState.CLOSED: "个案已结案。",
        }
        raise ValidationError(messages[CaseState(locked.state)])
    reason = _reason(reason, "请填写结案理由。")
    open_measures = Measure.objects.filter(case=locked, status__in=OPEN_MEASURE_STATES).count()
    if open_measures:
        raise ValidationError(
            f"尚有 {open_measures} 项帮扶措施未完成（待答复、已承接或实施中），请先完成或撤销后再申请结案。"
        )
    pending = FollowUp.objects.filter(case=locked, done_on__isnull=True).count()
    if pending:
        raise ValidationError(f"尚有 {pending} 次回访未记录，请先记录回访情况后再申请结案。")
    before = locked.state
    locked.state = CaseState.CLOSING
    locked.close_reason, locked.close_requested_at, locked.close_requested_by = reason, timezone.now(), user
    _save_case(user, locked, "state", "close_reason", "close_requested_at", "close_requested_by")
    _transition(user, locked, TransitionKind.CLOSE_REQUEST, before, reason)
    _audit(user, locked, "close_request")
    _notify(
        _approvers(locked, besides=user),
        kind="case_close_request",
        title="个案结案待审批",
        body=f"{locked.township.name}的一个评估帮扶个案已申请结案，请审批。",
        link=_case_link(locked),
    )
    return locked


def _require_closing(case: Case, action: str) -> None:
    if case.state != CaseState.CLOSING:
        raise ValidationError(f"个案不在待审批结案状态，不能{action}。")


@transaction.atomic
def case_close_approve(*, user: User, case: Case, expected_version: int) -> Case:
    """Approve the close request: by a county admin or named supervisor who did not ask."""
    locked = _lock(case, expected_version)
    _require(may_manage_report(user, locked.report))
    _require_closing(locked, "批准结案")
    if locked.close_requested_by_id == user.pk:
        raise ValidationError("不能审批本人提出的结案申请，请由其他县民政管理员或督导人员审批。")
    before = locked.state
    locked.state, locked.closed_at, locked.closed_by = CaseState.CLOSED, timezone.now(), user
    _save_case(user, locked, "state", "closed_at", "closed_by")
    _transition(user, locked, TransitionKind.CLOSE_APPROVE, before)
    _audit(user, locked, "close_approve")
    requester = locked.close_requested_by
    if requester is not None:
        _notify(
            [requester],
            kind="case_closed",
            title="结案申请已批准",
            body="您提出的评估帮扶个案结案申请已获批准。",
            link=_case_link(locked),
        )
    return locked


@transaction.atomic
def case_close_reject(*, user: User, case: Case, expected_version: int, reason: str) -> Case:
    """Send the close request back (the case returns to 帮扶中), with a reason. The requester
    may withdraw their own request this way."""
    locked = _lock(case, expected_version)
    _require(may_manage_report(user, locked.report))
    _require_closing(locked, "退回结案申请")
    reason = _reason(reason, "请填写退回理由。")
    requester = locked.close_requested_by
    before = locked.state
    locked.state = CaseState.ASSISTING
    locked.close_reason, locked.close_requested_at, locked.close_requested_by = "", None, None
    _save_case(user, locked, "state", "close_reason", "close_requested_at", "close_requested_by")
    _transition(user, locked, TransitionKind.CLOSE_REJECT, before, reason)
    _audit(user, locked, "close_reject")
    if requester is not None and requester.pk != user.pk:
        _notify(
            [requester],
            kind="case_close_rejected",
            title="结案申请被退回",
            body="您提出的评估帮扶个案结案申请被退回，请查看退回理由。",
            link=_case_link(locked),
        )
    return locked


@transaction.atomic
def case_reopen(*, user: User, case: Case, expected_version: int, reason: str) -> Case:
    """Reopen a closed case (back to 帮扶中): an explicit act with a reason, never the side
    effect of an edit. The earlier closing stays in the transitions."""
    locked = _lock(case, expected_version)
    _require(may_manage_report(user, locked.report))
    if locked.state != CaseState.CLOSED:
        raise ValidationError("只有已结案的个案才能重新启用。")
    reason = _reason(reason, "请填写重新启用的理由。")
    before = locked.state
    locked.state = CaseState.ASSISTING
    locked.close_reason, locked.close_requested_at, locked.close_requested_by = "", None, None
    locked.closed_at, locked.closed_by = None, None
    _save_case(
        user,
        locked,
        "state",
        "close_reason",
        "close_requested_at",
        "close_requested_by",
        "closed_at",
        "closed_by",
    )
    _transition(user, locked, TransitionKind.REOPEN, before, reason)
    _audit(user, locked, "reopen")
    return locked
