"""Scoped reads of entrusted guardianship. Lists start from registry/access.py."""

import datetime as dt
import uuid

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from guardianship.models import DutyAcknowledgement, GuardianshipAgreement
from registry import choices as c
from registry.access import children_visible_to
from registry.models import Child


def agreement_gaps(user: User, *, on: dt.date | None = None) -> QuerySet[Child]:
    """Ledger gaps (R7): active children in the user's scope who need an agreement and have
    none in force on `on` (none signed, or its period has ended)."""
    on = on or timezone.localdate()
    return children_visible_to(user).filter(
        Q(agreement_valid_until__isnull=True) | Q(agreement_valid_until__lt=on),
        status=c.Status.ACTIVE,
        agreement_required=True,
    )


def agreements_expiring(user: User, within_days: int, *, on: dt.date | None = None) -> QuerySet[Child]:
    """Active children in scope whose agreement in force ends within `within_days` days."""
    on = on or timezone.localdate()
    return children_visible_to(user).filter(
        status=c.Status.ACTIVE,
        agreement_required=True,
        agreement_valid_until__gte=on,
        agreement_valid_until__lte=on + dt.timedelta(days=within_days),
    )


def agreements_of(child: Child) -> QuerySet[GuardianshipAgreement]:
    """A child's agreements, newest first; the caller has fetched the child through the access
    layer."""
    return GuardianshipAgreement.objects.filter(child=child).order_by("-created_at")


def duty_acknowledgements_of(child: Child) -> QuerySet[DutyAcknowledgement]:
    return DutyAcknowledgement.objects.filter(child=child).order_by("-acknowledged_on", "-recorded_at")


def agreement_child_id(agreement_id: str | uuid.UUID) -> uuid.UUID | None:
    """The child of an agreement, for the access check; None when there is no such agreement."""
    try:
        return (
            GuardianshipAgreement.objects.filter(pk=agreement_id).values_list("child_id", flat=True).first()
        )
    except (ValueError, TypeError):
        return None
