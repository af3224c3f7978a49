"""Pages of the reports app. Each view: access → form → service → redirect or render.

Reports are reached only through reports/access.py: out of scope answers 404 exactly like a
missing report. Every page that shows a report writes an audit row (VIEW, object_type
"report"); lists write LIST, searches SEARCH with the term masked; the services write the
rows of the changes. The actions (受理, 到场, 处置, 安置, 通报, 改派, 反馈, 知悉人员) are
POST-only forms on the detail page: a refused one re-renders the page with the error (400).
"""

import uuid
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import EventType
from audit.services import audit_event
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from core.masking import mask_text
from geo.models import Region
from registry.selectors import search_kind
from reports import services
from reports.access import (
    access_report,
    access_report_status,
    may_act,
    may_edit_policy,
    may_file_reports,
    reports_administered_by,
    reports_filed_by,
    reports_readable_by,
)
from reports.forms import (
    ActionForm,
    AttendForm,
    FeedbackForm,
    JurisdictionForm,
    LinkForm,
    MemberForm,
    PlacementEndForm,
    PlacementForm,
    PolicyForm,
    ReportForm,
    RerouteForm,
)
from reports.models import (
    MemberKind,
    Placement,
    ProtectionPolicy,
    Report,
    ReportMember,
    ReportState,
)
from reports.routing import bureau_for
from reports.selectors import (
    children_to_report,
    inbox,
    policy_counties,
    response_time_summary,
    response_times,
    timeline_events,
)
from reports.triggers import TRIGGERS

PAGE_SIZE = 50
DETAIL = "reports/report_detail.html"


def _log(request: AuthenticatedHttpRequest, action: str, report: Report | None = None, **detail: Any) -> None:
    audit_event(
        request=request,
        action=action,
        object_type="report",
        object_id=report.pk if report else "",
        detail=detail,
    )


def _log_search(request: AuthenticatedHttpRequest, term: str, count: int, purpose: str) -> None:
    detail = {"kind": search_kind(term), "term": mask_text(term), "count": count, "purpose": purpose}
    audit_event(request=request, action=EventType.SEARCH, object_type="child", detail=detail)


def _page(request: AuthenticatedHttpRequest, items: Any) -> Any:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


# --- filing ----------------------------------------------------------------------------------


