"""Writes of training. Each runs in one transaction, leaves history rows (the actor as history
user) and one audit row, and refuses bad data with a Chinese ValidationError at the field,
writing nothing. Permission checks are the caller's (training/access.py).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.models import EventType
from audit.services import audit_event
from geo.models import Region, Unit
from training.access import organiser_units
from training.models import MAX_HOURS, MIN_HOURS, Attendance, Audience, TrainingSession
from training.selectors import worker_grants


class StaleSessionError(Exception):
    """The session changed since the editor loaded it; nothing was written."""

    def __init__(self, current: TrainingSession, expected_version: int) -> None:
        super().__init__("该培训已被他人修改")
        self.current = current
        self.expected_version = expected_version


@dataclass(frozen=True)
class SessionData:
    topic: str
    held_on: dt.date
    hours: Decimal
    organiser: Unit
    audience: Sequence[str]
    trainer: str = ""
    place: str = ""
    note: str = ""


def _clean_text(value: str) -> str:
    return " ".join(value.split())


def _check(county: Region, data: SessionData) -> None:
    errors: dict[str, str] = {}
    if not _clean_text(data.topic):
        errors["topic"] = "请填写培训主题。"
    if data.held_on > timezone.localdate():
        errors["held_on"] = "培训日期不能晚于今天：请在培训举办后登记。"
    if not MIN_HOURS <= data.hours <= MAX_HOURS:
        errors["hours"] = f"培训学时在 {MIN_HOURS} 到 {MAX_HOURS} 小时之间。"
    if not data.audience:
        errors["audience"] = "请至少选择一类培训对象。"
    elif any(code not in Audience.values for code in data.audience):
        errors["audience"] = "培训对象不在可选范围内。"
    if not organiser_units(county).filter(pk=data.organiser.pk).exists():
        errors["organiser"] = "主办单位须是本县的有效单位。"
    if errors:
        raise ValidationError(errors)


def _audit(user: User, session: TrainingSession, action: str, **detail: Any) -> None:
    audit_event(user=user, action=action, object_type="training", object_id=session.id, detail=detail)


def _apply(session: TrainingSession, data: SessionData) -> None:
    session.topic = _clean_text(data.topic)
    session.held_on = data.held_on
    session.hours = data.hours
    session.organiser = data.organiser
    session.audience = [code for code in Audience.values if code in set(data.audience)]
    session.trainer = _clean_text(data.trainer)
    session.place = _clean_text(data.place)
    session.note = data.note.strip()


@transaction.atomic
def training_session_create(*, user: User, county: Region, data: SessionData) -> TrainingSession:
    _check(county, data)
    session = TrainingSession(county=county, created_by=user)
    _apply(session, data)
    session._history_user = user  # type: ignore[attr-defined]
    session.full_clean()
    session.save(force_insert=True)
    _audit(user, session, EventType.CREATE, change="training_session_create")
    return session


@transaction.atomic
def training_session_update(
    *, user: User, session: TrainingSession, expected_version: int, data: SessionData
) -> TrainingSession:
    """Edit a session; a form loaded at another version raises StaleSessionError."""
    locked = TrainingSession.objects.select_for_update().select_related("county").get(pk=session.pk)
    if locked.version != expected_version:
        raise StaleSessionError(locked, expected_version)
    _check(locked.county, data)
    _apply(locked, data)
    locked.version += 1
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    fields = ["topic", "held_on", "hours", "organiser", "audience", "trainer", "place", "note", "version"]
    locked.save(update_fields=fields)
    _audit(user, locked, EventType.UPDATE, change="training_session_update", version=locked.version)
    return locked


@transaction.atomic
def training_attendees_add(*, user: User, session: TrainingSession, workers: Sequence[User]) -> int:
    """Add workers of the session's county as attendees; those already there are skipped.
    Returns how many were added. Anyone who is no worker of the county is refused (AC-4)."""
    allowed = set(worker_grants([session.county.code]).values_list("user_id", flat=True))
    if any(worker.pk not in allowed for worker in workers):
        raise ValidationError({"workers": "只能选择本县在岗的工作人员。"})
    present = set(session.attendances.filter(user__isnull=False).values_list("user_id", flat=True))
    added = 0
    for worker in dict.fromkeys(workers):
        if worker.pk in present:
            continue
        row = Attendance(session=session, user=worker, added_by=user)
        row._history_user = user  # type: ignore[attr-defined]
        row.full_clean()
        row.save(force_insert=True)
        added += 1
    if added:
        _audit(user, session, EventType.UPDATE, change="training_attendees_add", added=added)
    return added


@transaction.atomic
def training_guest_add(*, user: User, session: TrainingSession, name: str, unit: str) -> Attendance:
    """An attendee without an account, named in free text."""
    name, unit = _clean_text(name), _clean_text(unit)
    if not name:
        raise ValidationError({"guest_name": "请填写姓名。"})
    row = Attendance(session=session, guest_name=name, guest_unit=unit, added_by=user)
    row._history_user = user  # type: ignore[attr-defined]
    row.full_clean()
    row.save(force_insert=True)
    _audit(user, session, EventType.UPDATE, change="training_guest_add")
    return row


@transaction.atomic
def training_attendance_remove(*, user: User, attendance: Attendance) -> None:
    """Remove an attendee; the audit row is written before the delete, and the history keeps
    the row and who removed it."""
    session = attendance.session
    _audit(
        user, session, EventType.DELETE, change="training_attendance_remove", attendance=str(attendance.pk)
    )
    attendance._history_user = user  # type: ignore[attr-defined]
    attendance.delete()
