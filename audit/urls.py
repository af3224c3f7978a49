from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("access-log/", views.access_log_list, name="access_log"),
    path("children/<uuid:child_id>/", views.child_access_log, name="child_log"),
    path("alerts/", views.alert_list, name="alerts"),
    path("report/", views.access_report_page, name="report"),
    path("report/download/", views.access_report_download, name="report_download"),
    path("emergency/", views.emergency_access, name="emergency"),
]
