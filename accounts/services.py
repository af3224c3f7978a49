"""Writes for accounts: passwords, sessions, grants, disabling, the security policy.

Each takes keyword-only arguments and runs in one transaction; the views and commands add
the audit event (they hold the request). Self-service limits (nobody changes their own
grants or status) are enforced here as well as in the views.
"""

import datetime as dt
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import selectors
from accounts.models import (
    SEPARATED_ROLES,
    PasswordHistory,
    Role,
    RoleGrant,
    SecurityPolicy,
    User,
    UserSession,
)
from geo.models import Region, RegionLevel, Unit, UnitKind

# Session keys (SE-1): when the user signed in, when they were last seen, and the limits
# of the policy in force at sign-in.
AUTH_AT = "shouhu_auth_at"
SEEN_AT = "shouhu_seen_at"
LIMITS = "shouhu_limits"
# The TOTP secret being enrolled, until the first code confirms it.
ENROL_KEY = "shouhu_otp_enrol_key"

# Matches PasswordHistoryValidator's count in AUTH_PASSWORD_VALIDATORS; older hashes are
# deleted rather than kept without purpose.
PASSWORD_HISTORY_KEPT = 5
_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "Il1O0o") + "#%+=?@"


class SelfChangeError(PermissionDenied):
    """Nobody grants, revokes, disables or resets their own account (AC-6)."""


def _refuse_self(by: User, user: User) -> None:
    if by.pk == user.pk:
        raise SelfChangeError("不能修改自己的授权或账号状态，请由其他系统管理员办理。")


# --- passwords -------------------------------------------------------------------------------


def random_password(length: int = 16) -> str:
    """A one-time password that meets the policy (four classes, no context words)."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        try:
            password_validation.validate_password(candidate)
        except ValidationError:
            continue
        return candidate


def _password_set(*, user: User, raw_password: str, must_change: bool) -> None:
    user.set_password(raw_password)
    user.password_changed_at = timezone.now()
    user.must_change_password = must_change
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    PasswordHistory.objects.create(user=user, password=user.password, created_at=user.password_changed_at)
    stale = PasswordHistory.objects.filter(user=user).values_list("id", flat=True)[PASSWORD_HISTORY_KEPT:]
    PasswordHistory.objects.filter(id__in=list(stale)).delete()


@transaction.atomic
def password_change(*, user: User, raw_password: str, keep_session: str | None) -> None:
    """The user's own change: validated against the policy; every other session ends."""
    password_validation.validate_password(raw_password, user)
    _password_set(user=user, raw_password=raw_password, must_change=False)
    sessions_end(user=user, keep=keep_session)


@transaction.atomic
def password_reset(*, by: User, user: User) -> str:
    """An admin's reset: a one-time password to change at next login; all sessions end."""
    _refuse_self(by, user)
    raw = random_password()
    _password_set(user=user, raw_password=raw, must_change=True)
    sessions_end(user=user)
    return raw


# --- sessions --------------------------------------------------------------------------------


def sessions_end(*, user: User, keep: str | None = None) -> int:
    """Delete the user's server-side sessions (all but `keep`)."""
    sessions = UserSession.objects.filter(user=user)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    deleted, _ = sessions.delete()
    return deleted


def session_start(*, session: SessionBase, user: User) -> None:
    """At sign-in: the clock for the absolute lifetime and the limits then in force."""
    policy = selectors.security_policy()
    now = time.time()
    idle = min(policy.session_idle_minutes * 60, settings.SESSION_COOKIE_AGE)
    session[AUTH_AT] = now
    session[SEEN_AT] = now
    session[LIMITS] = {
        "idle": idle,
        "absolute": policy.session_absolute_hours * 3600,
        "password_expires": selectors.password_expires_at(user, policy).timestamp(),
    }


