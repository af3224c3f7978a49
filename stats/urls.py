"""统计分析 (issue 6): the dashboard, the scorecard and its export; 关爱服务统计 (issue 7): the
care numbers, the children behind them and the export."""

from django.urls import path

from stats import views

app_name = "stats"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("scorecard/export/", views.scorecard_export, name="scorecard_export"),
    path("care/", views.care_numbers, name="care"),
    path("care/children/", views.care_children, name="care_children"),
    path("care/export/", views.care_export, name="care_export"),
]
