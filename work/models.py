"""Life-event proposals (年满16周岁、父母返乡) and the reminder digests of the nightly job.

A proposal is made by the nightly job and decided by a worker: confirming exits the file
through registry.services.child_file_exit (never a delete), dismissing keeps it with the
reason. One open proposal per child and kind; a decided proposal stops the job from
proposing the same again until the file changes (its version moves on).
"""

import uuid

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.fields import EncryptedCharField
from registry import choices as c
from registry.models import Child


class ProposalKind(models.TextChoices):
    AGED_OUT = "aged_out", "年满16周岁"
    AGED_18 = "aged_18", "年满18周岁（困境儿童、事实无人抚养儿童）"
    PARENTS_RETURNED = "parents_returned", "父母返乡"


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", "待确认"
    CONFIRMED = "confirmed", "已确认退出"
    DISMISSED = "dismissed", "已驳回"


# The exit reason a confirmed proposal writes on the file.
EXIT_REASON = {
    ProposalKind.AGED_OUT: c.ExitReason.AGED_OUT,
    ProposalKind.AGED_18: c.ExitReason.AGED_18,
    ProposalKind.PARENTS_RETURNED: c.ExitReason.PARENTS_RETURNED,
}


class LifeEventProposal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="life_event_proposals")
    kind = models.CharField("事项", max_length=24, choices=ProposalKind.choices)
    proposed_on = models.DateField("提出日期")
    # The file's version when proposed: a decided proposal blocks the same proposal only
    # while the file is unchanged.
    child_version = models.PositiveIntegerField("档案版本")
    # Codes of the facts behind the proposal (e.g. "father_at_home"), never free text.
    facts = models.JSONField("依据", default=list, blank=True)
    state = models.CharField(
        "状态", max_length=16, choices=ProposalState.choices, default=ProposalState.PROPOSED
    )
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="处理人"
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    # A dismissal's reason can say why a birth date or a parent's status is wrong: encrypted.
    note = EncryptedCharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "退出建议"
        verbose_name_plural = verbose_name
        ordering = ["proposed_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child", "kind"],
                condition=Q(state="proposed"),
                name="proposal_one_open_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(state="proposed") | Q(decided_at__isnull=False),
                name="proposal_decided_has_time",
            ),
        ]
        indexes = [models.Index(fields=["state", "child"], name="proposal_state_child")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.child_id}"

    @property
    def is_open(self) -> bool:
        return self.state == ProposalState.PROPOSED

    @property
    def exit_reason(self) -> str:
        return str(EXIT_REASON[ProposalKind(self.kind)])


class ReminderDigest(models.Model):
    """One reminder digest per worker and date: re-running the nightly job sends none twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    on = models.DateField("日期")
    counts = models.JSONField("数量", default=dict)
    sent_at = models.DateTimeField("发送时间", auto_now_add=True)

    class Meta:
        verbose_name = "工作提醒"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["user", "on"], name="digest_one_per_user_day")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.on}"
