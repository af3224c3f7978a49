"""Pages of the care app. Each view: access → form → service → redirect or render.

Child data is reached only through registry.access: a visit or photo is shown after
access_child() on its child, so out of scope answers 404 exactly like a missing one.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from audit.models import EventType
from audit.services import access_log, audit_event
from care import selectors
from care.forms import CarePolicyForm, VisitForm
from care.models import CarePolicy, Visit, VisitPhoto
from care.services import (
    StoredPhoto,
    care_policy_save,
    visit_photos_discard,
    visit_photos_store,
    visit_record,
)
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from core.storage import EXTENSIONS, private_file_response
from core.uploads import UploadRejected
from geo.models import Region
from registry.access import access_child, access_child_to_visit, children_editable_by
from registry.models import Child
from registry.services import StaleVersionError

VISITS_PER_PAGE = 20
PHOTO_KINDS_BY_TYPE = {"image/jpeg": "jpeg", "image/png": "png"}


def _is_htmx(request: AuthenticatedHttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _log_read(request: AuthenticatedHttpRequest, child: Child, **detail: Any) -> None:
    access_log(request=request, action=EventType.VIEW, object_type="child", object_id=child.id, detail=detail)


# --- visits -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def visit_new(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child_to_visit(request.user, child_id)
    if not child.is_active:
        messages.error(request, "该档案已退出台账，不能记录走访。")
        return redirect("registry:detail", child_id=child.id)
    can_edit_file = children_editable_by(request.user).filter(pk=child.pk).exists()
    data = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = VisitForm(*data, child=child, user=request.user, can_edit_file=can_edit_file)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            outcome = _record(request, child, form)
            if isinstance(outcome, Visit):
                return redirect("care:visit_detail", visit_id=outcome.id)
            status = outcome
        else:
            status = 400
    # The form names the child and shows the current rating: a read of the file (LG-1).
    _log_read(request, child, section="visit_form")
    return render(
        request,
        "care/visit_form.html",
        {"child": child, "form": form, "can_edit_file": can_edit_file},
        status=status,
    )


def _record(request: AuthenticatedHttpRequest, child: Child, form: VisitForm) -> Visit | int:
    """Store the photos, then record the visit with its audit rows in one transaction.
    Returns the visit, or the status to answer with the form's errors."""
    try:
        photos = visit_photos_store(files=form.cleaned_data["photos"])
    except ValidationError as exc:
        add_errors(form, exc)
        return 400
    except UploadRejected as exc:
        form.add_error("photos", exc.message)
        return 400
    try:
        with transaction.atomic():
            visit, created = visit_record(
                user=request.user,
                child=child,
                values=form.values(),
                submission_key=form.cleaned_data["submission_key"],
                expected_version=form.cleaned_data["version"],
                photos=photos,
            )
            if created:
                _log_visit_write(request, child, visit)
    except StaleVersionError as exc:
        _discard(photos)
        form.add_error(
            "new_rating" if "new_rating" in form.fields else None,
            f"档案已被他人修改（当前为第 {exc.current.version} 版），请核对后重新选择调整内容。",
        )
        resend = request.POST.copy()  # the form comes back ready to resend on the new version
        resend["version"] = str(exc.current.version)
        form.data = resend
        return 409
    except ValidationError as exc:
        _discard(photos)
        add_errors(form, exc)
        return 400
    except BaseException:
        _discard(photos)
        raise
    if not created:
        _discard(photos)  # a repeated submission: its photos are already stored with the visit
        messages.info(request, "这次走访已经记录过了（重复提交不会重复记录）。")
    else:
        messages.success(request, "走访已记录。")
    return visit


def _discard(photos: list[StoredPhoto]) -> None:
    if photos:
        visit_photos_discard(photos)


def _log_visit_write(request: AuthenticatedHttpRequest, child: Child, visit: Visit) -> None:
    """The audit rows of a visit, inside its transaction: the visit (create) and, when it
    changed the rating or care arrangement, the file (update)."""
    audit_event(
        request=request,
        action=EventType.CREATE,
        object_type="child",
        object_id=child.id,
        detail={"visit": str(visit.id), "kind": visit.kind},
    )
    if visit.new_rating or visit.new_care_type:
        version = Child.objects.filter(pk=child.pk).values_list("version", flat=True).get()
        changed = [name for name in ("new_rating", "new_care_type") if getattr(visit, name)]
        audit_event(
            request=request,
            action=EventType.UPDATE,
            object_type="child",
            object_id=child.id,
            detail={"version": version, "visit": str(visit.id), "change": changed},
        )


