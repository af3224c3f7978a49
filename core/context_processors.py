from typing import Any

from django.http import HttpRequest

from core.models import demo_loaded


def shouhu(request: HttpRequest) -> dict[str, Any]:
    return {"SHOUHU_DEMO": demo_loaded()}
