"""Child files over the API, behind the one access layer (registry.access).

Every query starts from children_visible_to() or access_child(), so a file outside the
caller's scope answers 404 exactly like a missing one. Writes go through the services;
reads leave access-log rows; ID and phone numbers go out masked.
"""

import uuid
from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from audit.models import EventType
from audit.services import access_log, audit_event
from core.api import KeysetPagination, api_user
from core.masking import mask_text
from registry import choices as c
from registry.access import access_child, can_write, children_visible_to
from registry.models import Child
from registry.selectors import LedgerFilters, ledger, search_kind
from registry.serializers import (
    ChildSerializer,
    ChildSummarySerializer,
    ChildWriteSerializer,
    EventSerializer,
    GuardianSerializer,
    LedgerQuerySerializer,
    ParentSerializer,
    StaleVersionSerializer,
    file_data,
)
from registry.services import StaleVersionError, child_file_open, child_file_update
from registry.timeline import changes_since

STALE = "档案已被他人修改，未保存。请核对以下修改，重新读取档案后再提交。"
UNKNOWN_VERSION = "版本号无效：请提交读取档案时得到的 version。"
NO_GUARDIAN = "该档案未登记受委托监护人。"


class CanChangeFiles(BasePermission):
    """Coarse role gate for writes; which files and villages is decided by the access layer."""

    message = "您没有建立或修改儿童档案的权限。"

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return isinstance(request.user, User) and can_write(request.user)


def _log(request: Request, act: str, child: Child | None = None, **detail: Any) -> None:
    # DRF keeps the Django request underneath, with the same authenticated user.
    access_log(
        request=request._request,
        action=act,
        object_type="child",
        object_id=child.id if child else "",
        detail=detail or None,
    )


def _log_write(request: Request, act: str, child: Child) -> None:
    audit_event(
        request=request._request,
        action=act,
        object_type="child",
        object_id=child.id,
        detail={"version": child.version, "via": "api"},
    )


def _log_list(request: Request, filters: LedgerFilters, count: int) -> None:
    """One row per page served; the search term only ever masked (DP-5)."""
    term = filters.q.strip()
    if term:
        _log(request, EventType.SEARCH, kind=search_kind(term), count=count, term=mask_text(term))
        return
    shown = {name: value for name, value in vars(filters).items() if value and name != "q"}
    _log(request, EventType.LIST, count=count, filters=shown)


def _load(user: User, child_id: uuid.UUID | str, *, for_write: bool = False) -> Child:
    """The file with its family records prefetched, or Http404 if out of scope."""
    child = access_child(user, child_id, for_write=for_write)
    prefetch_related_objects([child], "parents__work_province", "parents__work_city", "guardian")
    return child


_CHANGE_RESPONSES = {
    400: OpenApiResponse(description="数据有误：按字段列出错误。"),
    403: OpenApiResponse(description="没有建立或修改档案的权限。"),
}


