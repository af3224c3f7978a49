"""Writes of entrusted guardianship. Each runs in one transaction and leaves history rows.

The derived columns Child.agreement_required and Child.agreement_valid_until are written here
only: agreement_state_recompute() after anything that can change them (an agreement signed,
a file edited: registry's recompute hook calls it), agreements_recompute_all() every night.
They are written with a queryset update(), so that they add no history rows (their causes
have history).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from geo.models import Region
from guardianship import defaults, rules
from guardianship.models import (
    AgreementStatus,
    AgreementTemplate,
    DutyAcknowledgement,
    DutyRole,
    GuardianshipAgreement,
)
from registry import choices as c
from registry.models import Child, EntrustedGuardian, Parent
from registry.rules import add_years

CURRENT = (AgreementStatus.SIGNED, AgreementStatus.EXPIRED)
ADULT_AGE = 18


# --- the template ------------------------------------------------------------------------------


def agreement_template_ensure(*, county: Region) -> AgreementTemplate:
    """The county's template; the default wording is saved on first use."""
    found = AgreementTemplate.objects.filter(county=county).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return AgreementTemplate.objects.create(
                county=county, title=defaults.TITLE, body=defaults.BODY, duties=defaults.DUTIES
            )
    except IntegrityError:  # made by a concurrent first use
        return AgreementTemplate.objects.get(county=county)


@transaction.atomic
def agreement_template_update(
    *, user: User, template: AgreementTemplate, expected_version: int, title: str, body: str, duties: str
) -> AgreementTemplate:
    """Save a new version of the wording. Agreements already generated keep their own text."""
    locked = AgreementTemplate.objects.select_for_update().get(pk=template.pk)
    if locked.version != expected_version:
        raise ValidationError("模板已被他人修改，请刷新页面后重新编辑。")
    errors: dict[str, str] = {}
    for name, text in (("title", title), ("body", body), ("duties", duties)):
        unknown = rules.unknown_placeholders(text)
        if unknown:
            known = "、".join(f"{{{p}}}" for p in rules.PLACEHOLDERS)
            errors[name] = f"未知的占位符：{'、'.join(f'{{{p}}}' for p in unknown)}。可用的占位符：{known}。"
    if errors:
        raise ValidationError(errors)
    locked.title, locked.body, locked.duties = title.strip(), body.strip(), duties.strip()
    locked.version += 1
    locked.updated_by = user
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save()
    return locked


# --- agreements --------------------------------------------------------------------------------


def unconfirmed_checks(guardian: EntrustedGuardian) -> list[str]:
    """Labels of the WBF Art. 22 checklist items not confirmed for this guardian."""
    return [
        str(getattr(EntrustedGuardian._meta.get_field(name), "verbose_name", name))
        for name in EntrustedGuardian.CHECKLIST
        if not getattr(guardian, name)
    ]


def _parents(child: Child) -> dict[str, Parent]:
    return {parent.role: parent for parent in Parent.objects.filter(child=child)}


def _values(
    child: Child, guardian: EntrustedGuardian, parents: dict[str, Parent], start: dt.date, end: dt.date
) -> dict[str, str]:
    father, mother = parents.get(c.ParentRole.FATHER), parents.get(c.ParentRole.MOTHER)
    return {
        "儿童姓名": child.name,
        "儿童性别": child.get_sex_display(),
        "儿童出生日期": rules.format_date(child.birth_date),
        "父亲姓名": father.name if father else "",
        "母亲姓名": mother.name if mother else "",
        "受委托监护人姓名": guardian.name,
        "与儿童关系": guardian.get_relation_display(),
        "委托期限起": rules.format_date(start),
        "委托期限止": rules.format_date(end),
        "县": child.county.name,
        "乡镇": child.township.name,
        "村委会": child.village.name,
        "学校": child.school.name if child.school else "",
        "生成日期": rules.format_date(timezone.localdate()),
    }


