"""A demo reporting round (演示数据) for `manage.py seed_demo`: the county admin opens this
month's 月报, the demo village submits its ledger and the demo township supervisor approves it,
so that 审核报送 shows a round in progress at every level (the other villages have not
submitted yet). Made through the services, as users would: snapshots, notifications, history and
audit rows are the real ones.
"""

import datetime as dt

from accounts.models import Role, RoleGrant
from submissions import services
from submissions.models import RoundKind, VillageSubmission

DEMO = "（演示数据）"


def _grant(role: str) -> RoleGrant | None:
    return (
        RoleGrant.objects.filter(user__username=f"demo_{role}", role=role, active=True)
        .select_related("user", "unit__region", "region")
        .first()
    )


def demo_round_create(*, on: dt.date) -> int:
    """Open the demo round and move the demo village through it; returns the number of files
    in the village's snapshot (0 when the demo accounts are missing)."""
    admin, worker, supervisor = (
        _grant(Role.COUNTY_ADMIN),
        _grant(Role.VILLAGE_WORKER),
        _grant(Role.TOWNSHIP_SUPERVISOR),
    )
    if admin is None or worker is None or supervisor is None:
        return 0
    county, village = admin.scope_region, worker.scope_region
    round_ = services.round_open(
        user=admin.user,
        county=county,
        kind=RoundKind.MONTHLY,
        title=f"{on.year}年{on.month}月农村留守儿童信息月报{DEMO}",
        reference_date=on,
        due_date=on + dt.timedelta(days=10),
    )
    submission = VillageSubmission.objects.get(round=round_, village=village)
    submission = services.village_submission_submit(
        user=worker.user, submission=submission, note=f"本月新增、退出已核对。{DEMO}", confirmed=True
    )
    services.village_submission_approve(
        user=supervisor.user, submission=submission, comment=f"审核通过。{DEMO}"
    )
    return submission.files
