"""AU-3: 5 failures in 15 minutes lock the account and, separately, the address, for 15
minutes; the answer is the same for a wrong password, an unknown user, a disabled account
and a lockout."""

import datetime as dt
import re
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from accounts.tests.helpers import password_step
from testing.world import World

WRONG = "Wrong-Lotus-123"


def _client(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def _signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def _fail(client: Client, username: str, times: int = 1) -> None:
    for _ in range(times):
        response = password_step(client, username, WRONG)
        assert response.status_code == 200


def _normalised(body: bytes, username: str) -> str:
    text = body.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', text)
    return text.replace(f'value="{username}"', 'value="USERNAME"')


def test_it_locks_the_account_after_five_failures_and_frees_it_after_the_cooloff(
    world: World, time_machine: Any
) -> None:
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _fail(_client("10.0.0.1"), "school_staff", times=4)
    fresh = _client("10.0.0.9")
    assert password_step(fresh, "school_staff").status_code == 302  # four do not lock
    _fail(_client("10.0.0.1"), "school_staff")  # the fifth within 15 minutes does
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # the account, from any address
        client = _client(address)
        response = password_step(client, "school_staff")
        assert response.status_code == 200 and "用户名或密码不正确。" in response.content.decode()
        assert not _signed_in(client)
    time_machine.move_to(start + dt.timedelta(minutes=16), tick=False)
    client = _client("10.0.0.2")
    assert password_step(client, "school_staff").status_code == 302
    assert _signed_in(client)


def test_it_forgets_failures_older_than_15_minutes(world: World, time_machine: Any) -> None:
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    _fail(_client("10.0.0.1"), "school_staff", times=4)
    time_machine.move_to(start + dt.timedelta(minutes=16), tick=False)
    _fail(_client("10.0.0.1"), "school_staff", times=1)
    assert password_step(_client("10.0.0.2"), "school_staff").status_code == 302


def test_it_locks_an_address_whatever_names_it_tries(world: World) -> None:
    attacker = _client("203.0.113.7")
    for n in range(5):
        _fail(attacker, f"guess{n}")
    assert password_step(attacker, "school_staff").status_code == 200
    assert not _signed_in(attacker)
    # A forged X-Forwarded-For does not give the address a new identity (AC-9).
    spoofed = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert password_step(spoofed, "school_staff").status_code == 200
    # The account itself is not locked: from elsewhere it signs in.
    assert password_step(_client("10.0.0.5"), "school_staff").status_code == 302


def test_it_answers_alike_for_wrong_unknown_disabled_and_locked(world: World) -> None:
    wrong = password_step(_client("10.1.0.1"), "school_staff", WRONG)
    unknown = password_step(_client("10.1.0.2"), "nobody_here", WRONG)
    staff = world.users["social_worker"]
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    disabled = password_step(_client("10.1.0.3"), "social_worker")  # the right password
    _fail(_client("10.1.0.4"), "county_officer", times=5)
    locked = password_step(_client("10.1.0.5"), "county_officer")  # the right password
    answers = [
        (wrong, "school_staff"),
        (unknown, "nobody_here"),
        (disabled, "social_worker"),
        (locked, "county_officer"),
    ]
    statuses = {response.status_code for response, _ in answers}
    bodies = {_normalised(response.content, name) for response, name in answers}
    assert statuses == {200}
    assert len(bodies) == 1, "the answers differ"
    assert "用户名或密码不正确。" in bodies.pop()


def test_it_records_failures_and_the_lockout(world: World) -> None:
    from audit import services as audit_services

    client = _client("10.2.0.1")
    _fail(client, "school_staff", times=5)
    if hasattr(audit_services, "audit_event"):
        from audit.models import AuditEvent

        rows = list(AuditEvent.objects.order_by("id").values_list("action", "username", "outcome"))
        assert rows[:4] == [("login_failed", "school_staff", "failure")] * 4
        assert rows[4] == ("lockout", "school_staff", "failure")
        password_step(client, "nobody_here", WRONG)
        assert AuditEvent.objects.order_by("-id").values_list("username", flat=True).first() == ""
    else:  # pragma: no cover - before the audit app's audit_event exists
        from audit.models import AccessLog  # type: ignore[attr-defined]

        events = [row["event"] for row in AccessLog.objects.order_by("id").values_list("detail", flat=True)]
        assert events == ["login_failed"] * 4 + ["lockout"]


PROXY = "10.9.0.2"


def _behind_proxy(client_address: str, *, sent: str = "") -> Client:
    """A request as the reverse proxy passes it on: the proxy appends the address it received
    the request from to whatever X-Forwarded-For the client sent."""
    forwarded = f"{sent}, {client_address}" if sent else client_address
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def test_behind_a_trusted_proxy_one_client_does_not_lock_out_the_county(world: World, settings: Any) -> None:
    """AC-9 behind the documented reverse proxy: every request comes from the proxy's address,
    so without SHOUHU_TRUSTED_PROXIES five failures by anyone would lock every user out."""
    settings.SHOUHU_TRUSTED_PROXIES = ["10.9.0.0/24"]
    for n in range(5):
        _fail(_behind_proxy("203.0.113.7"), f"guess{n}")
    locked = _behind_proxy("203.0.113.7")
    assert password_step(locked, "school_staff").status_code == 200  # the attacker's address is locked
    # A forged X-Forwarded-For in front of the proxy's own entry changes nothing.
    assert password_step(_behind_proxy("203.0.113.7", sent="198.51.100.1"), "school_staff").status_code == 200
    colleague = _behind_proxy("198.51.100.20")
    assert password_step(colleague, "school_staff").status_code == 302  # others sign in
    assert _signed_in(colleague)


def test_without_trusted_proxies_the_header_is_ignored(world: World, settings: Any) -> None:
    settings.SHOUHU_TRUSTED_PROXIES = []
    for n in range(5):
        _fail(_behind_proxy("203.0.113.7"), f"guess{n}")
    # Everyone behind the proxy shares its address: the denied direction of the test above.
    assert password_step(_behind_proxy("198.51.100.20"), "school_staff").status_code == 200
