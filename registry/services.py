"""Writes to the child file. Each runs in one transaction and leaves history rows."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from core import idnumber
from core.blind_index import id_index, phone_index
from core.pinyin import pinyin_keys
from geo.models import Region, RegionLevel
from registry import choices as c
from registry import rules, validation
from registry.models import Child, EntrustedGuardian, Parent, UnitAssignment


@dataclass
class FileData:
    """Everything a create or edit form submits: the child and the family records."""

    child: dict[str, Any]
    father: dict[str, Any] = field(default_factory=dict)
    mother: dict[str, Any] = field(default_factory=dict)
    guardian: dict[str, Any] | None = None


class StaleVersionError(Exception):
    """The file changed since the editor loaded it; nothing was written."""

    def __init__(self, current: Child, expected_version: int) -> None:
        super().__init__("档案已被他人修改")
        self.current = current
        self.expected_version = expected_version


def _set_fields(obj: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(obj, name, value)


def _apply_id_facts(child: Child) -> None:
    """Fill birth date and sex from the ID number; refuse an inconsistent pair."""
    if not child.id_number:
        child.id_index = None
        child.id_tail = ""
        return
    facts = idnumber.parse(child.id_number)
    errors: dict[str, str] = {}
    if child.birth_date and child.birth_date != facts.birth_date:
        errors["birth_date"] = "出生日期与身份证号码不一致。"
    if child.sex and child.sex != facts.sex:
        errors["sex"] = "性别与身份证号码不一致。"
    if errors:
        raise ValidationError(errors)
    child.id_number = facts.number
    child.birth_date = facts.birth_date
    child.sex = facts.sex
    child.id_index = id_index(facts.number)
    child.id_tail = facts.number[-4:]


def _apply_region(child: Child) -> None:
    village: Region = child.village
    if village.level != RegionLevel.VILLAGE or village.parent is None or village.parent.parent is None:
        raise ValidationError({"village": "请选择村（社区）。"})
    child.township = village.parent
    child.county = village.parent.parent


def parent_facts(values: Mapping[str, Any]) -> rules.ParentFacts | None:
    """A parent's form values as the left-behind rule reads them (None: no parent given)."""
    if not values:
        return None
    return rules.ParentFacts(
        status=values.get("status") or c.ParentStatus.AWAY,
        incapacity_reason=values.get("incapacity_reason") or "",
    )


def derive(child: Child, *, father: dict[str, Any], mother: dict[str, Any], on: dt.date) -> None:
    """Recompute every derived column of the child from its own and its parents' facts."""
    child.name_pinyin, child.name_initials = pinyin_keys(child.name)
    _apply_id_facts(child)
    _apply_region(child)
    child.is_left_behind = rules.is_left_behind(
        birth=child.birth_date,
        on=on,
        father=parent_facts(father),
        mother=parent_facts(mother),
        hukou_registered=child.hukou_registered,
        hukou_rural=child.hukou_rural,
    )
    child.key_reasons = rules.key_reasons(
        guardianship_rating=child.guardianship_rating,
        care_type=child.care_type,
        schooling=child.schooling,
        hukou_registered=child.hukou_registered,
        health=child.health,
        manual=child.key_manual,
    )
    child.is_key = bool(child.key_reasons)


def _next_file_no(village: Region) -> str:
    last = (
        Child.objects.filter(file_no__startswith=village.code)
        .order_by("-file_no")
        .values_list("file_no", flat=True)
        .first()
    )
    sequence = int(last[len(village.code) :]) + 1 if last else 1
    return f"{village.code}{sequence:06d}"


def _check_unique_id(child: Child) -> None:
    if not child.id_index or child.status != c.Status.ACTIVE:
        return
    clash = Child.objects.filter(id_index=child.id_index, status=c.Status.ACTIVE).exclude(pk=child.pk)
    if clash.exists():
        raise ValidationError({"id_number": "该身份证号码已有在册档案，不能重复建档。"})


def _save_child(child: Child, *, creating: bool) -> None:
    """Save inside a savepoint so that a unique clash becomes a field error, not a 500."""
    _check_unique_id(child)
    child.full_clean(exclude=["file_no", "township", "county"] if creating else None)
    for _attempt in range(5):
        if creating:
            child.file_no = _next_file_no(child.village)
        try:
            with transaction.atomic():
                child.save()
            return
        except IntegrityError as exc:
            if "id_index" in str(exc) or "one_active_file" in str(exc):
                raise ValidationError({"id_number": "该身份证号码已有在册档案，不能重复建档。"}) from exc
            if not creating:
                raise
    raise ValidationError("系统繁忙，请稍后重试。")


