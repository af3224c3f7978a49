"""Pages of supervised tasks (督办). Each view: access → form → service → redirect or render.

Tasks are reached through tasks/access.py only: a task the user may not see answers 404 like
a missing one; an action the user may not take on a task he sees answers 403. Writes leave
their audit row in the service; reading a task page leaves a `view` row.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import EventType
from audit.services import audit_event
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from tasks import access, selectors, services
from tasks.forms import (
    ConfirmForm,
    ProgressForm,
    ProposeForm,
    ReasonForm,
    TaskForm,
    TemplateForm,
    template_initial,
)
from tasks.models import Task, TaskState, TaskTemplate

PAGE_SIZE = 50


def _data(form: TaskForm) -> services.TaskData:
    data = form.cleaned_data
    return services.TaskData(
        title=data["title"],
        deadline=data["deadline"],
        lead_unit=data.get("lead_unit"),
        participants=list(data.get("participants") or []),
        description=data.get("description", ""),
        plan_section=data.get("plan_section", ""),
    )


# --- list and detail ---------------------------------------------------------------------------


@login_required
@require_GET
def task_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    on = timezone.localdate()
    slug = request.GET.get("state", "")
    slug = slug if slug in selectors.FILTERS else "open"
    visible = access.tasks_visible_to(request.user)
    page = Paginator(selectors.task_list(visible, slug, on=on), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(task, selectors.overdue_days(task, on=on)) for task in page.object_list]
    counts = selectors.task_counts(visible, on=on)
    context = {
        "on": on,
        "slug": slug,
        "label": selectors.FILTERS[slug],
        "tabs": [(key, label, counts[key]) for key, label in selectors.FILTERS.items()],
        "page": page,
        "rows": rows,
        "is_admin": access.is_county_admin(request.user),
    }
    return render(request, "tasks/task_list.html", context)


def _detail_context(request: AuthenticatedHttpRequest, task: Task, **forms: Any) -> dict[str, Any]:
    user, on = request.user, timezone.localdate()
    progress = list(selectors.progress_of(task))
    units = access.reporting_units(user, task)
    is_open = task.state == TaskState.OPEN
    manage = access.can_manage(user, task)
    statuses = selectors.unit_statuses(task, progress)
    context: dict[str, Any] = {
        "task": task,
        "on": on,
        "overdue_days": selectors.overdue_days(task, on=on),
        "progress": progress,
        "statuses": statuses,
        "participants": [status.unit for status in statuses if not status.is_lead],
        "can_manage": manage and is_open,
        "can_report": bool(units) and is_open,
        "can_propose": is_open and access.is_lead_member(user, task) and task.done_proposed_at is None,
        "progress_form": ProgressForm(units=units) if units else None,
        "propose_form": ProposeForm(),
        "confirm_form": ConfirmForm(),
        "return_form": ReasonForm(label="退回原因"),
        "cancel_form": ReasonForm(label="撤销原因"),
    }
    context.update(forms)
    # A refused action's own reason (the task is closed, already proposed…) shows at the top:
    # its form may not be on the page any more.
    context["action_errors"] = [
        error
        for form in forms.values()
        if hasattr(form, "non_field_errors")
        for error in form.non_field_errors()
    ]
    return context


def _log_view(request: AuthenticatedHttpRequest, task: Task) -> None:
    audit_event(request=request, action=EventType.VIEW, object_type="task", object_id=task.id)


@login_required
@require_GET
def task_detail(request: AuthenticatedHttpRequest, task_id: str) -> HttpResponse:
    task = access.access_task(request.user, task_id)
    _log_view(request, task)
    return render(request, "tasks/task_detail.html", _detail_context(request, task))


def _detail_with_errors(request: AuthenticatedHttpRequest, task: Task, **forms: Any) -> HttpResponse:
    """A refused action: the task page again, with the form's errors at its fields."""
    task = access.access_task(request.user, task.id)
    _log_view(request, task)
    return render(request, "tasks/task_detail.html", _detail_context(request, task, **forms))


# --- creating and editing ----------------------------------------------------------------------


