"""The schooling tests run on a pinned clock (dates of absence, attempts and due dates)."""

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from testing.world import World, build_world

TODAY = dt.date(2028, 2, 25)
NOW = dt.datetime(2028, 2, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def world(db: Any, clock: Any) -> World:
    """The persona world, built on the pinned day (overrides the root fixture)."""
    return build_world()
