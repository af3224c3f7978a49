"""Writes of the schooling app. Each runs in one transaction, leaves history rows and refuses
a transition it does not allow with a Chinese ValidationError, writing nothing.

The child file changes only through registry.services.child_file_update (version-checked,
with a history row, the derived columns and the care hook), as care.services does: opening a
`dropout` case sets the file's schooling to 辍学, marking the case returned sets it to what
the user picked, and a hukou task's completion sets hukou_registered. The audit rows are the
views' (contact and care do the same), inside the same transaction.
"""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, RoleGrant, User
from geo.models import Region, Unit, UnitKind
from notify.services import notification_send
from registry import choices as rc
from registry.access import children_visible_to
from registry.models import Child, EntrustedGuardian
from registry.services import FileData, StaleVersionError, child_file_update, family_values
from schooling.models import (
    FAILED_OUTCOMES,
    SCHOOL_KINDS,
    CaseKind,
    CaseState,
    DropoutCase,
    HukouTask,
    PersuasionAttempt,
)

# R14: the school reports in writing after persuasion failed; "failed" means at least this
# many attempts ended 拒绝 or 未见到. A module constant: the county has not asked to set it.
ESCALATE_AFTER_FAILED_ATTEMPTS = 2
# R23: the police's time to register a child, from the day the task is generated.
HUKOU_DUE_DAYS = 30
# What a pupil who is back at school may be recorded as (the file's 就学情况).
BACK_AT_SCHOOL = (
    rc.Schooling.KINDERGARTEN,
    rc.Schooling.PRIMARY,
    rc.Schooling.JUNIOR,
    rc.Schooling.SENIOR,
    rc.Schooling.VOCATIONAL,
)
ESCALATION_KIND = "schooling.escalated"


# --- the child file ----------------------------------------------------------------------------


def _file_set(
    *, user: User, child: Child, expected_version: int, changes: dict[str, Any], reason: str
) -> Child:
    """Change a few fields of the file through the registry's edit service. A file that
    already holds these values is left alone (no version bump, no empty history row);
    otherwise a file changed since `expected_version` raises StaleVersionError."""
    current = Child.objects.get(pk=child.pk)
    if all(getattr(current, name) == value for name, value in changes.items()):
        return current
    if current.version != expected_version:
        raise StaleVersionError(current, expected_version)
    father, mother = family_values(current)
    keep_guardian = EntrustedGuardian.objects.filter(child=current).exists()
    data = FileData(child=changes, father=father, mother=mother, guardian={} if keep_guardian else None)
    return child_file_update(
        user=user, child=current, expected_version=expected_version, data=data, reason=reason
    )


