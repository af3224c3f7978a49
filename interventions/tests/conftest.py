"""The interventions tests run on a pinned clock: 2028-03-15, a leap year, so that a refusal
that began on 2027-09-15 reaches six months today and one from 2027-08-31 did on 2028-02-29."""

import datetime as dt
from zoneinfo import ZoneInfo

from testing.clock import pinned_clock

TODAY = dt.date(2028, 3, 15)
NOW = dt.datetime(2028, 3, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


clock, world_built_at, world = pinned_clock(NOW)
