"""Writes of supervised tasks. Each runs in one transaction, leaves history rows (the
actor as history user) and one audit row, and refuses a transition the task's state does not
allow with a Chinese ValidationError, writing nothing.

Permission checks are the caller's (tasks/access.py); these functions check the task's state
and data. Notifications (notify.services.notification_send, in-app) go in the same
transaction: a refused or rolled-back write tells no one.
"""

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import SEPARATED_ROLES, Role, RoleGrant, User
from audit.models import EventType
from audit.services import audit_event
from geo.models import Region, Unit, UnitKind
from notify.services import NO_ID, notification_send, personal_number_error
from tasks.access import COUNTY_CODE_LENGTH, units_of_county
from tasks.models import Task, TaskOverdueNotice, TaskParticipant, TaskProgress, TaskState, TaskTemplate
from tasks.selectors import overdue_q

# The roles that may receive task notifications: everyone but the 三员 (AC-6).
_TASK_ROLES = [role for role in Role.values if role not in SEPARATED_ROLES]
TEMPLATE_FIELDS = (
    "name",
    "plan_section",
    "lead_kind",
    "lead_name",
    "participant_kinds",
    "participants",
    "description",
    "note",
    "position",
    "active",
)


NO_ID_IN_TITLE = "任务名称不能包含身份证号码或 18 位以上的连续数字。"
NO_PHONE_IN_TITLE = "任务名称不能包含手机号码。"


@dataclass(frozen=True)
class TaskData:
    title: str
    deadline: dt.date
    lead_unit: Unit | None
    participants: Sequence[Unit] = ()
    description: str = ""
    plan_section: str = ""


# --- recipients and notifications --------------------------------------------------------------


def unit_users(units: Iterable[Unit]) -> list[User]:
    """Active users with an active grant at one of the units (not the 三员)."""
    ids = [unit.id for unit in units]
    users = User.objects.filter(
        is_active=True,
        grants__active=True,
        grants__unit_id__in=ids,
        grants__unit__active=True,
        grants__role__in=_TASK_ROLES,
    )
    return list(users.distinct().order_by("username"))


def county_admins(county: Region) -> list[User]:
    """Active county admins whose grant covers the county."""
    grants = RoleGrant.objects.filter(
        role=Role.COUNTY_ADMIN, active=True, unit__active=True, user__is_active=True
    ).select_related("user", "region", "unit__region")
    found: dict[uuid.UUID, User] = {}
    for grant in grants.order_by("user__username"):
        code = grant.scope_region.code
        if len(code) <= COUNTY_CODE_LENGTH and county.code.startswith(code):
            found.setdefault(grant.user_id, grant.user)
    return list(found.values())


def _link(task: Task) -> str:
    return reverse("tasks:detail", kwargs={"task_id": task.id})


def _tell(users: Iterable[User], task: Task, *, kind: str, title: str, body: str) -> int:
    count = 0
    for user in users:
        notification_send(recipient=user, kind=kind, title=title[:120], body=body, link=_link(task))
        count += 1
    return count


def _tell_assigned(task: Task, units: Sequence[Unit]) -> int:
    body = f"{task.lead_unit.name}牵头，完成时限 {task.deadline:%Y-%m-%d}。请按时报送工作进展。"
    return _tell(
        unit_users(units), task, kind="tasks.assigned", title=f"新的督办任务：{task.title}", body=body
    )


def _task_units(task: Task) -> list[Unit]:
    return [task.lead_unit, *task.participants.all()]


# --- validation --------------------------------------------------------------------------------


def _clean_text(value: str) -> str:
    return " ".join(value.split())


def _check(county: Region, data: TaskData, *, deadline_was: dt.date | None = None) -> None:
    errors: dict[str, str] = {}
    number = personal_number_error(data.title)
    if number:
        # The title goes into notifications, which refuse such numbers.
        errors["title"] = NO_ID_IN_TITLE if number == NO_ID else NO_PHONE_IN_TITLE
    if data.deadline < timezone.localdate() and data.deadline != deadline_was:
        errors["deadline"] = "完成时限不能早于今天。"
    allowed = set(units_of_county(county).values_list("id", flat=True))
    if data.lead_unit is None:
        errors["lead_unit"] = "请选择牵头单位。"
    elif data.lead_unit.id not in allowed:
        errors["lead_unit"] = "牵头单位须是本县的有效单位。"
    if any(unit.id not in allowed for unit in data.participants):
        errors["participants"] = "参加单位须是本县的有效单位。"
    elif data.lead_unit is not None and data.lead_unit in data.participants:
        errors["participants"] = "牵头单位不必再列为参加单位，请取消勾选。"
    if errors:
        raise ValidationError(errors)