def _not_future(day: dt.date, name: str, label: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({name: f"{label}不能晚于今天。"})


def _not_before(day: dt.date, earliest: dt.date, name: str, message: str) -> None:
    if day < earliest:
        raise ValidationError({name: message})


def _text(value: str) -> str:
    return " ".join(value.split())


# --- dropout cases -----------------------------------------------------------------------------


@transaction.atomic
def dropout_case_open(
    *,
    user: User,
    child: Child,
    kind: str,
    first_missed_on: dt.date,
    reported_on: dt.date,
    reason: str,
    expected_version: int,
) -> DropoutCase:
    """Register a pupil's unexplained absence or dropout (R14). The school is the one the
    file names. A `dropout` case sets the file's schooling to 辍学."""
    locked = Child.objects.select_for_update(of=("self",)).select_related("school").get(pk=child.pk)
    if locked.status != rc.Status.ACTIVE:
        raise ValidationError("该档案已退出台账，不能登记缺课或辍学。")
    if locked.school is None or locked.school.kind not in SCHOOL_KINDS:
        raise ValidationError("档案未填写就读学校，请先在档案中填写就读学校。")
    if DropoutCase.objects.filter(child=locked, state__in=[CaseState.OPEN, CaseState.ESCALATED]).exists():
        raise ValidationError("该儿童已有进行中的控辍保学个案，请在该个案中继续记录。")
    _not_future(first_missed_on, "first_missed_on", "开始缺课日期")
    _not_future(reported_on, "reported_on", "报告日期")
    _not_before(first_missed_on, locked.birth_date, "first_missed_on", "开始缺课日期不能早于出生日期。")
    _not_before(reported_on, first_missed_on, "reported_on", "报告日期不能早于开始缺课日期。")
    case = DropoutCase(
        child=locked,
        school=locked.school,
        kind=kind,
        first_missed_on=first_missed_on,
        reported_on=reported_on,
        reported_by=user,
        reason=reason.strip(),
        schooling_before=locked.schooling,
    )
    case._history_user = user  # type: ignore[attr-defined]
    case.full_clean()
    case.save(force_insert=True)
    if kind == CaseKind.DROPOUT:
        _file_set(
            user=user,
            child=locked,
            expected_version=expected_version,
            changes={"schooling": rc.Schooling.DROPOUT},
            reason="控辍保学：辍学登记",
        )
    return case


def _lock_open(case: DropoutCase) -> DropoutCase:
    locked = (
        DropoutCase.objects.select_for_update(of=("self",))
        .select_related("child__village", "child__township", "child__county", "school")
        .get(pk=case.pk)
    )
    if not locked.is_open:
        raise ValidationError("该个案已结案。")
    return locked


@transaction.atomic
def persuasion_attempt_record(
    *,
    user: User,
    case: DropoutCase,
    attempted_on: dt.date,
    participants: str,
    method: str,
    outcome: str,
    note: str = "",
) -> PersuasionAttempt:
    """Log a persuasion attempt (劝返) on an open case, escalated or not."""
    locked = _lock_open(case)
    _not_future(attempted_on, "attempted_on", "劝返日期")
    _not_before(attempted_on, locked.first_missed_on, "attempted_on", "劝返日期不能早于开始缺课日期。")
    participants = _text(participants)
    if not participants:
        raise ValidationError({"participants": "请填写参与劝返的人员。"})
    attempt = PersuasionAttempt(
        case=locked,
        attempted_on=attempted_on,
        attempted_by=user,
        participants=participants,
        method=method,
        outcome=outcome,
        note=note.strip(),
    )
    attempt._history_user = user  # type: ignore[attr-defined]
    attempt.full_clean()
    attempt.save(force_insert=True)
    return attempt


def failed_attempts(case: DropoutCase) -> int:
    return case.attempts.filter(outcome__in=FAILED_OUTCOMES).count()


def escalation_refusal(case: DropoutCase) -> str | None:
    """Why the written report may not be made yet, or None."""
    if case.state != CaseState.OPEN:
        return "该个案已书面报告。" if case.state == CaseState.ESCALATED else "该个案已结案。"
    failed = failed_attempts(case)
    if failed < ESCALATE_AFTER_FAILED_ATTEMPTS:
        return (
            f"劝返未果（拒绝或未见到）满 {ESCALATE_AFTER_FAILED_ATTEMPTS} 次后，才能书面报告县教育局和乡镇；"
            f"目前记录了 {failed} 次。"
        )
    return None


def _covers(region: Region, target: Region) -> bool:
    return target.code.startswith(region.code)


def escalation_recipients(child: Child) -> list[User]:
    """The county education bureau's officers for the child's county and the township
    supervisors of the child's township (active accounts and grants), who may see the file."""
    grants = (
        RoleGrant.objects.filter(active=True, unit__active=True, user__is_active=True)
        .filter(Q(role=Role.COUNTY_OFFICER, unit__kind=UnitKind.EDUCATION) | Q(role=Role.TOWNSHIP_SUPERVISOR))
        .select_related("user", "region", "unit__region")
        .order_by("user__username")
    )
    found: dict[uuid.UUID, User] = {}
    for grant in grants:
        target = child.county if grant.role == Role.COUNTY_OFFICER else child.township
        if _covers(grant.scope_region, target):
            found.setdefault(grant.user_id, grant.user)
    return [user for user in found.values() if children_visible_to(user).filter(pk=child.pk).exists()]


def _escalation_body(case: DropoutCase, failed: int) -> str:
    child = case.child
    return (
        f"{case.school.name}报告：{child.township.name}{child.village.name}的{child.name}"
        f"（{case.get_kind_display()}，自 {case.first_missed_on:%Y年%m月%d日} 起）"
        f"经 {failed} 次劝返未果，学校已书面报告县教育局和乡镇人民政府。"
        "请县教育局依法责令其父母或者其他监护人送其返校，乡镇人民政府协助劝返。"
    )


@transaction.atomic
def dropout_case_escalate(*, user: User, case: DropoutCase) -> tuple[DropoutCase, int]:
    """Record the school's written report (R14) once enough attempts failed, and notify
    the education bureau and the township in-app. Returns (case, people notified)."""
    locked = _lock_open(case)
    refusal = escalation_refusal(locked)
    if refusal:
        raise ValidationError(refusal)
    failed = failed_attempts(locked)
    locked.state = CaseState.ESCALATED
    locked.escalated_at, locked.escalated_by = timezone.now(), user
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(update_fields=["state", "escalated_at", "escalated_by"])
    recipients = escalation_recipients(locked.child)
    link = reverse("schooling:detail", kwargs={"case_id": locked.id})
    for recipient in recipients:
        notification_send(
            recipient=recipient,
            kind=ESCALATION_KIND,
            title=f"控辍保学书面报告：{locked.child.name}",
            body=_escalation_body(locked, failed),
            link=link,
            child=locked.child,
        )
    return locked, len(recipients)


def _close(locked: DropoutCase, user: User, state: str, fields: list[str]) -> None:
    locked.state = state
    locked.closed_at, locked.closed_by = timezone.now(), user
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(update_fields=["state", "closed_at", "closed_by", *fields])


@transaction.atomic
def dropout_case_mark_returned(
    *, user: User, case: DropoutCase, returned_on: dt.date, schooling: str, expected_version: int
) -> DropoutCase:
    """The pupil is back at school (已复学), before or after the written report. The file's
    schooling becomes `schooling` (what the user picked)."""
    locked = _lock_open(case)
    _not_future(returned_on, "returned_on", "复学日期")
    _not_before(returned_on, locked.first_missed_on, "returned_on", "复学日期不能早于开始缺课日期。")
    if schooling not in BACK_AT_SCHOOL:
        raise ValidationError({"schooling": "请选择复学后的就学情况。"})
    locked.returned_on = returned_on
    _close(locked, user, CaseState.RETURNED, ["returned_on"])
    _file_set(
        user=user,
        child=locked.child,
        expected_version=expected_version,
        changes={"schooling": schooling},
        reason="控辍保学：已复学",
    )
    return locked


@transaction.atomic
def dropout_case_mark_not_returned(*, user: User, case: DropoutCase, reason: str) -> DropoutCase:
    """Close the case as 未复学, with the reason. Only after the written report: R14 asks
    the school to report in writing when persuasion fails. The file is left as it is."""
    locked = _lock_open(case)
    if locked.state != CaseState.ESCALATED:
        raise ValidationError("劝返未果的，须先书面报告县教育局和乡镇，才能登记未复学。")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "请填写未复学的原因。"})
    locked.outcome_reason = reason
    _close(locked, user, CaseState.NOT_RETURNED, ["outcome_reason"])
    return locked


