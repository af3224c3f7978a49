from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = "关爱活动"

    def ready(self) -> None:
        # Participations with attendance taken show on the child's timeline.
        from activities.selectors import participation_events
        from registry.timeline import register_source

        register_source(participation_events)
