"""Supervised tasks (督办, R24, R26, R28): a task of the county plan with a lead unit (牵头单位),
participating units (参加单位), a deadline and progress reports, followed up by the county.

Task templates hold the plan's standing tasks (R28) as the county admin edits them; a task
copies what it needs from its template when it is created and never changes with it. A task
is overdue (逾期) while it is open after its deadline: computed (tasks.selectors), not stored.
Who sees and does what is in tasks/access.py.
"""

import uuid

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import User
from geo.models import Region, Unit, UnitKind


class TaskTemplate(models.Model):
    """A standing task of the county plan (R28), editable by the county admin. The lead and
    participants are the plan's wording; the kinds only prefill the new task's units."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("任务名称", max_length=100)
    plan_section = models.CharField("方案条目", max_length=40, blank=True)
    lead_kind = models.CharField("牵头单位类型", max_length=32, choices=UnitKind.choices, blank=True)
    lead_name = models.CharField("牵头单位（方案表述）", max_length=100, blank=True)
    participant_kinds = models.JSONField("参加单位类型", default=list, blank=True)
    participants = models.CharField("参加单位（方案表述）", max_length=300, blank=True)
    description = models.TextField("默认任务要求", max_length=2000, blank=True)
    note = models.TextField("备注", max_length=1000, blank=True)
    position = models.PositiveSmallIntegerField("排序", default=0)
    active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("修改时间", default=timezone.now)
    updated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="修改人"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "督办任务模板"
        verbose_name_plural = verbose_name
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="task_template_name_unique")]

    def __str__(self) -> str:
        return self.name


class TaskState(models.TextChoices):
    OPEN = "open", "进行中"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已撤销"


class Task(models.Model):
    """One supervised task of a county. The county admin creates, edits, confirms and cancels
    it; the lead unit proposes it done (申报完成); lead and participants report progress."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    county = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="县（市、区）"
    )
    title = models.CharField("任务名称", max_length=100)
    description = models.TextField("任务要求", max_length=4000, blank=True)
    plan_section = models.CharField("方案条目", max_length=40, blank=True)
    lead_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="led_tasks", verbose_name="牵头单位"
    )
    participants = models.ManyToManyField(
        Unit,
        through="TaskParticipant",
        related_name="participating_tasks",
        blank=True,
        verbose_name="参加单位",
    )
    deadline = models.DateField("完成时限")
    state = models.CharField("状态", max_length=16, choices=TaskState.choices, default=TaskState.OPEN)
    template = models.ForeignKey(
        TaskTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name="来源模板",
    )
    # Bumped by every edit and transition: a form loaded before another user's change is refused.
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="建立人"
    )
    created_at = models.DateTimeField("建立时间", default=timezone.now, editable=False)
    # The lead unit's 申报完成, waiting for the county admin (confirm, or return with a reason).
    done_proposed_at = models.DateTimeField("申报完成时间", null=True, blank=True)
    done_proposed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="申报人"
    )
    done_proposal_note = models.CharField("完成情况说明", max_length=500, blank=True)
    # Why the county admin returned the last 申报 (退回); cleared by the next 申报.
    return_reason = models.CharField("退回原因", max_length=500, blank=True)
    completed_at = models.DateTimeField("完成确认时间", null=True, blank=True)
    completed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="确认人"
    )
    completion_note = models.CharField("确认意见", max_length=500, blank=True)
    cancelled_at = models.DateTimeField("撤销时间", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="撤销人"
    )
    cancel_reason = models.CharField("撤销原因", max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "督办任务"
        verbose_name_plural = verbose_name
        ordering = ["deadline", "created_at"]
        indexes = [
            models.Index(fields=["county", "state", "deadline"], name="task_county_state_deadline"),
            models.Index(fields=["lead_unit", "state"], name="task_lead_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="done", completed_at__isnull=False) | ~Q(state="done"),
                name="task_done_has_time",
            ),
            models.CheckConstraint(
                condition=Q(state="cancelled", cancelled_at__isnull=False) | ~Q(state="cancelled"),
                name="task_cancelled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TaskParticipant(models.Model):
    """A participating unit of a task. Removing one deletes the row; its history keeps who
    added and who removed it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="participations")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="参加单位")
    added_at = models.DateTimeField("加入时间", default=timezone.now)
    added_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="添加人"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参加单位"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["task", "unit"], name="task_participant_unique")]

    def __str__(self) -> str:
        return f"{self.task} · {self.unit}"


class TaskProgress(models.Model):
    """A progress report (进展报送) by one of the task's units. Never edited or deleted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="progress", verbose_name="任务")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="报送单位")
    reported_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="报送人"
    )
    reported_at = models.DateTimeField("报送时间", default=timezone.now)
    text = models.TextField("工作进展", max_length=2000)
    percent = models.PositiveSmallIntegerField(
        "完成进度（%）", null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    # From a hidden field of the form: a double tap or a retry sends the same key (one report).
    submission_key = models.UUIDField("提交标识", unique=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "任务进展"
        verbose_name_plural = verbose_name
        ordering = ["-reported_at"]
        indexes = [models.Index(fields=["task", "-reported_at"], name="task_progress_task_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__lte=100), name="task_progress_percent_max"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.unit} · {self.reported_at:%Y-%m-%d}"


class TaskOverdueNotice(models.Model):
    """The county admins were told on `on` that the task is overdue for `deadline`: the
    nightly notice is sent once per task and date, and once per deadline (a new deadline
    that passes is told again)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="overdue_notices")
    on = models.DateField("通知日期")
    deadline = models.DateField("逾期的完成时限")
    recipients = models.PositiveIntegerField("通知人数", default=0)
    sent_at = models.DateTimeField("发送时间", default=timezone.now)

    class Meta:
        verbose_name = "逾期通知"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["task", "on"], name="task_overdue_notice_once_a_day"),
            models.UniqueConstraint(fields=["task", "deadline"], name="task_overdue_notice_once_a_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.task} 逾期 {self.on:%Y-%m-%d}"
