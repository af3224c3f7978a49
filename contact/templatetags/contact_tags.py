"""The child file page's parents' notice and contact section (included by
registry/child_detail.html, which fetched the child through the access layer and logged the view)."""

from typing import Any

from django import template
from django.utils import timezone

from contact import selectors
from registry.models import Parent

register = template.Library()


@register.inclusion_tag("contact/_section.html", takes_context=True)
def contact_section(context: template.Context) -> dict[str, Any]:
    from care.models import CarePolicy

    child = context["child"]
    limit = CarePolicy.for_county(child.county).contact_limit_days
    last = child.last_parent_contact_on
    days = (timezone.localdate() - last).days if last else None
    return {
        "child": child,
        "editable": context.get("editable", False) and child.is_active,
        "parents": list(Parent.objects.filter(child=child).order_by("role")),
        "notices": list(selectors.notices_of(child)[:5]),
        "contacts": list(selectors.contacts_of(child)[:10]),
        "limit": limit,
        "days_since": days,
        "overdue": child.is_active and (days is None or days > limit),
    }
