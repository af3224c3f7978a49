"""Writes of tiered review (审核报送). Each transition runs in one transaction, locks the rows
it moves, leaves history rows (the actor as history user) and one audit row, and refuses a
transition the state does not allow with a Chinese ValidationError, writing nothing.

Permission checks are the caller's (submissions/access.py); these functions check states and
data. Notifications (in-app) go in the same transaction: a refused write tells no one.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import Role, RoleGrant, User
from audit.models import EventType
from audit.services import audit_event
from geo.models import Region, RegionLevel
from nationalforms import table3
from notify.services import NO_ID, notification_send, personal_number_error
from submissions.models import (
    SUBMITTABLE,
    Round,
    RoundKind,
    RoundState,
    SnapshotRow,
    TownshipState,
    TownshipSubmission,
    VillageState,
    VillageSubmission,
)
from submissions.snapshot import snapshot_take, snapshot_tally

NO_ID_IN_TITLE = "报送名称不能包含身份证号码或 18 位以上的连续数字。"
NO_PHONE_IN_TITLE = "报送名称不能包含手机号码。"
CHECK_FAILED = "附件3统计表未通过勾稽关系校验，不能报送："


# --- helpers -----------------------------------------------------------------------------------


def _clean(value: str) -> str:
    return " ".join(value.split())


def _required(value: str, field: str, label: str) -> str:
    value = _clean(value)
    if not value:
        raise ValidationError({field: f"请填写{label}。"})
    return value


def _audit(user: User | None, obj: Model, action: str, object_type: str, **detail: Any) -> None:
    audit_event(user=user, action=action, object_type=object_type, object_id=obj.pk, detail=detail)


def _save(obj: Model, user: User | None, fields: list[str]) -> None:
    obj._history_user = user  # type: ignore[attr-defined]
    obj.full_clean()
    obj.save(update_fields=fields)


def _require_open(round: Round) -> None:
    if round.state != RoundState.OPEN:
        raise ValidationError(f"该报送轮次{round.get_state_display()}，不能再修改。")


def _link(round: Round) -> str:
    return reverse("submissions:detail", kwargs={"round_id": round.id})


def _tell(users: Iterable[User], round: Round, *, kind: str, title: str, body: str) -> int:
    count = 0
    for user in users:
        notification_send(recipient=user, kind=kind, title=title[:120], body=body, link=_link(round))
        count += 1
    return count


def _grant_users(roles: Iterable[str], county: Region) -> list[User]:
    """Active users with an active grant of one of `roles` whose region lies in the county
    (or, for county roles, covers it)."""
    grants = RoleGrant.objects.filter(
        role__in=list(roles), active=True, unit__active=True, user__is_active=True
    ).select_related("user", "region", "unit__region")
    found: dict[uuid.UUID, User] = {}
    for grant in grants.order_by("user__username"):
        code = grant.scope_region.code
        if code.startswith(county.code) or county.code.startswith(code):
            found.setdefault(grant.user_id, grant.user)
    return list(found.values())


def county_admins(county: Region) -> list[User]:
    return _grant_users([Role.COUNTY_ADMIN], county)


def _lock_round(round_id: uuid.UUID) -> Round:
    return Round.objects.select_for_update().select_related("county").get(pk=round_id)


# --- rounds ------------------------------------------------------------------------------------


def _check_round(title: str, reference_date: dt.date, due_date: dt.date) -> str:
    errors: dict[str, str] = {}
    title = _clean(title)
    number = personal_number_error(title)
    if not title:
        errors["title"] = "请填写报送名称。"
    elif number:  # the title goes into notifications, which refuse such numbers
        errors["title"] = NO_ID_IN_TITLE if number == NO_ID else NO_PHONE_IN_TITLE
    if due_date < timezone.localdate():
        errors["due_date"] = "报送截止日期不能早于今天。"
    if reference_date > due_date:
        errors["reference_date"] = "统计基准日不能晚于报送截止日期。"
    if errors:
        raise ValidationError(errors)
    return title


@transaction.atomic
def round_open(
    *, user: User, county: Region, kind: str, title: str, reference_date: dt.date, due_date: dt.date
) -> Round:
    """Open a round for every current village of the county (and every township that has
    villages), and tell the county's village workers and township supervisors."""
    title = _check_round(title, reference_date, due_date)
    if kind not in RoundKind.values:
        raise ValidationError({"kind": "请选择报送类型。"})
    villages = list(
        Region.objects.filter(
            level=RegionLevel.VILLAGE, valid_to__isnull=True, parent__parent=county
        ).select_related("parent")
    )
    if not villages:
        raise ValidationError("本县尚未建立村（社区），不能发起报送。")
    round = Round(
        kind=kind,
        title=title,
        reference_date=reference_date,
        county=county,
        due_date=due_date,
        opened_by=user,
    )
    round._history_user = user  # type: ignore[attr-defined]
    round.full_clean()
    round.save()
    townships: dict[Any, TownshipSubmission] = {}
    for village in villages:
        assert village.parent is not None  # the query asked for villages of the county's townships
        townships.setdefault(village.parent_id, TownshipSubmission(round=round, township=village.parent))
    bulk_create_with_history(list(townships.values()), TownshipSubmission, default_user=user)
    rows = [
        VillageSubmission(round=round, township_submission=townships[v.parent_id], village=v)
        for v in villages
    ]
    bulk_create_with_history(rows, VillageSubmission, default_user=user)
    told = _tell(
        _grant_users([Role.VILLAGE_WORKER, Role.TOWNSHIP_SUPERVISOR], county),
        round,
        kind="submissions.opened",
        title=f"新的报送任务：{round.title}",
        body=(
            f"{round.get_kind_display()}，统计基准日 {round.reference_date:%Y-%m-%d}，"
            f"请于 {round.due_date:%Y-%m-%d} 前核对并报送本村台账。"
        ),
    )
    _audit(
        user, round, EventType.CREATE, "submission_round", change="round_open", villages=len(rows), told=told
    )
    return round


