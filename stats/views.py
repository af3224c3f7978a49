"""Pages of the statistics: the dashboard, the scorecard (考核) and its .xlsx export, and the
care numbers (关爱服务统计) with the list of children behind them and their .xlsx export.

They read the count tables through stats.selectors (never the children table) for a region
the user's grants cover (stats.access): other roles get 403, other regions 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit.models import EventType
from audit.services import access_log
from core.exports import Column, export_rows
from core.http import AuthenticatedHttpRequest
from geo.models import Region, Unit
from registry.rules import age_on
from stats import access, care, selectors
from stats.forms import CareListForm, CarePeriodForm
from stats.models import Category, IndicatorCode


@login_required
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    roots = access.stats_roots(request.user, access.DASHBOARD_ROLES)
    region = access.stats_region(roots, request.GET.get("region"))
    board = selectors.dashboard(region, roots=roots, on=timezone.localdate())
    context = {
        "board": board,
        "up": None if region in roots else _up(region, roots),
        "categories": Category.choices,
        "roots": roots if len(roots) > 1 else [],
        "can_rank": bool(board.scorecard.rows) and _can_rank(request),
        "headers": selectors.score_headers(board.scorecard),
    }
    return render(request, "stats/dashboard.html", context)


def _up(region: Region, roots: list[Region]) -> Region | None:
    """The region above, when the user's scope still covers it."""
    parent = region.parent
    if parent is None or not any(parent.code.startswith(root.code) for root in roots):
        return None
    return parent


def _can_rank(request: AuthenticatedHttpRequest) -> bool:
    try:
        access.stats_roots(request.user, access.SCORECARD_ROLES)
    except PermissionDenied:
        return False
    return True


def _scorecard(request: AuthenticatedHttpRequest) -> selectors.Scorecard:
    roots = access.stats_roots(request.user, access.SCORECARD_ROLES)
    region = access.stats_region(roots, request.GET.get("region"), above_village=True)
    return selectors.scorecard(
        region,
        selectors.child_regions(region),
        sort=request.GET.get("sort"),
        direction=request.GET.get("dir"),
    )


@login_required
@require_GET
def scorecard(request: AuthenticatedHttpRequest) -> HttpResponse:
    card = _scorecard(request)
    headers = selectors.score_headers(card)
    return render(
        request,
        "stats/scorecard.html",
        {"card": card, "headers": headers, "refreshed_at": selectors.refreshed_at()},
    )


@login_required
@require_GET
def scorecard_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    card = _scorecard(request)
    columns = [Column("排名", width=6), Column("区划", width=20)]
    for code, label in IndicatorCode.choices:
        unit = "（分钟）" if code == IndicatorCode.RESPONSE_MINUTES else "（%）"
        columns += [Column(f"{label}{unit}", width=14), Column("分子", width=8), Column("分母", width=8)]
    return export_rows(
        request=request,
        kind="scorecard",
        columns=columns,
        rows=selectors.scorecard_rows(card),
        fmt="xlsx",
        filename=f"工作考核_{card.region.name}_{timezone.localdate():%Y%m%d}",
        object_type="statistics",
    )


# --- 关爱服务统计 ---------------------------------------------------------------------------

CHILDREN_PER_PAGE = 50


def _care_scope(request: AuthenticatedHttpRequest) -> tuple[list[Region], Region]:
    roots = access.stats_roots(request.user, access.DASHBOARD_ROLES)
    return roots, access.stats_region(roots, request.GET.get("region"))


@login_required
@require_GET
def care_numbers(request: AuthenticatedHttpRequest) -> HttpResponse:
    roots, region = _care_scope(request)
    form = CarePeriodForm(request.GET, today=timezone.localdate())
    board = care.care_board(request.user, region, form.period(), roots=roots)
    context = {
        "board": board,
        "form": form,
        "up": None if region in roots else _up(region, roots),
        "roots": roots if len(roots) > 1 else [],
    }
    return render(request, "stats/care.html", context)


@login_required
@require_GET
def care_children(request: AuthenticatedHttpRequest) -> HttpResponse:
    _, region = _care_scope(request)
    form = CareListForm(request.GET, today=timezone.localdate())
    if any(name in form.errors for name in ("key", "kind", "provider")):
        raise Http404("未找到该名单")  # only a hand-made link has these wrong
    period, filters = form.period(), form.filters()
    children = care.children_list(request.user, region, period, filters)
    page = Paginator(children, CHILDREN_PER_PAGE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    provider = Unit.objects.filter(pk=filters.provider).first() if filters.provider else None
    # A list of children is a read of child data (LG-1): one row, with the count, no names.
    detail = {"section": "care_numbers", "count": len(page.object_list), **filters.params()}
    access_log(request=request, action=EventType.LIST, object_type="child", detail=detail)
    context = {
        "region": region,
        "period": period,
        "filters": filters,
        "form": form,
        "page": page,
        "rows": [(child, age_on(child.birth_date, today)) for child in page.object_list],
        "kind_label": care.kind_label(filters.kind),
        "provider": provider,
        "carried": _carried(request),
    }
    return render(request, "stats/care_children.html", context)


def _carried(request: AuthenticatedHttpRequest) -> str:
    """The list's query without its page number, for the pager links."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_GET
def care_export(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    roots, region = _care_scope(request)
    period = CarePeriodForm(request.GET, today=timezone.localdate()).period()
    board = care.care_board(request.user, region, period, roots=roots)
    return export_rows(
        request=request,
        kind="care_numbers",
        columns=[Column(header, width=width) for header, width in care.EXPORT_HEADERS],
        rows=care.export_rows(board),
        fmt="xlsx",
        filename=f"关爱服务统计_{region.name}_{period.start:%Y%m%d}-{period.end:%Y%m%d}",
        object_type="statistics",
    )
