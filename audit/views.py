from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render

from audit.forms import AccessLogFilterForm
from audit.selectors import access_log_entries
from core.http import AuthenticatedHttpRequest
from registry.access import can_read_access_log

PAGE_SIZE = 100


@login_required
def access_log_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """County admins query the access log: who looked at what, when, from where."""
    if not can_read_access_log(request.user):
        raise PermissionDenied("仅县民政管理员可查询访问日志")
    form = AccessLogFilterForm(request.GET or None)
    entries = access_log_entries()
    if form.is_valid():
        data = form.cleaned_data
        entries = access_log_entries(
            username=data["username"],
            action=data["action"],
            object_id=str(data["object_id"]) if data["object_id"] else "",
            since=data["since"],
            until=data["until"],
        )
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(id__lt=int(before))
    rows = list(entries.order_by("-id")[: PAGE_SIZE + 1])
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    query = request.GET.copy()
    query.pop("before", None)
    context = {"form": form, "rows": rows[:PAGE_SIZE], "next_before": next_before, "query": query.urlencode()}
    return render(request, "audit/access_log.html", context)
