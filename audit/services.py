"""Writing the access log. Callers pass no full ID or phone number, only masked terms."""

from typing import Any

from django.http import HttpRequest

from accounts.models import User
from audit.models import AccessLog


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy, SecurityMiddleware/the proxy sets REMOTE_ADDR; X-Forwarded-For is not
    # trusted here (AC-9).
    return request.META.get("REMOTE_ADDR") or None


def access_log(
    *,
    request: HttpRequest,
    action: str,
    object_type: str = "",
    object_id: object = "",
    detail: dict[str, Any] | None = None,
) -> AccessLog:
    from registry.access import user_roles

    user = request.user if isinstance(request.user, User) else None
    roles = ",".join(sorted(user_roles(user))) if user else ""
    return AccessLog.objects.create(
        user=user,
        username=user.username if user else "",
        roles=roles,
        ip=client_ip(request),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id else "",
        detail=detail or {},
    )
