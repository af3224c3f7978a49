"""Pages of the schooling app (phone-first). Each view: access → form → service → redirect.

Cases and tasks are reached only through schooling/access.py: out of scope answers 404
exactly like a missing one. Every page that names a child writes an access-log row; every
write its audit row on the child, inside the write's transaction.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import EventType
from audit.permissions import require
from audit.services import access_log, audit_event
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from registry.models import Child
from registry.services import StaleVersionError
from schooling import selectors, services
from schooling.access import (
    Action,
    access_case,
    access_child_to_report,
    access_hukou_task,
    allowed_actions,
    can,
    can_generate_hukou,
    can_see_hukou,
    hukou_generatable,
    police_unit_ids,
)
from schooling.forms import AttemptForm, CaseOpenForm, EscalateForm, HukouDoneForm, Outcome, OutcomeForm
from schooling.models import CaseState, DropoutCase

PER_PAGE = 50

require_case_reader = require(lambda user: can(user, Action.READ), "您的角色不能查看控辍保学个案")
require_hukou_reader = require(can_see_hukou, "您的角色不能查看未登记户口儿童名单")
require_hukou_generator = require(can_generate_hukou, "只有县民政管理员和儿童督导员可以生成户口登记任务")


def _log_read(request: AuthenticatedHttpRequest, child: Child, section: str, **detail: Any) -> None:
    access_log(
        request=request,
        action=EventType.VIEW,
        object_type="child",
        object_id=child.id,
        detail={"section": section, **detail},
    )


def _log_write(request: AuthenticatedHttpRequest, child: Child, action: str, **detail: Any) -> None:
    audit_event(request=request, action=action, object_type="child", object_id=child.id, detail=detail)


def _posted(request: AuthenticatedHttpRequest) -> Any:
    """The submitted data on POST (even when empty: an unticked box alone is a submission)."""
    return request.POST if request.method == "POST" else None


def _stale(request: AuthenticatedHttpRequest, form: Form, exc: StaleVersionError) -> None:
    """The file moved on since the page was drawn: say so, and offer the form again on the
    current version (nothing was written)."""
    form.add_error(None, f"档案已被他人修改（当前为第 {exc.current.version} 版），请核对后重新提交。")
    resend = request.POST.copy()
    resend["version"] = str(exc.current.version)
    form.data = resend


# --- dropout cases -----------------------------------------------------------------------------


@login_required
@require_case_reader
def case_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    closed = request.GET.get("closed") == "1"
    cases = selectors.cases_listed(request.user, closed=closed)
    page = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    access_log(
        request=request,
        action=EventType.LIST,
        object_type="dropout_case",
        detail={"count": len(page.object_list), "closed": closed},
    )
    context = {"page": page, "closed": closed, "needed": services.ESCALATE_AFTER_FAILED_ATTEMPTS}
    return render(request, "schooling/case_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child_to_report(request.user, child_id)
    existing = selectors.open_case_of(child)
    if existing is not None:
        messages.info(request, "该儿童已有进行中的控辍保学个案，请在该个案中继续记录。")
        return redirect("schooling:detail", case_id=existing.id)
    form = CaseOpenForm(_posted(request), initial={"version": child.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            with transaction.atomic():
                case = services.dropout_case_open(
                    user=request.user, child=child, expected_version=version, **data
                )
                _log_write(
                    request,
                    child,
                    EventType.CREATE,
                    change="dropout_case_open",
                    case=str(case.id),
                    kind=case.kind,
                )
        except StaleVersionError as exc:
            _stale(request, form, exc)
            status = 409
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记。请记录每一次劝返。")
            return redirect("schooling:detail", case_id=case.id)
    _log_read(request, child, "dropout_case_new")
    return render(request, "schooling/case_form.html", {"child": child, "form": form}, status=status)


@login_required
def case_detail(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    case = access_case(request.user, case_id)
    actions = allowed_actions(request.user, case)
    attempts = list(case.attempts.select_related("attempted_by"))
    context = {
        "case": case,
        "child": case.child,
        "attempts": attempts,
        "failed": sum(1 for attempt in attempts if attempt.failed),
        "needed": services.ESCALATE_AFTER_FAILED_ATTEMPTS,
        "can_attempt": case.is_open and Action.ATTEMPT in actions,
        "can_escalate": case.state == CaseState.OPEN and Action.ESCALATE in actions,
        "can_close": case.is_open and Action.OUTCOME in actions,
    }
    _log_read(request, case.child, "dropout_case", case=str(case.id))
    return render(request, "schooling/case_detail.html", context)


def _closed(request: AuthenticatedHttpRequest, case: DropoutCase) -> HttpResponse:
    messages.info(request, f"该个案已结案（{case.get_state_display()}）。")
    return redirect("schooling:detail", case_id=case.id)


@login_required
@require_http_methods(["GET", "POST"])
def attempt_new(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    case = access_case(request.user, case_id, Action.ATTEMPT)
    if not case.is_open:
        return _closed(request, case)
    form = AttemptForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                attempt = services.persuasion_attempt_record(
                    user=request.user, case=case, **form.cleaned_data
                )
                _log_write(
                    request,
                    case.child,
                    EventType.CREATE,
                    change="persuasion_attempt",
                    case=str(case.id),
                    attempt=str(attempt.id),
                    outcome=attempt.outcome,
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已记录劝返。")
            return redirect("schooling:detail", case_id=case.id)
    _log_read(request, case.child, "persuasion_attempt_new", case=str(case.id))
    return render(request, "schooling/attempt_form.html", {"case": case, "child": case.child, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def escalate(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    """The school's written report to the education bureau and the township: a confirmation
    page, then POST. Refused (nothing written) before enough persuasion attempts failed."""
    case = access_case(request.user, case_id, Action.ESCALATE)
    form = EscalateForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                case, notified = services.dropout_case_escalate(user=request.user, case=case)
                _log_write(
                    request,
                    case.child,
                    EventType.UPDATE,
                    change="dropout_case_escalate",
                    case=str(case.id),
                    notified=notified,
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记书面报告，并通知县教育局和乡镇共 {notified} 人。")
            return redirect("schooling:detail", case_id=case.id)
    refusal = services.escalation_refusal(case)
    context = {
        "case": case,
        "child": case.child,
        "form": form,
        "refusal": refusal,
        "recipients": services.escalation_recipients(case.child) if refusal is None else [],
    }
    _log_read(request, case.child, "dropout_case_escalate", case=str(case.id))
    return render(request, "schooling/escalate.html", context)


def _outcome_initial(case: DropoutCase) -> dict[str, Any]:
    back = [case.schooling_before, case.child.schooling]
    schooling = next((value for value in back if value in services.BACK_AT_SCHOOL), "")
    return {"version": case.child.version, "schooling": schooling}


def _record_outcome(request: AuthenticatedHttpRequest, case: DropoutCase, form: OutcomeForm) -> DropoutCase:
    data = form.cleaned_data
    if data["outcome"] == Outcome.RETURNED:
        case = services.dropout_case_mark_returned(
            user=request.user,
            case=case,
            returned_on=data["returned_on"],
            schooling=data["schooling"],
            expected_version=data["version"],
        )
    else:
        case = services.dropout_case_mark_not_returned(user=request.user, case=case, reason=data["reason"])
    _log_write(request, case.child, EventType.UPDATE, change=f"dropout_case_{case.state}", case=str(case.id))
    return case


@login_required
@require_http_methods(["GET", "POST"])
def outcome(request: AuthenticatedHttpRequest, case_id: str) -> HttpResponse:
    case = access_case(request.user, case_id, Action.OUTCOME)
    if not case.is_open:
        return _closed(request, case)
    form = OutcomeForm(_posted(request), initial=_outcome_initial(case))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                case = _record_outcome(request, case, form)
        except StaleVersionError as exc:
            _stale(request, form, exc)
            status = 409
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已结案：{case.get_state_display()}。")
            return redirect("schooling:detail", case_id=case.id)
    _log_read(request, case.child, "dropout_case_outcome", case=str(case.id))
    context = {"case": case, "child": case.child, "form": form}
    return render(request, "schooling/outcome_form.html", context, status=status)


# --- hukou registration (R23) ------------------------------------------------------------------


@login_required
@require_hukou_reader
def hukou_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(selectors.hukou_children_listed(request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = selectors.hukou_rows(list(page.object_list))
    can_generate = can_generate_hukou(request.user)
    context = {
        "page": page,
        "rows": rows,
        "done": list(selectors.hukou_recently_done(request.user)),
        "can_generate": can_generate,
        "without_task": selectors.hukou_without_task(request.user) if can_generate else 0,
        "my_units": police_unit_ids(request.user),
    }
    access_log(request=request, action=EventType.LIST, object_type="hukou_task", detail={"count": len(rows)})
    return render(request, "schooling/hukou_list.html", context)


@login_required
@require_POST
@require_hukou_generator
def hukou_generate(request: AuthenticatedHttpRequest) -> HttpResponse:
    """生成登记任务: one open task per listed child in the user's area (idempotent)."""
    with transaction.atomic():
        result = services.hukou_tasks_generate(user=request.user, children=hukou_generatable(request.user))
        for task in result.created:
            _log_write(
                request,
                task.child,
                EventType.CREATE,
                change="hukou_task",
                task=str(task.id),
                due_on=task.due_on,
            )
    if result.created:
        messages.success(request, f"已生成 {len(result.created)} 个户口登记任务，已分派到各派出所。")
    else:
        messages.info(request, "没有需要生成的任务：名单中的儿童都已有登记任务。")
    if result.no_station:
        messages.warning(
            request,
            f"另有 {result.no_station} 名儿童所在乡镇没有对应的派出所，未能生成任务，请联系县公安局。",
        )
    return redirect("schooling:hukou")


@login_required
@require_http_methods(["GET", "POST"])
def hukou_done(request: AuthenticatedHttpRequest, task_id: str) -> HttpResponse:
    """已登记: the police record the registration date; the file's hukou follows."""
    task = access_hukou_task(request.user, task_id)
    if not task.is_open:
        messages.info(request, f"该任务已于 {task.registered_on:%Y-%m-%d} 登记完成。")
        return redirect("schooling:hukou")
    form = HukouDoneForm(_posted(request), initial={"version": task.child.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            with transaction.atomic():
                task = services.hukou_task_complete(
                    user=request.user, task=task, expected_version=version, **data
                )
                _log_write(
                    request,
                    task.child,
                    EventType.UPDATE,
                    change="hukou_registered",
                    task=str(task.id),
                    registered_on=task.registered_on,
                )
        except StaleVersionError as exc:
            _stale(request, form, exc)
            status = 409
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记户口，档案已更新。")
            return redirect("schooling:hukou")
    _log_read(request, task.child, "hukou_task", task=str(task.id))
    context = {"task": task, "child": task.child, "form": form}
    return render(request, "schooling/hukou_done.html", context, status=status)
