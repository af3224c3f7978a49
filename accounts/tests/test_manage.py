"""AC-6 三员分立: the system admin manages accounts (and nothing else); nobody changes their
own grants; every change leaves a history row and an audit event."""

import re
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, RoleGrant, User, UserSession
from accounts.tests.helpers import full_login, password_step
from core.tests.test_headers import assert_privacy_headers
from geo.models import Region, Unit, UnitKind
from testing.world import World


@pytest.fixture
def admin(world: World, client: Client) -> Client:
    client.force_login(world.users["system_admin"])
    return client


def _audit_rows() -> list[tuple[str, str, str]]:
    """(action, outcome, accounts event) of the audit rows written so far."""
    from audit import services as audit_services

    if hasattr(audit_services, "audit_event"):
        from audit.models import AuditEvent

        rows = AuditEvent.objects.order_by("id").values_list("action", "outcome", "detail")
        return [(action, outcome, detail.get("event", "")) for action, outcome, detail in rows]
    from audit.models import AccessLog  # type: ignore[attr-defined]  # pragma: no cover

    rows = AccessLog.objects.order_by("id").values_list("action", "detail")  # pragma: no cover
    return [(a, d.get("outcome", ""), d.get("event", "")) for a, d in rows]  # pragma: no cover


def _one_time_password(response: Any) -> str:
    match = re.search(r'<code class="mono">([^<]+)</code>', response.content.decode())
    assert match, response.content.decode()[:400]
    return match.group(1)


def test_it_lists_accounts_to_the_system_admin_only(world: World, admin: Client) -> None:
    response = admin.get("/accounts/manage/")
    assert response.status_code == 200
    assert_privacy_headers(response, "GET /accounts/manage/")
    body = response.content.decode()
    for user in world.users.values():
        assert user.username in body
    found = admin.post("/accounts/manage/", {"q": "polic"}).content.decode()
    assert "police" in found and "school_staff" not in found


def test_it_pages_the_account_list(world: World, admin: Client) -> None:
    for n in range(60):
        User.objects.create_user(username=f"zz_user_{n:02d}", password=None)
    first = admin.get("/accounts/manage/")
    users = first.context["users"]
    assert len(users) == 50 and first.context["next_after"] == users[-1].pk
    second = admin.get("/accounts/manage/", {"after": str(users[-1].pk)})
    rest = [user.username for user in second.context["users"]]
    assert len(rest) == User.objects.count() - 50 and rest == sorted(rest)
    assert not {user.username for user in users} & set(rest)


@pytest.mark.parametrize(
    "persona", ["county_admin", "security_admin", "auditor", "village_worker", "no_role"]
)
def test_it_refuses_account_management_to_everyone_else(persona: str, world: World, client: Client) -> None:
    client.force_login(world.users[persona])
    target = world.users["school_staff"]
    assert client.get("/accounts/manage/").status_code == 403
    assert client.get(f"/accounts/manage/{target.pk}/").status_code == 403
    response = client.post(f"/accounts/manage/{target.pk}/disable/", {"reason": "越权尝试"})
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.is_active


def test_it_gives_the_system_admin_no_child_file_and_no_audit_log(world: World, admin: Client) -> None:
    assert admin.get(f"/children/{world.children['a1'].pk}/").status_code == 404
    assert world.children["a1"].name not in admin.post("/children/", {"q": ""}).content.decode()
    assert admin.get("/api/children/").json()["results"] == []
    assert admin.get("/audit/access-log/").status_code == 403


