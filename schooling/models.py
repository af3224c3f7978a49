"""控辍保学 (R14) and 户口登记 (R23): dropout cases with their persuasion attempts, and the
police's registration tasks for children without hukou.

A DropoutCase follows one pupil from the school's report (无故缺课 or 辍学) through the
persuasion attempts (劝返) and, when they fail, the school's written report to the county
education bureau and the township (escalated), to the outcome: back at school (returned) or
not (not_returned, with the reason). One case per child is open at a time. The child file's
`schooling` follows the case through registry.services (schooling.services), never here.

A HukouTask asks the police station serving the child's township to register a child whose
file says 未登记户口; its completion date sets the file's hukou_registered.
"""

import uuid

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.fields import EncryptedCharField, EncryptedTextField
from geo.models import Unit, UnitKind
from registry import choices as rc
from registry.models import Child

SCHOOL_KINDS = (UnitKind.SCHOOL, UnitKind.KINDERGARTEN)


class CaseKind(models.TextChoices):
    ABSENCE = "absence", "无故缺课"
    DROPOUT = "dropout", "辍学"


class CaseState(models.TextChoices):
    OPEN = "open", "劝返中"
    ESCALATED = "escalated", "书面报告已报县教育局和乡镇"
    RETURNED = "returned", "已复学"
    NOT_RETURNED = "not_returned", "未复学"


OPEN_STATES = (CaseState.OPEN, CaseState.ESCALATED)


class DropoutCase(models.Model):
    """A pupil's unexplained absence or dropout, reported by the school (R14)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, related_name="dropout_cases", verbose_name="儿童"
    )
    school = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind__in": SCHOOL_KINDS},
        verbose_name="学校",
    )
    kind = models.CharField("类型", max_length=16, choices=CaseKind.choices)
    first_missed_on = models.DateField("开始缺课日期")
    reported_on = models.DateField("报告日期")
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="报告人")
    reason = EncryptedTextField("已了解的原因和情况", max_length=500, blank=True)
    # The file's schooling when the case was opened: what "returned" offers back.
    schooling_before = models.CharField(
        "报告时的就学情况", max_length=32, choices=rc.Schooling.choices, blank=True
    )
    state = models.CharField("状态", max_length=16, choices=CaseState.choices, default=CaseState.OPEN)
    escalated_at = models.DateTimeField("书面报告时间", null=True, blank=True)
    escalated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="报告人（书面）"
    )
    returned_on = models.DateField("复学日期", null=True, blank=True)
    outcome_reason = EncryptedTextField("未复学原因", max_length=500, blank=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="结案人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "控辍保学个案"
        verbose_name_plural = verbose_name
        ordering = ["-reported_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(state__in=["open", "escalated"]),
                name="dropout_one_open_case_per_child",
            ),
            models.CheckConstraint(
                condition=~Q(state="returned") | Q(returned_on__isnull=False),
                name="dropout_returned_has_date",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "returned"]) | Q(escalated_at__isnull=False),
                name="dropout_escalated_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "reported_on"], name="dropout_state_reported"),
            models.Index(fields=["child", "state"], name="dropout_child_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.reported_on:%Y-%m-%d}）"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AttemptMethod(models.TextChoices):
    HOME_VISIT = "home_visit", "上门"
    PHONE = "phone", "电话"
    MEETING = "meeting", "约谈"


class AttemptOutcome(models.TextChoices):
    AGREED = "agreed", "同意返校"
    REFUSED = "refused", "拒绝"
    UNREACHABLE = "unreachable", "未见到"


# The attempts that count towards the written report (R14: "if that fails").
FAILED_OUTCOMES = (AttemptOutcome.REFUSED, AttemptOutcome.UNREACHABLE)


class PersuasionAttempt(models.Model):
    """One attempt to persuade the child and the family to return to school (劝返)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(
        DropoutCase, on_delete=models.PROTECT, related_name="attempts", verbose_name="个案"
    )
    attempted_on = models.DateField("劝返日期")
    attempted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="录入人")
    participants = models.CharField("参与人员", max_length=100, help_text="如：班主任、村儿童主任、驻村干部")
    method = models.CharField("劝返方式", max_length=16, choices=AttemptMethod.choices)
    outcome = models.CharField("结果", max_length=16, choices=AttemptOutcome.choices)
    note = EncryptedTextField("情况记录", max_length=500, blank=True)
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "劝返记录"
        verbose_name_plural = verbose_name
        ordering = ["attempted_on", "recorded_at"]
        indexes = [models.Index(fields=["case", "outcome"], name="attempt_case_outcome")]

    def __str__(self) -> str:
        return f"{self.attempted_on:%Y-%m-%d} {self.get_method_display()}：{self.get_outcome_display()}"

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES


class HukouTask(models.Model):
    """The police's task to register a child without hukou (R23), with its completion date."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, related_name="hukou_tasks", verbose_name="儿童"
    )
    police_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": UnitKind.POLICE_STATION},
        verbose_name="派出所",
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="生成人")
    due_on = models.DateField("办理期限")
    registered_on = models.DateField("登记日期", null=True, blank=True)
    registered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="登记人"
    )
    note = EncryptedCharField("备注", max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "户口登记任务"
        verbose_name_plural = verbose_name
        ordering = ["due_on", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(registered_on__isnull=True),
                name="hukou_one_open_task_per_child",
            ),
            models.CheckConstraint(
                condition=Q(registered_on__isnull=True) | Q(registered_by__isnull=False),
                name="hukou_registered_has_user",
            ),
        ]
        indexes = [models.Index(fields=["police_unit", "due_on"], name="hukou_unit_due")]

    def __str__(self) -> str:
        return f"户口登记（期限 {self.due_on:%Y-%m-%d}）"

    @property
    def is_open(self) -> bool:
        return self.registered_on is None
