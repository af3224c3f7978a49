"""The child file page's entrusted-guardianship section (included by registry/child_detail.html,
which has already fetched the child through the access layer and logged the view)."""

from typing import Any

from django import template
from django.utils import timezone

from accounts.models import Role
from guardianship import rules, selectors
from registry.access import user_roles

register = template.Library()


@register.inclusion_tag("guardianship/_section.html", takes_context=True)
def guardianship_section(context: template.Context) -> dict[str, Any]:
    from care.models import CarePolicy

    child = context["child"]
    today = timezone.localdate()
    agreements = list(selectors.agreements_of(child)[:10])
    current = next((a for a in agreements if a.is_current), None)
    warning_days = CarePolicy.for_county(child.county).agreement_warning_days
    in_force = child.agreement_valid_until is not None and child.agreement_valid_until >= today
    return {
        "child": child,
        "editable": context.get("editable", False) and child.is_active,
        "agreements": agreements,
        "current": current,
        "gap": child.is_active and child.agreement_required and not in_force,
        "expiring": child.is_active
        and rules.is_expiring(child.agreement_valid_until, on=today, within_days=warning_days),
        "acknowledgements": list(selectors.duty_acknowledgements_of(child)[:10]),
        "can_edit_template": Role.COUNTY_ADMIN in user_roles(context["request"].user),
    }
