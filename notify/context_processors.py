from collections.abc import Callable
from typing import Any

from django.http import HttpRequest


def inbox(request: HttpRequest) -> dict[str, Any]:
    """`inbox_unread` for the header badge: a callable, so pages that do not show the header
    (htmx partials) run no query, and one COUNT per request at most."""
    from accounts.models import User
    from notify.selectors import unread_count

    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {}

    def unread() -> int:
        cached: int | None = getattr(request, "_notify_unread", None)
        if cached is None:
            cached = unread_count(user)
            request._notify_unread = cached  # type: ignore[attr-defined]
        return cached

    counter: Callable[[], int] = unread
    return {"inbox_unread": counter}
