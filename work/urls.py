from django.urls import path

from work import views
from work.selectors import SECTIONS

app_name = "work"
urlpatterns = [
    path("", views.my_work, name="home"),
    # One route per section (/work/overdue/ …): the URL names the list, with no free parameter.
    *(path(f"{slug}/", views.section_list, {"section": slug}, name=slug) for slug in SECTIONS),
    path("township/", views.township, name="township"),
    path("assign/", views.assign, name="assign"),
    path("assignments/<uuid:assignment_id>/end/", views.assignment_end_view, name="assignment_end"),
    path("proposals/", views.proposals, name="proposals"),
    path("proposals/<uuid:proposal_id>/confirm/", views.proposal_confirm_view, name="proposal_confirm"),
    path("proposals/<uuid:proposal_id>/dismiss/", views.proposal_dismiss_view, name="proposal_dismiss"),
    path("nightly/", views.nightly, name="nightly"),
]
