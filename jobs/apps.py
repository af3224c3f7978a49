from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "后台任务"

    def ready(self) -> None:
        # Each app registers its handlers in <app>/job_handlers.py (as admin.py registers
        # ModelAdmins): the web process that submits and the worker that runs must agree on
        # the kinds, so both load them here.
        autodiscover_modules("job_handlers")
