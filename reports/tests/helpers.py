"""Helpers of the reports tests: form data, reports made through the services, units."""

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone

from accounts.models import Role, RoleGrant, User
from geo.models import Region, Unit, UnitKind
from registry.models import Child
from reports import services
from reports.models import Report
from testing.world import World, make_user

DESCRIPTION = "孩子独自在家三天，身上有多处淤青"
PLACE = "甲一村村委会旁小卖部"


def grant_of(user: User) -> RoleGrant:
    return RoleGrant.objects.filter(user=user, active=True).select_related("unit").first()  # type: ignore[return-value]


def form_data(user: User, **overrides: Any) -> dict[str, Any]:
    """A complete filing POST (a known child must be given as child=…)."""
    data: dict[str, Any] = {
        "action": "file",
        "submission_key": str(uuid.uuid4()),
        "q": "",
        "triggers": ["living_alone", "violence_injury"],
        "found_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "found_place": PLACE,
        "description": DESCRIPTION,
        "grant": str(grant_of(user).pk),
        "unknown_sex": "unknown",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def bureau(world: World, with_officer: bool = True) -> Unit:
    """The county police bureau (and its duty officer `bureau_police`)."""
    unit, _ = Unit.objects.get_or_create(
        name="合浦县公安局", region=world.county, defaults={"kind": UnitKind.POLICE_BUREAU}
    )
    if with_officer and not User.objects.filter(username="bureau_police").exists():
        world.users["bureau_police"] = make_user("bureau_police", Role.POLICE, unit)
    return unit


def station(world: World, name: str = "党江派出所", serves: Region | None = None) -> Unit:
    """Another police station of the county (serving township_b unless told otherwise)."""
    unit, _ = Unit.objects.get_or_create(
        name=name, region=world.township_b, defaults={"kind": UnitKind.POLICE_STATION}
    )
    unit.serves.add(serves or world.township_b)
    return unit


def file(world: World, key: str = "a1", reporter: str = "school_staff", **overrides: Any) -> Report:
    """A report filed through the service (routed at once)."""
    user = world.users[reporter]
    child: Child | None = world.children[key] if key else None
    values: dict[str, Any] = {
        "submission_key": uuid.uuid4(),
        "grant": grant_of(user),
        "triggers": ["living_alone"],
        "found_at": timezone.now() - dt.timedelta(minutes=10),
        "found_place": PLACE,
        "description": DESCRIPTION,
        "child": child,
    }
    values.update(overrides)
    report, _ = services.report_file(user=user, data=services.ReportData(**values))
    return report


def fresh(report: Report) -> Report:
    return Report.objects.select_related("routed_unit", "township", "county").get(pk=report.pk)