@extend_schema_view(
    list=extend_schema(
        summary="儿童档案台账",
        description="按档案编号排序的游标分页；筛选条件与台账页面相同。每次请求记入访问日志。",
        parameters=[LedgerQuerySerializer],
        responses=ChildSummarySerializer(many=True),
    ),
    retrieve=extend_schema(summary="儿童档案详情", responses=ChildSerializer),
    create=extend_schema(
        summary="建档",
        description="只能在本人负责的村（社区）建档。",
        request=ChildWriteSerializer,
        responses={201: ChildSerializer, **_CHANGE_RESPONSES},
    ),
    update=extend_schema(
        summary="修改档案",
        description="必须提交读取时得到的 version；档案已被他人修改时返回 409 及他人所做的修改。",
        request=ChildWriteSerializer,
        responses={200: ChildSerializer, 409: StaleVersionSerializer, **_CHANGE_RESPONSES},
    ),
    partial_update=extend_schema(
        summary="部分修改档案",
        description="只修改提交的字段；必须提交 version。",
        request=ChildWriteSerializer,
        responses={200: ChildSerializer, 409: StaleVersionSerializer, **_CHANGE_RESPONSES},
    ),
)
class ChildViewSet(viewsets.GenericViewSet[Child]):
    """儿童档案（一人一档）。范围外的档案与不存在的档案一样返回 404。"""

    serializer_class = ChildSerializer
    pagination_class = KeysetPagination
    permission_classes = [IsAuthenticated, CanChangeFiles]
    lookup_value_converter = "uuid"
    # OPTIONS would describe a file through get_object(), around the access layer: the
    # schema at /api/schema/ describes the API instead.
    metadata_class = None

    def list(self, request: Request) -> Response:
        query = LedgerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.to_filters()
        children = ledger(children_visible_to(api_user(request)), filters)
        children = children.select_related("village", "township")
        page = self.paginate_queryset(children) or []
        _log_list(request, filters, len(page))
        return self.get_paginated_response(ChildSummarySerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: uuid.UUID) -> Response:
        child = _load(api_user(request), pk)
        _log(request, EventType.API_READ, child)
        return Response(ChildSerializer(child).data)

    def create(self, request: Request) -> Response:
        user = api_user(request)
        serializer = ChildWriteSerializer(data=request.data, context={"user": user})
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():  # no write without its audit row (LG-5)
            child = child_file_open(user=user, data=file_data(serializer.validated_data, current=None))
            _log_write(request, EventType.CREATE, child)
        location = reverse("api:child-detail", kwargs={"pk": child.pk})
        return Response(
            ChildSerializer(_load(user, child.pk)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def update(self, request: Request, pk: uuid.UUID) -> Response:
        return self._change(request, pk, partial=False)

    def partial_update(self, request: Request, pk: uuid.UUID) -> Response:
        return self._change(request, pk, partial=True)

    def _change(self, request: Request, pk: uuid.UUID, *, partial: bool) -> Response:
        user = api_user(request)
        child = _load(user, pk, for_write=True)
        serializer = ChildWriteSerializer(child, data=request.data, partial=partial, context={"user": user})
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data
        try:
            with transaction.atomic():
                saved = child_file_update(
                    user=user,
                    child=child,
                    expected_version=validated["version"],
                    data=file_data(validated, current=child),
                )
                _log_write(request, EventType.UPDATE, saved)
        except StaleVersionError as exc:
            return self._stale(request, exc)
        return Response(ChildSerializer(_load(user, pk)).data)

    def _stale(self, request: Request, exc: StaleVersionError) -> Response:
        if exc.expected_version > exc.current.version:  # not stale: a version never issued
            raise ValidationError({"version": [UNKNOWN_VERSION]})
        # The conflict body shows (masked) file content, so it is a read like any other.
        _log(request, EventType.API_READ, exc.current, section="conflict")
        body = {
            "detail": STALE,
            "current_version": exc.current.version,
            "changes": EventSerializer(changes_since(exc.current, exc.expected_version), many=True).data,
        }
        return Response(body, status=status.HTTP_409_CONFLICT)

    @extend_schema(summary="父母信息", responses=ParentSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def parents(self, request: Request, pk: uuid.UUID) -> Response:
        child = _load(api_user(request), pk)
        _log(request, EventType.API_READ, child, section="parents")
        parents = sorted(child.parents.all(), key=lambda p: p.role != c.ParentRole.FATHER)
        return Response(ParentSerializer(parents, many=True).data)

    @extend_schema(
        summary="受委托监护人",
        responses={
            200: GuardianSerializer,
            404: OpenApiResponse(description="档案不存在、不在本人范围内，或未登记受委托监护人。"),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def guardian(self, request: Request, pk: uuid.UUID) -> Response:
        child = _load(api_user(request), pk)
        _log(request, EventType.API_READ, child, section="guardian")
        guardian = getattr(child, "guardian", None)
        if guardian is None:
            raise Http404(NO_GUARDIAN)
        return Response(GuardianSerializer(guardian).data)
