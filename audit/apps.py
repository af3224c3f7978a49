from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "审计日志"

    def ready(self) -> None:
        from django.core import checks

        from audit.checks import check_retention

        checks.register(check_retention)
