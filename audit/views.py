"""Audit pages: the query page, who looked at a child (LG-6), alerts (OP-2), the access
report (DP-7) and the break-the-glass request (AC-8). Reading the audit trail is itself
audited."""

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from audit.forms import (
    AccessLogFilterForm,
    AccessReportDownloadForm,
    AccessReportForm,
    ChildLogFilterForm,
    EmergencyAccessForm,
)
from audit.models import Alert, EventType, Outcome
from audit.permissions import can_read_alerts, can_read_audit, require
from audit.report import report_download
from audit.selectors import (
    access_log_entries,
    access_report,
    alerts_visible_to,
    audited_child,
    child_access_entries,
)
from audit.services import access_log, audit_event, emergency_access_grant
from core.exports import Format
from core.http import AuthenticatedHttpRequest
from registry.access import (
    can_request_emergency_access,
    child_by_file_no,
    child_via_emergency_access,
    children_visible_to,
)
from registry.models import Child

PAGE_SIZE = 100
AUDIT_ONLY = "仅审计员和县民政管理员可查询审计日志"


def _page(request: AuthenticatedHttpRequest, entries: QuerySet[Any]) -> dict[str, Any]:
    """Keyset paging on the id, newest first (no OFFSET, no COUNT)."""
    before = request.GET.get("before", "")
    if before.isdigit():
        entries = entries.filter(id__lt=int(before))
    rows = list(entries.order_by("-id")[: PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("before", None)
    return {
        "rows": rows[:PAGE_SIZE],
        "next_before": rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        "query": query.urlencode(),
    }


@login_required
@require_GET
@require(can_read_audit, AUDIT_ONLY)
def access_log_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who did what, when, from where, with what outcome."""
    form = AccessLogFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {**data, "object_id": str(data["object_id"]) if data["object_id"] else ""}
    access_log(request=request, action=EventType.LIST, object_type="audit_log", detail=_shown(filters))
    context = {"form": form, **_page(request, access_log_entries(**filters))}
    return render(request, "audit/access_log.html", context)


def _shown(filters: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in filters.items() if value}


@login_required
@require_GET
@require(can_read_audit, AUDIT_ONLY)
def child_access_log(request: AuthenticatedHttpRequest, child_id: uuid.UUID) -> HttpResponse:
    """Who looked at this child, and when (LG-6)."""
    child = audited_child(request.user, child_id)
    form = ChildLogFilterForm(request.GET or None)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    access_log(
        request=request,
        action=EventType.VIEW,
        object_type="child_access_log",
        object_id=child.pk,
        detail=_shown(filters),
    )
    entries = child_access_entries(child=child, **filters)
    return render(request, "audit/child_log.html", {"form": form, "child": child, **_page(request, entries)})


@login_required
@require_GET
@require(can_read_alerts, "仅安全管理员、审计员和督导人员可查看告警")
def alert_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    alerts = alerts_visible_to(request.user)
    access_log(request=request, action=EventType.LIST, object_type="alert")
    before = _uuid(request.GET.get("before", ""))
    if before:
        anchor = Alert.objects.filter(pk=before).values_list("at", flat=True).first()
        alerts = alerts.filter(at__lt=anchor) if anchor else alerts
    rows = list(alerts.order_by("-at")[: PAGE_SIZE + 1])
    next_before = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    return render(request, "audit/alerts.html", {"rows": rows[:PAGE_SIZE], "next_before": next_before})


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


@login_required
@require_GET
@require(can_read_audit, AUDIT_ONLY)
def access_report_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who accessed which child in a period (DP-7), on screen."""
    form = AccessReportForm(request.GET or AccessReportForm.default_period())
    rows = []
    if form.is_valid():
        period = form.cleaned_data
        rows = access_report(since=period["since"], until=period["until"])
        access_log(
            request=request,
            action=EventType.LIST,
            object_type="access_report",
            detail={"since": str(period["since"]), "until": str(period["until"]), "count": len(rows)},
        )
    return render(request, "audit/report.html", {"form": form, "rows": rows, "download": _period(form)})


def _period(form: AccessReportForm) -> str:
    if not form.is_valid():
        return ""
    return f"since={form.cleaned_data['since']:%Y-%m-%d}&until={form.cleaned_data['until']:%Y-%m-%d}"


@login_required
@require_GET
@require(can_read_audit, AUDIT_ONLY)
def access_report_download(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """The same report as a CSV or XLSX file (core.exports writes the `export` audit row)."""
    form = AccessReportDownloadForm(request.GET or AccessReportForm.default_period())
    if not form.is_valid():
        return render(request, "audit/report.html", {"form": form, "rows": []}, status=400)
    since, until = form.cleaned_data["since"], form.cleaned_data["until"]
    fmt: Format = "csv" if form.cleaned_data["format"] == "csv" else "xlsx"
    rows = access_report(since=since, until=until)
    return report_download(request, rows, since=since, until=until, fmt=fmt)


@login_required
@require_http_methods(["GET", "POST"])
@require(can_request_emergency_access, "只有区域工作人员（县、乡镇、村）可以申请紧急查看")
def emergency_access(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Break-the-glass (AC-8): a file outside the user's scope, read-only, for a limited
    time, with a typed reason that is audited and sent to the supervisors."""
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        child = child_by_file_no(form.cleaned_data["file_no"])
        if child is None:
            _refused(request)
            form.add_error("file_no", "未找到该档案编号。")
        elif _already_open(request.user, child):
            messages.info(request, "您目前已可查看该档案（在工作范围内，或紧急查看尚未到期），无需再次申请。")
            return redirect("registry:detail", child_id=child.pk)
        else:
            try:
                grant = emergency_access_grant(
                    user=request.user, child=child, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                until = f"{timezone.localtime(grant.expires_at):%H:%M}"
                messages.warning(
                    request, f"已开通紧急查看（只读），{until} 失效。本次查看已记入审计日志并通知督导人员。"
                )
                return redirect("registry:detail", child_id=child.pk)
    context = {"form": form, "minutes": settings.SHOUHU_EMERGENCY_ACCESS_MINUTES}
    return render(request, "audit/emergency.html", context, status=400 if form.errors else 200)


def _already_open(user: User, child: Child) -> bool:
    """In scope, or under a grant that has not yet expired: no new grant, no new alert."""
    in_scope = children_visible_to(user).filter(pk=child.pk).exists()
    return in_scope or child_via_emergency_access(user, child.pk) is not None


def _refused(request: AuthenticatedHttpRequest) -> None:
    # Guessing file numbers counts towards the repeated-denials alarm.
    audit_event(
        request=request,
        action=EventType.DENIED,
        outcome=Outcome.DENIED,
        object_type="child",
        detail={"status": 400, "route": "audit:emergency", "file_no_found": False},
    )