def _changed(obj: Any, values: dict[str, Any]) -> bool:
    return obj.pk is None or any(getattr(obj, name) != value for name, value in values.items())


def _save_person(person: Parent | EntrustedGuardian, values: dict[str, Any], user: User) -> None:
    """Save a parent or guardian with its blind indexes; an unchanged record is not
    rewritten, so the timeline gets no empty entries."""
    if person.pk is not None and not _changed(person, values):
        return
    _set_fields(person, values)
    if person.id_number:
        person.id_number = idnumber.parse(person.id_number).number
    person.id_index = id_index(person.id_number or None)
    person.phone_index = phone_index(person.phone or None)
    person._history_user = user  # type: ignore[union-attr]
    person.full_clean()
    person.save()


def _save_parent(child: Child, role: str, values: dict[str, Any], user: User) -> None:
    parent = Parent.objects.filter(child=child, role=role).first() or Parent(child=child, role=role)
    errors = validation.parent_errors(lambda name: values[name] if name in values else getattr(parent, name))
    if errors:
        raise ValidationError({f"{role}-{name}": message for name, message in errors.items()})
    _save_person(parent, values, user)


def _save_guardian(child: Child, values: dict[str, Any] | None, user: User) -> None:
    current = EntrustedGuardian.objects.filter(child=child).first()
    if values is None:
        if current is not None:
            current._history_user = user  # type: ignore[attr-defined]
            current.delete()
        return
    _save_person(current or EntrustedGuardian(child=child), values, user)


@transaction.atomic
def child_file_open(*, user: User, data: FileData) -> Child:
    """Open a new file (建档). The village must be one the caller may write to."""
    child = Child(created_by=user)
    _set_fields(child, data.child)
    derive(child, father=data.father, mother=data.mother, on=timezone.localdate())
    child._history_user = user  # type: ignore[attr-defined]
    _save_child(child, creating=True)
    _save_family(child, data, user)
    _recompute_care(child)
    return child


def _save_family(child: Child, data: FileData, user: User) -> None:
    if data.father:
        _save_parent(child, c.ParentRole.FATHER, data.father, user)
    if data.mother:
        _save_parent(child, c.ParentRole.MOTHER, data.mother, user)
    _save_guardian(child, data.guardian, user)


@transaction.atomic
def child_file_update(
    *, user: User, child: Child, expected_version: int, data: FileData, reason: str = ""
) -> Child:
    """Save an edit made on `expected_version`; refuse it if the file has moved on. `reason`
    (optional) is kept on the history row: why another workflow changed the file."""
    locked = (
        Child.objects.select_for_update(of=("self",))
        .select_related("village__parent__parent")
        .get(pk=child.pk)
    )
    if locked.version != expected_version:
        raise StaleVersionError(locked, expected_version)
    _set_fields(locked, data.child)
    derive(locked, father=data.father, mother=data.mother, on=timezone.localdate())
    locked.version += 1
    locked._history_user = user  # type: ignore[attr-defined]
    if reason:
        locked._change_reason = reason[:100]  # type: ignore[attr-defined]
    _save_child(locked, creating=False)
    _save_family(locked, data, user)
    _recompute_care(locked)
    return locked


@transaction.atomic
def child_file_exit(
    *, user: User, child: Child, expected_version: int, reason: str, on: dt.date, note: str = ""
) -> Child:
    locked = Child.objects.select_for_update().get(pk=child.pk)
    if locked.version != expected_version:
        raise StaleVersionError(locked, expected_version)
    if locked.status != c.Status.ACTIVE:
        raise ValidationError("该档案已退出。")
    if reason not in c.ExitReason.values:
        raise ValidationError({"exit_reason": "请选择退出原因。"})
    locked.status = c.Status.EXITED
    locked.exit_reason = reason
    locked.exit_date = on
    locked.exit_note = note
    locked.version += 1
    locked._history_user = user  # type: ignore[attr-defined]
    locked._change_reason = "退出：" + c.ExitReason(reason).label  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save()
    _recompute_care(locked)
    return locked


@transaction.atomic
def child_file_reactivate(*, user: User, child: Child, expected_version: int, reason: str) -> Child:
    locked = Child.objects.select_for_update().get(pk=child.pk)
    if locked.version != expected_version:
        raise StaleVersionError(locked, expected_version)
    if locked.status != c.Status.EXITED:
        raise ValidationError("该档案在册，无需恢复。")
    if not reason.strip():
        raise ValidationError({"reason": "请填写恢复原因。"})
    locked.status = c.Status.ACTIVE
    locked.exit_reason = ""
    locked.exit_date = None
    locked.exit_note = ""
    locked.version += 1
    locked._history_user = user  # type: ignore[attr-defined]
    locked._change_reason = "恢复在册：" + reason.strip()  # type: ignore[attr-defined]
    _save_child(locked, creating=False)
    _recompute_care(locked)
    return locked


