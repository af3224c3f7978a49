"""Pages of the import flow. Each view: access → form → service → redirect or render.

Only users who may write child files reach any of them (403 otherwise); a batch is reached
through imports.access.access_batch only, so someone else's batch answers 404 like a missing
one.
"""

from collections.abc import Iterator, Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exports import Column, export_rows
from core.http import AuthenticatedHttpRequest
from core.uploads import UploadRejected
from imports import selectors, services
from imports.access import access_batch, require_importer
from imports.columns import FIELDS
from imports.forms import MappingForm, UploadForm
from imports.models import Batch, BatchState, Outcome
from imports.reading import ImportFileError
from jobs.models import Job
from jobs.services import job_progress
from registry.access import can_reveal

RECENT_BATCHES = 30


def _is_htmx(request: AuthenticatedHttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


@login_required
@require_http_methods(["GET", "POST"])
@require_importer
def batch_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.batch_upload(user=request.user, upload=form.cleaned_data["file"])
        except (UploadRejected, ImportFileError) as exc:
            form.add_error("file", exc.message)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _after_upload(request, batch)
    batches = list(selectors.batches_of(request.user)[:RECENT_BATCHES])
    return render(request, "imports/batch_list.html", {"form": form, "batches": batches})


def _after_upload(request: AuthenticatedHttpRequest, batch: Batch) -> HttpResponse:
    if services.mapping_settled(batch):
        services.batch_preview_submit(user=request.user, batch=batch)
        messages.success(request, "已识别全部列，正在预览。")
        return redirect("imports:detail", batch_id=batch.id)
    return redirect("imports:mapping", batch_id=batch.id)


@login_required
@require_GET
@require_importer
def template_download(request: AuthenticatedHttpRequest) -> HttpResponseBase:
    """A blank workbook whose headers are the canonical labels."""
    columns = [Column(field.label, width=max(10, 2 * len(field.label) + 2)) for field in FIELDS]
    return export_rows(
        request=request,
        kind="import_template",
        columns=columns,
        rows=[],
        fmt="xlsx",
        filename="儿童信息台账导入模板.xlsx",
        object_type="import_template",
    )


@login_required
@require_http_methods(["GET", "POST"])
@require_importer
def batch_mapping(request: AuthenticatedHttpRequest, batch_id: str) -> HttpResponse:
    batch = access_batch(request.user, batch_id)
    if not batch.can_remap:
        return redirect("imports:detail", batch_id=batch.id)
    form = MappingForm(
        request.POST or None, headers=batch.headers, initial_mapping=services.batch_mapping(batch)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.batch_map(user=request.user, batch=batch, mapping=form.mapping())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("imports:detail", batch_id=batch.id)
    return render(request, "imports/batch_mapping.html", {"batch": batch, "form": form})


def _active_job(batch: Batch) -> Job | None:
    if batch.state == BatchState.PREVIEWING:
        return batch.preview_job
    if batch.state in (BatchState.COMMITTING, BatchState.COMMITTED):
        return batch.commit_job
    return None


@login_required
@require_GET
@require_importer
def batch_detail(request: AuthenticatedHttpRequest, batch_id: str) -> HttpResponse:
    """The batch: state, counts, progress, and the preview rows (polled while a job runs)."""
    batch = access_batch(request.user, batch_id)
    job = _active_job(batch)
    running = job is not None and not job.done
    # While the commit's transaction is open, its progress is read beside it (jobs.progress).
    current, total = job_progress(job) if job is not None else (0, None)
    shown = {"batch": batch, "job": job, "progress_current": current, "progress_total": total}
    if _is_htmx(request):
        response = render(request, "imports/batch_detail.html#progress", shown)
        if not running:
            response.headers["HX-Refresh"] = "true"  # done: the whole page shows the result
        return response
    try:
        after = max(int(request.GET.get("after") or 0), 0)
    except ValueError:
        after = 0
    page = selectors.batch_rows(batch, outcome=request.GET.get("outcome", ""), after=after)
    context = {
        **shown,
        "running": running,
        "page": page,
        "outcomes": [
            ("", "全部", batch.total_rows),
            (Outcome.NEW, Outcome.NEW.label, batch.new_count),
            (Outcome.UPDATE, Outcome.UPDATE.label, batch.update_count),
            (Outcome.UNCHANGED, Outcome.UNCHANGED.label, batch.unchanged_count),
            (Outcome.ERROR, Outcome.ERROR.label, batch.error_count),
        ],
        "previewed": batch.state != BatchState.MAPPING and batch.previewed_at is not None,
    }
    return render(request, "imports/batch_detail.html", context)


@login_required
@require_POST
@require_importer
def batch_commit(request: AuthenticatedHttpRequest, batch_id: str) -> HttpResponse:
    batch = access_batch(request.user, batch_id)
    try:
        services.batch_commit_submit(user=request.user, batch=batch)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, "已开始导入。")
    return redirect("imports:detail", batch_id=batch.id)


@login_required
@require_POST
@require_importer
def batch_cancel(request: AuthenticatedHttpRequest, batch_id: str) -> HttpResponse:
    batch = access_batch(request.user, batch_id)
    try:
        services.batch_cancel(user=request.user, batch=batch)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
        return redirect("imports:detail", batch_id=batch.id)
    messages.success(request, "已取消该批次，上传的文件已删除。")
    return redirect("imports:list")


@login_required
@require_GET
@require_importer
def batch_errors(request: AuthenticatedHttpRequest, batch_id: str) -> HttpResponseBase:
    """The rows with errors as the file has them, plus 行号 and 错误原因: to fix and re-upload."""
    batch = access_batch(request.user, batch_id)
    try:
        sheet, errors = services.error_rows(batch)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
        return redirect("imports:detail", batch_id=batch.id)
    mapping = services.batch_mapping(batch)
    columns = [
        Column(header or f"第 {i + 1} 列", mask=_mask(mapping.get(i, "")))
        for i, header in enumerate(sheet.headers)
    ]
    columns += [Column("行号", width=8), Column("错误原因", width=60)]
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return export_rows(
        request=request,
        kind="import_errors",
        columns=columns,
        rows=_error_lines(sheet.rows, errors, len(sheet.headers)),
        fmt="xlsx",
        filename=f"导入错误-{stamp}.xlsx",
        reveal=can_reveal(request.user),
    )


def _mask(key: str) -> Any:
    if key.endswith("id_number"):
        return "id"
    if key.endswith("phone"):
        return "phone"
    return None


def _error_lines(
    rows: Sequence[Any], errors: dict[int, list[dict[str, str]]], width: int
) -> Iterator[list[object]]:
    for row in rows:
        found = errors.get(row.number)
        if not found:
            continue
        cells: list[object] = [_plain(cell) for cell in row.cells[:width]]
        cells += [None] * (width - len(cells))
        reasons = "；".join(
            f"{e['column']}：{e['reason']}" if e.get("column") else e["reason"] for e in found
        )
        yield [*cells, row.number, reasons]


def _plain(cell: object) -> object:
    if cell is None or isinstance(cell, str | int | float | bool):
        return cell
    if hasattr(cell, "isoformat") and not hasattr(cell, "days"):
        return cell
    return str(cell)
