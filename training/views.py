"""Pages of training (业务培训). Each view: access → form → service → redirect or render.

Sessions and workers are reached through training/access.py only: a role with no part in
training answers 403; a session of another county or a worker outside the reader's scope
404 as a missing one; a reader who may not record answers 403 to a write. Writes leave their
audit row in the service; the pages that show people (a session's attendees, a worker's
history, the no-training list) leave a read row, and the export its export row.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from audit.models import EventType
from audit.services import audit_event
from core.exports import Column, export_rows
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from registry.access import active_grants
from training import access, selectors, services
from training.forms import GuestForm, PickerFilterForm, SessionForm, YearFilterForm
from training.models import TrainingSession

PICKER = "training/attendee_picker.html"


def _is_htmx(request: AuthenticatedHttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _log_read(
    request: AuthenticatedHttpRequest, action: str, object_type: str, object_id: object = "", **detail: Any
) -> None:
    audit_event(request=request, action=action, object_type=object_type, object_id=object_id, detail=detail)


# --- sessions ----------------------------------------------------------------------------------


@login_required
@require_GET
def session_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    scope = access.reader_scope(request.user)
    form = YearFilterForm(request.GET)
    year = form.chosen_year()
    visible = access.sessions_visible_to(scope)
    sessions = selectors.sessions_of_year(visible, year).select_related("organiser")
    rows = list(sessions.prefetch_related("attendances").order_by("-held_on", "-created_at"))
    context = {
        "year": year,
        "years": selectors.session_years(visible, around=timezone.localdate().year),
        "rows": rows,
        "total_hours": sum((s.hours for s in rows), start=0),
        "can_record": bool(scope.recorder),
    }
    return render(request, "training/session_list.html", context)


def _session_data(form: SessionForm) -> services.SessionData:
    data = form.cleaned_data
    return services.SessionData(
        topic=data["topic"],
        held_on=data["held_on"],
        hours=data["hours"],
        organiser=data["organiser"],
        audience=list(data["audience"]),
        trainer=data.get("trainer", ""),
        place=data.get("place", ""),
        note=data.get("note", ""),
    )


def _default_organiser(request: AuthenticatedHttpRequest, county: Any) -> Any:
    """The recorder's own unit (the civil-affairs bureau), when it is one the form offers."""
    units = access.organiser_units(county)
    for grant in sorted(active_grants(request.user), key=lambda g: g.role != "county_admin"):
        if units.filter(pk=grant.unit_id).exists():
            return grant.unit_id
    return None


