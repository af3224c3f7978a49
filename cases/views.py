"""Pages of the cases app (phone-first). Each view: access → form → service → redirect/render.

Every page reaches its object through cases/access.py (out of scope answers 404 like a missing
case, with a `denied` audit row). Every page that shows a case's facts writes a `view` audit row
(object_type "case"); every write leaves its audit row in the service's transaction.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Role
from audit.models import EventType
from audit.services import audit_event
from cases import selectors, services
from cases.access import (
    Need,
    access_case,
    access_follow_up,
    access_measure,
    access_referral,
    access_report_to_open,
    case_perms,
    cases_readable_by,
    referral_unit_ids,
    referrals_for,
)
from cases.forms import (
    AssessmentForm,
    FollowUpForm,
    FollowUpRecordForm,
    MeasureForm,
    MeasureUpdateForm,
    ReasonForm,
    ReferralAnswerForm,
    VersionForm,
)
from cases.models import Case, CaseState, MeasureStatus
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from registry.access import user_roles

STALE = "个案已被他人修改，请先查看个案的最新情况，再重新操作。"


def _log_read(request: AuthenticatedHttpRequest, case: Case, page: str, **detail: object) -> None:
    audit_event(
        request=request,
        action=EventType.VIEW,
        object_type="case",
        object_id=case.pk,
        detail={"page": page, **{k: str(v) for k, v in detail.items()}},
    )


def _to_case(case: Case) -> HttpResponse:
    return redirect("cases:detail", case_id=case.pk)


def _posted(request: AuthenticatedHttpRequest) -> Any:
    """The POST data on a POST (even an empty one: the form is then bound and invalid), else None."""
    return request.POST if request.method == "POST" else None


# --- the list and opening --------------------------------------------------------------------


@login_required
@require_GET
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Cases the user manages (county admin, named supervisors), open ones or the closed."""
    if not user_roles(request.user) & {Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR}:
        raise PermissionDenied("只有县民政管理员和儿童督导员可以查看个案列表。")
    closed = request.GET.get("state") == "closed"
    today = timezone.localdate()
    page = Paginator(selectors.case_list(request.user, on=today, closed=closed), 50).get_page(
        request.GET.get("page")
    )
    audit_event(
        request=request,
        action=EventType.LIST,
        object_type="case",
        detail={"closed": closed, "count": len(page.object_list)},
    )
    return render(request, "cases/case_list.html", {"page": page, "closed": closed, "today": today})


