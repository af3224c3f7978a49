"""Reads of the import flow: the user's batches and a batch's preview rows (keyset paged)."""

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from imports.models import Batch, ImportRow, Outcome

PAGE_SIZE = 50


def batches_of(user: User) -> QuerySet[Batch]:
    return Batch.objects.filter(created_by=user).select_related("preview_job", "commit_job")


@dataclass(frozen=True)
class RowPage:
    rows: list[ImportRow]
    outcome: str  # "" for all
    after: int  # the last row number of the page before (0: the first page)
    next_after: int | None  # where the next page starts, None on the last page


def batch_rows(batch: Batch, *, outcome: str = "", after: int = 0, size: int = PAGE_SIZE) -> RowPage:
    """One page of the preview rows in row order, after row `after` (keyset: index
    import_row_outcome / import_row_unique), filtered by outcome when one is given."""
    outcome = outcome if outcome in Outcome.values else ""
    query = ImportRow.objects.filter(batch=batch, number__gt=max(after, 0))
    if outcome:
        query = query.filter(outcome=outcome)
    rows = list(query.order_by("number")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return RowPage(rows, outcome, after, rows[-1].number if more and rows else None)
