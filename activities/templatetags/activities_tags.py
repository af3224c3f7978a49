"""The child file page's services section (接受服务记录, R16). Included by
registry/child_detail.html, which has already fetched the child through the access layer and
logged the view; the list shows only the measures of cases this user reads."""

from typing import Any

from django import template

from activities.selectors import child_services

register = template.Library()


@register.inclusion_tag("activities/_services.html", takes_context=True)
def services_section(context: template.Context) -> dict[str, Any]:
    child = context["child"]
    user = context["request"].user
    return {"child": child, "services": child_services(user, child)}