def test_it_creates_an_account_with_a_one_time_password(world: World, admin: Client) -> None:
    data = {
        "username": "new_worker",
        "full_name": "陈新",
        "role": Role.VILLAGE_WORKER,
        "unit": str(Unit.objects.get(name="甲一村委会").pk),
        "region": str(world.village_a1.pk),
        "valid_until": "",
    }
    response = admin.post("/accounts/manage/new/", data)
    assert response.status_code == 200
    assert_privacy_headers(response, "POST /accounts/manage/new/")
    password = _one_time_password(response)
    user = User.objects.get(username="new_worker")
    assert user.must_change_password and user.check_password(password) and user.full_name == "陈新"
    grant = RoleGrant.objects.get(user=user)
    assert (grant.role, grant.region, grant.granted_by) == (
        Role.VILLAGE_WORKER,
        world.village_a1,
        world.users["system_admin"],
    )
    assert ("account", "success", "user_create") in _audit_rows()
    assert password not in str(_audit_rows())
    # The new worker signs in with it, and must change it (after binding an authenticator).
    newcomer = Client()
    assert password_step(newcomer, "new_worker", password).status_code == 302
    assert newcomer.get("/children/")["Location"].startswith("/accounts/otp/enrol/")


def test_it_offers_only_units_and_regions_of_its_own_county(world: World, admin: Client) -> None:
    elsewhere = Region.objects.get(code="450502001", valid_to__isnull=True)
    outside = Unit.objects.create(name="外县民政", kind=UnitKind.CIVIL_AFFAIRS, region=elsewhere)
    form = admin.get("/accounts/manage/new/").context["form"]
    units = {str(pk) for pk, _ in form.fields["unit"].choices if pk}
    regions = {str(pk) for pk, _ in form.fields["region"].choices if pk}
    assert str(outside.pk) not in units and str(world.school.pk) in units
    assert str(world.village_other.pk) not in regions and str(world.village_a1.pk) in regions
    target = world.users["school_staff"]
    response = admin.post(
        f"/accounts/manage/{target.pk}/grant/",
        {"role": Role.COUNTY_OFFICER, "unit": str(outside.pk), "region": ""},
    )
    assert response.status_code == 302
    assert not RoleGrant.objects.filter(user=target, unit=outside).exists()


def test_it_grants_and_revokes_and_ends_the_users_sessions(world: World, admin: Client) -> None:
    target = world.users["school_staff"]
    other = Client()
    full_login(other, target)
    response = admin.post(
        f"/accounts/manage/{target.pk}/grant/",
        {"role": Role.COUNTY_OFFICER, "unit": str(Unit.objects.get(name="合浦县教育局").pk), "region": ""},
    )
    assert response.status_code == 302
    grant = RoleGrant.objects.get(user=target, role=Role.COUNTY_OFFICER)
    assert grant.active and grant.granted_by == world.users["system_admin"]
    assert not UserSession.objects.filter(user=target).exists()
    assert other.get("/children/")["Location"].startswith("/accounts/login/")
    response = admin.post(f"/accounts/manage/{target.pk}/revoke/", {"grant": str(grant.pk)})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert not grant.active
    assert [row.active for row in grant.history.order_by("history_date")] == [True, False]
    events = _audit_rows()
    assert ("permission", "success", "grant_add") in events and (
        "permission",
        "success",
        "grant_revoke",
    ) in events


@pytest.mark.parametrize(
    ("persona", "role"),
    [("school_staff", Role.AUDITOR), ("security_admin", Role.AUDITOR), ("auditor", Role.COUNTY_OFFICER)],
)
def test_it_keeps_the_three_admin_roles_apart(persona: str, role: str, world: World, admin: Client) -> None:
    target = world.users[persona]
    civil = Unit.objects.get(name="合浦县民政局")
    response = admin.post(
        f"/accounts/manage/{target.pk}/grant/",
        {"role": role, "unit": str(civil.pk), "region": ""},
        follow=True,
    )
    assert "三员分立" in response.content.decode()
    assert not RoleGrant.objects.filter(user=target, role=role).exists()


