from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("new/", views.report_new, name="new"),
    path("mine/", views.report_mine, name="mine"),
    path("policy/", views.policy, name="policy"),
    path("jurisdiction/", views.jurisdiction, name="jurisdiction"),
    path("<uuid:report_id>/", views.report_detail, name="detail"),
    path("<uuid:report_id>/status/", views.report_status, name="status"),
    path("<uuid:report_id>/acknowledge/", views.report_acknowledge, name="acknowledge"),
    path("<uuid:report_id>/attend/", views.report_attend, name="attend"),
    path("<uuid:report_id>/actions/", views.response_action_new, name="action_new"),
    path("<uuid:report_id>/placements/", views.placement_new, name="placement_new"),
    path("<uuid:report_id>/placements/<uuid:placement_id>/end/", views.placement_end, name="placement_end"),
    path("<uuid:report_id>/notify-township/", views.report_township_notify, name="township_notify"),
    path("<uuid:report_id>/reroute/", views.report_reroute, name="reroute"),
    path("<uuid:report_id>/feedback/", views.report_feedback, name="feedback"),
    path("<uuid:report_id>/members/", views.report_member_name, name="member_name"),
    path("<uuid:report_id>/members/<uuid:member_id>/end/", views.report_member_end, name="member_end"),
    path("<uuid:report_id>/link/", views.report_link_child, name="link_child"),
]