def _carried(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    """What was typed before a search, to show again (as initial values: no errors yet)."""
    data: dict[str, Any] = {key: request.POST.get(key) for key in request.POST if key != "triggers"}
    data["triggers"] = request.POST.getlist("triggers")
    data.pop("csrfmiddlewaretoken", None)
    return data


def _report_data(data: dict[str, Any]) -> services.ReportData:
    return services.ReportData(
        submission_key=data["submission_key"],
        grant=data["grant"],
        triggers=data["triggers"],
        found_at=data["found_at"],
        found_place=data["found_place"],
        description=data["description"],
        child=data.get("child"),
        unknown_name=data.get("unknown_name") or "",
        unknown_sex=data.get("unknown_sex") or "",
        unknown_age=data.get("unknown_age"),
        township=data.get("township"),
    )


def _search_results(request: AuthenticatedHttpRequest, form: forms.Form, purpose: str) -> dict[str, Any]:
    """The search results (the chosen child kept on top) and the chosen child's id."""
    term = (request.POST.get("q") or "").strip()
    results = children_to_report(request.user, term) if term else []
    if term:
        _log_search(request, term, len(results), purpose)
    # From the child's file page: /reports/new/?child=<uuid> (a UUID, no personal data).
    chosen = request.POST.get("child") or request.GET.get("child") or ""
    child_field: Any = form.fields["child"]
    picked = child_field.queryset.filter(pk=chosen).first() if _is_uuid(chosen) else None
    if picked is not None and picked not in results:
        results.insert(0, picked)
    return {"results": results, "chosen": str(picked.pk) if picked else "", "searched": bool(term)}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def report_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """强制报告 in under a minute. "搜索" re-renders the form with the matching files (what was
    typed stays); "提交报告" files it. The hidden submission key makes a double tap one report."""
    if not may_file_reports(request.user):
        raise PermissionDenied("您的角色不能提交强制报告")
    searching = request.method == "POST" and request.POST.get("action") == "search"
    status = 200
    if request.method == "POST" and not searching:
        form = ReportForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                with transaction.atomic():
                    report, created = services.report_file(
                        user=request.user, data=_report_data(form.cleaned_data)
                    )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                if created:
                    messages.success(request, f"强制报告已提交，并已送达{report.routed_unit.name}。")
                else:
                    messages.success(request, "这份报告已经提交过了，无需重复提交。")
                return redirect("reports:status", report_id=report.pk)
        status = 400
    else:
        initial = _carried(request) if searching else {"child": request.GET.get("child", "")}
        form = ReportForm(initial=initial, user=request.user)
    context = {"form": form, "triggers": TRIGGERS, **_search_results(request, form, "report")}
    context["checked"] = set(request.POST.getlist("triggers"))
    return render(request, "reports/report_form.html", context, status=status)


# --- lists -----------------------------------------------------------------------------------


@login_required
def report_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The reports the user may read: the police unit's inbox (unacknowledged first, escalated
    in red), or the whole county for county admins, with a state filter and response times."""
    readable = reports_readable_by(request.user)
    state = request.GET.get("state", "")
    chosen = readable.filter(state=state) if state in ReportState.values else readable
    page = _page(request, inbox(chosen))
    administered = reports_administered_by(request.user)
    summary = (
        response_time_summary(administered.filter(pk__in=chosen.values("pk")))
        if administered.exists()
        else None
    )
    _log(request, EventType.LIST, count=len(page.object_list), state=state)
    context = {
        "page": page,
        "state": state,
        "states": ReportState.choices,
        "summary": summary,
        "may_file": may_file_reports(request.user),
    }
    return render(request, "reports/report_list.html", context)


@login_required
def report_mine(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The reports the user filed: state, times and feedback only."""
    page = _page(
        request, reports_filed_by(request.user).select_related("routed_unit").order_by("-reported_at")
    )
    _log(request, EventType.LIST, count=len(page.object_list), page="mine")
    return render(
        request, "reports/report_mine.html", {"page": page, "may_file": may_file_reports(request.user)}
    )


# --- the reporter's status page ----------------------------------------------------------------


