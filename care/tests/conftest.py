"""The care tests run on a pinned clock (dates matter): the world is built on TODAY."""

import datetime as dt
from zoneinfo import ZoneInfo

from testing.clock import pinned_clock

TODAY = dt.date(2028, 2, 25)  # a leap year: the next visits cross 29 February
NOW = dt.datetime(2028, 2, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


clock, world_built_at, world = pinned_clock(NOW)
