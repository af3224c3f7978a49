"""AU-1: no usable account after install; the first admin comes from the command line and
must change the one-time password (and bind a second factor) before anything else."""

import re
from base64 import b32decode
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import Role, RoleGrant, User
from accounts.tests.helpers import password_step, totp_code
from geo.models import Unit, UnitKind

DEFAULTS = [
    ("admin", "admin"),
    ("admin", "123456"),
    ("admin", ""),
    ("root", "root"),
    ("administrator", "password"),
    ("shouhu", "shouhu"),
    ("system_admin", "admin123"),
]
NEW_PASSWORD = "Lotus-Pond-4826"


def _create(username: str = "zhang_admin") -> str:
    out = StringIO()
    call_command("create_admin", "--username", username, "--full-name", "张管理", stdout=out)
    match = re.search(r"一次性密码（只显示这一次）：(\S+)", out.getvalue())
    assert match, out.getvalue()
    return match.group(1)


def test_it_has_no_account_after_migrate(db: Any) -> None:
    assert User.objects.count() == 0


@pytest.mark.parametrize(("username", "password"), DEFAULTS)
def test_it_refuses_default_credentials_after_migrate(
    db: Any, client: Client, username: str, password: str
) -> None:
    response = password_step(client, username, password)
    assert response.status_code == 200
    if password:  # an empty one is refused by the form before any check
        assert "用户名或密码不正确。" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert client.get("/").status_code == 302


def test_it_creates_the_first_system_admin_at_the_county_civil_affairs_bureau(db: Any) -> None:
    password = _create()
    user = User.objects.get(username="zhang_admin")
    assert user.full_name == "张管理" and user.must_change_password and user.check_password(password)
    grant = RoleGrant.objects.select_related("unit__region").get(user=user)
    assert grant.role == Role.SYSTEM_ADMIN
    assert grant.unit.kind == UnitKind.CIVIL_AFFAIRS and grant.unit.region.code == "450521"
    assert grant.unit.name == "合浦县民政局"
    _create("li_admin")  # a second admin reuses the bureau
    assert Unit.objects.filter(kind=UnitKind.CIVIL_AFFAIRS).count() == 1


def test_it_prints_a_different_random_password_each_time(db: Any) -> None:
    assert _create("a_admin") != _create("b_admin")


def test_it_refuses_a_taken_username(db: Any) -> None:
    _create()
    with pytest.raises(CommandError, match="已存在"):
        _create()


def test_it_needs_the_county_loaded(db: Any, settings: Any) -> None:
    settings.SHOUHU_COUNTY_CODE = "999999"
    with pytest.raises(CommandError, match="load_regions"):
        _create()
    assert not User.objects.exists()


def test_it_keeps_the_first_admin_on_mfa_and_password_pages_until_both_are_done(
    db: Any, client: Client
) -> None:
    password = _create()
    assert password_step(client, "zhang_admin", password).status_code == 302
    # A system admin must bind an authenticator first: every page leads there.
    for url in ("/", "/children/", "/accounts/manage/", "/accounts/password/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/enrol/"), url
    assert client.get("/api/children/").status_code == 403
    page = client.get("/accounts/otp/enrol/").content.decode()
    secret = re.search(r"secret=([A-Z2-7]+)", page)
    assert secret and "otpauth://totp/" in page and 'src="data:image/svg+xml' in page
    key = b32decode(secret.group(1) + "=" * (-len(secret.group(1)) % 8)).hex()
    response = client.post("/accounts/otp/enrol/", {"token": totp_code(key)})
    assert response.status_code == 302
    # Then the one-time password must go: every page leads to the change page.
    for url in ("/", "/children/", "/accounts/manage/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/password/"), url
    assert client.get("/api/children/").status_code == 403
    response = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(username="zhang_admin")
    assert not user.must_change_password and user.check_password(NEW_PASSWORD)
    assert client.get("/accounts/manage/").status_code == 200
