"""Form payloads as a browser would post them."""

import datetime as dt
from typing import Any

from core import idnumber
from registry.models import Child


def file_post(village_id: object, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "陈小明",
        "id_number": idnumber.make("450521", dt.date(2016, 3, 8), 231),
        "ethnicity": "汉族",
        "village": str(village_id),
        "hukou_registered": "on",
        "hukou_rural": "on",
        "health": "healthy",
        "schooling": "primary",
        "care_type": "grandparents",
        "guardianship_rating": "good",
        "current_address": "甲一村 8 号",
        "father-name": "陈大",
        "father-status": "away",
        "father-phone": "13812345678",
        "mother-name": "黄丽",
        "mother-status": "away",
        "mother-phone": "13987654321",
    }
    province_and_city(data, "father")
    province_and_city(data, "mother")
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def province_and_city(data: dict[str, Any], prefix: str) -> None:
    from geo.models import Region

    city = Region.objects.get(code="4401", valid_to__isnull=True)  # 广州市
    data[f"{prefix}-work_province"] = str(city.parent_id)
    data[f"{prefix}-work_city"] = str(city.id)


def edit_post(child: Child, **overrides: Any) -> dict[str, Any]:
    """The edit form as loaded for `child`, with overrides."""
    parents = {p.role: p for p in child.parents.all()}
    data: dict[str, Any] = {
        "version": child.version,
        "name": child.name,
        "id_number": "",  # the edit form never shows the stored number; empty keeps it
        "ethnicity": child.ethnicity,
        "village": str(child.village_id),
        "hukou_registered": "on" if child.hukou_registered else None,
        "hukou_rural": "on" if child.hukou_rural else None,
        "health": child.health,
        "schooling": child.schooling,
        "school": str(child.school_id) if child.school_id else "",
        "care_type": child.care_type,
        "guardianship_rating": child.guardianship_rating,
        "current_address": child.current_address,
    }
    for role, parent in parents.items():
        data.update({f"{role}-name": parent.name, f"{role}-status": parent.status, f"{role}-phone": ""})
        province_and_city(data, role)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
