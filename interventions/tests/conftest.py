"""The interventions tests run on a pinned clock: 2028-03-15, a leap year, so that a refusal
that began on 2027-09-15 reaches six months today and one from 2027-08-31 did on 2028-02-29."""

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from testing.world import World

TODAY = dt.date(2028, 3, 15)
NOW = dt.datetime(2028, 3, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(scope="module")
def world_built_at() -> dt.datetime:
    """The module's persona world is built on the pinned day (see the root conftest)."""
    return NOW


@pytest.fixture
def world(world: World, clock: Any) -> World:
    """The persona world with the pinned clock running for the test (overrides the root
    fixture, so `login` uses this one too)."""
    return world
