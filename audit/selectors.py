"""Reads of the audit trail: the query page, the per-child log (LG-6), alerts (OP-2) and
the periodic access report (DP-7)."""

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Count, Max, Min, Q, QuerySet
from django.http import Http404

from accounts.models import Role, User
from audit.models import CHILD_ACCESS_EVENTS, Alert, AuditEvent, EventType
from registry.access import access_child, active_grants, user_roles
from registry.models import Child

# What "who looked at this child" shows: reads, writes, break-the-glass and refusals.
CHILD_LOG_EVENTS = frozenset({*CHILD_ACCESS_EVENTS, EventType.DENIED})


def access_log_entries(
    *,
    username: str = "",
    action: str = "",
    outcome: str = "",
    object_id: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    entries = AuditEvent.objects.all()
    if username:
        entries = entries.filter(username=username)
    if action:
        entries = entries.filter(action=action)
    if outcome:
        entries = entries.filter(outcome=outcome)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if since:
        entries = entries.filter(at__date__gte=since)
    if until:
        entries = entries.filter(at__date__lte=until)
    return entries


def child_access_entries(
    *, child: Child, username: str = "", since: dt.date | None = None, until: dt.date | None = None
) -> QuerySet[AuditEvent]:
    entries = access_log_entries(username=username, object_id=str(child.pk), since=since, until=until)
    return entries.filter(object_type="child", action__in=CHILD_LOG_EVENTS)


def audited_child(user: User, child_id: uuid.UUID) -> Child:
    """The file whose access log `user` asks for, as its id and file number only (the
    auditor reads no child file). County admins: within their scope, via the access layer;
    auditors: any file. Http404 otherwise."""
    if Role.AUDITOR in user_roles(user):
        child = Child.objects.only("id", "file_no").filter(pk=child_id).first()
        if child is None:
            raise Http404("未找到该档案")
        return child
    return access_child(user, child_id)


def alerts_visible_to(user: User) -> QuerySet[Alert]:
    roles = user_roles(user)
    alerts = Alert.objects.select_related("child")
    if roles & {Role.SECURITY_ADMIN, Role.AUDITOR}:
        return alerts
    scopes = [
        Q(recipient_roles__contains=f" {grant.role} ", region__code__startswith=grant.scope_region.code)
        for grant in active_grants(user)
        if grant.role in (Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR)
    ]
    if not scopes:
        return alerts.none()
    return alerts.filter(reduce(or_, scopes))


@dataclass
class ReportRow:
    username: str
    roles: str
    child_id: str
    file_no: str
    count: int
    first: dt.datetime
    last: dt.datetime
    actions: Counter[str] = field(default_factory=Counter)

    def action_summary(self) -> str:
        labels = dict(EventType.choices)
        order = {code: i for i, code in enumerate(labels)}
        counts = sorted(self.actions.items(), key=lambda item: order.get(item[0], len(order)))
        return "、".join(f"{labels.get(code, code)} {n}" for code, n in counts)


def access_report(*, since: dt.date, until: dt.date) -> list[ReportRow]:
    """Who accessed which child between two dates (inclusive, local time): one row per
    user and file, with counts per event type. File numbers only, no child's name."""
    grouped = (
        AuditEvent.objects.filter(
            object_type="child",
            action__in=CHILD_ACCESS_EVENTS,
            at__date__gte=since,
            at__date__lte=until,
        )
        .exclude(object_id="")
        .values("username", "object_id", "action")
        .annotate(n=Count("id"), first=Min("at"), last=Max("at"), roles=Max("roles"))
        .order_by()
    )
    rows: dict[tuple[str, str], ReportRow] = {}
    for item in grouped:
        key = (item["username"], item["object_id"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = ReportRow(
                item["username"], item["roles"], item["object_id"], "", 0, item["first"], item["last"]
            )
        row.count += item["n"]
        row.first, row.last = min(row.first, item["first"]), max(row.last, item["last"])
        row.actions[item["action"]] += item["n"]
    _add_file_numbers(list(rows.values()))
    return sorted(rows.values(), key=lambda r: (r.file_no, r.username))


def _add_file_numbers(rows: list[ReportRow]) -> None:
    ids = set()
    for row in rows:
        try:
            ids.add(uuid.UUID(row.child_id))
        except ValueError:
            continue
    numbers = {str(pk): no for pk, no in Child.objects.filter(pk__in=ids).values_list("pk", "file_no")}
    for row in rows:
        row.file_no = numbers.get(row.child_id, "")
