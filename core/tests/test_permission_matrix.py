"""AC-1 and AC-2: every route of the URLconf × every persona × in- and out-of-scope objects.

ROUTES below is the policy table: for each named route, how to build a sample URL, which
methods to exercise (with minimal valid data for state-changing ones) and who may do what.
test_it_lists_every_route walks the whole URLconf and fails on any route that has no row
here, so a new URL cannot land without a decision about who may use it. The cases are
generated from the table: one test id per route × method × persona × object.

Expectations are written out here, not imported from the app (accounts.models.REVEAL_ROLES
and friends), so that a change to the app's role sets shows up as a failing case.

The persona World is built once per module inside an outer transaction; each case runs in
its own savepoint (pytest-django's `db`), so state-changing cases do not leak into others.
"""

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services as account_services
from accounts.models import RoleGrant, SecurityPolicy, User, UserSession
from audit.models import AuditEvent, EmergencyAccess, EventType
from core.tests.leaks import body_text, leaks, world_secrets
from registry import choices as c
from registry.models import Child, EntrustedGuardian
from registry.services import child_file_exit
from registry.tests.helpers import edit_post, file_post
from testing.world import PASSWORD, World, build_world

ANONYMOUS = "anonymous"
PERSONAS = [*World.VISIBLE, ANONYMOUS]
CHILD_KEYS = ["a1", "a2", "b1", "other"]
MISSING = "missing"  # a well-formed uuid that names nothing
SAMPLE = "sample"  # the region or unit sample of a non-scoped object route
MISSING_ID = uuid.UUID("6f0d5c1e-9b7a-4c1e-8d2f-000000000404")

# The policy, written out: who may write, reveal, read the access log.
WRITERS = frozenset(World.WRITABLE)
REVEALERS = frozenset({"county_admin", "township_supervisor", "village_worker", "police"})
ADMINS = frozenset({"county_admin"})
# The audit trail (LG-6, AC-6): the auditor and county admins read it; alerts (OP-2) also go to
# the security admin and township supervisors; region roles may ask for break-the-glass (AC-8).
AUDIT_READERS = frozenset({"county_admin", "auditor"})
ALERT_READERS = frozenset({"security_admin", "auditor", "county_admin", "township_supervisor"})
EMERGENCY_ROLES = frozenset({"county_admin", "county_officer", "township_supervisor", "village_worker"})
# 三员分立 (AC-6): accounts are the system admin's, the security policy the security admin's.
SYSTEM_ADMINS = frozenset({"system_admin"})
SECURITY_ADMINS = frozenset({"security_admin"})

# Routes anyone may reach without login (AC-1 allowlist). Static files are allowed by prefix.
PUBLIC_ROUTES = frozenset({"accounts:login"})

LOGIN_URL = "/accounts/login/"
NEW_ADDRESS = "矩阵测试地址 7 号"


# --- walking the URLconf ---------------------------------------------------------------------


@dataclass(frozen=True)
class Walked:
    name: str
    pattern: str
    kwargs: tuple[str, ...]


