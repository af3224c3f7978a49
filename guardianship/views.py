"""Pages of entrusted guardianship. Each view: access → form → service → redirect or render.

Every page reaches the child through registry/access.py (an agreement outside the user's scope
answers 404 like a missing one); reads write an audit row on the child like child_detail does,
writes write theirs in the write's transaction.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from audit.models import EventType
from audit.services import access_log, audit_event
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from core.storage import private_delete, private_file_response, store_guarded
from core.uploads import UploadRejected, guard_document
from geo.models import Region, RegionLevel
from guardianship import rules, selectors, services
from guardianship.forms import AgreementForm, DutyAckForm, ScanForm, SignForm, TemplateForm
from guardianship.models import GuardianshipAgreement
from guardianship.pdf import agreement_pdf, missing_characters
from registry.access import access_child, active_grants, children_editable_by
from registry.models import Child, EntrustedGuardian


def _agreement(
    request: AuthenticatedHttpRequest, agreement_id: str, *, for_write: bool = False
) -> GuardianshipAgreement:
    """The agreement, if its child is in the user's scope (for writing); else 404 as if missing."""
    child_id = selectors.agreement_child_id(agreement_id)
    if child_id is None:
        raise Http404("未找到该档案")
    child = access_child(request.user, str(child_id), for_write=for_write)
    agreement = GuardianshipAgreement.objects.select_related("guardian", "created_by").get(pk=agreement_id)
    agreement.child = child
    return agreement


def _log_read(
    request: AuthenticatedHttpRequest, child: Child, action: str = EventType.VIEW, **detail: Any
) -> None:
    access_log(request=request, action=action, object_type="child", object_id=child.id, detail=detail)


def _log_write(request: AuthenticatedHttpRequest, action: str, child: Child, **detail: Any) -> None:
    """In the write's transaction: if the audit row fails, the write is undone (LG-5)."""
    audit_event(request=request, action=action, object_type="child", object_id=child.id, detail=detail)


def _editable(request: AuthenticatedHttpRequest, child: Child) -> bool:
    return children_editable_by(request.user).filter(pk=child.pk).exists()


def _warning_days(child: Child) -> int:
    from care.models import CarePolicy

    return int(CarePolicy.for_county(child.county).agreement_warning_days)


# --- agreements ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def agreement_new(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id, for_write=True)
    guardian = EntrustedGuardian.objects.filter(child=child).first()
    missing = services.unconfirmed_checks(guardian) if guardian else []
    form = AgreementForm(
        request.POST or None, initial={"valid_from": timezone.localdate(), "term_months": 12}
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                agreement = services.agreement_generate(
                    user=request.user,
                    child=child,
                    valid_from=form.cleaned_data["valid_from"],
                    valid_until=form.cleaned_data["valid_until"],
                )
                _log_write(request, EventType.CREATE, child, agreement=str(agreement.id), change="agreement")
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已生成委托监护协议（待签）。请打印后由各方签字，再登记签订日期。")
            return redirect("guardianship:agreement_detail", agreement_id=agreement.id)
    _log_read(request, child, section="agreement_new")
    context = {"child": child, "guardian": guardian, "missing": missing, "form": form}
    return render(request, "guardianship/agreement_new.html", context)


@login_required
@require_GET
def agreement_detail(request: AuthenticatedHttpRequest, agreement_id: str) -> HttpResponse:
    agreement = _agreement(request, agreement_id)
    child = agreement.child
    _log_read(request, child, section="agreement", agreement=str(agreement.id))
    today = timezone.localdate()
    context = {
        "child": child,
        "agreement": agreement,
        "guardian": agreement.guardian,
        "editable": _editable(request, child) and child.is_active,
        "expiring": agreement.is_current
        and rules.is_expiring(agreement.valid_until, on=today, within_days=_warning_days(child)),
        "expired": agreement.is_current and agreement.valid_until < today,
        "sign_form": SignForm(initial={"signed_on": today}),
        "scan_form": ScanForm(),
        "pdf_missing": missing_characters(agreement),
    }
    return render(request, "guardianship/agreement_detail.html", context)


@login_required
@require_GET
def agreement_print(request: AuthenticatedHttpRequest, agreement_id: str) -> HttpResponse:
    agreement = _agreement(request, agreement_id)
    _log_read(request, agreement.child, EventType.PRINT, section="agreement", agreement=str(agreement.id))
    context = {"agreement": agreement, "signatures": _signature_lines()}
    return render(request, "guardianship/agreement_print.html", context)


def _signature_lines() -> list[str]:
    return ["委托人（父亲）签字", "委托人（母亲）签字", "受委托监护人签字", "村（居）民委员会见证（盖章）"]


@login_required
@require_GET
def agreement_pdf_download(request: AuthenticatedHttpRequest, agreement_id: str) -> HttpResponse:
    agreement = _agreement(request, agreement_id)
    _log_read(
        request,
        agreement.child,
        EventType.EXPORT,
        section="agreement",
        agreement=str(agreement.id),
        format="pdf",
    )
    response = HttpResponse(agreement_pdf(agreement), content_type="application/pdf")
    # The file name names no one: the agreement's id only.
    response["Content-Disposition"] = f'attachment; filename="agreement-{agreement.id}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def agreement_sign(request: AuthenticatedHttpRequest, agreement_id: str) -> HttpResponse:
    agreement = _agreement(request, agreement_id, for_write=True)
    form = SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _first_error(form))
        return redirect("guardianship:agreement_detail", agreement_id=agreement.id)
    try:
        with transaction.atomic():
            signed = services.agreement_sign(
                user=request.user, agreement=agreement, signed_on=form.cleaned_data["signed_on"]
            )
            _log_write(request, EventType.UPDATE, agreement.child, agreement=str(signed.id), change="sign")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已登记签订日期：{rules.format_date(signed.signed_on)}。")
    return redirect("guardianship:agreement_detail", agreement_id=agreement.id)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_scan(request: AuthenticatedHttpRequest, agreement_id: str) -> HttpResponseBase:
    """GET: the stored scan, to users who may see the child. POST: upload it (writers)."""
    if request.method == "POST":
        return _scan_upload(request, agreement_id)
    agreement = _agreement(request, agreement_id)
    name = agreement.scan.name or ""
    if not name:
        raise Http404("未找到该档案")
    _log_read(request, agreement.child, section="agreement_scan", agreement=str(agreement.id))
    extension = name.rsplit(".", 1)[-1]
    return private_file_response(
        name,
        kind=agreement.scan_kind,
        download_name=f"agreement-scan-{agreement.id}.{extension}",
        inline=True,
    )


