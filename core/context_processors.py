from typing import Any

from django.http import HttpRequest

from core.models import demo_loaded

LEVEL_ROLES = frozenset({"county_admin", "county_officer", "township_supervisor", "village_worker"})


def shouhu(request: HttpRequest) -> dict[str, Any]:
    """Navigation: each link only for the roles its page admits (the pages check again)."""
    from accounts.models import User
    from audit.permissions import can_read_alerts, can_read_audit
    from registry.access import can_request_emergency_access, user_roles
    from reports.access import may_file_reports
    from schooling.access import Action, can, can_see_hukou

    user = getattr(request, "user", None)
    context: dict[str, Any] = {"SHOUHU_DEMO": demo_loaded()}
    if isinstance(user, User) and user.is_authenticated:
        context.update(
            nav_access_log=can_read_audit(user),
            nav_alerts=can_read_alerts(user),
            nav_emergency=can_request_emergency_access(user),
            nav_roles=sorted(user_roles(user)),
            # Every data role files reports (R17) and may be named on one; the 三员 may not.
            nav_reports=may_file_reports(user),
            nav_dropout=can(user, Action.READ),
            nav_hukou=can_see_hukou(user),
            nav_cases=bool(user_roles(user) & {"county_admin", "township_supervisor"}),
            # Issue 6: the ledger's levels (village → township → county) import, submit and count.
            nav_import=bool(user_roles(user) & {"county_admin", "township_supervisor", "village_worker"}),
            nav_levels=bool(user_roles(user) & LEVEL_ROLES),
        )
    return context
