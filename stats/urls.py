"""统计分析 (issue 6): the dashboard, the scorecard and its export."""

from django.urls import path

from stats import views

app_name = "stats"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("scorecard/export/", views.scorecard_export, name="scorecard_export"),
]
