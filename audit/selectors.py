import datetime as dt

from django.db.models import QuerySet

from audit.models import AccessLog


def access_log_entries(
    *,
    username: str = "",
    action: str = "",
    object_id: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AccessLog]:
    entries = AccessLog.objects.all()
    if username:
        entries = entries.filter(username=username)
    if action:
        entries = entries.filter(action=action)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if since:
        entries = entries.filter(at__date__gte=since)
    if until:
        entries = entries.filter(at__date__lte=until)
    return entries
