"""Account management for the system admin and the security policy for the security admin
(AC-6 三员分立). Each view: role gate → form → service → audit event → redirect or render.

Nobody changes their own grants or status: the attempt is refused with 403 and recorded.
A one-time password is shown once, in the response to the POST that made it, and never
travels through a redirect, a message cookie or the session.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import events, selectors, services
from accounts.forms import DisableForm, GrantForm, PolicyForm, RevokeForm, UserCreateForm, UserSearchForm
from accounts.models import Role, RoleGrant, User
from core.http import AuthenticatedHttpRequest

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def role_required(role: Role) -> Callable[[View], View]:
    """403 unless the user holds `role` (an active grant)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            from registry.access import user_roles

            if role not in user_roles(request.user):
                raise PermissionDenied(f"仅{role.label}可以使用此功能")
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _target(request: AuthenticatedHttpRequest, user_id: str, action: str) -> User:
    """The account to act on; acting on oneself is refused and recorded."""
    user = selectors.user_for_admin(user_id)
    if user.pk == request.user.pk:
        events.record(request, action, events.DENIED, object_id=user.pk, reason="self")
        raise PermissionDenied("不能修改自己的授权或账号状态，请由其他系统管理员办理。")
    return user


def _detail(user: User) -> HttpResponseBase:
    return redirect("accounts:manage_user", user_id=user.pk)


