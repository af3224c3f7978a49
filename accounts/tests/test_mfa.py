"""AU-4: TOTP second factor, required for the privileged roles, offered to all, codes
single-use. Everything here goes through the login pages (no programmatic login)."""

import re
from base64 import b32decode
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import MFA_REQUIRED_ROLES, Role
from accounts.tests.helpers import full_login, password_step, totp_code, totp_device
from testing.world import World

# Written out, not imported: a change to the app's set shows up here.
REQUIRED = [
    "county_admin",
    "police",
    "system_admin",
    "security_admin",
    "auditor",
    "township_supervisor",
    "village_worker",
]
OPTIONAL = ["county_officer", "school_staff", "social_worker", "visiting_cadre", "no_role"]


def test_it_requires_mfa_for_the_privileged_roles() -> None:
    assert set(MFA_REQUIRED_ROLES) == {Role(role) for role in REQUIRED}


@pytest.mark.parametrize("persona", REQUIRED)
def test_it_gives_no_access_on_the_password_alone(persona: str, world: World, client: Client) -> None:
    totp_device(world.users[persona])
    assert password_step(client, persona).status_code == 302
    for url in ("/", "/children/", f"/children/{world.children['a1'].pk}/", "/accounts/security/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/"), url
    assert client.get("/api/children/").status_code == 403
    assert client.post("/children/", {"q": "zs"}).status_code == 302


@pytest.mark.parametrize("persona", REQUIRED)
def test_it_gives_access_with_a_valid_code(persona: str, world: World, client: Client) -> None:
    device = totp_device(world.users[persona])
    password_step(client, persona)
    response = client.post("/accounts/otp/", {"token": totp_code(device), "next": "/children/"})
    assert response.status_code == 302 and response["Location"] == "/children/"
    assert client.get("/children/").status_code == 200
    assert client.get("/api/children/").status_code == 200


@pytest.mark.parametrize("persona", REQUIRED)
def test_it_sends_a_privileged_user_without_an_authenticator_to_enrolment(
    persona: str, world: World, client: Client
) -> None:
    password_step(client, persona)
    response = client.get("/children/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/enrol/")


@pytest.mark.parametrize("persona", OPTIONAL)
def test_it_lets_other_roles_in_on_the_password_alone(persona: str, world: World, client: Client) -> None:
    password_step(client, persona)
    assert client.get("/children/").status_code == 200


def test_it_rejects_a_replayed_code(world: World) -> None:
    device = totp_device(world.users["police"])
    code = totp_code(device)
    first = Client()
    password_step(first, "police")
    assert first.post("/accounts/otp/", {"token": code}).status_code == 302
    second = Client()
    password_step(second, "police")
    response = second.post("/accounts/otp/", {"token": code})
    assert response.status_code == 200 and "已使用过" in response.content.decode()
    assert second.get("/children/")["Location"].startswith("/accounts/otp/")


def test_it_rejects_a_wrong_code_and_throttles(world: World, client: Client, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)  # the retry comes within the throttle's wait
    device = totp_device(world.users["police"])
    password_step(client, "police")
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = client.post("/accounts/otp/", {"token": wrong})
    assert response.status_code == 200
    assert client.get("/children/").status_code == 302
    response = client.post("/accounts/otp/", {"token": totp_code(device)})  # at once: throttled
    assert response.status_code == 200 and "尝试次数过多" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # a refused (throttled) try is not a guess


def test_it_rejects_malformed_codes(world: World, client: Client) -> None:
    totp_device(world.users["police"])
    password_step(client, "police")
    for token in ("", "12345", "abcdef", "1234567"):
        response = client.post("/accounts/otp/", {"token": token})
        assert response.status_code == 200 and "6 位数字" in response.content.decode()


def _secret_key(page: str) -> str:
    secret = re.search(r"secret=([A-Z2-7]+)", page)
    assert secret, page
    value = secret.group(1)
    return b32decode(value + "=" * (-len(value) % 8)).hex()


