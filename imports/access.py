"""Who may import, and whose batch is whose.

Importing is for the roles that may write child files (registry.access.can_write); everyone
else gets 403 on every import page. A batch belongs to the user who uploaded it: for anyone
else it answers 404, exactly like a missing one.
"""

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.http.response import HttpResponseBase

from accounts.models import WRITE_ROLES, User
from core.http import AuthenticatedHttpRequest
from geo.models import Unit
from imports.models import Batch
from registry.access import active_grants, can_write

NOT_A_WRITER = "只有可以维护儿童档案的人员才能导入台账。"


def can_import(user: User) -> bool:
    return can_write(user)


R = TypeVar("R", bound=HttpResponseBase)


def require_importer(view: Callable[..., R]) -> Callable[..., R]:
    """403 for users who may not import (after login_required)."""

    @wraps(view)
    def wrapped(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> R:
        if not can_import(request.user):
            raise PermissionDenied(NOT_A_WRITER)
        return view(request, *args, **kwargs)

    return wrapped


def import_unit(user: User) -> Unit | None:
    """The unit whose remembered column mapping the user shares: the unit of the user's first
    write grant (a user normally has one)."""
    grants = sorted((g for g in active_grants(user) if g.role in WRITE_ROLES), key=lambda g: g.pk)
    return grants[0].unit if grants else None


def access_batch(user: User, batch_id: uuid.UUID | str) -> Batch:
    """The user's own batch, or Http404 as for a missing one."""
    try:
        return Batch.objects.select_related("preview_job", "commit_job", "unit").get(
            pk=batch_id, created_by=user
        )
    except (Batch.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("未找到该导入批次") from exc
