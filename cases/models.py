"""Assessment and assistance (评估帮扶, R20; issue 5 items 4 and 9).

After the police notify the township (reports.Report in state township_notified), the township
opens one Case per report. It assesses the child (Assessment: safety, guardianship, physical and
mental health, an overall risk and the family's social-assistance status), writes a plan of
measures (Measure), each with a responsible unit, a due date and a status, and schedules
follow-up visits (FollowUp, 回访). A measure given to a unit other than the case's own township
government or county civil affairs is a referral (转介): that unit accepts or declines it.

Case states: assessing 评估中 → assisting 帮扶中 (on the first assessment) → closing 待审批结案
(a reasoned request) → closed 已结案 (approved by another county admin or named supervisor);
a rejected request goes back to assisting, and only an explicit reopen (with a reason) takes a
closed case back to assisting. Every state change is a CaseTransition row (who, when, why) and
a history row. Writes go through cases/services.py; reads through cases/access.py.

Rating scale of the four assessed aspects (our choice, the sources name no scale):
良好 good / 有隐患 concern / 严重 serious. Overall risk: 高 / 中 / 低.
"""

import uuid

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.fields import EncryptedCharField, EncryptedTextField
from geo.models import Region, Unit
from registry.models import Child
from reports.models import Report


class CaseState(models.TextChoices):
    ASSESSING = "assessing", "评估中"
    ASSISTING = "assisting", "帮扶中"
    CLOSING = "closing", "待审批结案"
    CLOSED = "closed", "已结案"


# States in which the plan may change (assessments, measures, follow-ups).
EDITABLE_STATES = frozenset({CaseState.ASSESSING, CaseState.ASSISTING})


class Risk(models.TextChoices):
    HIGH = "high", "高"
    MEDIUM = "medium", "中"
    LOW = "low", "低"


