"""Writes of the activities app. Each runs in one transaction, sets the history user, calls
full_clean() and leaves an audit row (object type "activity"; no personal data in it)."""

import decimal
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from activities.models import Activity, AdultParticipant, Participation, VolunteerService
from audit.models import EventType
from audit.services import audit_event
from registry.models import Child

DELETE_REFUSED = "该活动已经记录了到场情况，不能删除。"
REMOVE_REFUSED = "该儿童的到场情况已经记录，不能移出名单。"
MIN_HOURS = decimal.Decimal("0.5")
MAX_HOURS = decimal.Decimal(24)

ACTIVITY_FIELDS = (
    "kind",
    "title",
    "organiser",
    "provider",
    "county",
    "township",
    "village",
    "place",
    "held_on",
    "target_group",
    "note",
)


class StaleActivityError(Exception):
    """The activity changed since the editor loaded it; nothing was written."""

    def __init__(self, current: Activity, expected_version: int) -> None:
        super().__init__("活动已被他人修改")
        self.current = current
        self.expected_version = expected_version


def _audit(user: User, activity_id: uuid.UUID, action: str, change: str, **detail: Any) -> None:
    audit_event(
        user=user,
        action=action,
        object_type="activity",
        object_id=activity_id,
        detail={"change": change, **detail},
    )


def _save(obj: Any, user: User, **kwargs: Any) -> None:
    obj._history_user = user
    obj.full_clean()
    obj.save(**kwargs)


@transaction.atomic
def activity_create(*, user: User, values: dict[str, Any]) -> Activity:
    activity = Activity(created_by=user, **{name: values[name] for name in ACTIVITY_FIELDS})
    _save(activity, user, force_insert=True)
    _audit(user, activity.pk, EventType.CREATE, "activity_create", kind=activity.kind)
    return activity


@transaction.atomic
def activity_update(
    *, user: User, activity: Activity, expected_version: int, values: dict[str, Any]
) -> Activity:
    """Change the activity, if nobody changed it since `expected_version` (else
    StaleActivityError and nothing written)."""
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.version != expected_version:
        raise StaleActivityError(locked, expected_version)
    changed = [name for name in ACTIVITY_FIELDS if getattr(locked, name) != values[name]]
    for name in ACTIVITY_FIELDS:
        setattr(locked, name, values[name])
    locked.version += 1
    _save(locked, user, update_fields=[*ACTIVITY_FIELDS, "version"])
    _audit(user, locked.pk, EventType.UPDATE, "activity_update", fields=changed)
    return locked


def attendance_taken(activity: Activity) -> bool:
    return activity.participations.filter(attended__isnull=False).exists()


@transaction.atomic
def activity_delete(*, user: User, activity: Activity) -> None:
    """Delete an activity that has no attendance yet (a cancelled or mistaken entry): once
    children have been marked, it is a service record and stays."""
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if attendance_taken(locked):
        raise ValidationError(DELETE_REFUSED)
    # Logged before deleting (house style 4); the history rows keep what was deleted.
    _audit(user, locked.pk, EventType.DELETE, "activity_delete", kind=locked.kind)
    for related in (*locked.participations.all(), *locked.adults.all(), *locked.volunteers.all()):
        related._history_user = user  # type: ignore[attr-defined]
        related.delete()
    locked._history_user = user  # type: ignore[attr-defined]
    locked.delete()


# --- expected children -----------------------------------------------------------------------


@transaction.atomic
def participants_add(*, user: User, activity: Activity, children: Iterable[Child]) -> int:
    """Add children to the expected list (the caller has scoped them); already listed ones
    are skipped. Returns how many were added."""
    listed = set(activity.participations.values_list("child_id", flat=True))
    added = 0
    for child in children:
        if child.pk in listed:
            continue
        _save(Participation(activity=activity, child=child), user, force_insert=True)
        listed.add(child.pk)
        added += 1
    if added:
        _audit(user, activity.pk, EventType.UPDATE, "participants_add", count=added)
    return added


@transaction.atomic
def participant_remove(*, user: User, participation: Participation) -> None:
    locked = Participation.objects.select_for_update().get(pk=participation.pk)
    if locked.attended is not None:
        raise ValidationError(REMOVE_REFUSED)
    _audit(user, locked.activity_id, EventType.UPDATE, "participant_remove", child=str(locked.child_id))
    locked._history_user = user  # type: ignore[attr-defined]
    locked.delete()


# --- attendance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    participation: Participation
    attended: bool
    outcome: str = ""


@transaction.atomic
def attendance_record(*, user: User, activity: Activity, marks: list[Mark]) -> int:
    """Set attended and outcome of the given participations (the caller has checked that the
    user may see each child). Rows whose values do not change are left as they are, so the
    recorder and the time stay those of the last real change. Returns how many changed."""
    now = timezone.now()
    changed = 0
    present = 0
    for mark in marks:
        row = mark.participation
        if row.activity_id != activity.pk:
            raise ValidationError("名单中的儿童不属于该活动。")
        outcome = mark.outcome.strip()
        present += mark.attended
        if row.attended == mark.attended and row.outcome == outcome:
            continue
        row.attended, row.outcome = mark.attended, outcome
        row.recorded_at, row.recorded_by = now, user
        _save(row, user, update_fields=["attended", "outcome", "recorded_at", "recorded_by"])
        changed += 1
    _audit(user, activity.pk, EventType.UPDATE, "attendance_record", marked=len(marks), present=present)
    return changed


# --- adults and volunteers -------------------------------------------------------------------


@transaction.atomic
def adult_add(
    *, user: User, activity: Activity, name: str, relation: str, child: Child | None
) -> AdultParticipant:
    adult = AdultParticipant(activity=activity, name=name.strip(), relation=relation, child=child)
    _save(adult, user, force_insert=True)
    _audit(user, activity.pk, EventType.UPDATE, "adult_add", relation=relation)
    return adult


@transaction.atomic
def adult_remove(*, user: User, adult: AdultParticipant) -> None:
    _audit(user, adult.activity_id, EventType.UPDATE, "adult_remove")
    adult._history_user = user  # type: ignore[attr-defined]
    adult.delete()


@transaction.atomic
def volunteer_add(
    *,
    user: User,
    activity: Activity,
    name: str,
    team: str,
    hours: decimal.Decimal,
    volunteer: User | None = None,
) -> VolunteerService:
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise ValidationError({"hours": "服务时长应在 0.5 至 24 小时之间。"})
    service = VolunteerService(
        activity=activity, name=name.strip(), team=team.strip(), hours=hours, user=volunteer
    )
    _save(service, user, force_insert=True)
    _audit(user, activity.pk, EventType.UPDATE, "volunteer_add", hours=str(hours))
    return service


@transaction.atomic
def volunteer_remove(*, user: User, service: VolunteerService) -> None:
    _audit(user, service.activity_id, EventType.UPDATE, "volunteer_remove")
    service._history_user = user  # type: ignore[attr-defined]
    service.delete()
