"""The account gate: every request of a signed-in user passes here (after OTPMiddleware).

In order: a disabled account or a session past its idle or absolute limit is signed out
(SE-1, AC-7) and the request goes on as anonymous, so pages redirect to the login page;
a user who must pass the second factor and has not is sent to the code step or to
enrolment (AU-4); a user who must change the password is sent to the change page (AU-1,
AU-2). The API answers 403 instead of redirecting.
"""

import time
from collections.abc import Callable
from functools import cache
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from accounts import selectors, services
from accounts.models import User


@cache
def _paths(*names: str) -> frozenset[str]:
    return frozenset(reverse(name) for name in names)


def _otp_paths() -> frozenset[str]:
    return _paths("accounts:otp_verify", "accounts:otp_enrol", "accounts:logout")


def _password_paths() -> frozenset[str]:
    return _paths("accounts:password_change", "accounts:logout")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _send_to(request: HttpRequest, name: str, api_message: str) -> HttpResponseBase:
    if _is_api(request):
        return JsonResponse({"detail": api_message}, status=403)
    url = reverse(name)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return redirect(url)


def second_factor_step(user: User) -> str | None:
    """The page this user must pass before any other, or None when verified or not asked."""
    verified: bool = user.is_verified()  # type: ignore[attr-defined]
    if verified:
        return None
    if user_has_device(user, confirmed=True):
        return "accounts:otp_verify"
    return "accounts:otp_enrol" if selectors.mfa_required(user) else None


class AccountGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        refused = self._gate(request)
        return refused if refused is not None else self.get_response(request)

    def _gate(self, request: HttpRequest) -> HttpResponseBase | None:
        user = request.user
        if not user.is_authenticated:
            return None
        assert isinstance(user, User)
        now = time.time()
        if not user.is_active or services.session_over(request.session, now):
            logout(request)
            messages.info(request, "登录已超时或已结束，请重新登录。")
            return None  # anonymous from here: login_required and the API refuse as usual
        request.session[services.SEEN_AT] = now
        if request.path in _otp_paths():
            return None
        step = second_factor_step(user)
        if step is not None:
            return _send_to(request, step, "请先完成双因素认证（动态验证码）。")
        if request.path in _password_paths():
            return None
        if user.must_change_password or services.password_expired(request.session, now):
            return _send_to(request, "accounts:password_change", "请先修改密码。")
        return None
