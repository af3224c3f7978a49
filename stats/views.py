"""Pages of the statistics: the dashboard, the scorecard (考核) and its .xlsx export.

They read the count tables through stats.selectors (never the children table) for a region
the user's grants cover (stats.access): other roles get 403, other regions 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.exports import Column, export_rows
from core.http import AuthenticatedHttpRequest
from geo.models import Region
from stats import access, selectors
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
