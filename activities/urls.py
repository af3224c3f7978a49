"""URLs of the activities app, mounted at /activities/ (UUIDs only: no personal data in URLs)."""

from django.urls import path

from activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", views.activity_new, name="new"),
    path("<uuid:activity_id>/", views.activity_detail, name="detail"),
    path("<uuid:activity_id>/edit/", views.activity_edit, name="edit"),
    path("<uuid:activity_id>/delete/", views.activity_delete, name="delete"),
    path("<uuid:activity_id>/children/", views.participants, name="participants"),
    path("<uuid:activity_id>/attendance/", views.attendance, name="attendance"),
    path("<uuid:activity_id>/adults/", views.adults, name="adults"),
    path("<uuid:activity_id>/volunteers/", views.volunteers, name="volunteers"),
]
