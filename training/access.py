"""Who sees and does what with training (业务培训). The one access layer of this app.

- County admins (县民政管理员) record the county's sessions and their attendees and read
  everything of the county: sessions, the workers' histories, the no-training list.
- County officers (县直部门工作人员) read the same, and change nothing.
- Township supervisors (儿童督导员) read the county's sessions; the no-training list and the
  workers' histories only for the workers of their township (a worker grant whose region,
  or whose unit's region, lies in the township).
- Every worker (training.selectors.WORKER_ROLES) reads their own history (/training/me/).
- Everybody else (police, reporters, the 三员, users without a grant): 403 on every page.

The role gate comes first (403, whatever the id); then a session of another county, or a
worker outside the reader's scope, answers 404 exactly as a missing one (with a denial row
in the audit trail); then a write by a reader who may not record answers 403.
"""

import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Role, User
from audit.services import object_access_denied
from geo.models import Region, RegionLevel, Unit
from registry.access import active_grants
from training.models import Attendance, TrainingSession

COUNTY_CODE_LENGTH = 6
TOWNSHIP_CODE_LENGTH = 9
# The roles whose people count as workers: they are trained, and listed when they were not.
WORKER_ROLES = frozenset(
    {
        Role.VILLAGE_WORKER,
        Role.TOWNSHIP_SUPERVISOR,
        Role.SCHOOL_STAFF,
        Role.VISITING_CADRE,
        Role.SOCIAL_WORKER,
        Role.PROVIDER_STAFF,
        Role.COUNTY_OFFICER,
    }
)
COUNTY_READERS = frozenset({Role.COUNTY_ADMIN, Role.COUNTY_OFFICER})
RECORDERS = frozenset({Role.COUNTY_ADMIN})

NO_ACCESS = "您没有查看业务培训的权限。"
NO_RECORD = "只有县民政管理员可以登记和修改业务培训。"
NOT_WORKER = (
    "只有儿童主任、儿童督导员、教师、驻村干部、社会工作者、服务机构工作人员和县直部门工作人员有培训记录。"
)
SESSION_NOT_FOUND = "未找到该培训"
WORKER_NOT_FOUND = "未找到该人员"


@dataclass
class Scope:
    """What a reader covers: per county code, the county and whether it is covered whole
    (county admin, county officer) or by some of its townships only (supervisors)."""

    counties: dict[str, Region] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)  # county codes read whole
    townships: dict[str, Region] = field(default_factory=dict)  # township code → township
    recorder: set[str] = field(default_factory=set)  # county codes the user records for

    def region_codes(self) -> list[str]:
        """The code prefixes of the workers this reader sees: whole counties, then the
        townships of the counties not read whole."""
        codes = sorted(self.whole)
        codes += [code for code in sorted(self.townships) if code[:COUNTY_CODE_LENGTH] not in self.whole]
        return codes

    def label(self) -> str:
        """The counties read whole and the other townships, by name."""
        names = [self.counties[code].name for code in sorted(self.whole)]
        names += [
            t.name
            for code, t in sorted(self.townships.items())
            if code[:COUNTY_CODE_LENGTH] not in self.whole
        ]
        return "、".join(names)

    def covers(self, code: str) -> bool:
        return any(code.startswith(prefix) for prefix in self.region_codes())

    @property
    def county_wide(self) -> bool:
        return set(self.counties) == self.whole


def _current(code: str) -> Region | None:
    return Region.objects.filter(code=code, valid_to__isnull=True).first()


def _county_of(region: Region) -> Region | None:
    """The county a grant's region lies in; a grant above county level stands for the
    deployment's county (SHOUHU_COUNTY_CODE), when it covers it."""
    if len(region.code) >= COUNTY_CODE_LENGTH:
        return region if region.level == RegionLevel.COUNTY else _current(region.code[:COUNTY_CODE_LENGTH])
    code = settings.SHOUHU_COUNTY_CODE
    return _current(code) if code.startswith(region.code) else None


def reader_scope(user: User) -> Scope:
    """The reader's scope; PermissionDenied for a user with no reading grant (the role gate)."""
    scope = Scope()
    for grant in active_grants(user):
        region = grant.scope_region
        reads = grant.role in COUNTY_READERS or grant.role == Role.TOWNSHIP_SUPERVISOR
        county = _county_of(region) if reads else None
        if county is None:
            continue
        scope.counties[county.code] = county
        if grant.role in COUNTY_READERS:
            scope.whole.add(county.code)
            if grant.role in RECORDERS:
                scope.recorder.add(county.code)
        elif len(region.code) >= TOWNSHIP_CODE_LENGTH:
            code = region.code[:TOWNSHIP_CODE_LENGTH]
            township = region if region.level == RegionLevel.TOWNSHIP else _current(code)
            if township is not None:
                scope.townships[township.code] = township
    if not scope.counties:
        raise PermissionDenied(NO_ACCESS)
    return scope


def can_read(user: User) -> bool:
    try:
        reader_scope(user)
    except PermissionDenied:
        return False
    return True


def is_worker(user: User) -> bool:
    return any(grant.role in WORKER_ROLES for grant in active_grants(user))


def require_worker(user: User) -> None:
    if not is_worker(user):
        raise PermissionDenied(NOT_WORKER)


def recorded_county(user: User) -> Region:
    """The county a county admin records sessions for (the first one); others: 403."""
    scope = reader_scope(user)
    for code in sorted(scope.recorder):
        return scope.counties[code]
    raise PermissionDenied(NO_RECORD)


def sessions_visible_to(scope: Scope) -> QuerySet[TrainingSession]:
    return TrainingSession.objects.filter(county__code__in=list(scope.counties))


def _deny(user: User, object_type: str, object_id: object) -> None:
    object_access_denied(user=user, object_type=object_type, object_id=object_id)


def access_session(user: User, session_id: uuid.UUID | str, *, for_write: bool = False) -> TrainingSession:
    """The session, if the user may read it (and record it, with for_write): a non-reader
    gets 403; a session of another county 404 as a missing one; a reader who may not record
    403 on a write."""
    scope = reader_scope(user)
    try:
        session = (
            sessions_visible_to(scope).select_related("county", "organiser", "created_by").get(pk=session_id)
        )
    except (TrainingSession.DoesNotExist, ValueError, ValidationError) as exc:
        _deny(user, "training", session_id)
        raise Http404(SESSION_NOT_FOUND) from exc
    if for_write and session.county.code not in scope.recorder:
        raise PermissionDenied(NO_RECORD)
    return session


def access_attendance(session: TrainingSession, attendance_id: uuid.UUID | str) -> Attendance:
    """An attendee row of a session the caller already reached through access_session."""
    try:
        return Attendance.objects.select_related("user").get(pk=attendance_id, session=session)
    except (Attendance.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("未找到该参训记录") from exc


def access_worker(user: User, worker_id: uuid.UUID | str) -> tuple[User, Scope]:
    """A worker in the reader's scope (403 for non-readers, 404 outside, as if missing)."""
    from training.selectors import workers_in

    scope = reader_scope(user)
    try:
        worker = workers_in(scope.region_codes()).get(pk=worker_id)
    except (User.DoesNotExist, ValueError, ValidationError) as exc:
        _deny(user, "training_worker", worker_id)
        raise Http404(WORKER_NOT_FOUND) from exc
    return worker, scope


def organiser_units(county: Region) -> QuerySet[Unit]:
    """The units a session of this county may name as organiser (AC-4: this county's only)."""
    return Unit.objects.filter(active=True, region__code__startswith=county.code).order_by(
        "kind", "region__code", "name"
    )
