"""Who sees and does what in tiered review (审核报送). The one access layer of this app.

- Only four roles take part: county admins (县民政管理员) and county officers (县直部门) of the
  round's county, township supervisors (儿童督导员) of its townships and village workers
  (儿童主任) of its villages. Everyone else gets 403 on every page of the app, whatever the id.
- A round is seen by those four when their grant region lies in the round's county (or
  covers it). Inside a round each level sees its own part: the county every township and
  village, a supervisor the townships of the grant and their villages, a village worker the
  village. Anything else (another county's round, another township's village) answers 404,
  exactly as a missing id does, and leaves a denial row in the audit trail.
- Who may act, among those who see: the county admin opens and cancels rounds and reviews
  townships; the township supervisor reviews the villages of the township and submits the
  township; the village worker submits the village, and the supervisor submits a village that
  has no village worker. A user who sees the object but may not take the action gets 403.
"""

import uuid
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, RoleGrant, User
from audit.services import object_access_denied
from geo.models import Region, RegionLevel
from registry.access import active_grants
from submissions.models import Round, TownshipSubmission, VillageSubmission

NOT_FOUND = "未找到该报送"
NO_ROLE = "只有县民政管理员、县直部门、儿童督导员和儿童主任可以使用审核报送。"
ROLES = frozenset({Role.COUNTY_ADMIN, Role.COUNTY_OFFICER, Role.TOWNSHIP_SUPERVISOR, Role.VILLAGE_WORKER})
COUNTY_ROLES = frozenset({Role.COUNTY_ADMIN, Role.COUNTY_OFFICER})
COUNTY_CODE_LENGTH = 6


def _regions(user: User, roles: frozenset[str]) -> list[Region]:
    return [grant.scope_region for grant in active_grants(user) if grant.role in roles]


def _county_regions(user: User, roles: frozenset[str] = COUNTY_ROLES) -> list[Region]:
    """Scope regions of the county-level grants (a county, or a province or city above it)."""
    return [region for region in _regions(user, roles) if len(region.code) <= COUNTY_CODE_LENGTH]


def _codes_q(field: str, regions: list[Region]) -> Q | None:
    if not regions:
        return None
    return reduce(or_, (Q(**{f"{field}__startswith": region.code}) for region in regions))


def has_role(user: User) -> bool:
    return any(grant.role in ROLES for grant in active_grants(user))


def require_role(user: User) -> None:
    if not has_role(user):
        raise PermissionDenied(NO_ROLE)


def supervised_townships(user: User) -> list[Region]:
    return [
        r for r in _regions(user, frozenset({Role.TOWNSHIP_SUPERVISOR})) if r.level == RegionLevel.TOWNSHIP
    ]


def worked_villages(user: User) -> list[Region]:
    return [r for r in _regions(user, frozenset({Role.VILLAGE_WORKER})) if r.level == RegionLevel.VILLAGE]


def is_county_level(user: User) -> bool:
    return bool(_county_regions(user))


def sees_county(user: User, county: Region) -> bool:
    """Whether a county-level grant (admin or officer) covers this county."""
    return any(county.code.startswith(region.code) for region in _county_regions(user))


def is_county_admin(user: User) -> bool:
    return bool(_county_regions(user, frozenset({Role.COUNTY_ADMIN})))


# --- what the user sees ------------------------------------------------------------------------


def rounds_visible_to(user: User) -> QuerySet[Round]:
    """Rounds of a county the user works in (every list starts here)."""
    county = _codes_q("county__code", _county_regions(user))
    local = [*supervised_townships(user), *worked_villages(user)]
    parts = [q for q in (county,) if q is not None]
    parts += [Q(county__code=region.code[:COUNTY_CODE_LENGTH]) for region in local]
    if not parts:
        return Round.objects.none()
    return Round.objects.filter(reduce(or_, parts))


def township_submissions_visible_to(user: User) -> QuerySet[TownshipSubmission]:
    parts = [q for q in (_codes_q("round__county__code", _county_regions(user)),) if q is not None]
    townships = supervised_townships(user)
    if townships:
        parts.append(Q(township__in=townships))
    if not parts:
        return TownshipSubmission.objects.none()
    return TownshipSubmission.objects.filter(reduce(or_, parts))


