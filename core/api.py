"""API plumbing shared by every app: keyset pagination and Chinese error bodies."""

from typing import Any

from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class KeysetPagination(CursorPagination):
    """Cursor (keyset) pagination: no COUNT, stable at a million rows."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "file_no"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    return drf_exception_handler(exc, context)
