"""国家表式 (issue 6)."""

from django.urls import path  # noqa: F401

app_name = "nationalforms"
urlpatterns: list = []
