"""Entrusted guardianship (委托监护, R6, R7): the county's agreement template, the agreements
(委托监护协议 / 确认书) and the guardian duty list acknowledgements (监护人责任清单).

An agreement freezes what was printed: the template version and the text rendered from the
file at generation time, with the names of the parties as they were. Whether a child needs an
agreement, and until when the current one runs, are columns of registry.Child written only by
guardianship.services (Child.agreement_required, Child.agreement_valid_until).
"""

import uuid

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.storage import get_private_storage
from geo.models import Region
from registry.models import Child, EntrustedGuardian, Parent


class AgreementTemplate(models.Model):
    """One county's agreement wording, edited by the county admin; every save is a version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    county = models.OneToOneField(
        Region, on_delete=models.PROTECT, related_name="agreement_template", verbose_name="县（市、区）"
    )
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    title = models.CharField("标题", max_length=100)
    body = models.TextField("正文", max_length=20_000)
    duties = models.TextField("监护人责任清单", max_length=10_000)
    updated_at = models.DateTimeField("修改时间", auto_now=True)
    updated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="修改人"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "委托监护协议模板"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.title}（第 {self.version} 版）"


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "待签"
    SIGNED = "signed", "已签"
    EXPIRED = "expired", "已过期"
    SUPERSEDED = "superseded", "已替换"


class ScanKind(models.TextChoices):
    PDF = "pdf", "PDF"
    JPEG = "jpeg", "JPEG 图片"
    PNG = "png", "PNG 图片"


class GuardianshipAgreement(models.Model):
    """An entrusted-guardianship agreement for one child and one entrusted guardian."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="agreements", verbose_name="儿童")
    # The guardian on the file when the agreement was made; the names are kept as printed.
    guardian = models.ForeignKey(
        EntrustedGuardian,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="agreements",
        verbose_name="受委托监护人",
    )
    guardian_name = models.CharField("受委托监护人姓名", max_length=32)
    guardian_relation = models.CharField("与儿童关系", max_length=32)
    child_name = models.CharField("儿童姓名", max_length=32)
    father_name = models.CharField("父亲姓名", max_length=32, blank=True)
    mother_name = models.CharField("母亲姓名", max_length=32, blank=True)
    template = models.ForeignKey(
        AgreementTemplate, on_delete=models.PROTECT, related_name="+", verbose_name="模板"
    )
    template_version = models.PositiveIntegerField("模板版本")
    title = models.CharField("标题", max_length=100)
    text = models.TextField("协议正文")
    duties = models.TextField("监护人责任清单")
    valid_from = models.DateField("委托期限起")
    valid_until = models.DateField("委托期限止")
    signed_on = models.DateField("签订日期", null=True, blank=True)
    scan = models.FileField("签字扫描件", storage=get_private_storage, max_length=100, blank=True)
    scan_kind = models.CharField("扫描件类型", max_length=8, choices=ScanKind.choices, blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="生成人"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "委托监护协议"
        verbose_name_plural = verbose_name
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")), name="agreement_period"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(signed_on__isnull=False), name="agreement_signed_has_date"
            ),
            # At most one agreement in force (signed or expired, not yet replaced) per child.
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(status__in=["signed", "expired"]),
                name="agreement_one_current_per_child",
            ),
        ]
        indexes = [models.Index(fields=["child", "status"], name="agreement_child_status")]

    def __str__(self) -> str:
        return f"{self.title}：{self.child_name}（{self.valid_from:%Y-%m-%d} 至 {self.valid_until:%Y-%m-%d}）"

    @property
    def is_current(self) -> bool:
        return self.status in (AgreementStatus.SIGNED, AgreementStatus.EXPIRED)


class DutyRole(models.TextChoices):
    GUARDIAN = "guardian", "受委托监护人"
    FATHER = "father", "父亲"
    MOTHER = "mother", "母亲"


class DutyAcknowledgement(models.Model):
    """A guardian's (or parent's) acknowledgement of the duty list, with its date (R6)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, related_name="duty_acknowledgements", verbose_name="儿童"
    )
    role = models.CharField("确认人身份", max_length=16, choices=DutyRole.choices)
    guardian = models.ForeignKey(
        EntrustedGuardian, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    parent = models.ForeignKey(Parent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    person_name = models.CharField("确认人姓名", max_length=32)
    acknowledged_on = models.DateField("确认日期")
    template = models.ForeignKey(
        AgreementTemplate, on_delete=models.PROTECT, related_name="+", verbose_name="模板"
    )
    template_version = models.PositiveIntegerField("责任清单版本")
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="录入人"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "监护人责任清单确认"
        verbose_name_plural = verbose_name
        ordering = ["-acknowledged_on", "-recorded_at"]
        indexes = [models.Index(fields=["child", "acknowledged_on"], name="duty_ack_child_date")]

    def __str__(self) -> str:
        return f"{self.person_name}（{self.get_role_display()}）{self.acknowledged_on:%Y-%m-%d}"
