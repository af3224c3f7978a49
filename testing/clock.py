"""The fixtures of an app whose tests run on a pinned clock (dates matter: visits due,
agreements expiring, response times).

    clock, world_built_at, world = pinned_clock(NOW)

in the app's tests/conftest.py gives:

- `clock`: the time_machine traveller, at NOW (moving on with `tick`, or only when a test
  shifts it);
- `world_built_at`: NOW for the root conftest, which builds the module's persona world just
  before it;
- `world`: the root fixture's world with the clock running for the test (so `login`, which
  takes `world`, runs on the clock too).
"""

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from testing.world import World


def pinned_clock(now: dt.datetime, *, tick: bool = True) -> tuple[Any, Any, Any]:
    @pytest.fixture
    def clock() -> Iterator[Any]:
        with time_machine.travel(now, tick=tick) as traveller:
            yield traveller

    @pytest.fixture(scope="module")
    def world_built_at() -> dt.datetime:
        return now

    @pytest.fixture
    def world(world: World, clock: Any) -> World:
        return world

    return clock, world_built_at, world
