"""The county's care policy, visits (走访) and their photos.

A child's risk colour and next-visit date are columns of registry.Child, written only by
care.services (from the file, the parents' 失联 flags, the latest visit and this policy).
"""

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from accounts.models import User
from care import rules
from care.choices import Condition, Present, VisitKind, VisitorRole
from core.fields import EncryptedCharField, EncryptedTextField
from geo.models import Region
from registry import choices as rc
from registry.models import Child

DAYS = [
    MinValueValidator(1, "请填写 1 至 365 之间的天数。"),
    MaxValueValidator(365, "请填写 1 至 365 之间的天数。"),
]
INTERVAL_FIELDS = {
    rules.RED: "red_days",
    rules.ORANGE: "orange_days",
    rules.YELLOW: "yellow_days",
    rules.GREEN: "green_days",
}


def field_label(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return str(getattr(field, "verbose_name", name))


def column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.column)


def default_conditions() -> dict[str, str]:
    return dict(rules.DEFAULT_CONDITIONS)


class CarePolicy(models.Model):
    """One county's visit intervals, warning limits and condition → colour table. A county
    without a saved row uses the defaults (CarePolicy.for_county)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    county = models.OneToOneField(
        Region, on_delete=models.PROTECT, related_name="care_policy", verbose_name="县（市、区）"
    )
    red_days = models.PositiveSmallIntegerField("红色：走访间隔（天）", default=7, validators=DAYS)
    orange_days = models.PositiveSmallIntegerField("橙色：走访间隔（天）", default=14, validators=DAYS)
    yellow_days = models.PositiveSmallIntegerField("黄色：走访间隔（天）", default=30, validators=DAYS)
    green_days = models.PositiveSmallIntegerField("绿色：走访间隔（天）", default=90, validators=DAYS)
    contact_limit_days = models.PositiveSmallIntegerField(
        "亲情联系提醒（超过多少天未联系）", default=7, validators=DAYS
    )
    agreement_warning_days = models.PositiveSmallIntegerField(
        "委托监护协议到期前提醒（天）", default=30, validators=DAYS
    )
    aging_warning_days = models.PositiveSmallIntegerField(
        "年满16周岁前提醒（天）", default=30, validators=DAYS
    )
    # A key child with no service (activity attended, assistance measure) in this many days
    # shows in the township's work list (issue 7).
    service_gap_days = models.PositiveSmallIntegerField(
        "重点儿童未获服务提醒天数", default=90, validators=DAYS
    )
    conditions = models.JSONField("风险条件与等级", default=default_conditions)
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    updated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="修改人"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "关爱走访规则"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.county} 关爱走访规则"

    @classmethod
    def for_county(cls, region: Region) -> "CarePolicy":
        """The county's saved policy, or an unsaved one with the defaults."""
        return cls.objects.filter(county=region).first() or cls(county=region)

    @property
    def intervals(self) -> dict[str, int]:
        return {colour: getattr(self, name) for colour, name in INTERVAL_FIELDS.items()}

    def colour_for(self, condition: str) -> str:
        return str(self.conditions.get(condition) or rules.DEFAULT_CONDITIONS.get(condition, rules.GREEN))

    def interval_for(self, colour: str) -> int:
        return int(getattr(self, INTERVAL_FIELDS[colour]))

    def table(self) -> rules.PolicyTable:
        return rules.PolicyTable(
            intervals=self.intervals,
            conditions={code: self.colour_for(code) for code in Condition.values},
        )

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if not isinstance(self.conditions, dict) or set(self.conditions) - set(Condition.values):
            errors["conditions"] = "风险条件表有误：含有未知的条件。"
        elif any(colour not in rules.COLOURS for colour in self.conditions.values()):
            errors["conditions"] = "风险条件表有误：等级只能是红、橙、黄、绿。"
        intervals = self.intervals
        if all(isinstance(days, int) for days in intervals.values()):
            for colour, message in rules.interval_order_errors(intervals):
                errors.setdefault(INTERVAL_FIELDS[colour], message)
        if errors:
            raise ValidationError(errors)


class Visit(models.Model):
    """One visit (走访) to a child: at home, by phone or by video (R11, R12, R33)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="visits", verbose_name="儿童")
    visited_on = models.DateField("走访日期")
    kind = models.CharField("走访方式", max_length=8, choices=VisitKind.choices, default=VisitKind.HOME)
    visitor = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="走访人")
    visitor_role = models.CharField("走访人身份", max_length=16, choices=VisitorRole.choices)
    present = models.JSONField("在场人员", default=list, blank=True)
    present_other = models.CharField("其他在场人员", max_length=64, blank=True)

    # Findings (checked = confirmed at the visit).
    guardian_at_home = models.BooleanField("监护人（照料人）在家", default=False)
    guardian_capable = models.BooleanField("监护人具备监护照料能力", default=False)
    living_conditions_ok = models.BooleanField("居住生活条件良好", default=False)
    hazards_found = models.BooleanField("发现安全隐患", default=False)
    hazards_note = EncryptedCharField("安全隐患说明", max_length=200, blank=True)
    attending_school = models.BooleanField("按时上学（入园），无辍学迹象", default=False)
    health_ok = models.BooleanField("身体健康状况良好", default=False)
    emotional_ok = models.BooleanField("情绪、心理状态良好", default=False)
    parent_contact_recent = models.BooleanField("近 7 天与父母有联系", default=False)

    notes = EncryptedTextField("走访情况记录", max_length=2000, blank=True)
    follow_up_needed = models.BooleanField("需要跟进", default=False)
    follow_up_note = EncryptedCharField("跟进事项", max_length=200, blank=True)
    # What this visit changed in the file (through registry.services.child_file_update).
    new_rating = models.CharField("调整监护情况评估为", max_length=8, choices=rc.Rating.choices, blank=True)
    new_care_type = models.CharField("调整监护类型为", max_length=32, choices=rc.CareType.choices, blank=True)

    # From a hidden field of the form: a double tap or a retry sends the same key (one visit).
    submission_key = models.UUIDField("提交标识", unique=True, editable=False)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    history = HistoricalRecords()

    FINDINGS = (
        "guardian_at_home",
        "guardian_capable",
        "living_conditions_ok",
        "attending_school",
        "health_ok",
        "emotional_ok",
        "parent_contact_recent",
    )

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = verbose_name
        ordering = ["-visited_on", "-created_at"]
        indexes = [models.Index(fields=["child", "-visited_on", "-created_at"], name="visit_child_latest")]

    def __str__(self) -> str:
        return f"{self.visited_on:%Y-%m-%d} {self.get_kind_display()}"

    @property
    def present_labels(self) -> list[str]:
        labels = dict(Present.choices)
        names = [str(labels.get(code, code)) for code in self.present if code != Present.OTHER]
        if Present.OTHER in self.present:
            names.append(f"其他：{self.present_other}" if self.present_other else "其他人员")
        return names

    def findings(self) -> list[tuple[str, bool]]:
        """(label, confirmed) for the checklist, in form order."""
        return [(field_label(Visit, name), bool(getattr(self, name))) for name in self.FINDINGS]


class VisitPhoto(models.Model):
    """A photo taken at a visit. The file sits in the private storage under a generated
    name and is served only by care.views.visit_photo, after the access check."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="photos", verbose_name="走访")
    file_name = models.CharField("存储文件名", max_length=200, editable=False)
    content_type = models.CharField("文件类型", max_length=32)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "走访照片"
        verbose_name_plural = verbose_name
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.file_name
