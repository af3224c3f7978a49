"""The services care providers deliver (R16), one vocabulary for the register, contracts,
activities and the services list of a child file."""

from django.db import models


class ServiceKind(models.TextChoices):
    HOLIDAY_CARE = "holiday_care", "假期托管"
    HOMEWORK_CLUB = "homework_club", "课后辅导"
    COUNSELLING = "counselling", "心理辅导"
    FAMILY_VIDEO = "family_video", "亲情视频"
    SAFETY_EDUCATION = "safety_education", "安全教育"
    LEGAL_EDUCATION = "legal_education", "法治宣传"
    FAMILY_EDUCATION = "family_education", "家庭教育指导"
    SUMMER_CAMP = "summer_camp", "夏令营"
    GUARDIANSHIP_GUIDANCE = "guardianship_guidance", "监护指导"
    BEHAVIOUR_CORRECTION = "behaviour_correction", "行为矫治"
    SOCIAL_INTEGRATION = "social_integration", "社会融入"
    FAMILY_RELATIONS = "family_relations", "亲子关系调适"
    REHABILITATION = "rehabilitation", "康复服务"
    OTHER = "other", "其他"


# Unit kinds that are service providers (the register lists these; geo.UnitKind).
PROVIDER_UNIT_KINDS = (
    "childrens_home",
    "womens_home",
    "social_work",
    "charity",
    "volunteer_team",
    "school",
    "womens_federation",
    "youth_league",
    "disabled_federation",
    "next_generation",
    "trade_union",
    "welfare",
)
