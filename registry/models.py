"""The child file (一人一档): the child, both parents, the entrusted guardian, assignments.

Values derived for search (pinyin keys, ID tail, blind indexes) and for scope (township and
county of the village) are written by the services in registry.services, never by save().
"""

import uuid

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import Role, User
from core.fields import EncryptedCharField
from geo.models import Region, Unit
from registry import choices as c


class Child(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file_no = models.CharField("档案编号", max_length=20, unique=True, editable=False)
    version = models.PositiveIntegerField("版本", default=1, editable=False)

    # The child.
    name = models.CharField("姓名", max_length=32)
    name_pinyin = models.CharField(max_length=128, editable=False)
    name_initials = models.CharField(max_length=32, editable=False)
    sex = models.CharField("性别", max_length=1, choices=c.Sex.choices)
    ethnicity = models.CharField("民族", max_length=16, choices=c.ETHNICITY_CHOICES, default="汉族")
    id_number = EncryptedCharField("公民身份号码", max_length=18, blank=True)
    id_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    id_tail = models.CharField(max_length=4, blank=True, editable=False)
    birth_date = models.DateField("出生日期")
    hukou_registered = models.BooleanField("是否登记户口", default=True)
    hukou_rural = models.BooleanField("农业户口（农村户籍）", default=True)
    hukou_place = EncryptedCharField("户籍所在地", max_length=128, blank=True)
    current_address = EncryptedCharField("现居住地", max_length=200, blank=True)
    health = models.CharField("身体情况", max_length=16, choices=c.Health.choices, default=c.Health.HEALTHY)
    disability_category = models.CharField(
        "残疾类别", max_length=16, choices=c.DisabilityCategory.choices, blank=True
    )
    disability_grade = models.CharField(
        "残疾等级", max_length=1, choices=c.DisabilityGrade.choices, blank=True
    )
    illness = models.CharField("患病类型", max_length=64, blank=True)
    schooling = models.CharField("就学情况", max_length=32, choices=c.Schooling.choices)
    # school, village, township, county: no index of their own; the (…, file_no) indexes below
    # lead with them and serve their lookups (fewer indexes to keep on every write).
    school = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pupils",
        verbose_name="就读学校",
        db_index=False,
    )
    grade = models.CharField("年级班级", max_length=32, blank=True)
    boarding = models.BooleanField("是否学校寄宿", default=False)

    # The household.
    village = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="children_files",
        verbose_name="所属村（社区）",
        db_index=False,
    )
    township = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    county = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    household_address = EncryptedCharField("家庭住址", max_length=200, blank=True)
    income_sources = models.JSONField("家庭经济来源", default=list, blank=True)
    assistance = models.JSONField("救助帮扶情况", default=list, blank=True)

    # Care and guardianship.
    care_type = models.CharField("监护类型", max_length=32, choices=c.CareType.choices)
    guardianship_rating = models.CharField("监护情况评估", max_length=8, choices=c.Rating.choices)

    # Categories: left_behind is derived from the parents (R1); the others are set by staff.
    is_left_behind = models.BooleanField("农村留守儿童", default=False, editable=False)
    is_in_difficulty = models.BooleanField("困境儿童", default=False)
    is_de_facto_orphan = models.BooleanField("事实无人抚养儿童", default=False)
    is_key = models.BooleanField("重点对象", default=False, editable=False)
    key_reasons = models.JSONField("重点对象原因", default=list, blank=True, editable=False)
    key_manual = models.BooleanField("人工认定为重点对象", default=False)
    key_manual_reason = models.CharField("人工认定原因", max_length=200, blank=True)

    # Status. Exiting never deletes.
    status = models.CharField("状态", max_length=8, choices=c.Status.choices, default=c.Status.ACTIVE)
    exit_reason = models.CharField("退出原因", max_length=32, choices=c.ExitReason.choices, blank=True)
    exit_date = models.DateField("退出日期", null=True, blank=True)
    exit_note = models.CharField("退出说明", max_length=200, blank=True)

    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")

    # Care state (issue 4), derived by the care app's services from the file, the visits, the
    # parent contacts and the agreements; kept here so that "my work" and the ledger are one
    # indexed query in the access layer's scope. Recomputed, never typed in; not in history
    # (their causes are).
    risk_colour = models.CharField(
        "风险等级", max_length=8, choices=c.RiskColour.choices, blank=True, editable=False
    )
    risk_reasons = models.JSONField("风险原因", default=list, blank=True, editable=False)
    last_visit_on = models.DateField("最近走访日期", null=True, blank=True, editable=False)
    next_visit_due = models.DateField("下次走访截止日期", null=True, blank=True, editable=False)
    last_parent_contact_on = models.DateField("最近亲情联系日期", null=True, blank=True, editable=False)
    agreement_required = models.BooleanField("须签委托监护协议", default=False, editable=False)
    agreement_valid_until = models.DateField("委托监护协议有效期至", null=True, blank=True, editable=False)
    care_computed_at = models.DateTimeField("关爱状态计算时间", null=True, blank=True, editable=False)

    history = HistoricalRecords(
        # History is read by file (id) and date; these lookups are the live table's.
        no_db_index=["file_no", "school", "village", "township", "county", "created_by"],
        excluded_fields=[
            "name_pinyin",
            "name_initials",
            "id_index",
            "id_tail",
            "risk_colour",
            "risk_reasons",
            "last_visit_on",
            "next_visit_due",
            "last_parent_contact_on",
            "agreement_required",
            "agreement_valid_until",
            "care_computed_at",
        ],
    )

    class Meta:
        verbose_name = "儿童档案"
        verbose_name_plural = verbose_name
        ordering = ["file_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_index"],
                condition=Q(status="active") & Q(id_index__isnull=False),
                name="child_one_active_file_per_id",
            ),
            models.CheckConstraint(
                condition=Q(status="active") | ~Q(exit_reason=""), name="child_exit_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["village", "file_no"], name="child_village_file_no"),
            models.Index(fields=["township", "file_no"], name="child_township_file_no"),
            models.Index(fields=["county", "file_no"], name="child_county_file_no"),
            models.Index(fields=["school", "file_no"], name="child_school_file_no"),
            models.Index(fields=["name"], name="child_name"),
            models.Index(fields=["name_pinyin"], name="child_name_pinyin"),
            models.Index(fields=["name_initials"], name="child_name_initials"),
            models.Index(fields=["id_tail"], name="child_id_tail"),
            models.Index(fields=["id_index"], name="child_id_index"),
            models.Index(fields=["birth_date"], name="child_birth_date"),
            # The statistics' refresh tick (issue 6): files changed since the last refresh.
            models.Index(fields=["updated_at"], name="child_updated_at"),
            models.Index(fields=["care_computed_at"], name="child_care_computed_at"),
            # "我的工作" (issue 4): overdue and due visits per village and per township.
            models.Index(
                fields=["village", "next_visit_due"],
                name="child_village_visit_due",
                condition=Q(status="active"),
            ),
            models.Index(
                fields=["township", "next_visit_due"],
                name="child_township_visit_due",
                condition=Q(status="active"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.file_no}）"

    @property
    def is_active(self) -> bool:
        return self.status == c.Status.ACTIVE


class Parent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="parents")
    role = models.CharField("身份", max_length=8, choices=c.ParentRole.choices)
    name = models.CharField("姓名", max_length=32, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    id_number = EncryptedCharField("公民身份号码", max_length=18, blank=True)
    id_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    phone = EncryptedCharField("联系电话", max_length=20, blank=True)
    phone_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    status = models.CharField(
        "当前状态", max_length=16, choices=c.ParentStatus.choices, default=c.ParentStatus.AWAY
    )
    work_province = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="务工省份"
    )
    work_city = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="务工城市"
    )
    work_detail = EncryptedCharField("务工单位或详细地点", max_length=128, blank=True)
    away_since = models.DateField("外出时间", null=True, blank=True)
    incapacity_reason = models.CharField(
        "无监护能力原因", max_length=32, choices=c.IncapacityReason.choices, blank=True
    )
    incapacity_note = models.CharField("无监护能力说明", max_length=200, blank=True)
    # 失联 (issue 4): the village cannot reach the parent; raises the child's risk colour.
    unreachable = models.BooleanField("失联", default=False)
    unreachable_since = models.DateField("失联日期", null=True, blank=True)

    history = HistoricalRecords(
        excluded_fields=["id_index", "phone_index"], no_db_index=["work_province", "work_city"]
    )

    class Meta:
        verbose_name = "父母"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["child", "role"], name="parent_one_per_role")]
        indexes = [models.Index(fields=["phone_index"], name="parent_phone_index")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"

    @property
    def has_capacity(self) -> bool:
        return not self.incapacity_reason


class EntrustedGuardian(models.Model):
    """The entrusted guardian (受委托监护人) with the WBF Art. 22 checklist (R6)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.OneToOneField(Child, on_delete=models.CASCADE, related_name="guardian")
    name = models.CharField("姓名", max_length=32)
    id_number = EncryptedCharField("公民身份号码", max_length=18, blank=True)
    id_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    phone = EncryptedCharField("联系电话", max_length=20, blank=True)
    phone_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    relation = models.CharField("与儿童关系", max_length=32, choices=c.GuardianRelation.choices)
    address = EncryptedCharField("居住地址", max_length=200, blank=True)
    # WBF Art. 22 checklist: True means the condition is confirmed.
    check_adult_full_capacity = models.BooleanField("成年且具有完全民事行为能力", default=False)
    check_able_to_care = models.BooleanField("身体健康，具备照护能力", default=False)
    check_no_abuse = models.BooleanField("无性侵害、虐待、遗弃、拐卖、暴力伤害等违法犯罪记录", default=False)
    check_no_addiction = models.BooleanField("无吸毒、酗酒、赌博等恶习", default=False)
    check_no_neglect = models.BooleanField("未曾拒不履行或长期怠于履行监护、照护职责", default=False)
    check_no_other_unsuitable = models.BooleanField("无其他不适宜担任的情形", default=False)
    check_child_view = models.BooleanField("已听取儿童意见", default=False)
    assessed_by = models.CharField("评估人", max_length=32, blank=True)
    assessed_on = models.DateField("评估日期", null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["id_index", "phone_index"])

    class Meta:
        verbose_name = "受委托监护人"
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["phone_index"], name="guardian_phone_index")]

    def __str__(self) -> str:
        return self.name

    CHECKLIST = (
        "check_adult_full_capacity",
        "check_able_to_care",
        "check_no_abuse",
        "check_no_addiction",
        "check_no_neglect",
        "check_no_other_unsuitable",
        "check_child_view",
    )

    @property
    def is_eligible(self) -> bool:
        return all(getattr(self, name) for name in self.CHECKLIST)


class Assignment(models.Model):
    """A child assigned by name to a social worker or visiting cadre: their whole scope."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    active = models.BooleanField("有效", default=True)
    assigned_at = models.DateTimeField("指派时间", auto_now_add=True)
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "走访指派"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["child", "user"], condition=Q(active=True), name="assignment_active_unique"
            )
        ]
        indexes = [models.Index(fields=["user", "active"], name="assignment_user_active")]

    def __str__(self) -> str:
        return f"{self.user} → {self.child_id}"


