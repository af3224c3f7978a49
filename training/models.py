"""Training (业务培训, issue 7 item 4): the county's training sessions for the people who do the
work (child directors, supervisors, teachers, cadres, social workers, providers' staff) and
who attended each one.

A session belongs to a county and is recorded by its civil-affairs bureau (county admins).
An attendee is either a worker with an account (accounts.User; who counts as a worker is in
training/selectors.py) or a person without one, named in free text (a guest: name and unit).
A worker's training history is the sessions they attended; the workers with none in a year
are the list the county follows up.
"""

import uuid
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.models import Role, User
from geo.models import Region, Unit

MIN_HOURS = Decimal("0.5")
MAX_HOURS = Decimal("40")


class Audience(models.TextChoices):
    """Whom a session is for. The codes are the worker roles (accounts.models.Role), so that
    the attendee picker can offer the audience's workers first; the labels are the words of
    training notices (a school's staff are 教师 here)."""

    VILLAGE_WORKER = Role.VILLAGE_WORKER.value, "儿童主任"
    TOWNSHIP_SUPERVISOR = Role.TOWNSHIP_SUPERVISOR.value, "儿童督导员"
    SCHOOL_STAFF = Role.SCHOOL_STAFF.value, "教师"
    VISITING_CADRE = Role.VISITING_CADRE.value, "驻村干部"
    SOCIAL_WORKER = Role.SOCIAL_WORKER.value, "社会工作者"
    PROVIDER_STAFF = Role.PROVIDER_STAFF.value, "服务机构工作人员"
    COUNTY_OFFICER = Role.COUNTY_OFFICER.value, "县直部门工作人员"


class TrainingSession(models.Model):
    """One training session (一期培训) of a county."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    county = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name="县（市、区）"
    )
    organiser = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="主办单位")
    topic = models.CharField("培训主题", max_length=100)
    held_on = models.DateField("培训日期")
    hours = models.DecimalField(
        "培训学时（小时）",
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(MIN_HOURS), MaxValueValidator(MAX_HOURS)],
    )
    trainer = models.CharField("授课人", max_length=100, blank=True)
    place = models.CharField("培训地点", max_length=100, blank=True)
    # Audience codes (Audience values), at least one.
    audience = models.JSONField("培训对象", default=list)
    note = models.TextField("培训内容和说明", max_length=2000, blank=True)
    # Bumped by every edit: a form loaded before another user's change is refused.
    version = models.PositiveIntegerField("版本", default=1, editable=False)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "业务培训"
        verbose_name_plural = verbose_name
        ordering = ["-held_on", "-created_at"]
        indexes = [models.Index(fields=["county", "held_on"], name="training_county_held_on")]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gte=MIN_HOURS) & Q(hours__lte=MAX_HOURS), name="training_hours_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic}（{self.held_on:%Y-%m-%d}）"

    def audience_labels(self) -> list[str]:
        labels = dict(Audience.choices)
        return [labels.get(code, code) for code in self.audience]


class Attendance(models.Model):
    """One attendee of a session: a worker with an account (`user`), or a guest without one
    (`guest_name`, `guest_unit`). Removing an attendee deletes the row; its history keeps
    who added and who removed it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(
        TrainingSession, on_delete=models.CASCADE, related_name="attendances", verbose_name="培训"
    )
    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_attendances",
        verbose_name="参训人员",
    )
    guest_name = models.CharField("姓名（无账号人员）", max_length=64, blank=True)
    guest_unit = models.CharField("单位（无账号人员）", max_length=100, blank=True)
    added_at = models.DateTimeField("登记时间", default=timezone.now, editable=False)
    added_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="登记人"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "参训记录"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["session", "user"], condition=Q(user__isnull=False), name="training_attendance_once"
            ),
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(guest_name=""))
                | (Q(user__isnull=True) & ~Q(guest_name="")),
                name="training_attendance_user_or_guest",
            ),
        ]
        indexes = [models.Index(fields=["user", "session"], name="training_attendance_user")]

    def __str__(self) -> str:
        return f"{self.session} · {self.display_name}"

    @property
    def display_name(self) -> str:
        return str(self.user) if self.user_id else self.guest_name