def walk_urlconf(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = "", kwargs: tuple[str, ...] = ()
) -> Iterator[Walked]:
    """Every URLPattern below `resolver`, with its namespaced name, full pattern and kwargs."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        names = kwargs + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk_urlconf(entry, pattern, inner, names)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}{entry.name}" if entry.name else f"<unnamed {pattern}>"
            yield Walked(name=name, pattern=pattern, kwargs=names)


def is_public(route: Walked) -> bool:
    static = (settings.STATIC_URL or "").lstrip("/")
    return route.name in PUBLIC_ROUTES or bool(static and route.pattern.lstrip("^/").startswith(static))


@cache
def urlconf_routes() -> dict[str, Walked]:
    """Routes that need a ROUTES row: everything but the public allowlist (deduplicated by
    name, so format-suffix variants of one DRF route count once)."""
    routes: dict[str, Walked] = {}
    for route in walk_urlconf():
        if not is_public(route):
            routes.setdefault(route.name, route)
    return routes


# --- the policy table ------------------------------------------------------------------------


@dataclass
class Ctx:
    """What a case works on: the world, the persona and the target (fresh from the DB)."""

    world: World
    persona: str
    obj: str | None
    child: Child | None = None

    @property
    def admin(self) -> User:
        return self.world.users["county_admin"]


Policy = Callable[[str, str | None], str | int]  # (persona, obj) -> "ok" | 403 | 404
DataFn = Callable[[Ctx], dict[str, Any]]
EffectFn = Callable[[Ctx], Hashable]


def login_only(persona: str, obj: str | None) -> str | int:
    return 404 if obj == MISSING else "ok"


def writer_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in WRITERS else 403


def admin_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in ADMINS else 403


def system_admin_gate(persona: str, obj: str | None) -> str | int:
    """The role gate comes first: everyone else gets 403 for any account id, missing or not;
    the system admin gets 404 for a missing account."""
    if persona not in SYSTEM_ADMINS:
        return 403
    return 404 if obj == MISSING else "ok"


def security_admin_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in SECURITY_ADMINS else 403


def audit_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in AUDIT_READERS else 403


def alert_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in ALERT_READERS else 403


def emergency_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in EMERGENCY_ROLES else 403


def child_log(persona: str, obj: str | None) -> str | int:
    """Role gate first (403); the auditor may ask about any file, a county admin about files
    in scope (404 outside, like a missing one)."""
    if persona not in AUDIT_READERS:
        return 403
    if persona == "auditor":
        return 404 if obj == MISSING else "ok"
    return visible(persona, obj)


def visible(persona: str, obj: str | None) -> str | int:
    return "ok" if obj in World.VISIBLE[persona] else 404


def writable(persona: str, obj: str | None) -> str | int:
    """Write views fetch with for_write=True: anything outside children_editable_by() is 404,
    even a file the persona may read."""
    return "ok" if obj in World.WRITABLE.get(persona, set()) else 404


def reveal(persona: str, obj: str | None) -> str | int:
    """Visibility first (404 outside scope), then the reveal permission (403)."""
    if obj not in World.VISIBLE[persona]:
        return 404
    return "ok" if persona in REVEALERS else 403


def api_writable(persona: str, obj: str | None) -> str | int:
    """The API's coarse role gate (CanChangeFiles) answers 403 to read-only roles for any id,
    in scope, out of scope or missing alike (so it tells nothing); writers get 404 outside
    children_editable_by()."""
    if persona not in WRITERS:
        return 403
    return writable(persona, obj)


@dataclass(frozen=True)
class Op:
    method: str
    ok: int  # the status an allowed persona gets
    policy: Policy
    data: DataFn | None = None
    json: bool = False
    setup: Callable[[Ctx], None] | None = None
    # A snapshot that an allowed call changes and a denied one leaves as it was.
    effect: EffectFn | None = None
    # Text that an allowed response must contain (so "allowed" is not just a status code).
    shows: Callable[[Ctx], str] | None = None


@dataclass(frozen=True)
class Route:
    sample: str | None  # None, "child", "region", "unit" or "user": what goes into the URL's uuid
    ops: tuple[Op, ...]
    api: bool = False
    note: str = ""
    # For a route on an object that belongs to a child (a visit, an agreement…): given the
    # World and a child key, the value of the URL's uuid (or a dict of every uuid kwarg), made
    # on demand inside the case's savepoint. The route is then tested per child, like "child".
    lookup: Callable[[World, str], Any] | None = None

    def targets(self) -> tuple[str | None, ...]:
        if self.sample is None:
            return (None,)
        if self.sample == "child":
            return (*CHILD_KEYS, MISSING)
        return (SAMPLE, MISSING)


def _state(ctx: Ctx) -> Hashable:
    if ctx.child is None:
        return None
    child = Child.objects.get(pk=ctx.child.pk)
    return (child.version, child.status, child.current_address)


def _child_count(ctx: Ctx) -> Hashable:
    return Child.objects.count()


def _reveal_count(ctx: Ctx) -> Hashable:
    return AuditEvent.objects.filter(action=EventType.REVEAL).count()


def _target_or_a1(ctx: Ctx) -> Child:
    return ctx.child or Child.objects.get(pk=ctx.world.children["a1"].pk)


def _edit_data(ctx: Ctx) -> dict[str, Any]:
    return edit_post(_target_or_a1(ctx), current_address=NEW_ADDRESS)


def _create_data(ctx: Ctx) -> dict[str, Any]:
    return file_post(ctx.world.village_a1.id, name="矩阵新童")


def _exit_data(ctx: Ctx) -> dict[str, Any]:
    child = _target_or_a1(ctx)
    return {
        "version": child.version,
        "exit_reason": c.ExitReason.MOVED_AWAY,
        "exit_date": timezone.localdate(),
        "exit_note": "",
    }


def _reactivate_data(ctx: Ctx) -> dict[str, Any]:
    return {"version": _target_or_a1(ctx).version, "reason": "矩阵测试：恢复在册"}


def _exit_first(ctx: Ctx) -> None:
    if ctx.child is not None:
        child_file_exit(
            user=ctx.admin,
            child=ctx.child,
            expected_version=ctx.child.version,
            reason=c.ExitReason.MOVED_AWAY,
            on=timezone.localdate() - dt.timedelta(days=1),
        )
        ctx.child.refresh_from_db()


def _reveal_data(ctx: Ctx) -> dict[str, Any]:
    return {"field": "child_id", "reason": "矩阵测试：核对户籍"}


def _ledger_data(ctx: Ctx) -> dict[str, Any]:
    return {"q": "", "status": ""}


def _api_create_data(ctx: Ctx) -> dict[str, Any]:
    return {
        "name": "矩阵新童",
        "sex": c.Sex.MALE,
        "birth_date": "2016-01-01",
        "ethnicity": "汉族",
        "village": str(ctx.world.village_a1.id),
        "schooling": c.Schooling.PRIMARY,
        "care_type": c.CareType.GRANDPARENTS,
        "guardianship_rating": c.Rating.GOOD,
    }


def _api_put_data(ctx: Ctx) -> dict[str, Any]:
    child = _target_or_a1(ctx)
    return {
        "version": child.version,
        "name": child.name,
        "ethnicity": child.ethnicity,
        "village": str(child.village_id),
        "schooling": child.schooling,
        "care_type": child.care_type,
        "guardianship_rating": child.guardianship_rating,
        "current_address": NEW_ADDRESS,
    }


def _api_patch_data(ctx: Ctx) -> dict[str, Any]:
    return {"version": _target_or_a1(ctx).version, "current_address": NEW_ADDRESS}


def GET(policy: Policy = login_only, ok: int = 200, shows: Callable[[Ctx], str] | None = None) -> Op:  # noqa: N802
    return Op("GET", ok, policy, shows=shows)


def _name(ctx: Ctx) -> str:
    return ctx.child.name if ctx.child else ""


def _pk(ctx: Ctx) -> str:
    return str(ctx.child.pk) if ctx.child else ""


def _father(ctx: Ctx) -> str:
    return ctx.child.parents.get(role=c.ParentRole.FATHER).name if ctx.child else ""


def _guardian(ctx: Ctx) -> str:
    return f"{ctx.obj}监护人"


def _full_id(ctx: Ctx) -> str:
    return ctx.child.id_number if ctx.child else ""


def _file_no(ctx: Ctx) -> str:
    return ctx.child.file_no if ctx.child else ""


def _emergency_data(ctx: Ctx) -> dict[str, Any]:
    """A file outside every persona's scope (another county), with a typed reason."""
    other = Child.objects.get(pk=ctx.world.children["other"].pk)
    return {"file_no": other.file_no, "reason": "矩阵测试：外县转来的紧急个案，需核对监护情况"}


