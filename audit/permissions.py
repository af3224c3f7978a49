"""Who may use the audit pages (AC-6, LG-6, OP-2): coarse role gates as typed decorators.

The auditor and county admins read the audit trail; nobody else (the system admin and the
security admin included: 三员分立). Alerts go to the security admin and the auditor, and to
county admins and township supervisors for their own region.
"""

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.http.response import HttpResponseBase

from accounts.models import Role, User
from core.http import AuthenticatedHttpRequest
from registry.access import user_roles

AUDIT_READERS = frozenset({Role.AUDITOR, Role.COUNTY_ADMIN})
ALERT_READERS = frozenset({Role.SECURITY_ADMIN, Role.AUDITOR, Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR})

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)
View = Callable[Concatenate[AuthenticatedHttpRequest, P], R]


def can_read_audit(user: User) -> bool:
    return bool(user_roles(user) & AUDIT_READERS)


def can_read_alerts(user: User) -> bool:
    return bool(user_roles(user) & ALERT_READERS)


def require(check: Callable[[User], bool], message: str) -> Callable[[View[P, R]], View[P, R]]:
    def decorator(view: View[P, R]) -> View[P, R]:
        @wraps(view)
        def wrapped(request: AuthenticatedHttpRequest, *args: P.args, **kwargs: P.kwargs) -> R:
            if not check(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return cast(View[P, R], wrapped)

    return decorator
