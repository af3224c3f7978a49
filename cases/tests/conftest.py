"""The cases tests run on a pinned clock (due dates and overdue counts are counted in days)."""

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from testing.world import World, build_world

NOW = dt.datetime(2028, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def world(db: Any, clock: Any) -> World:
    """The persona world, built on the pinned day (overrides the root fixture)."""
    return build_world()