def _emergency_grants(ctx: Ctx) -> Hashable:
    return EmergencyAccess.objects.count()


# Account routes act on this persona's account (the "user" sample).
ACCOUNT = "village_worker"
NEW_PASSWORD = "Neu-Kennwort-2468"


def _account(ctx: Ctx) -> User:
    return User.objects.get(pk=ctx.world.users[ACCOUNT].pk)


def _account_name(ctx: Ctx) -> str:
    return ACCOUNT


def _grants(ctx: Ctx) -> Hashable:
    return tuple(sorted(RoleGrant.objects.filter(user=_account(ctx)).values_list("role", "active")))


def _is_active(ctx: Ctx) -> Hashable:
    return _account(ctx).is_active


def _account_password(ctx: Ctx) -> Hashable:
    return _account(ctx).password


def _account_sessions(ctx: Ctx) -> Hashable:
    # Whether any is left: the acting persona may be the account itself and add its own.
    return UserSession.objects.filter(user=_account(ctx)).exists()


def _own_password(ctx: Ctx) -> Hashable:
    user = ctx.world.users.get(ctx.persona)
    return User.objects.get(pk=user.pk).password if user else None


def _user_count(ctx: Ctx) -> Hashable:
    return User.objects.count()


def _policy(ctx: Ctx) -> Hashable:
    policy = SecurityPolicy.objects.filter(pk=1).first()
    return (policy.password_max_age_days, policy.session_idle_minutes) if policy else None


def _grant_data(ctx: Ctx) -> dict[str, Any]:
    return {"role": "school_staff", "unit": ctx.world.school.pk, "region": ""}


def _revoke_data(ctx: Ctx) -> dict[str, Any]:
    return {"grant": RoleGrant.objects.get(user=_account(ctx), role="village_worker").pk}


def _disable_data(ctx: Ctx) -> dict[str, Any]:
    return {"reason": "矩阵测试：停用"}


def _disable_first(ctx: Ctx) -> None:
    if ctx.persona != ACCOUNT:  # a disabled persona could not even ask
        account_services.user_disable(by=None, user=_account(ctx), reason="矩阵测试")


def _open_session(ctx: Ctx) -> None:
    Client().force_login(_account(ctx))


def _bind_authenticator(ctx: Ctx) -> None:
    TOTPDevice.objects.get_or_create(user=_account(ctx), name="矩阵验证器", defaults={"confirmed": True})


def _devices(ctx: Ctx) -> Hashable:
    return TOTPDevice.objects.filter(user=_account(ctx)).exists()


def _create_user_data(ctx: Ctx) -> dict[str, Any]:
    return {
        "username": "matrix_new",
        "full_name": "矩阵新用户",
        "role": "school_staff",
        "unit": ctx.world.school.pk,
    }