def _check_period(child: Child, start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ValidationError({"valid_until": "委托期限止不能早于委托期限起。"})
    if end > rules.period_end(start, rules.MAX_MONTHS):
        raise ValidationError({"valid_until": "委托期限不能超过 3 年，期满后请重新签订。"})
    if end >= add_years(child.birth_date, ADULT_AGE):
        raise ValidationError({"valid_until": "委托期限不能超过儿童年满 18 周岁之日。"})


def _eligible_guardian(child: Child) -> EntrustedGuardian:
    if child.status != c.Status.ACTIVE:
        raise ValidationError("档案已退出，不能生成委托监护协议。")
    guardian = EntrustedGuardian.objects.filter(child=child).first()
    if guardian is None:
        raise ValidationError("该儿童未登记受委托监护人，请先在档案中登记受委托监护人并完成资格评估。")
    missing = unconfirmed_checks(guardian)
    if missing:
        raise ValidationError(
            f"受委托监护人 {guardian.name} 的资格评估未全部确认（未确认：{'；'.join(missing)}），"
            "不能生成委托监护协议。请先在档案中完成资格评估。"
        )
    return guardian


@transaction.atomic
def agreement_generate(
    *, user: User, child: Child, valid_from: dt.date, valid_until: dt.date
) -> GuardianshipAgreement:
    """A draft (待签) agreement with the county template's text filled from the file, frozen."""
    guardian = _eligible_guardian(child)
    _check_period(child, valid_from, valid_until)
    template = agreement_template_ensure(county=child.county)
    parents = _parents(child)
    values = _values(child, guardian, parents, valid_from, valid_until)
    agreement = GuardianshipAgreement(
        child=child,
        guardian=guardian,
        guardian_name=guardian.name,
        guardian_relation=guardian.get_relation_display(),
        child_name=child.name,
        father_name=values["父亲姓名"],
        mother_name=values["母亲姓名"],
        template=template,
        template_version=template.version,
        title=rules.render(template.title, values),
        text=rules.render(template.body, values),
        duties=rules.render(template.duties, values),
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=user,
    )
    agreement._history_user = user  # type: ignore[attr-defined]
    agreement.full_clean()
    agreement.save()
    return agreement


def _lock(agreement: GuardianshipAgreement) -> GuardianshipAgreement:
    return GuardianshipAgreement.objects.select_for_update().select_related("child").get(pk=agreement.pk)


@transaction.atomic
def agreement_sign(
    *, user: User, agreement: GuardianshipAgreement, signed_on: dt.date
) -> GuardianshipAgreement:
    """Record the signing date. The agreement becomes the child's current one; the one it
    replaces is marked superseded (已替换)."""
    locked = _lock(agreement)
    if locked.status != AgreementStatus.DRAFT:
        raise ValidationError("该协议已签订，不能重复签订。")
    today = timezone.localdate()
    if signed_on > today:
        raise ValidationError({"signed_on": "签订日期不能晚于今天。"})
    if signed_on < timezone.localdate(locked.created_at):
        raise ValidationError({"signed_on": "签订日期不能早于协议生成日期。"})
    for previous in GuardianshipAgreement.objects.select_for_update().filter(
        child_id=locked.child_id, status__in=CURRENT
    ):
        previous.status = AgreementStatus.SUPERSEDED
        previous._history_user = user  # type: ignore[attr-defined]
        previous._change_reason = "被新签订的协议替换"  # type: ignore[attr-defined]
        previous.save(update_fields=["status"])
    locked.signed_on = signed_on
    locked.status = AgreementStatus.EXPIRED if locked.valid_until < today else AgreementStatus.SIGNED
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(update_fields=["signed_on", "status"])
    agreement_state_recompute(child=locked.child)
    return locked


@transaction.atomic
def agreement_scan_attach(
    *, user: User, agreement: GuardianshipAgreement, stored_name: str, kind: str
) -> GuardianshipAgreement:
    """Attach the scanned signed copy (already in private storage, from guard_document). A
    replaced scan stays stored: the history rows still name it."""
    locked = _lock(agreement)
    locked.scan.name = stored_name
    locked.scan_kind = kind
    locked._history_user = user  # type: ignore[attr-defined]
    locked.save(update_fields=["scan", "scan_kind"])
    return locked


# --- duty list acknowledgements ------------------------------------------------------------------


@dataclass(frozen=True)
class DutyPerson:
    role: str
    name: str
    guardian: EntrustedGuardian | None = None
    parent: Parent | None = None


def duty_people(child: Child) -> list[DutyPerson]:
    """Who may acknowledge the duty list for this child: the entrusted guardian and the parents."""
    people: list[DutyPerson] = []
    guardian = EntrustedGuardian.objects.filter(child=child).first()
    if guardian is not None:
        people.append(DutyPerson(DutyRole.GUARDIAN, guardian.name, guardian=guardian))
    parents = _parents(child)
    for role in (c.ParentRole.FATHER, c.ParentRole.MOTHER):
        parent = parents.get(role)
        if parent is not None and parent.name:
            people.append(DutyPerson(str(role), parent.name, parent=parent))
    return people


@transaction.atomic
def duty_acknowledge(*, user: User, child: Child, role: str, acknowledged_on: dt.date) -> DutyAcknowledgement:
    people = {person.role: person for person in duty_people(child)}
    person = people.get(role)
    if person is None:
        raise ValidationError({"role": "档案中没有登记此人，请先在档案中登记。"})
    if acknowledged_on > timezone.localdate():
        raise ValidationError({"acknowledged_on": "确认日期不能晚于今天。"})
    template = agreement_template_ensure(county=child.county)
    acknowledgement = DutyAcknowledgement(
        child=child,
        role=role,
        guardian=person.guardian,
        parent=person.parent,
        person_name=person.name,
        acknowledged_on=acknowledged_on,
        template=template,
        template_version=template.version,
        recorded_by=user,
    )
    acknowledgement._history_user = user  # type: ignore[attr-defined]
    acknowledgement.full_clean()
    acknowledgement.save()
    return acknowledgement


# --- the derived columns on the child --------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    pk: Any
    status: str
    care_type: str
    required: bool
    valid_until: dt.date | None


def _states(rows: list[_Row]) -> dict[Any, tuple[bool, dt.date | None]]:
    """The new (required, valid_until) of each row: three queries for the whole batch."""
    ids = [row.pk for row in rows]
    parents: dict[Any, list[rules.ParentFacts]] = defaultdict(list)
    for child_id, status, reason in Parent.objects.filter(child_id__in=ids).values_list(
        "child_id", "status", "incapacity_reason"
    ):
        parents[child_id].append(rules.ParentFacts(status=status, incapacity_reason=reason))
    guardians = dict(EntrustedGuardian.objects.filter(child_id__in=ids).values_list("child_id", "id"))
    # The current agreement counts only while it names the guardian on the file: a new
    # guardian needs a new agreement.
    valid: dict[Any, dt.date] = {}
    for child_id, guardian_id, until in GuardianshipAgreement.objects.filter(
        child_id__in=ids, status__in=CURRENT
    ).values_list("child_id", "guardian_id", "valid_until"):
        if guardian_id is not None and guardians.get(child_id) == guardian_id:
            valid[child_id] = until
    return {
        row.pk: (
            rules.agreement_required(
                active=row.status == c.Status.ACTIVE, care_type=row.care_type, parents=parents[row.pk]
            ),
            valid.get(row.pk),
        )
        for row in rows
    }


def _apply(rows: list[_Row]) -> int:
    """Write the changed rows, grouped by their new values; the number changed."""
    states = _states(rows)
    groups: dict[tuple[bool, dt.date | None], list[Any]] = defaultdict(list)
    for row in rows:
        if states[row.pk] != (row.required, row.valid_until):
            groups[states[row.pk]].append(row.pk)
    for (required, until), ids in groups.items():
        Child.objects.filter(pk__in=ids).update(agreement_required=required, agreement_valid_until=until)
    return sum(len(ids) for ids in groups.values())


def _rows(queryset: QuerySet[Child]) -> list[_Row]:
    return [
        _Row(*values)
        for values in queryset.values_list(
            "pk", "status", "care_type", "agreement_required", "agreement_valid_until"
        )
    ]


def agreement_state_recompute(*, child: Child) -> bool:
    """Recompute the child's agreement columns from the file and its agreements; save only
    what changed. Returns whether anything changed."""
    changed = _apply(_rows(Child.objects.filter(pk=child.pk))) > 0
    if changed:
        fresh = Child.objects.values("agreement_required", "agreement_valid_until").get(pk=child.pk)
        child.agreement_required = fresh["agreement_required"]
        child.agreement_valid_until = fresh["agreement_valid_until"]
    return changed


def agreements_expire(*, on: dt.date) -> int:
    """Mark signed agreements whose period ended before `on` as expired (已过期), with history."""
    count = 0
    for agreement in GuardianshipAgreement.objects.filter(status=AgreementStatus.SIGNED, valid_until__lt=on):
        agreement.status = AgreementStatus.EXPIRED
        agreement._change_reason = "委托期限届满"  # type: ignore[attr-defined]
        agreement.save(update_fields=["status"])
        count += 1
    return count


def agreement_state_recompute_many(*, child_ids: Sequence[Any]) -> int:
    """Recompute the agreement columns of a set of files (an import's), in chunks of 2,000.
    Returns the number of rows changed."""
    ids = list(child_ids)
    return sum(
        _apply(_rows(Child.objects.filter(pk__in=ids[start : start + 2000])))
        for start in range(0, len(ids), 2000)
    )


def agreements_recompute_all(
    *,
    on: dt.date,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 2000,
) -> dict[str, int]:
    """The nightly pass (idempotent): expire agreements whose period has ended, then recompute
    every child's agreement columns in batches (keyset on the primary key, three queries per
    batch). Returns counts: expired, changed, required, gaps (required with no agreement in
    force on `on`)."""
    with transaction.atomic():
        expired = agreements_expire(on=on)
    total = Child.objects.count()
    done = changed = 0
    last: Any = None
    while True:
        batch = Child.objects.order_by("pk")
        if last is not None:
            batch = batch.filter(pk__gt=last)
        rows = _rows(batch[:batch_size])
        if not rows:
            break
        with transaction.atomic():
            changed += _apply(rows)
        done += len(rows)
        last = rows[-1].pk
        if progress is not None:
            progress(done, total)
    required = Child.objects.filter(status=c.Status.ACTIVE, agreement_required=True)
    gaps = required.exclude(agreement_valid_until__gte=on).count()
    return {"expired": expired, "changed": changed, "required": required.count(), "gaps": gaps}
