"""Sign-in and the user's own account: password step, second factor, password change,
logout and the 账号安全 page. The account gate (accounts.middleware) sends users here."""

from base64 import b32encode
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.crypto import salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts import events, selectors, services
from accounts.forms import INVALID_LOGIN, ChangePasswordForm, LoginForm, TokenForm
from accounts.models import User
from core.http import AuthenticatedHttpRequest

CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The name axes counts failures against, as a keyed hash: a password typed into the
    username box must not be stored in the lockout table in clear (AU-5)."""
    name = (credentials or {}).get("username")
    if name is None:
        name = request.POST.get("username")
    if not name:
        return None
    return salted_hmac("shouhu.lockout.username", str(name)).hexdigest()[:40]


def _next_url(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and safe else str(settings.LOGIN_REDIRECT_URL if default == "home" else default)


# --- the password step -----------------------------------------------------------------------


class _LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        events.record(self.request, "login", events.SUCCESS, object_id=form.get_user().pk)
        return response

    def form_invalid(self, form: Any) -> HttpResponse:
        username = str(form.data.get("username", ""))[:150]
        known = User.objects.filter(username=username).values_list("pk", flat=True).first()
        locked = bool(getattr(self.request, "axes_locked_out", False))
        # An unknown name is not stored: it is often a password typed in the wrong box.
        events.record(
            self.request,
            "lockout" if locked else "login_failed",
            events.FAILURE,
            object_id=known or "",
            username=username if known else "",
        )
        return super().form_invalid(form)


def login_view(request: HttpRequest) -> HttpResponseBase:
    return _LoginView.as_view()(request)


def login_locked(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a locked account or address gets the login page with the same
    error as a wrong password, same status and body (AU-3). The login view has already
    rendered exactly that, since axes made authenticate() fail."""
    if original_response is not None:
        return original_response
    return render(request, "accounts/login.html", {"form": LoginForm(request), "error": INVALID_LOGIN})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Ends the server-side session and tells the browser to drop its cookies, storage and
    cache for this site (DP-6)."""
    if request.user.is_authenticated:
        events.record(request, "logout", events.SUCCESS, object_id=request.user.pk)
    logout(request)
    response = redirect(settings.LOGOUT_REDIRECT_URL)
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


# --- the second factor -----------------------------------------------------------------------


def _verified(request: AuthenticatedHttpRequest, device: TOTPDevice, event: str) -> HttpResponse:
    """After a good code: mark the session verified under a new key, end the user's other
    sessions where only one is allowed (SE-2), and go on."""
    django_otp.login(request, device)
    request.session.cycle_key()
    if selectors.single_session(request.user):
        services.sessions_end(user=request.user, keep=request.session.session_key)
    events.record(request, event, events.SUCCESS, object_id=request.user.pk)
    return redirect(_next_url(request))


@login_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("token")
def otp_verify(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """The code step after the password (AU-4). Codes are single-use: the device keeps the
    time step of the last accepted code and accepts only later ones."""
    if request.user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next_url(request))
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect("accounts:otp_enrol")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accepted = django_otp.verify_token(request.user, device.persistent_id, form.cleaned_data["token"])
        if accepted is not None:
            return _verified(request, accepted, "login_mfa")
        events.record(request, "login_mfa", events.FAILURE, object_id=request.user.pk)
        form.add_error("token", _token_error(device))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _next_url(request, "")})


def _token_error(device: TOTPDevice) -> str:
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        return "尝试次数过多，请稍后再试。"
    return "验证码不正确或已使用过，请输入验证器上新的验证码。"


def _enrol_context(request: AuthenticatedHttpRequest, key: str, form: Form) -> dict[str, Any]:
    uri = TOTPDevice(user=request.user, key=key).config_url
    secret = _base32(key)
    return {
        "form": form,
        "uri": uri,
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
        "qr": segno.make(uri, error="m").svg_data_uri(scale=4, border=2),
        "required": selectors.mfa_required(request.user),
        "next": _next_url(request, ""),
    }


def _base32(key: str) -> str:
    return b32encode(bytes.fromhex(key)).decode().rstrip("=")


@login_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("token")
def otp_enrol(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """Binding an authenticator: forced for MFA roles without one, offered to all from the
    账号安全 page. A user who already has one must pass it first: a password alone never
    binds a new authenticator to an account that has one."""
    has_device = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    if has_device and not request.user.is_verified():  # type: ignore[attr-defined]
        return redirect("accounts:otp_verify")
    if has_device:
        return render(request, "accounts/otp_enrol.html", {"enrolled": True})
    key = request.session.get(services.ENROL_KEY) or random_hex(20)
    request.session[services.ENROL_KEY] = key
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.totp_device_confirm(user=request.user, key=key, token=form.cleaned_data["token"])
        if device is not None:
            del request.session[services.ENROL_KEY]
            messages.success(request, "已绑定动态验证码。以后登录时须输入验证器上的验证码。")
            return _verified(request, device, "mfa_enrol")
        events.record(request, "mfa_enrol", events.FAILURE, object_id=request.user.pk)
        form.add_error("token", "验证码不正确，请核对手机时间后输入新的验证码。")
    return render(request, "accounts/otp_enrol.html", _enrol_context(request, key, form))


# --- the user's own password and account -----------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
def password_change(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """Forced at first login and after expiry; open at any time. Every other session of
    the user ends and this one continues under a new key (SE-1)."""
    user = request.user
    form = ChangePasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=user,
                raw_password=form.cleaned_data["new_password1"],
                keep_session=request.session.session_key,
            )
        except ValidationError as exc:
            form.add_error("new_password1", exc)
        else:
            update_session_auth_hash(request, user)
            services.session_password_renewed(session=request.session, user=user)
            events.record(request, "password_change", events.SUCCESS, object_id=user.pk)
            messages.success(request, "密码已修改。")
            return redirect(_next_url(request))
    context = {
        "form": form,
        "forced": user.must_change_password,
        "expires_at": selectors.password_expires_at(user),
        "next": _next_url(request, ""),
    }
    return render(request, "accounts/password_change.html", context)


@login_required
def security(request: AuthenticatedHttpRequest) -> HttpResponse:
    """账号安全: password age, the second factor, open sessions."""
    user = request.user
    context = {
        "password_changed_at": user.password_changed_at or user.date_joined,
        "password_expires_at": selectors.password_expires_at(user),
        "has_device": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "mfa_required": selectors.mfa_required(user),
        "sessions": selectors.user_sessions(user).count(),
    }
    return render(request, "accounts/security.html", context)
