"""One case, one timeline (issue 5 item 9): each app of the rescue mechanism turns its rows into
TimelineEvent values; cases.selectors merges them for a report (and so for a child's file).

Who may see the timeline is decided before it is built (reports/access.py): these functions take
a report the caller has already fetched through the access layer.
"""

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class TimelineEvent:
    at: dt.datetime  # aware; a date-only fact uses the start of that day in the local zone
    stage: str  # "report" 报告 / "response" 应急处置 / "assessment" 评估帮扶 / "intervention" 监护干预
    label: str  # what happened, in Chinese, without ID or phone numbers
    who: str = ""  # the user's full name and/or unit name
    detail: str = ""  # a short line more (a reason, a due date)
    date_only: bool = False  # `at` is the start of the day: show the date alone


STAGES = {
    "report": "强制报告",
    "response": "应急处置",
    "assessment": "评估帮扶",
    "intervention": "监护干预",
}