@transaction.atomic
def round_cancel(*, user: User, round: Round, reason: str) -> Round:
    reason = _required(reason, "reason", "撤销原因")
    locked = _lock_round(round.pk)
    _require_open(locked)
    locked.state = RoundState.CANCELLED
    locked.cancelled_at, locked.cancelled_by, locked.cancel_reason = timezone.now(), user, reason[:500]
    _save(locked, user, ["state", "cancelled_at", "cancelled_by", "cancel_reason"])
    _audit(user, locked, EventType.UPDATE, "submission_round", change="round_cancelled")
    return locked


# --- villages ----------------------------------------------------------------------------------


def _lock_village(submission: VillageSubmission) -> tuple[Round, VillageSubmission]:
    round = _lock_round(submission.round_id)
    _require_open(round)
    locked = (
        VillageSubmission.objects.select_for_update()
        .select_related("village", "township_submission__township")
        .get(pk=submission.pk)
    )
    return round, locked


def _require_township_open(submission: VillageSubmission) -> None:
    """A village may change only while its township has not gone up to the county."""
    township = submission.township_submission
    if township.state not in (TownshipState.PENDING, TownshipState.RETURNED):
        raise ValidationError(f"乡镇已{township.get_state_display()}，村报送不能再变动。")


@transaction.atomic
def village_submission_submit(
    *, user: User, submission: VillageSubmission, note: str, confirmed: bool
) -> VillageSubmission:
    """Submit the village's ledger as it is now: its snapshot replaces any earlier one."""
    if not confirmed:
        raise ValidationError({"confirmed": "请确认已逐一核对本村每份档案。"})
    round, locked = _lock_village(submission)
    if locked.state not in SUBMITTABLE:
        raise ValidationError(f"本村报送{locked.get_state_display()}，不能重复报送。")
    _require_township_open(locked)
    township = locked.township_submission.township
    locked.files = snapshot_take(round=round, village=locked.village, township=township, user=user)
    locked.counts = snapshot_tally(
        SnapshotRow.objects.filter(round=round, village=locked.village), on=round.reference_date
    )
    locked.state, locked.note, locked.confirmed = VillageState.SUBMITTED, _clean(note)[:500], True
    locked.submitted_at, locked.submitted_by = timezone.now(), user
    _save(locked, user, ["files", "counts", "state", "note", "confirmed", "submitted_at", "submitted_by"])
    _audit(
        user, locked, EventType.UPDATE, "village_submission", change="village_submitted", files=locked.files
    )
    return locked


def _review(locked: VillageSubmission, user: User, state: str, comment: str) -> None:
    locked.state, locked.review_comment = state, comment[:500]
    locked.reviewed_at, locked.reviewed_by = timezone.now(), user
    _save(locked, user, ["state", "review_comment", "reviewed_at", "reviewed_by"])


@transaction.atomic
def village_submission_return(
    *, user: User, submission: VillageSubmission, comment: str
) -> VillageSubmission:
    """Return a submitted (or already approved) village with the township's comments; the
    submitter is told. Its snapshot stays until the village submits again."""
    comment = _required(comment, "comment", "退回意见")
    round, locked = _lock_village(submission)
    if locked.state not in (VillageState.SUBMITTED, VillageState.APPROVED):
        raise ValidationError(f"本村报送{locked.get_state_display()}，不能退回。")
    _require_township_open(locked)
    _review(locked, user, VillageState.RETURNED, comment)
    if locked.submitted_by is not None:
        _tell(
            [locked.submitted_by],
            round,
            kind="submissions.village_returned",
            title=f"{locked.village.name}的报送被退回：{round.title}",
            body=f"退回意见：{comment}",
        )
    _audit(user, locked, EventType.UPDATE, "village_submission", change="village_returned")
    return locked