def test_it_enrols_with_a_qr_code_and_the_key_in_text(world: World, client: Client) -> None:
    password_step(client, "township_supervisor")
    page = client.get("/accounts/otp/enrol/").content.decode()
    assert "otpauth://totp/" in page and "issuer=%E5%AE%88%E6%8A%A4" in page
    assert re.search(r'<img src="data:image/svg\+xml[^"]+" alt="绑定二维码"', page)
    key = _secret_key(page)
    groups = re.search(r'<code class="mono">([A-Z2-7 ]+)</code>', page)
    assert groups
    text = groups.group(1).replace(" ", "")
    assert b32decode(text + "=" * (-len(text) % 8)).hex() == key
    wrong = client.post("/accounts/otp/enrol/", {"token": f"{(int(totp_code(key)) + 1) % 1_000_000:06d}"})
    assert (
        wrong.status_code == 200
        and not TOTPDevice.objects.filter(user=world.users["township_supervisor"]).exists()
    )
    code = totp_code(key)
    assert client.post("/accounts/otp/enrol/", {"token": code}).status_code == 302
    device = TOTPDevice.objects.get(user=world.users["township_supervisor"])
    assert device.confirmed and device.key == key
    assert client.get("/children/").status_code == 200
    # The code that confirmed the enrolment cannot be used again to sign in.
    other = Client()
    password_step(other, "township_supervisor")
    assert other.post("/accounts/otp/", {"token": code}).status_code == 200
    assert other.get("/children/").status_code == 302


def test_it_never_binds_a_new_authenticator_on_the_password_alone(world: World, client: Client) -> None:
    totp_device(world.users["county_admin"])
    password_step(client, "county_admin")
    response = client.get("/accounts/otp/enrol/")
    assert response.status_code == 302 and response["Location"] == "/accounts/otp/"
    response = client.post("/accounts/otp/enrol/", {"token": "123456"})
    assert response.status_code == 302 and response["Location"] == "/accounts/otp/"
    assert TOTPDevice.objects.filter(user=world.users["county_admin"]).count() == 1


def test_it_offers_mfa_to_everyone_and_then_asks_for_it(world: World, client: Client) -> None:
    user = world.users["school_staff"]
    full_login(client, user)
    page = client.get("/accounts/security/").content.decode()
    assert "未绑定（可选）" in page and "/accounts/otp/enrol/" in page
    key = _secret_key(client.get("/accounts/otp/enrol/").content.decode())
    assert client.post("/accounts/otp/enrol/", {"token": totp_code(key)}).status_code == 302
    assert "已绑定" in client.get("/accounts/security/").content.decode()
    client.post("/accounts/logout/")
    password_step(client, "school_staff")
    response = client.get("/children/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/?")
    client.post("/accounts/otp/", {"token": totp_code(key, steps=1)})
    assert client.get("/children/").status_code == 200


def test_it_changes_the_session_key_when_the_code_is_accepted(world: World, client: Client) -> None:
    device = totp_device(world.users["police"])
    password_step(client, "police")
    before = client.session.session_key
    client.post("/accounts/otp/", {"token": totp_code(device)})
    assert client.session.session_key != before


def test_it_keeps_next_on_the_same_site(world: World, client: Client) -> None:
    device = totp_device(world.users["police"])
    password_step(client, "police")
    response = client.post("/accounts/otp/", {"token": totp_code(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_it_records_second_factor_events(world: World, client: Client, time_machine: Any) -> None:
    from audit import services as audit_services

    if not hasattr(audit_services, "audit_event"):
        pytest.skip("the audit app's audit_event is not there yet")
    from audit.models import AuditEvent

    time_machine.move_to(timezone.now(), tick=False)
    device = totp_device(world.users["police"])
    password_step(client, "police")
    client.post("/accounts/otp/", {"token": "000000" if totp_code(device) != "000000" else "111111"})
    time_machine.shift(2)  # past the throttle's one-second wait
    client.post("/accounts/otp/", {"token": totp_code(device)})
    rows = list(AuditEvent.objects.order_by("id").values_list("action", "outcome", "detail"))
    events: list[Any] = [(action, outcome, detail.get("event")) for action, outcome, detail in rows]
    assert events == [
        ("login", "success", "login"),
        ("login_failed", "failure", "login_mfa"),
        ("login", "success", "login_mfa"),
    ]
