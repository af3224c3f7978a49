"""DP-5: no full ID or phone number in any page, API answer, URL or log line; no traceback on
the error page.

The walk itself is part of the permission matrix: every GET case of
core/tests/test_permission_matrix.py (every GET route × every persona × its sample objects,
with the log captured at DEBUG) passes its URL, headers, body and log lines through
`assert_no_leaks`. The only door that shows a full number is the reveal POST, which is not a GET
(registry/tests/test_child_reveal.py covers it). Here: the detector finds what it must, and
the error page.
"""

import logging
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from core.tests import test_permission_matrix as matrix
from core.tests.leaks import leaks, world_secrets
from registry.models import Child
from testing.world import PASSWORD, World

# The matrix's fixtures: the World built once per module, a savepoint per test.
shared_world = matrix.shared_world
mworld = matrix.mworld

SENTINEL = "boom-sentinel-不应显示"


def test_the_scan_finds_a_number_when_one_is_shown(mworld: World) -> None:
    """The detector works: the reveal answer (the one allowed exception) is found."""
    child = Child.objects.get(pk=mworld.children["a1"].pk)
    assert leaks(f"<td>{child.id_number}</td>", world_secrets()) == [child.id_number]


def test_the_matrix_fails_a_get_answer_that_shows_a_number(mworld: World) -> None:
    """Each of the four places the matrix looks at fails its case."""
    child = Child.objects.get(pk=mworld.children["a1"].pk)
    number = child.id_number
    clean = HttpResponse("<p>张三</p>")
    matrix.assert_no_leaks("clean", "/children/", clean, "")
    for url, response, logged in (
        (f"/children/?q={number}", clean, ""),
        ("/children/", HttpResponse(f"<td>{number}</td>"), ""),
        ("/children/", HttpResponse("ok", headers={"X-Id": number}), ""),
        ("/children/", clean, f"looked up {number}"),
    ):
        with pytest.raises(AssertionError):
            matrix.assert_no_leaks("leak", url, response, logged)


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
    assert not leaks(body, world_secrets())
    assert not leaks("\n".join(record.getMessage() for record in caplog.records), world_secrets())
