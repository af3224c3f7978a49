"""The reports tests run on a pinned clock that moves only when a test shifts it (response
times are counted in minutes)."""

import datetime as dt
from zoneinfo import ZoneInfo

from testing.clock import pinned_clock

NOW = dt.datetime(2028, 2, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


clock, world_built_at, world = pinned_clock(NOW, tick=False)
