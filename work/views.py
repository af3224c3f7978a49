"""Pages of "我的工作". Each view: access → form → service → redirect or render.

The children shown are always filtered from registry.access (children_visible_to /
children_editable_by); lists write an access-log row like the ledger; a proposal or an
assignment outside the user's scope answers 404 exactly like a missing one.
"""

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import ASSIGNED_ROLES, Role
from audit.models import EventType
from audit.permissions import require
from audit.services import access_log, audit_event
from core.http import AuthenticatedHttpRequest
from geo.models import RegionLevel
from registry import choices as c
from registry.access import (
    access_child,
    can_write,
    children_editable_by,
    regions_visible_to,
    user_roles,
)
from registry.models import Assignment
from work import scheduler, selectors
from work.forms import AssignFilterForm, AssignForm, ConfirmForm, DismissForm, ListFilterForm
from work.models import LifeEventProposal
from work.policy import optional, policy_for
from work.selectors import SECTIONS, TILES
from work.services import assignment_create, assignment_end, proposal_confirm, proposal_dismiss

# The roles whose first page is "my work" (the township supervisor's is the township view).
CARE_ROLES = frozenset({Role.VILLAGE_WORKER, Role.VISITING_CADRE, Role.SOCIAL_WORKER})

require_overview = require(selectors.can_see_overview, "只有儿童督导员和县级用户可以查看各村情况")
require_assigner = require(selectors.can_assign, "只有儿童督导员和县民政管理员可以指派走访")
require_county_admin = require(
    lambda user: Role.COUNTY_ADMIN in user_roles(user), "只有县民政管理员可以查看夜间任务"
)


