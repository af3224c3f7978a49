"""SE-1 idle and absolute limits, SE-2 one session for privileged roles, SE-3 cookie names,
DP-6 logout. Sign-ins go through the login pages."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import UserSession
from accounts.tests.helpers import full_login, password_step
from testing.world import World

ROOT = Path(__file__).resolve().parents[2]


def _key(client: Client) -> str:
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key
    return key


def _stored(key: str) -> bool:
    return UserSession.objects.filter(session_key=key).exists()


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_ends_an_idle_session_after_15_minutes(world: World, client: Client, time_machine: Any) -> None:
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    full_login(client, world.users["school_staff"])
    assert client.get("/children/").status_code == 200
    key = _key(client)
    time_machine.move_to(start + dt.timedelta(minutes=14), tick=False)
    assert client.get("/children/").status_code == 200  # activity keeps it alive
    time_machine.move_to(start + dt.timedelta(minutes=14 + 16), tick=False)
    assert _to_login(client.get("/children/"))
    assert not _stored(key)
    assert client.get("/api/children/").status_code == 403


def test_it_applies_a_shorter_idle_limit_from_the_policy(
    world: World, client: Client, time_machine: Any
) -> None:
    from accounts.models import SecurityPolicy

    policy = SecurityPolicy.defaults()
    policy.session_idle_minutes = 5
    policy.save()
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    full_login(client, world.users["school_staff"])
    key = _key(client)
    time_machine.move_to(start + dt.timedelta(minutes=6), tick=False)
    assert _to_login(client.get("/children/"))
    assert not _stored(key)


def test_it_ends_a_session_after_8_hours_however_active(
    world: World, client: Client, time_machine: Any
) -> None:
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    full_login(client, world.users["school_staff"])
    minutes = 0
    while minutes < 8 * 60 - 10:
        minutes += 10
        time_machine.move_to(start + dt.timedelta(minutes=minutes), tick=False)
        assert client.get("/").status_code == 200, minutes
    key = _key(client)
    time_machine.move_to(start + dt.timedelta(hours=8, minutes=1), tick=False)
    assert _to_login(client.get("/"))
    assert not _stored(key)


def test_it_deletes_the_session_on_logout_and_clears_site_data(world: World, client: Client) -> None:
    full_login(client, world.users["county_admin"])
    key = _key(client)
    response = client.post("/accounts/logout/")
    assert _to_login(response)
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert not _stored(key)
    old = Client()
    old.cookies[settings.SESSION_COOKIE_NAME] = key  # the old cookie, replayed
    assert _to_login(old.get("/children/"))
    assert old.get("/api/children/").status_code == 403


def test_it_keeps_one_session_for_privileged_roles(world: World) -> None:
    first, second = Client(), Client()
    full_login(first, world.users["county_admin"])
    assert first.get("/children/").status_code == 200
    old = _key(first)
    full_login(second, world.users["county_admin"])
    assert second.get("/children/").status_code == 200
    assert not _stored(old)
    assert _to_login(first.get("/children/"))


def test_it_does_not_let_a_password_alone_end_the_other_session(world: World) -> None:
    first, second = Client(), Client()
    full_login(first, world.users["police"])
    password_step(second, "police")  # the password, without the code
    assert first.get("/children/").status_code == 200


def test_it_allows_several_sessions_for_other_roles(world: World) -> None:
    first, second = Client(), Client()
    full_login(first, world.users["school_staff"])
    full_login(second, world.users["school_staff"])
    assert first.get("/children/").status_code == 200
    assert second.get("/children/").status_code == 200


def test_it_can_keep_one_session_for_everyone(world: World, settings: Any) -> None:
    settings.SHOUHU_SINGLE_SESSION_FOR_ALL = True
    first, second = Client(), Client()
    full_login(first, world.users["school_staff"])
    full_login(second, world.users["school_staff"])
    assert _to_login(first.get("/children/"))
    assert second.get("/children/").status_code == 200


def test_it_ends_the_other_sessions_on_password_change(world: World) -> None:
    first, second = Client(), Client()
    full_login(first, world.users["school_staff"])
    full_login(second, world.users["school_staff"])
    old_first, old_second = _key(first), _key(second)
    new = "Lotus-Pond-4826"
    response = first.post(
        "/accounts/password/",
        {"old_password": "Test-Passw0rd-Shouhu", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert not _stored(old_first) and not _stored(old_second)
    assert first.get("/children/").status_code == 200  # under a new key
    assert _to_login(second.get("/children/"))


def test_it_sets_the_session_user_column(world: World, client: Client) -> None:
    user = world.users["school_staff"]
    full_login(client, user)
    assert UserSession.objects.get(session_key=_key(client)).user == user


def _settings_in_subprocess(**env: str) -> dict[str, Any]:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: getattr(settings, k) for k in ("
        "'SESSION_COOKIE_NAME', 'CSRF_COOKIE_NAME', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'SESSION_COOKIE_AGE', "
        "'SESSION_EXPIRE_AT_BROWSER_CLOSE', 'SESSION_COOKIE_DOMAIN', 'SESSION_COOKIE_PATH')}))"
    )
    # The test process's environment (keys that other settings require included), less
    # what the test settings force for local runs.
    unset = {"DATABASE_URL", "SHOUHU_SECURE_COOKIES", "SHOUHU_DEBUG"}
    clean = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("DJANGO_")}
    clean.update(
        DJANGO_SETTINGS_MODULE="shouhu.settings",
        SHOUHU_SECRET_KEY="x" * 60,
        SHOUHU_INDEX_KEY="y" * 60,
        DATABASE_URL="sqlite:///:memory:",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, check=True
    )
    values: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return values


def test_it_uses_host_prefixed_secure_cookies_in_production() -> None:
    values = _settings_in_subprocess()
    assert values["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert values["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    assert (
        values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    )
    assert values["SESSION_COOKIE_SAMESITE"] == values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["SESSION_COOKIE_DOMAIN"] is None and values["SESSION_COOKIE_PATH"] == "/"
    assert values["SESSION_COOKIE_AGE"] == 15 * 60 and values["SESSION_EXPIRE_AT_BROWSER_CLOSE"]


def test_it_uses_plain_cookie_names_for_local_http() -> None:
    values = _settings_in_subprocess(SHOUHU_SECURE_COOKIES="0")
    assert values["SESSION_COOKIE_NAME"] == "sessionid" and not values["SESSION_COOKIE_SECURE"]
