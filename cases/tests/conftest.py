"""The cases tests run on a pinned clock (due dates and overdue counts are counted in days)."""

import datetime as dt
from zoneinfo import ZoneInfo

from testing.clock import pinned_clock

NOW = dt.datetime(2028, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()


clock, world_built_at, world = pinned_clock(NOW)
