"""Demo providers (演示数据) for `manage.py seed_demo` (R16): the demo village's 儿童之家 (its
staff account is demo_provider_staff), the county social-work station, a volunteer team of
廉州镇 and the county 妇联 in the register, with their services; and one contract of purchased
services: county civil affairs buys 课后辅导, 心理辅导 and 家庭教育指导 from the social-work
station for 廉州镇 and 党江镇, for the whole of this year.

Registered through the services, as the demo county admin would: history and audit rows are
the real ones. Every description says 演示.
"""

import datetime as dt
import uuid
from decimal import Decimal

from accounts.models import Role, RoleGrant
from geo.models import Region, Unit, UnitKind
from providers import services
from providers.models import Provider
from providers.services import ContractData, ItemData, ProviderData

DEMO = "（演示数据）"
SHOWCASE_TOWNSHIP = "450521100"  # 廉州镇, as registry.demo
SECOND_TOWNSHIP = "450521101"  # 党江镇
VOLUNTEER_TEAM = "廉州镇青年志愿服务队"


def _grant(role: str) -> RoleGrant | None:
    return (
        RoleGrant.objects.filter(user__username=f"demo_{role}", role=role, active=True)
        .select_related("user", "unit__region", "region")
        .first()
    )


def _register(grant: RoleGrant, data: ProviderData, unit: Unit | None = None) -> Provider | None:
    if unit is not None and Provider.objects.filter(unit=unit).exists():
        return None
    return services.provider_register(user=grant.user, data=data, unit=unit)


def demo_providers_create(*, on: dt.date) -> int:
    """Register the demo providers and the contract; returns how many providers were
    registered (0 when the demo accounts are missing or the register is already filled)."""
    admin, staff = _grant(Role.COUNTY_ADMIN), _grant(Role.PROVIDER_STAFF)
    if admin is None or staff is None:
        return 0
    county = admin.scope_region
    township = Region.objects.get(code=SHOWCASE_TOWNSHIP, valid_to__isnull=True)
    home, station, women = (
        staff.unit,
        Unit.objects.filter(kind=UnitKind.SOCIAL_WORK, region=county).order_by("name").first(),
        Unit.objects.filter(kind=UnitKind.WOMENS_FEDERATION, region=county).order_by("name").first(),
    )
    made = [
        _register(
            admin,
            ProviderData(
                name=home.name,
                kind=home.kind,
                region=home.region,
                services=["homework_club", "holiday_care", "family_video", "safety_education"],
                contact_name="陈丽芳",
                contact_phone="0779-7201101",
                address=f"{home.region.name}办公楼一楼",
                description=f"每周二、四下午课后辅导，寒暑假开放假期托管；每月组织一次亲情视频。{DEMO}",
            ),
            home,
        )
    ]
    if station is not None:
        made.append(
            _register(
                admin,
                ProviderData(
                    name=station.name,
                    kind=station.kind,
                    region=county,
                    services=[
                        "counselling",
                        "homework_club",
                        "family_education",
                        "guardianship_guidance",
                        "behaviour_correction",
                        "social_integration",
                        "family_relations",
                    ],
                    contact_name="黄志强",
                    contact_phone="0779-7202202",
                    address="合浦县廉州镇公园路 8 号",
                    description=f"承接县民政局购买的农村留守儿童关爱服务，驻镇社工定期入村。{DEMO}",
                ),
                station,
            )
        )
    # A new unit, with an id derived from its name: the same demo gives the same rows.
    team, _ = Unit.objects.get_or_create(
        name=VOLUNTEER_TEAM,
        region=township,
        defaults={
            "id": uuid.uuid5(uuid.NAMESPACE_URL, f"shouhu-demo:{VOLUNTEER_TEAM}"),
            "kind": UnitKind.VOLUNTEER_TEAM,
        },
    )
    made.append(
        _register(
            admin,
            ProviderData(
                name=team.name,
                kind=team.kind,
                region=township,
                services=["homework_club", "safety_education", "summer_camp"],
                contact_name="林晓",
                contact_phone="0779-7203303",
                description=f"团镇委组织的青年志愿者，寒暑假开展支教和安全教育。{DEMO}",
            ),
            team,
        )
    )
    if women is not None:
        made.append(
            _register(
                admin,
                ProviderData(
                    name=women.name,
                    kind=women.kind,
                    region=county,
                    services=["family_education", "legal_education", "guardianship_guidance"],
                    contact_name="莫秀英",
                    contact_phone="0779-7204404",
                    description=f"指导各村妇女之家、儿童之家，开展家庭教育指导和法治宣传。{DEMO}",
                ),
                women,
            )
        )
    if station is not None:
        _contract(admin, Provider.objects.get(unit=station), on)
    return sum(1 for provider in made if provider is not None)


def _contract(admin: RoleGrant, station: Provider, on: dt.date) -> None:
    if station.contracts.exists():
        return
    townships = list(
        Region.objects.filter(code__in=[SHOWCASE_TOWNSHIP, SECOND_TOWNSHIP], valid_to__isnull=True).order_by(
            "code"
        )
    )
    services.contract_create(
        user=admin.user,
        provider=station,
        purchaser=admin.unit,
        data=ContractData(
            title=f"{on.year} 年农村留守儿童关爱服务项目",
            number=f"HPMZ-{on.year}-001",
            starts_on=dt.date(on.year, 1, 1),
            ends_on=dt.date(on.year, 12, 31),
            amount=Decimal("200000.00"),
            townships=townships,
            items=[
                ItemData("homework_club", planned_sessions=48, planned_children=60),
                ItemData("counselling", planned_sessions=24, planned_children=30),
                ItemData("family_education", planned_sessions=12, planned_children=80),
            ],
            note=f"按季度报送服务台账，年底第三方评估。{DEMO}",
        ),
    )