def _recompute_care(child: Child) -> None:
    """The risk colour and next visit due follow every change of the file at once, in the
    same transaction (issue 4)."""
    from care.services import care_recompute  # care builds on the registry, not the reverse

    care_recompute(child=child)
    from guardianship.services import agreement_state_recompute  # likewise: needs an agreement?

    agreement_state_recompute(child=child)


def family_values(child: Child) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored parents as FileData dicts, for recomputations that keep them."""
    parents = {p.role: p for p in child.parents.all()}
    out = []
    for role in (c.ParentRole.FATHER, c.ParentRole.MOTHER):
        parent = parents.get(role)
        out.append({"status": parent.status, "incapacity_reason": parent.incapacity_reason} if parent else {})
    return out[0], out[1]


# --- One parent's facts outside the edit form (contact app, issue 4) ---------------------------
# A parent's notice of a new work place or phone (告知) and 失联 change the parent through here.

PARENT_UPDATABLE = frozenset(
    {"phone", "work_province", "work_city", "work_detail", "unreachable", "unreachable_since"}
)


@transaction.atomic
def parent_update(*, user: User, child: Child, role: str, values: dict[str, Any], reason: str) -> Parent:
    """Change some of one parent's facts (PARENT_UPDATABLE) with a history row carrying
    `reason`. The child row is locked and its version bumped, so that an edit form opened
    before answers 409 instead of writing the old values back. Nothing changed: no write."""
    if set(values) - PARENT_UPDATABLE:
        raise ValueError(f"parent_update cannot change {sorted(set(values) - PARENT_UPDATABLE)}")
    locked = Child.objects.select_for_update(of=("self",)).get(pk=child.pk)
    parent = Parent.objects.filter(child=locked, role=role).first()
    if parent is None:
        raise ValidationError("档案中没有登记该家长，请先编辑档案。")
    if {"work_province", "work_city"} & set(values):  # a 失联 flag must not wait on a work place
        errors = validation.parent_errors(
            lambda name: values[name] if name in values else getattr(parent, name)
        )
        if errors:
            raise ValidationError(errors)
    if not _changed(parent, values):
        return parent
    parent._change_reason = reason[:100]  # type: ignore[attr-defined]
    _save_person(parent, values, user)
    locked.version += 1
    locked._history_user = user  # type: ignore[attr-defined]
    locked._change_reason = reason[:100]  # type: ignore[attr-defined]
    locked.save(update_fields=["version", "updated_at"])
    child.version = locked.version
    return parent


def unit_assignment_open(
    *, child: Child, unit: Any, source: str, by: User | None, measure_id: Any = None, note: str = ""
) -> UnitAssignment:
    """Open the child's file to a service provider's staff (R16). Idempotent: an active
    assignment of the same child, unit and source (or of the same measure) is returned."""
    existing = UnitAssignment.objects.filter(active=True)
    existing = (
        existing.filter(measure_id=measure_id)
        if measure_id
        else existing.filter(child=child, unit=unit, source=source, measure_id__isnull=True)
    )
    found = existing.first()
    if found is not None:
        return found
    assignment = UnitAssignment(
        child=child, unit=unit, source=source, measure_id=measure_id, note=note.strip(), assigned_by=by
    )
    assignment._history_user = by  # type: ignore[attr-defined]
    assignment.full_clean()
    assignment.save(force_insert=True)
    return assignment


def unit_assignment_end(*, assignment: UnitAssignment, by: User | None) -> UnitAssignment:
    """End a provider's access to the file (the referral closed, or the service ended)."""
    if not assignment.active:
        return assignment
    assignment.active = False
    assignment.ended_at = timezone.now()
    assignment._history_user = by  # type: ignore[attr-defined]
    assignment.save(update_fields=["active", "ended_at"])
    return assignment


def unit_assignments_end_for_measure(*, measure_id: Any, by: User | None) -> int:
    """End the assignment a referral's measure opened (the measure is done or cancelled)."""
    ended = 0
    for assignment in UnitAssignment.objects.filter(measure_id=measure_id, active=True):
        unit_assignment_end(assignment=assignment, by=by)
        ended += 1
    return ended