class Case(models.Model):
    """The assessment-and-assistance case that follows one mandatory report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.OneToOneField(
        Report, on_delete=models.PROTECT, related_name="case", verbose_name="强制报告"
    )
    # The report's child; empty while the report names a child without a file. The services
    # copy it from the report whenever they write the case (the report is the source).
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name="儿童"
    )
    township = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="乡镇")
    state = models.CharField("状态", max_length=16, choices=CaseState.choices, default=CaseState.ASSESSING)
    # The overall risk of the latest assessment (blank before the first one).
    risk = models.CharField("风险等级", max_length=8, choices=Risk.choices, blank=True)
    opened_at = models.DateTimeField("立案时间")
    opened_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="立案人")
    close_reason = EncryptedCharField("结案理由", max_length=500, blank=True)
    close_requested_at = models.DateTimeField("申请结案时间", null=True, blank=True)
    close_requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="申请结案人"
    )
    closed_at = models.DateTimeField("结案时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="批准结案人"
    )
    version = models.PositiveIntegerField("版本", default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "评估帮扶个案"
        verbose_name_plural = verbose_name
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["township", "state"], name="case_township_state"),
            models.Index(fields=["child", "opened_at"], name="case_child_opened"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="closed") | Q(closed_at__isnull=False), name="case_closed_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(state="closing") | Q(close_requested_by__isnull=False),
                name="case_closing_has_requester",
            ),
        ]

    def __str__(self) -> str:
        return f"评估帮扶个案（{self.get_state_display()}）"

    @property
    def editable(self) -> bool:
        return self.state in EDITABLE_STATES


class TransitionKind(models.TextChoices):
    OPEN = "open", "立案"
    ASSESS = "assess", "完成首次评估，进入帮扶"
    CLOSE_REQUEST = "close_request", "申请结案"
    CLOSE_APPROVE = "close_approve", "批准结案"
    CLOSE_REJECT = "close_reject", "退回结案申请"
    REOPEN = "reopen", "重新启用个案"


class CaseTransition(models.Model):
    """One change of a case's state, with who, when and why (insert-only)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transitions")
    kind = models.CharField("事项", max_length=16, choices=TransitionKind.choices)
    from_state = models.CharField("原状态", max_length=16, choices=CaseState.choices, blank=True)
    to_state = models.CharField("新状态", max_length=16, choices=CaseState.choices)
    at = models.DateTimeField("时间")
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="操作人")
    reason = EncryptedCharField("理由", max_length=500, blank=True)

    class Meta:
        verbose_name = "个案状态变更"
        verbose_name_plural = verbose_name
        ordering = ["at"]
        indexes = [models.Index(fields=["case", "at"], name="transition_case_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class Rating(models.TextChoices):
    GOOD = "good", "良好"
    CONCERN = "concern", "有隐患"
    SERIOUS = "serious", "严重"


class AssistanceStatus(models.TextChoices):
    """The family's standing for one kind of social assistance (R20: check it)."""

    RECEIVING = "receiving", "已享受"
    ELIGIBLE = "eligible", "可申请"
    APPLIED = "applied", "已申请"
    NOT_ELIGIBLE = "not_eligible", "不符合"


class Participant(models.TextChoices):
    """Who took part in the assessment (R20: the township with civil affairs and the police;
    the village, school, medical institutions and social workers assist)."""

    TOWNSHIP = "township", "乡镇人民政府"
    CIVIL_AFFAIRS = "civil_affairs", "民政"
    POLICE = "police", "公安"
    VILLAGE = "village", "村（居）委会"
    SCHOOL = "school", "学校"
    MEDICAL = "medical", "医疗机构"
    SOCIAL_WORK = "social_work", "社会工作者"
    RELATIVES = "relatives", "亲属"


class Assessment(models.Model):
    """One assessment of the child. Several over time; the latest (by assessed_on, then by
    when it was recorded) gives the case its risk."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assessments")
    assessed_on = models.DateField("评估日期")
    participants = models.JSONField("参与评估单位", default=list)
    safety = models.CharField("人身安全", max_length=8, choices=Rating.choices)
    guardianship = models.CharField("监护情况", max_length=8, choices=Rating.choices)
    physical_health = models.CharField("身体健康", max_length=8, choices=Rating.choices)
    mental_health = models.CharField("心理健康", max_length=8, choices=Rating.choices)
    risk = models.CharField("综合风险等级", max_length=8, choices=Risk.choices)
    dibao_status = models.CharField("低保", max_length=16, choices=AssistanceStatus.choices)
    tekun_status = models.CharField("特困供养", max_length=16, choices=AssistanceStatus.choices)
    temporary_relief_status = models.CharField("临时救助", max_length=16, choices=AssistanceStatus.choices)
    notes = EncryptedTextField("评估意见", max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name="评估录入人"
    )
    recorded_at = models.DateTimeField("录入时间")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "评估"
        verbose_name_plural = verbose_name
        ordering = ["-assessed_on", "-recorded_at"]

    def __str__(self) -> str:
        return f"评估 {self.assessed_on:%Y-%m-%d}（风险{self.get_risk_display()}）"

    @property
    def participant_labels(self) -> str:
        labels = dict(Participant.choices)
        return "、".join(str(labels.get(code, code)) for code in self.participants)


class MeasureKind(models.TextChoices):
    GUARDIANSHIP_GUIDANCE = "guardianship_guidance", "监护指导"
    MEDICAL = "medical", "医疗救治"
    COUNSELLING = "counselling", "心理疏导"
    BEHAVIOUR = "behaviour", "行为矫治"
    SOCIAL_INTEGRATION = "social_integration", "社会融入"
    FAMILY_RELATIONS = "family_relations", "家庭关系调适"
    LEGAL = "legal", "法律服务、法律援助"
    DIBAO = "dibao", "社会救助：低保"
    TEKUN = "tekun", "社会救助：特困供养"
    TEMPORARY_RELIEF = "temporary_relief", "社会救助：临时救助"
    HUKOU = "hukou", "户籍登记"
    RETURN_TO_SCHOOL = "return_to_school", "复学"


class MeasureStatus(models.TextChoices):
    REFERRED = "referred", "已转介，待对方答复"
    ACCEPTED = "accepted", "已承接"
    IN_PROGRESS = "in_progress", "实施中"
    DONE = "done", "已完成"
    DECLINED = "declined", "对方未承接"
    CANCELLED = "cancelled", "已撤销"


# A measure still to be carried out: it blocks closing the case and may become overdue.
OPEN_MEASURE_STATES = frozenset({MeasureStatus.REFERRED, MeasureStatus.ACCEPTED, MeasureStatus.IN_PROGRESS})


class Measure(models.Model):
    """One measure of the assistance plan, with the unit responsible for it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="measures")
    kind = models.CharField("帮扶措施", max_length=24, choices=MeasureKind.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="责任单位")
    due_on = models.DateField("完成期限")
    # What is asked of the unit: shown on the referral page, so it says what the unit needs.
    note = EncryptedTextField("具体内容和要求", max_length=1000, blank=True)
    status = models.CharField("状态", max_length=16, choices=MeasureStatus.choices)
    # Set once, when the measure is made: True when the unit is not the case's own township
    # government or county civil affairs, so the unit must accept it first.
    is_referral = models.BooleanField("转介", default=False)
    assigned_at = models.DateTimeField("安排时间")
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="安排人")
    responded_at = models.DateTimeField("答复时间", null=True, blank=True)
    responded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="答复人"
    )
    decline_reason = models.CharField("未承接原因", max_length=200, blank=True)
    progress_note = EncryptedCharField("进展说明", max_length=500, blank=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    completed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="完成确认人"
    )
    cancelled_at = models.DateTimeField("撤销时间", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="撤销人"
    )
    cancel_reason = models.CharField("撤销原因", max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "帮扶措施"
        verbose_name_plural = verbose_name
        ordering = ["due_on", "assigned_at"]
        indexes = [
            models.Index(fields=["unit", "status"], name="measure_unit_status"),
            models.Index(fields=["case", "status"], name="measure_case_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""), name="measure_declined_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""), name="measure_cancelled_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.get_status_display()}）"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_MEASURE_STATES


class FollowUp(models.Model):
    """A follow-up visit (回访) due by a date, assigned to one person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="follow_ups")
    due_on = models.DateField("回访期限")
    assigned_to = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="case_follow_ups", verbose_name="回访人"
    )
    scheduled_at = models.DateTimeField("安排时间")
    scheduled_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="安排人")
    done_on = models.DateField("回访日期", null=True, blank=True)
    done_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="记录人"
    )
    done_at = models.DateTimeField("记录时间", null=True, blank=True)
    note = EncryptedTextField("回访情况", max_length=1000, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "回访"
        verbose_name_plural = verbose_name
        ordering = ["due_on", "scheduled_at"]
        indexes = [models.Index(fields=["assigned_to", "done_on", "due_on"], name="followup_assignee_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_on__isnull=True) | Q(done_by__isnull=False),
                name="followup_done_has_recorder",
            )
        ]

    def __str__(self) -> str:
        return f"回访 {self.due_on:%Y-%m-%d}"
