"""Pages of tiered review (审核报送). Each view: access → form → service → redirect or render.

Rounds and submissions are reached through submissions/access.py only: a role outside the app
answers 403, an object the user may not see answers 404 like a missing one, an action the
user may not take on an object he sees answers 403. Actions are POST forms on the round page;
a refused action comes back to that page with its reasons as messages.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import EventType
from audit.services import audit_event
from core.exports import Column, Format, export_rows
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from nationalforms import table3
from nationalforms.roster import ROSTER_COLUMNS
from submissions import access, selectors, services
from submissions.forms import CancelForm, ReviewForm, RoundForm, TownshipSubmitForm, VillageSubmitForm
from submissions.models import Round, TownshipState, VillageState


def _errors(request: AuthenticatedHttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _form_errors(request: AuthenticatedHttpRequest, form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _back(round_id: Any) -> HttpResponse:
    return redirect("submissions:detail", round_id=round_id)


def _act(
    request: AuthenticatedHttpRequest, form: Any, round_id: Any, done: str, action: Callable[[Any], object]
) -> HttpResponse:
    """Validate the form, run the service, and come back to the round with a message."""
    if not form.is_valid():
        _form_errors(request, form)
        return _back(round_id)
    try:
        action(form.cleaned_data)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, done)
    return _back(round_id)


# --- list, new, detail -------------------------------------------------------------------------


@login_required
@require_GET
def round_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_role(request.user)
    rounds = list(selectors.round_list(request.user)[:100])
    states = selectors.own_states(request.user, rounds)
    context = {
        "rows": [(round, states[round.pk]) for round in rounds],
        "is_admin": access.is_county_admin(request.user),
    }
    return render(request, "submissions/round_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def round_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    county = access.administered_county(request.user)
    form = RoundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            round = services.round_open(user=request.user, county=county, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已发起报送，并已通知各村儿童主任和各乡镇儿童督导员。")
            return redirect("submissions:detail", round_id=round.id)
    return render(request, "submissions/round_new.html", {"form": form, "county": county})


SUBMITTABLE = (VillageState.PENDING, VillageState.RETURNED)


def _submittable(level: selectors.Level, supervised: set[Any]) -> set[Any]:
    """The villages this user may submit: their own, and those of their townships that have
    no village worker (the supervisor submits for them)."""
    own = {v.pk for v in level.own_villages if v.state in SUBMITTABLE}
    staffed = selectors.villages_with_worker([v.village_id for v in level.villages])
    for village in level.villages:
        mine = village.township_submission_id in supervised and village.village_id not in staffed
        if mine and village.state in SUBMITTABLE:
            own.add(village.pk)
    return own


def _page_context(request: AuthenticatedHttpRequest, round: Round, level: selectors.Level) -> dict[str, Any]:
    """Which forms each row of the page offers this user (the services still check states)."""
    user = request.user
    supervised = (
        {t.pk for t in level.townships if access.supervises(user, t.township)} if round.is_open else set()
    )
    return {
        "round": round,
        "level": level,
        "manages": round.is_open and access.manages_county(user, round.county),
        "supervised": supervised,
        "can_submit": _submittable(level, supervised) if round.is_open else set(),
        "township_open": {
            t.pk for t in level.townships if t.state in (TownshipState.PENDING, TownshipState.RETURNED)
        },
        "reviewable": [VillageState.SUBMITTED.value, VillageState.APPROVED.value],
        "submit_form": VillageSubmitForm(),
        "township_form": TownshipSubmitForm(),
        "review_form": ReviewForm(),
        "cancel_form": CancelForm(),
    }


@login_required
@require_GET
def round_detail(request: AuthenticatedHttpRequest, round_id: str) -> HttpResponse:
    round = access.access_round(request.user, round_id)
    audit_event(request=request, action=EventType.VIEW, object_type="submission_round", object_id=round.id)
    level = selectors.level_of(request.user, round)
    context = _page_context(request, round, level)
    if level.county:
        context["county_townships"] = list(selectors.townships_progress(round))
    return render(request, "submissions/round_detail.html", context)


@login_required
@require_GET
def township_detail(request: AuthenticatedHttpRequest, submission_id: str) -> HttpResponse:
    """One township's villages: for the county (drilling down) and the township itself."""
    township = access.access_township_submission(request.user, submission_id)
    round = township.round
    audit_event(
        request=request, action=EventType.VIEW, object_type="township_submission", object_id=township.id
    )
    progress = selectors.townships_progress(round).get(pk=township.pk)
    villages = list(selectors.villages_of(round, township_submission=township))
    level = selectors.Level(county=False, townships=[progress], villages=villages, own_villages=[])
    context = _page_context(request, round, level)
    return render(request, "submissions/township_detail.html", context)


@login_required
@require_POST
def round_cancel(request: AuthenticatedHttpRequest, round_id: str) -> HttpResponse:
    round = access.access_round(request.user, round_id)
    access.require_county_admin_of(request.user, round.county)

    def cancel(data: dict[str, Any]) -> object:
        return services.round_cancel(user=request.user, round=round, reason=data["reason"])

    return _act(request, CancelForm(request.POST), round.id, "已撤销该报送轮次。", cancel)


