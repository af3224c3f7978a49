"""App config of schooling: 控辍保学 (R14) and 户口登记 (R23)."""

from django.apps import AppConfig


class SchoolingConfig(AppConfig):
    name = "schooling"
    verbose_name = "控辍保学与户籍登记"