def village_submissions_visible_to(user: User) -> QuerySet[VillageSubmission]:
    parts = [q for q in (_codes_q("round__county__code", _county_regions(user)),) if q is not None]
    townships, villages = supervised_townships(user), worked_villages(user)
    if townships:
        parts.append(Q(township_submission__township__in=townships))
    if villages:
        parts.append(Q(village__in=villages))
    if not parts:
        return VillageSubmission.objects.none()
    return VillageSubmission.objects.filter(reduce(or_, parts))


def _deny(user: User, object_type: str, object_id: object) -> None:
    object_access_denied(user=user, object_type=object_type, object_id=object_id)


def access_round(user: User, round_id: uuid.UUID | str) -> Round:
    """The round, if the user may see it: 403 for a role outside the app, else 404 as missing."""
    require_role(user)
    try:
        return rounds_visible_to(user).select_related("county", "opened_by").get(pk=round_id)
    except (Round.DoesNotExist, ValueError, ValidationError) as exc:
        _deny(user, "submission_round", round_id)
        raise Http404(NOT_FOUND) from exc


def access_township_submission(user: User, submission_id: uuid.UUID | str) -> TownshipSubmission:
    require_role(user)
    rows = township_submissions_visible_to(user).select_related("round__county", "township")
    try:
        return rows.get(pk=submission_id)
    except (TownshipSubmission.DoesNotExist, ValueError, ValidationError) as exc:
        _deny(user, "township_submission", submission_id)
        raise Http404(NOT_FOUND) from exc


def access_village_submission(user: User, submission_id: uuid.UUID | str) -> VillageSubmission:
    require_role(user)
    rows = village_submissions_visible_to(user).select_related(
        "round__county", "village", "township_submission__township"
    )
    try:
        return rows.get(pk=submission_id)
    except (VillageSubmission.DoesNotExist, ValueError, ValidationError) as exc:
        _deny(user, "village_submission", submission_id)
        raise Http404(NOT_FOUND) from exc


# --- what the user may do ----------------------------------------------------------------------


def manages_county(user: User, county: Region) -> bool:
    return any(county.code.startswith(r.code) for r in _county_regions(user, frozenset({Role.COUNTY_ADMIN})))


def require_county_admin_of(user: User, county: Region) -> None:
    if not manages_county(user, county):
        raise PermissionDenied("只有本县民政管理员可以审定乡镇报送或撤销报送轮次。")


def supervises(user: User, township: Region) -> bool:
    return any(region.pk == township.pk for region in supervised_townships(user))


def require_supervisor_of(user: User, township: Region) -> None:
    if not supervises(user, township):
        raise PermissionDenied("只有本乡镇的儿童督导员可以审核村报送和向县报送。")


def village_has_worker(village: Region) -> bool:
    """Whether the village has an active 儿童主任 (then only they submit it)."""
    grants = RoleGrant.objects.filter(
        role=Role.VILLAGE_WORKER, active=True, unit__active=True, user__is_active=True
    )
    return grants.filter(Q(region=village) | Q(region__isnull=True, unit__region=village)).exists()


def may_submit_village(user: User, submission: VillageSubmission) -> bool:
    if any(region.pk == submission.village_id for region in worked_villages(user)):
        return True
    township = submission.township_submission.township
    return supervises(user, township) and not village_has_worker(submission.village)


def require_village_submitter(user: User, submission: VillageSubmission) -> None:
    if not may_submit_village(user, submission):
        raise PermissionDenied("只有本村儿童主任可以报送（本村没有儿童主任时由乡镇儿童督导员代为报送）。")


def administered_county(user: User) -> Region:
    """The county a county admin opens rounds in: that of the first county-admin grant (a
    grant above county level: the deployment's county, SHOUHU_COUNTY_CODE). Others: 403."""
    for region in _county_regions(user, frozenset({Role.COUNTY_ADMIN})):
        if region.level == RegionLevel.COUNTY:
            return region
        code = settings.SHOUHU_COUNTY_CODE
        if code.startswith(region.code):
            return Region.objects.get(code=code, valid_to__isnull=True)
    raise PermissionDenied("只有县民政管理员可以发起报送轮次。")