def _visit_in_scope(request: AuthenticatedHttpRequest, visit_id: str) -> tuple[Visit, Child]:
    visit = Visit.objects.select_related("visitor").filter(pk=visit_id).first()
    if visit is None:
        raise Http404("未找到该档案")
    return visit, access_child(request.user, visit.child_id)


@login_required
def visit_detail(request: AuthenticatedHttpRequest, visit_id: str) -> HttpResponse:
    visit, child = _visit_in_scope(request, visit_id)
    _log_read(request, child, section="visit", visit=str(visit.id))
    context = {"visit": visit, "child": child, "photos": list(visit.photos.all())}
    return render(request, "care/visit_detail.html", context)


@login_required
def visit_list(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id)
    page = Paginator(selectors.visits_of(child), VISITS_PER_PAGE).get_page(request.GET.get("page"))
    _log_read(request, child, section="visits", count=len(page.object_list))
    summary = selectors.care_summary(user=request.user, child=child)
    return render(request, "care/visit_list.html", {"child": child, "page": page, "care": summary})


@login_required
def visit_photo(request: AuthenticatedHttpRequest, photo_id: str) -> FileResponse:
    photo = VisitPhoto.objects.select_related("visit").filter(pk=photo_id).first()
    if photo is None:
        raise Http404("未找到该档案")
    child = access_child(request.user, photo.visit.child_id)
    _log_read(request, child, section="visit_photo", visit=str(photo.visit_id), photo=str(photo.id))
    kind = PHOTO_KINDS_BY_TYPE[photo.content_type]
    response = private_file_response(
        photo.file_name, kind=kind, download_name=f"{photo.id}.{EXTENSIONS[kind]}", inline=True
    )
    # Never framed either (SE-3): the sandbox policy alone does not say frame-ancestors.
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    return response


# --- the county policy ------------------------------------------------------------------------


def _county_choice(request: AuthenticatedHttpRequest, counties: list[Region]) -> Region:
    wanted = request.POST.get("county") or request.GET.get("county")
    return next((county for county in counties if str(county.pk) == wanted), counties[0])


@login_required
@require_http_methods(["GET", "POST"])
def policy(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Everyone who sees children reads the rules; the county admin changes them."""
    counties = selectors.counties_for(request.user)
    if not counties:
        raise PermissionDenied("您的角色没有关爱走访规则")
    county = _county_choice(request, counties)
    can_edit = county in selectors.counties_administered_by(request.user)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied("只有县民政管理员可以修改关爱走访规则")
    current = CarePolicy.for_county(county)
    form = CarePolicyForm(request.POST if request.method == "POST" else None, policy=current)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                saved, job = care_policy_save(user=request.user, county=county, values=form.values())
                audit_event(
                    request=request,
                    action=EventType.CONFIG,
                    object_type="care_policy",
                    object_id=saved.pk,
                    detail={"county": county.code, **form.values()},
                )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, "规则已保存，正在按新规则重新计算本县儿童的风险等级和走访日期。")
            return redirect("care:job", job_id=job.id)
    context = {
        "county": county,
        "counties": counties,
        "policy": current,
        "rows": selectors.policy_rows(current),
        "form": form,
        "can_edit": can_edit,
    }
    return render(request, "care/policy.html", context, status=400 if form.errors else 200)


@login_required
def job(request: AuthenticatedHttpRequest, job_id: str) -> HttpResponse:
    """The progress of a recompute the county admin started (htmx polls the partial)."""
    if not selectors.counties_administered_by(request.user):
        raise PermissionDenied("只有县民政管理员可以查看")
    found = selectors.recompute_job_for(request.user, job_id)
    if found is None:
        raise Http404("未找到该任务")
    county = Region.objects.filter(pk=found.payload.get("county")).first()
    template = "care/job.html#progress" if _is_htmx(request) else "care/job.html"
    return render(request, template, {"job": found, "county": county})
