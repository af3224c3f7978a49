"""The request being served, for audit rows written below the view (the access layer's
denials, services): the middleware sets it, audit_event() reads it when given no request."""

from contextvars import ContextVar, Token

from django.http import HttpRequest

_current: ContextVar[HttpRequest | None] = ContextVar("shouhu_audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _current.get()


def set_current_request(request: HttpRequest | None) -> Token[HttpRequest | None]:
    return _current.set(request)


def reset_current_request(token: Token[HttpRequest | None]) -> None:
    _current.reset(token)
