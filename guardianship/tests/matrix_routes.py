"""Permission-matrix rows of the guardianship app, read by core/tests/test_permission_matrix.py.

Agreements belong to a child: their pages answer like the child's file (404 outside the
scope, for writes outside children_editable_by()). The county's template is the county
admin's alone (403 for everyone else).
"""

import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from guardianship.models import AgreementTemplate, DutyAcknowledgement, GuardianshipAgreement
from guardianship.rules import period_end
from guardianship.services import agreement_template_ensure
from registry.models import Child, EntrustedGuardian
from testing.world import World

# A 1×1 PNG: the scan served by the matrix's agreement.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _agreement(world: World, key: str) -> uuid.UUID:
    """The child's first agreement (a draft, with a scan), made on demand."""
    from core.storage import private_storage

    child = Child.objects.select_related("county").get(pk=world.children[key].pk)
    agreement = GuardianshipAgreement.objects.filter(child=child).first()
    if agreement is None:
        guardian = EntrustedGuardian.objects.filter(child=child).first()
        template = agreement_template_ensure(county=child.county)
        name = f"agreements/matrix-{key}.png"
        if not private_storage.exists(name):
            private_storage.save(name, ContentFile(PNG))
        today = timezone.localdate()
        agreement = GuardianshipAgreement.objects.create(
            child=child,
            guardian=guardian,
            guardian_name=guardian.name if guardian else "矩阵监护人",
            guardian_relation="祖母",
            child_name=child.name,
            template=template,
            template_version=template.version,
            title="委托监护确认书",
            text=f"被委托监护儿童：{child.name}",
            duties="矩阵测试责任清单",
            valid_from=today,
            valid_until=period_end(today, 12),
            scan=name,
            scan_kind="png",
        )
    return agreement.pk


def routes(m: ModuleType) -> dict[str, Any]:
    def child(ctx: Any) -> Child:
        return ctx.child or Child.objects.get(pk=ctx.world.children["a1"].pk)

    def name(ctx: Any) -> str:
        return ctx.child.name if ctx.child else ""

    def eligible_guardian(ctx: Any) -> None:
        """The shared world's guardians have an empty checklist: confirm it, so that an
        allowed persona can generate."""
        if ctx.child is not None:
            EntrustedGuardian.objects.filter(child=ctx.child).update(
                **dict.fromkeys(EntrustedGuardian.CHECKLIST, True),
                assessed_by="矩阵评估人",
                assessed_on=timezone.localdate(),
            )

    def period(ctx: Any) -> dict[str, Any]:
        return {"valid_from": timezone.localdate().isoformat(), "term_months": 12, "valid_until": ""}

    def agreement_count(ctx: Any) -> Hashable:
        return GuardianshipAgreement.objects.filter(child=child(ctx)).count()

    def statuses(ctx: Any) -> Hashable:
        return tuple(GuardianshipAgreement.objects.filter(child=child(ctx)).values_list("status", flat=True))

    def sign_data(ctx: Any) -> dict[str, Any]:
        return {"signed_on": timezone.localdate().isoformat()}

    def ack_data(ctx: Any) -> dict[str, Any]:
        return {"role": "guardian", "acknowledged_on": timezone.localdate().isoformat()}

    def ack_count(ctx: Any) -> Hashable:
        return DutyAcknowledgement.objects.filter(child=child(ctx)).count()

    def template_data(ctx: Any) -> dict[str, Any]:
        template = agreement_template_ensure(county=ctx.world.county)
        return {
            "version": template.version,
            "title": "矩阵测试确认书",
            "body": "委托人：{父亲姓名}；儿童：{儿童姓名}",
            "duties": "一、照料儿童。",
        }

    def template_version(ctx: Any) -> Hashable:
        return (
            AgreementTemplate.objects.filter(county=ctx.world.county)
            .values_list("version", flat=True)
            .first()
        )

    return {
        "guardianship:agreement_new": m.Route(
            "child",
            (
                m.GET(m.writable, shows=name),
                m.Op("POST", 302, m.writable, period, setup=eligible_guardian, effect=agreement_count),
            ),
        ),
        "guardianship:agreement_detail": m.Route("child", (m.GET(m.visible, shows=name),), lookup=_agreement),
        "guardianship:agreement_print": m.Route("child", (m.GET(m.visible, shows=name),), lookup=_agreement),
        "guardianship:agreement_pdf": m.Route("child", (m.GET(m.visible),), lookup=_agreement),
        "guardianship:agreement_sign": m.Route(
            "child", (m.Op("POST", 302, m.writable, sign_data, effect=statuses),), lookup=_agreement
        ),
        "guardianship:agreement_scan": m.Route(
            "child",
            (m.GET(m.visible), m.Op("POST", 400, m.writable)),
            lookup=_agreement,
            note="GET serves the stored scan after the child's access check; a POST without a file "
            "reaches the form (400, 请选择要上传的文件) only for those who may change the child",
        ),
        "guardianship:duty_ack": m.Route(
            "child",
            (m.GET(m.writable, shows=name), m.Op("POST", 302, m.writable, ack_data, effect=ack_count)),
        ),
        "guardianship:template_edit": m.Route(
            None,
            (
                m.GET(m.admin_gate, shows=lambda ctx: "委托监护协议模板"),
                m.Op("POST", 302, m.admin_gate, template_data, effect=template_version),
            ),
            note="the county admin's county; everyone else 403",
        ),
    }