@login_required
@require_http_methods(["GET", "POST"])
def session_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    county = access.recorded_county(request.user)
    initial = {"organiser": _default_organiser(request, county), "held_on": timezone.localdate()}
    form = SessionForm(request.POST or None, county=county, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.training_session_create(
                user=request.user, county=county, data=_session_data(form)
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记培训，请添加参训人员。")
            return redirect("training:attendees", session_id=session.id)
    return render(request, "training/session_form.html", {"form": form, "county": county, "session": None})


@login_required
@require_GET
def session_detail(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = access.access_session(request.user, session_id)
    scope = access.reader_scope(request.user)
    rows = selectors.attendees(session)
    in_scope = set(
        selectors.workers_in(scope.region_codes())
        .filter(pk__in=[row.user_id for row in rows if row.user_id])
        .values_list("pk", flat=True)
    )
    _log_read(request, EventType.VIEW, "training", session.id, attendees=len(rows))
    context = {
        "session": session,
        "rows": rows,
        "linked": in_scope,
        "can_record": session.county.code in scope.recorder,
    }
    return render(request, "training/session_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    session = access.access_session(request.user, session_id, for_write=True)
    initial = {
        "version": session.version,
        "topic": session.topic,
        "held_on": session.held_on,
        "hours": session.hours,
        "organiser": session.organiser_id,
        "audience": session.audience,
        "trainer": session.trainer,
        "place": session.place,
        "note": session.note,
    }
    form = SessionForm(request.POST or None, county=session.county, initial=initial)
    context: dict[str, Any] = {"form": form, "county": session.county, "session": session}
    if request.method == "POST" and form.is_valid():
        version = form.cleaned_data.get("version") or 0
        try:
            services.training_session_update(
                user=request.user, session=session, expected_version=version, data=_session_data(form)
            )
        except services.StaleSessionError as exc:
            context.update(
                stale=True,
                version=version,
                current_version=exc.current.version,
                changes=selectors.changes_since(exc.current, version),
            )
            return render(request, "training/session_form.html", context, status=409)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "培训信息已保存。")
            return redirect("training:detail", session_id=session.id)
    return render(request, "training/session_form.html", context)


# --- attendees ---------------------------------------------------------------------------------


def _picker_context(
    request: AuthenticatedHttpRequest, session: TrainingSession, filters: PickerFilterForm, **extra: Any
) -> dict[str, Any]:
    workers, more = selectors.candidates(
        session, role=filters.value("role"), township=filters.value("township"), q=filters.value("q")
    )
    context = {
        "session": session,
        "filters": filters,
        "workers": workers,
        "more": more,
        "limit": selectors.PICKER_LIMIT,
        "attending": session.attendances.count(),
        "guest_form": GuestForm(),
        "errors": [],
    }
    context.update(extra)
    return context


def _picker_redirect(session: TrainingSession, filters: PickerFilterForm) -> HttpResponse:
    query = {name: filters.value(name) for name in ("role", "township") if filters.value(name)}
    url = reverse("training:attendees", kwargs={"session_id": session.id})
    return redirect(f"{url}?{urlencode(query)}" if query else url)


@login_required
@require_http_methods(["GET", "POST"])
def attendee_picker(request: AuthenticatedHttpRequest, session_id: str) -> HttpResponse:
    """GET: the county's workers not yet attending, filtered by role and township. POST
    action=filter: the same with a name search; action=add: add the ticked workers;
    action=guest: add a person without an account."""
    session = access.access_session(request.user, session_id, for_write=True)
    roles, townships = selectors.role_choices(), selectors.township_choices([session.county.code])
    params = request.POST if request.method == "POST" else request.GET.copy()
    if request.method == "GET":
        params.pop("q", None)
    filters = PickerFilterForm(params, roles=roles, townships=townships)
    action = request.POST.get("action", "filter") if request.method == "POST" else ""
    if action == "add":
        return _add_workers(request, session, filters)
    if action == "guest":
        return _add_guest(request, session, filters)
    template = PICKER + "#results" if _is_htmx(request) else PICKER
    return render(request, template, _picker_context(request, session, filters))


def _add_workers(
    request: AuthenticatedHttpRequest, session: TrainingSession, filters: PickerFilterForm
) -> HttpResponse:
    ids = request.POST.getlist("workers")
    chosen = list(selectors.workers_in([session.county.code]).filter(pk__in=_uuids(ids)))
    errors: list[str] = []
    if not ids:
        errors.append("请至少勾选一人。")
    elif len(chosen) != len(set(ids)):
        errors.append("只能选择本县在岗的工作人员。")
    else:
        try:
            added = services.training_attendees_add(user=request.user, session=session, workers=chosen)
        except ValidationError as exc:
            errors.extend(exc.messages)
        else:
            messages.success(request, f"已添加 {added} 名参训人员。" if added else "所选人员已在参训名单中。")
            return _picker_redirect(session, filters)
    return render(request, PICKER, _picker_context(request, session, filters, errors=errors))


def _uuids(values: list[str]) -> list[str]:
    import uuid

    found = []
    for value in values:
        try:
            found.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return found


def _add_guest(
    request: AuthenticatedHttpRequest, session: TrainingSession, filters: PickerFilterForm
) -> HttpResponse:
    form = GuestForm(request.POST)
    if form.is_valid():
        try:
            services.training_guest_add(
                user=request.user,
                session=session,
                name=form.cleaned_data["guest_name"],
                unit=form.cleaned_data.get("guest_unit", ""),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已添加无账号参训人员。")
            return _picker_redirect(session, filters)
    context = _picker_context(request, session, filters, guest_form=form)
    return render(request, "training/attendee_picker.html", context)


@login_required
@require_POST
def attendee_remove(request: AuthenticatedHttpRequest, session_id: str, attendance_id: str) -> HttpResponse:
    session = access.access_session(request.user, session_id, for_write=True)
    attendance = access.access_attendance(session, attendance_id)
    services.training_attendance_remove(user=request.user, attendance=attendance)
    messages.success(request, f"已从参训名单中移除：{attendance.display_name}")
    return redirect("training:detail", session_id=session.id)


# --- workers -----------------------------------------------------------------------------------


def _history_page(
    request: AuthenticatedHttpRequest, worker: User, positions: list[selectors.Position], own: bool
) -> HttpResponse:
    rows, years = selectors.history(worker)
    _log_read(request, EventType.VIEW, "training_worker", worker.pk, sessions=len(rows))
    context = {"worker": worker, "positions": positions, "rows": rows, "years": years, "own": own}
    return render(request, "training/worker_history.html", context)


@login_required
@require_GET
def worker_history(request: AuthenticatedHttpRequest, worker_id: str) -> HttpResponse:
    worker, scope = access.access_worker(request.user, worker_id)
    grants = selectors.worker_grants(scope.region_codes()).filter(user=worker)
    found = selectors.workers_with_positions(grants)
    return _history_page(request, worker, found[0].positions if found else [], own=False)


@login_required
@require_GET
def my_history(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_worker(request.user)
    grants = selectors.worker_grants(None).filter(user=request.user)
    found = selectors.workers_with_positions(grants)
    return _history_page(request, request.user, found[0].positions if found else [], own=True)


# --- the no-training list ----------------------------------------------------------------------


def _untrained(request: AuthenticatedHttpRequest) -> tuple[selectors.Untrained, dict[str, Any]]:
    scope = access.reader_scope(request.user)
    whole = [code for code in scope.counties if code in scope.whole]
    townships = selectors.township_choices(whole, [] if scope.county_wide else scope.townships.values())
    form = YearFilterForm(request.GET, roles=selectors.role_choices(), townships=townships)
    year = form.chosen_year()
    role, township = form.value("role"), form.value("township")
    grants = selectors.filter_grants(
        selectors.worker_grants(scope.region_codes()), role=role, township=township
    )
    result = selectors.untrained(grants, year)
    query = {"year": str(year)} | {
        key: value for key, value in (("role", role), ("township", township)) if value
    }
    context = {
        "form": form,
        "result": result,
        "year": year,
        "years": selectors.session_years(access.sessions_visible_to(scope), around=timezone.localdate().year),
        "scope_label": scope.label(),
        "query": urlencode(query),
    }
    return result, context


@login_required
@require_GET
def untrained_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    result, context = _untrained(request)
    _log_read(request, EventType.LIST, "training_worker", count=result.count, year=result.year)
    return render(request, "training/untrained.html", context)


@login_required
@require_GET
def untrained_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    result, _ = _untrained(request)
    columns = [
        Column("序号", width=6),
        Column("乡镇", width=14),
        Column("角色", width=16),
        Column("姓名", width=12),
        Column("单位", width=24),
        Column("上次参加培训", width=14),
    ]
    return export_rows(
        request=request,
        kind="training_untrained",
        columns=columns,
        rows=selectors.untrained_rows(result),
        fmt="xlsx",
        filename=f"{result.year}年度未参加培训人员_{timezone.localdate():%Y%m%d}",
        object_type="training_worker",
    )
