from django.apps import AppConfig


class ContactConfig(AppConfig):
    name = "contact"
    verbose_name = "父母告知与亲情联系"
