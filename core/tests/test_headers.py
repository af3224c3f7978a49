"""SE-3: headers on every page, CSRF on every unsafe method, no state change on GET.

The routes come from the permission matrix's ROUTES table, which test_permission_matrix
keeps in step with the URLconf: a new route gets its header and CSRF checks here for free.
"""

from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from accounts.models import User
from core.tests import test_permission_matrix as matrix
from core.tests.test_permission_matrix import ROUTES, Ctx, Op, sample_url, send, urlconf_routes
from registry.models import Child, EntrustedGuardian, Parent
from testing.world import World

# The matrix's fixtures: the World built once per module, a savepoint per test.
shared_world = matrix.shared_world
mworld = matrix.mworld

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _target(route_name: str) -> str | None:
    sample = ROUTES[route_name].sample
    return None if sample is None else ("a1" if sample == "child" else "sample")


def _persona(route_name: str, op: Op) -> str:
    """county_admin where the page admits them, else the first persona the matrix allows
    (the account pages are for the system and security admins only)."""
    obj = _target(route_name)
    candidates = ["county_admin", *(p for p in World.VISIBLE if p != "county_admin")]
    return next((p for p in candidates if op.policy(p, obj) == "ok"), "county_admin")


def _ctx(world: World, route_name: str, persona: str = "county_admin") -> Ctx:
    obj = _target(route_name)
    ctx = Ctx(world, persona, obj)
    if ROUTES[route_name].sample == "child":
        ctx.child = Child.objects.get(pk=world.children["a1"].pk)
    return ctx


def _ops(*, unsafe: bool) -> list[tuple[str, Op]]:
    return [
        (name, op) for name, route in ROUTES.items() for op in route.ops if (op.method in UNSAFE) == unsafe
    ]


GET_OPS = _ops(unsafe=False)
UNSAFE_OPS = _ops(unsafe=True)
POST_ONLY = [name for name, route in ROUTES.items() if all(op.method in UNSAFE for op in route.ops)]


def _skip_if_gone(name: str) -> None:
    if name not in urlconf_routes():
        pytest.skip(f"{name} is not in the URLconf")


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (part.split() for part in csp.split(";") if part.strip())
    return {words[0].lower(): words[1:] for words in parts}


def assert_privacy_headers(response: HttpResponse, where: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert csp, f"{where}: no Content-Security-Policy"
    directives = _directives(csp)
    assert directives.get("frame-ancestors") == ["'none'"], f"{where}: CSP frame-ancestors: {csp}"
    script = directives.get("script-src", directives.get("default-src"))
    assert script is not None, f"{where}: CSP has neither script-src nor default-src: {csp}"
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, (
        f"{where}: CSP script-src: {csp}"
    )
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy", "") in {"same-origin", "no-referrer", "strict-origin"}, (
        f"{where}: Referrer-Policy {response.headers.get('Referrer-Policy')!r}"
    )
    assert "no-store" in response.headers.get("Cache-Control", ""), (
        f"{where}: Cache-Control {response.headers.get('Cache-Control')!r}"
    )


def _snapshot() -> tuple[Any, ...]:
    return (
        tuple(Child.objects.order_by("pk").values_list("pk", "version", "status", "current_address")),
        Parent.objects.count(),
        EntrustedGuardian.objects.count(),
        User.objects.count(),
    )


@pytest.mark.parametrize(("name", "op"), GET_OPS, ids=[f"{name}-{op.method}" for name, op in GET_OPS])
def test_it_sends_privacy_headers_and_changes_nothing_on_get(
    name: str, op: Op, mworld: World, client: Client
) -> None:
    _skip_if_gone(name)
    persona = _persona(name, op)
    ctx = _ctx(mworld, name, persona)
    url = sample_url(name, ROUTES[name], mworld, ctx.obj)
    client.force_login(mworld.users[persona])
    before = _snapshot()
    response = send(client, op, url, None)
    assert response.status_code == op.ok, f"GET {url}: {response.status_code}"
    assert_privacy_headers(response, f"GET {url}")
    assert _snapshot() == before, f"GET {url} changed state"


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/no-such-page/", "/children/6f0d5c1e-9b7a-4c1e-8d2f-000000000404/"]
)
def test_it_sends_privacy_headers_on_public_and_error_pages(url: str, mworld: World, client: Client) -> None:
    assert_privacy_headers(client.get(url), f"GET {url} (anonymous)")
    client.force_login(mworld.users["county_admin"])
    assert_privacy_headers(client.get(url), f"GET {url} (county_admin)")


@pytest.mark.parametrize(("name", "op"), UNSAFE_OPS, ids=[f"{name}-{op.method}" for name, op in UNSAFE_OPS])
def test_it_refuses_unsafe_methods_without_a_csrf_token(name: str, op: Op, mworld: World) -> None:
    _skip_if_gone(name)
    client = Client(enforce_csrf_checks=True)
    client.force_login(mworld.users["county_admin"])
    assert client.get("/").status_code == 200  # the page sets the CSRF cookie; the token is left out
    assert client.cookies.get("csrftoken"), "no CSRF cookie after a page load"
    ctx = _ctx(mworld, name)
    if op.setup:
        op.setup(ctx)
    url = sample_url(name, ROUTES[name], mworld, ctx.obj)
    data = op.data(ctx) if op.data else None
    before = _snapshot()
    response = send(client, op, url, data)
    assert response.status_code == 403, f"{op.method} {url} without CSRF token: {response.status_code}"
    assert _snapshot() == before, f"{op.method} {url} without CSRF token changed state"
    if name == "accounts:logout":
        assert client.get("/").status_code == 200, "logout without a CSRF token logged the user out"


def test_it_refuses_a_login_post_without_a_csrf_token(mworld: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"username": "county_admin", "password": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize("name", POST_ONLY)
def test_it_answers_405_to_get_on_state_changing_routes(name: str, mworld: World, client: Client) -> None:
    _skip_if_gone(name)
    ctx = _ctx(mworld, name)
    op = ROUTES[name].ops[0]
    if op.setup:
        op.setup(ctx)
    url = sample_url(name, ROUTES[name], mworld, ctx.obj)
    params = op.data(ctx) if op.data else {}
    client.force_login(mworld.users["county_admin"])
    before = _snapshot()
    response = client.get(url, params)  # the form's fields in the query string
    assert response.status_code == 405, f"GET {url}: {response.status_code}"
    assert _snapshot() == before, f"GET {url} changed state"
    if name == "accounts:logout":
        assert client.get("/").status_code == 200, "GET logout logged the user out"
