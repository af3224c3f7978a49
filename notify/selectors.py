"""Reads of the notify app: the inbox, the unread badge and the supervisor's sent log."""

import uuid
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any, Generic, TypeVar

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from accounts.models import Role, RoleGrant, User
from notify.models import Delivery, Notification
from registry.access import active_grants, children_visible_to, user_roles

PAGE_SIZE = 50
# Who reads the sent log, and who may start a fresh round of attempts.
SENT_LOG_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR})
RETRY_ROLES = frozenset({Role.COUNTY_ADMIN})

M = TypeVar("M", bound=Model)


@dataclass
class Page(Generic[M]):
    rows: list[M]
    next_before: uuid.UUID | None


def unread_count(user: User) -> int:
    """One COUNT over the partial index notify_unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def own_notification(user: User, notification_id: uuid.UUID) -> Notification | None:
    return Notification.objects.filter(recipient=user, pk=notification_id).first()


def _keyset(items: QuerySet[M], before: M | None, size: int) -> Page[M]:
    """Newest first by (created_at, id); `before` is the last row of the previous page."""
    if before is not None:
        created_at = getattr(before, "created_at")  # noqa: B009 - both models have it
        items = items.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=before.pk))
    rows = list(items.order_by("-created_at", "-id")[: size + 1])
    return Page(rows[:size], rows[size - 1].pk if len(rows) > size else None)


def inbox_page(user: User, *, before: uuid.UUID | None = None) -> Page[Notification]:
    items = Notification.objects.filter(recipient=user)
    anchor = items.filter(pk=before).first() if before else None
    return _keyset(items, anchor, PAGE_SIZE)


def hidden_in_inbox(user: User, notifications: list[Notification]) -> set[uuid.UUID]:
    """Notifications about a child the user can no longer see (moved away, reassigned):
    the inbox shows that they exist, not what they said. One query per page."""
    child_ids = {n.child_id for n in notifications if n.child_id}
    if not child_ids:
        return set()
    visible = set(children_visible_to(user).filter(pk__in=child_ids).values_list("pk", flat=True))
    return {n.pk for n in notifications if n.child_id and n.child_id not in visible}


# --- the sent log ----------------------------------------------------------------------------


def can_read_sent_log(user: User) -> bool:
    return bool(user_roles(user) & SENT_LOG_ROLES)


def can_retry(user: User) -> bool:
    return bool(user_roles(user) & RETRY_ROLES)


def _recipients_within(codes: list[str]) -> QuerySet[RoleGrant, Any]:
    """Users with an active grant inside one of these regions (the grant's region, or its
    unit's region when the grant names none)."""
    inside = reduce(
        or_,
        (
            Q(region__code__startswith=code) | Q(region__isnull=True, unit__region__code__startswith=code)
            for code in codes
        ),
    )
    return RoleGrant.objects.filter(inside, active=True).values("user_id")


def deliveries_visible_to(user: User) -> QuerySet[Delivery]:
    """Deliveries of notifications to users whose grants lie within the reader's township
    (supervisors) or county (county admins), about no child or a child the reader may see."""
    codes = [g.scope_region.code for g in active_grants(user) if g.role in SENT_LOG_ROLES]
    if not codes:
        return Delivery.objects.none()
    child_in_scope = Exists(children_visible_to(user).filter(pk=OuterRef("notification__child_id")))
    return Delivery.objects.filter(notification__recipient_id__in=_recipients_within(codes)).filter(
        Q(notification__child__isnull=True) | child_in_scope
    )


def sent_log_page(
    user: User,
    *,
    state: str = "",
    channel: str = "",
    before: uuid.UUID | None = None,
) -> Page[Delivery]:
    items = deliveries_visible_to(user)
    if state:
        items = items.filter(state=state)
    if channel:
        items = items.filter(channel=channel)
    anchor = items.filter(pk=before).first() if before else None
    return _keyset(items.select_related("notification__recipient", "job"), anchor, PAGE_SIZE)


def visible_delivery(user: User, delivery_id: uuid.UUID) -> Delivery | None:
    return deliveries_visible_to(user).select_related("notification", "job").filter(pk=delivery_id).first()
