"""Who sees and does what with supervised tasks (督办). The one access layer of this app.

- County admins (县民政管理员) of a task's county see every task of the county (with the
  overdue filter and counts), create tasks (from a template or blank), edit open tasks,
  confirm them done (已完成, with or without the lead unit's 申报), return a 申报 with a
  reason (退回), cancel them with a reason (撤销), and edit the task templates. A county-admin
  grant above county level covers the counties below it.
- Users whose grant unit is the lead unit (牵头单位) or a participating unit (参加单位) see
  the task and report progress for that unit. The lead unit's users also propose the task
  done (申报完成); the county admin confirms. A unit never closes a task by itself: the
  county 督办 is the point of the task (R24, R26).
- 三员分立 (AC-6): system admins, security admins and auditors see no task, even when their
  grant sits at a lead or participating unit (they usually sit at civil affairs).
- Everybody else: 404, exactly as for a missing task (and a denial row in the audit trail).
  A user who sees a task but may not do the action asked (a participant cancelling, a county
  admin reporting progress for a unit he is not in) gets 403.
"""

import uuid
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import SEPARATED_ROLES, Role, User
from audit.models import EventType, Outcome
from audit.services import audit_event
from geo.models import Region, RegionLevel, Unit
from registry.access import active_grants
from tasks.models import Task

NOT_FOUND = "未找到该任务"
COUNTY_CODE_LENGTH = 6


def _admin_regions(user: User) -> list[Region]:
    """The scope regions of the user's county-admin grants at county level or above."""
    return [
        grant.scope_region
        for grant in active_grants(user)
        if grant.role == Role.COUNTY_ADMIN and len(grant.scope_region.code) <= COUNTY_CODE_LENGTH
    ]


def is_county_admin(user: User) -> bool:
    return bool(_admin_regions(user))


def member_unit_ids(user: User) -> set[uuid.UUID]:
    """The units the user works for, as far as tasks go (not the 三员)."""
    return {grant.unit_id for grant in active_grants(user) if grant.role not in SEPARATED_ROLES}


def _admin_q(user: User) -> Q | None:
    regions = _admin_regions(user)
    if not regions:
        return None
    return reduce(or_, (Q(county__code__startswith=region.code) for region in regions))


def tasks_visible_to(user: User) -> QuerySet[Task]:
    """Every list and count starts here. One row per task (no duplicates from the join)."""
    units = member_unit_ids(user)
    parts = [Q(lead_unit_id__in=units), Q(participations__unit_id__in=units)] if units else []
    admin = _admin_q(user)
    if admin is not None:
        parts.append(admin)
    if not parts:
        return Task.objects.none()
    scope = reduce(or_, parts)
    return Task.objects.filter(pk__in=Task.objects.filter(scope).values("pk"))


def tasks_managed_by(user: User) -> QuerySet[Task]:
    admin = _admin_q(user)
    return Task.objects.none() if admin is None else Task.objects.filter(admin)


def access_task(user: User, task_id: uuid.UUID | str) -> Task:
    """The task, if the user may see it; else Http404 as for a missing task, and a denial row."""
    try:
        return tasks_visible_to(user).select_related("county", "lead_unit", "template").get(pk=task_id)
    except (Task.DoesNotExist, ValueError, ValidationError) as exc:
        audit_event(
            user=user,
            action=EventType.DENIED,
            outcome=Outcome.DENIED,
            object_type="task",
            object_id=_uuid_or_blank(task_id),
            detail={"status": 404},
        )
        raise Http404(NOT_FOUND) from exc


def _uuid_or_blank(value: object) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return ""


def can_manage(user: User, task: Task) -> bool:
    return any(task.county.code.startswith(region.code) for region in _admin_regions(user))


def require_manage(user: User, task: Task) -> None:
    if not can_manage(user, task):
        raise PermissionDenied("只有本县民政管理员可以修改、确认或撤销督办任务。")


def is_lead_member(user: User, task: Task) -> bool:
    return task.lead_unit_id in member_unit_ids(user)


def require_lead(user: User, task: Task) -> None:
    if not is_lead_member(user, task):
        raise PermissionDenied("只有牵头单位可以申报完成。")


def reporting_units(user: User, task: Task) -> list[Unit]:
    """The task's units the user may report progress for: the lead first, then participants."""
    mine = member_unit_ids(user)
    if not mine:
        return []
    units = [task.lead_unit, *task.participants.order_by("region__code", "name")]
    return [unit for unit in units if unit.id in mine]


def require_reporter(user: User, task: Task) -> list[Unit]:
    units = reporting_units(user, task)
    if not units:
        raise PermissionDenied("只有牵头单位和参加单位可以报送进展。")
    return units


def administered_county(user: User) -> Region:
    """The county a county admin creates tasks in: that of the first county-admin grant (a
    grant above county level: the deployment's county, SHOUHU_COUNTY_CODE). Others: 403."""
    for region in _admin_regions(user):
        if region.level == RegionLevel.COUNTY:
            return region
        code = settings.SHOUHU_COUNTY_CODE
        if code.startswith(region.code):
            return Region.objects.get(code=code, valid_to__isnull=True)
    raise PermissionDenied("只有县民政管理员可以建立督办任务和编辑任务模板。")


def require_county_admin(user: User) -> None:
    if not is_county_admin(user):
        raise PermissionDenied("只有县民政管理员可以建立督办任务和编辑任务模板。")


def units_of_county(county: Region) -> QuerySet[Unit]:
    """The active units a county's task may name (AC-4: no unit of another county offered)."""
    return Unit.objects.filter(active=True, region__code__startswith=county.code).order_by(
        "kind", "region__code", "name"
    )
