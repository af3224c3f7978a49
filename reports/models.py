"""Mandatory reports (强制报告, R17/R18) and the police's emergency response (应急处置, R19).

A report is routed at once to the police station that serves the child's township
(geo.Unit.serves, the jurisdiction map), or to the county police bureau when no station serves
it; it must be acknowledged (受理); an unacknowledged report escalates (ReportEscalation). The
police record attendance, their actions (ResponseAction) and any temporary care (Placement),
then notify the township, which opens the case (cases app).

Confidential (SECURITY.md AC-5): details are read only through reports/access.py.
"""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.fields import EncryptedCharField, EncryptedTextField
from geo.models import Region, Unit
from registry.models import Child
from reports.triggers import BY_CODE, Trigger


class ReportState(models.TextChoices):
    ROUTED = "routed", "已报告，待受理"
    ACKNOWLEDGED = "acknowledged", "已受理"
    ATTENDED = "attended", "已出警处置"
    TOWNSHIP_NOTIFIED = "township_notified", "已通报乡镇"


class UnknownSex(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"
    UNKNOWN = "unknown", "不详"


class Report(models.Model):
    """One mandatory report. The child is an existing file or, when unknown, a minimal record
    (name as heard, sex, approximate age) that a worker links to a file later."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, null=True, blank=True, related_name="reports", verbose_name="儿童"
    )
    unknown_name = EncryptedCharField("儿童姓名（未建档）", max_length=32, blank=True)
    unknown_sex = models.CharField("性别（未建档）", max_length=8, choices=UnknownSex.choices, blank=True)
    unknown_age = models.PositiveSmallIntegerField("大约年龄（未建档）", null=True, blank=True)
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="县")
    township = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="乡镇")
    triggers = models.JSONField("发现的情形", default=list)
    found_at = models.DateTimeField("发现时间")
    found_place = EncryptedCharField("发现地点", max_length=128)
    description = EncryptedTextField("情况描述", max_length=2000)
    reporter = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="报告人")
    reporter_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name="报告单位"
    )
    reporter_role = models.CharField("报告人身份", max_length=32)
    reported_at = models.DateTimeField("报告时间")
    routed_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="routed_reports", verbose_name="受理单位"
    )
    routed_at = models.DateTimeField("送达受理单位时间")
    state = models.CharField("状态", max_length=24, choices=ReportState.choices, default=ReportState.ROUTED)
    acknowledged_at = models.DateTimeField("受理时间", null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="受理人"
    )
    attended_at = models.DateTimeField("到场时间", null=True, blank=True)
    attended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="出警人"
    )
    township_notified_at = models.DateTimeField("通报乡镇时间", null=True, blank=True)
    township_notified_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="通报人"
    )
    escalation_level = models.PositiveSmallIntegerField("已升级次数", default=0)
    # What the reporter is told (WBF 11: the receiving department tells the reporter the result).
    feedback = models.CharField("给报告人的反馈", max_length=200, blank=True)
    feedback_at = models.DateTimeField("反馈时间", null=True, blank=True)
    feedback_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="反馈人"
    )
    submission_key = models.UUIDField("提交标识", unique=True, editable=False)
    version = models.PositiveIntegerField("版本", default=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "强制报告"
        verbose_name_plural = verbose_name
        ordering = ["-reported_at"]
        indexes = [
            models.Index(fields=["routed_unit", "state"], name="report_unit_state"),
            models.Index(fields=["state", "routed_at"], name="report_state_routed"),
            models.Index(fields=["county", "reported_at"], name="report_county_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(child__isnull=False) | ~Q(unknown_name=""),
                name="report_has_a_child",
                violation_error_message="请选择儿童档案，或填写未建档儿童的姓名。",
            ),
        ]

    def __str__(self) -> str:
        return f"强制报告 {self.reported_at:%Y-%m-%d %H:%M}"

    @property
    def child_label(self) -> str:
        return self.child.name if self.child_id and self.child else f"{self.unknown_name}（未建档）"

    @property
    def escalated(self) -> bool:
        return self.escalation_level > 0

    @property
    def trigger_list(self) -> list["Trigger"]:
        """The triggers as filed, each with its label and sources (unknown codes are kept
        visible rather than dropped)."""
        return [BY_CODE.get(code) or Trigger(code, code, ()) for code in self.triggers]


class ReportRouting(models.Model):
    """Each time a report is sent to a unit: the first routing and every re-routing. Only the
    report's current routed_unit reads it (reports/access.py); these rows are its timeline."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="routings")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="受理单位")
    routed_at = models.DateTimeField("送达时间")
    routed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="改派人"
    )
    reason = models.CharField("改派原因", max_length=120, blank=True)

    class Meta:
        verbose_name = "报告送达记录"
        verbose_name_plural = verbose_name
        ordering = ["routed_at"]

    def __str__(self) -> str:
        return f"送达 {self.unit} {self.routed_at:%Y-%m-%d %H:%M}"


