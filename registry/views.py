"""Pages of the child registry. Each view: access → form → service → redirect or render."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import EventType
from audit.permissions import can_read_audit
from audit.services import access_log, audit_event
from care.selectors import care_summary
from core.http import AuthenticatedHttpRequest
from core.masking import mask_text
from registry import choices as c
from registry import rules, selectors, timeline
from registry.access import access_child, can_reveal, can_write, children_editable_by, children_visible_to
from registry.forms import (
    REVEAL_FIELDS,
    ChildForm,
    ExitForm,
    GuardianForm,
    LedgerFilterForm,
    ParentForm,
    ReactivateForm,
    RevealForm,
)
from registry.models import Child, EntrustedGuardian, Parent
from registry.services import (
    FileData,
    StaleVersionError,
    child_file_exit,
    child_file_open,
    child_file_reactivate,
    child_file_update,
)


def _is_htmx(request: AuthenticatedHttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The first page: "我的工作" for the care roles (the township view for a township
    supervisor), with the scope counts below; "我的服务对象" for a provider's staff; the scope
    counts alone for everyone else."""
    from providers.views import staff_home
    from work.views import home_for

    def counts() -> dict[str, int]:
        return selectors.counts_for(children_visible_to(request.user))

    return (
        home_for(request, counts=counts)
        or staff_home(request, counts=counts)
        or render(request, "registry/home.html", {"counts": counts(), "can_write": can_write(request.user)})
    )


