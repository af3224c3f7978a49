"""Users and their role grants. A grant is role × unit (× region); it covers the subtree.

Also the account-security tables: password history (AU-2), the session store with its
user column (SE-1, SE-2) and the security policy the security admin edits (AC-6).
"""

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.validators import MaxValueValidator, MinValueValidator
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
    # Staff of the other mandated units (hospitals, kindergartens, relief and welfare
    # institutions…, R17) who only file mandatory reports and follow their status: no file scope.
    REPORTER = "reporter", "强制报告责任人员"
    # Staff and volunteers of a service provider (儿童之家, social-work organisation, charity,
    # volunteer team…, R16): they see only the children referred or assigned to their unit.
    PROVIDER_STAFF = "provider_staff", "服务机构工作人员"
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
# Roles that must pass a second factor (TOTP) before any page (AU-4): the admin, security,
# audit, county and police roles, and every role that may reveal a full ID number.
MFA_REQUIRED_ROLES = (
    frozenset({Role.COUNTY_ADMIN, Role.POLICE, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})
    | REVEAL_ROLES
)
# 三员分立 (AC-6): a person holds at most one of these, and none of them with a data role.
SEPARATED_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR})


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    full_name = models.CharField("姓名", max_length=64, blank=True)
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)
    password_changed_at = models.DateTimeField(
        "密码修改时间", null=True, blank=True, help_text="为空时按账号创建时间计算密码有效期。"
    )
    valid_until = models.DateField("账号有效期至", null=True, blank=True, help_text="过期后不能登录。")
    enabled_at = models.DateTimeField(
        "最近启用时间", null=True, blank=True, help_text="重新启用的账号从此时起重新计算闲置天数。"
    )
    disabled_reason = models.CharField("停用原因", max_length=200, blank=True)
    # The password hash and the login time are left out: hashes should not multiply, and a
    # history row per login would bury the real changes.
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

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


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords, so that none of the last five is reused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField("密码哈希", max_length=128)
    created_at = models.DateTimeField("设置时间")

    class Meta:
        verbose_name = "历史密码"
        verbose_name_plural = verbose_name
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="pwhistory_user_at")]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d}"


class UserSession(AbstractBaseSession):
    """The server-side session, with the signed-in user as a column: ending a user's sessions
    (logout elsewhere, password change, disabling, one session for privileged roles) is one
    DELETE, and no row outlives its user."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="sessions", verbose_name="用户"
    )

    class Meta(AbstractBaseSession.Meta):
        verbose_name = "会话"
        verbose_name_plural = verbose_name

    @classmethod
    def get_session_store_class(cls) -> Any:
        from accounts.sessions import SessionStore

        return SessionStore


def _setting(name: str) -> Any:
    return getattr(settings, name)


class SecurityPolicy(models.Model):
    """The one row of security settings the security admin may change (AC-6). Without a row,
    the values come from settings (SHOUHU_PASSWORD_MAX_AGE_DAYS and friends). Changes apply
    from each user's next login."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    password_max_age_days = models.PositiveSmallIntegerField(
        "密码有效期（天）", validators=[MinValueValidator(30), MaxValueValidator(180)]
    )
    session_idle_minutes = models.PositiveSmallIntegerField(
        "空闲超时（分钟）", validators=[MinValueValidator(5), MaxValueValidator(30)]
    )
    session_absolute_hours = models.PositiveSmallIntegerField(
        "会话最长时间（小时）", validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    dormant_days = models.PositiveSmallIntegerField(
        "闲置停用（天）", validators=[MinValueValidator(30), MaxValueValidator(180)]
    )
    updated_at = models.DateTimeField("修改时间", null=True, blank=True)
    updated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="修改人"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "安全策略"
        verbose_name_plural = verbose_name
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="security_policy_singleton")]

    def __str__(self) -> str:
        return "安全策略"

    @classmethod
    def defaults(cls) -> "SecurityPolicy":
        """The policy as configured in settings, unsaved."""
        return cls(
            password_max_age_days=_setting("SHOUHU_PASSWORD_MAX_AGE_DAYS"),
            session_idle_minutes=_setting("SESSION_COOKIE_AGE") // 60,
            session_absolute_hours=_setting("SHOUHU_SESSION_ABSOLUTE_HOURS"),
            dormant_days=_setting("SHOUHU_DORMANT_DAYS"),
        )