def _search_data(ctx: Ctx) -> dict[str, Any]:
    return {"q": ACCOUNT}


def _policy_data(ctx: Ctx) -> dict[str, Any]:
    return {
        "password_max_age_days": 60,
        "session_idle_minutes": 10,
        "session_absolute_hours": 8,
        "dormant_days": 90,
    }


def _password_data(ctx: Ctx) -> dict[str, Any]:
    return {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


def _token_data(ctx: Ctx) -> dict[str, Any]:
    return {"token": "000000"}


ROUTES: dict[str, Route] = {
    # Pages
    "home": Route(None, (GET(),)),
    "accounts:logout": Route(
        None, (Op("POST", 302, login_only),), note="anyone; always back to the login page"
    ),
    "registry:ledger": Route(None, (GET(), Op("POST", 200, login_only, _ledger_data))),
    "registry:create": Route(
        None,
        (
            GET(writer_gate),
            Op("POST", 302, writer_gate, _create_data, effect=_child_count),
        ),
    ),
    "registry:detail": Route("child", (GET(visible, shows=_name),)),
    "registry:edit": Route(
        "child",
        (
            GET(writable, shows=_name),
            Op("POST", 302, writable, _edit_data, effect=_state),
        ),
    ),
    "registry:exit": Route("child", (Op("POST", 302, writable, _exit_data, effect=_state),)),
    "registry:reactivate": Route(
        "child", (Op("POST", 302, writable, _reactivate_data, setup=_exit_first, effect=_state),)
    ),
    "registry:reveal": Route(
        "child", (Op("POST", 200, reveal, _reveal_data, effect=_reveal_count, shows=_full_id),)
    ),
    "audit:access_log": Route(None, (GET(audit_gate),)),
    "audit:child_log": Route("child", (GET(child_log, shows=_file_no),)),
    "audit:alerts": Route(None, (GET(alert_gate),)),
    "audit:report": Route(None, (GET(audit_gate),)),
    "audit:report_download": Route(None, (GET(audit_gate),)),
    "audit:emergency": Route(
        None,
        (
            GET(emergency_gate),
            Op("POST", 302, emergency_gate, _emergency_data, effect=_emergency_grants),
        ),
        note="break-the-glass on a file outside every scope: a grant, then the file page",
    ),
    # API
    "api:schema": Route(None, (GET(),), api=True),
    "api:region-list": Route(None, (GET(),), api=True, note="public facts, still behind login"),
    "api:region-detail": Route("region", (GET(),), api=True),
    "api:unit-list": Route(None, (GET(),), api=True),
    "api:unit-detail": Route("unit", (GET(),), api=True),
    "api:child-list": Route(
        None,
        (
            GET(),
            Op("POST", 201, writer_gate, _api_create_data, json=True, effect=_child_count),
        ),
        api=True,
    ),
    "api:child-detail": Route(
        "child",
        (
            GET(visible, shows=_pk),
            Op("PUT", 200, api_writable, _api_put_data, json=True, effect=_state),
            Op("PATCH", 200, api_writable, _api_patch_data, json=True, effect=_state),
        ),
        api=True,
    ),
    "api:child-parents": Route("child", (GET(visible, shows=_father),), api=True),
    "api:child-guardian": Route(
        "child",
        (GET(visible, shows=_guardian),),
        api=True,
        note="the shared world gives every child a guardian",
    ),
    # Accounts: the user's own sign-in steps and account (AU-1, AU-2, AU-4)
    "accounts:otp_verify": Route(
        None,
        (GET(ok=302), Op("POST", 302, login_only, _token_data)),
        note="signed-in personas are verified or need no code: always on to the next page",
    ),
    "accounts:otp_enrol": Route(
        None,
        (GET(), Op("POST", 200, login_only, _token_data)),
        note="personas with an authenticator see it is bound; the others get the form (a wrong code)",
    ),
    "accounts:password_change": Route(
        None, (GET(), Op("POST", 302, login_only, _password_data, effect=_own_password))
    ),
    "accounts:security": Route(None, (GET(),)),
    # Accounts: 三员分立 (AC-6)
    "accounts:policy": Route(
        None,
        (
            GET(security_admin_gate),
            Op("POST", 302, security_admin_gate, _policy_data, effect=_policy),
        ),
    ),
    "accounts:manage_users": Route(
        None,
        (
            GET(system_admin_gate, shows=_account_name),
            Op("POST", 200, system_admin_gate, _search_data, shows=_account_name),
        ),
        note="search terms by POST only",
    ),
    "accounts:manage_user_create": Route(
        None,
        (
            GET(system_admin_gate),
            Op("POST", 200, system_admin_gate, _create_user_data, effect=_user_count),
        ),
        note="answers 200 with the one-time password",
    ),
    "accounts:manage_user": Route("user", (GET(system_admin_gate, shows=_account_name),)),
    "accounts:manage_grant": Route(
        "user", (Op("POST", 302, system_admin_gate, _grant_data, effect=_grants),)
    ),
    "accounts:manage_revoke": Route(
        "user", (Op("POST", 302, system_admin_gate, _revoke_data, effect=_grants),)
    ),
    "accounts:manage_disable": Route(
        "user", (Op("POST", 302, system_admin_gate, _disable_data, effect=_is_active),)
    ),
    "accounts:manage_enable": Route(
        "user", (Op("POST", 302, system_admin_gate, setup=_disable_first, effect=_is_active),)
    ),
    "accounts:manage_sessions_end": Route(
        "user", (Op("POST", 302, system_admin_gate, setup=_open_session, effect=_account_sessions),)
    ),
    "accounts:manage_otp_reset": Route(
        "user", (Op("POST", 302, system_admin_gate, setup=_bind_authenticator, effect=_devices),)
    ),
    "accounts:manage_password_reset": Route(
        "user",
        (Op("POST", 200, system_admin_gate, effect=_account_password),),
        note="answers 200 with the one-time password",
    ),
}


def _app_routes() -> dict[str, Route]:
    """Rows kept beside each app's own tests: `<app>.tests.matrix_routes.routes(matrix)`, given
    this module (its Route, Op, GET, policies and helpers), returns that app's rows. The test
    that lists every route sees them like the rows above."""
    import importlib
    import sys

    from django.apps import apps

    found: dict[str, Route] = {}
    for config in apps.get_app_configs():
        if "site-packages" in config.path or not config.path.startswith(str(settings.BASE_DIR)):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tests.matrix_routes")
        except ModuleNotFoundError as error:
            if error.name and error.name.startswith(f"{config.name}.tests"):
                continue
            raise
        rows = module.routes(sys.modules[__name__])
        clash = set(rows) & (set(ROUTES) | set(found))
        assert not clash, f"{config.name}: matrix rows defined twice: {sorted(clash)}"
        found.update(rows)
    return found


ROUTES.update(_app_routes())


# --- the shared world ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """The World, built once per module inside a transaction that is rolled back at the end;
    each test's `db` savepoint rolls back what the test changed."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world()
        for key in CHILD_KEYS:
            EntrustedGuardian.objects.create(
                child=world.children[key], name=f"{key}监护人", relation=c.GuardianRelation.GRANDMOTHER
            )
        _SESSIONS.clear()
        _SESSIONS.update({persona: _signed_in(world.users[persona]) for persona in World.VISIBLE})
        _SECRETS.clear()
        _SECRETS.update(world_secrets())
        assert len(_SECRETS) >= 6  # the World's children and their parents' phones
        yield world
        transaction.set_rollback(True)


# persona → the key of a session signed in once per module (see _signed_in).
_SESSIONS: dict[str, str] = {}
# The World's full ID and phone numbers (DP-5: no GET answer may carry one).
_SECRETS: set[str] = set()


def _signed_in(user: User) -> str:
    """A complete sign-in (second factor included), made once per module instead of once per
    case: a sign-in costs about a fifth of a case (session, axes, bookkeeping). The session's
    row and idle limit are stretched to outlast the module (the matrix is not about idle
    timeouts: accounts/tests are); each case's savepoint undoes what its request changes."""
    from accounts.tests.helpers import mark_verified

    client = Client()
    client.force_login(user)
    mark_verified(client, user)  # (force_login may or may not be the patched one here)
    session = client.session
    limits = session[account_services.LIMITS]
    session[account_services.LIMITS] = {**limits, "idle": limits["absolute"]}
    session.save()
    UserSession.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + dt.timedelta(days=1)
    )
    return str(session.session_key)