@login_required
@require_http_methods(["GET", "POST"])
def ledger(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Filters may come by GET (links from the home page); a search term only by POST, so
    that names, ID tails and phone numbers never appear in a URL (DP-5)."""
    params = request.POST.copy() if request.method == "POST" else request.GET.copy()
    if request.method == "GET":
        params.pop("q", None)
    form = LedgerFilterForm(params or None, user=request.user)
    filters = form.filters() if params else selectors.LedgerFilters()
    children = selectors.ledger(children_visible_to(request.user), filters)
    page = selectors.keyset_page(
        children.select_related("village", "township"),
        after=params.get("after", ""),
        before=params.get("before", ""),
        size=settings.SHOUHU_LEDGER_PAGE_SIZE,
    )
    _log_ledger(request, filters, len(page.rows))
    carried = [(k, v) for k, v in params.items() if k not in {"after", "before", "csrfmiddlewaretoken"} and v]
    context = {"form": form, "page": page, "carried": carried, "can_write": can_write(request.user)}
    template = "registry/ledger.html#results" if _is_htmx(request) else "registry/ledger.html"
    return render(request, template, context)


def _log_ledger(request: AuthenticatedHttpRequest, filters: selectors.LedgerFilters, count: int) -> None:
    if filters.q.strip():
        detail = {
            "kind": selectors.search_kind(filters.q.strip()),
            "term": mask_text(filters.q.strip()),
            "count": count,
        }
        access_log(request=request, action=EventType.SEARCH, object_type="child", detail=detail)
    else:
        access_log(request=request, action=EventType.LIST, object_type="child", detail={"count": count})


def _family(child: Child) -> dict[str, Any]:
    parents = {p.role: p for p in child.parents.select_related("work_province", "work_city")}
    guardian = EntrustedGuardian.objects.filter(child=child).first()
    return {
        "father": parents.get(c.ParentRole.FATHER),
        "mother": parents.get(c.ParentRole.MOTHER),
        "guardian": guardian,
    }


@login_required
def child_detail(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id)
    access_log(request=request, action=EventType.VIEW, object_type="child", object_id=child.id)
    context = {
        "child": child,
        **_family(child),
        "events": timeline.child_timeline(child),
        "editable": children_editable_by(request.user).filter(pk=child.pk).exists(),
        "can_reveal": can_reveal(request.user),
        "can_read_child_log": can_read_audit(request.user),
        "key_reason_labels": rules.reason_labels(child.key_reasons),
        "age": rules.age_on(child.birth_date, timezone.localdate()),
        "exit_form": ExitForm(initial={"version": child.version, "exit_date": timezone.localdate()}),
        "reactivate_form": ReactivateForm(initial={"version": child.version}),
        "income_labels": _labels(c.Income, child.income_sources),
        "assistance_labels": _labels(c.Assistance, child.assistance),
        "care": care_summary(user=request.user, child=child),
    }
    return render(request, "registry/child_detail.html", context)


def _labels(choices: Any, codes: list[str]) -> str:
    labels = dict(choices.choices)
    return "、".join(str(labels.get(code, code)) for code in codes) or "—"


class _FileForms:
    """The child form plus father, mother and guardian forms, bound or unbound."""

    def __init__(self, request: AuthenticatedHttpRequest, child: Child | None) -> None:
        data = request.POST if request.method == "POST" else None
        family = _family(child) if child else {"father": None, "mother": None, "guardian": None}
        self.child = ChildForm(data, instance=child, user=request.user)
        self.father = ParentForm(data, instance=family["father"], prefix="father")
        self.mother = ParentForm(data, instance=family["mother"], prefix="mother")
        self.guardian = GuardianForm(data, instance=family["guardian"], prefix="guardian")

    SECTIONS = (
        ("儿童基本信息", ["name", "id_number", "sex", "birth_date", "ethnicity", "village"]),
        ("户籍与居住", ["hukou_registered", "hukou_rural", "hukou_place", "current_address"]),
        (
            "身体与就学",
            [
                "health",
                "disability_category",
                "disability_grade",
                "illness",
                "schooling",
                "school",
                "grade",
                "boarding",
            ],
        ),
        ("家庭", ["household_address", "income_sources", "assistance"]),
        (
            "监护与类别",
            [
                "care_type",
                "guardianship_rating",
                "is_in_difficulty",
                "is_de_facto_orphan",
                "key_manual",
                "key_manual_reason",
            ],
        ),
    )

    def child_sections(self) -> list[tuple[str, list[Any]]]:
        return [(title, [self.child[name] for name in names]) for title, names in self.SECTIONS]

    def all(self) -> list[Any]:
        return [self.child, self.father, self.mother, self.guardian]

    def is_valid(self) -> bool:
        return all([form.is_valid() for form in self.all()])

    def file_data(self) -> FileData:
        parent_fields = ParentForm.Meta.fields
        return FileData(
            child={name: self.child.cleaned_data.get(name) for name in ChildForm.Meta.fields},
            father={name: self.father.cleaned_data.get(name) for name in parent_fields},
            mother={name: self.mother.cleaned_data.get(name) for name in parent_fields},
            guardian=self.guardian.values(),
        )

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put a service's errors on the field that caused them ("father-phone" → father form)."""
        if not hasattr(exc, "error_dict"):
            self.child.add_error(None, exc)
            return
        sections: dict[str, forms.ModelForm[Any]] = {
            "father": self.father,
            "mother": self.mother,
            "guardian": self.guardian,
        }
        for key, errors in exc.error_dict.items():
            prefix, _, name = key.partition("-")
            form: forms.ModelForm[Any] = sections.get(prefix, self.child) if name else self.child
            field: str | None = name or key
            if field not in form.fields:
                form, field = self.child, None
            for error in errors:
                form.add_error(field, error)


@login_required
@require_http_methods(["GET", "POST"])
def child_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not can_write(request.user):
        raise PermissionDenied("您没有建档权限")
    file_forms = _FileForms(request, None)
    if request.method == "POST" and file_forms.is_valid():
        try:
            with transaction.atomic():  # no write without its audit row (LG-5)
                child = child_file_open(user=request.user, data=file_forms.file_data())
                _log_write(request, EventType.CREATE, child)
        except ValidationError as exc:
            file_forms.add_service_errors(exc)
        else:
            messages.success(request, f"已建档：{child.name}（{child.file_no}）")
            return redirect("registry:detail", child_id=child.id)
    return render(request, "registry/child_form.html", {"forms": file_forms, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def child_edit(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id, for_write=True)
    file_forms = _FileForms(request, child)
    version = int(request.POST.get("version") or child.version) if request.method == "POST" else child.version
    context: dict[str, Any] = {"forms": file_forms, "child": child, "version": version}
    if request.method == "POST" and file_forms.is_valid():
        try:
            with transaction.atomic():
                saved = child_file_update(
                    user=request.user, child=child, expected_version=version, data=file_forms.file_data()
                )
                _log_write(request, EventType.UPDATE, saved)
        except StaleVersionError as exc:
            context.update(
                stale=True,
                changes=timeline.changes_since(exc.current, version),
                current_version=exc.current.version,
            )
            _log_form_read(request, exc.current, "conflict")
            return render(request, "registry/child_form.html", context, status=409)
        except ValidationError as exc:
            file_forms.add_service_errors(exc)
        else:
            messages.success(request, "档案已保存。")
            return redirect("registry:detail", child_id=child.id)
    # The form shows the file (masked), so rendering it is a read (LG-1).
    _log_form_read(request, child, "edit")
    return render(request, "registry/child_form.html", context)


def _log_form_read(request: AuthenticatedHttpRequest, child: Child, section: str) -> None:
    access_log(
        request=request,
        action=EventType.VIEW,
        object_type="child",
        object_id=child.id,
        detail={"section": section},
    )


def _log_write(
    request: AuthenticatedHttpRequest, action: str, child: Child, reason: str = "", **detail: Any
) -> None:
    """The audit row of a write, in the write's transaction: if it fails, the write is undone."""
    audit_event(
        request=request,
        action=action,
        object_type="child",
        object_id=child.id,
        reason=reason,
        detail={"version": child.version, **detail},
    )


def _change_status(
    request: AuthenticatedHttpRequest, child: Child, form: Any, change: Any, success: str
) -> HttpResponse:
    """Exit and reactivate: validate, run `change` (service + audit row) in one transaction,
    and report the outcome on the file page."""
    if not form.is_valid():
        messages.error(request, _first_error(form))
    else:
        try:
            with transaction.atomic():
                change(form.cleaned_data)
        except StaleVersionError:
            messages.error(request, "档案已被他人修改，请刷新后重试。")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, success)
    return redirect("registry:detail", child_id=child.id)


@login_required
@require_POST
def child_exit(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id, for_write=True)

    def change(data: dict[str, Any]) -> None:
        saved = child_file_exit(
            user=request.user,
            child=child,
            expected_version=data["version"],
            reason=data["exit_reason"],
            on=data["exit_date"],
            note=data["exit_note"],
        )
        _log_write(request, EventType.UPDATE, saved, change="exit", exit_reason=saved.exit_reason)

    return _change_status(request, child, ExitForm(request.POST), change, "档案已退出（不会删除，可恢复）。")


@login_required
@require_POST
def child_reactivate(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id, for_write=True)

    def change(data: dict[str, Any]) -> None:
        saved = child_file_reactivate(
            user=request.user, child=child, expected_version=data["version"], reason=data["reason"]
        )
        _log_write(request, EventType.UPDATE, saved, data["reason"], change="reactivate")

    return _change_status(request, child, ReactivateForm(request.POST), change, "档案已恢复在册。")


def _first_error(form: Any) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}：{errors[0]}" if label else str(errors[0])
    return "提交的内容有误。"


def _reveal_value(child: Child, field: str) -> str:
    if field == "child_id":
        return child.id_number
    owner, attribute = field.split("_")
    record: Parent | EntrustedGuardian | None
    if owner == "guardian":
        record = EntrustedGuardian.objects.filter(child=child).first()
    else:
        record = Parent.objects.filter(child=child, role=owner).first()
    if record is None:
        return ""
    return record.id_number if attribute == "id" else record.phone


@login_required
@require_POST
def child_reveal(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child = access_child(request.user, child_id)
    if not can_reveal(request.user):
        raise PermissionDenied("您的角色不能查看完整号码")
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "registry/_reveal.html",
            {"form": form, "child": child, "error": _first_error(form)},
            status=400,
        )
    field = form.cleaned_data["field"]
    access_log(
        request=request,
        action=EventType.REVEAL,
        object_type="child",
        object_id=child.id,
        detail={"field": field, "reason": form.cleaned_data["reason"]},
        reason=form.cleaned_data["reason"],
    )
    value = _reveal_value(child, field)
    return render(
        request, "registry/_reveal.html", {"value": value, "label": REVEAL_FIELDS[field], "child": child}
    )