class UnitAssignment(models.Model):
    """A child referred or assigned to a service provider (a unit, R16): the provider's
    staff (Role.PROVIDER_STAFF) see the file while the assignment is active, and no other.
    A referral (转介) that the unit accepts opens one (cases.services), closing the measure
    ends it; the county or township may also assign a child to a provider's service."""

    class Source(models.TextChoices):
        REFERRAL = "referral", "帮扶转介"
        ASSIGNED = "assigned", "指派服务"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="unit_assignments")
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="child_assignments", verbose_name="服务机构"
    )
    source = models.CharField("来源", max_length=16, choices=Source.choices)
    # The referral's measure (cases.Measure), when the source is a referral: no foreign key,
    # so that the registry does not depend on the cases app.
    measure_id = models.UUIDField("帮扶措施", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    active = models.BooleanField("有效", default=True)
    assigned_at = models.DateTimeField("指派时间", auto_now_add=True)
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "服务对象指派"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["child", "unit", "source"],
                condition=Q(active=True, measure_id__isnull=True),
                name="unit_assignment_active_unique",
            ),
            models.UniqueConstraint(
                fields=["measure_id"], condition=Q(active=True), name="unit_assignment_measure_unique"
            ),
        ]
        indexes = [models.Index(fields=["unit", "active"], name="unit_assignment_unit_active")]

    def __str__(self) -> str:
        return f"{self.unit} → {self.child_id}"