# --- hukou registration tasks ------------------------------------------------------------------


def police_stations_for(townships: set[uuid.UUID]) -> dict[uuid.UUID, Unit]:
    """The police station serving each township (geo.Unit.serves), else one located there."""
    stations: dict[uuid.UUID, Unit] = {}
    units = Unit.objects.filter(active=True, kind=UnitKind.POLICE_STATION).order_by("name")
    for unit in units.filter(serves__in=townships).prefetch_related("serves"):
        for region in unit.serves.all():
            if region.pk in townships:
                stations.setdefault(region.pk, unit)
    for unit in units.filter(region__in=townships - set(stations)):
        stations.setdefault(unit.region_id, unit)
    return stations


def hukou_candidates(children: QuerySet[Child]) -> QuerySet[Child]:
    """Active children without hukou among `children`: the no-hukou list (R23)."""
    return children.filter(status=rc.Status.ACTIVE, hukou_registered=False)


@dataclass
class HukouGenerated:
    created: list[HukouTask] = field(default_factory=list)
    no_station: int = 0


@transaction.atomic
def hukou_tasks_generate(*, user: User, children: QuerySet[Child]) -> HukouGenerated:
    """One open task per listed child that has none (idempotent: a second run, or a
    concurrent one, creates nothing more). A child whose township no station serves is
    counted, not given a task."""
    open_tasks = HukouTask.objects.filter(registered_on__isnull=True).values("child_id")
    todo = list(hukou_candidates(children).exclude(pk__in=open_tasks).order_by("file_no"))
    stations = police_stations_for({child.township_id for child in todo})
    due_on = timezone.localdate() + dt.timedelta(days=HUKOU_DUE_DAYS)
    result = HukouGenerated()
    for child in todo:
        station = stations.get(child.township_id)
        if station is None:
            result.no_station += 1
            continue
        task = HukouTask(child=child, police_unit=station, due_on=due_on, created_by=user)
        task._history_user = user  # type: ignore[attr-defined]
        task.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                task.save(force_insert=True)
        except IntegrityError:
            continue  # another run made this child's task meanwhile
        result.created.append(task)
    return result


@transaction.atomic
def hukou_task_complete(
    *, user: User, task: HukouTask, registered_on: dt.date, note: str, expected_version: int
) -> HukouTask:
    """The police registered the child (已登记): the date goes on the task and the file's
    hukou_registered becomes True (registry edit service, history)."""
    locked = HukouTask.objects.select_for_update(of=("self",)).select_related("child").get(pk=task.pk)
    if not locked.is_open:
        raise ValidationError("该任务已登记完成。")
    _not_future(registered_on, "registered_on", "登记日期")
    _not_before(registered_on, locked.child.birth_date, "registered_on", "登记日期不能早于儿童出生日期。")
    locked.registered_on, locked.registered_by, locked.note = registered_on, user, note.strip()
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(update_fields=["registered_on", "registered_by", "note"])
    _file_set(
        user=user,
        child=locked.child,
        expected_version=expected_version,
        changes={"hukou_registered": True},
        reason="户口登记：已登记",
    )
    return locked
