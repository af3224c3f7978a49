"""Writes of "我的工作": assignments, life-event proposals and their decisions, and the steps
of the nightly job (proposals, recomputation, reminder digests).

Each decision by a person runs in one transaction and leaves a history row and an audit row.
The nightly steps commit batch by batch and are idempotent: a proposal is made once per
child and kind, a recomputation writes only what changed, a digest goes once per worker
and date; re-running the job on the same date changes nothing more.
"""

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import Role, User
from audit.models import EventType
from audit.services import audit_event
from registry import choices as c
from registry import rules
from registry.access import children_editable_by
from registry.models import Assignment, Child, Parent
from registry.services import child_file_exit
from work import selectors
from work.models import LifeEventProposal, ProposalKind, ProposalState, ReminderDigest
from work.policy import optional, policy_for

Progress = Callable[[int, int], None]
BATCH_SIZE = 2000
DIGEST_KEYS = {
    "overdue": "逾期未走访 {n} 人",
    "due": "本周应走访 {n} 人",
    "expiring": "委托监护协议即将到期 {n} 份",
    "missing": "缺少有效委托监护协议 {n} 人",
    "contact": "亲情联系超期或父母失联 {n} 人",
    "aging": "即将年满16周岁 {n} 人",
    "proposals": "待确认退出建议 {n} 条",
}


# --- assignment --------------------------------------------------------------------------------


@transaction.atomic
def assignment_create(*, by: User, children: Sequence[Child], assignee: User) -> list[Assignment]:
    """Assign each child to a visiting cadre or social worker (走访指派). A child already
    assigned to that person keeps its assignment. Only files the assigner may change, and
    only people selectors.assignees_for(by) lists."""
    if assignee.pk not in {person.pk for person in selectors.assignees_for(by)}:
        raise ValidationError({"assignee": "只能指派给本乡镇（县）的驻村干部或社会工作者。"})
    if not children:
        raise ValidationError({"children": "请至少选择一名儿童。"})
    editable = children_editable_by(by).filter(status=c.Status.ACTIVE)
    allowed = set(editable.filter(pk__in=[child.pk for child in children]).values_list("pk", flat=True))
    if any(child.pk not in allowed for child in children):
        raise ValidationError({"children": "只能指派在册且在您工作范围内的儿童。"})
    role = selectors.assignee_role(assignee)
    return [_assign(by, child, assignee, role) for child in children]


def _assign(by: User, child: Child, assignee: User, role: str) -> Assignment:
    existing = Assignment.objects.filter(child=child, user=assignee, active=True).first()
    if existing is not None:
        return existing
    assignment = Assignment(child=child, user=assignee, role=role, assigned_by=by)
    assignment._history_user = by  # type: ignore[attr-defined]
    assignment.full_clean(validate_constraints=False)
    assignment.save()
    audit_event(
        user=by,
        action=EventType.UPDATE,
        object_type="child",
        object_id=child.pk,
        detail={
            "change": "assign",
            "assignee": str(assignee.pk),
            "role": role,
            "assignment": str(assignment.pk),
        },
    )
    return assignment


@transaction.atomic
def assignment_end(*, by: User, assignment: Assignment) -> Assignment:
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if not locked.active:
        raise ValidationError("该指派已结束。")
    locked.active = False
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = "结束指派"  # type: ignore[attr-defined]
    locked.save(update_fields=["active"])
    audit_event(
        user=by,
        action=EventType.UPDATE,
        object_type="child",
        object_id=locked.child_id,
        detail={"change": "assignment_end", "assignee": str(locked.user_id), "assignment": str(locked.pk)},
    )
    return locked


# --- proposals: decisions ----------------------------------------------------------------------


def _lock_open(proposal: LifeEventProposal) -> LifeEventProposal:
    locked = LifeEventProposal.objects.select_for_update().get(pk=proposal.pk)
    if not locked.is_open:
        raise ValidationError("该建议已处理，请刷新页面。")
    return locked