def _is_htmx(request: AuthenticatedHttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def home_for(
    request: AuthenticatedHttpRequest, *, counts: Callable[[], dict[str, int]]
) -> HttpResponse | None:
    """The first page of a care role (registry's home asks): the township view for a township
    supervisor, "my work" for a village director, visiting cadre or social worker; None for
    everyone else. `counts` gives the home page's scope counts, shown below; the township
    view takes them from its own grouped query instead (one pass over the township)."""
    roles = user_roles(request.user)
    if Role.TOWNSHIP_SUPERVISOR in roles:
        return _render_township(request, {}, scope_counts=True)
    if roles & CARE_ROLES:
        return _render_my_work(request, {"counts": counts()})
    return None


def _tiles(user: Any, counts: dict[str, int]) -> list[dict[str, Any]]:
    show_assigned = bool(user_roles(user) & ASSIGNED_ROLES) or counts.get("assigned", 0) > 0
    tiles = [
        {"section": SECTIONS[slug], "count": counts.get(slug, 0), "url": reverse(f"work:{slug}")}
        for slug in TILES
        if slug != "assigned" or show_assigned
    ]
    if can_write(user):
        tiles.append(
            {
                "section": selectors.Section("proposals", "待确认的退出建议", "warn"),
                "count": counts.get("proposals", 0),
                "url": reverse("work:proposals"),
            }
        )
    return tiles


def _common(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    return {
        "on": timezone.localdate(),
        "policy": policy_for(request.user),
        "can_overview": selectors.can_see_overview(request.user),
        "can_assign": selectors.can_assign(request.user),
        "can_write": can_write(request.user),
    }


def _render_my_work(request: AuthenticatedHttpRequest, extra: dict[str, Any]) -> HttpResponse:
    context = _common(request)
    work_counts = selectors.my_work_counts(request.user, on=context["on"], policy=context["policy"])
    context.update(extra, work_counts=work_counts, tiles=_tiles(request.user, work_counts))
    follow_ups = optional("cases.selectors.follow_ups_due")
    if follow_ups is not None:  # 回访 of rescue cases assigned to this user (issue 5)
        context["follow_ups"] = list(follow_ups(request.user, on=context["on"])[:20])
    return render(request, "work/my_work.html", context)


@login_required
@require_GET
def my_work(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _render_my_work(request, {})


@login_required
@require_GET
def section_list(request: AuthenticatedHttpRequest, section: str) -> HttpResponse:
    context = _common(request)
    form = ListFilterForm(request.GET or None)
    filters = form.filters()
    children = selectors.section_children(
        request.user, section, on=context["on"], policy=context["policy"], filters=filters
    )
    page = selectors.section_page(
        children.select_related("village", "township"),
        section,
        after=form.cursor(),
        size=settings.SHOUHU_LEDGER_PAGE_SIZE,
    )
    access_log(
        request=request,
        action=EventType.LIST,
        object_type="child",
        detail={"section": section, "count": len(page.rows)},
    )
    kept = {"village": filters.village or "", "colour": filters.colour}
    kept = {key: str(value) for key, value in kept.items() if value}
    context.update(
        section=SECTIONS[section],
        page=page,
        next_url=f"?{urlencode({**kept, 'after': page.next_cursor})}" if page.next_cursor else "",
        first_url=f"?{urlencode(kept)}" if kept else "?",
        filtered=bool(kept),
    )
    return render(request, "work/section.html", context)


# --- the township overview ---------------------------------------------------------------------


def _render_township(
    request: AuthenticatedHttpRequest, extra: dict[str, Any], *, scope_counts: bool = False
) -> HttpResponse:
    context = _common(request)
    rows = selectors.village_overview(request.user, on=context["on"], policy=context["policy"])
    totals = selectors.overview_totals(rows)
    if scope_counts:
        context["counts"] = selectors.scope_counts(totals)
    work_counts = {
        **totals.counts,
        "assigned": selectors.assigned_count(request.user, on=context["on"], policy=context["policy"]),
        "proposals": selectors.proposals_open(request.user).count(),
    }
    context.update(
        extra,
        # Reversed once here, not per row and column in the template.
        urls={
            slug: reverse(f"work:{slug}")
            for slug in ("active", "overdue", "recent", "missing", "contact", "no_service")
        },
        rows=rows,
        totals=totals,
        work_counts=work_counts,
        tiles=_tiles(request.user, work_counts),
        colours=c.RiskColour.choices,
        recent_days=selectors.RECENT_DAYS,
    )
    return render(request, "work/township.html", context)


@login_required
@require_GET
@require_overview
def township(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _render_township(request, {})


# --- assignment --------------------------------------------------------------------------------


def _village_choices(request: AuthenticatedHttpRequest) -> list[tuple[str, str]]:
    villages = regions_visible_to(request.user).filter(level=RegionLevel.VILLAGE).order_by("code")
    return [(str(region.pk), region.name) for region in villages]


def _assign_children(request: AuthenticatedHttpRequest, form: AssignFilterForm, on: dt.date) -> Any:
    children = children_editable_by(request.user).filter(status=c.Status.ACTIVE)
    if form.value("village"):
        children = children.filter(village_id=form.value("village"))
    if form.value("colour"):
        children = children.filter(risk_colour=form.value("colour"))
    if form.value("overdue"):
        children = children.filter(next_visit_due__lt=on)
    return children


def _assign_post(request: AuthenticatedHttpRequest, form: AssignForm) -> bool:
    """Assign the chosen children; True when done. An id outside the user's writable scope
    answers 404, like a missing one."""
    ids = form.cleaned_data["children"]
    children = list(children_editable_by(request.user).filter(pk__in=ids, status=c.Status.ACTIVE))
    if len(children) != len(ids):
        raise Http404("未找到该档案")
    assignee = form.cleaned_data["assignee"]
    try:
        assignment_create(by=request.user, children=children, assignee=assignee)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    messages.success(
        request, f"已将 {len(children)} 名儿童指派给 {assignee.full_name or assignee.username}。"
    )
    return True


@login_required
@require_http_methods(["GET", "POST"])
@require_assigner
def assign(request: AuthenticatedHttpRequest) -> HttpResponse:
    on = timezone.localdate()
    assignees = selectors.assignees_for(request.user)
    assign_form = AssignForm(request.POST if request.method == "POST" else None, assignees=assignees)
    if request.method == "POST" and assign_form.is_valid() and _assign_post(request, assign_form):
        query = request.POST.get("filters", "")
        return redirect(reverse("work:assign") + (f"?{query}" if query else ""))
    filters = AssignFilterForm(request.GET or None, villages=_village_choices(request))
    children = _assign_children(request, filters, on)
    page = selectors.section_page(
        children.select_related("village"), "active", after=str(filters.value("after") or "")
    )
    access_log(
        request=request,
        action=EventType.LIST,
        object_type="child",
        detail={"section": "assign", "count": len(page.rows)},
    )
    assignments = selectors.assignments_of(children.filter(pk__in=[child.pk for child in page.rows]))
    kept = {key: value for key, value in request.GET.items() if key != "after" and value}
    context = {
        "filters": filters,
        "form": assign_form,
        "page": page,
        "rows": [{"child": child, "assignments": assignments.get(child.pk, [])} for child in page.rows],
        "query": urlencode(kept),
        "next_url": f"?{urlencode({**kept, 'after': page.next_cursor})}" if page.next_cursor else "",
        "on": on,
    }
    return render(request, "work/assign.html", context, status=400 if assign_form.errors else 200)


@login_required
@require_POST
@require_assigner
def assignment_end_view(request: AuthenticatedHttpRequest, assignment_id: uuid.UUID) -> HttpResponse:
    assignment = Assignment.objects.filter(pk=assignment_id).first()
    if assignment is None:
        raise Http404("未找到该档案")
    access_child(request.user, assignment.child_id, for_write=True)  # 404 outside the scope
    try:
        assignment_end(by=request.user, assignment=assignment)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已结束指派。")
    return redirect("work:assign")


# --- life-event proposals ----------------------------------------------------------------------


def _proposal_page(request: AuthenticatedHttpRequest, after: str) -> tuple[list[LifeEventProposal], str]:
    proposals = selectors.proposals_open(request.user).select_related("child__village")
    file_no, _, kind = after.partition("~")
    if file_no:
        proposals = proposals.filter(Q(child__file_no__gt=file_no) | Q(child__file_no=file_no, kind__gt=kind))
    size = settings.SHOUHU_LEDGER_PAGE_SIZE
    rows = list(proposals.order_by("child__file_no", "kind")[: size + 1])
    cursor = f"{rows[size - 1].child.file_no}~{rows[size - 1].kind}" if len(rows) > size else ""
    return rows[:size], cursor


@login_required
@require_GET
def proposals(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows, cursor = _proposal_page(request, str(request.GET.get("after", ""))[:80])
    editable = set(
        children_editable_by(request.user)
        .filter(pk__in=[p.child_id for p in rows])
        .values_list("pk", flat=True)
    )
    access_log(
        request=request,
        action=EventType.LIST,
        object_type="child",
        detail={"section": "proposals", "count": len(rows)},
    )
    today = timezone.localdate()
    items = [
        {
            "proposal": proposal,
            "editable": proposal.child_id in editable,
            "confirm": ConfirmForm(initial={"exit_date": today}, auto_id=f"p{proposal.pk}_%s"),
            "dismiss": DismissForm(auto_id=f"d{proposal.pk}_%s"),
        }
        for proposal in rows
    ]
    context = {"items": items, "next_url": f"?{urlencode({'after': cursor})}" if cursor else "", "on": today}
    return render(request, "work/proposals.html", context)


def _proposal_for_write(request: AuthenticatedHttpRequest, proposal_id: uuid.UUID) -> LifeEventProposal:
    proposal = LifeEventProposal.objects.filter(pk=proposal_id).first()
    if proposal is None:
        raise Http404("未找到该档案")
    access_child(request.user, proposal.child_id, for_write=True)  # 404 outside the scope
    return proposal


def _form_error(form: Any) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}：{errors[0]}" if label else str(errors[0])
    return "提交的内容有误。"


@login_required
@require_POST
def proposal_confirm_view(request: AuthenticatedHttpRequest, proposal_id: uuid.UUID) -> HttpResponse:
    proposal = _proposal_for_write(request, proposal_id)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return redirect("work:proposals")
    try:
        child = proposal_confirm(
            user=request.user,
            proposal=proposal,
            on=form.cleaned_data["exit_date"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已确认退出：{child.name}（档案保留，可恢复）。")
    return redirect("work:proposals")


@login_required
@require_POST
def proposal_dismiss_view(request: AuthenticatedHttpRequest, proposal_id: uuid.UUID) -> HttpResponse:
    proposal = _proposal_for_write(request, proposal_id)
    form = DismissForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return redirect("work:proposals")
    try:
        proposal_dismiss(user=request.user, proposal=proposal, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, "已驳回该建议，档案保持在册。")
    return redirect("work:proposals")


# --- the nightly job ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@require_county_admin
def nightly(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        job, submitted = scheduler.nightly_run_now(user=request.user)
        audit_event(
            request=request,
            action=EventType.UPDATE,
            object_type="job",
            object_id=job.pk,
            detail={"kind": job.kind, "submitted": submitted},
        )
        if submitted:
            messages.success(request, "已提交夜间任务，进度见下方。")
        else:
            messages.info(request, "已有夜间任务在排队或运行，请等待其完成。")
        return redirect("work:nightly")
    runs = scheduler.nightly_runs()
    context = {
        "runs": runs,
        "running": any(not job.done for job in runs),
        "nightly_at": settings.SHOUHU_NIGHTLY_AT,
    }
    template = "work/nightly.html#runs" if _is_htmx(request) else "work/nightly.html"
    return render(request, template, context)