# --- accounts ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@role_required(Role.SYSTEM_ADMIN)
def manage_users(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The account list, paged by username; the search term travels by POST only."""
    params = request.POST if request.method == "POST" else request.GET
    form = UserSearchForm(params)
    q, after = "", None
    if form.is_valid():
        q = form.cleaned_data["q"] if request.method == "POST" else ""
        after = form.cleaned_data["after"]
    users, next_after = selectors.users_for_admin(q=q, after=after)
    context = {"form": form, "users": users, "next_after": next_after, "q": q}
    return render(request, "accounts/manage_users.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@role_required(Role.SYSTEM_ADMIN)
def manage_user_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None, by=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = services.user_create(
                by=request.user,
                username=data["username"],
                full_name=data["full_name"],
                grant=form.grant(),
                valid_until=data["valid_until"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            events.record(request, "user_create", events.SUCCESS, object_id=user.pk, role=data["role"])
            return _password_once(request, user, created=True, password=password)
    return render(request, "accounts/manage_user_create.html", {"form": form})


def _password_once(
    request: AuthenticatedHttpRequest, user: User, *, created: bool, password: str
) -> HttpResponse:
    context = {"account": user, "created": created, "password": password}
    return render(request, "accounts/manage_password_once.html", context)


@login_required
@role_required(Role.SYSTEM_ADMIN)
def manage_user(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponse:
    user = selectors.user_for_admin(user_id)
    context = {
        "account": user,
        "grants": user.grants.select_related("unit", "region").order_by("-active", "role"),
        "sessions": selectors.user_sessions(user).count(),
        "has_device": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "is_self": user.pk == request.user.pk,
        "grant_form": GrantForm(by=request.user),
        "disable_form": DisableForm(),
        "history": user.history.order_by("-history_date")[:10],  # type: ignore[attr-defined]
    }
    return render(request, "accounts/manage_user.html", context)


@login_required
@require_POST
@role_required(Role.SYSTEM_ADMIN)
def manage_grant(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponseBase:
    user = _target(request, user_id, "grant_add")
    form = GrantForm(request.POST, by=request.user)
    if form.is_valid():
        try:
            grant = services.grant_add(by=request.user, user=user, data=form.grant())
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            events.record(
                request, "grant_add", events.SUCCESS, object_id=user.pk, grant=str(grant.pk), role=grant.role
            )
            messages.success(request, f"已授予{grant.get_role_display()}。该用户需重新登录。")
    else:
        messages.error(request, "授权信息不完整或超出本县范围。")
    return _detail(user)


@login_required
@require_POST
@role_required(Role.SYSTEM_ADMIN)
def manage_revoke(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponseBase:
    user = _target(request, user_id, "grant_revoke")
    form = RevokeForm(request.POST)
    grant = None
    if form.is_valid():
        grant = RoleGrant.objects.filter(user=user, pk=form.cleaned_data["grant"], active=True).first()
    if grant is None:
        messages.error(request, "未找到该授权。")
        return _detail(user)
    services.grant_revoke(by=request.user, grant=grant)
    events.record(
        request, "grant_revoke", events.SUCCESS, object_id=user.pk, grant=str(grant.pk), role=grant.role
    )
    messages.success(request, f"已撤销{grant.get_role_display()}。")
    return _detail(user)


@login_required
@require_POST
@role_required(Role.SYSTEM_ADMIN)
def manage_disable(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponseBase:
    user = _target(request, user_id, "user_disable")
    form = DisableForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写停用原因。")
        return _detail(user)
    services.user_disable(by=request.user, user=user, reason=form.cleaned_data["reason"])
    events.record(request, "user_disable", events.SUCCESS, object_id=user.pk)
    messages.success(request, "账号已停用，其登录会话已全部结束。")
    return _detail(user)


@login_required
@require_POST
@role_required(Role.SYSTEM_ADMIN)
def manage_enable(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponseBase:
    user = _target(request, user_id, "user_enable")
    services.user_enable(by=request.user, user=user)
    events.record(request, "user_enable", events.SUCCESS, object_id=user.pk)
    messages.success(request, "账号已启用。")
    return _detail(user)


@login_required
@require_POST
@role_required(Role.SYSTEM_ADMIN)
def manage_sessions_end(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponseBase:
    user = _target(request, user_id, "sessions_end")
    count = services.sessions_end(user=user)
    events.record(request, "sessions_end", events.SUCCESS, object_id=user.pk, count=count)
    messages.success(request, f"已结束 {count} 个登录会话。")
    return _detail(user)


@login_required
@require_POST
@role_required(Role.SYSTEM_ADMIN)
def manage_otp_reset(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponseBase:
    user = _target(request, user_id, "mfa_reset")
    count = services.totp_reset(by=request.user, user=user)
    events.record(request, "mfa_reset", events.SUCCESS, object_id=user.pk, devices=count)
    messages.success(request, "已解除动态验证码绑定，其登录会话已全部结束；下次登录时重新绑定。")
    return _detail(user)


@login_required
@require_POST
@role_required(Role.SYSTEM_ADMIN)
def manage_password_reset(request: AuthenticatedHttpRequest, user_id: str) -> HttpResponse:
    user = _target(request, user_id, "password_reset")
    password = services.password_reset(by=request.user, user=user)
    events.record(request, "password_reset", events.SUCCESS, object_id=user.pk)
    return _password_once(request, user, created=False, password=password)


# --- the security policy -----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@role_required(Role.SECURITY_ADMIN)
def policy(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """The policy in force, and the part of it the security admin may change."""
    current = selectors.security_policy()
    form = PolicyForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            changes = services.policy_update(by=request.user, values=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if changes:
                diff = {name: {"old": old, "new": new} for name, (old, new) in changes.items()}
                events.record(
                    request, "config", events.SUCCESS, object_type="policy", object_id=1, changes=diff
                )
                messages.success(request, "安全策略已保存，自各用户下次登录起生效。")
            return redirect("accounts:policy")
    return render(request, "accounts/policy.html", {"form": form, "fixed": _fixed_settings()})


def _fixed_settings() -> list[tuple[str, str]]:
    """Values set at deployment (settings), shown read-only."""
    from django.conf import settings

    from accounts.models import MFA_REQUIRED_ROLES

    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return [
        ("密码最短长度", "12 位"),
        ("密码字符类别", "大写、小写、数字、符号中至少 3 类"),
        ("密码历史", "最近 5 次不得重复"),
        (
            "登录失败锁定",
            f"{cooloff} 分钟内失败 {settings.AXES_FAILURE_LIMIT} 次锁定 {cooloff} 分钟（按账号和 IP）",
        ),
        ("空闲超时上限", f"{settings.SESSION_COOKIE_AGE // 60} 分钟"),
        ("须双因素认证的角色", "、".join(sorted(str(Role(r).label) for r in MFA_REQUIRED_ROLES))),
        (
            "仅允许一个会话",
            "须双因素认证的角色" + ("及所有用户" if settings.SHOUHU_SINGLE_SESSION_FOR_ALL else ""),
        ),
        (
            "Cookie",
            "Secure、HttpOnly、SameSite=Lax"
            if settings.SESSION_COOKIE_SECURE
            else "未启用 Secure（仅限本机 http 试用）",
        ),
    ]
