"""Account events for the audit log, written in one place (LG-1).

`record()` maps the accounts app's event names onto the audit log's event types and calls
`audit.services.audit_event`; while that function does not exist it falls back to
`audit.services.access_log` (action "view" for successes, "denied" otherwise, the event in
the detail). Callers never pass a password, a one-time password or a code.
"""

import inspect
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from audit import services as audit_services

SUCCESS = "success"
FAILURE = "failure"
DENIED = "denied"

# accounts event → audit event type (audit.models.EventType).
_TYPES = {
    "login": "login",
    "login_failed": "login_failed",
    "lockout": "lockout",
    "logout": "logout",
    "login_mfa": "login",
    "mfa_enrol": "account",
    "mfa_reset": "account",
    "password_change": "account",
    "password_reset": "account",
    "user_create": "account",
    "user_disable": "account",
    "user_enable": "account",
    "sessions_end": "account",
    "grant_add": "permission",
    "grant_revoke": "permission",
    "config": "config",
}


def record(
    request: HttpRequest | None,
    event: str,
    outcome: str,
    *,
    object_type: str = "account",
    object_id: object = "",
    username: str = "",
    **detail: Any,
) -> None:
    """Write one audit row. `request` may be None for management commands and tasks;
    `username` names the account of a failed sign-in (nobody is signed in yet). A refused
    attempt (outcome "denied") is recorded as a denial whatever the event."""
    audit_event = getattr(audit_services, "audit_event", None)
    action = _TYPES.get(event, "account")
    if outcome == DENIED:
        action = "denied"
    elif outcome == FAILURE and action == "login":  # a wrong second-factor code
        action = "login_failed"
    if audit_event is not None:
        parameters = inspect.signature(audit_event).parameters
        extra: dict[str, Any] = {"action" if "action" in parameters else "event": action}
        if "username" in parameters:
            extra["username"] = username
        elif username:
            detail["username"] = username
        audit_event(
            request=request,
            outcome=outcome,
            object_type=object_type,
            object_id=object_id,
            detail={"event": event, **detail},
            **extra,
        )
        return
    if username:
        detail["username"] = username
    if request is None:
        request = HttpRequest()
        request.user = AnonymousUser()
    audit_services.access_log(
        request=request,
        action="view" if outcome == SUCCESS else "denied",
        object_type=object_type,
        object_id=object_id,
        detail={"event": event, "outcome": outcome, **detail},
    )
