"""DP-5: no full ID or phone number in any page, API answer, URL or log line; no traceback on
the error page.

Every GET route of the permission matrix's ROUTES table (which test_permission_matrix keeps in
step with the URLconf) is fetched by every persona, for every sample object, with the log
captured at DEBUG. The only door that shows a full number is the reveal POST, which is not
walked here (registry/tests/test_child_reveal.py covers it).
"""

import logging
import re
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from core.tests import test_permission_matrix as matrix
from core.tests.test_permission_matrix import ROUTES, sample_url, urlconf_routes
from registry.models import Child, EntrustedGuardian, Parent
from testing.world import PASSWORD, World

# The matrix's fixtures: the World built once per module, a savepoint per test.
shared_world = matrix.shared_world
mworld = matrix.mworld

ID_NUMBER = re.compile(r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}[01][0-9][0-3][0-9][0-9]{3}[0-9Xx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
GET_ROUTES = [name for name, route in ROUTES.items() if any(op.method == "GET" for op in route.ops)]
SENTINEL = "boom-sentinel-不应显示"


def _secrets() -> set[str]:
    """Every full ID and phone number of the World's files (children, parents, guardians)."""
    values: set[str] = set()
    for number in Child.objects.values_list("id_number", flat=True):
        values.add(number)
    for model in (Parent, EntrustedGuardian):
        for number, phone in model.objects.values_list("id_number", "phone"):
            values |= {number, phone}
    values.discard("")
    return values


def _leaks(text: str, secrets: set[str]) -> list[str]:
    """Secrets of the World found in text, plus anything shaped like an ID or mobile number."""
    found = [secret for secret in secrets if secret in text]
    found += [match for match in ID_NUMBER.findall(text) + MOBILE.findall(text) if match in secrets]
    return sorted(set(found))


def _walk(client: Client, world: World) -> list[tuple[str, HttpResponse]]:
    answers = []
    for name in GET_ROUTES:
        if name not in urlconf_routes():
            continue
        route = ROUTES[name]
        for obj in route.targets():
            url = sample_url(name, route, world, obj)
            answers.append((url, client.get(url)))
    return answers


@pytest.mark.parametrize("persona", [*World.VISIBLE, matrix.ANONYMOUS])
def test_it_shows_no_full_numbers_on_any_page_or_log(
    persona: str, mworld: World, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = _secrets()
    assert len(secrets) >= 6  # the World's children and their parents' phones
    caplog.set_level(logging.DEBUG)
    if persona != matrix.ANONYMOUS:
        assert client.login(username=mworld.users[persona].username, password=PASSWORD)
    answers = _walk(client, mworld)
    assert answers
    for url, response in answers:
        assert not _leaks(url, secrets), url
        raw = b"".join(response.streaming_content) if response.streaming else response.content  # type: ignore[attr-defined]
        body = raw.decode(errors="replace")
        assert not _leaks(body, secrets), f"{persona} GET {url}: {_leaks(body, secrets)}"
        assert not _leaks(str(response.headers), secrets), url
    logged = "\n".join(f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records)
    assert not _leaks(logged, secrets)


def test_the_scan_finds_a_number_when_one_is_shown(mworld: World) -> None:
    """The detector works: the reveal answer (the one allowed exception) is found."""
    child = Child.objects.get(pk=mworld.children["a1"].pk)
    assert _leaks(f"<td>{child.id_number}</td>", _secrets()) == [child.id_number]


# --- the error page ----------------------------------------------------------------------------


def _boom(request: HttpRequest) -> HttpResponse:
    Child.objects.first()  # a view that had personal data at hand
    raise RuntimeError(SENTINEL)


urlpatterns = [path("boom/", _boom)]


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_it_answers_an_error_with_the_generic_chinese_page(mworld: World, caplog: Any) -> None:
    client = Client(raise_request_exception=False)
    assert client.login(username=mworld.users["county_admin"].username, password=PASSWORD)
    caplog.set_level(logging.DEBUG)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "系统出错了" in body
    assert "Traceback" not in body and SENTINEL not in body and "RuntimeError" not in body
    assert not _leaks(body, _secrets())
    assert not _leaks("\n".join(record.getMessage() for record in caplog.records), _secrets())