# --- villages ----------------------------------------------------------------------------------


@login_required
@require_POST
def village_submit(request: AuthenticatedHttpRequest, submission_id: str) -> HttpResponse:
    submission = access.access_village_submission(request.user, submission_id)
    access.require_village_submitter(request.user, submission)

    def submit(data: dict[str, Any]) -> object:
        return services.village_submission_submit(
            user=request.user, submission=submission, note=data["note"], confirmed=data["confirmed"]
        )

    done = f"{submission.village.name}已报送，等待乡镇审核。"
    return _act(request, VillageSubmitForm(request.POST), submission.round_id, done, submit)


@login_required
@require_POST
def village_approve(request: AuthenticatedHttpRequest, submission_id: str) -> HttpResponse:
    submission = access.access_village_submission(request.user, submission_id)
    access.require_supervisor_of(request.user, submission.township_submission.township)

    def approve(data: dict[str, Any]) -> object:
        return services.village_submission_approve(
            user=request.user, submission=submission, comment=data["comment"]
        )

    done = f"{submission.village.name}的报送已审核通过。"
    return _act(request, ReviewForm(request.POST), submission.round_id, done, approve)


@login_required
@require_POST
def village_return(request: AuthenticatedHttpRequest, submission_id: str) -> HttpResponse:
    submission = access.access_village_submission(request.user, submission_id)
    access.require_supervisor_of(request.user, submission.township_submission.township)

    def send_back(data: dict[str, Any]) -> object:
        return services.village_submission_return(
            user=request.user, submission=submission, comment=data["comment"]
        )

    done = f"已退回{submission.village.name}的报送，并已通知报送人。"
    return _act(request, ReviewForm(request.POST), submission.round_id, done, send_back)


# --- townships ---------------------------------------------------------------------------------


@login_required
@require_POST
def township_submit(request: AuthenticatedHttpRequest, submission_id: str) -> HttpResponse:
    submission = access.access_township_submission(request.user, submission_id)
    access.require_supervisor_of(request.user, submission.township)

    def submit(data: dict[str, Any]) -> object:
        return services.township_submission_submit(
            user=request.user, submission=submission, note=data["note"]
        )

    done = f"{submission.township.name}已向县民政局报送。"
    return _act(request, TownshipSubmitForm(request.POST), submission.round_id, done, submit)


@login_required
@require_POST
def township_approve(request: AuthenticatedHttpRequest, submission_id: str) -> HttpResponse:
    submission = access.access_township_submission(request.user, submission_id)
    access.require_county_admin_of(request.user, submission.round.county)

    def approve(data: dict[str, Any]) -> object:
        return services.township_submission_approve(
            user=request.user, submission=submission, comment=data["comment"]
        )

    done = f"{submission.township.name}的报送已审定。"
    return _act(request, ReviewForm(request.POST), submission.round_id, done, approve)


@login_required
@require_POST
def township_return(request: AuthenticatedHttpRequest, submission_id: str) -> HttpResponse:
    submission = access.access_township_submission(request.user, submission_id)
    access.require_county_admin_of(request.user, submission.round.county)

    def send_back(data: dict[str, Any]) -> object:
        return services.township_submission_return(
            user=request.user, submission=submission, comment=data["comment"]
        )

    done = f"已退回{submission.township.name}的报送，并已通知报送人。"
    return _act(request, ReviewForm(request.POST), submission.round_id, done, send_back)


# --- downloads ---------------------------------------------------------------------------------


@login_required
@require_GET
def roster_download(request: AuthenticatedHttpRequest, round_id: str) -> HttpResponseBase:
    """The round's 花名册 from the snapshot (as submitted), at the user's level; masked unless
    ?reveal=1 (the export helper checks the permission and records it)."""
    round = access.access_round(request.user, round_id)
    fmt: Format = "csv" if request.GET.get("fmt") == "csv" else "xlsx"
    rows = selectors.roster_rows(selectors.snapshot_rows_visible(request.user, round))
    return export_rows(
        request=request,
        kind="round_roster",
        columns=ROSTER_COLUMNS,
        rows=rows,
        fmt=fmt,
        filename=f"{round.title}-花名册",
        reveal=request.GET.get("reveal") == "1",
    )


TABLE3_COLUMNS = [
    Column("区划", width=14),
    *(Column(f"{number} {heading}", width=10) for number, heading in table3.COLUMNS),
    Column("勾稽关系", width=40),
]


@login_required
@require_GET
def table3_download(request: AuthenticatedHttpRequest, round_id: str) -> HttpResponseBase:
    round = access.access_round(request.user, round_id)
    table = selectors.table3_of(request.user, round)
    rows = [
        [row.name, *row.counts, "；".join(row.problems) or table3.CHECK_PASSED]
        for row in [*table.rows, table.total]
    ]
    return export_rows(
        request=request,
        kind="round_table3",
        columns=TABLE3_COLUMNS,
        rows=rows,
        fmt="xlsx",
        filename=f"{round.title}-附件3统计表",
        object_type="statistics",
    )
