"""AU-5: the production settings pass `check --deploy`; passwords are hashed with Argon2 and
appear in no log, no audit row, no lockout record and no session."""

import logging
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client, override_settings

from accounts.models import PasswordHistory, User, UserSession
from accounts.tests.helpers import full_login, password_step
from testing.world import PASSWORD, World

ROOT = Path(__file__).resolve().parents[2]
# The documented production environment (docs/deployment.md), plus SHOUHU_SSL_REDIRECT.
PRODUCTION = {
    "SHOUHU_SECRET_KEY": "k" * 20 + "-Qz8#vR2^mW5&pL9*tY4!nB7@xC1$dF6",
    "SHOUHU_INDEX_KEY": "i" * 64,
    "SHOUHU_ALLOWED_HOSTS": "shouhu.example.gov.cn",
    "SHOUHU_CSRF_TRUSTED_ORIGINS": "https://shouhu.example.gov.cn",
    "SHOUHU_BEHIND_TLS_PROXY": "1",
    "SHOUHU_HSTS_SECONDS": "31536000",
    "SHOUHU_SSL_REDIRECT": "1",
}


def _check_deploy(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # The test process's environment (keys that other settings require included), less
    # what the test settings force for local runs.
    unset = {"DATABASE_URL", "SHOUHU_SECURE_COOKIES", "SHOUHU_DEBUG"}
    clean = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("DJANGO_")}
    clean.update(DJANGO_SETTINGS_MODULE="shouhu.settings", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    clean.update(PRODUCTION)
    clean.update(env)
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, cwd=ROOT, env=clean, capture_output=True, text=True, check=False)


@pytest.mark.once
def test_it_passes_check_deploy_with_production_settings(tmp_path: Path) -> None:
    result = _check_deploy(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.once
def test_check_deploy_fails_when_cookies_are_not_secure(tmp_path: Path) -> None:
    result = _check_deploy(tmp_path, SHOUHU_SECURE_COOKIES="0")
    assert result.returncode != 0 and "W012" in result.stdout + result.stderr


def test_it_hashes_passwords_with_argon2id(world: World, client: Client) -> None:
    from shouhu import settings as production  # the test settings swap in a fast hasher

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hashers = [
        *production.PASSWORD_HASHERS,
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]  # reads the World's
    with override_settings(PASSWORD_HASHERS=hashers):
        full_login(client, world.users["school_staff"])
        new = "Lotus-Pond-4826"
        client.post(
            "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
        )
    user = User.objects.get(username="school_staff")
    assert user.password.startswith("argon2$argon2id$")
    assert PasswordHistory.objects.get(user=user).password == user.password


def test_it_logs_no_password(world: World, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [PASSWORD, "Wrong-Lotus-123", "Lotus-Pond-4826"]
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(6):  # failures and a lockout
        password_step(attacker, "school_staff", "Wrong-Lotus-123")
    password_step(attacker, "Wrong-Lotus-123", PASSWORD)  # a password typed as the username
    user = world.users["county_officer"]
    client = Client()
    full_login(client, user)
    client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "Lotus-Pond-4826", "new_password2": "Lotus-Pond-4826"},
    )
    out = StringIO()
    call_command("create_admin", "--username", "first_admin", "--full-name", "管理员", stdout=out)
    one_time = re.search(r"：(\S+)\n", out.getvalue())
    assert one_time
    secrets.append(one_time.group(1))
    admin = Client()
    admin.force_login(world.users["system_admin"])
    reset = admin.post(f"/accounts/manage/{world.users['police'].pk}/password/reset/")
    reset_password = re.search(r'<code class="mono">([^<]+)</code>', reset.content.decode())
    assert reset_password
    secrets.append(reset_password.group(1))

    stored = [caplog.text]
    stored += [f"{a.get_data} {a.post_data} {a.username}" for a in AccessAttempt.objects.all()]
    stored += [str(session.get_decoded()) for session in UserSession.objects.all()]
    stored += [str(row) for row in _audit_rows()]
    stored += list(PasswordHistory.objects.values_list("password", flat=True))
    stored += list(User.objects.values_list("password", flat=True))
    text = "\n".join(stored)
    assert AccessAttempt.objects.exists() and caplog.text
    for secret in secrets:
        assert secret not in text, f"a password appears in stored or logged data: {secret[:3]}…"


def _audit_rows() -> list[Any]:
    from audit import services as audit_services

    if hasattr(audit_services, "audit_event"):
        from audit.models import AuditEvent

        return list(AuditEvent.objects.values_list("username", "detail", "reason"))
    from audit.models import AccessLog  # type: ignore[attr-defined]  # pragma: no cover

    return list(AccessLog.objects.values_list("username", "detail"))  # pragma: no cover
