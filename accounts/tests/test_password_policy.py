"""AU-2: length, composition, common passwords, context words, history and expiry."""

import datetime as dt
import itertools
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.forms import ChangePasswordForm
from accounts.models import PasswordHistory, User
from accounts.tests.helpers import full_login, password_step
from testing.world import PASSWORD, World


def _errors(user: User, new: str) -> set[str]:
    form = ChangePasswordForm(user, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    form.is_valid()
    return {error.code for error in form.errors.as_data().get("new_password2", [])}


def _messages(user: User, new: str) -> str:
    form = ChangePasswordForm(user, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    form.is_valid()
    return " ".join(form.errors.get("new_password2", []))


@pytest.mark.parametrize(
    "password",
    [
        "Lotus-Pond-4826",  # four classes
        "lotus-pond-4826",  # lower, digits, symbols
        "LOTUSPOND4826x",  # upper, lower, digits
        "Lotus Pond Eight",  # upper, lower, symbol (space)
        "红树林-Mangrove-7",  # Chinese letters count as letters
    ],
)
def test_it_accepts_strong_passwords(world: World, password: str) -> None:
    assert _errors(world.users["school_staff"], password) == set()


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Lotus-Pond1", "password_too_short"),  # 11 characters
        ("lotuspondeight", "password_too_simple"),  # one class
        ("lotuspond48263", "password_too_simple"),  # two classes
        ("LOTUS-POND-EIGHT", "password_too_simple"),  # two classes
        ("Password1234", "password_too_common"),
        ("Qwerty123456", "password_too_common"),
        ("Shouhu-2024-ok", "password_context"),  # the project
        ("守护Abc-12345", "password_context"),
        ("Hepu-Lotus-2024", "password_context"),  # the county in pinyin
        ("合浦县Lotus-2024", "password_context"),  # the county in Chinese
        ("LIANZHOU-lotus-7", "password_context"),  # a township, any case
        ("廉州Lotus-20240", "password_context"),  # a township's stem
        ("Xingdaohu-Bay-9", "password_context"),
        ("School_staff-99", "password_context"),  # the username
    ],
)
def test_it_refuses_weak_passwords(world: World, password: str, code: str) -> None:
    assert code in _errors(world.users["school_staff"], password)


def test_it_refuses_the_full_name_in_chinese_and_pinyin(world: World) -> None:
    user = world.users["school_staff"]
    user.full_name = "王小明"
    user.save(update_fields=["full_name"])
    assert "password_context" in _errors(user, "Wangxiaoming-77")
    assert "password_context" in _errors(user, "王小明-Lotus-2024")


def test_it_explains_in_chinese(world: World) -> None:
    text = _messages(world.users["school_staff"], "lotus")
    assert "12" in text and "至少 3 类" in text


def _change(client: Client, old: str, new: str) -> Any:
    return client.post(
        "/accounts/password/", {"old_password": old, "new_password1": new, "new_password2": new}
    )


def test_it_refuses_the_last_five_passwords(world: World, client: Client) -> None:
    user = world.users["school_staff"]
    full_login(client, user)
    passwords = [PASSWORD] + [f"Lotus-Pond-{n}{n}{n}{n}" for n in range(1, 7)]
    for old, new in itertools.pairwise(passwords):
        assert _change(client, old, new).status_code == 302
    current = passwords[-1]
    for reused in passwords[-5:]:
        response = _change(client, current, reused)
        assert response.status_code == 200 and "最近 5 次" in response.content.decode(), reused
    user.refresh_from_db()
    assert user.check_password(current)
    assert PasswordHistory.objects.filter(user=user).count() == 5  # older hashes are not kept
    assert _change(client, current, passwords[1]).status_code == 302  # the sixth back is allowed again


def test_it_records_the_change(world: World, client: Client) -> None:
    user = world.users["school_staff"]
    full_login(client, user)
    before = timezone.now()
    assert _change(client, PASSWORD, "Lotus-Pond-4826").status_code == 302
    user.refresh_from_db()
    assert user.password_changed_at is not None and user.password_changed_at >= before
    assert not user.must_change_password
    history = PasswordHistory.objects.get(user=user)
    assert history.password == user.password and "Lotus" not in history.password


def test_it_refuses_a_wrong_current_password(world: World, client: Client) -> None:
    user = world.users["school_staff"]
    full_login(client, user)
    response = _change(client, "Not-The-Password-1", "Lotus-Pond-4826")
    assert response.status_code == 200 and "当前密码不正确" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_it_sends_an_expired_password_to_the_change_page(
    world: World, client: Client, time_machine: Any
) -> None:
    joined = world.users["school_staff"].date_joined
    time_machine.move_to(joined + dt.timedelta(days=91), tick=False)
    assert password_step(client, "school_staff").status_code == 302
    for url in ("/", "/children/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/password/"), url
    assert client.get("/api/children/").status_code == 403
    assert _change(client, PASSWORD, "Lotus-Pond-4826").status_code == 302
    assert client.get("/children/").status_code == 200


def test_it_expires_during_a_session_on_the_next_request(
    world: World, client: Client, time_machine: Any
) -> None:
    joined = world.users["school_staff"].date_joined
    time_machine.move_to(joined + dt.timedelta(days=90, minutes=-5), tick=False)
    assert password_step(client, "school_staff").status_code == 302
    assert client.get("/children/").status_code == 200
    time_machine.move_to(joined + dt.timedelta(days=90, minutes=5), tick=False)
    response = client.get("/children/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/password/")


def test_it_takes_the_expiry_from_the_policy(
    world: World, client: Client, time_machine: Any, settings: Any
) -> None:
    settings.SHOUHU_PASSWORD_MAX_AGE_DAYS = 30
    joined = world.users["school_staff"].date_joined
    time_machine.move_to(joined + dt.timedelta(days=31), tick=False)
    password_step(client, "school_staff")
    assert client.get("/children/")["Location"].startswith("/accounts/password/")
