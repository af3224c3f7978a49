"""Permission-matrix rows of the notify app (see core/tests/test_permission_matrix.py).

Notifications are the recipient's own: the inbox routes admit every signed-in persona and
act on that persona's notifications only. A notification for one child key belongs to one
persona (OWNERS); everyone else gets 404, as for a missing one. The sent log is for
township supervisors and county admins; a retry for county admins only (role gate first,
403), then within the county (404).
"""

from types import ModuleType
from typing import Any

from accounts.models import Role, User
from geo.models import Unit, UnitKind
from notify.models import Channel, Delivery, DeliveryState, Notification, RecipientAddress
from testing.world import World, make_user

# Whose notification the route opens, per child key; the child is named when its owner sees it.
OWNERS = {"a1": "village_worker", "a2": "visiting_cadre", "b1": "county_admin", "other": "police"}
SENT_LOG_READERS = frozenset({"county_admin", "township_supervisor"})
RETRY_READERS = frozenset({"county_admin"})
COUNTY_KEYS = frozenset({"a1", "a2", "b1"})
NEW_PHONE = "13912345678"


def owner_only(persona: str, obj: str | None) -> str | int:
    return "ok" if OWNERS.get(obj or "") == persona else 404


def sent_log_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in SENT_LOG_READERS else 403


def retry_gate(persona: str, obj: str | None) -> str | int:
    """Role gate first (403 for any id); a county admin gets 404 outside the county."""
    if persona not in RETRY_READERS:
        return 403
    return "ok" if obj in COUNTY_KEYS else 404


def _notification(world: World, key: str) -> Any:
    owner = world.users[OWNERS[key]]
    child = world.children[key] if key in World.VISIBLE[OWNERS[key]] else None
    notification, _ = Notification.objects.get_or_create(
        recipient=owner,
        kind=f"matrix.{key}",
        defaults={"title": "矩阵测试通知", "link": f"/children/{world.children[key].pk}/", "child": child},
    )
    return notification.pk


def _recipient_in(world: World, key: str) -> User:
    """A user whose grant lies where child `key` lives (township A, township B, other county)."""
    if key == "a1":
        return world.users["village_worker"]
    if key == "a2":
        return world.users["visiting_cadre"]
    village = world.village_b1 if key == "b1" else world.village_other
    existing = User.objects.filter(username=f"matrix_{key}").first()
    if existing:
        return existing
    unit = Unit.objects.create(name=f"矩阵{key}村委会", kind=UnitKind.VILLAGE_COMMITTEE, region=village)
    return make_user(f"matrix_{key}", Role.VILLAGE_WORKER, unit)


def _given_up_delivery(world: World, key: str) -> Any:
    notification, _ = Notification.objects.get_or_create(
        recipient=_recipient_in(world, key), kind=f"matrix.retry.{key}", defaults={"title": "矩阵测试通知"}
    )
    delivery, _ = Delivery.objects.get_or_create(
        notification=notification,
        channel=Channel.EMAIL,
        defaults={"state": DeliveryState.GIVEN_UP, "attempts": 5, "max_attempts": 5, "last_error": "测试"},
    )
    return delivery.pk


def routes(m: ModuleType) -> dict[str, Any]:
    def persona_user(ctx: Any) -> User | None:
        user: User | None = ctx.world.users.get(ctx.persona)
        return user

    def unread_first(ctx: Any) -> None:
        user = persona_user(ctx)
        if user is not None:
            Notification.objects.create(recipient=user, kind="matrix.unread", title="矩阵未读通知")

    def unread(ctx: Any) -> Any:
        user = persona_user(ctx)
        return Notification.objects.filter(recipient=user, read_at__isnull=True).count() if user else None

    def phone(ctx: Any) -> Any:
        user = persona_user(ctx)
        address = RecipientAddress.objects.filter(user=user).first() if user else None
        return address.phone if address else None

    def settings_data(ctx: Any) -> dict[str, Any]:
        return {"phone": NEW_PHONE, "email": ""}

    def delivery_state(ctx: Any) -> Any:
        if ctx.obj not in OWNERS:
            return None
        row = Delivery.objects.filter(notification__kind=f"matrix.retry.{ctx.obj}").first()
        return row.state if row else None

    return {
        "notify:inbox": m.Route(None, (m.GET(),)),
        "notify:read_all": m.Route(
            None, (m.Op("POST", 302, m.login_only, setup=unread_first, effect=unread),)
        ),
        "notify:settings": m.Route(
            None,
            (m.GET(), m.Op("POST", 302, m.login_only, settings_data, effect=phone)),
            note="each persona's own addresses",
        ),
        "notify:sent": m.Route(None, (m.GET(sent_log_gate),)),
        "notify:open": m.Route(
            "child",
            (m.GET(owner_only, ok=302),),
            lookup=_notification,
            note="the persona's own notification about the child; marks read and redirects",
        ),
        "notify:retry": m.Route(
            "child",
            (m.Op("POST", 302, retry_gate, effect=delivery_state),),
            lookup=_given_up_delivery,
            note="a given-up e-mail to a user living where the child lives",
        ),
    }