@pytest.fixture
def mworld(shared_world: World, db: Any) -> World:
    return shared_world


# --- running one case ------------------------------------------------------------------------


def sample_url(name: str, route: Route, world: World, obj: str | None) -> str:
    walked = urlconf_routes()[name]
    if route.sample is None:
        return reverse(name)
    if obj == MISSING:
        value: Any = MISSING_ID
        if len(walked.kwargs) > 1:
            return reverse(name, kwargs=dict.fromkeys(walked.kwargs, MISSING_ID))
    elif route.lookup is not None:
        value = route.lookup(world, obj or "")
        if isinstance(value, dict):
            return reverse(name, kwargs=value)
    elif route.sample == "child":
        value = world.children[obj or ""].pk
    elif route.sample == "region":
        value = world.village_a1.pk
    elif route.sample == "user":
        value = world.users[ACCOUNT].pk
    else:
        value = world.school.pk
    assert len(walked.kwargs) == 1, f"{name}: sample_url knows one uuid kwarg, got {walked.kwargs}"
    return reverse(name, kwargs={walked.kwargs[0]: value})


def send(client: Client, op: Op, url: str, data: dict[str, Any] | None) -> HttpResponse:
    if op.method == "GET":
        return client.get(url, data or {})
    if op.json:
        body = json.dumps(data or {}, default=str)
        return client.generic(op.method, url, body, content_type="application/json")
    return client.generic(
        op.method, url, _urlencode(data or {}), content_type="application/x-www-form-urlencoded"
    )


