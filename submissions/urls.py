"""审核报送 (issue 6): reporting rounds, village and township submissions, frozen snapshots."""

from django.urls import path

from submissions import views

app_name = "submissions"
urlpatterns = [
    path("", views.round_list, name="list"),
    path("new/", views.round_new, name="new"),
    path("<uuid:round_id>/", views.round_detail, name="detail"),
    path("<uuid:round_id>/cancel/", views.round_cancel, name="cancel"),
    path("<uuid:round_id>/roster/", views.roster_download, name="roster"),
    path("<uuid:round_id>/table3/", views.table3_download, name="table3"),
    path("townships/<uuid:submission_id>/", views.township_detail, name="township"),
    path("townships/<uuid:submission_id>/submit/", views.township_submit, name="township_submit"),
    path("townships/<uuid:submission_id>/approve/", views.township_approve, name="township_approve"),
    path("townships/<uuid:submission_id>/return/", views.township_return, name="township_return"),
    path("villages/<uuid:submission_id>/submit/", views.village_submit, name="village_submit"),
    path("villages/<uuid:submission_id>/approve/", views.village_approve, name="village_approve"),
    path("villages/<uuid:submission_id>/return/", views.village_return, name="village_return"),
]
