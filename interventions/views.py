"""Pages of the interventions app. Each view: access → form → service → redirect or render.

Every object is fetched through interventions/access.py (out of scope answers 404 like a
missing one). Reads write an audit VIEW row on the report; writes write theirs in the write's
transaction, so a failed audit row undoes the write (LG-5).
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import EventType
from audit.services import access_log, audit_event
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from geo.models import Unit
from interventions import access, rules, selectors, services
from interventions.forms import (
    ConcernForm,
    DecisionForm,
    GuardianForm,
    InterventionForm,
    PetitionForm,
    PetitionStepForm,
    RefusalEndForm,
    RefusalStartForm,
    VoidForm,
)
from interventions.models import GuardianConcern, Outcome, Petition
from registry.access import active_grants, children_visible_to
from reports.models import Report

FORM = "interventions/form.html"


def _log_read(request: AuthenticatedHttpRequest, report: Report, section: str) -> None:
    access_log(
        request=request,
        action=EventType.VIEW,
        object_type="report",
        object_id=report.id,
        detail={"section": section, "child": str(report.child_id or "")},
    )


def _log_write(request: AuthenticatedHttpRequest, report: Report, action: str, **detail: Any) -> None:
    audit_event(
        request=request,
        action=action,
        object_type="report",
        object_id=report.id,
        detail={"child": str(report.child_id or ""), **detail},
    )


def _back(report: Report) -> HttpResponse:
    return redirect("interventions:report", report_id=report.id)


def _form_page(
    request: AuthenticatedHttpRequest, report: Report, form: Any, title: str, **extra: Any
) -> HttpResponse:
    context = {"report": report, "form": form, "title": title, **extra}
    return render(request, FORM, context)


# --- the page ----------------------------------------------------------------------------------


@login_required
@require_GET
def report_page(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    """Per guardian: interventions, counts, refused-duty days, the prompt and petitions."""
    report = access.access_report(request.user, report_id)
    user = request.user
    context = {
        "report": report,
        "panels": selectors.guardian_panels(report, user=user),
        "can_record": access.reports_recordable_by(user).filter(pk=report.pk).exists(),
        "can_petition": access.reports_petitionable_by(user).filter(pk=report.pk).exists(),
        "child_visible": report.child_id is not None
        and children_visible_to(user).filter(pk=report.child_id).exists(),
        "sources": rules.SOURCES,
        "months": rules.REFUSAL_MONTHS,
        "admonitions": rules.BEGGING_ADMONITIONS,
    }
    _log_read(request, report, "interventions")
    return render(request, "interventions/report.html", context)


# --- guardians ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def guardian_new(request: AuthenticatedHttpRequest, report_id: str) -> HttpResponse:
    report = access.access_report(request.user, report_id, need=access.RECORD)
    form = GuardianForm(request.POST or None, child=report.child)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                guardian, created = services.guardian_add(
                    user=request.user, report=report, **form.person_kwargs()
                )
                if created:
                    _log_write(
                        request, report, EventType.CREATE, change="guardian_add", guardian=str(guardian.id)
                    )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已添加监护人 {guardian}。" if created else f"{guardian} 已在列表中。")
            return _back(report)
    _log_read(request, report, "guardian_new")
    return _form_page(request, report, form, "添加被干预的监护人")


# --- interventions -----------------------------------------------------------------------------


def _units(request: AuthenticatedHttpRequest, report: Report) -> QuerySet[Unit]:
    """The user's own units and the police unit the report is routed to."""
    ids = {grant.unit_id for grant in active_grants(request.user)} | {report.routed_unit_id}
    return Unit.objects.filter(pk__in=ids, active=True).order_by("kind", "name")


