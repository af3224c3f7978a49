"""Per-request audit plumbing: a request ID (LG-2), denied-access rows for 403 answers
(LG-1), and the fail-closed 503 when an audit row cannot be written (LG-5)."""

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from accounts.models import User
from audit.context import reset_current_request, set_current_request
from audit.models import EventType, Outcome
from audit.services import AuditWriteError, audit_event

UNAVAILABLE = "审计日志暂时无法写入。为保护个人信息，本次请求没有返回任何数据，请稍后重试。"


class AuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Always ours: a client-supplied X-Request-ID is not trusted into the audit trail.
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        token = set_current_request(request)
        try:
            response = self.get_response(request)
            if response.status_code == 403:
                response = _record_denial(request, response)
        finally:
            reset_current_request(token)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, AuditWriteError):
            return unavailable(request)
        return None


def _record_denial(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Denials of signed-in users only: an anonymous 403 is a missing login (or a forged
    form), and logging it would let anyone fill the audit trail."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return response
    match = request.resolver_match
    route = match.view_name if match else ""
    kwargs = match.kwargs if match else {}
    child_id = kwargs.get("child_id") or (kwargs.get("pk") if route.startswith("api:child") else None)
    try:
        audit_event(
            request=request,
            action=EventType.DENIED,
            outcome=Outcome.DENIED,
            object_type="child" if child_id else "route",
            object_id=child_id or "",
            detail={"status": 403, "route": route, "method": request.method},
        )
    except AuditWriteError:
        return unavailable(request)
    return response


def unavailable(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": UNAVAILABLE}, status=503)
    # A standalone page: base.html's context processors would query the failing database.
    return HttpResponse(render_to_string("audit/unavailable.html", {"message": UNAVAILABLE}), status=503)