@login_required
@require_http_methods(["GET", "POST"])
def case_open(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access_report_to_open(request.user, report_id)
    existing = Case.objects.filter(report=report).first()
    if existing is not None:
        messages.info(request, "该报告已经立案。")
        return _to_case(existing)
    form = Form(_posted(request))
    if request.method == "POST":
        try:
            case = services.case_open(user=request.user, report=report)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已立案，请开展评估。")
            return _to_case(case)
    audit_event(
        request=request,
        action=EventType.VIEW,
        object_type="report",
        object_id=report.pk,
        detail={"page": "case_open"},
    )
    return render(request, "cases/open.html", {"report": report, "form": form})


# --- the case page ---------------------------------------------------------------------------


@login_required
@require_GET
def case_detail(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    case = access_case(request.user, case_id)
    _log_read(request, case, "detail")
    today = timezone.localdate()
    perms = case_perms(request.user, case)
    own_units = referral_unit_ids(request.user) if perms.social_worker else set()
    measures = list(selectors.measures_of(case))
    for measure in measures:
        measure.overdue = selectors.is_overdue(measure, today)  # type: ignore[attr-defined]
        updatable = case.editable and measure.is_open and (perms.manage or measure.unit_id in own_units)
        measure.updatable = updatable  # type: ignore[attr-defined]
    follow_ups = list(selectors.follow_ups_of(case))
    for follow_up in follow_ups:
        follow_up.overdue = follow_up.done_on is None and follow_up.due_on < today  # type: ignore[attr-defined]
    context = {
        "case": case,
        "report": case.report,
        "can": perms,
        "may_approve": perms.manage and case.close_requested_by_id != request.user.pk,
        "latest": selectors.latest_assessment(case),
        "assessments": case.assessments.select_related("recorded_by"),
        "measures": measures,
        "follow_ups": follow_ups,
        "events": selectors.case_timeline(case.report),
        "today": today,
    }
    return render(request, "cases/case_detail.html", context)


def _stale(
    request: AuthenticatedHttpRequest, form: Form, template: str, context: dict[str, Any]
) -> HttpResponse:
    form.add_error(None, STALE)
    return render(request, template, {**context, "form": form, "stale": True}, status=409)


@login_required
@require_http_methods(["GET", "POST"])
def assessment_new(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    case = access_case(request.user, case_id, need="manage")
    form = AssessmentForm(_posted(request), initial={"version": case.version})
    context = {"case": case, "report": case.report, "form": form}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.assessment_record(
                user=request.user, case=case, expected_version=version, data=services.AssessmentData(**data)
            )
        except services.StaleCaseError:
            return _stale(request, form, "cases/assessment_form.html", context)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已记录评估。")
            return _to_case(case)
    _log_read(request, case, "assessment_form")
    return render(request, "cases/assessment_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def measure_new(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    case = access_case(request.user, case_id, need="manage")
    form = MeasureForm(_posted(request), units=services.units_for(case))
    if request.method == "POST" and form.is_valid():
        try:
            measure = services.measure_assign(user=request.user, case=case, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            done = "已转介，等待对方答复。" if measure.is_referral else "已加入帮扶计划。"
            messages.success(request, f"{measure.get_kind_display()}：{done}")
            return _to_case(case)
    _log_read(request, case, "measure_form")
    return render(request, "cases/measure_form.html", {"case": case, "report": case.report, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def measure_update(request: AuthenticatedHttpRequest, measure_id: str) -> HttpResponse:
    measure = access_measure(request.user, measure_id)
    case = measure.case
    may_cancel = case_perms(request.user, case).manage
    form = MeasureUpdateForm(_posted(request), may_cancel=may_cancel)
    if request.method == "POST" and form.is_valid():
        try:
            services.measure_progress(user=request.user, measure=measure, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已更新帮扶措施。")
            return _to_case(case)
    _log_read(request, case, "measure", measure=measure.pk)
    context = {"case": case, "report": case.report, "measure": measure, "form": form}
    return render(request, "cases/measure_update.html", context)


# --- follow-ups ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_new(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    case = access_case(request.user, case_id, need="work")
    form = FollowUpForm(_posted(request), assignees=selectors.assignee_candidates(case))
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_schedule(user=request.user, case=case, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已安排回访。")
            return _to_case(case)
    _log_read(request, case, "follow_up_form")
    return render(request, "cases/follow_up_form.html", {"case": case, "report": case.report, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def follow_up(request: AuthenticatedHttpRequest, follow_up_id: str) -> HttpResponse:
    """The follow-up's page: its assignee (who may not read the case itself, such as the
    village's child director) sees the child's name and the due date, and records the visit."""
    item = access_follow_up(request.user, follow_up_id)
    case = item.case
    readable = cases_readable_by(request.user).filter(pk=case.pk).exists()
    form = FollowUpRecordForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_record(user=request.user, follow_up=item, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已记录回访情况。")
            return _to_case(case) if readable else redirect("cases:follow_up", follow_up_id=item.pk)
    _log_read(request, case, "follow_up", follow_up=item.pk)
    context = {"case": case, "report": case.report, "item": item, "form": form, "readable": readable}
    return render(request, "cases/follow_up.html", context)


# --- closing and reopening -------------------------------------------------------------------

Act = Callable[[AuthenticatedHttpRequest, Case, dict[str, Any]], object]


def _transition_page(
    request: AuthenticatedHttpRequest,
    case_id: str,
    *,
    need: Need,
    page: dict[str, str],
    act: Act,
    reason_label: str = "",
) -> HttpResponse:
    case = access_case(request.user, case_id, need=need)
    data = _posted(request)
    form: Form = (
        ReasonForm(data, initial={"version": case.version}, label=reason_label)
        if reason_label
        else VersionForm(data, initial={"version": case.version})
    )
    context = {"case": case, "report": case.report, "page": page}
    if request.method == "POST" and form.is_valid():
        try:
            act(request, case, form.cleaned_data)
        except services.StaleCaseError:
            _log_read(request, case, page["slug"])
            return _stale(request, form, "cases/transition_form.html", context)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, page["done"])
            return _to_case(case)
    _log_read(request, case, page["slug"])
    return render(request, "cases/transition_form.html", {**context, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def close_request(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    def act(request: AuthenticatedHttpRequest, case: Case, data: dict[str, Any]) -> object:
        return services.case_close_request(
            user=request.user, case=case, expected_version=data["version"], reason=data["reason"]
        )

    page = {
        "slug": "close_request",
        "title": "申请结案",
        "intro": (
            "结案须经县民政管理员或另一位督导人员审批。"
            "所有帮扶措施须已完成、未承接或已撤销，所有回访须已记录。"
        ),
        "button": "提交结案申请",
        "done": "已申请结案，等待审批。",
    }
    return _transition_page(request, case_id, need="work", page=page, act=act, reason_label="结案理由")


@login_required
@require_http_methods(["GET", "POST"])
def close_approve(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    def act(request: AuthenticatedHttpRequest, case: Case, data: dict[str, Any]) -> object:
        return services.case_close_approve(user=request.user, case=case, expected_version=data["version"])

    page = {
        "slug": "close_approve",
        "title": "批准结案",
        "intro": "批准后个案即告结案，不能再修改；如需继续帮扶，须重新启用个案并说明理由。",
        "button": "批准结案",
        "done": "已批准结案。",
    }
    return _transition_page(request, case_id, need="manage", page=page, act=act)


@login_required
@require_http_methods(["GET", "POST"])
def close_reject(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    def act(request: AuthenticatedHttpRequest, case: Case, data: dict[str, Any]) -> object:
        return services.case_close_reject(
            user=request.user, case=case, expected_version=data["version"], reason=data["reason"]
        )

    page = {
        "slug": "close_reject",
        "title": "退回结案申请",
        "intro": "退回后个案回到“帮扶中”，可以继续评估、安排措施和回访。",
        "button": "退回",
        "done": "已退回结案申请，个案继续帮扶。",
    }
    return _transition_page(request, case_id, need="manage", page=page, act=act, reason_label="退回理由")


@login_required
@require_http_methods(["GET", "POST"])
def reopen(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    def act(request: AuthenticatedHttpRequest, case: Case, data: dict[str, Any]) -> object:
        return services.case_reopen(
            user=request.user, case=case, expected_version=data["version"], reason=data["reason"]
        )

    page = {
        "slug": "reopen",
        "title": "重新启用个案",
        "intro": "重新启用后个案回到“帮扶中”。原来的结案记录保留在时间线中。",
        "button": "重新启用",
        "done": "已重新启用个案。",
    }
    return _transition_page(
        request, case_id, need="manage", page=page, act=act, reason_label="重新启用的理由"
    )


# --- referrals -------------------------------------------------------------------------------


@login_required
@require_GET
def referral_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Referrals to the user's units: waiting for an answer, accepted or in progress."""
    if not referral_unit_ids(request.user):
        raise PermissionDenied("您的账号不办理帮扶转介。")
    referrals = list(referrals_for(request.user)[:200])
    audit_event(
        request=request,
        action=EventType.LIST,
        object_type="case",
        detail={"page": "referrals", "count": len(referrals)},
    )
    return render(
        request, "cases/referral_list.html", {"referrals": referrals, "today": timezone.localdate()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def referral(request: AuthenticatedHttpRequest, measure_id: str) -> HttpResponse:
    """One referral, for its unit's users: the child's name and the measure only (never the
    report). Answer it (accept / decline with a reason), then mark it started or done."""
    measure = access_referral(request.user, measure_id)
    case = measure.case
    which = request.POST.get("form") if request.method == "POST" else None
    answer = ReferralAnswerForm(request.POST if which == "answer" else None)
    progress = MeasureUpdateForm(request.POST if which == "progress" else None, may_cancel=False)
    form: Form | None = {"answer": answer, "progress": progress}.get(which or "")
    if form is not None and form.is_valid():
        try:
            if form is answer:
                accept = form.cleaned_data["decision"] == "accept"
                services.measure_respond(
                    user=request.user, measure=measure, accept=accept, reason=form.cleaned_data["reason"]
                )
                done = "已承接这项转介。" if accept else "已答复不能承接。"
            else:
                services.measure_progress(user=request.user, measure=measure, **form.cleaned_data)
                done = "已更新措施进展。"
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("cases:referral", measure_id=measure.pk)
    _log_read(request, case, "referral", measure=measure.pk)
    context = {
        "form_error": "请重新提交。" if request.method == "POST" and form is None else "",
        "measure": measure,
        "case": case,
        "child_label": case.report.child_label,
        "assigner_unit": selectors.assigner_unit(measure.assigned_by),
        "answer": answer,
        "progress": progress,
        "may_progress": measure.status in (MeasureStatus.ACCEPTED, MeasureStatus.IN_PROGRESS),
        "case_open": case.state in (CaseState.ASSESSING, CaseState.ASSISTING),
        "readable": cases_readable_by(request.user).filter(pk=case.pk).exists(),
    }
    return render(request, "cases/referral.html", context)