@login_required
@require_http_methods(["GET", "POST"])
def intervention_new(request: AuthenticatedHttpRequest, guardian_id: str) -> HttpResponse:
    guardian = access.access_guardian(request.user, guardian_id, need=access.RECORD)
    report = guardian.report
    kinds = access.kinds_for(request.user, report)
    units = _units(request, report)
    initial = {"unit": next((g.unit_id for g in active_grants(request.user)), None)}
    form = InterventionForm(request.POST or None, kinds=kinds, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = services.InterventionData(**form.cleaned_data)
        try:
            with transaction.atomic():
                intervention, created = services.intervention_record(
                    user=request.user, guardian=guardian, data=data
                )
                if created:
                    _log_write(
                        request,
                        report,
                        EventType.CREATE,
                        change="intervention_record",
                        intervention=str(intervention.id),
                        kind=intervention.kind,
                    )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            label = intervention.get_kind_display()
            messages.success(request, f"已记录{label}。" if created else "这条干预记录已经记录过了。")
            return _back(report)
    _log_read(request, report, "intervention_new")
    note = (
        ""
        if len(kinds) > 1
        else "乡镇督导人员可记录批评教育；训诫、告诫书、治安管理处罚和刑事立案由公安机关记录。"
    )
    return _form_page(request, report, form, "记录监护干预措施", guardian=guardian, intro=note)


@login_required
@require_http_methods(["GET", "POST"])
def intervention_void(request: AuthenticatedHttpRequest, intervention_id: str) -> HttpResponse:
    intervention = access.access_intervention(request.user, intervention_id)
    report = intervention.report
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.intervention_void(user=request.user, intervention=intervention, **form.cleaned_data)
                _log_write(
                    request,
                    report,
                    EventType.UPDATE,
                    change="intervention_void",
                    intervention=str(intervention.id),
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已作废这条干预记录，它不再计入次数。")
            return _back(report)
    _log_read(request, report, "intervention_void")
    entry = f"{intervention.on:%Y-%m-%d} {intervention.get_kind_display()}（{intervention.unit}）"
    return _form_page(
        request,
        report,
        form,
        "作废干预记录",
        guardian=intervention.guardian,
        entry=entry,
        voided=intervention.voided_at,
        intro="录错的记录作废后仍保留（划去并注明原因），不会删除，也不再计入次数。",
        danger=True,
    )


# --- refused duty ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def refusal_start(request: AuthenticatedHttpRequest, guardian_id: str) -> HttpResponse:
    guardian = access.access_guardian(request.user, guardian_id, need=access.RECORD)
    report = guardian.report
    form = RefusalStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                refusal = services.refusal_start(user=request.user, guardian=guardian, **form.cleaned_data)
                _log_write(request, report, EventType.CREATE, change="refusal_start", refusal=str(refusal.id))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记拒不履行监护职责的开始日期，系统按日累计天数。")
            return _back(report)
    _log_read(request, report, "refusal_start")
    intro = (
        f"从开始日期起按日累计；连续满 {rules.REFUSAL_MONTHS} 个月（按日历月计算）时，页面提示可考虑申请撤销"
        "监护人资格。恢复履行后请登记结束日期。"
    )
    return _form_page(request, report, form, "登记拒不履行监护职责", guardian=guardian, intro=intro)


@login_required
@require_http_methods(["GET", "POST"])
def refusal_end(request: AuthenticatedHttpRequest, refusal_id: str) -> HttpResponse:
    refusal = access.access_refusal(request.user, refusal_id)
    report = refusal.report
    form = RefusalEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.refusal_end(user=request.user, refusal=refusal, **form.cleaned_data)
                _log_write(request, report, EventType.UPDATE, change="refusal_end", refusal=str(refusal.id))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记拒不履行监护职责的结束日期。")
            return _back(report)
    _log_read(request, report, "refusal_end")
    entry = f"自 {refusal.started_on:%Y-%m-%d} 起拒不履行监护职责" + (
        f"，已于 {refusal.ended_on:%Y-%m-%d} 结束" if refusal.ended_on else ""
    )
    return _form_page(request, report, form, "登记恢复履行监护职责", guardian=refusal.guardian, entry=entry)


@login_required
@require_http_methods(["GET", "POST"])
def refusal_void(request: AuthenticatedHttpRequest, refusal_id: str) -> HttpResponse:
    refusal = access.access_refusal(request.user, refusal_id)
    report = refusal.report
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.refusal_void(user=request.user, refusal=refusal, **form.cleaned_data)
                _log_write(request, report, EventType.UPDATE, change="refusal_void", refusal=str(refusal.id))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已作废这条记录，它不再计入天数。")
            return _back(report)
    _log_read(request, report, "refusal_void")
    return _form_page(
        request,
        report,
        form,
        "作废拒不履行记录",
        guardian=refusal.guardian,
        entry=f"自 {refusal.started_on:%Y-%m-%d} 起拒不履行监护职责",
        voided=refusal.voided_at,
        intro="录错的记录作废后仍保留（划去并注明原因），不会删除，也不再计入天数。",
        danger=True,
    )


# --- the grounds a worker judges met --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def concerns(request: AuthenticatedHttpRequest, guardian_id: str) -> HttpResponse:
    guardian = access.access_guardian(request.user, guardian_id, need=access.RECORD)
    report = guardian.report
    active = GuardianConcern.objects.filter(guardian=guardian, cleared_at__isnull=True)
    form = ConcernForm(request.POST or None, initial={"grounds": [row.ground for row in active]})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                added, cleared = services.concerns_set(
                    user=request.user,
                    guardian=guardian,
                    grounds=set(form.cleaned_data["grounds"]),
                    basis=form.cleaned_data["basis"],
                )
                _log_write(
                    request,
                    report,
                    EventType.UPDATE,
                    change="concerns_set",
                    guardian=str(guardian.id),
                    added=sorted(added),
                    cleared=sorted(cleared),
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已更新情形判断。")
            return _back(report)
    _log_read(request, report, "concerns")
    intro = (
        "以下情形需要工作人员根据调查核实的情况作出判断。勾选并填写依据后，页面会提示可考虑申请撤销监护人资格；"
        "这只是提示，不会自动作出任何决定。"
    )
    return _form_page(request, report, form, "监护人情形判断", guardian=guardian, intro=intro)


# --- petitions -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def petition_new(request: AuthenticatedHttpRequest, guardian_id: str) -> HttpResponse:
    guardian = access.access_guardian(request.user, guardian_id, need=access.PETITION)
    report = guardian.report
    panel = next(
        p for p in selectors.guardian_panels(report, user=request.user) if p.guardian.pk == guardian.pk
    )
    initial = {"grounds": [ground.code for ground in panel.grounds], "court": f"{report.county.name}人民法院"}
    form = PetitionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = services.PetitionData(**form.cleaned_data)
        try:
            with transaction.atomic():
                petition = services.petition_file(user=request.user, guardian=guardian, data=data)
                _log_write(
                    request, report, EventType.CREATE, change="petition_file", petition=str(petition.id)
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记撤销监护人资格申请，请随案件进展更新。")
            return _back(report)
    _log_read(request, report, "petition_new")
    intro = (
        "有权申请的：近亲属、村（居）民委员会、县民政局等（GF13；JH2014 第27条）。"
        "是否申请由申请人依法决定；系统只登记和跟踪。"
    )
    return _form_page(request, report, form, "登记撤销监护人资格申请", guardian=guardian, intro=intro)


def _petition_entry(petition: Petition) -> str:
    return f"{petition.filed_on:%Y-%m-%d} 向{petition.court}申请，现为“{petition.get_state_display()}”"


@login_required
@require_http_methods(["GET", "POST"])
def petition_step(request: AuthenticatedHttpRequest, petition_id: str) -> HttpResponse:
    petition = access.access_petition(request.user, petition_id)
    report = petition.report
    form = PetitionStepForm(request.POST or None, state=petition.state)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                petition = services.petition_advance(
                    user=request.user, petition=petition, **form.cleaned_data
                )
                _log_write(
                    request,
                    report,
                    EventType.UPDATE,
                    change="petition_advance",
                    petition=str(petition.id),
                    to=petition.state,
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已更新申请进展：{petition.get_state_display()}。")
            return _back(report)
    _log_read(request, report, "petition_step")
    return _form_page(
        request, report, form, "更新申请进展", guardian=petition.guardian, entry=_petition_entry(petition)
    )


@login_required
@require_http_methods(["GET", "POST"])
def petition_decide(request: AuthenticatedHttpRequest, petition_id: str) -> HttpResponse:
    petition = access.access_petition(request.user, petition_id)
    report = petition.report
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                petition = services.petition_decide(
                    user=request.user, petition=petition, decision=services.Decision(**form.cleaned_data)
                )
                _log_write(
                    request,
                    report,
                    EventType.UPDATE,
                    change="petition_decide",
                    petition=str(petition.id),
                    outcome=petition.outcome,
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记法院判决：{petition.get_outcome_display()}。{_after(petition)}")
            return _back(report)
    _log_read(request, report, "petition_decide")
    intro = (
        "法院判决撤销监护人资格的，应另行指定监护人；"
        "被撤销资格的父母应当继续负担抚养费（未成年人保护法第一百零八条）。"
    )
    return _form_page(
        request,
        report,
        form,
        "登记法院判决",
        guardian=petition.guardian,
        entry=_petition_entry(petition),
        intro=intro,
    )


def _after(petition: Petition) -> str:
    if petition.outcome != Outcome.REVOKED:
        return ""
    return "档案中的监护人信息不会自动修改，请在儿童档案中更新监护人和监护情况（修改留有历史记录）。"