def _scan_upload(request: AuthenticatedHttpRequest, agreement_id: str) -> HttpResponse:
    agreement = _agreement(request, agreement_id, for_write=True)
    form = ScanForm(request.POST, request.FILES)
    if form.is_valid():
        stored = ""
        try:
            guarded = guard_document(form.cleaned_data.get("scan"))
            stored = store_guarded(guarded, folder="agreements")
            with transaction.atomic():
                services.agreement_scan_attach(
                    user=request.user, agreement=agreement, stored_name=stored, kind=guarded.kind
                )
                _log_write(
                    request, EventType.UPDATE, agreement.child, agreement=str(agreement.id), change="scan"
                )
        except UploadRejected as exc:
            form.add_error("scan", exc.message)
        except BaseException:
            private_delete(stored)
            raise
        else:
            messages.success(request, "已上传签字扫描件。")
            return redirect("guardianship:agreement_detail", agreement_id=agreement.id)
    _log_read(request, agreement.child, section="agreement", agreement=str(agreement.id))
    context = {
        "child": agreement.child,
        "agreement": agreement,
        "guardian": agreement.guardian,
        "editable": True,
        "sign_form": SignForm(initial={"signed_on": timezone.localdate()}),
        "scan_form": form,
    }
    return render(request, "guardianship/agreement_detail.html", context, status=400)


def _first_error(form: Any) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}：{errors[0]}" if label else str(errors[0])
    return "提交的内容有误。"


# --- duty list -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def duty_ack(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id, for_write=True)
    people = services.duty_people(child)
    form = DutyAckForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                ack = services.duty_acknowledge(
                    user=request.user,
                    child=child,
                    role=form.cleaned_data["role"],
                    acknowledged_on=form.cleaned_data["acknowledged_on"],
                )
                _log_write(
                    request, EventType.CREATE, child, duty_acknowledgement=str(ack.id), change="duty_ack"
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记 {ack.person_name} 对监护人责任清单的确认。")
            return redirect("registry:detail", child_id=child.id)
    _log_read(request, child, section="duty_ack")
    template = services.agreement_template_ensure(county=child.county)
    context = {"child": child, "form": form, "people": people, "template": template}
    return render(request, "guardianship/duty_ack.html", context)


# --- the county's template -------------------------------------------------------------------------


def _administered_county(request: AuthenticatedHttpRequest) -> Region:
    """The county of the user's county-admin grant (a grant above county level: the
    deployment's county). Other roles: 403."""
    for grant in active_grants(request.user):
        if grant.role == Role.COUNTY_ADMIN:
            region = grant.scope_region
            while region.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE) and region.parent:
                region = region.parent
            if region.level == RegionLevel.COUNTY:
                return region
            return Region.objects.get(code=settings.SHOUHU_COUNTY_CODE, valid_to__isnull=True)
    raise PermissionDenied("只有县民政管理员可以修改协议模板")


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    county = _administered_county(request)
    template = services.agreement_template_ensure(county=county)
    form = TemplateForm(request.POST or None, instance=template, initial={"version": template.version})
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                saved = services.agreement_template_update(
                    user=request.user,
                    template=template,
                    expected_version=form.cleaned_data["version"],
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    duties=form.cleaned_data["duties"],
                )
                audit_event(
                    request=request,
                    action=EventType.CONFIG,
                    object_type="agreement_template",
                    object_id=saved.id,
                    detail={"county": county.code, "version": saved.version},
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"协议模板已保存（第 {saved.version} 版）。已生成的协议不受影响。")
            return redirect("guardianship:template_edit")
    context = {"form": form, "template": template, "county": county, "placeholders": rules.PLACEHOLDERS}
    return render(request, "guardianship/template_edit.html", context)
