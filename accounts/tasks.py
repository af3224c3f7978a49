"""Background work for accounts (django-tasks), to be scheduled daily."""

from django_tasks import task

from accounts import events, services


def disable_dormant() -> list[str]:
    """AC-7: disable dormant and expired accounts; returns their usernames."""
    disabled = services.users_disable_dormant()
    for user in disabled:
        events.record(None, "user_disable", events.SUCCESS, object_id=user.pk, reason=user.disabled_reason)
    return [user.username for user in disabled]


@task()
def disable_dormant_accounts() -> list[str]:
    return disable_dormant()
