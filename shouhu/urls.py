from django.urls import include, path

from registry import views as registry_views

urlpatterns = [
    path("", registry_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("children/", include("registry.urls")),
    path("audit/", include("audit.urls")),
    path("api/", include("shouhu.api_urls")),
]
