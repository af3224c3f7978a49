from django.urls import path

from registry import views

app_name = "registry"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("new/", views.child_create, name="create"),
    path("<uuid:child_id>/", views.child_detail, name="detail"),
    path("<uuid:child_id>/edit/", views.child_edit, name="edit"),
    path("<uuid:child_id>/exit/", views.child_exit, name="exit"),
    path("<uuid:child_id>/reactivate/", views.child_reactivate, name="reactivate"),
    path("<uuid:child_id>/reveal/", views.child_reveal, name="reveal"),
]
