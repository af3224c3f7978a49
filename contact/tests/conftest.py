"""The contact tests run on a pinned clock (contact limits count days)."""

import datetime as dt
from zoneinfo import ZoneInfo

from testing.clock import pinned_clock

TODAY = dt.date(2028, 2, 25)  # a leap year
NOW = dt.datetime(2028, 2, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


clock, world_built_at, world = pinned_clock(NOW)
