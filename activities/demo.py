"""Demo care activities (演示数据) in 廉州镇, so that the activities pages, the services list of a
file and the "no service" work list open on a believable state.

- the demo children's home (a unit of kind 儿童之家 in the demo village, made by the providers
  demo; skipped when there is none): last week's homework club with the children assigned to
  the home, most of them attended, and next week's session, not yet held;
- the township's safety-education session of last month for key children of the demo village;
- a family-education talk for guardians, with guardians and volunteers.

Written through the services, as the demo accounts (the village worker, the township
supervisor): each row has its history and audit row. Called by ``manage.py seed_demo``.
"""

import datetime as dt
import decimal
from typing import Any

from accounts.models import Role, RoleGrant, User
from activities import services
from activities.models import Activity, AdultRelation, TargetGroup
from geo.models import Region, Unit, UnitKind
from providers.choices import ServiceKind
from registry import choices as rc
from registry.models import Child, UnitAssignment

DEMO_NOTE = "（演示数据）"
KEY_CHILDREN = 8
GUARDIANS = (
    ("王秀英", AdultRelation.GUARDIAN),
    ("李桂兰", AdultRelation.GUARDIAN),
    ("陈建华", AdultRelation.FATHER),
)
OUTCOMES = ("按时完成作业", "朗读有进步", "")


def _grant(role: str) -> RoleGrant | None:
    return (
        RoleGrant.objects.filter(user__username=f"demo_{role}", role=role, active=True)
        .select_related("user", "unit", "region", "unit__region")
        .first()
    )


def _activity(user: User, organiser: Unit, village: Region, **values: Any) -> Activity:
    township = village.parent
    assert township is not None and township.parent is not None
    base = {
        "organiser": organiser,
        "provider": None,
        "county": township.parent,
        "township": township,
        "village": village,
        "target_group": TargetGroup.CHILDREN,
        "note": DEMO_NOTE,
    }
    return services.activity_create(user=user, values={**base, **values})


def _attend(user: User, activity: Activity, children: list[Child], absent: int = 0) -> None:
    services.participants_add(user=user, activity=activity, children=children)
    rows = list(activity.participations.order_by("child__file_no"))
    marks = [
        services.Mark(participation=row, attended=index >= absent, outcome=OUTCOMES[index % len(OUTCOMES)])
        for index, row in enumerate(rows)
    ]
    services.attendance_record(user=user, activity=activity, marks=marks)


def _home_sessions(user: User, village: Region, on: dt.date) -> int:
    home = Unit.objects.filter(kind=UnitKind.CHILDRENS_HOME, region=village, active=True).first()
    if home is None:
        return 0
    assigned = UnitAssignment.objects.filter(unit=home, active=True).values("child_id")
    children = list(Child.objects.filter(pk__in=assigned, status=rc.Status.ACTIVE).order_by("file_no"))
    held = _activity(
        user,
        home,
        village,
        kind=ServiceKind.HOMEWORK_CLUB,
        title="儿童之家课后作业辅导",
        provider=home,
        place=home.name,
        held_on=on - dt.timedelta(days=7),
    )
    _attend(user, held, children, absent=1 if len(children) > 2 else 0)
    upcoming = _activity(
        user,
        home,
        village,
        kind=ServiceKind.HOMEWORK_CLUB,
        title="儿童之家课后作业辅导",
        provider=home,
        place=home.name,
        held_on=on + dt.timedelta(days=7),
    )
    services.participants_add(user=user, activity=upcoming, children=children)
    return 2


def demo_activities_create(*, on: dt.date) -> int:
    """The demo activities; returns how many were made (0 without the demo accounts)."""
    worker, supervisor = _grant(Role.VILLAGE_WORKER), _grant(Role.TOWNSHIP_SUPERVISOR)
    if worker is None or worker.scope_region.parent is None:
        return 0
    village = worker.scope_region
    made = _home_sessions(worker.user, village, on)
    key_children = list(
        Child.objects.filter(village=village, status=rc.Status.ACTIVE, is_key=True).order_by("file_no")[
            :KEY_CHILDREN
        ]
    )
    if supervisor is not None:
        safety = _activity(
            supervisor.user,
            supervisor.unit,
            village,
            kind=ServiceKind.SAFETY_EDUCATION,
            title="暑期防溺水安全教育",
            place=f"{village.name}文化室",
            held_on=on - dt.timedelta(days=30),
        )
        _attend(supervisor.user, safety, key_children[: KEY_CHILDREN // 2], absent=1)
        made += 1
    talk = _activity(
        worker.user,
        worker.unit,
        village,
        kind=ServiceKind.FAMILY_EDUCATION,
        title="隔代教养家庭教育讲座",
        place=f"{village.name}村委会会议室",
        held_on=on - dt.timedelta(days=14),
        target_group=TargetGroup.FAMILIES,
    )
    _attend(worker.user, talk, key_children[KEY_CHILDREN // 2 :])
    for name, relation in GUARDIANS:
        services.adult_add(user=worker.user, activity=talk, name=name, relation=relation, child=None)
    services.volunteer_add(
        user=worker.user, activity=talk, name="黄志强", team="合浦县青年志愿者协会", hours=decimal.Decimal(3)
    )
    return made + 1
