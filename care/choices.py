"""Code lists of the care app: visits and the risk conditions the county configures."""

from django.db import models


class VisitKind(models.TextChoices):
    HOME = "home", "上门走访"
    PHONE = "phone", "电话"
    VIDEO = "video", "视频"


class VisitorRole(models.TextChoices):
    VILLAGE_WORKER = "village_worker", "儿童主任"
    RESIDENT_CADRE = "resident_cadre", "驻村干部"
    PARTY_CADRE = "party_cadre", "党员干部"
    SOCIAL_WORKER = "social_worker", "社工"
    TEACHER = "teacher", "教师"
    SUPERVISOR = "supervisor", "督导员"


class Present(models.TextChoices):
    CHILD = "child", "儿童本人"
    GUARDIAN = "guardian", "受委托监护人"
    GRANDPARENTS = "grandparents", "（外）祖父母"
    PARENT = "parent", "父母"
    OTHER = "other", "其他人员"


class Condition(models.TextChoices):
    """The facts that raise a child's risk colour; the county sets each one's colour."""

    LIVING_ALONE = "living_alone", "单独居住"
    UNSUPERVISED = "unsupervised", "无人监护"
    POOR_RATING = "poor_rating", "监护情况评估为“差”"
    DROPOUT = "dropout", "失学辍学"
    NO_HUKOU = "no_hukou", "未登记户口"
    SERIOUS_ILLNESS = "serious_illness", "患病（档案身体情况为“患病”）"
    SERIOUS_DISABILITY = "serious_disability", "重度残疾（残疾等级一级、二级，或尚未评定等级）"
    PARENT_UNREACHABLE = "parent_unreachable", "父母一方或双方失联"
    VISIT_HAZARD = "visit_hazard", "最近一次走访发现安全隐患"
    FAIR_RATING = "fair_rating", "监护情况评估为“一般”"
    VISIT_FOLLOW_UP = "visit_follow_up", "最近一次走访需要跟进"
