"""Regions (统计用区划) keyed by NBS code, and the units that serve them."""

import datetime as dt
import uuid

from django.db import models
from django.db.models import Q


class RegionLevel(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县"
    TOWNSHIP = "township", "乡镇"
    VILLAGE = "village", "村（社区）"


CODE_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}


class Region(models.Model):
    """One version of a region. A rename or merge ends this row (valid_to) and starts a new
    one, so files and statistics keep pointing at the region as it was."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField("区划代码", max_length=12)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("层级", max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="上级",
    )
    valid_from = models.DateField("生效日期", default=dt.date(2022, 10, 31))
    valid_to = models.DateField("失效日期", null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessors",
        verbose_name="继承区划",
    )

    class Meta:
        verbose_name = "区划"
        verbose_name_plural = verbose_name
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(valid_to__isnull=True), name="region_current_code_unique"
            ),
        ]
        indexes = [models.Index(fields=["code"]), models.Index(fields=["parent", "code"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_current(self) -> bool:
        return self.valid_to is None


class UnitKind(models.TextChoices):
    VILLAGE_COMMITTEE = "village_committee", "村（居）民委员会"
    TOWNSHIP_GOVERNMENT = "township_government", "乡镇人民政府"
    CIVIL_AFFAIRS = "civil_affairs", "县民政局"
    EDUCATION = "education", "县教育局"
    POLICE_BUREAU = "police_bureau", "县公安局"
    POLICE_STATION = "police_station", "派出所"
    SCHOOL = "school", "学校"
    KINDERGARTEN = "kindergarten", "幼儿园"
    HOSPITAL = "hospital", "医疗机构"
    SOCIAL_WORK = "social_work", "社会工作服务机构"
    WELFARE = "welfare", "救助管理或儿童福利机构"
    COURT = "court", "人民法院"
    PROCURATORATE = "procuratorate", "人民检察院"
    JUSTICE = "justice", "司法局"
    WOMENS_FEDERATION = "womens_federation", "妇联"
    YOUTH_LEAGUE = "youth_league", "团县委"
    HEALTH = "health", "卫生健康局"
    OTHER_DEPARTMENT = "other_department", "其他县直部门"
    # Service providers (社会力量, R16): their staff use Shouhu through the providers register.
    CHILDRENS_HOME = "childrens_home", "儿童之家"
    WOMENS_HOME = "womens_home", "妇女之家"
    CHARITY = "charity", "慈善组织"
    VOLUNTEER_TEAM = "volunteer_team", "志愿服务队"
    DISABLED_FEDERATION = "disabled_federation", "残联"
    NEXT_GENERATION = "next_generation", "关工委"
    TRADE_UNION = "trade_union", "工会"


class Unit(models.Model):
    """An organisation whose staff use Shouhu, with the region(s) it serves."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("单位名称", max_length=128)
    kind = models.CharField("单位类型", max_length=32, choices=UnitKind.choices)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="units", verbose_name="所在区划"
    )
    serves = models.ManyToManyField(
        Region, related_name="served_by", blank=True, verbose_name="服务（管辖）区划"
    )
    active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = verbose_name
        ordering = ["region__code", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="unit_name_unique_in_region")]

    def __str__(self) -> str:
        return self.name
