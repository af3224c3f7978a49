"""AC-7: dormant and expired accounts are disabled; disabling ends their sessions."""

import datetime as dt
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.models import User, UserSession
from accounts.tasks import disable_dormant_accounts
from accounts.tests.helpers import full_login, password_step
from testing.world import World


def _run() -> str:
    out = StringIO()
    call_command("disable_dormant_accounts", stdout=out)
    return out.getvalue()


def test_it_disables_accounts_unused_for_90_days(world: World, time_machine: Any) -> None:
    start = timezone.now()
    time_machine.move_to(start + dt.timedelta(days=89), tick=False)
    assert _run() == "没有需要停用的账号。\n"
    time_machine.move_to(start + dt.timedelta(days=91), tick=False)
    out = _run()
    assert "已停用" in out and "school_staff" in out
    user = User.objects.get(username="school_staff")
    assert not user.is_active and user.disabled_reason == "连续 90 天未使用"
    assert not User.objects.filter(is_active=True).exists()  # none of the World signed in since


def test_it_counts_from_the_last_login(world: World, time_machine: Any) -> None:
    start = timezone.now()
    time_machine.move_to(start + dt.timedelta(days=60), tick=False)
    full_login(Client(), world.users["school_staff"])
    time_machine.move_to(start + dt.timedelta(days=91), tick=False)
    _run()
    assert User.objects.get(username="school_staff").is_active
    assert not User.objects.get(username="social_worker").is_active


def test_it_honours_the_end_date(world: World, time_machine: Any) -> None:
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    user = world.users["school_staff"]
    user.valid_until = timezone.localdate() + dt.timedelta(days=2)
    user.save(update_fields=["valid_until"])
    client = Client()
    full_login(client, user)
    time_machine.move_to(start + dt.timedelta(days=3), tick=False)
    assert password_step(Client(), "school_staff").status_code == 200  # refused before any job ran
    _run()
    user.refresh_from_db()
    assert not user.is_active and user.disabled_reason == "账号已过有效期"
    assert User.objects.get(username="police").is_active


def test_it_ends_the_sessions_of_a_disabled_account(world: World, time_machine: Any) -> None:
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    user = world.users["school_staff"]
    user.valid_until = timezone.localdate()
    user.save(update_fields=["valid_until"])
    client = Client()
    full_login(client, user)
    key = client.session.session_key
    time_machine.move_to(start + dt.timedelta(days=1), tick=False)
    disable_dormant_accounts.enqueue()  # the task the scheduler will run
    assert not User.objects.get(pk=user.pk).is_active
    assert not UserSession.objects.filter(session_key=key).exists()


def test_it_sends_an_open_session_of_a_disabled_user_to_login(world: World, client: Client) -> None:
    user = world.users["school_staff"]
    full_login(client, user)
    User.objects.filter(pk=user.pk).update(is_active=False)  # disabled behind the session's back
    response = client.get("/children/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_gives_a_re_enabled_account_a_fresh_start(world: World, time_machine: Any) -> None:
    start = timezone.now()
    time_machine.move_to(start + dt.timedelta(days=91), tick=False)
    _run()
    user = User.objects.get(username="school_staff")
    assert not user.is_active
    services.user_enable(by=world.users["system_admin"], user=user)
    _run()
    assert User.objects.get(username="school_staff").is_active
