from typing import Any

from django.http import HttpRequest

from core.models import demo_loaded

LEVEL_ROLES = frozenset({"county_admin", "county_officer", "township_supervisor", "village_worker"})


def shouhu(request: HttpRequest) -> dict[str, Any]:
    """Navigation: each link only for the roles its page admits (the pages check again)."""
    from accounts.models import User
    from activities.access import can_read as can_read_activities
    from audit.permissions import can_read_alerts, can_read_audit
    from providers.access import can_list as can_read_register
    from registry.access import can_request_emergency_access, user_roles
    from reports.access import may_file_reports
    from schooling.access import Action, can, can_see_hukou
    from training.access import COUNTY_READERS, is_worker

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
            # Issue 7: the providers register (R16); a provider's staff get "我的服务对象".
            nav_providers=can_read_register(user),
            nav_activities=can_read_activities(user),
            # Training: the county's readers and the township supervisor (no query: roles only).
            nav_training=bool(user_roles(user) & (COUNTY_READERS | {"township_supervisor"})),
            nav_my_training=is_worker(user),
        )
    return context
