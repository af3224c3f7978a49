from django.apps import AppConfig


class NationalformsConfig(AppConfig):
    name = "nationalforms"
    verbose_name = "国家表式"
