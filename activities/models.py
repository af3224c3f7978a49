"""Care activities (关爱活动, R16) and who took part: children from the ledger, guardians and
parents, volunteers and their hours. An attended participation is a service the child
received (the services list of the file, and the counts of stats)."""

import uuid

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.fields import EncryptedCharField
from geo.models import Region, Unit
from providers.choices import ServiceKind
from registry.models import Child


class TargetGroup(models.TextChoices):
    CHILDREN = "children", "儿童"
    GUARDIANS = "guardians", "监护人和家长"
    FAMILIES = "families", "儿童和家长"


class Activity(models.Model):
    """One session of a care activity, held (or to be held) on a date at a place in a township."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField("活动类型", max_length=32, choices=ServiceKind.choices)
    title = models.CharField("活动名称", max_length=128)
    organiser = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="组织单位")
    # The provider that delivers it (a unit of the providers register), if not the organiser.
    provider = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name="服务机构",
    )
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="县")
    township = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="乡镇")
    village = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="村（社区）"
    )
    place = models.CharField("地点", max_length=128)
    held_on = models.DateField("活动日期")
    target_group = models.CharField(
        "对象", max_length=16, choices=TargetGroup.choices, default=TargetGroup.CHILDREN
    )
    note = models.TextField("活动内容", blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "关爱活动"
        verbose_name_plural = verbose_name
        ordering = ["-held_on", "-created_at"]
        indexes = [
            models.Index(fields=["township", "held_on"], name="activity_township_held"),
            models.Index(fields=["provider", "held_on"], name="activity_provider_held"),
        ]

    def __str__(self) -> str:
        return self.title


class Participation(models.Model):
    """A child expected at an activity; `attended` is None until attendance is taken."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="participations")
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="participations")
    attended = models.BooleanField("到场", null=True, blank=True)
    outcome = models.CharField("服务效果", max_length=200, blank=True)
    recorded_at = models.DateTimeField("记录时间", null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="记录人"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "活动参与儿童"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["activity", "child"], name="participation_unique"),
        ]
        indexes = [
            models.Index(fields=["child", "attended"], name="participation_child"),
            models.Index(fields=["activity"], condition=Q(attended=True), name="participation_attended"),
        ]

    def __str__(self) -> str:
        return f"{self.activity} · {self.child_id}"


class AdultRelation(models.TextChoices):
    GUARDIAN = "guardian", "监护人"
    FATHER = "father", "父亲"
    MOTHER = "mother", "母亲"
    OTHER = "other", "其他家长"


class AdultParticipant(models.Model):
    """A guardian or parent at a guardian-education or legal-publicity session."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="adults")
    name = EncryptedCharField("姓名", max_length=64)
    relation = models.CharField("身份", max_length=16, choices=AdultRelation.choices)
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="儿童"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参加活动的家长"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.get_relation_display()


class VolunteerService(models.Model):
    """A volunteer's hours at an activity (志愿服务时长)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="volunteers")
    name = models.CharField("志愿者", max_length=64)
    team = models.CharField("所属队伍", max_length=128, blank=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    hours = models.DecimalField("服务时长（小时）", max_digits=5, decimal_places=1)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "志愿服务"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.name
