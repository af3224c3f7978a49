"""Pages of the providers register (R16). Each view: access → form → service → redirect or
render.

Providers and contracts are reached through providers/access.py only: one outside the user's
scope answers 404 like a missing one; a role with no part in a page gets 403. Children are
only ever listed from registry.access (children_visible_to / children_editable_by), and each
list of children leaves an access-log row; writes leave their audit rows in the services.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import REGION_ROLES, Role
from audit.models import EventType
from audit.services import access_log, audit_event
from core.forms import add_errors
from core.http import AuthenticatedHttpRequest
from core.masking import mask_phone, mask_text
from providers import access, selectors, services
from providers.forms import (
    AssignSearchForm,
    ContractForm,
    ProviderForm,
    RegisterFilterForm,
    RevealForm,
    contract_data,
    contract_initial,
    item_formset,
    provider_initial,
)
from providers.models import Contract, Provider
from registry.access import access_child, children_editable_by, user_roles, villages_writable_by
from registry.models import UnitAssignment
from registry.selectors import keyset_page, search_kind
from work.forms import UUIDListField

PAGE_SIZE = 50


def _posted(request: AuthenticatedHttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _version(request: AuthenticatedHttpRequest, current: int) -> int:
    try:
        return int(request.POST.get("version") or current)
    except ValueError:
        return -1  # a forged version is stale, never current


def _resend(form: Form, version: int) -> None:
    """The form comes back on the current version, to be checked and sent again."""
    data = form.data.copy()  # type: ignore[attr-defined]
    data["version"] = str(version)
    form.data = data


# --- the register ------------------------------------------------------------------------------


@login_required
@require_GET
def provider_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_list(request.user)
    listed = access.providers_listed_for(request.user)
    form = RegisterFilterForm(request.GET or None, townships=selectors.register_townships(listed))
    filters = (
        selectors.RegisterFilters(**form.cleaned_data) if form.is_valid() else selectors.RegisterFilters()
    )
    page = Paginator(selectors.register(listed, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    units = [provider.unit_id for provider in page.object_list]
    counts = dict(
        UnitAssignment.objects.filter(unit_id__in=units, active=True)
        .values_list("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    rows = [
        {
            "provider": p,
            "services": selectors.service_labels(p.services),
            "children": counts.get(p.unit_id, 0),
        }
        for p in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "can_register": bool(access.registrable_kinds(request.user)),
        "can_contracts": access.can_read_contracts(request.user),
    }
    return render(request, "providers/list.html", context)


def _detail_context(request: AuthenticatedHttpRequest, provider: Provider) -> dict[str, Any]:
    user = request.user
    rows = selectors.assigned_rows(provider, user)
    can_assign = access.can_assign(user, provider)
    editable = (
        set(children_editable_by(user).filter(pk__in=[r.child_id for r in rows]).values_list("pk", flat=True))
        if can_assign
        else set()
    )
    contracts = (
        access.contracts_visible_to(user).filter(provider=provider).prefetch_related("townships")
        if access.can_read_contracts(user)
        else Contract.objects.none()
    )
    county = access.provider_county(provider)
    count = selectors.assigned_count(provider)
    return {
        "provider": provider,
        "services": selectors.service_labels(provider.services),
        "phone": mask_phone(provider.contact_phone),
        "can_reveal": access.may_reveal(user) and bool(provider.contact_phone),
        "staff": selectors.staff_names(provider),
        "count": count,
        "hidden": count - len({row.child_id for row in rows}),
        "can_list": access.can_list(user),
        "rows": [{"assignment": row, "can_end": row.child_id in editable} for row in rows],
        "contracts": list(contracts),
        "can_edit": access.can_edit(user, provider),
        "can_assign": can_assign,
        "can_contract": access.purchasing_grant(user, county) is not None,
        "referral": UnitAssignment.Source.REFERRAL,
    }


@login_required
@require_GET
def provider_detail(request: AuthenticatedHttpRequest, provider_id: str) -> HttpResponse:
    provider = access.access_provider(request.user, provider_id)
    context = _detail_context(request, provider)
    audit_event(request=request, action=EventType.VIEW, object_type="provider", object_id=provider.id)
    if context["rows"]:
        access_log(
            request=request,
            action=EventType.LIST,
            object_type="child",
            detail={"section": "provider", "provider": str(provider.id), "count": len(context["rows"])},
        )
    return render(request, "providers/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def provider_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_registrar(request.user)
    form = ProviderForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.provider_register(user=request.user, data=form.data_for_service())
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记服务机构：{provider.unit.name}")
            return redirect("providers:detail", provider_id=provider.id)
    return render(request, "providers/form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def provider_edit(request: AuthenticatedHttpRequest, provider_id: str) -> HttpResponse:
    provider = access.access_provider(request.user, provider_id)
    access.require_edit(request.user, provider)
    form = ProviderForm(
        _posted(request), user=request.user, provider=provider, initial=provider_initial(provider)
    )
    context: dict[str, Any] = {"form": form, "provider": provider}
    if request.method == "POST" and form.is_valid():
        version = _version(request, provider.version)
        try:
            services.provider_update(
                user=request.user, provider=provider, expected_version=version, data=form.data_for_service()
            )
        except services.StaleError as exc:
            context["conflict"] = selectors.changes_since(exc.current, version)
            _resend(form, exc.current.version)
            return render(request, "providers/form.html", context, status=409)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("providers:detail", provider_id=provider.id)
    return render(request, "providers/form.html", context)


@login_required
@require_POST
def provider_reveal(request: AuthenticatedHttpRequest, provider_id: str) -> HttpResponse:
    """The contact phone in full, with a reason that goes into the access log (DP-3)."""
    provider = access.access_provider(request.user, provider_id)
    access.require_reveal(request.user)
    form = RevealForm(request.POST)
    if not form.is_valid():
        error = next(iter(form.errors.values()))[0]
        return render(request, "providers/_phone.html", {"provider": provider, "error": error}, status=400)
    reason = form.cleaned_data["reason"]
    access_log(
        request=request,
        action=EventType.REVEAL,
        object_type="provider",
        object_id=provider.id,
        detail={"field": "contact_phone"},
        reason=reason,
    )
    return render(request, "providers/_phone.html", {"provider": provider, "value": provider.contact_phone})


# --- children assigned to a provider -----------------------------------------------------------


class _AssignForm(Form):
    children = UUIDListField(label="儿童", error_messages={"required": "请至少选择一名儿童。"})


def _assign_write(request: AuthenticatedHttpRequest, provider: Provider, form: _AssignForm) -> int:
    # Each id must be a file the user may change: anything else answers 404 (and a denial
    # row), exactly as a missing file, and nothing is written.
    children = [access_child(request.user, pk, for_write=True) for pk in form.cleaned_data["children"]]
    made = services.provider_children_assign(user=request.user, provider=provider, children=children)
    return len(made)


@login_required
@require_http_methods(["GET", "POST"])
def provider_assign(request: AuthenticatedHttpRequest, provider_id: str) -> HttpResponse:
    """指派服务对象: find children (search by POST only) and assign the ticked ones."""
    provider = access.access_provider(request.user, provider_id)
    access.require_assign(request.user, provider)
    assigning = request.method == "POST" and request.POST.get("action") == "assign"
    assign_form = _AssignForm(request.POST if assigning else None)
    if assigning and assign_form.is_valid():
        made = _assign_write(request, provider, assign_form)
        messages.success(request, f"已指派 {made} 名儿童，该机构工作人员现在可以查看其档案。")
        return redirect("providers:detail", provider_id=provider.id)
    villages = list(villages_writable_by(request.user).order_by("code"))
    search = AssignSearchForm(_posted(request), villages=villages)
    criteria = search.cleaned_data if search.is_valid() else {}
    q = criteria.get("q", "")
    children = selectors.assignable_children(
        request.user, provider, q=q, village=criteria.get("village", ""), key=criteria.get("key", "")
    )
    detail: dict[str, Any] = {"section": "provider_assign", "count": len(children)}
    if q.strip():
        detail |= {"kind": search_kind(q.strip()), "term": mask_text(q.strip())}
    action = EventType.SEARCH if q.strip() else EventType.LIST
    access_log(request=request, action=action, object_type="child", detail=detail)
    context = {
        "provider": provider,
        "search": search,
        "form": assign_form,
        "rows": selectors.child_rows(children),
        "shown": selectors.CANDIDATES_SHOWN,
    }
    return render(request, "providers/assign.html", context, status=400 if assign_form.errors else 200)


@login_required
@require_POST
def assignment_end(request: AuthenticatedHttpRequest, assignment_id: str) -> HttpResponse:
    assignment, provider = access.access_assignment(request.user, assignment_id)
    try:
        services.provider_assignment_end(user=request.user, assignment=assignment)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已结束对 {assignment.child.name} 的服务指派。")
    return redirect("providers:detail", provider_id=provider.id)


# --- contracts ---------------------------------------------------------------------------------


@login_required
@require_GET
def contract_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_contract_reader(request.user)
    contracts = (
        access.contracts_visible_to(request.user)
        .select_related("provider__unit", "purchaser")
        .prefetch_related("townships")
        .order_by("-starts_on", "title")
    )
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "providers/contract_list.html", {"page": page})


def _contract_form_page(
    request: AuthenticatedHttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, "providers/contract_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request: AuthenticatedHttpRequest, provider_id: str) -> HttpResponse:
    access.require_contract_manager(request.user)
    provider = access.access_provider(request.user, provider_id)
    county = access.provider_county(provider)
    grant = access.purchasing_grant(request.user, county)
    if grant is None:
        raise PermissionDenied(access.NO_CONTRACT_EDIT)
    form = ContractForm(_posted(request), county=county)
    items = item_formset(_posted(request))
    if request.method == "POST" and form.is_valid() and items.is_valid():
        try:
            contract = services.contract_create(
                user=request.user, provider=provider, purchaser=grant.unit, data=contract_data(form, items)
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记政府购买服务合同。")
            return redirect("providers:contract_detail", contract_id=contract.id)
    context = {"form": form, "items": items, "provider": provider, "purchaser": grant.unit}
    return _contract_form_page(request, context)


@login_required
@require_GET
def contract_detail(request: AuthenticatedHttpRequest, contract_id: str) -> HttpResponse:
    contract = access.access_contract(request.user, contract_id)
    context = {
        "contract": contract,
        "provider": contract.provider,
        "townships": list(contract.townships.order_by("code")),
        "delivery": selectors.contract_delivery(contract),
        "current": selectors.contract_is_current(contract),
        "can_edit": access.can_manage_contract(request.user, contract),
        "can_open_provider": access.providers_visible_to(request.user)
        .filter(pk=contract.provider_id)
        .exists(),
    }
    audit_event(request=request, action=EventType.VIEW, object_type="contract", object_id=contract.id)
    return render(request, "providers/contract_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request: AuthenticatedHttpRequest, contract_id: str) -> HttpResponse:
    contract = access.access_contract(request.user, contract_id)
    if not access.can_manage_contract(request.user, contract):
        raise PermissionDenied(access.NO_CONTRACT_EDIT)
    form = ContractForm(_posted(request), county=contract.county, initial=contract_initial(contract))
    items = item_formset(_posted(request), contract)
    context: dict[str, Any] = {
        "form": form,
        "items": items,
        "contract": contract,
        "provider": contract.provider,
        "purchaser": contract.purchaser,
    }
    if request.method == "POST" and form.is_valid() and items.is_valid():
        version = _version(request, contract.version)
        try:
            services.contract_update(
                user=request.user,
                contract=contract,
                expected_version=version,
                data=contract_data(form, items),
            )
        except services.StaleError as exc:
            context["conflict"] = selectors.changes_since(exc.current, version)
            _resend(form, exc.current.version)
            return _contract_form_page(request, context, status=409)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("providers:contract_detail", contract_id=contract.id)
    return _contract_form_page(request, context)


# --- 我的服务对象 (provider staff) ---------------------------------------------------------------


def _mine(request: AuthenticatedHttpRequest, extra: dict[str, Any]) -> HttpResponse:
    page = keyset_page(
        selectors.served_children(request.user),
        after=str(request.GET.get("after", ""))[:40],
        before=str(request.GET.get("before", ""))[:40],
        size=settings.SHOUHU_LEDGER_PAGE_SIZE,
    )
    access_log(
        request=request,
        action=EventType.LIST,
        object_type="child",
        detail={"section": "served", "count": len(page.rows)},
    )
    providers = Provider.objects.filter(unit_id__in=access.staff_unit_ids(request.user)).select_related(
        "unit"
    )
    context = {"page": page, "rows": selectors.child_rows(page.rows), "providers": list(providers), **extra}
    return render(request, "providers/mine.html", context)


@login_required
@require_GET
def mine(request: AuthenticatedHttpRequest) -> HttpResponse:
    access.require_staff(request.user)
    return _mine(request, {})


def staff_home(request: AuthenticatedHttpRequest, *, counts: Any) -> HttpResponse | None:
    """The first page of a provider's staff (registry's home asks): 我的服务对象, with the home
    page's scope counts. None for anyone who also holds a region role (their home is theirs)."""
    roles = user_roles(request.user)
    if Role.PROVIDER_STAFF not in roles or roles & REGION_ROLES:
        return None
    return _mine(request, {"counts": counts(), "is_home": True})
