from django.db import models


class InstanceFlag(models.Model):
    """Facts about this installation, e.g. whether the demo data set was loaded."""

    key = models.CharField("键", max_length=64, unique=True)
    value = models.CharField("值", max_length=255)
    set_at = models.DateTimeField("设置时间", auto_now=True)

    class Meta:
        verbose_name = "实例标记"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.key


def demo_loaded() -> bool:
    return InstanceFlag.objects.filter(key="demo_loaded", value="1").exists()