def _urlencode(data: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: str(v) for k, v in data.items()})


def expected_for(route: Route, op: Op, persona: str, obj: str | None) -> str | int:
    if persona == ANONYMOUS:
        return "api-denied" if route.api else "login"
    return op.policy(persona, obj)


def assert_outcome(response: HttpResponse, expected: str | int, op: Op, where: str) -> None:
    status = response.status_code
    if expected == "login":
        location = response.headers.get("Location", "")
        assert status == 302 and location.startswith(LOGIN_URL), (
            f"{where}: expected 302 → {LOGIN_URL}, got {status} {location}"
        )
    elif expected == "api-denied":
        assert status in (401, 403), f"{where}: expected 401/403, got {status}"
    elif expected == "ok":
        assert status == op.ok, f"{where}: expected {op.ok}, got {status}: {_snippet(response)}"
    else:
        assert status == expected, f"{where}: expected {expected}, got {status}: {_snippet(response)}"


def _snippet(response: HttpResponse) -> str:
    body = getattr(response, "content", b"")
    return body[:300].decode(errors="replace")


@dataclass(frozen=True)
class Case:
    route: str
    op: Op
    persona: str
    obj: str | None

    @property
    def id(self) -> str:
        return f"{self.route}-{self.op.method}-{self.persona}" + (f"-{self.obj}" if self.obj else "")


def _targets(route: Route, op: Op, persona: str) -> tuple[str | None, ...]:
    """The objects a persona is tried on. Anonymous: one (the login gate does not look at the
    object). A child route: two children (a1 and one of another county) for a role refused
    the page outright (403 for every object); otherwise the four children, and a missing id
    only when no child is out of this persona's scope, since every out-of-scope (404) case
    already compares itself with the same request for a missing id (_missing_answer).
    Everything else: all targets."""
    targets = route.targets()
    if persona == ANONYMOUS:
        return targets[:1]
    if route.sample == "child":
        children = tuple(target for target in targets if target != MISSING)
        if all(op.policy(persona, target) == 403 for target in targets):
            # A role with no part in the page is refused before any file is looked at: one
            # file in the county and one outside it show that the answer does not depend on it.
            return ("a1", "other")
        if any(op.policy(persona, child) == 404 for child in children):
            return children
    return targets


def _cases() -> list[Case]:
    return [
        Case(name, op, persona, obj)
        for name, route in ROUTES.items()
        for op in route.ops
        for persona in PERSONAS
        for obj in _targets(route, op, persona)
    ]


CASES = _cases()


def _on_postgres_too(cases: list[Case]) -> set[int]:
    """The cases (by position) that also run on PostgreSQL; the rest are marked `once` and run
    on SQLite only (conftest.py). Who may use a page is decided by the same Python on both
    databases (a role refused outright, a login redirect, an API denial, a missing id); what
    PostgreSQL can change is what the scope queries find and what the writes do. So there:
    every allowed case, and for each route × method × persona the first out-of-scope file in
    the county, the file of another county and the non-child samples out of scope."""
    kept: set[int] = set()
    first: set[tuple[Any, ...]] = set()
    for index, case in enumerate(cases):
        expected = expected_for(ROUTES[case.route], case.op, case.persona, case.obj)
        if expected == "ok" or (expected == 404 and case.obj in ("other", SAMPLE)):
            kept.add(index)
        elif expected == 404 and case.obj in CHILD_KEYS:
            group = (case.route, id(case.op), case.persona)
            if group not in first:
                first.add(group)
                kept.add(index)
    return kept


_BOTH = _on_postgres_too(CASES)
_PARAMS = [
    pytest.param(case, id=case.id, marks=() if index in _BOTH else (pytest.mark.once,))
    for index, case in enumerate(CASES)
]


def assert_no_leaks(where: str, url: str, response: HttpResponse, logged: str) -> None:
    """DP-5: no full ID or phone number of the World in the URL, the headers, the body or a
    log line written while answering (captured at DEBUG)."""
    assert not leaks(url, _SECRETS), f"{where}: the URL carries a number"
    assert not leaks(str(response.headers), _SECRETS), f"{where}: a header carries a number"
    body = body_text(response)
    assert not leaks(body, _SECRETS), f"{where}: the page shows {leaks(body, _SECRETS)}"
    assert not leaks(logged, _SECRETS), f"{where}: the log shows {leaks(logged, _SECRETS)}"


