"""台账导入 (issue 6): upload, column mapping, preview, commit."""

from django.urls import path

from imports import views

app_name = "imports"
urlpatterns = [
    path("", views.batch_list, name="list"),
    path("template.xlsx", views.template_download, name="template"),
    path("<uuid:batch_id>/", views.batch_detail, name="detail"),
    path("<uuid:batch_id>/mapping/", views.batch_mapping, name="mapping"),
    path("<uuid:batch_id>/commit/", views.batch_commit, name="commit"),
    path("<uuid:batch_id>/cancel/", views.batch_cancel, name="cancel"),
    path("<uuid:batch_id>/errors.xlsx", views.batch_errors, name="errors"),
]
