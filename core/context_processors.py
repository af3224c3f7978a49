from typing import Any

from django.http import HttpRequest

from core.models import demo_loaded


def shouhu(request: HttpRequest) -> dict[str, Any]:
    from registry.access import can_read_access_log, user_roles

    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "SHOUHU_DEMO": demo_loaded(),
        "nav_access_log": signed_in and can_read_access_log(user),  # type: ignore[arg-type]
        "nav_roles": sorted(user_roles(user)) if signed_in else [],  # type: ignore[arg-type]
    }
