from django.urls import path

from notify import views

app_name = "notify"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read-all/", views.inbox_read_all, name="read_all"),
    path("settings/", views.inbox_settings, name="settings"),
    path("sent/", views.sent_log, name="sent"),
    path("sent/<uuid:delivery_id>/retry/", views.delivery_retry_view, name="retry"),
    path("<uuid:notification_id>/", views.notification_open, name="open"),
]
