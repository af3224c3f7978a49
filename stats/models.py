"""Pre-aggregated counts (style rule 20, as zulip's analytics tables): the dashboard reads these,
never the children table.

ChildCount holds the active files per region × category × dimension × value, written at village
level from the files and rolled up to township and county from the village rows; CountSnapshot
keeps one copy per month for trends; Indicator holds the work indicators (考核, R26) per village,
township and county. All are written by stats.services only (stats_refresh, stats_snapshot_month).
"""

from django.db import models

from geo.models import Region


class Level(models.TextChoices):
    VILLAGE = "village", "村（社区）"
    TOWNSHIP = "township", "乡镇"
    COUNTY = "county", "县"


class Category(models.TextChoices):
    ALL = "all", "在册儿童"
    LEFT_BEHIND = "left_behind", "农村留守儿童"
    IN_DIFFICULTY = "in_difficulty", "困境儿童"
    DE_FACTO_ORPHAN = "de_facto_orphan", "事实无人抚养儿童"
    KEY = "key", "重点对象"


class Dimension(models.TextChoices):
    TOTAL = "total", "合计"
    CARE_TYPE = "care_type", "监护类型"
    RATING = "rating", "监护情况评估"
    SCHOOLING = "schooling", "就学情况"
    AGE_BAND = "age_band", "年龄段"
    SEX = "sex", "性别"
    RISK_COLOUR = "risk_colour", "风险等级"


class IndicatorCode(models.TextChoices):
    VISIT_COVERAGE = "visit_coverage", "重点对象按期走访率"
    OVERDUE_SHARE = "overdue_share", "逾期未走访占比"
    AGREEMENTS_SIGNED = "agreements_signed", "委托监护协议签订率"
    PARENTS_IN_CONTACT = "parents_in_contact", "30天内亲情联系率"
    RESPONSE_MINUTES = "response_minutes", "强制报告受理用时中位数"
    DROPOUTS_RETURNED = "dropouts_returned", "辍学劝返复学率"
    DATA_COMPLETENESS = "data_completeness", "档案信息完整率"


class ChildCount(models.Model):
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    level = models.CharField("层级", max_length=16, choices=Level.choices)
    category = models.CharField("类别", max_length=16, choices=Category.choices)
    dimension = models.CharField("维度", max_length=16, choices=Dimension.choices)
    value = models.CharField("取值", max_length=32, blank=True)
    count = models.PositiveIntegerField("人数")
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "儿童人数统计"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["region", "category", "dimension", "value"], name="childcount_unique"
            ),
        ]
        indexes = [models.Index(fields=["level", "region"], name="childcount_level_region")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.category}/{self.dimension}={self.value}: {self.count}"


class CountSnapshot(models.Model):
    month = models.DateField("月份", help_text="该月第一天")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    level = models.CharField("层级", max_length=16, choices=Level.choices)
    category = models.CharField("类别", max_length=16, choices=Category.choices)
    dimension = models.CharField("维度", max_length=16, choices=Dimension.choices)
    value = models.CharField("取值", max_length=32, blank=True)
    count = models.PositiveIntegerField("人数")
    taken_at = models.DateTimeField("快照时间")

    class Meta:
        verbose_name = "月度统计快照"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(
                fields=["region", "month", "category", "dimension", "value"], name="snapshot_unique"
            ),
        ]
        indexes = [models.Index(fields=["month"], name="snapshot_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_id} {self.category}/{self.dimension}={self.value}"


class Indicator(models.Model):
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="区划")
    level = models.CharField("层级", max_length=16, choices=Level.choices)
    code = models.CharField("指标", max_length=32, choices=IndicatorCode.choices)
    numerator = models.PositiveIntegerField("分子")
    denominator = models.PositiveIntegerField("分母")
    # A share (0–1) or, for response_minutes, the median in minutes; None when nothing to measure.
    value = models.FloatField("指标值", null=True, blank=True)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "工作考核指标"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="indicator_unique")]
        indexes = [models.Index(fields=["level", "region"], name="indicator_level_region")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.code}: {self.value}"


class RefreshState(models.Model):
    """One row: when the counts were last refreshed (shown as 数据更新于), and the watermark the
    next scheduler tick starts from. Its row lock serialises refreshes across schedulers."""

    key = models.CharField(primary_key=True, max_length=16, default="counts")
    refreshed_at = models.DateTimeField("刷新完成时间", null=True, blank=True)
    started_at = models.DateTimeField("本次刷新开始时间", null=True, blank=True)
    full_at = models.DateTimeField("最近全量重算时间", null=True, blank=True)

    class Meta:
        verbose_name = "统计刷新状态"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.key}: {self.refreshed_at}"
