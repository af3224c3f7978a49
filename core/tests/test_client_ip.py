"""core.net.client_ip: X-Forwarded-For is believed only from trusted proxies (AC-9, LG-2)."""

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from audit.models import AuditEvent
from core.net import client_ip
from testing.world import World

TRUSTED = ["10.9.0.0/24", "192.0.2.1"]


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.7", "", [], "203.0.113.7"),
        ("203.0.113.7", "198.51.100.1", [], "203.0.113.7"),  # no trusted proxy: header ignored
        ("203.0.113.7", "198.51.100.1", TRUSTED, "203.0.113.7"),  # not from a trusted proxy
        ("10.9.0.2", "198.51.100.1", TRUSTED, "198.51.100.1"),
        ("10.9.0.2", "6.6.6.6, 198.51.100.1", TRUSTED, "198.51.100.1"),  # left of it: client's words
        ("10.9.0.2", "198.51.100.1, 192.0.2.1", TRUSTED, "198.51.100.1"),  # two proxies in a row
        ("10.9.0.2", "192.0.2.1, 10.9.0.3", TRUSTED, "10.9.0.2"),  # only proxies: the peer
        ("10.9.0.2", "", TRUSTED, "10.9.0.2"),
        ("10.9.0.2", "not-an-address", TRUSTED, "10.9.0.2"),  # malformed: believe nothing
        ("10.9.0.2", "2001:db8::7", TRUSTED, "2001:db8::7"),
    ],
)
def test_it_finds_the_client(
    remote: str, forwarded: str, trusted: list[str], expected: str, settings: Any
) -> None:
    settings.SHOUHU_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_it_refuses_a_bad_proxy_setting(settings: Any) -> None:
    settings.SHOUHU_TRUSTED_PROXIES = ["10.9.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="SHOUHU_TRUSTED_PROXIES"):
        client_ip(RequestFactory().get("/", REMOTE_ADDR="10.9.0.2"))


def test_the_audit_log_records_the_client_behind_the_proxy(login: Any, world: World, settings: Any) -> None:
    settings.SHOUHU_TRUSTED_PROXIES = TRUSTED
    client = login("county_admin")
    client.get("/children/", REMOTE_ADDR="10.9.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.44")
    event = AuditEvent.objects.filter(username="county_admin").order_by("-id").first()
    assert event is not None and event.ip == "198.51.100.44"
