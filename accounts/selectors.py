"""Reads for accounts: the policy in force, what a system admin may see and choose."""

import datetime as dt
import uuid

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import MFA_REQUIRED_ROLES, Role, SecurityPolicy, User, UserSession
from geo.models import Region, RegionLevel, Unit

USER_PAGE_SIZE = 50


def security_policy() -> SecurityPolicy:
    return SecurityPolicy.objects.filter(pk=1).first() or SecurityPolicy.defaults()


def password_expires_at(user: User, policy: SecurityPolicy | None = None) -> dt.datetime:
    policy = policy or security_policy()
    changed = user.password_changed_at or user.date_joined
    return changed + dt.timedelta(days=policy.password_max_age_days)


def mfa_required(user: User) -> bool:
    from registry.access import user_roles

    return bool(user_roles(user) & MFA_REQUIRED_ROLES)


def user_sessions(user: User) -> QuerySet[UserSession]:
    return UserSession.objects.filter(user=user, expire_date__gt=timezone.now()).order_by("-expire_date")


# --- the system admin's view ---------------------------------------------------------------


def admin_county(by: User) -> Region | None:
    """The county of the admin's system_admin grant (None: not a system admin)."""
    from registry.access import active_grants

    for grant in active_grants(by):
        if grant.role == Role.SYSTEM_ADMIN:
            code = grant.scope_region.code[:6]
            return Region.objects.filter(code=code, valid_to__isnull=True).first()
    return None


def units_for_admin(by: User) -> QuerySet[Unit]:
    county = admin_county(by)
    if county is None:
        return Unit.objects.none()
    return Unit.objects.filter(region__code__startswith=county.code, active=True).select_related("region")


def regions_for_admin(by: User) -> QuerySet[Region]:
    county = admin_county(by)
    if county is None:
        return Region.objects.none()
    return Region.objects.filter(
        code__startswith=county.code,
        valid_to__isnull=True,
        level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE],
    ).order_by("code")


def users_for_admin(*, q: str = "", after: uuid.UUID | None = None) -> tuple[list[User], uuid.UUID | None]:
    """One page of accounts ordered by username, keyset-paged by the last row's id."""
    users = User.objects.order_by("username")
    if q:
        users = users.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    if after is not None:
        last = User.objects.filter(pk=after).values_list("username", flat=True).first()
        if last is not None:
            users = users.filter(username__gt=last)
    rows = list(users.prefetch_related("grants__unit")[: USER_PAGE_SIZE + 1])
    next_after = rows[USER_PAGE_SIZE - 1].pk if len(rows) > USER_PAGE_SIZE else None
    return rows[:USER_PAGE_SIZE], next_after


def user_for_admin(user_id: uuid.UUID | str) -> User:
    try:
        return User.objects.get(pk=user_id)
    except (User.DoesNotExist, ValueError) as exc:
        raise Http404("未找到该账号") from exc


def dormant_users(*, now: dt.datetime, days: int) -> QuerySet[User]:
    """Active accounts unused for `days` (last login, creation or re-enabling, whichever is
    latest), or past their end date."""
    cutoff = now - dt.timedelta(days=days)
    unused = (
        (Q(last_login__lt=cutoff) | Q(last_login__isnull=True))
        & Q(date_joined__lt=cutoff)
        & (Q(enabled_at__lt=cutoff) | Q(enabled_at__isnull=True))
    )
    ended = Q(valid_until__lt=timezone.localdate(now))
    return User.objects.filter(Q(is_active=True) & (unused | ended))


def single_session(user: User) -> bool:
    return mfa_required(user) or bool(settings.SHOUHU_SINGLE_SESSION_FOR_ALL)
