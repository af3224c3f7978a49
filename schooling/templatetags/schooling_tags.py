"""The child file page's schooling section: the open dropout case (控辍保学) and the hukou
task (户口登记). Included by registry/child_detail.html, which has already fetched the child
through the access layer and logged the view; the section asks schooling/access.py what this
user may see and do, and shows nothing to the others."""

from typing import Any

from django import template

from schooling.access import Action, can, can_see_hukou, children_for, hukou_children
from schooling.models import DropoutCase, HukouTask

register = template.Library()


def _allowed(user: Any, child: Any, action: Action) -> bool:
    return can(user, action) and children_for(user, action).filter(pk=child.pk).exists()


@register.inclusion_tag("schooling/_section.html", takes_context=True)
def schooling_section(context: template.Context) -> dict[str, Any]:
    child = context["child"]
    user = context["request"].user
    sees_cases = _allowed(user, child, Action.READ)
    sees_hukou = can_see_hukou(user) and hukou_children(user).filter(pk=child.pk).exists()
    cases = list(DropoutCase.objects.filter(child=child).order_by("-reported_on")[:5]) if sees_cases else []
    return {
        "child": child,
        "shown": sees_cases or (sees_hukou and not child.hukou_registered),
        "sees_cases": sees_cases,
        "cases": cases,
        "open_case": next((case for case in cases if case.is_open), None),
        "can_report": child.is_active and _allowed(user, child, Action.OPEN),
        "hukou_task": (
            HukouTask.objects.filter(child=child)
            .select_related("police_unit")
            .order_by("-created_at")
            .first()
            if sees_hukou
            else None
        ),
        "sees_hukou": sees_hukou,
    }
