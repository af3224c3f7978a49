"""Writing the audit trail (LG-1…LG-5) and granting break-the-glass access (AC-8).

audit_event() is the one way to add a row. It appends to the hash chain under a lock, never
stores a full ID or phone number (they are masked wherever they appear), raises the alarms
that the event calls for (audit.alarms), and fails closed: any database error becomes
AuditWriteError, which the middleware answers with a 503 before any data is served.
"""

import datetime as dt
import json
import logging
import re
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from audit.context import current_request
from audit.models import GENESIS, AuditEvent, EmergencyAccess, EventType, Outcome
from core import net
from core.masking import mask_id, mask_phone
from registry.models import Child

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key that serialises appends to the chain ("audit" in ASCII).
CHAIN_LOCK = 0x6175646974
EMERGENCY_REASON_MIN = 10

# An 18-character ID number or an 11-digit mobile number, not inside a longer token.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_PHONE_LIKE = re.compile(r"(?<![0-9A-Za-z])1\d{10}(?![0-9A-Za-z])")


class AuditWriteError(Exception):
    """The audit row could not be written, so the data must not be served (LG-5)."""


def scrub(value: Any) -> Any:
    """`value` with every ID-like and phone-like string masked, at any depth (LG-2)."""
    if isinstance(value, str):
        value = _ID_LIKE.sub(lambda m: mask_id(m.group()), value)
        return _PHONE_LIKE.sub(lambda m: mask_phone(m.group()), value)
    if isinstance(value, dict):
        return {scrub(str(k)): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def client_ip(request: HttpRequest) -> str | None:
    return net.client_ip(request)  # believes X-Forwarded-For only from trusted proxies (AC-9)


def request_id(request: HttpRequest) -> str:
    return str(getattr(request, "request_id", ""))


def _request_user(request: HttpRequest | None) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) and user.is_authenticated else None


def _roles(user: User | None) -> str:
    from registry.access import user_roles

    return ",".join(sorted(user_roles(user))) if user else ""


def _json_safe(detail: dict[str, Any] | None) -> dict[str, Any]:
    # Round-trip through JSON so that the hash covers exactly what the database gives back.
    safe: dict[str, Any] = json.loads(json.dumps(scrub(detail or {}), cls=DjangoJSONEncoder))
    return safe


def audit_event(
    *,
    action: str,
    request: HttpRequest | None = None,
    user: User | None = None,
    username: str = "",
    outcome: str = Outcome.SUCCESS,
    object_type: str = "",
    object_id: object = "",
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row. `request` defaults to the request being served; `user` to its
    signed-in user; `username` names an unknown user (a failed login). Raises
    AuditWriteError when the row cannot be written."""
    request = request or current_request()
    user = user or _request_user(request)
    row = AuditEvent(
        user=user,
        username=user.username if user else username[:150],
        roles=_roles(user),
        ip=client_ip(request) if request else None,
        action=action,
        outcome=outcome,
        object_type=object_type,
        object_id=str(object_id) if object_id else "",
        request_id=request_id(request) if request else "",
        reason=scrub(reason)[:500],
        detail=_json_safe(detail),
    )
    from audit.alarms import raise_alarms

    try:
        # Inside a caller's transaction (a write and its audit row) no savepoint: a failure
        # dooms the whole transaction, so the write is never committed without its row.
        with transaction.atomic(savepoint=False):
            append(row)
            raise_alarms(row)
    except DatabaseError as exc:
        logger.error("审计日志写入失败（%s）：%s", action, type(exc).__name__)
        raise AuditWriteError("审计日志写入失败") from exc
    return row


def append(row: AuditEvent, *, prev_hash: str | None = None) -> AuditEvent:
    """Link `row` to the newest row (or to `prev_hash`, for a purge that emptied the table)
    and insert it. Call inside a transaction: on PostgreSQL the advisory lock, held to
    commit, keeps concurrent writers from forking the chain; SQLite serialises writers
    itself (transaction_mode IMMEDIATE)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
    row.prev_hash = prev_hash or last_hash() or GENESIS
    row.at = timezone.now()
    row.hash = row.compute_hash()
    row.save(force_insert=True)
    return row


def last_hash() -> str | None:
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()


def access_log(
    *,
    request: HttpRequest,
    action: str,
    object_type: str = "",
    object_id: object = "",
    detail: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """The older name of audit_event() for reads, kept for its many callers."""
    return audit_event(
        request=request,
        action=action,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
        reason=reason,
    )


def child_access_denied(*, user: User, child_id: object, for_write: bool, exists: bool) -> None:
    """The access layer refused a file (404 outside scope, exactly like a missing one)."""
    request = current_request()
    match = getattr(request, "resolver_match", None)
    audit_event(
        request=request,
        user=user if user.is_authenticated else None,
        action=EventType.DENIED,
        outcome=Outcome.DENIED,
        object_type="child",
        object_id=_uuid_or_blank(child_id),
        detail={
            "status": 404,
            "route": match.view_name if match else "",
            "for_write": for_write,
            "exists": exists,
        },
    )


def object_access_denied(*, user: User, object_type: str, object_id: object) -> None:
    """An app's access layer refused an object (404 outside scope, exactly like a missing one):
    the denial row, with the id only when it is a UUID."""
    audit_event(
        user=user,
        action=EventType.DENIED,
        outcome=Outcome.DENIED,
        object_type=object_type,
        object_id=_uuid_or_blank(object_id),
        detail={"status": 404},
    )


def _uuid_or_blank(value: object) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return ""


@transaction.atomic
def emergency_access_grant(*, user: User, child: Child, reason: str) -> EmergencyAccess:
    """Read-only access to one file for SHOUHU_EMERGENCY_ACCESS_MINUTES (AC-8). Writes the
    emergency_access audit row with the reason; audit.alarms raises the alert."""
    reason = " ".join(reason.split())
    if len(reason) < EMERGENCY_REASON_MIN:
        raise ValidationError({"reason": f"请填写不少于 {EMERGENCY_REASON_MIN} 个字的理由。"})
    now = timezone.now()
    minutes = settings.SHOUHU_EMERGENCY_ACCESS_MINUTES
    grant = EmergencyAccess(
        user=user,
        child=child,
        reason=scrub(reason)[:500],
        granted_at=now,
        expires_at=now + dt.timedelta(minutes=minutes),
    )
    grant.full_clean()
    grant.save()
    audit_event(
        user=user,
        action=EventType.EMERGENCY_ACCESS,
        object_type="child",
        object_id=child.id,
        reason=grant.reason,
        detail={"grant": str(grant.id), "minutes": minutes, "expires_at": grant.expires_at.isoformat()},
    )
    return grant
