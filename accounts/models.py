"""Users and their role grants. A grant is role × unit (× region); it covers the subtree."""

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from simple_history.models import HistoricalRecords

from geo.models import Region, Unit


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", "县民政管理员"
    COUNTY_OFFICER = "county_officer", "县直部门工作人员"
    TOWNSHIP_SUPERVISOR = "township_supervisor", "儿童督导员"
    VILLAGE_WORKER = "village_worker", "儿童主任"
    SCHOOL_STAFF = "school_staff", "学校教职工"
    POLICE = "police", "公安民警"
    SOCIAL_WORKER = "social_worker", "社会工作者"
    VISITING_CADRE = "visiting_cadre", "驻村（党员）干部"
    # 三员分立 (AC-6): none of these reads child files.
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SECURITY_ADMIN = "security_admin", "安全管理员"
    AUDITOR = "auditor", "审计员"


# Roles that may change child files within their scope.
WRITE_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR, Role.VILLAGE_WORKER})
# Roles that may reveal a full ID or phone number, with a stated reason.
REVEAL_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR, Role.VILLAGE_WORKER, Role.POLICE})
# Roles whose scope is the region they are granted (and its subtree).
REGION_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.COUNTY_OFFICER, Role.TOWNSHIP_SUPERVISOR, Role.VILLAGE_WORKER}
)
# Roles whose scope is the children assigned to the user by name.
ASSIGNED_ROLES = frozenset({Role.SOCIAL_WORKER, Role.VISITING_CADRE})


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    full_name = models.CharField("姓名", max_length=64, blank=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.full_name or self.username


class RoleGrant(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants")
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="grants", verbose_name="单位")
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="grants",
        verbose_name="管辖区划",
        help_text="区域类角色的范围根节点；为空时取单位所在区划。",
        null=True,
        blank=True,
    )
    active = models.BooleanField("有效", default=True)
    granted_at = models.DateTimeField("授权时间", auto_now_add=True)
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="授权人"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit", "region"], name="grant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} @ {self.unit}"

    @property
    def scope_region(self) -> Region:
        return self.region or self.unit.region
