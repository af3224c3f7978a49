"""Scoped reads of the contact app. Lists start from registry/access.py."""

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from contact.models import ParentContact, ParentNotice
from registry import choices as c
from registry.access import children_visible_to
from registry.models import Child, Parent


def contact_overdue(user: User, limit_days: int, *, on: dt.date | None = None) -> QuerySet[Child]:
    """Active children in the user's scope with a parent away and no recorded contact for
    more than `limit_days` days (CarePolicy.contact_limit_days, default 7; a file with no
    contact at all counts from the day it was opened), or with a parent marked 失联.
    A warning list for "my work" (R8): nothing is blocked by it."""
    on = on or timezone.localdate()
    since = on - dt.timedelta(days=limit_days)
    opened_before = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    away = Exists(Parent.objects.filter(child=OuterRef("pk"), status=c.ParentStatus.AWAY))
    unreachable = Exists(Parent.objects.filter(child=OuterRef("pk"), unreachable=True))
    stale = Q(last_parent_contact_on__lt=since) | Q(
        last_parent_contact_on__isnull=True, created_at__lt=opened_before
    )
    return children_visible_to(user).filter((stale & Q(away)) | Q(unreachable), status=c.Status.ACTIVE)


def notices_of(child: Child) -> QuerySet[ParentNotice]:
    """A child's parent notices, newest first; the caller fetched the child through the access layer."""
    return ParentNotice.objects.filter(child=child).select_related("parent", "work_province", "work_city")


def contacts_of(child: Child) -> QuerySet[ParentContact]:
    return ParentContact.objects.filter(child=child).select_related("arranged_by")
