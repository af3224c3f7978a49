"""服务机构 (R16), mounted at /providers/: the register, contracts of purchased services, the
children assigned to a provider and its staff's own page (UUIDs only in URLs)."""

from django.urls import path

from providers import views

app_name = "providers"
urlpatterns = [
    path("", views.provider_list, name="list"),
    path("new/", views.provider_create, name="create"),
    path("mine/", views.mine, name="mine"),
    path("<uuid:provider_id>/", views.provider_detail, name="detail"),
    path("<uuid:provider_id>/edit/", views.provider_edit, name="edit"),
    path("<uuid:provider_id>/reveal/", views.provider_reveal, name="reveal"),
    path("<uuid:provider_id>/assign/", views.provider_assign, name="assign"),
    path("<uuid:provider_id>/contracts/new/", views.contract_create, name="contract_create"),
    path("assignments/<uuid:assignment_id>/end/", views.assignment_end, name="assignment_end"),
    path("contracts/", views.contract_list, name="contracts"),
    path("contracts/<uuid:contract_id>/", views.contract_detail, name="contract_detail"),
    path("contracts/<uuid:contract_id>/edit/", views.contract_edit, name="contract_edit"),
]