def _lock(task: Task) -> Task:
    return Task.objects.select_for_update().select_related("county", "lead_unit").get(pk=task.pk)


def _require_open(task: Task, action: str) -> None:
    if task.state != TaskState.OPEN:
        raise ValidationError(f"任务{task.get_state_display()}，不能{action}。")


def _reason(value: str, field: str, label: str) -> str:
    value = _clean_text(value)
    if not value:
        raise ValidationError({field: f"请填写{label}。"})
    return value


def _progress_text(text: str) -> str:
    """Line breaks are kept (a report may list several points); blank text is refused."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": "请填写工作进展。"})
    return text


def _audit(user: User | None, task: Task, action: str, **detail: Any) -> None:
    audit_event(user=user, action=action, object_type="task", object_id=task.id, detail=detail)


def _save(task: Task, user: User | None, fields: list[str]) -> None:
    task.version += 1
    task._history_user = user  # type: ignore[attr-defined]
    task.full_clean()
    task.save(update_fields=[*fields, "version"])


# --- tasks -------------------------------------------------------------------------------------


def _participants_set(task: Task, units: Sequence[Unit], user: User) -> list[Unit]:
    """Make the task's participants `units`; returns the units added. Each row added or
    removed leaves its own history row."""
    current = {row.unit_id: row for row in TaskParticipant.objects.filter(task=task)}
    wanted = {unit.id: unit for unit in units}
    for unit_id, row in current.items():
        if unit_id not in wanted:
            row._history_user = user  # type: ignore[attr-defined]
            row.delete()
    added = [unit for unit_id, unit in wanted.items() if unit_id not in current]
    for unit in added:
        row = TaskParticipant(task=task, unit=unit, added_by=user)
        row._history_user = user  # type: ignore[attr-defined]
        row.full_clean()
        row.save()
    return added


@transaction.atomic
def task_create(*, user: User, county: Region, data: TaskData, template: TaskTemplate | None = None) -> Task:
    """Create an open task and tell the lead's and the participants' users."""
    _check(county, data)
    assert data.lead_unit is not None  # _check refused a task without one
    task = Task(
        county=county,
        title=_clean_text(data.title),
        description=data.description.strip(),
        plan_section=_clean_text(data.plan_section),
        lead_unit=data.lead_unit,
        deadline=data.deadline,
        template=template,
        created_by=user,
    )
    task._history_user = user  # type: ignore[attr-defined]
    task.full_clean()
    task.save()
    _participants_set(task, data.participants, user)
    _audit(user, task, EventType.CREATE, change="task_create", template=str(template.id) if template else "")
    _tell_assigned(task, [task.lead_unit, *data.participants])
    return task


@transaction.atomic
def tasks_create_per_township(
    *, user: User, county: Region, data: TaskData, template: TaskTemplate | None = None
) -> list[Task]:
    """The plan's "牵头单位：各乡镇人民政府": one task per township government of the county,
    each its own lead. Other township governments are not participants of each other's task."""
    leads = list(units_of_county(county).filter(kind=UnitKind.TOWNSHIP_GOVERNMENT))
    if not leads:
        raise ValidationError({"each_township": "本县还没有登记乡镇人民政府，请先选择牵头单位。"})
    helpers = [unit for unit in data.participants if unit.kind != UnitKind.TOWNSHIP_GOVERNMENT]
    return [
        task_create(
            user=user,
            county=county,
            data=replace(data, lead_unit=lead, participants=helpers),
            template=template,
        )
        for lead in leads
    ]


def _check_version(task: Task, expected_version: int) -> None:
    if task.version != expected_version:
        raise ValidationError("该任务刚被他人修改过，请刷新页面，核对后重新保存。")


