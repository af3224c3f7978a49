from django.urls import path

from contact import views

app_name = "contact"
urlpatterns = [
    path("children/<uuid:child_id>/notices/new/", views.notice_new, name="notice_new"),
    path("children/<uuid:child_id>/contacts/new/", views.contact_new, name="contact_new"),
    path(
        "children/<uuid:child_id>/parents/<slug:role>/unreachable/", views.reachability, name="reachability"
    ),
    path("contacts/<uuid:contact_id>/void/", views.contact_void, name="contact_void"),
    path("notices/<uuid:notice_id>/void/", views.notice_void, name="notice_void"),
]