def _template_from_query(request: AuthenticatedHttpRequest) -> TaskTemplate | None:
    template_id = request.GET.get("template") or request.POST.get("template") or ""
    if not template_id:
        return None
    try:
        return selectors.templates_active().get(pk=template_id)
    except (TaskTemplate.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("未找到该任务模板") from exc


@login_required
@require_http_methods(["GET", "POST"])
def task_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Pick a template (or blank), then the prefilled form; POST creates the task(s)."""
    county = access.administered_county(request.user)
    template = _template_from_query(request)
    picking = request.method == "GET" and template is None and "blank" not in request.GET
    initial = template_initial(template, county) if template else {}
    form = TaskForm(request.POST or None, county=county, creating=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = _data(form)
        try:
            if form.cleaned_data.get("each_township"):
                created = services.tasks_create_per_township(
                    user=request.user, county=county, data=data, template=template
                )
            else:
                created = [
                    services.task_create(user=request.user, county=county, data=data, template=template)
                ]
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            if len(created) == 1:
                messages.success(request, "已建立督办任务，并已通知牵头单位和参加单位。")
                return redirect("tasks:detail", task_id=created[0].id)
            messages.success(request, f"已为 {len(created)} 个乡镇各建立一项督办任务，并已通知各单位。")
            return redirect("tasks:list")
    context = {
        "form": form,
        "county": county,
        "template": template,
        "picking": picking,
        "templates": selectors.templates_active(),
    }
    return render(request, "tasks/task_new.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: AuthenticatedHttpRequest, task_id: str) -> HttpResponse:
    task = access.access_task(request.user, task_id)
    access.require_manage(request.user, task)
    initial = {
        "version": task.version,
        "title": task.title,
        "plan_section": task.plan_section,
        "description": task.description,
        "lead_unit": task.lead_unit,
        "participants": list(task.participants.all()),
        "deadline": task.deadline,
    }
    form = TaskForm(request.POST or None, county=task.county, creating=False, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_update(
                user=request.user,
                task=task,
                expected_version=form.cleaned_data.get("version") or 0,
                data=_data(form),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "任务已保存。新加入的单位已收到通知。")
            return redirect("tasks:detail", task_id=task.id)
    _log_view(request, task)
    return render(request, "tasks/task_edit.html", {"form": form, "task": task})


# --- progress and state actions ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def progress_new(request: AuthenticatedHttpRequest, task_id: str) -> HttpResponse:
    task = access.access_task(request.user, task_id)
    units = access.require_reporter(request.user, task)
    form = ProgressForm(request.POST or None, units=units)
    if request.method == "POST" and form.is_valid():
        try:
            _, created = services.task_progress_report(user=request.user, task=task, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已报送工作进展。" if created else "这条进展已经报送过了。")
            return redirect("tasks:detail", task_id=task.id)
    _log_view(request, task)
    return render(request, "tasks/progress_form.html", {"form": form, "task": task})


@login_required
@require_POST
def task_propose_done(request: AuthenticatedHttpRequest, task_id: str) -> HttpResponse:
    task = access.access_task(request.user, task_id)
    access.require_lead(request.user, task)
    form = ProposeForm(request.POST)
    if form.is_valid():
        try:
            services.task_done_propose(user=request.user, task=task, note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已申报完成，等待县民政局确认。")
            return redirect("tasks:detail", task_id=task.id)
    return _detail_with_errors(request, task, propose_form=form)


@login_required
@require_POST
def task_done(request: AuthenticatedHttpRequest, task_id: str) -> HttpResponse:
    task = access.access_task(request.user, task_id)
    access.require_manage(request.user, task)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.task_done_confirm(user=request.user, task=task, note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已确认任务完成，并已通知各单位。")
            return redirect("tasks:detail", task_id=task.id)
    return _detail_with_errors(request, task, confirm_form=form)


@login_required
@require_POST
def task_return(request: AuthenticatedHttpRequest, task_id: str) -> HttpResponse:
    task = access.access_task(request.user, task_id)
    access.require_manage(request.user, task)
    form = ReasonForm(request.POST, label="退回原因")
    if form.is_valid():
        try:
            services.task_done_return(user=request.user, task=task, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已退回完成申报，并已通知牵头单位。")
            return redirect("tasks:detail", task_id=task.id)
    return _detail_with_errors(request, task, return_form=form)


@login_required
@require_POST
def task_cancel(request: AuthenticatedHttpRequest, task_id: str) -> HttpResponse:
    task = access.access_task(request.user, task_id)
    access.require_manage(request.user, task)
    form = ReasonForm(request.POST, label="撤销原因")
    if form.is_valid():
        try:
            services.task_cancel(user=request.user, task=task, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已撤销该任务，并已通知各单位。")
            return redirect("tasks:detail", task_id=task.id)
    return _detail_with_errors(request, task, cancel_form=form)


# --- templates ---------------------------------------------------------------------------------


@login_required
@require_GET
def template_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_county_admin(request.user)
    templates = TaskTemplate.objects.order_by("-active", "position", "name")
    return render(request, "tasks/template_list.html", {"templates": templates})


def _template_form(request: AuthenticatedHttpRequest, template: TaskTemplate | None) -> HttpResponse:
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_template_save(user=request.user, template=template, values=form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "任务模板已保存。已建立的任务不受影响。")
            return redirect("tasks:templates")
    return render(request, "tasks/template_form.html", {"form": form, "template": template})


@login_required
@require_http_methods(["GET", "POST"])
def template_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_county_admin(request.user)
    return _template_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: AuthenticatedHttpRequest, template_id: str) -> HttpResponse:
    access.require_county_admin(request.user)
    template = TaskTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise Http404("未找到该任务模板")
    return _template_form(request, template)
