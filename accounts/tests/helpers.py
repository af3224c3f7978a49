"""Test helpers for sign-in: TOTP devices and codes, the real two-step login over HTTP, and
the patch that lets the test client's programmatic logins count as fully signed in.

Programmatic logins (Client.login, Client.force_login) stand for "this persona has signed
in": conftest.py patches them (autouse) to pass axes its `request` and, for personas whose
roles require a second factor, to mark the session OTP-verified with a confirmed TOTP
device, exactly as django_otp.login() does. The second factor itself is tested through the
login pages (accounts/tests/test_mfa.py), which these patches do not touch.
"""

import time
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import MFA_REQUIRED_ROLES, RoleGrant, User
from testing.world import PASSWORD


def needs_mfa(user: User) -> bool:
    # Read from the database, not through registry.access (which caches grants on the
    # user object the test goes on using).
    return RoleGrant.objects.filter(
        user_id=user.pk, active=True, unit__active=True, role__in=MFA_REQUIRED_ROLES
    ).exists()


def totp_device(user: User) -> TOTPDevice:
    """The user's confirmed TOTP device, made when missing."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="测试验证器", confirmed=True)


def totp_code(device: TOTPDevice | str, *, steps: int = 0, at: float | None = None) -> str:
    """The code an authenticator shows now (or `steps` time steps later) for a device or a
    hex key."""
    key = device.bin_key if isinstance(device, TOTPDevice) else bytes.fromhex(device)
    totp = TOTP(key)
    totp.time = (at if at is not None else time.time()) + steps * 30
    return f"{totp.token():06d}"


def mark_verified(client: Client, user: User) -> None:
    if not needs_mfa(user):
        return
    device = totp_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def patch_test_client_logins(monkeypatch: Any) -> None:
    original_login = Client.login
    original_force_login = Client.force_login

    def login(self: Client, **credentials: Any) -> bool:
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        credentials.setdefault("request", request)  # axes refuses authenticate() without one
        ok: bool = original_login(self, **credentials)
        if ok:
            mark_verified(self, User.objects.get(pk=self.session[SESSION_KEY]))
        return ok

    def force_login(self: Client, user: Any, backend: str | None = None) -> None:
        original_force_login(self, user, backend)
        mark_verified(self, user)

    monkeypatch.setattr(Client, "login", login)
    monkeypatch.setattr(Client, "force_login", force_login)


def password_step(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    """POST the login form (the real password step, axes included)."""
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def full_login(client: Client, user: User, password: str = PASSWORD) -> TOTPDevice | None:
    """Both steps over HTTP, as a person would; returns the device used (None: no code step)."""
    response = password_step(client, user.username, password)
    assert response.status_code == 302, response.content.decode()[:500]
    if not needs_mfa(user):
        return None
    device = totp_device(user)
    device.refresh_from_db()
    verified = client.post("/accounts/otp/", {"token": totp_code(device, at=_next_step_time(device))})
    assert verified.status_code == 302, verified.content.decode()[:500]
    return device


def _next_step_time(device: TOTPDevice) -> float:
    """A time whose code the device has not used yet (codes are single-use): now, or the
    step after the last one used when that is still within the tolerance."""
    now = time.time()
    if device.last_t < int(now // 30):
        return now
    return float((device.last_t + 1) * 30)
