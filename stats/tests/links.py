"""Reading the dashboard back: every count with its ledger link, and what the ledger lists."""

import html
import re
from urllib.parse import urlsplit

from django.http import QueryDict

from accounts.models import User
from registry.access import children_visible_to
from registry.forms import LedgerFilterForm
from registry.selectors import LedgerFilters, ledger

COUNT_LINK = re.compile(r'<a class="count" href="([^"]*)">(\d+)</a>')
TILE_LINK = re.compile(r'<a class="tile" href="([^"]*)"><span class="num">(\d+)</span>')


def numbers(body: str) -> list[tuple[str, int]]:
    """(ledger url, number) for every number on the page that links to the ledger."""
    found = [(html.unescape(url), int(n)) for url, n in TILE_LINK.findall(body)]
    found += [(html.unescape(url), int(n)) for url, n in COUNT_LINK.findall(body)]
    return found


def ledger_count(user: User, url: str) -> int:
    """How many files the ledger lists for this link, read as the ledger view reads it."""
    parts = urlsplit(url)
    assert parts.path == "/children/", url
    params = QueryDict(parts.query)
    form = LedgerFilterForm(params or None, user=user)
    if params:
        assert form.is_valid(), (url, form.errors)
    filters = form.filters() if params else LedgerFilters()
    return ledger(children_visible_to(user), filters).count()
