"""Regions and units over the API: public facts, read-only, still behind login."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from core.api import CodePagination, NamePagination
from geo.models import Region, Unit
from geo.serializers import RegionQuerySerializer, RegionSerializer, UnitQuerySerializer, UnitSerializer


def _query(
    serializer_class: type[RegionQuerySerializer | UnitQuerySerializer], params: Any
) -> dict[str, Any]:
    query = serializer_class(data=params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


@extend_schema_view(
    list=extend_schema(summary="区划列表", parameters=[RegionQuerySerializer]),
    retrieve=extend_schema(summary="区划详情"),
)
class RegionViewSet(viewsets.ReadOnlyModelViewSet[Region]):
    """统计用区划（国家统计局）：按层级、上级区划代码筛选。"""

    serializer_class = RegionSerializer
    pagination_class = CodePagination
    queryset = Region.objects.select_related("parent")
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[Region]:
        regions = super().get_queryset()
        if self.action != "list":
            return regions
        query = _query(RegionQuerySerializer, self.request.query_params)
        if query.get("current", True):
            regions = regions.filter(valid_to__isnull=True)
        if query.get("level"):
            regions = regions.filter(level=query["level"])
        if query.get("parent"):
            regions = regions.filter(parent__code=query["parent"])
        return regions


@extend_schema_view(
    list=extend_schema(summary="单位列表", parameters=[UnitQuerySerializer]),
    retrieve=extend_schema(summary="单位详情"),
)
class UnitViewSet(viewsets.ReadOnlyModelViewSet[Unit]):
    """使用本系统的单位及其服务（管辖）区划。"""

    serializer_class = UnitSerializer
    pagination_class = NamePagination
    queryset = Unit.objects.select_related("region").prefetch_related("serves")
    lookup_value_converter = "uuid"

    def get_queryset(self) -> QuerySet[Unit]:
        units = super().get_queryset()
        if self.action != "list":
            return units
        query = _query(UnitQuerySerializer, self.request.query_params)
        if query.get("kind"):
            units = units.filter(kind=query["kind"])
        if query.get("region"):
            units = units.filter(region_id=query["region"])
        if query.get("active") is not None:
            units = units.filter(active=query["active"])
        return units
