"""督办任务 (issue 5): supervised tasks, their progress reports and the county's templates."""

from django.urls import path

from tasks import views

app_name = "tasks"
urlpatterns = [
    path("", views.task_list, name="list"),
    path("new/", views.task_new, name="new"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_new, name="template_new"),
    path("templates/<uuid:template_id>/edit/", views.template_edit, name="template_edit"),
    path("<uuid:task_id>/", views.task_detail, name="detail"),
    path("<uuid:task_id>/edit/", views.task_edit, name="edit"),
    path("<uuid:task_id>/progress/", views.progress_new, name="progress"),
    path("<uuid:task_id>/propose-done/", views.task_propose_done, name="propose_done"),
    path("<uuid:task_id>/done/", views.task_done, name="done"),
    path("<uuid:task_id>/return/", views.task_return, name="return"),
    path("<uuid:task_id>/cancel/", views.task_cancel, name="cancel"),
]
