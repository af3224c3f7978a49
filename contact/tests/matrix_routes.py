"""Permission-matrix rows of the contact app, read by core/tests/test_permission_matrix.py.

Recording notices and contacts and marking a parent 失联 change the child's file: only the
personas who may change it, in their scope; everyone else gets 404 as for a missing file.
"""

import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from django.utils import timezone

from contact.models import ParentContact, ParentNotice
from registry.models import Child, Parent
from testing.world import World


def _father(world: World, key: str) -> dict[str, Any]:
    return {"child_id": world.children[key].pk, "role": "father"}


def _contact(world: World, key: str) -> uuid.UUID:
    """A fresh contact of the child per case, so that each allowed void has something to void."""
    contact = ParentContact.objects.create(
        child_id=world.children[key].pk,
        contacted_on=timezone.localdate(),
        kind="phone",
        with_whom="both",
        submission_key=uuid.uuid4(),
    )
    return contact.pk


def _notice(world: World, key: str) -> uuid.UUID:
    child_id = world.children[key].pk
    notice = ParentNotice.objects.create(
        child_id=child_id,
        parent=Parent.objects.get(child_id=child_id, role="father"),
        notified_on=timezone.localdate(),
        channel="phone",
        new_phone="13812345670",
    )
    return notice.pk


def routes(m: ModuleType) -> dict[str, Any]:
    def child(ctx: Any) -> Child:
        return ctx.child or Child.objects.get(pk=ctx.world.children["a1"].pk)

    def name(ctx: Any) -> str:
        return ctx.child.name if ctx.child else ""

    def today() -> str:
        return timezone.localdate().isoformat()

    def notice_data(ctx: Any) -> dict[str, Any]:
        return {
            "role": "father",
            "notified_on": today(),
            "channel": "phone",
            "told_village": "on",
            "new_phone": "13812345670",
        }

    def notice_count(ctx: Any) -> Hashable:
        return ParentNotice.objects.filter(child=child(ctx)).count()

    def contact_data(ctx: Any) -> dict[str, Any]:
        return {
            "submission_key": str(uuid.uuid4()),
            "contacted_on": today(),
            "kind": "video",
            "with_whom": "both",
            "duration_minutes": 12,
        }

    def contact_count(ctx: Any) -> Hashable:
        return ParentContact.objects.filter(child=child(ctx)).count()

    def unreachable_data(ctx: Any) -> dict[str, Any]:
        return {"unreachable": "1", "on": today(), "reason": "矩阵测试：电话、微信均联系不上"}

    def father_unreachable(ctx: Any) -> Hashable:
        return Parent.objects.get(child=child(ctx), role="father").unreachable

    def void_data(ctx: Any) -> dict[str, Any]:
        return {"reason": "矩阵测试：录错"}

    def contacts_voided(ctx: Any) -> Hashable:
        return ParentContact.objects.filter(child=child(ctx), voided_at__isnull=False).count()

    def notices_voided(ctx: Any) -> Hashable:
        return ParentNotice.objects.filter(child=child(ctx), voided_at__isnull=False).count()

    return {
        "contact:contact_void": m.Route(
            "child",
            (
                m.GET(m.writable, shows=name),
                m.Op("POST", 302, m.writable, void_data, effect=contacts_voided),
            ),
            lookup=_contact,
            note="the contact's child decides: the editors in scope",
        ),
        "contact:notice_void": m.Route(
            "child",
            (
                m.GET(m.writable, shows=name),
                m.Op("POST", 302, m.writable, void_data, effect=notices_voided),
            ),
            lookup=_notice,
            note="the notice's child decides: the editors in scope",
        ),
        "contact:notice_new": m.Route(
            "child",
            (m.GET(m.writable, shows=name), m.Op("POST", 302, m.writable, notice_data, effect=notice_count)),
        ),
        "contact:contact_new": m.Route(
            "child",
            (
                m.GET(m.writable, shows=name),
                m.Op("POST", 302, m.writable, contact_data, effect=contact_count),
            ),
        ),
        "contact:reachability": m.Route(
            "child",
            (
                m.GET(m.writable, shows=name),
                m.Op("POST", 302, m.writable, unreachable_data, effect=father_unreachable),
            ),
            lookup=_father,
            note="the parent by role (father/mother) after the child's write check",
        ),
    }
