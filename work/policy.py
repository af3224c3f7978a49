"""The county care policy as "my work" needs it: the warning windows.

The values come from care.models.CarePolicy.for_county (the care app); until that app is
installed the defaults of issue 4 apply (7 days without parent contact, agreements 30
days before expiry, 16th birthdays 30 days ahead), and of issue 7 (a key child without a
service for 90 days).
"""

import importlib
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings

from accounts.models import User
from geo.models import Region
from registry.access import active_grants

COUNTY_CODE_LENGTH = 6


@dataclass(frozen=True)
class WorkPolicy:
    contact_limit_days: int = 7
    agreement_warning_days: int = 30
    aging_warning_days: int = 30
    service_gap_days: int = 90


def optional(path: str) -> Any:
    """The object at "module.name", or None when its app is not installed (yet)."""
    module, _, name = path.rpartition(".")
    if not apps.is_installed(module.partition(".")[0]):
        return None
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def home_county(user: User) -> Region | None:
    """The county the user works in: that of the first grant at or below a county; the
    configured county (SHOUHU_COUNTY_CODE) for a grant above county level or none."""
    for grant in active_grants(user):
        code = grant.scope_region.code
        if len(code) >= COUNTY_CODE_LENGTH:
            return _county(code[:COUNTY_CODE_LENGTH])
    return _county(settings.SHOUHU_COUNTY_CODE)


def _county(code: str) -> Region | None:
    return Region.objects.filter(code=code, valid_to__isnull=True).first()


def policy_for_county(county: Region | None) -> WorkPolicy:
    care_policy = optional("care.models.CarePolicy")
    if care_policy is None or county is None:
        return WorkPolicy()
    policy = care_policy.for_county(county)
    return WorkPolicy(
        contact_limit_days=int(policy.contact_limit_days),
        agreement_warning_days=int(policy.agreement_warning_days),
        aging_warning_days=int(policy.aging_warning_days),
        service_gap_days=int(getattr(policy, "service_gap_days", WorkPolicy.service_gap_days)),
    )


def policy_for(user: User) -> WorkPolicy:
    cached: WorkPolicy | None = getattr(user, "_shouhu_work_policy", None)
    if cached is None:
        cached = policy_for_county(home_county(user))
        user._shouhu_work_policy = cached  # type: ignore[attr-defined]
    return cached
