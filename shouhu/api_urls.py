"""The REST API under /api/: regions, units, child files and the OpenAPI schema.

There is no Swagger UI: drf-spectacular-sidecar is not installed and the CSP forbids a CDN.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from geo.api import RegionViewSet, UnitViewSet
from registry.api import ChildViewSet

app_name = "api"

router = SimpleRouter(use_regex_path=False)
router.register("regions", RegionViewSet, basename="region")
router.register("units", UnitViewSet, basename="unit")
router.register("children", ChildViewSet, basename="child")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    *router.urls,
]
