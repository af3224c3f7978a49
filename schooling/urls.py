"""URLs of the schooling app, mounted at /schooling/ (UUIDs only: no personal data in URLs)."""

from django.urls import path

from schooling import views

app_name = "schooling"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("children/<uuid:child_id>/new/", views.case_new, name="case_new"),
    path("<uuid:case_id>/", views.case_detail, name="detail"),
    path("<uuid:case_id>/attempts/new/", views.attempt_new, name="attempt_new"),
    path("<uuid:case_id>/escalate/", views.escalate, name="escalate"),
    path("<uuid:case_id>/outcome/", views.outcome, name="outcome"),
    path("hukou/", views.hukou_list, name="hukou"),
    path("hukou/generate/", views.hukou_generate, name="hukou_generate"),
    path("hukou/<uuid:task_id>/registered/", views.hukou_done, name="hukou_done"),
]
