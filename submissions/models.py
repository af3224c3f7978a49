"""Tiered review and submission (审核报送, R25; issue 6 item 4).

A reporting round (`Round`: 月报, 季报 or 摸底排查) covers one county and has a reference date
(R2: ages are computed at it). Each village of the county has a `VillageSubmission`, each
township with villages a `TownshipSubmission`. The village submits its ledger as it is (a
snapshot, `SnapshotRow`); the township reviews the villages (returns with comments or
approves) and, once all are approved, submits the township to the county with its 附件3 table,
which must pass every identity (勾稽关系, R31); the county returns or approves each township;
when every township is approved the round is approved (已审定) and frozen.

The snapshot points at the django-simple-history rows of the child, the parents and the
entrusted guardian as they were at the village's submission: later edits of the files add
new history rows and never change what the round holds. Who sees and does what is in
submissions/access.py; every transition is a service in submissions/services.py.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import User
from geo.models import Region
from registry.models import Child, EntrustedGuardian, Parent


class RoundKind(models.TextChoices):
    MONTHLY = "monthly", "月报"
    QUARTERLY = "quarterly", "季报"
    CENSUS = "census", "摸底排查"


class RoundState(models.TextChoices):
    OPEN = "open", "进行中"
    APPROVED = "approved", "已审定"
    CANCELLED = "cancelled", "已撤销"


class VillageState(models.TextChoices):
    PENDING = "pending", "未报送"
    SUBMITTED = "submitted", "已报送"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "乡镇已审核"


class TownshipState(models.TextChoices):
    PENDING = "pending", "未报送"
    SUBMITTED = "submitted", "已报送"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "县级已审定"


# Where a submission may be (re)submitted from.
SUBMITTABLE = (VillageState.PENDING, VillageState.RETURNED)


class Round(models.Model):
    """One reporting round of a county, opened by the county admin."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField("报送类型", max_length=16, choices=RoundKind.choices)
    title = models.CharField("报送名称", max_length=100)
    reference_date = models.DateField("统计基准日", help_text="年龄按此日计算（R2）。")
    county = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="县（市、区）"
    )
    due_date = models.DateField("报送截止日期")
    state = models.CharField("状态", max_length=16, choices=RoundState.choices, default=RoundState.OPEN)
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="发起人")
    opened_at = models.DateTimeField("发起时间", default=timezone.now)
    approved_at = models.DateTimeField("审定时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="审定人"
    )
    cancelled_at = models.DateTimeField("撤销时间", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="撤销人"
    )
    cancel_reason = models.CharField("撤销原因", max_length=500, blank=True)
    # The county's 附件3 counts (32 ints, column 1 first), written when the round is approved.
    counts = models.JSONField("附件3统计数", default=list, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "报送轮次"
        verbose_name_plural = verbose_name
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["county", "-opened_at"], name="round_county_opened")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="approved") | Q(approved_at__isnull=False), name="round_approved_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(state="cancelled") | Q(cancelled_at__isnull=False),
                name="round_cancelled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state == RoundState.OPEN


class TownshipSubmission(models.Model):
    """A township's part of a round: its supervisor's submission to the county."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="townships", verbose_name="轮次")
    township = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="乡镇（街道）"
    )
    state = models.CharField(
        "状态", max_length=16, choices=TownshipState.choices, default=TownshipState.PENDING
    )
    note = models.CharField("报送说明", max_length=500, blank=True)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="报送人"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="审核人"
    )
    review_comment = models.CharField("审核意见", max_length=500, blank=True)
    # The township's 附件3 counts as submitted (32 ints), checked against every identity.
    counts = models.JSONField("附件3统计数", default=list, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "乡镇报送"
        verbose_name_plural = verbose_name
        ordering = ["township__code"]
        constraints = [models.UniqueConstraint(fields=["round", "township"], name="township_submission_once")]

    def __str__(self) -> str:
        return f"{self.round} · {self.township}"


class VillageSubmission(models.Model):
    """A village's part of a round: its ledger submitted to the township."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="villages", verbose_name="轮次")
    township_submission = models.ForeignKey(
        TownshipSubmission, on_delete=models.CASCADE, related_name="villages", verbose_name="乡镇报送"
    )
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="村（社区）")
    state = models.CharField(
        "状态", max_length=16, choices=VillageState.choices, default=VillageState.PENDING
    )
    note = models.CharField("报送说明", max_length=500, blank=True)
    confirmed = models.BooleanField("已逐一核对每份档案", default=False)
    submitted_at = models.DateTimeField("报送时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="报送人"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="审核人"
    )
    review_comment = models.CharField("审核意见", max_length=500, blank=True)
    files = models.PositiveIntegerField("在册档案数", default=0)
    # The village's 附件3 counts as submitted (32 ints).
    counts = models.JSONField("附件3统计数", default=list, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "村报送"
        verbose_name_plural = verbose_name
        ordering = ["village__code"]
        constraints = [models.UniqueConstraint(fields=["round", "village"], name="village_submission_once")]

    def __str__(self) -> str:
        return f"{self.round} · {self.village}"


class SnapshotRow(models.Model):
    """One active file of a village as it was submitted in a round: the history rows of the
    child and its family at that moment, and the 附件3 facts (no personal data). Replaced
    only by the village's resubmission after a return; never changed once approved."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="snapshot", verbose_name="轮次")
    village = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="村（社区）")
    township = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="乡镇（街道）"
    )
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="+", verbose_name="儿童档案")
    child_history = models.ForeignKey(
        Child.history.model,  # type: ignore[attr-defined]
        on_delete=models.PROTECT,
        related_name="+",
    )
    father_history = models.ForeignKey(
        Parent.history.model,  # type: ignore[attr-defined]
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    mother_history = models.ForeignKey(
        Parent.history.model,  # type: ignore[attr-defined]
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    guardian_history = models.ForeignKey(
        EntrustedGuardian.history.model,  # type: ignore[attr-defined]
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    # Counted in 附件3: a left-behind child on the round's reference date (R1, R2).
    left_behind = models.BooleanField("农村留守儿童（基准日）", default=False)
    facts = models.JSONField("附件3事实")

    class Meta:
        verbose_name = "报送快照"
        verbose_name_plural = verbose_name
        indexes = [
            models.Index(fields=["round", "village"], name="snapshot_round_village"),
            models.Index(fields=["round", "township"], name="snapshot_round_township"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id} · {self.child_id}"
