"""Demo visits (演示数据) for the files the demo accounts look after, so that 我的工作 and the
township overview open on a believable state instead of every file being due since it was
opened: most files visited in the last months, some overdue, a few with a follow-up.

Only the demo village (the demo 儿童主任's) and the children assigned to the demo visiting cadre
and social worker get visits; the rest of the county stays unvisited, as a county that has just
started would be. Called by ``manage.py seed_demo`` before the care columns are recomputed.
"""

import datetime as dt
import random
import uuid
from collections import defaultdict

from django.db.models import Max
from simple_history.utils import bulk_create_with_history

from accounts.models import Role, RoleGrant, User
from care.choices import Present, VisitKind, VisitorRole
from care.models import Visit
from registry import choices as rc
from registry.models import Assignment, Child

DEMO_NOTE = "（演示数据）"
DEMO_VILLAGE_WORKER = f"demo_{Role.VILLAGE_WORKER}"  # as registry.demo names the demo accounts
VISITED_SHARE = 0.8  # files with at least one visit
MAX_VISITS = 3
MAX_DAYS_AGO = 150  # the latest visit falls within this many days before the reference date
FOLLOW_UPS = ("下周再次上门，核实监护人身体状况", "联系学校了解出勤情况", "协助联系外出务工的父母")
NOTES = (
    "孩子在家，祖父母照料，生活正常。",
    "监护人外出劳作，孩子由邻居临时照看，已提醒监护人。",
    "孩子学习情况一般，情绪稳定。",
    "电话联系监护人，了解近况，孩子身体健康。",
)
VISITOR_ROLES: dict[str, str] = {
    Role.VILLAGE_WORKER: VisitorRole.VILLAGE_WORKER,
    Role.VISITING_CADRE: VisitorRole.RESIDENT_CADRE,
    Role.SOCIAL_WORKER: VisitorRole.SOCIAL_WORKER,
}


def demo_visits_create(*, on: dt.date, seed: int) -> int:
    """Visits for the demo accounts' children, with history; sets each file's last visit.
    Returns the number of visits made."""
    rng = random.Random(seed)  # noqa: S311 -- synthetic data, repeatable by design
    visitors: dict[uuid.UUID, User] = {}
    grant = (
        RoleGrant.objects.filter(user__username=DEMO_VILLAGE_WORKER, role=Role.VILLAGE_WORKER)
        .select_related("user", "unit__region", "region")
        .first()
    )
    if grant is not None:
        worker = grant.user
        village_children = Child.objects.filter(village=grant.scope_region, status=rc.Status.ACTIVE)
        for child_id in village_children.order_by("file_no").values_list("id", flat=True):
            visitors[child_id] = worker
    roles: dict[uuid.UUID, str] = {child_id: VisitorRole.VILLAGE_WORKER for child_id in visitors}
    for assignment in (
        Assignment.objects.filter(active=True).select_related("user").order_by("assigned_at", "id")
    ):
        if assignment.child_id not in visitors:
            visitors[assignment.child_id] = assignment.user
            roles[assignment.child_id] = VISITOR_ROLES.get(assignment.role, VisitorRole.RESIDENT_CADRE)
    visits: list[Visit] = []
    for child_id, visitor in sorted(visitors.items(), key=lambda item: str(item[0])):
        if rng.random() >= VISITED_SHARE:
            continue
        role = roles[child_id]
        latest = on - dt.timedelta(days=rng.randint(1, MAX_DAYS_AGO))
        for n in range(rng.randint(1, MAX_VISITS)):
            visits.append(_visit(rng, child_id, visitor, role, latest - dt.timedelta(days=45 * n)))
    bulk_create_with_history(
        visits, Visit, batch_size=1000, default_user=None, default_change_reason="演示数据"
    )
    latest_by_child: dict[uuid.UUID, dt.date] = defaultdict(lambda: dt.date.min)
    for row in Visit.objects.values("child_id").annotate(last=Max("visited_on")):
        latest_by_child[row["child_id"]] = row["last"]
    children = list(Child.objects.filter(pk__in=latest_by_child))
    for child in children:
        child.last_visit_on = latest_by_child[child.pk]
    Child.objects.bulk_update(children, ["last_visit_on"], batch_size=1000)
    return len(visits)


def _visit(rng: random.Random, child_id: uuid.UUID, visitor: User, role: str, on: dt.date) -> Visit:
    hazard = rng.random() < 0.05
    follow_up = hazard or rng.random() < 0.1
    return Visit(
        id=uuid.UUID(int=rng.getrandbits(128), version=4),
        child_id=child_id,
        visited_on=on,
        kind=rng.choices([VisitKind.HOME, VisitKind.PHONE, VisitKind.VIDEO], weights=[6, 3, 1])[0],
        visitor=visitor,
        visitor_role=role,
        present=[Present.CHILD, Present.GRANDPARENTS],
        guardian_at_home=True,
        guardian_capable=rng.random() > 0.05,
        living_conditions_ok=not hazard,
        hazards_found=hazard,
        attending_school=rng.random() > 0.03,
        health_ok=True,
        emotional_ok=rng.random() > 0.1,
        parent_contact_recent=rng.random() > 0.3,
        notes=rng.choice(NOTES) + DEMO_NOTE,
        follow_up_needed=follow_up,
        follow_up_note=rng.choice(FOLLOW_UPS) if follow_up else "",
        submission_key=uuid.UUID(int=rng.getrandbits(128), version=4),
    )