def _decide(locked: LifeEventProposal, *, user: User, state: str, note: str) -> None:
    locked.state = state
    locked.decided_by = user
    locked.decided_at = timezone.now()
    locked.note = note
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean(validate_constraints=False)
    locked.save(update_fields=["state", "decided_by", "decided_at", "note"])


@transaction.atomic
def proposal_confirm(*, user: User, proposal: LifeEventProposal, on: dt.date, note: str = "") -> Child:
    """Exit the file with the proposal's reason (年满16周岁 / 父母返乡) on `on`; never a delete."""
    locked = _lock_open(proposal)
    if on > timezone.localdate():
        raise ValidationError({"exit_date": "退出日期不能晚于今天。"})
    child = Child.objects.get(pk=locked.child_id)
    note = note.strip()
    exited = child_file_exit(
        user=user,
        child=child,
        expected_version=child.version,
        reason=locked.exit_reason,
        on=on,
        note=note or f"经确认：{locked.get_kind_display()}",
    )
    _decide(locked, user=user, state=ProposalState.CONFIRMED, note=note)
    audit_event(
        user=user,
        action=EventType.UPDATE,
        object_type="child",
        object_id=child.pk,
        detail={
            "change": "exit",
            "exit_reason": exited.exit_reason,
            "proposal": str(locked.pk),
            "version": exited.version,
        },
    )
    return exited


@transaction.atomic
def proposal_dismiss(*, user: User, proposal: LifeEventProposal, note: str) -> LifeEventProposal:
    """Keep the file; the reason is required and stays with the proposal."""
    note = " ".join(note.split())
    if not note:
        raise ValidationError({"note": "请填写驳回原因。"})
    locked = _lock_open(proposal)
    _decide(locked, user=user, state=ProposalState.DISMISSED, note=note)
    audit_event(
        user=user,
        action=EventType.UPDATE,
        object_type="child",
        object_id=locked.child_id,
        reason=note,
        detail={"change": "proposal_dismiss", "kind": locked.kind, "proposal": str(locked.pk)},
    )
    return locked


# --- proposals: the nightly step ---------------------------------------------------------------


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _blocked(kind: str, versions: dict[uuid.UUID, int]) -> set[uuid.UUID]:
    """Children that get no new proposal of this kind: one is open, or one was decided on
    the file as it is now (same version)."""
    existing = LifeEventProposal.objects.filter(kind=kind, child_id__in=list(versions)).values_list(
        "child_id", "state", "child_version"
    )
    return {
        child_id
        for child_id, state, version in existing
        if state == ProposalState.PROPOSED or version == versions[child_id]
    }


def _create(proposals: list[LifeEventProposal]) -> int:
    """Insert the proposals with their history rows; if another run made some meanwhile
    (the open-proposal constraint says so), fall back to one by one and skip those."""
    if not proposals:
        return 0
    try:
        with transaction.atomic():
            bulk_create_with_history(proposals, LifeEventProposal, batch_size=500)
        return len(proposals)
    except IntegrityError:
        made = 0
        for proposal in proposals:
            try:
                with transaction.atomic():
                    proposal.save(force_insert=True)
                made += 1
            except IntegrityError:
                continue
        return made


def _propose(kind: str, rows: Iterable[tuple[uuid.UUID, int, list[str]]], on: dt.date) -> int:
    """Proposals of `kind` for (child id, version, facts) rows, batch by batch."""
    made = 0
    for chunk in _chunks(list(rows), BATCH_SIZE):
        versions = {child_id: version for child_id, version, _ in chunk}
        blocked = _blocked(kind, versions)
        made += _create(
            [
                LifeEventProposal(
                    child_id=child_id, kind=kind, proposed_on=on, child_version=version, facts=facts
                )
                for child_id, version, facts in chunk
                if child_id not in blocked
            ]
        )
    return made


