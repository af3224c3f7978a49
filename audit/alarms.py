"""Alarms raised from the audit stream (OP-2), inside the transaction of the event that
raises them: repeated denials, break-the-glass, lockouts and large exports.

Each alert is itself recorded as an `alert` audit row. Security admins and auditors see
every alert; county admins and township supervisors see those addressed to their role
inside their region (audit.selectors.alerts_visible_to).
"""

import datetime as dt
import uuid

from django.conf import settings

from accounts.models import REGION_ROLES, Role, User
from audit.models import Alert, AlertKind, AuditEvent, EventType, Outcome
from geo.models import Region

SECURITY = (Role.SECURITY_ADMIN, Role.AUDITOR)


def raise_alarms(event: AuditEvent) -> None:
    if event.action == EventType.DENIED and event.user_id:
        _repeated_denials(event, event.user_id)
    elif event.action == EventType.EMERGENCY_ACCESS and event.outcome == Outcome.SUCCESS:
        _emergency_access(event)
    elif event.action == EventType.LOCKOUT:
        _alert(event, AlertKind.LOCKOUT, f"账号 {event.username} 因多次登录失败被锁定。", SECURITY)
    elif event.action == EventType.EXPORT and event.object_type == "child":
        _large_export(event)


def _repeated_denials(event: AuditEvent, user_id: uuid.UUID) -> None:
    minutes = settings.SHOUHU_ALERT_DENIAL_WINDOW_MINUTES
    since = event.at - dt.timedelta(minutes=minutes)
    denials = AuditEvent.objects.filter(action=EventType.DENIED, user_id=user_id, at__gte=since)
    count = denials.count()
    if count < settings.SHOUHU_ALERT_DENIALS:
        return
    if Alert.objects.filter(kind=AlertKind.DENIALS, subject_id=user_id, at__gte=since).exists():
        return  # one alert per window, not one per further denial
    message = f"用户 {event.username} 在 {minutes} 分钟内被拒绝访问 {count} 次。"
    _alert(event, AlertKind.DENIALS, message, SECURITY)


def _emergency_access(event: AuditEvent) -> None:
    """The requester's supervisors are told too: a village worker's township supervisor and
    the county admin; for anyone else the county admin."""
    user = event.user
    region = _home_region(user) if user else None
    recipients: tuple[str, ...] = (*SECURITY, Role.COUNTY_ADMIN)
    if Role.VILLAGE_WORKER in event.roles.split(","):
        recipients = (*recipients, Role.TOWNSHIP_SUPERVISOR)
    message = f"{event.username} 紧急查看了一份本人工作范围以外的档案。理由：{event.reason}"
    _alert(event, AlertKind.EMERGENCY_ACCESS, message[:300], recipients, region, child_id=event.object_id)


def _large_export(event: AuditEvent) -> None:
    count = event.detail.get("count") if isinstance(event.detail, dict) else None
    if not isinstance(count, int) or count <= settings.SHOUHU_ALERT_EXPORT_ROWS:
        return
    region = _home_region(event.user) if event.user else None
    message = f"{event.username} 导出了 {count} 条档案记录。"
    _alert(event, AlertKind.EXPORT_VOLUME, message, (*SECURITY, Role.COUNTY_ADMIN), region)


def _home_region(user: User) -> Region | None:
    """The most specific region the user works in (their village, township or county)."""
    from registry.access import active_grants

    regions = [g.scope_region for g in active_grants(user) if g.role in REGION_ROLES]
    return max(regions, key=lambda region: len(region.code), default=None)


def _alert(
    event: AuditEvent,
    kind: str,
    message: str,
    recipients: tuple[str, ...],
    region: Region | None = None,
    child_id: str = "",
) -> Alert:
    from audit.services import append

    alert = Alert.objects.create(
        at=event.at,
        kind=kind,
        subject_id=event.user_id,
        subject_username=event.username,
        region=region,
        child_id=uuid.UUID(child_id) if child_id else None,
        recipient_roles=_encode_roles(recipients),
        message=message,
        event=event,
    )
    append(
        AuditEvent(
            action=EventType.ALERT,
            object_type="alert",
            object_id=str(alert.id),
            ip=event.ip,
            request_id=event.request_id,
            detail={"kind": kind, "subject": event.username, "event": event.pk},
        )
    )
    return alert


def _encode_roles(roles: tuple[str, ...]) -> str:
    # Space-delimited so that one role is one `contains " role "` lookup on any database.
    return " " + " ".join(dict.fromkeys(str(role) for role in roles)) + " "
