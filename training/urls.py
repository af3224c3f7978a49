"""业务培训 (issue 7 item 4): the county's training sessions, their attendees, each worker's
training history and the workers with no training in a year."""

from django.urls import path

from training import views

app_name = "training"
urlpatterns = [
    path("", views.session_list, name="list"),
    path("new/", views.session_new, name="new"),
    path("me/", views.my_history, name="me"),
    path("untrained/", views.untrained_list, name="untrained"),
    path("untrained/export/", views.untrained_export, name="untrained_export"),
    path("workers/<uuid:worker_id>/", views.worker_history, name="worker"),
    path("<uuid:session_id>/", views.session_detail, name="detail"),
    path("<uuid:session_id>/edit/", views.session_edit, name="edit"),
    path("<uuid:session_id>/attendees/", views.attendee_picker, name="attendees"),
    path(
        "<uuid:session_id>/attendees/<uuid:attendance_id>/remove/",
        views.attendee_remove,
        name="attendee_remove",
    ),
]
