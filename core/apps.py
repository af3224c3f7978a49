from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "公共"

    def ready(self) -> None:
        from django.core import checks
        from django.db.backends.signals import connection_created

        from core.durability import check_durability, refuse_unsafe_connection

        checks.register(check_durability, checks.Tags.database)
        connection_created.connect(refuse_unsafe_connection, dispatch_uid="core.durability")