class ReportEscalation(models.Model):
    """An unacknowledged report escalated: level 1 after ProtectionPolicy.escalate_after_minutes,
    level 2 after escalate_again_minutes. One row per report and level (idempotent)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="escalations")
    level = models.PositiveSmallIntegerField("升级级别")
    escalated_at = models.DateTimeField("升级时间")
    notified = models.JSONField("已通知", default=list, blank=True)  # unit names, not usernames

    class Meta:
        verbose_name = "超时升级"
        verbose_name_plural = verbose_name
        ordering = ["escalated_at"]
        constraints = [models.UniqueConstraint(fields=["report", "level"], name="escalation_once_per_level")]

    def __str__(self) -> str:
        return f"第 {self.level} 次升级 {self.escalated_at:%Y-%m-%d %H:%M}"


class MemberKind(models.TextChoices):
    SUPERVISOR = "supervisor", "督导人员"
    SOCIAL_WORKER = "social_worker", "承办社会工作者"


class ReportMember(models.Model):
    """A person named on a report, who may read it: a supervisor (township supervisors of the
    child's township are named at routing; the county admin names others) or the assigned social
    worker. Ending the membership ends the access at once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="report_memberships")
    kind = models.CharField("身份", max_length=16, choices=MemberKind.choices)
    active = models.BooleanField("有效", default=True)
    named_at = models.DateTimeField("指定时间")
    named_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="指定人"
    )
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "报告知悉人员"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["report", "user", "kind"], condition=Q(active=True), name="member_once_active"
            )
        ]
        indexes = [models.Index(fields=["user", "active"], name="member_user_active")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.user}"


class ResponseKind(models.TextChoices):
    """The police's actions, from the R19 (GF13 §4(2)) table."""

    PARENTS_RETURN = "parents_return", "责令父母立即返回或委托监护人"
    ADMONITION = "admonition", "对父母予以训诫"
    CONTACT_PARENTS = "contact_parents", "联系父母返回或委托其他亲属"
    ESCORT_RELATIVE = "escort_relative", "护送至近亲属处临时照料"
    ESCORT_VILLAGE = "escort_village", "护送至村（居）民委员会临时照料"
    ESCORT_INSTITUTION = "escort_institution", "护送至救助管理或儿童福利机构临时照料"
    MISSING_SEARCH = "missing_search", "启动儿童失踪快速查找机制"
    STOP_VIOLENCE = "stop_violence", "制止家庭暴力"
    WARNING_LETTER = "warning_letter", "出具家庭暴力告诫书"
    SHELTER = "shelter", "协助民政部门安置至庇护或救助机构"
    MEDICAL = "medical", "协助就医、伤情鉴定"
    EVIDENCE = "evidence", "调查取证"
    CASE_OPENED = "case_opened", "立案侦查（治安或刑事）"
    OTHER = "other", "其他处置"


class ResponseAction(models.Model):
    """One thing the police did on the report, with when and who."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="actions")
    kind = models.CharField("处置措施", max_length=24, choices=ResponseKind.choices)
    done_at = models.DateTimeField("处置时间")
    note = EncryptedCharField("说明", max_length=500, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="记录人")
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "应急处置措施"
        verbose_name_plural = verbose_name
        ordering = ["done_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.done_at:%Y-%m-%d %H:%M}"


class PlacementKind(models.TextChoices):
    RELATIVE = "relative", "近亲属"
    VILLAGE = "village", "村（居）民委员会"
    FOSTER = "foster", "家庭寄养"
    RELIEF = "relief", "救助管理机构"
    WELFARE = "welfare", "儿童福利机构"
    OTHER = "other", "其他"


class Placement(models.Model):
    """Temporary care (临时监护 / 临时照料): where, from when to when, and the assessment
    before the child returns home."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="placements")
    kind = models.CharField("安置类型", max_length=16, choices=PlacementKind.choices)
    place = EncryptedCharField("安置地点或照料人", max_length=128)
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    return_assessment = EncryptedTextField("返家评估", max_length=1000, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="记录人")
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "临时监护安置"
        verbose_name_plural = verbose_name
        ordering = ["started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="placement_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}安置 {self.started_on:%Y-%m-%d}"


class ProtectionPolicy(models.Model):
    """A county's settings for the rescue mechanism (defaults when the county has none)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    county = models.OneToOneField(Region, on_delete=models.PROTECT, related_name="+", verbose_name="县")
    escalate_after_minutes = models.PositiveSmallIntegerField(
        "未受理首次升级（分钟）", default=30, validators=[MinValueValidator(5), MaxValueValidator(720)]
    )
    escalate_again_minutes = models.PositiveSmallIntegerField(
        "未受理再次升级（分钟）", default=120, validators=[MinValueValidator(10), MaxValueValidator(1440)]
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    updated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="修改人"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "救助保护设置"
        verbose_name_plural = verbose_name
        constraints = [
            models.CheckConstraint(
                condition=Q(escalate_again_minutes__gt=models.F("escalate_after_minutes")),
                name="escalate_again_later",
                violation_error_message="再次升级的时间必须晚于首次升级的时间。",
            )
        ]

    def __str__(self) -> str:
        return f"救助保护设置（{self.county}）"

    @classmethod
    def for_county(cls, county: Region) -> "ProtectionPolicy":
        """The county's saved settings, or an unsaved row with the defaults."""
        return cls.objects.filter(county=county).first() or cls(county=county)
