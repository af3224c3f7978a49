from django.urls import path

from guardianship import views

app_name = "guardianship"
urlpatterns = [
    path("children/<uuid:child_id>/agreements/new/", views.agreement_new, name="agreement_new"),
    path("children/<uuid:child_id>/duties/ack/", views.duty_ack, name="duty_ack"),
    path("agreements/<uuid:agreement_id>/", views.agreement_detail, name="agreement_detail"),
    path("agreements/<uuid:agreement_id>/print/", views.agreement_print, name="agreement_print"),
    path("agreements/<uuid:agreement_id>/pdf/", views.agreement_pdf_download, name="agreement_pdf"),
    path("agreements/<uuid:agreement_id>/sign/", views.agreement_sign, name="agreement_sign"),
    path("agreements/<uuid:agreement_id>/scan/", views.agreement_scan, name="agreement_scan"),
    path("guardianship/template/", views.template_edit, name="template_edit"),
]