@transaction.atomic
def task_update(*, user: User, task: Task, expected_version: int, data: TaskData) -> Task:
    """Edit an open task; units newly named are told. The deadline may stay in the past (an
    overdue task keeps its deadline) but may not be moved to another past day."""
    locked = _lock(task)
    _require_open(locked, "修改")
    _check_version(locked, expected_version)
    _check(locked.county, data, deadline_was=locked.deadline)
    assert data.lead_unit is not None
    before = {unit.id for unit in _task_units(locked)}
    locked.title = _clean_text(data.title)
    locked.description = data.description.strip()
    locked.plan_section = _clean_text(data.plan_section)
    locked.lead_unit = data.lead_unit
    locked.deadline = data.deadline
    _save(locked, user, ["title", "description", "plan_section", "lead_unit", "deadline"])
    _participants_set(locked, data.participants, user)
    _audit(user, locked, EventType.UPDATE, change="task_update")
    new_units = [unit for unit in [locked.lead_unit, *data.participants] if unit.id not in before]
    _tell_assigned(locked, new_units)
    return locked


@transaction.atomic
def task_done_propose(*, user: User, task: Task, note: str) -> Task:
    """The lead unit's 申报完成: the task stays open until the county admin confirms."""
    locked = _lock(task)
    _require_open(locked, "申报完成")
    if locked.done_proposed_at is not None:
        raise ValidationError("已申报完成，正在等待县民政局确认。")
    locked.done_proposed_at, locked.done_proposed_by = timezone.now(), user
    locked.done_proposal_note = _reason(note, "note", "完成情况说明")
    locked.return_reason = ""
    _save(locked, user, ["done_proposed_at", "done_proposed_by", "done_proposal_note", "return_reason"])
    _audit(user, locked, EventType.UPDATE, change="task_done_proposed")
    body = f"{locked.lead_unit.name}申报完成，请核实后确认或退回。"
    _tell(
        county_admins(locked.county),
        locked,
        kind="tasks.done_proposed",
        title=f"督办任务申报完成：{locked.title}",
        body=body,
    )
    return locked


@transaction.atomic
def task_done_confirm(*, user: User, task: Task, note: str = "") -> Task:
    """The county admin closes the task as done (已完成), with or without a 申报."""
    locked = _lock(task)
    _require_open(locked, "确认完成")
    locked.state, locked.completed_at, locked.completed_by = TaskState.DONE, timezone.now(), user
    locked.completion_note = _clean_text(note)
    _save(locked, user, ["state", "completed_at", "completed_by", "completion_note"])
    _audit(user, locked, EventType.UPDATE, change="task_done")
    _tell(
        unit_users(_task_units(locked)),
        locked,
        kind="tasks.done",
        title=f"督办任务已确认完成：{locked.title}",
        body="县民政局已确认该任务完成。",
    )
    return locked


@transaction.atomic
def task_done_return(*, user: User, task: Task, reason: str) -> Task:
    """The county admin returns a 申报完成 (退回) with a reason: the task stays open."""
    locked = _lock(task)
    _require_open(locked, "退回")
    if locked.done_proposed_at is None:
        raise ValidationError("该任务没有待确认的完成申报。")
    locked.return_reason = _reason(reason, "reason", "退回原因")
    locked.done_proposed_at, locked.done_proposed_by, locked.done_proposal_note = None, None, ""
    _save(locked, user, ["return_reason", "done_proposed_at", "done_proposed_by", "done_proposal_note"])
    _audit(user, locked, EventType.UPDATE, change="task_done_returned")
    _tell(
        unit_users([locked.lead_unit]),
        locked,
        kind="tasks.returned",
        title=f"完成申报被退回：{locked.title}",
        body="县民政局退回了完成申报，原因请在任务页面查看。",
    )
    return locked


@transaction.atomic
def task_cancel(*, user: User, task: Task, reason: str) -> Task:
    locked = _lock(task)
    _require_open(locked, "撤销")
    locked.cancel_reason = _reason(reason, "reason", "撤销原因")
    locked.state, locked.cancelled_at, locked.cancelled_by = TaskState.CANCELLED, timezone.now(), user
    _save(locked, user, ["state", "cancelled_at", "cancelled_by", "cancel_reason"])
    _audit(user, locked, EventType.UPDATE, change="task_cancelled")
    _tell(
        unit_users(_task_units(locked)),
        locked,
        kind="tasks.cancelled",
        title=f"督办任务已撤销：{locked.title}",
        body="县民政局已撤销该任务，原因请在任务页面查看。",
    )
    return locked


