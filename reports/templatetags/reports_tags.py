"""The child file page's 救助保护 section (included by registry/child_detail.html, whose view
fetched the child through the access layer and logged the read): the reports on this child that
the user may read (reports/access.py, AC-5), each with its case and the whole chain as one
timeline (report, response, placement, assessment, measures, follow-ups, interventions: issue 5
item 9), and a link to file a new one.
A user who may not read a report sees nothing of it, not even that it exists."""

from typing import Any

from django import template

from audit.models import EventType
from audit.services import audit_event
from reports.access import may_file_reports
from reports.selectors import reports_for_child

register = template.Library()


@register.inclusion_tag("reports/_child_section.html", takes_context=True)
def reports_section(context: template.Context) -> dict[str, Any]:
    from cases.models import Case
    from cases.selectors import case_timeline

    request = context["request"]
    child, user = context["child"], request.user
    reports = list(reports_for_child(user, child)[:20])
    for report in reports:  # each chain shown is a read of a confidential report (LG-1)
        audit_event(
            request=request,
            action=EventType.VIEW,
            object_type="report",
            object_id=report.pk,
            detail={"page": "child_file", "child": str(child.pk)},
        )
    cases = {case.report_id: case for case in Case.objects.filter(report__in=[r.pk for r in reports])}
    return {
        "child": child,
        "rows": [(report, cases.get(report.pk), case_timeline(report)) for report in reports],
        "may_file": may_file_reports(user) and child.is_active,
    }
