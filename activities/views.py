"""Pages of the activities app (the attendance page is phone-first). Each view: access →
form → service → redirect or render.

Activities are reached only through activities/access.py (out of scope answers 404 exactly
like a missing one; roles with no activity at all get 403). Children are listed, picked and
marked only among registry.access.children_visible_to: an id outside it answers 404 and
changes nothing. Lists and pages that name children leave an access-log row.
"""

import itertools
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from activities import selectors, services
from activities.access import NOT_FOUND, access_activity, can_manage, can_read, may_manage
from activities.forms import ActivityForm, AdultForm, FilterForm, PickForm, VolunteerForm
from activities.models import Activity, Participation, TargetGroup
from audit.models import EventType
from audit.permissions import require
from audit.services import access_log
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from registry import rules

PER_PAGE = 30
OUTCOME_MAX = 200

require_reader = require(can_read, "您的角色不能查看关爱活动")
require_manager = require(can_manage, "您的角色不能登记关爱活动")


def _posted(request: AuthenticatedHttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _log_children(request: AuthenticatedHttpRequest, activity: Activity, section: str, count: int) -> None:
    access_log(
        request=request,
        action=EventType.LIST,
        object_type="child",
        detail={"section": section, "activity": str(activity.pk), "count": count},
    )


def _uuids(values: list[str]) -> list[uuid.UUID]:
    """Posted ids; anything that is not a uuid answers 404, as an unknown id."""
    try:
        return [uuid.UUID(value) for value in values]
    except ValueError as exc:
        raise Http404(NOT_FOUND) from exc


# --- list, create, detail, edit, delete ------------------------------------------------------


@login_required
@require_GET
@require_reader
def activity_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None, user=request.user)
    activities = selectors.activities_listed(request.user, form.filters())
    page = Paginator(activities, PER_PAGE).get_page(request.GET.get("page"))
    access_log(
        request=request,
        action=EventType.LIST,
        object_type="activity",
        detail={"count": len(page.object_list)},
    )
    kept = request.GET.copy()
    kept.pop("page", None)
    context = {"form": form, "page": page, "kept": kept.urlencode(), "can_create": can_manage(request.user)}
    return render(request, "activities/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@require_manager
def activity_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ActivityForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(user=request.user, values=form.values())
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记活动。请添加参加活动的儿童。")
            return redirect("activities:participants", activity_id=activity.pk)
    return render(request, "activities/form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
@require_reader
def activity_detail(request: AuthenticatedHttpRequest, activity_id: str) -> HttpResponse:
    activity = access_activity(request.user, activity_id)
    rows = selectors.expected_rows(request.user, activity)
    access_log(request=request, action=EventType.VIEW, object_type="activity", object_id=activity.pk)
    _log_children(request, activity, "activity_detail", len(rows))
    context = {
        "activity": activity,
        "rows": rows,
        "hidden": selectors.hidden_count(request.user, activity),
        "attended": sum(1 for row in rows if row.attended),
        "taken": any(row.attended is not None for row in rows),
        "adults": list(activity.adults.select_related("child")),
        "volunteers": list(activity.volunteers.all()),
        "manage": may_manage(request.user, activity),
        "deletable": not services.attendance_taken(activity),
    }
    return render(request, "activities/detail.html", context)


def _changes(activity: Activity, version: int) -> list[str]:
    """The labels of the fields others changed after `version` (shown on a refused save)."""
    records = list(activity.history.filter(version__gte=version).order_by("history_date", "history_id"))
    labels: list[str] = []
    for older, newer in itertools.pairwise(records):
        for change in newer.diff_against(older).changes:
            label = str(getattr(Activity._meta.get_field(change.field), "verbose_name", change.field))
            if change.field != "version" and label not in labels:
                labels.append(label)
    return labels


@login_required
@require_http_methods(["GET", "POST"])
@require_manager
def activity_edit(request: AuthenticatedHttpRequest, activity_id: str) -> HttpResponse:
    activity = access_activity(request.user, activity_id, manage=True)
    form = ActivityForm(_posted(request), user=request.user, activity=activity)
    status, changes = 200, []
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(
                user=request.user,
                activity=activity,
                expected_version=form.cleaned_data["version"],
                values=form.values(),
            )
        except services.StaleActivityError as exc:
            changes = _changes(exc.current, exc.expected_version)
            form.add_error(None, f"活动已被他人修改（当前为第 {exc.current.version} 版），请核对后重新提交。")
            resend = request.POST.copy()
            resend["version"] = str(exc.current.version)
            form.data = resend
            status = 409
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("activities:detail", activity_id=activity.pk)
    if form.errors and status == 200:
        status = 400
    context = {"form": form, "activity": activity, "changes": changes}
    return render(request, "activities/form.html", context, status=status)


@login_required
@require_POST
@require_manager
def activity_delete(request: AuthenticatedHttpRequest, activity_id: str) -> HttpResponse:
    activity = access_activity(request.user, activity_id, manage=True)
    try:
        services.activity_delete(user=request.user, activity=activity)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("activities:detail", activity_id=activity.pk)
    messages.success(request, "已删除该活动。")
    return redirect("activities:list")


# --- expected children -----------------------------------------------------------------------


def _participants_post(request: AuthenticatedHttpRequest, activity: Activity) -> None:
    if "remove" in request.POST:
        (remove_id,) = _uuids([request.POST["remove"]])
        visible = {row.pk: row for row in selectors.expected_rows(request.user, activity)}
        if remove_id not in visible:
            raise Http404(NOT_FOUND)
        try:
            services.participant_remove(user=request.user, participation=visible[remove_id])
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, "已移出名单。")
        return
    ids = set(_uuids(request.POST.getlist("child")))
    children = list(selectors.pickable_children(request.user, activity).filter(pk__in=ids))
    if len(children) != len(ids):
        raise Http404(NOT_FOUND)
    if not children:
        messages.error(request, "请勾选要添加的儿童。")
        return
    added = services.participants_add(user=request.user, activity=activity, children=children)
    messages.success(request, f"已添加 {added} 名儿童。")


@login_required
@require_http_methods(["GET", "POST"])
@require_manager
def participants(request: AuthenticatedHttpRequest, activity_id: str) -> HttpResponse:
    activity = access_activity(request.user, activity_id, manage=True)
    searching = request.method == "POST" and "search" in request.POST
    if request.method == "POST" and not searching:
        _participants_post(request, activity)
        return redirect(request.path)
    # The search goes by POST: a child's name never appears in a URL (DP-5).
    pick = PickForm(request.POST if searching else None, activity=activity)
    candidates = selectors.pick_search(request.user, activity, **pick.terms())
    rows = selectors.expected_rows(request.user, activity)
    _log_children(request, activity, "activity_participants", len(rows) + len(candidates))
    context = {
        "activity": activity,
        "rows": rows,
        "hidden": selectors.hidden_count(request.user, activity),
        "pick": pick,
        "candidates": candidates,
        "limit": selectors.PICK_LIMIT,
    }
    return render(request, "activities/participants.html", context)


# --- attendance ------------------------------------------------------------------------------


def _marks(request: AuthenticatedHttpRequest, rows: list[Participation]) -> list[services.Mark]:
    """The marks of the posted rows. Every posted row must be one the page listed (a child
    the user sees); any other id answers 404 and nothing is written."""
    by_id = {row.pk: row for row in rows}
    shown = _uuids(request.POST.getlist("shown"))
    if any(pk not in by_id for pk in shown):
        raise Http404(NOT_FOUND)
    present = set(_uuids(request.POST.getlist("present")))
    if present - set(shown):
        raise Http404(NOT_FOUND)
    everyone = "all" in request.POST
    return [
        services.Mark(
            participation=by_id[pk],
            attended=everyone or pk in present,
            outcome=request.POST.get(f"outcome-{pk}", "")[:OUTCOME_MAX],
        )
        for pk in shown
    ]


@login_required
@require_http_methods(["GET", "POST"])
@require_manager
def attendance(request: AuthenticatedHttpRequest, activity_id: str) -> HttpResponse:
    activity = access_activity(request.user, activity_id, manage=True)
    rows = selectors.expected_rows(request.user, activity)
    if request.method == "POST":
        marks = _marks(request, rows)
        if not marks:
            messages.error(request, "名单中没有儿童，请先添加参加活动的儿童。")
            return redirect("activities:attendance", activity_id=activity.pk)
        services.attendance_record(user=request.user, activity=activity, marks=marks)
        present = sum(1 for mark in marks if mark.attended)
        messages.success(request, f"已保存到场情况：到场 {present} 人，缺席 {len(marks) - present} 人。")
        return redirect("activities:detail", activity_id=activity.pk)
    _log_children(request, activity, "activity_attendance", len(rows))
    on = activity.held_on
    context = {
        "activity": activity,
        "rows": [{"row": row, "age": rules.age_on(row.child.birth_date, on)} for row in rows],
        "hidden": selectors.hidden_count(request.user, activity),
        "outcome_max": OUTCOME_MAX,
    }
    return render(request, "activities/attendance.html", context)


# --- adults and volunteers -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@require_manager
def adults(request: AuthenticatedHttpRequest, activity_id: str) -> HttpResponse:
    activity = access_activity(request.user, activity_id, manage=True)
    children = selectors.activity_children(request.user, activity)
    form = AdultForm(None if "remove" in request.POST else _posted(request), children=children)
    if request.method == "POST" and "remove" in request.POST:
        (adult_id,) = _uuids([request.POST["remove"]])
        adult = activity.adults.filter(pk=adult_id).first()
        if adult is None:
            raise Http404(NOT_FOUND)
        services.adult_remove(user=request.user, adult=adult)
        messages.success(request, "已移出名单。")
        return redirect("activities:adults", activity_id=activity.pk)
    if request.method == "POST" and form.is_valid():
        services.adult_add(user=request.user, activity=activity, **form.cleaned_data)
        messages.success(request, "已添加。")
        return redirect("activities:adults", activity_id=activity.pk)
    access_log(request=request, action=EventType.VIEW, object_type="activity", object_id=activity.pk)
    context = {
        "activity": activity,
        "form": form,
        "adults": list(activity.adults.select_related("child")),
        "guardian_session": activity.target_group != TargetGroup.CHILDREN,
    }
    return render(request, "activities/adults.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
@require_manager
def volunteers(request: AuthenticatedHttpRequest, activity_id: str) -> HttpResponse:
    activity = access_activity(request.user, activity_id, manage=True)
    form = VolunteerForm(None if "remove" in request.POST else _posted(request))
    if request.method == "POST" and "remove" in request.POST:
        (service_id,) = _uuids([request.POST["remove"]])
        service = activity.volunteers.filter(pk=service_id).first()
        if service is None:
            raise Http404(NOT_FOUND)
        services.volunteer_remove(user=request.user, service=service)
        messages.success(request, "已移出名单。")
        return redirect("activities:volunteers", activity_id=activity.pk)
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = dict(form.cleaned_data)
        volunteer = request.user if data.pop("is_me") else None
        try:
            services.volunteer_add(user=request.user, activity=activity, volunteer=volunteer, **data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记志愿服务。")
            return redirect("activities:volunteers", activity_id=activity.pk)
    context = {
        "activity": activity,
        "form": form,
        "volunteers": list(activity.volunteers.all()),
        "total": sum(service.hours for service in activity.volunteers.all()),
    }
    return render(request, "activities/volunteers.html", context, status=400 if form.errors else 200)
