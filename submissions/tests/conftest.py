"""Fixtures of the submissions tests: the World's county (廉州镇: villages a1 with a village
worker and a2 without; 党江镇: village b1), plus a supervisor for 党江镇, and a client per
persona (logins are complete sign-ins, see the root conftest)."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role, User
from geo.models import Unit, UnitKind
from submissions.models import Round, TownshipSubmission, VillageSubmission
from testing.world import World, make_user

REFERENCE = dt.date(2025, 6, 30)


@pytest.fixture
def supervisor_b(world: World) -> User:
    unit = Unit.objects.create(
        name="党江镇人民政府", kind=UnitKind.TOWNSHIP_GOVERNMENT, region=world.township_b
    )
    return make_user("supervisor_b", Role.TOWNSHIP_SUPERVISOR, unit)


@pytest.fixture
def as_user(world: World) -> Callable[[str | User], Client]:
    """as_user("village_worker") or as_user(some_user): a fresh client signed in as them."""

    def _as(who: str | User) -> Client:
        user = world.users[who] if isinstance(who, str) else who
        client = Client()
        client.force_login(user)
        return client

    return _as


def open_round(client: Client, **overrides: Any) -> Round:
    data = {
        "kind": "quarterly",
        "title": "2025年第二季度留守儿童信息报送",
        "reference_date": REFERENCE.isoformat(),
        "due_date": (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
    }
    data.update(overrides)
    response = client.post("/rounds/new/", data)
    assert response.status_code == 302, response.content.decode()[:500]
    return Round.objects.get(title=data["title"])


def village(round: Round, world: World, key: str) -> VillageSubmission:
    region = {"a1": world.village_a1, "a2": world.village_a2, "b1": world.village_b1}[key]
    return VillageSubmission.objects.get(round=round, village=region)


def township(round: Round, world: World, key: str) -> TownshipSubmission:
    region = {"a": world.township_a, "b": world.township_b}[key]
    return TownshipSubmission.objects.get(round=round, township=region)


def submit_village(client: Client, submission: VillageSubmission, note: str = "已逐户核对") -> Any:
    return client.post(f"/rounds/villages/{submission.pk}/submit/", {"note": note, "confirmed": "on"})


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []
