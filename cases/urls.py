"""评估帮扶 (issue 5): cases, their plan of measures, referrals and follow-ups."""

from django.urls import path

from cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("reports/<uuid:report_id>/open/", views.case_open, name="open"),
    path("referrals/", views.referral_list, name="referrals"),
    path("referrals/<uuid:measure_id>/", views.referral, name="referral"),
    path("measures/<uuid:measure_id>/", views.measure_update, name="measure"),
    path("follow-ups/<uuid:follow_up_id>/", views.follow_up, name="follow_up"),
    path("<uuid:case_id>/", views.case_detail, name="detail"),
    path("<uuid:case_id>/assessments/new/", views.assessment_new, name="assessment_new"),
    path("<uuid:case_id>/measures/new/", views.measure_new, name="measure_new"),
    path("<uuid:case_id>/follow-ups/new/", views.follow_up_new, name="follow_up_new"),
    path("<uuid:case_id>/close/", views.close_request, name="close_request"),
    path("<uuid:case_id>/close/approve/", views.close_approve, name="close_approve"),
    path("<uuid:case_id>/close/reject/", views.close_reject, name="close_reject"),
    path("<uuid:case_id>/reopen/", views.reopen, name="reopen"),
]
