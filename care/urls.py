from django.urls import path

from care import views

app_name = "care"
urlpatterns = [
    path("children/<uuid:child_id>/visits/", views.visit_list, name="visit_list"),
    path("children/<uuid:child_id>/visits/new/", views.visit_new, name="visit_new"),
    path("visits/<uuid:visit_id>/", views.visit_detail, name="visit_detail"),
    path("visits/photos/<uuid:photo_id>/", views.visit_photo, name="visit_photo"),
    path("care/policy/", views.policy, name="policy"),
    path("care/jobs/<uuid:job_id>/", views.job, name="job"),
]