def session_over(session: SessionBase, now: float) -> bool:
    """True when the session passed its idle or absolute limit (or predates them)."""
    limits = session.get(LIMITS)
    auth_at = session.get(AUTH_AT)
    seen_at = session.get(SEEN_AT)
    if not isinstance(limits, dict) or auth_at is None or seen_at is None:
        return True
    return bool(now - float(auth_at) > limits["absolute"] or now - float(seen_at) > limits["idle"])


def password_expired(session: SessionBase, now: float) -> bool:
    limits = session.get(LIMITS) or {}
    expires = limits.get("password_expires")
    return bool(expires is not None and now >= float(expires))


def session_password_renewed(*, session: SessionBase, user: User) -> None:
    limits = dict(session.get(LIMITS) or {})
    limits["password_expires"] = selectors.password_expires_at(user).timestamp()
    session[LIMITS] = limits


# --- second factor ---------------------------------------------------------------------------


def totp_matches(key: str, token: str) -> int | None:
    """The time step of `token` for the hex `key`, or None."""
    device = TOTPDevice(key=key)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not token.isdigit() or not totp.verify(int(token), device.tolerance):
        return None
    return int(totp.t())


@transaction.atomic
def totp_device_confirm(*, user: User, key: str, token: str) -> TOTPDevice | None:
    """Enrolment: the first code proves the authenticator holds `key`. The code's time step
    is stored, so it cannot be used again to sign in."""
    step = totp_matches(key, token)
    if step is None:
        return None
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice(user=user, name="手机验证器", key=key, confirmed=True, last_t=step)
    device.full_clean()
    device.save()
    return device


# --- accounts and grants (system admin) ------------------------------------------------------


@dataclass(frozen=True)
class GrantData:
    role: str
    unit: Unit
    region: Region | None = None


def _check_scope(by: User, data: GrantData) -> None:
    if not selectors.units_for_admin(by).filter(pk=data.unit.pk).exists():
        raise ValidationError({"unit": "只能选择本县范围内的单位。"})
    if data.region is not None and not selectors.regions_for_admin(by).filter(pk=data.region.pk).exists():
        raise ValidationError({"region": "只能选择本县范围内的区划。"})


def _check_separation(user: User, role: str) -> None:
    held = set(RoleGrant.objects.filter(user=user, active=True).values_list("role", flat=True)) - {role}
    if held and (role in SEPARATED_ROLES or held & SEPARATED_ROLES):
        raise ValidationError(
            {"role": "系统管理员、安全管理员、审计员三员分立：不能与其他角色由同一人兼任。"}
        )


@transaction.atomic
def grant_add(*, by: User, user: User, data: GrantData) -> RoleGrant:
    """Grant a role; the user's sessions end, so the next login applies it (and its MFA)."""
    _refuse_self(by, user)
    _check_scope(by, data)
    _check_separation(user, data.role)
    grant = RoleGrant.objects.filter(user=user, role=data.role, unit=data.unit, region=data.region).first()
    if grant is not None and grant.active:
        raise ValidationError("该用户已有相同的授权。")
    grant = grant or RoleGrant(user=user, role=data.role, unit=data.unit, region=data.region)
    grant.active = True
    grant.granted_by = by
    grant.full_clean(validate_unique=False)
    grant.save()
    sessions_end(user=user)
    return grant


@transaction.atomic
def grant_revoke(*, by: User, grant: RoleGrant) -> None:
    _refuse_self(by, grant.user)
    grant.active = False
    grant.save(update_fields=["active"])
    sessions_end(user=grant.user)


@transaction.atomic
def user_create(
    *, by: User | None, username: str, full_name: str, grant: GrantData, valid_until: dt.date | None = None
) -> tuple[User, str]:
    """A new account with its first grant and a one-time password (to change at first
    login). `by` None: the command line (create_admin)."""
    if by is not None:
        _check_scope(by, grant)
    user = User(username=username, full_name=full_name, valid_until=valid_until)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    RoleGrant.objects.create(user=user, role=grant.role, unit=grant.unit, region=grant.region, granted_by=by)
    raw = random_password()
    _password_set(user=user, raw_password=raw, must_change=True)
    return user, raw


