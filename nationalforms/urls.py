"""国家表式 (issue 6): 附件1 per child, 附件2 花名册, 附件3 统计表."""

from django.urls import URLPattern, path

from nationalforms import views

app_name = "nationalforms"
urlpatterns: list[URLPattern] = [
    path("table3/", views.table3_page, name="table3"),
    path("table3.xlsx", views.table3_xlsx, name="table3_xlsx"),
    path("roster.xlsx", views.roster_xlsx, name="roster_xlsx"),
    path("roster.csv", views.roster_csv, name="roster_csv"),
    path("child/<uuid:child_id>/", views.child_form_page, name="child_form"),
    path("child/<uuid:child_id>/pdf/", views.child_form_pdf_download, name="child_pdf"),
]
