"""API plumbing shared by every app: keyset pagination, masked fields and Chinese error bodies."""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import User
from core.masking import mask_id, mask_phone


class KeysetPagination(CursorPagination):
    """Cursor (keyset) pagination: no COUNT, stable at a million rows."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "file_no"

    def get_page_size(self, request: Request) -> int:
        """A page size that is not a whole number from 1 to max_page_size is refused (400),
        not silently replaced by the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            message = f"每页条数应为 1 到 {self.max_page_size} 之间的整数。"
            raise DrfValidationError({self.page_size_query_param: [message]})
        return int(raw)


class CodePagination(KeysetPagination):
    """Regions, seeking by NBS code (a code may repeat across versions; the cursor copes)."""

    ordering = "code"


class NamePagination(KeysetPagination):
    """Units, seeking by name."""

    ordering = "name"


def api_user(request: Request) -> User:
    """The signed-in user of an API request (IsAuthenticated has already let it through)."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user


class MaskedIdField(serializers.CharField):
    """Always answers with the masked ID number (DP-3); never the stored value."""

    def to_representation(self, value: Any) -> str:
        return mask_id(str(value) if value else "")


class MaskedPhoneField(serializers.CharField):
    """Always answers with the masked phone number (DP-3); never the stored value."""

    def to_representation(self, value: Any) -> str:
        return mask_phone(str(value) if value else "")


def _validation_detail(exc: DjangoValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name): messages
            for name, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Services raise Django's ValidationError (with Chinese messages); answer it as a 400
    # with field errors rather than a 500.
    if isinstance(exc, DjangoValidationError):
        exc = DrfValidationError(detail=_validation_detail(exc))
    return drf_exception_handler(exc, context)


class QuerySerializer(serializers.Serializer[Any]):
    """Query parameters of a list. A parameter given empty (`?village=`) is refused rather
    than read as "no filter", so a client's bug is not silently widened to everything."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raw = self.initial_data
        names = [str(name) for name in self.fields]
        message = ["不能为空；不需要此筛选条件时请省略该参数。"]
        blank = {name: message for name in names if raw.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return attrs