@login_required
def report_status(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    """What the reporter filed, its state and the feedback: not the police's record."""
    report = access_report_status(request.user, report_id)
    _log(request, EventType.VIEW, report, page="status")
    return render(request, "reports/report_status.html", {"report": report})


# --- the detail page and its actions -------------------------------------------------------------


def _may(request: AuthenticatedHttpRequest, report: Report) -> dict[str, bool]:
    user = request.user
    return {
        "police": may_act(user, report, "police"),
        "administer": may_act(user, report, "administer"),
        "reroute": may_act(user, report, "reroute"),
        "link": may_act(user, report, "link") and report.child_id is None,
        "answer": may_act(user, report, "answer"),
    }


def _detail_context(request: AuthenticatedHttpRequest, report: Report, **bound: Any) -> dict[str, Any]:
    may = _may(request, report)
    members = report.members.select_related("user", "named_by").order_by("-active", "named_at")
    return {
        "report": report,
        "may": may,
        "times": response_times(report),
        "routings": report.routings.select_related("unit", "routed_by"),
        "escalations": report.escalations.all(),
        "actions": report.actions.select_related("recorded_by"),
        "placements": report.placements.select_related("recorded_by"),
        "members": members,
        "events": timeline_events(report),
        "attend_form": bound.get("attend_form") or AttendForm(),
        "action_form": bound.get("action_form") or ActionForm(),
        "placement_form": bound.get("placement_form") or PlacementForm(),
        "end_form": bound.get("end_form") or PlacementEndForm(),
        "blank_end_form": PlacementEndForm(),
        "end_placement": bound.get("end_placement"),
        "feedback_form": bound.get("feedback_form") or FeedbackForm(initial={"feedback": report.feedback}),
        "reroute_form": bound.get("reroute_form") or RerouteForm(report=report),
        "member_form": bound.get("member_form") or (_member_form(report) if may["administer"] else None),
        "errors": bound.get("errors", []),
        "states": ReportState,
        **_next_stage(request, report),
    }


def _next_stage(request: AuthenticatedHttpRequest, report: Report) -> dict[str, Any]:
    """The case that follows the report (评估帮扶), or whether this user may open it now."""
    from cases.access import may_manage_report
    from cases.models import Case

    case = Case.objects.filter(report=report).first()
    may_open = (
        case is None
        and report.state == ReportState.TOWNSHIP_NOTIFIED
        and may_manage_report(request.user, report)
    )
    return {"case": case, "may_open_case": may_open}


def _show(request: AuthenticatedHttpRequest, report: Report, status: int = 200, **bound: Any) -> HttpResponse:
    _log(request, EventType.VIEW, report, page="detail", child=str(report.child_id or ""))
    return render(request, DETAIL, _detail_context(request, report, **bound), status=status)


@login_required
def report_detail(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    return _show(request, access_report(request.user, report_id))


def _act(
    request: AuthenticatedHttpRequest,
    report: Report,
    form: forms.Form,
    run: Callable[[dict[str, Any]], object],
    success: str,
    key: str = "",
    **extra: Any,
) -> HttpResponse:
    """Validate, run the service, redirect to the report (or, when the user no longer reads
    it, to the list); a refusal re-renders the detail page with the error and writes nothing."""
    if form.is_valid():
        try:
            with transaction.atomic():
                run(form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, success)
            if reports_readable_by(request.user).filter(pk=report.pk).exists():
                return redirect("reports:detail", report_id=report.pk)
            return redirect("reports:list")
    bound = {key: form, **extra} if key else dict(extra)
    bound["errors"] = [*form.non_field_errors()]
    if not key:
        bound["errors"] += [
            error for name, errors in form.errors.items() if name != "__all__" for error in errors
        ]
    return _show(request, access_report(request.user, report.pk), status=400, **bound)


@login_required
@require_POST
def report_acknowledge(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, police=True)
    return _act(
        request,
        report,
        forms.Form(request.POST),
        lambda data: services.report_acknowledge(user=request.user, report=report),
        "已受理。请立即出警处置。",
    )


@login_required
@require_POST
def report_attend(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, police=True)
    return _act(
        request,
        report,
        AttendForm(request.POST),
        lambda data: services.report_attend(user=request.user, report=report, **data),
        "已登记出警到场时间。",
        "attend_form",
    )


@login_required
@require_POST
def response_action_new(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, police=True)
    return _act(
        request,
        report,
        ActionForm(request.POST),
        lambda data: services.response_action_record(user=request.user, report=report, **data),
        "已记录处置措施。",
        "action_form",
    )


@login_required
@require_POST
def placement_new(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, police=True)
    return _act(
        request,
        report,
        PlacementForm(request.POST),
        lambda data: services.placement_record(user=request.user, report=report, **data),
        "已登记临时安置。",
        "placement_form",
    )


@login_required
@require_POST
def placement_end(request: AuthenticatedHttpRequest, report_id: str, placement_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, police=True)
    placement = Placement.objects.filter(pk=placement_id, report=report).first()
    if placement is None:
        raise Http404("未找到该报告")
    return _act(
        request,
        report,
        PlacementEndForm(request.POST),
        lambda data: services.placement_end(user=request.user, placement=placement, **data),
        "已登记安置结束和返家评估。",
        "end_form",
        end_placement=placement.pk,
    )


@login_required
@require_POST
def report_township_notify(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, police=True)
    return _act(
        request,
        report,
        forms.Form(request.POST),
        lambda data: services.report_township_notify(user=request.user, report=report),
        "已通报乡镇，乡镇将开展评估帮扶。",
    )


@login_required
@require_POST
def report_reroute(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, scope="reroute")
    form = RerouteForm(request.POST, report=report)
    return _act(
        request,
        report,
        form,
        lambda data: services.report_reroute(user=request.user, report=report, **data),
        "已改派。原受理单位已不能查看该报告。",
        "reroute_form",
    )


@login_required
@require_POST
def report_feedback(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, scope="answer")
    return _act(
        request,
        report,
        FeedbackForm(request.POST),
        lambda data: services.report_feedback(user=request.user, report=report, text=data["feedback"]),
        "已向报告人反馈。",
        "feedback_form",
    )


def _member_form(report: Report, data: Any = None) -> MemberForm:
    candidates = services.member_candidates(report, MemberKind.SUPERVISOR) + services.member_candidates(
        report, MemberKind.SOCIAL_WORKER
    )
    return MemberForm(data, candidates=candidates)


@login_required
@require_POST
def report_member_name(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, scope="administer")
    return _act(
        request,
        report,
        _member_form(report, request.POST),
        lambda data: services.report_member_name(user=request.user, report=report, **data),
        "已加入知悉名单。",
        "member_form",
    )


@login_required
@require_POST
def report_member_end(request: AuthenticatedHttpRequest, report_id: str, member_id: str) -> HttpResponse:
    report = access_report(request.user, report_id, scope="administer")
    member = ReportMember.objects.filter(pk=member_id, report=report).first()
    if member is None:
        raise Http404("未找到该报告")
    return _act(
        request,
        report,
        forms.Form(request.POST),
        lambda data: services.report_member_end(user=request.user, member=member),
        "已将该人员移出知悉名单，其查看权限即时终止。",
    )


# --- linking an unknown child to a file ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def report_link_child(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    """Search the files the user may see, pick one, link it (county admins, named supervisors)."""
    report = access_report(request.user, report_id, scope="link")
    linking = request.method == "POST" and request.POST.get("action") == "link"
    form = LinkForm(request.POST if linking else None, user=request.user)
    status = 200
    if linking and form.is_valid():
        child = form.cleaned_data.get("child")
        try:
            if child is None:
                raise ValidationError({"child": "请先搜索，再从结果中选择儿童。"})
            with transaction.atomic():
                services.report_link_child(user=request.user, report=report, child=child)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已关联儿童档案。")
            return redirect("reports:detail", report_id=report.pk)
    if linking:
        status = 400
    _log(request, EventType.VIEW, report, page="link")
    context = {"report": report, "form": form, **_search_results(request, form, "report_link")}
    return render(request, "reports/report_link.html", context, status=status)


# --- the county's escalation settings ------------------------------------------------------------


def _county_choice(request: AuthenticatedHttpRequest, counties: list[Region]) -> Region:
    wanted = request.POST.get("county") or request.GET.get("county")
    return next((county for county in counties if str(county.pk) == wanted), counties[0])


@login_required
@require_http_methods(["GET", "POST"])
def policy(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everyone with a data role reads when unacknowledged reports escalate; the county admin
    changes it. The 三员 accounts have no county's child protection to read (403)."""
    counties = policy_counties(request.user)
    if not counties:
        raise PermissionDenied("您的角色没有强制报告升级设置")
    county = _county_choice(request, counties)
    can_edit = may_edit_policy(request.user, county)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("只有县民政管理员可以修改强制报告升级设置")
    current = ProtectionPolicy.for_county(county)
    initial = {
        "escalate_after_minutes": current.escalate_after_minutes,
        "escalate_again_minutes": current.escalate_again_minutes,
    }
    form = PolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.protection_policy_update(user=request.user, county=county, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "升级设置已保存。")
            return redirect(f"{request.path}?county={county.pk}")
    context = {"county": county, "counties": counties, "policy": current, "form": form, "can_edit": can_edit}
    return render(request, "reports/policy.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def jurisdiction(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The jurisdiction map (管辖对应): which police station receives the reports of each
    township of the county. The county admin keeps it; nobody else (403)."""
    counties = [c for c in policy_counties(request.user) if may_edit_policy(request.user, c)]
    if not counties:
        raise PermissionDenied("只有县民政管理员可以设置强制报告的受理单位")
    county = _county_choice(request, counties)
    townships = list(services.townships_of(county))
    stations = list(services.stations_of(county).prefetch_related("serves"))
    current = {region.pk: station for station in reversed(stations) for region in station.serves.all()}
    form = JurisdictionForm(
        request.POST if request.method == "POST" else None,
        townships=townships,
        stations=stations,
        current=current,
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.jurisdiction_set(user=request.user, county=county, chosen=form.chosen())
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request, f"受理单位已保存（{changed} 个乡镇有变化）。已提交的报告不受影响，如需可改派。"
            )
            return redirect(f"{request.path}?county={county.pk}")
    bureau = bureau_for(county)
    context = {"county": county, "counties": counties, "form": form, "bureau": bureau}
    return render(request, "reports/jurisdiction.html", context, status=400 if form.errors else 200)
