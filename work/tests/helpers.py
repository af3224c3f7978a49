"""Test helpers: set the derived care columns of a file directly (the care app's services are
not the subject of these tests) and make files of a given kind."""

import datetime as dt
from typing import Any

from django.utils import timezone

from registry import rules
from registry.models import Child, Parent
from testing.world import World, make_child

BASELINE: dict[str, Any] = {
    "risk_colour": "green",
    "agreement_required": False,
    "agreement_valid_until": None,
    "last_visit_on": None,
}


def today() -> dt.date:
    return timezone.localdate()


def set_care(child: Child, **values: Any) -> Child:
    Child.objects.filter(pk=child.pk).update(**values)
    child.refresh_from_db()
    return child


def quiet(world: World) -> None:
    """Every file of the world with nothing to do: green, due in 60 days, contact today."""
    on = today()
    Child.objects.update(**BASELINE, next_visit_due=on + dt.timedelta(days=60), last_parent_contact_on=on)


def child(world: World, village: Any, name: str, **care: Any) -> Child:
    made = make_child(
        village,
        world.users["county_admin"],
        name=name,
        birth_date=care.pop("birth_date", None) or dt.date(2015, 6, 1),
    )
    on = today()
    values = {**BASELINE, "next_visit_due": on + dt.timedelta(days=60), "last_parent_contact_on": on, **care}
    return set_care(made, **values)


def turning_16_in(days: int) -> dt.date:
    """A birth date whose 16th birthday is `days` from today (negative: already passed)."""
    return rules.add_years(today() + dt.timedelta(days=days), -16)


def unreachable(child_obj: Child, role: str = "father") -> None:
    Parent.objects.filter(child=child_obj, role=role).update(unreachable=True, unreachable_since=today())
