"""审核报送 (issue 6)."""

from django.urls import path  # noqa: F401

app_name = "submissions"
urlpatterns: list = []