def civil_affairs_unit(county_code: str) -> Unit:
    """The county's 民政局, made when missing (the first admin's unit)."""
    county = Region.objects.filter(code=county_code, level=RegionLevel.COUNTY, valid_to__isnull=True).first()
    if county is None:
        raise ValidationError(f"找不到县级区划 {county_code}：请先运行 manage.py load_regions。")
    unit = Unit.objects.filter(region=county, kind=UnitKind.CIVIL_AFFAIRS, active=True).first()
    if unit is None:
        unit = Unit(name=f"{county.name}民政局", kind=UnitKind.CIVIL_AFFAIRS, region=county)
        unit.full_clean()
        unit.save()
    return unit


@transaction.atomic
def admin_create(*, username: str, full_name: str) -> tuple[User, str]:
    """AU-1: the first system admin, from the command line."""
    unit = civil_affairs_unit(settings.SHOUHU_COUNTY_CODE)
    return user_create(
        by=None, username=username, full_name=full_name, grant=GrantData(Role.SYSTEM_ADMIN, unit)
    )


@transaction.atomic
def user_disable(*, by: User | None, user: User, reason: str) -> None:
    """Disable an account and end its sessions. `by` None: the dormant-account job."""
    if by is not None:
        _refuse_self(by, user)
    user.is_active = False
    user.disabled_reason = reason
    user.save(update_fields=["is_active", "disabled_reason"])
    sessions_end(user=user)


@transaction.atomic
def totp_reset(*, by: User, user: User) -> int:
    """A lost or changed phone: remove the user's authenticators and end their sessions; at
    the next login an MFA role must bind a new one."""
    _refuse_self(by, user)
    deleted: int = TOTPDevice.objects.filter(user=user).delete()[0]
    sessions_end(user=user)
    return deleted


@transaction.atomic
def user_enable(*, by: User, user: User) -> None:
    _refuse_self(by, user)
    user.is_active = True
    user.disabled_reason = ""
    user.enabled_at = timezone.now()
    user.save(update_fields=["is_active", "disabled_reason", "enabled_at"])


def users_disable_dormant(*, now: dt.datetime | None = None) -> list[User]:
    """AC-7: disable every account unused for the policy's dormant days or past its end
    date; each is disabled in its own transaction."""
    now = now or timezone.now()
    days = selectors.security_policy().dormant_days
    disabled = []
    for user in selectors.dormant_users(now=now, days=days):
        ended = user.valid_until is not None and user.valid_until < timezone.localdate(now)
        reason = "账号已过有效期" if ended else f"连续 {days} 天未使用"
        user_disable(by=None, user=user, reason=reason)
        disabled.append(user)
    return disabled


# --- the security policy (security admin) ----------------------------------------------------

POLICY_FIELDS = ("password_max_age_days", "session_idle_minutes", "session_absolute_hours", "dormant_days")


@transaction.atomic
def policy_update(*, by: User, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Change the security policy; returns {field: (old, new)} for the audit event."""
    policy = SecurityPolicy.objects.select_for_update().filter(pk=1).first() or SecurityPolicy.defaults()
    changes = {}
    for name in POLICY_FIELDS:
        old, new = getattr(policy, name), values[name]
        if old != new:
            changes[name] = (old, new)
            setattr(policy, name, new)
    if policy.session_idle_minutes * 60 > settings.SESSION_COOKIE_AGE:
        raise ValidationError(
            {"session_idle_minutes": f"不能超过部署设置的上限 {settings.SESSION_COOKIE_AGE // 60} 分钟。"}
        )
    policy.updated_at = timezone.now()
    policy.updated_by = by
    policy.full_clean()
    policy.save()
    return changes