@transaction.atomic
def village_submission_approve(
    *, user: User, submission: VillageSubmission, comment: str = ""
) -> VillageSubmission:
    _round, locked = _lock_village(submission)
    if locked.state != VillageState.SUBMITTED:
        raise ValidationError(f"本村报送{locked.get_state_display()}，不能审核通过。")
    _require_township_open(locked)
    _review(locked, user, VillageState.APPROVED, _clean(comment))
    _audit(user, locked, EventType.UPDATE, "village_submission", change="village_approved")
    return locked


# --- townships ---------------------------------------------------------------------------------


def _lock_township(submission: TownshipSubmission) -> tuple[Round, TownshipSubmission]:
    round = _lock_round(submission.round_id)
    _require_open(round)
    locked = TownshipSubmission.objects.select_for_update().select_related("township").get(pk=submission.pk)
    return round, locked


@transaction.atomic
def township_submission_submit(
    *, user: User, submission: TownshipSubmission, note: str = ""
) -> TownshipSubmission:
    """Submit the township to the county once every village is approved. The township's
    附件3 table, counted from the villages' snapshots, must pass every identity (R31)."""
    round, locked = _lock_township(submission)
    if locked.state not in (TownshipState.PENDING, TownshipState.RETURNED):
        raise ValidationError(f"本乡镇报送{locked.get_state_display()}，不能重复报送。")
    waiting = locked.villages.exclude(state=VillageState.APPROVED).count()
    if waiting:
        raise ValidationError(f"还有 {waiting} 个村（社区）的报送未审核通过，不能向县报送。")
    counts = snapshot_tally(
        SnapshotRow.objects.filter(round=round, township=locked.township), on=round.reference_date
    )
    problems = table3.check(counts)
    if problems:
        raise ValidationError([CHECK_FAILED, *problems])
    locked.counts, locked.state, locked.note = counts, TownshipState.SUBMITTED, _clean(note)[:500]
    locked.submitted_at, locked.submitted_by = timezone.now(), user
    _save(locked, user, ["counts", "state", "note", "submitted_at", "submitted_by"])
    _tell(
        county_admins(round.county),
        round,
        kind="submissions.township_submitted",
        title=f"{locked.township.name}已报送：{round.title}",
        body=f"{locked.township.name}的各村报送已审核完毕，请县民政局审定。",
    )
    _audit(user, locked, EventType.UPDATE, "township_submission", change="township_submitted")
    return locked


def _township_review(locked: TownshipSubmission, user: User, state: str, comment: str) -> None:
    locked.state, locked.review_comment = state, comment[:500]
    locked.reviewed_at, locked.reviewed_by = timezone.now(), user
    _save(locked, user, ["state", "review_comment", "reviewed_at", "reviewed_by"])


@transaction.atomic
def township_submission_return(
    *, user: User, submission: TownshipSubmission, comment: str
) -> TownshipSubmission:
    """Return a township to its supervisor with the county's comments (while the round is
    open, an approved township may be returned too). Its villages stay approved: the
    supervisor returns the ones that must change."""
    comment = _required(comment, "comment", "退回意见")
    round, locked = _lock_township(submission)
    if locked.state not in (TownshipState.SUBMITTED, TownshipState.APPROVED):
        raise ValidationError(f"本乡镇报送{locked.get_state_display()}，不能退回。")
    _township_review(locked, user, TownshipState.RETURNED, comment)
    if locked.submitted_by is not None:
        _tell(
            [locked.submitted_by],
            round,
            kind="submissions.township_returned",
            title=f"{locked.township.name}的报送被县民政局退回：{round.title}",
            body=f"退回意见：{comment}",
        )
    _audit(user, locked, EventType.UPDATE, "township_submission", change="township_returned")
    return locked


@transaction.atomic
def township_submission_approve(
    *, user: User, submission: TownshipSubmission, comment: str = ""
) -> TownshipSubmission:
    """Approve a township; the last one approved approves and freezes the round."""
    round, locked = _lock_township(submission)
    if locked.state != TownshipState.SUBMITTED:
        raise ValidationError(f"本乡镇报送{locked.get_state_display()}，不能审定。")
    _township_review(locked, user, TownshipState.APPROVED, _clean(comment))
    _audit(user, locked, EventType.UPDATE, "township_submission", change="township_approved")
    if not round.townships.exclude(state=TownshipState.APPROVED).exists():
        _round_approve(round, user)
    return locked


def _round_approve(round: Round, user: User) -> None:
    """Freeze the round: the county's counts are the sum of the townships' as submitted."""
    rows = list(round.townships.values_list("counts", flat=True))
    round.counts = [sum(counts[i] for counts in rows) for i in range(table3.WIDTH)]
    round.state, round.approved_at, round.approved_by = RoundState.APPROVED, timezone.now(), user
    _save(round, user, ["counts", "state", "approved_at", "approved_by"])
    _audit(user, round, EventType.UPDATE, "submission_round", change="round_approved")