def _eligible_by_category() -> Any:
    """Active files whose only category is left-behind: 困境儿童 and 事实无人抚养儿童 have
    other rules (under 18, R4) and are never proposed for exit by this job."""
    return Child.objects.filter(status=c.Status.ACTIVE, is_in_difficulty=False, is_de_facto_orphan=False)


def _aged_18_rows(on: dt.date) -> list[tuple[uuid.UUID, int, list[str]]]:
    """困境儿童 and 事实无人抚养儿童 who have turned 18 (R4): proposed for exit as 年满18周岁."""
    latest = selectors._latest_birth_aged_18(on)
    rows = (
        Child.objects.filter(status=c.Status.ACTIVE, birth_date__lte=latest)
        .filter(Q(is_in_difficulty=True) | Q(is_de_facto_orphan=True))
        .values_list("id", "version")
    )
    return [(child_id, version, ["age_18"]) for child_id, version in rows]


def _aged_out_rows(on: dt.date) -> list[tuple[uuid.UUID, int, list[str]]]:
    latest = selectors._latest_birth_aged_16(on)
    rows = _eligible_by_category().filter(birth_date__lte=latest).values_list("id", "version")
    return [(child_id, version, ["age_16"]) for child_id, version in rows]


def _parent_facts(rows: Iterable[tuple[uuid.UUID, str, str, str]]) -> dict[uuid.UUID, dict[str, Any]]:
    family: dict[uuid.UUID, dict[str, Any]] = {}
    for child_id, role, status, incapacity in rows:
        family.setdefault(child_id, {})[role] = rules.ParentFacts(status=status, incapacity_reason=incapacity)
    return family


def _returned_rows(on: dt.date) -> list[tuple[uuid.UUID, int, list[str]]]:
    """Files under 16 with a parent at home that the eligibility rule (rules.is_left_behind,
    R1) no longer counts as left behind: proposed for exit as 父母返乡."""
    latest = selectors._latest_birth_aged_16(on)
    at_home = Parent.objects.filter(status=c.ParentStatus.AT_HOME).values("child_id")
    candidates = list(
        _eligible_by_category()
        .filter(birth_date__gt=latest, id__in=at_home)
        .values_list("id", "version", "birth_date", "hukou_registered", "hukou_rural")
    )
    out: list[tuple[uuid.UUID, int, list[str]]] = []
    for chunk in _chunks(candidates, BATCH_SIZE):
        parents = Parent.objects.filter(child_id__in=[row[0] for row in chunk]).values_list(
            "child_id", "role", "status", "incapacity_reason"
        )
        family = _parent_facts(parents)
        for child_id, version, birth, registered, rural in chunk:
            facts = family.get(child_id, {})
            father, mother = facts.get(c.ParentRole.FATHER), facts.get(c.ParentRole.MOTHER)
            still = rules.is_left_behind(
                birth=birth,
                on=on,
                father=father,
                mother=mother,
                hukou_registered=registered,
                hukou_rural=rural,
            )
            if not still:
                codes = sorted(f"{role}_{fact.status}" for role, fact in facts.items())
                out.append((child_id, version, codes))
    return out


def life_events_propose(*, on: dt.date) -> dict[str, int]:
    """Propose exits: left-behind children who have turned 16, 困境儿童 and 事实无人抚养儿童 who
    have turned 18, and children whose parents returned."""
    return {
        ProposalKind.AGED_OUT.value: _propose(ProposalKind.AGED_OUT, _aged_out_rows(on), on),
        ProposalKind.AGED_18.value: _propose(ProposalKind.AGED_18, _aged_18_rows(on), on),
        ProposalKind.PARENTS_RETURNED.value: _propose(ProposalKind.PARENTS_RETURNED, _returned_rows(on), on),
    }


# --- reminder digests --------------------------------------------------------------------------


def _digest_body(counts: dict[str, int]) -> str:
    return "；".join(
        template.format(n=counts[key]) for key, template in DIGEST_KEYS.items() if counts.get(key)
    )


