from django.urls import include, path

from registry import views as registry_views

urlpatterns = [
    path("", registry_views.home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("children/", include("registry.urls")),
    path("", include("care.urls")),
    path("", include("guardianship.urls")),
    path("", include("contact.urls")),
    path("audit/", include("audit.urls")),
    path("work/", include("work.urls")),
    path("inbox/", include("notify.urls")),
    path("reports/", include("reports.urls")),
    path("cases/", include("cases.urls")),
    path("interventions/", include("interventions.urls")),
    path("schooling/", include("schooling.urls")),
    path("tasks/", include("tasks.urls")),
    path("imports/", include("imports.urls")),
    path("forms/", include("nationalforms.urls")),
    path("rounds/", include("submissions.urls")),
    path("stats/", include("stats.urls")),
    path("providers/", include("providers.urls")),
    path("activities/", include("activities.urls")),
    path("training/", include("training.urls")),
    path("api/", include("shouhu.api_urls")),
]
