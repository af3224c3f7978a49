"""The reports tests run on a pinned clock that moves only when a test shifts it (response
times are counted in minutes)."""

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from testing.world import World, build_world

NOW = dt.datetime(2028, 2, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db: Any, clock: Any) -> World:
    """The persona world, built on the pinned clock (overrides the root fixture)."""
    return build_world()
