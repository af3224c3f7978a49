"""Permission-matrix rows of the care app, read by core/tests/test_permission_matrix.py.

Who may record a visit is written out here (not imported from registry.access): the
personas who may change the file, plus the social worker assigned to a1 and the visiting
cadre assigned to a2 (testing/world.py). Everyone else gets 404, as for a missing file.
"""

import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from care.models import CarePolicy, Visit, VisitPhoto
from registry.models import Child
from testing.world import World

VISITABLE = {
    "county_admin": {"a1", "a2", "b1"},
    "township_supervisor": {"a1", "a2"},
    "village_worker": {"a1"},
    "social_worker": {"a1"},
    "visiting_cadre": {"a2"},
}
# Everyone with a data role reads the county's care rules; the county admin changes them.
POLICY_READERS = frozenset(
    {
        "county_admin",
        "county_officer",
        "township_supervisor",
        "village_worker",
        "school_staff",
        "police",
        "social_worker",
        "visiting_cadre",
    }
)
# A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def visitable(persona: str, obj: str | None) -> str | int:
    return "ok" if obj in VISITABLE.get(persona, set()) else 404


def policy_reader(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in POLICY_READERS else 403


def _visit(world: World, key: str) -> uuid.UUID:
    """The child's first visit, made on demand."""
    child_id = world.children[key].pk
    visit = Visit.objects.filter(child_id=child_id).first()
    if visit is None:
        visit = Visit.objects.create(
            child_id=child_id,
            visitor=world.users["county_admin"],
            visited_on=timezone.localdate(),
            kind="home",
            visitor_role="supervisor",
            present=["child"],
            notes="矩阵测试走访",
            submission_key=uuid.uuid4(),
        )
    return visit.pk


def _photo(world: World, key: str) -> uuid.UUID:
    from core.storage import private_storage

    name = f"visits/matrix-{key}.png"
    if not private_storage.exists(name):
        private_storage.save(name, ContentFile(PNG))
    photo = VisitPhoto.objects.filter(visit_id=_visit(world, key)).first()
    if photo is None:
        photo = VisitPhoto.objects.create(
            visit_id=_visit(world, key),
            file_name=name,
            content_type="image/png",
            size=len(PNG),
            sha256="0" * 64,
        )
    return photo.pk


def routes(m: ModuleType) -> dict[str, Any]:
    def admin_job(persona: str, obj: str | None) -> str | int:
        """Role gate first (403), then the job (404 when missing, like any object)."""
        if persona not in m.ADMINS:
            return 403
        return 404 if obj == m.MISSING else "ok"

    def job_lookup(world: World, key: str) -> uuid.UUID:
        from jobs.models import Job

        job = Job.objects.create(
            kind="care.recompute_county",
            payload={"county": str(world.county.pk)},
            idempotency_key=f"matrix-{uuid.uuid4().hex}",
        )
        return job.pk

    def child(ctx: Any) -> Child:
        return ctx.child or Child.objects.get(pk=ctx.world.children["a1"].pk)

    def visit_data(ctx: Any) -> dict[str, Any]:
        return {
            "submission_key": str(uuid.uuid4()),
            "version": child(ctx).version,
            "visited_on": timezone.localdate().isoformat(),
            "kind": "home",
            "visitor_role": "village_worker",
            "present": "child",
            "notes": "矩阵测试：上门走访",
        }

    def visit_count(ctx: Any) -> Hashable:
        return Visit.objects.filter(child=child(ctx)).count()

    def policy_data(ctx: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "county": str(ctx.world.county.pk),
            "red_days": 7,
            "orange_days": 14,
            "yellow_days": 30,
            "green_days": 60,
            "contact_limit_days": 7,
            "agreement_warning_days": 30,
            "aging_warning_days": 30,
        }
        data.update({f"condition_{code}": colour for code, colour in CarePolicy().conditions.items()})
        return data

    def policy_state(ctx: Any) -> Hashable:
        return CarePolicy.objects.filter(county=ctx.world.county).values_list("green_days", flat=True).first()

    def name(ctx: Any) -> str:
        return ctx.child.name if ctx.child else ""

    return {
        "care:visit_list": m.Route("child", (m.GET(m.visible, shows=name),)),
        "care:visit_new": m.Route(
            "child",
            (
                m.GET(visitable, shows=name),
                m.Op("POST", 302, visitable, visit_data, effect=visit_count),
            ),
            note="editors in scope, plus the assigned social worker and visiting cadre",
        ),
        "care:visit_detail": m.Route("child", (m.GET(m.visible, shows=name),), lookup=_visit),
        "care:visit_photo": m.Route(
            "child", (m.GET(m.visible),), lookup=_photo, note="served only after the child's access check"
        ),
        "care:policy": m.Route(
            None,
            (
                m.GET(policy_reader, shows=lambda ctx: "关爱走访规则"),
                m.Op("POST", 302, m.admin_gate, policy_data, effect=policy_state),
            ),
            note="read by every data role; changed by the county admin only",
        ),
        "care:job": m.Route("job", (m.GET(admin_job),), lookup=job_lookup),
    }
