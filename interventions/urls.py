"""监护干预 (issue 5 item 5): mounted at /interventions/."""

from django.urls import path

from interventions import views

app_name = "interventions"
urlpatterns = [
    path("reports/<uuid:report_id>/", views.report_page, name="report"),
    path("reports/<uuid:report_id>/guardians/new/", views.guardian_new, name="guardian_new"),
    path("guardians/<uuid:guardian_id>/interventions/new/", views.intervention_new, name="intervention_new"),
    path("guardians/<uuid:guardian_id>/refusals/new/", views.refusal_start, name="refusal_start"),
    path("guardians/<uuid:guardian_id>/concerns/", views.concerns, name="concerns"),
    path("guardians/<uuid:guardian_id>/petitions/new/", views.petition_new, name="petition_new"),
    path("entries/<uuid:intervention_id>/void/", views.intervention_void, name="intervention_void"),
    path("refusals/<uuid:refusal_id>/end/", views.refusal_end, name="refusal_end"),
    path("refusals/<uuid:refusal_id>/void/", views.refusal_void, name="refusal_void"),
    path("petitions/<uuid:petition_id>/step/", views.petition_step, name="petition_step"),
    path("petitions/<uuid:petition_id>/decide/", views.petition_decide, name="petition_decide"),
]
