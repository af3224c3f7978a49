"""Writes of the contact app. Each runs in one transaction and leaves history rows.

Parents change only through registry.services.parent_update (history with the reason, the
file's version bumped). Child.last_parent_contact_on is a derived column written here only,
with a queryset update (no history row: the contacts have theirs).
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from contact.models import ContactWith, ParentContact, ParentNotice
from core.blind_index import phone_index
from geo.models import Region
from registry.models import Child, Parent
from registry.services import parent_update


@dataclass(frozen=True)
class NoticeData:
    role: str
    notified_on: dt.date
    channel: str
    told_village: bool = True
    told_school: bool = False
    work_province: Region | None = None
    work_city: Region | None = None
    work_detail: str = ""
    new_phone: str = ""
    note: str = ""


def _parent(child: Child, role: str, field: str = "role") -> Parent:
    parent = Parent.objects.filter(child=child, role=role).first()
    if parent is None:
        raise ValidationError({field: "档案中没有登记该家长，请先编辑档案。"})
    return parent


def _not_future(day: dt.date, field: str, label: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: f"{label}不能晚于今天。"})


@transaction.atomic
def parent_notice_record(*, user: User, child: Child, data: NoticeData) -> ParentNotice:
    """Record a parent's notice (告知) and bring the file up to date with it. A notice dated
    before one already recorded for the same parent is kept, but does not overwrite the newer
    facts."""
    parent = _parent(child, data.role)
    _not_future(data.notified_on, "notified_on", "告知日期")
    moved = data.work_province is not None or data.work_city is not None
    if not moved and not data.new_phone:
        raise ValidationError("请填写新的务工地点或新的联系电话。")
    province = data.work_province or (data.work_city.parent if data.work_city else None)
    notice = ParentNotice(
        child=child,
        parent=parent,
        notified_on=data.notified_on,
        channel=data.channel,
        told_village=data.told_village,
        told_school=data.told_school,
        work_province=province,
        work_city=data.work_city,
        work_detail=data.work_detail,
        new_phone=data.new_phone,
        new_phone_index=phone_index(data.new_phone or None),
        note=data.note,
        recorded_by=user,
    )
    notice._history_user = user  # type: ignore[attr-defined]
    notice.full_clean()
    newer = ParentNotice.objects.filter(parent=parent, notified_on__gt=data.notified_on).exists()
    notice.save()
    if not newer:
        values: dict[str, object] = {}
        if moved:
            values.update(work_province=province, work_city=data.work_city, work_detail=data.work_detail)
        if data.new_phone:
            values["phone"] = data.new_phone
        parent_update(
            user=user,
            child=child,
            role=data.role,
            values=values,
            reason=f"父母告知（{data.notified_on:%Y-%m-%d}）",
        )
    return notice


@transaction.atomic
def parent_reachability_set(
    *, user: User, child: Child, role: str, unreachable: bool, on: dt.date, reason: str
) -> Parent:
    """Mark a parent 失联 (unreachable since `on`) or reachable again (on `on`); the child's
    risk colour follows at once (care.services.care_recompute)."""
    from care.services import care_recompute

    parent = _parent(child, role)
    _not_future(on, "on", "日期")
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "请填写原因。"})
    if parent.unreachable == unreachable:
        raise ValidationError("该家长已标记为失联。" if unreachable else "该家长未标记失联。")
    label = "失联" if unreachable else "恢复联系"
    parent = parent_update(
        user=user,
        child=child,
        role=role,
        values={"unreachable": unreachable, "unreachable_since": on if unreachable else None},
        reason=f"{label}（{on:%Y-%m-%d}）：{reason}",
    )
    care_recompute(child=Child.objects.get(pk=child.pk))
    return parent


@transaction.atomic
def parent_contact_record(
    *,
    user: User,
    child: Child,
    submission_key: uuid.UUID,
    contacted_on: dt.date,
    kind: str,
    with_whom: str,
    arranged: bool,
    duration_minutes: int | None = None,
    note: str = "",
) -> tuple[ParentContact, bool]:
    """Log a parent–child contact; returns (contact, created). The same submission key again
    (a double tap, a retry) returns the first record and writes nothing."""
    existing = ParentContact.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        if existing.child_id != child.pk:
            raise ValidationError("提交标识重复，请刷新页面后重新填写。")
        return existing, False
    _not_future(contacted_on, "contacted_on", "联系日期")
    if contacted_on < child.birth_date:
        raise ValidationError({"contacted_on": "联系日期不能早于儿童出生日期。"})
    if with_whom != ContactWith.BOTH:
        _parent(child, with_whom, field="with_whom")
    contact = ParentContact(
        child=child,
        submission_key=submission_key,
        contacted_on=contacted_on,
        kind=kind,
        with_whom=with_whom,
        arranged_by=user if arranged else None,
        duration_minutes=duration_minutes,
        note=note,
        recorded_by=user,
    )
    contact._history_user = user  # type: ignore[attr-defined]
    contact.full_clean()
    contact.save()
    # Only ever forward: one conditional update, safe against a concurrent record.
    Child.objects.filter(pk=child.pk).filter(
        Q(last_parent_contact_on__isnull=True) | Q(last_parent_contact_on__lt=contacted_on)
    ).update(last_parent_contact_on=contacted_on)
    return contact, True


def _void_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "请填写作废原因。"})
    return reason


@transaction.atomic
def parent_contact_void(*, user: User, contact: ParentContact, reason: str) -> ParentContact:
    """Void a wrongly entered contact (作废, with a reason and history; never deleted) and set
    the file's last contact back to the latest contact still standing."""
    reason = _void_reason(reason)
    Child.objects.select_for_update().filter(pk=contact.child_id).first()  # one writer per file
    locked = ParentContact.objects.select_for_update().get(pk=contact.pk)
    if locked.voided_at is not None:
        raise ValidationError("这条亲情联系已经作废。")
    locked.voided_at, locked.voided_by, locked.void_reason = timezone.now(), user, reason
    locked._history_user = user  # type: ignore[attr-defined]
    locked.save(update_fields=["voided_at", "voided_by", "void_reason"])
    standing = ParentContact.objects.filter(child_id=locked.child_id, voided_at__isnull=True)
    latest = standing.aggregate(latest=Max("contacted_on"))["latest"]
    Child.objects.filter(pk=locked.child_id).update(last_parent_contact_on=latest)
    return locked


@transaction.atomic
def parent_notice_void(*, user: User, notice: ParentNotice, reason: str) -> ParentNotice:
    """Void a wrongly entered notice (作废, with a reason and history; never deleted). The
    parent's facts it brought into the file are corrected in the file itself (registry edit,
    with history and the version check): only the user knows what the right facts are."""
    reason = _void_reason(reason)
    locked = ParentNotice.objects.select_for_update().get(pk=notice.pk)
    if locked.voided_at is not None:
        raise ValidationError("这条告知记录已经作废。")
    locked.voided_at, locked.voided_by, locked.void_reason = timezone.now(), user, reason
    locked._history_user = user  # type: ignore[attr-defined]
    locked.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return locked