class _Kept(logging.Handler):
    """Keeps the records logged while a GET case is answered, unformatted: pytest's caplog
    formats each one (a template's DEBUG record carries a traceback), which cost as much as
    the request itself."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        """Each message and the message of its exception (where personal data could go; the
        rest of a traceback is code)."""
        lines = [f"{r.getMessage()} {r.exc_info[1] if r.exc_info else ''}" for r in self.records]
        return "\n".join(lines)


@contextmanager
def _logs_kept() -> Iterator[_Kept]:
    """Every record at DEBUG and above that reaches the root logger (as caplog.set_level),
    kept by _Kept only: the root's own handlers (the console) go on seeing what they would
    see, instead of formatting every DEBUG record."""
    root = logging.getLogger()
    kept, level = _Kept(), root.level
    others = [(handler, handler.level) for handler in root.handlers]
    for handler, was in others:
        handler.setLevel(max(was, level))
    root.addHandler(kept)
    root.setLevel(logging.DEBUG)
    try:
        yield kept
    finally:
        root.removeHandler(kept)
        root.setLevel(level)
        for handler, was in others:
            handler.setLevel(was)


@pytest.mark.parametrize("case", _PARAMS)
def test_it_enforces_the_policy(case: Case, mworld: World, client: Client) -> None:
    if case.route not in urlconf_routes():
        pytest.skip(f"{case.route} is not in the URLconf (test_it_has_no_stale_rows fails for it)")
    route, op = ROUTES[case.route], case.op
    ctx = Ctx(mworld, case.persona, case.obj)
    if route.sample == "child" and case.obj in CHILD_KEYS:
        ctx.child = Child.objects.get(pk=mworld.children[case.obj].pk)
    if op.setup:
        op.setup(ctx)
    url = sample_url(case.route, route, mworld, case.obj)
    data = op.data(ctx) if op.data else None
    before = op.effect(ctx) if op.effect else None
    if case.persona != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = _SESSIONS[case.persona]
    with _logs_kept() if op.method == "GET" else nullcontext() as kept:
        response = send(client, op, url, data)
    expected = expected_for(route, op, case.persona, case.obj)
    where = f"{op.method} {url} as {case.persona} on {case.obj or '-'}"
    assert_outcome(response, expected, op, where)
    # The one allowed exception is a permitted reveal (?reveal=1, logged): every other GET answer
    # is scanned, including a refused reveal.
    revealed = expected == "ok" and bool(data and data.get("reveal"))
    if kept is not None and not revealed:
        assert_no_leaks(where, url, response, kept.text())

    if expected == "ok" and op.shows:
        assert op.shows(ctx) in response.content.decode(), (
            f"{where}: allowed response lacks {op.shows(ctx)!r}"
        )
    if op.effect:
        after = op.effect(ctx)
        if expected == "ok":
            assert after != before, f"{where}: allowed, answered {response.status_code}, but changed nothing"
        else:
            assert after == before, f"{where}: denied, yet state changed {before!r} → {after!r}"
    if ctx.child is not None and expected != "ok":
        body = response.content.decode(errors="replace")
        assert ctx.child.name not in body, f"{where}: denied response names the child"
        assert ctx.child.id_number not in body, f"{where}: denied response carries the ID number"
    if expected == 404 and case.obj != MISSING:
        # Out of scope must look exactly like a missing file: same status, same body size.
        status, size = _missing_answer(case, client, mworld, data)
        assert status == response.status_code, f"{where}: missing id gives {status}"
        assert abs(size - len(response.content)) <= 16, (
            f"{where}: out-of-scope body {len(response.content)} B vs missing {size} B"
        )


# (route, method, persona) → the status and body size of the same request for a missing id.
# One request per key instead of one per out-of-scope case: the answer to a missing id does
# not depend on which child the case was about (that is what the comparison checks).
_MISSING_ANSWERS: dict[tuple[str, str, str], tuple[int, int]] = {}


def _missing_answer(case: Case, client: Client, world: World, data: dict[str, Any] | None) -> tuple[int, int]:
    key = (case.route, case.op.method, case.persona)
    if key not in _MISSING_ANSWERS:
        route = ROUTES[case.route]
        missing = send(client, case.op, sample_url(case.route, route, world, MISSING), data)
        _MISSING_ANSWERS[key] = (missing.status_code, len(missing.content))
    return _MISSING_ANSWERS[key]


def test_it_lists_every_route() -> None:
    """AC-1: a route in the URLconf without a ROUTES row fails here (deny by default)."""
    missing = sorted(f"{r.name} ({r.pattern})" for name, r in urlconf_routes().items() if name not in ROUTES)
    assert not missing, "routes without a permission-matrix row in ROUTES: " + ", ".join(missing)


def test_it_has_no_stale_rows() -> None:
    stale = sorted(set(ROUTES) - set(urlconf_routes()))
    assert not stale, f"ROUTES rows for routes that no longer exist: {stale}"


def test_it_walks_nested_namespaces() -> None:
    routes = urlconf_routes()
    assert routes["registry:detail"].pattern == "children/<uuid:child_id>/"
    assert routes["registry:detail"].kwargs == ("child_id",)
    assert "accounts:login" not in routes  # allowlisted


def test_every_route_row_has_a_sample_for_each_uuid() -> None:
    for name, walked in urlconf_routes().items():
        if name in ROUTES:
            assert (ROUTES[name].sample is None) == (not walked.kwargs), (
                f"{name}: sample vs kwargs {walked.kwargs}"
            )


# --- lists and searches never leak (AC-2) ----------------------------------------------------

INITIALS = {"张三": "zs", "李四": "ls", "王五": "ww", "赵六": "zl"}


def _exit(world: World, key: str) -> None:
    child = Child.objects.get(pk=world.children[key].pk)
    child_file_exit(
        user=world.users["county_admin"],
        child=child,
        expected_version=child.version,
        reason=c.ExitReason.MOVED_AWAY,
        on=timezone.localdate(),
    )


def _search_terms(child: Child) -> list[str]:
    father = child.parents.get(role=c.ParentRole.FATHER)
    return [child.name, INITIALS[child.name], child.id_number[-4:], child.id_number, father.phone]


def _rows(body: str) -> str:
    """The ledger's result rows only: the page echoes the search term in the box and in
    the pager's hidden fields, which is the user's own input, not a leak."""
    match = re.search(r"<tbody>(.*?)</tbody>", body, re.S)
    return match.group(1) if match else ""


def _assert_absent(body: str, children: list[Child], where: str) -> None:
    for child in children:
        assert child.name not in body, f"{where}: out-of-scope {child.name} listed"
        assert str(child.id) not in body, f"{where}: out-of-scope id {child.id} listed"
        assert child.file_no not in body, f"{where}: out-of-scope file number {child.file_no} listed"


@pytest.mark.parametrize("persona", list(World.VISIBLE))
def test_it_keeps_ledger_and_search_in_scope(persona: str, mworld: World, client: Client) -> None:
    _exit(mworld, "a1")
    _exit(mworld, "other")
    children = {key: Child.objects.get(pk=mworld.children[key].pk) for key in CHILD_KEYS}
    inside = World.VISIBLE[persona]
    outside = [children[key] for key in CHILD_KEYS if key not in inside]
    client.force_login(mworld.users[persona])
    for status in ("", "active", "exited"):
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.post("/children/", {"q": "", "status": status}, **headers)
            assert response.status_code == 200
            body = response.content.decode()
            _assert_absent(body, outside, f"ledger status={status!r} {headers}")
            for key in inside:  # not vacuous: what is in scope does show
                if status in ("", children[key].status):
                    assert children[key].name in body, (
                        f"ledger status={status!r}: {key} missing for {persona}"
                    )
    for child in outside:
        for term in _search_terms(child):
            response = client.post("/children/", {"q": term, "status": ""})
            assert response.status_code == 200
            body = response.content.decode()
            assert "没有符合条件的档案" in body or "<tbody>" in body
            _assert_absent(_rows(body), outside, f"ledger search {term!r}")
        # An out-of-scope village picked by id is not a way in either.
        body = client.post(
            "/children/", {"q": "", "status": "", "village": str(child.village_id)}
        ).content.decode()
        _assert_absent(body, outside, "ledger village filter")
    for key in inside:
        body = client.post("/children/", {"q": INITIALS[children[key].name], "status": ""}).content.decode()
        assert children[key].name in _rows(body), (
            f"search {INITIALS[children[key].name]!r} misses in-scope {key}"
        )
    counts = client.get("/").context["counts"]
    assert counts["active"] == sum(1 for key in inside if children[key].status == c.Status.ACTIVE)


@pytest.mark.parametrize("persona", list(World.VISIBLE))
def test_it_keeps_the_api_list_in_scope(persona: str, mworld: World, client: Client) -> None:
    _exit(mworld, "a1")
    _exit(mworld, "other")
    children = {key: Child.objects.get(pk=mworld.children[key].pk) for key in CHILD_KEYS}
    inside = World.VISIBLE[persona]
    outside = [children[key] for key in CHILD_KEYS if key not in inside]
    client.force_login(mworld.users[persona])
    response = client.get("/api/children/", {"status": "all", "page_size": 200})
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {str(children[key].id) for key in inside}
    for params in (
        {},
        {"status": "exited"},
        *({"q": term, "status": "all"} for ch in outside for term in _search_terms(ch)),
        *({"village": str(ch.village_id), "status": "all"} for ch in outside),
    ):
        response = client.get("/api/children/", params)
        assert response.status_code == 200, params
        _assert_absent(response.content.decode(), outside, f"api list {params}")
