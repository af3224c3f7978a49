"""Demo training (seed_demo): two sessions of the demo county this year, attended by some of
the demo accounts, so that the no-training list has both kinds of worker."""

import datetime as dt
from decimal import Decimal

from accounts.models import Role, User
from geo.models import Region, Unit, UnitKind
from training.services import SessionData, training_attendees_add, training_session_create


def demo_training_create(*, on: dt.date) -> int:
    """The sessions made (0 when the demo county admin is missing)."""
    admin = User.objects.filter(username="demo_county_admin").first()
    county_code = admin.grants.values_list("unit__region__code", flat=True).first() if admin else None
    county = Region.objects.filter(code=county_code, valid_to__isnull=True).first() if county_code else None
    organiser = Unit.objects.filter(kind=UnitKind.CIVIL_AFFAIRS, region=county).first() if county else None
    if admin is None or county is None or organiser is None:
        return 0
    held = max(on.replace(month=1, day=10), on - dt.timedelta(days=60)) if on.month > 1 else on
    sessions = (
        (
            SessionData(
                topic="农村留守儿童关爱保护政策与信息台账填报",
                held_on=held,
                hours=Decimal("6"),
                organiser=organiser,
                audience=[Role.VILLAGE_WORKER, Role.TOWNSHIP_SUPERVISOR],
                trainer="县民政局儿童福利股",
                place="县民政局会议室",
            ),
            ("demo_village_worker", "demo_township_supervisor"),
        ),
        (
            SessionData(
                topic="强制报告制度与儿童心理辅导基础",
                held_on=held,
                hours=Decimal("3"),
                organiser=organiser,
                audience=[Role.SCHOOL_STAFF, Role.SOCIAL_WORKER],
                trainer="县社会工作服务站",
                place="廉州镇中心小学",
            ),
            ("demo_school_staff",),
        ),
    )
    for data, usernames in sessions:
        session = training_session_create(user=admin, county=county, data=data)
        training_attendees_add(
            user=admin, session=session, workers=list(User.objects.filter(username__in=usernames))
        )
    return len(sessions)
