"""The national forms (MF42, issue 6 item 3): 附件1 per child, 附件2 花名册, 附件3 统计表.

Exports go through core.exports.export_rows (masking, watermark, formula neutralisation, the
audit row with the row count); the per-child form is read through registry.access (404 out of
scope, like a missing file) and every view and download writes an access-log row.
"""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit.models import EventType
from audit.services import access_log
from core.exports import Column, Format, export_rows
from core.http import AuthenticatedHttpRequest
from nationalforms import selectors
from nationalforms import table3 as t3
from nationalforms.form1 import SIGNATURES, ChildForm, child_form
from nationalforms.forms import Table3Form
from nationalforms.pdf import child_form_pdf, missing_characters
from nationalforms.roster import ROSTER_COLUMNS, roster_rows
from registry import choices as c
from registry import selectors as registry_selectors
from registry.access import access_child, can_reveal, children_visible_to
from registry.forms import LedgerFilterForm
from registry.models import Child, EntrustedGuardian

NO_FORMS = "您的角色不能导出国家表式。"
NO_REVEAL = "您没有查看完整身份证号码或电话号码的权限。"


def _require_forms_role(request: AuthenticatedHttpRequest) -> None:
    if not selectors.can_use_forms(request.user):
        raise PermissionDenied(NO_FORMS)


def _wants_reveal(request: AuthenticatedHttpRequest) -> bool:
    return request.GET.get("reveal") == "1"


# --- 附件3 统计表 ---------------------------------------------------------------------------------


@login_required
@require_GET
def table3_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_forms_role(request)
    form = Table3Form(request.GET or None)
    on = form.reference_date()
    table = selectors.table3_for(request.user, on=on)
    access_log(
        request=request,
        action=EventType.LIST,
        object_type="statistics",
        detail={"kind": "table3", "on": on.isoformat(), "rows": len(table.rows)},
    )
    context = {"form": form, "table": table, "on": on, "note": t3.RECONSTRUCTION_NOTE}
    return render(request, "nationalforms/table3.html", context)


def table3_export_columns(by: str) -> list[Column]:
    region = "乡镇（街道）" if by == "township" else "村（社区）"
    return [
        Column(region, width=16),
        *(Column(f"{number} {heading}", width=10) for number, heading in t3.COLUMNS),
        Column("勾稽关系检查", width=40),
    ]


def table3_export_rows(table: t3.Table3) -> list[list[object]]:
    return [
        [row.name, *row.counts, "；".join(row.problems) or t3.CHECK_PASSED]
        for row in [*table.rows, table.total]
    ]


@login_required
@require_GET
def table3_xlsx(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    _require_forms_role(request)
    on = Table3Form(request.GET or None).reference_date()
    table = selectors.table3_for(request.user, on=on)
    return export_rows(
        request=request,
        kind="table3",
        columns=table3_export_columns(table.by),
        rows=table3_export_rows(table),
        fmt="xlsx",
        filename=f"附件3统计表_{on.isoformat()}",
        object_type="statistics",
    )


# --- 附件2 花名册 ----------------------------------------------------------------------------------


def _roster(request: AuthenticatedHttpRequest, fmt: Format) -> HttpResponseBase:
    """The ledger's filters from GET, as the ledger page takes them; a search term never comes
    by URL (DP-5), so `q` is dropped."""
    _require_forms_role(request)
    params = request.GET.copy()
    params.pop("q", None)
    reveal = params.pop("reveal", [""])[-1] == "1"
    form = LedgerFilterForm(params, user=request.user) if params else None
    filters = form.filters() if form else registry_selectors.LedgerFilters()
    children = registry_selectors.ledger(children_visible_to(request.user), filters)
    return export_rows(
        request=request,
        kind="roster",
        columns=ROSTER_COLUMNS,
        rows=roster_rows(children),
        fmt=fmt,
        filename=f"花名册_{timezone.localdate().isoformat()}",
        reveal=reveal,
    )


@login_required
@require_GET
def roster_xlsx(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    return _roster(request, "xlsx")


@login_required
@require_GET
def roster_csv(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    return _roster(request, "csv")


# --- 附件1 per child --------------------------------------------------------------------------


def _form_for(request: AuthenticatedHttpRequest, child_id: str) -> tuple[Child, ChildForm, bool]:
    """The child's form, if the user may read the file (else 404 as if missing); revealed
    only on ?reveal=1 by a user who may reveal (else 403)."""
    child = access_child(request.user, child_id)
    reveal = _wants_reveal(request)
    if reveal and not can_reveal(request.user):
        raise PermissionDenied(NO_REVEAL)
    parents = {p.role: p for p in child.parents.select_related("work_province", "work_city")}
    guardian = EntrustedGuardian.objects.filter(child=child).first()
    form = child_form(
        child, parents.get(c.ParentRole.FATHER), parents.get(c.ParentRole.MOTHER), guardian, reveal=reveal
    )
    return child, form, reveal


def _log(request: AuthenticatedHttpRequest, child: Child, action: str, reveal: bool, **detail: Any) -> None:
    detail.update(section="form1", revealed=reveal)
    access_log(
        request=request,
        action=EventType.REVEAL if reveal else action,
        object_type="child",
        object_id=child.id,
        detail=detail,
    )


@login_required
@require_GET
def child_form_page(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child, form, reveal = _form_for(request, child_id)
    _log(request, child, EventType.PRINT, reveal)
    context = {
        "child": child,
        "form": form,
        "reveal": reveal,
        "can_reveal": can_reveal(request.user),
        "signatures": SIGNATURES,
        "pdf_missing": missing_characters(form),
    }
    return render(request, "nationalforms/child_form.html", context)


@login_required
@require_GET
def child_form_pdf_download(request: AuthenticatedHttpRequest, child_id: str) -> HttpResponse:
    child, form, reveal = _form_for(request, child_id)
    _log(request, child, EventType.EXPORT, reveal, format="pdf")
    user = request.user
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    who = f"{user.full_name or user.username}（{user.username}）"
    watermark = f"打印人：{who}；打印时间：{when}；内含个人信息，仅限工作使用。"
    response = HttpResponse(child_form_pdf(form, watermark=watermark), content_type="application/pdf")
    # The file name names no one: the file's id only.
    response["Content-Disposition"] = f'attachment; filename="form1-{child.id}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