@pytest.mark.parametrize(
    ("url", "data", "event"),
    [
        ("grant/", {"role": Role.COUNTY_ADMIN, "unit": "civil", "region": ""}, "grant_add"),
        ("revoke/", {"grant": "mine"}, "grant_revoke"),
        ("disable/", {"reason": "自己停用自己"}, "user_disable"),
        ("enable/", {}, "user_enable"),
        ("sessions/end/", {}, "sessions_end"),
        ("password/reset/", {}, "password_reset"),
    ],
)
def test_it_refuses_changes_to_ones_own_account(
    url: str, data: dict[str, str], event: str, world: World, admin: Client
) -> None:
    me = world.users["system_admin"]
    if data.get("unit") == "civil":
        data["unit"] = str(Unit.objects.get(name="合浦县民政局").pk)
    if data.get("grant") == "mine":
        data["grant"] = str(RoleGrant.objects.get(user=me).pk)

    def state() -> tuple[Any, ...]:
        me.refresh_from_db()
        grants = sorted(RoleGrant.objects.filter(user=me).values_list("role", "active"))
        return grants, me.password, me.is_active, UserSession.objects.filter(user=me).count()

    before = state()
    response = admin.post(f"/accounts/manage/{me.pk}/{url}", data)
    assert response.status_code == 403
    assert state() == before
    assert ("denied", "denied", event) in _audit_rows()


def test_it_disables_and_enables_and_a_disabled_session_ends(world: World, admin: Client) -> None:
    target = world.users["school_staff"]
    other = Client()
    full_login(other, target)
    key = other.session.session_key
    response = admin.post(f"/accounts/manage/{target.pk}/disable/", {"reason": "调离岗位"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.is_active and target.disabled_reason == "调离岗位"
    assert not UserSession.objects.filter(session_key=key).exists()
    assert other.get("/children/")["Location"].startswith("/accounts/login/")
    assert password_step(Client(), "school_staff").status_code == 200  # cannot sign in
    assert admin.post(f"/accounts/manage/{target.pk}/enable/").status_code == 302
    target.refresh_from_db()
    assert target.is_active and target.enabled_at is not None
    assert password_step(Client(), "school_staff").status_code == 302
    states = [row.is_active for row in target.history.order_by("history_date")]
    assert states[-2:] == [False, True]


def test_it_ends_sessions_on_request(world: World, admin: Client) -> None:
    target = world.users["school_staff"]
    other = Client()
    full_login(other, target)
    assert admin.post(f"/accounts/manage/{target.pk}/sessions/end/").status_code == 302
    assert not UserSession.objects.filter(user=target).exists()
    assert other.get("/children/")["Location"].startswith("/accounts/login/")


def test_it_resets_a_password_once(world: World, admin: Client) -> None:
    target = world.users["school_staff"]
    other = Client()
    full_login(other, target)
    response = admin.post(f"/accounts/manage/{target.pk}/password/reset/")
    assert response.status_code == 200
    password = _one_time_password(response)
    target.refresh_from_db()
    assert target.check_password(password) and target.must_change_password
    assert other.get("/children/")["Location"].startswith("/accounts/login/")
    again = admin.get(f"/accounts/manage/{target.pk}/")
    assert password not in again.content.decode()


def test_it_shows_an_account_with_its_grants(world: World, admin: Client) -> None:
    target = world.users["police"]
    response = admin.get(f"/accounts/manage/{target.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "公安民警" in body and "廉州派出所" in body
    assert admin.get("/accounts/manage/6f0d5c1e-9b7a-4c1e-8d2f-000000000404/").status_code == 404


def test_it_resets_a_lost_authenticator(world: World, admin: Client) -> None:
    target = world.users["police"]
    phone = Client()
    device = full_login(phone, target)
    assert device is not None
    page = admin.get(f"/accounts/manage/{target.pk}/").content.decode()
    assert "已绑定" in page and "解除动态验证码绑定" in page
    assert admin.post(f"/accounts/manage/{target.pk}/otp/reset/").status_code == 302
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert phone.get("/children/")["Location"].startswith("/accounts/login/")
    fresh = Client()
    password_step(fresh, "police")
    assert fresh.get("/children/")["Location"].startswith("/accounts/otp/enrol/")
    assert ("account", "success", "mfa_reset") in _audit_rows()


def test_it_refuses_to_reset_ones_own_authenticator(world: World, admin: Client) -> None:
    me = world.users["system_admin"]
    TOTPDevice.objects.create(user=me, name="我的", confirmed=True)
    assert admin.post(f"/accounts/manage/{me.pk}/otp/reset/").status_code == 403
    assert TOTPDevice.objects.filter(user=me).exists()
