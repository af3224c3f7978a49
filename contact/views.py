"""Pages of the contact app (phone-first forms). Each view: access → form → service → redirect.

Every page reaches the child through registry/access.py (out of scope answers 404 like a
missing file); writes leave their audit row in the write's transaction.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from audit.models import EventType
from audit.services import access_log, audit_event
from contact import services
from contact.forms import ContactForm, NoticeForm, ReachabilityForm, VoidForm
from contact.models import ParentContact, ParentNotice
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from registry import choices as c
from registry.access import access_child
from registry.models import Child, Parent


def _log_write(request: AuthenticatedHttpRequest, child: Child, **detail: Any) -> None:
    audit_event(
        request=request, action=EventType.UPDATE, object_type="child", object_id=child.id, detail=detail
    )


def _log_form_read(request: AuthenticatedHttpRequest, child: Child, section: str) -> None:
    """The form shows facts of the file (the parents' names and work places): a read (LG-1)."""
    access_log(
        request=request,
        action=EventType.VIEW,
        object_type="child",
        object_id=child.id,
        detail={"section": section},
    )


def _parents(child: Child) -> dict[str, Parent]:
    return {
        p.role: p for p in Parent.objects.filter(child=child).select_related("work_province", "work_city")
    }


@login_required
@require_http_methods(["GET", "POST"])
def notice_new(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id, for_write=True)
    form = NoticeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = services.NoticeData(**form.cleaned_data)
        try:
            with transaction.atomic():
                notice = services.parent_notice_record(user=request.user, child=child, data=data)
                _log_write(request, child, change="parent_notice", notice=str(notice.id), role=data.role)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已记录父母告知，档案已更新。")
            return redirect("registry:detail", child_id=child.id)
    _log_form_read(request, child, "parent_notice")
    context = {"child": child, "form": form, "parents": _parents(child)}
    return render(request, "contact/notice_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contact_new(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id, for_write=True)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                contact, created = services.parent_contact_record(
                    user=request.user, child=child, **form.cleaned_data
                )
                if created:
                    _log_write(request, child, change="parent_contact", contact=str(contact.id))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已记录亲情联系。" if created else "这条亲情联系已经记录过了。")
            return redirect("registry:detail", child_id=child.id)
    _log_form_read(request, child, "parent_contact")
    return render(request, "contact/contact_form.html", {"child": child, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def reachability(request: AuthenticatedHttpRequest, child_id: str, role: str) -> HttpResponse:
    """Mark the parent 失联, or reachable again when already marked: the form says which, so a
    repeated submission is refused instead of flipping the flag back."""
    child = access_child(request.user, child_id, for_write=True)
    parent = Parent.objects.filter(child=child, role=role).first() if role in c.ParentRole.values else None
    if parent is None:
        raise Http404("未找到该档案")
    form = ReachabilityForm(request.POST or None, initial={"unreachable": "0" if parent.unreachable else "1"})
    if request.method == "POST" and form.is_valid():
        unreachable = form.cleaned_data["unreachable"]
        try:
            with transaction.atomic():
                services.parent_reachability_set(
                    user=request.user,
                    child=child,
                    role=role,
                    unreachable=unreachable,
                    on=form.cleaned_data["on"],
                    reason=form.cleaned_data["reason"],
                )
                _log_write(
                    request,
                    child,
                    change="parent_unreachable" if unreachable else "parent_reachable",
                    role=role,
                )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            label = parent.get_role_display()
            messages.success(
                request, f"已将{label}标记为失联。" if unreachable else f"已将{label}标记为恢复联系。"
            )
            return redirect("registry:detail", child_id=child.id)
    _log_form_read(request, child, "parent_reachability")
    return render(request, "contact/reachability_form.html", {"child": child, "parent": parent, "form": form})


VOIDED_NOTICE = "已作废这条告知记录。家长的务工地点或电话如需更正，请在档案中编辑（修改留有历史记录）。"


def _entry(model: type[ParentContact] | type[ParentNotice], entry_id: str) -> Any:
    entry = model.objects.filter(pk=entry_id).select_related("child").first()
    if entry is None:
        raise Http404("未找到该记录")
    return entry


@login_required
@require_http_methods(["GET", "POST"])
def contact_void(request: AuthenticatedHttpRequest, contact_id: str) -> HttpResponse:
    """Void a wrongly entered contact with a reason; the file's last contact moves back."""
    contact: ParentContact = _entry(ParentContact, contact_id)
    child = access_child(request.user, contact.child_id, for_write=True)
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.parent_contact_void(user=request.user, contact=contact, **form.cleaned_data)
                _log_write(request, child, change="parent_contact_void", contact=str(contact.id))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已作废这条亲情联系记录。")
            return redirect("registry:detail", child_id=child.id)
    _log_form_read(request, child, "parent_contact_void")
    context = {"child": child, "entry": contact, "kind": "contact", "form": form}
    return render(request, "contact/void_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def notice_void(request: AuthenticatedHttpRequest, notice_id: str) -> HttpResponse:
    """Void a wrongly entered notice with a reason; the parent's facts are corrected in the file."""
    notice: ParentNotice = _entry(ParentNotice, notice_id)
    child = access_child(request.user, notice.child_id, for_write=True)
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.parent_notice_void(user=request.user, notice=notice, **form.cleaned_data)
                _log_write(request, child, change="parent_notice_void", notice=str(notice.id))
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, VOIDED_NOTICE)
            return redirect("registry:detail", child_id=child.id)
    _log_form_read(request, child, "parent_notice_void")
    context = {"child": child, "entry": notice, "kind": "notice", "form": form}
    return render(request, "contact/void_form.html", context)