def digests_send(*, on: dt.date) -> dict[str, int]:
    """One in-app reminder per village child director (儿童主任) with something to do, at
    most once per date. Counts only: never a name, ID or phone number."""
    send = optional("notify.services.notification_send")
    if send is None:
        return {"sent": 0, "nothing_to_do": 0, "already_sent": 0, "unavailable": 1}
    workers = User.objects.filter(
        is_active=True, grants__role=Role.VILLAGE_WORKER, grants__active=True
    ).distinct()
    done = set(ReminderDigest.objects.filter(on=on).values_list("user_id", flat=True))
    report = {"sent": 0, "nothing_to_do": 0, "already_sent": 0}
    for worker in workers.order_by("username"):
        if worker.pk in done:
            report["already_sent"] += 1
            continue
        counts = selectors.my_work_counts(worker, on=on, policy=policy_for(worker))
        wanted = {key: counts[key] for key in DIGEST_KEYS if counts.get(key)}
        if not wanted:
            report["nothing_to_do"] += 1
            continue
        with transaction.atomic():
            _, created = ReminderDigest.objects.get_or_create(user=worker, on=on, defaults={"counts": wanted})
            if created:
                send(
                    recipient=worker,
                    kind="work.digest",
                    title=f"今日工作提醒（{on:%m月%d日}）",
                    body=_digest_body(wanted),
                    link=reverse("work:home"),
                )
        report["sent" if created else "already_sent"] += 1
    return report


# --- the nightly job ---------------------------------------------------------------------------

PHASE = 1000  # progress units per step: the bar moves evenly through the steps


def _phase_progress(progress: Progress | None, index: int, steps: int) -> Progress:
    def report(current: int, total: int) -> None:
        if progress is not None:
            share = current / total if total else 1
            progress(index * PHASE + int(share * PHASE), steps * PHASE)

    return report


def _stats_summary(report: Any) -> dict[str, Any]:
    """The statistics' RefreshReport as JSON for the job's result."""
    return {
        name: value.isoformat() if isinstance(value, dt.datetime) else value
        for name, value in vars(report).items()
    }


def nightly_run(*, on: dt.date, progress: Progress | None = None) -> dict[str, Any]:
    """The steps of work.nightly, in order; a step whose app is not installed is skipped and
    named in the result. Returns what each step did (counts)."""
    care_all = optional("care.services.care_recompute_all")
    agreements_all = optional("guardianship.services.agreements_recompute_all")
    tasks_overdue = optional("tasks.services.tasks_overdue_notify")
    stats_all = optional("stats.services.stats_nightly")
    purge_imports = optional("imports.services.imports_purge_stale")
    steps: list[tuple[str, Callable[[Progress], Any] | None]] = [
        ("proposals", lambda report: life_events_propose(on=on)),
        ("care", (lambda report: care_all(on=on, progress=report)) if care_all else None),
        ("agreements", (lambda report: agreements_all(on=on, progress=report)) if agreements_all else None),
        ("tasks_overdue", (lambda report: tasks_overdue(on=on)) if tasks_overdue else None),
        ("digests", lambda report: digests_send(on=on)),
        # After care and agreements: the indicators read the fresh colours and due dates.
        ("stats", (lambda report: _stats_summary(stats_all(on=on))) if stats_all else None),
        ("imports_purge", (lambda report: {"purged": purge_imports()}) if purge_imports else None),
    ]
    result: dict[str, Any] = {"on": on.isoformat(), "skipped": []}
    for index, (name, step) in enumerate(steps):
        report = _phase_progress(progress, index, len(steps))
        report(0, 1)
        if step is None:
            result["skipped"].append(name)
            continue
        started = timezone.now()
        result[name] = step(report)
        result[f"{name}_seconds"] = round((timezone.now() - started).total_seconds(), 1)
        report(1, 1)
    return result