# --- progress ----------------------------------------------------------------------------------


@transaction.atomic
def task_progress_report(
    *,
    user: User,
    task: Task,
    unit: Unit,
    submission_key: uuid.UUID,
    text: str,
    percent: int | None = None,
) -> tuple[TaskProgress, bool]:
    """Record a unit's progress report; returns (report, created). The same submission key
    again (a double tap, a retry) returns the first report and writes nothing."""
    existing = TaskProgress.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        if existing.task_id != task.pk:
            raise ValidationError("提交标识重复，请刷新页面后重新填写。")
        return existing, False
    locked = _lock(task)  # one writer: no report slips in after the task is closed
    _require_open(locked, "再报送进展")
    if unit.id not in {u.id for u in _task_units(locked)}:
        raise ValidationError({"unit": "该单位不是本任务的牵头单位或参加单位。"})
    progress = TaskProgress(
        task=locked,
        unit=unit,
        reported_by=user,
        text=_progress_text(text),
        percent=percent,
        submission_key=submission_key,
    )
    progress._history_user = user  # type: ignore[attr-defined]
    progress.full_clean()
    progress.save()
    _audit(
        user, locked, EventType.CREATE, change="task_progress", progress=str(progress.id), unit=str(unit.id)
    )
    return progress, True


# --- the nightly overdue notice ----------------------------------------------------------------


def tasks_overdue_notify(*, on: dt.date) -> dict[str, int]:
    """Tell the county admins of each task overdue on `on` (open, deadline before `on`).
    Idempotent per task and date, and per deadline: a task is told about once for each
    deadline it misses, however often this runs. For the nightly job."""
    report = {"overdue": 0, "notified": 0, "already": 0, "messages": 0}
    tasks = (
        Task.objects.filter(overdue_q(on)).select_related("county", "lead_unit").order_by("deadline", "pk")
    )
    for task in tasks:
        report["overdue"] += 1
        if TaskOverdueNotice.objects.filter(task=task, deadline=task.deadline).exists():
            report["already"] += 1
            continue
        try:
            with transaction.atomic():
                report["messages"] += _overdue_notice(task, on)
        except IntegrityError:  # a concurrent run got there first
            report["already"] += 1
            continue
        report["notified"] += 1
    return report


def _overdue_notice(task: Task, on: dt.date) -> int:
    notice = TaskOverdueNotice.objects.create(task=task, on=on, deadline=task.deadline)
    days = (on - task.deadline).days
    body = f"{task.lead_unit.name}牵头，完成时限 {task.deadline:%Y-%m-%d}，已逾期 {days} 天，尚未完成。"
    sent = _tell(
        county_admins(task.county), task, kind="tasks.overdue", title=f"督办任务逾期：{task.title}", body=body
    )
    notice.recipients = sent
    notice.save(update_fields=["recipients"])
    _audit(None, task, EventType.UPDATE, change="task_overdue_notified", on=on.isoformat(), recipients=sent)
    return sent


# --- templates ---------------------------------------------------------------------------------


@transaction.atomic
def task_template_save(*, user: User, template: TaskTemplate | None, values: dict[str, Any]) -> TaskTemplate:
    """Create or edit a task template (county admin). Tasks made from it keep their own copy."""
    created = template is None
    if template is None:
        template = TaskTemplate()
    else:
        template = TaskTemplate.objects.select_for_update().get(pk=template.pk)
    for name in TEMPLATE_FIELDS:
        setattr(template, name, values[name])
    template.name = _clean_text(template.name)
    template.updated_at, template.updated_by = timezone.now(), user
    template._history_user = user  # type: ignore[attr-defined]
    template.full_clean()
    template.save()
    audit_event(
        user=user,
        action=EventType.CONFIG,
        object_type="task_template",
        object_id=template.id,
        detail={"change": "template_create" if created else "template_update"},
    )
    return template
