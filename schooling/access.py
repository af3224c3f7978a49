"""Who may do what in the schooling app: the policy, and the one way views reach its objects.

Dropout cases (控辍保学, R14) belong to the child: a case is reached through its child's
file, and each action admits the grants below, each within that grant's own scope (a school
grant covers the children whose file names that school; a region grant its region):

| action                               | who                                                        |
|--------------------------------------|------------------------------------------------------------|
| see the list of cases and a case     | school staff of the child's school; the village worker,    |
|                                      | township supervisor and county admin of the child's area;  |
|                                      | county officers of the county education bureau (a grant at |
|                                      | a unit of kind `education`) for their county               |
| open a case (report absence/dropout) | school staff of the child's school (R14: the school tracks |
|                                      | absence and registers dropouts)                            |
| log a persuasion attempt (劝返)       | school staff of the child's school; the village worker,    |
|                                      | township supervisor and county admin of the child's area   |
|                                      | (the roles that may change the file)                       |
| escalate (书面报告)                   | school staff of the child's school: it is the school's     |
|                                      | written report to the education bureau and the township   |
| record the outcome (复学 / 未复学)      | school staff of the child's school; county officers of the |
|                                      | education bureau (WBF 83: the bureau follows it up)        |

Anything else answers 404, exactly as for a missing case or file, and leaves a denial row
in the audit trail (LG-1). The list page itself is refused (403) to roles that see no case
at all (police, social workers, visiting cadres, the 三员).

Hukou registration tasks (户口登记, R23):

| action                        | who                                                              |
|-------------------------------|------------------------------------------------------------------|
| see the no-hukou list         | police (the regions their unit serves), county admin, township   |
|                               | supervisor, village worker (their area); 403 for other roles     |
| generate the tasks            | county admin and township supervisor, for their area; 403 others |
| record the registration date  | police of the task's unit, for a child in that grant's scope;    |
|                               | 404 for everybody else (as for a missing task)                   |

Scopes are computed per grant, so that a person holding two roles (a teacher who is also a
township supervisor) gets each action only in the scope of the role that allows it.
"""

import uuid
from collections.abc import Callable
from enum import StrEnum
from functools import reduce
from operator import or_
from typing import NoReturn

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import WRITE_ROLES, Role, RoleGrant, User
from audit.services import child_access_denied
from geo.models import UnitKind
from registry.access import active_grants, grant_scope_q
from registry.models import Child
from schooling.models import DropoutCase, HukouTask

NOT_FOUND = "未找到该记录"

class Action(StrEnum):
    READ = "read"
    OPEN = "open"
    ATTEMPT = "attempt"
    ESCALATE = "escalate"
    OUTCOME = "outcome"


Admits = Callable[[RoleGrant], bool]


def is_education_officer(grant: RoleGrant) -> bool:
    return grant.role == Role.COUNTY_OFFICER and grant.unit.kind == UnitKind.EDUCATION


def _school_staff(grant: RoleGrant) -> bool:
    return grant.role == Role.SCHOOL_STAFF


_CASE_READERS = frozenset(
    {Role.SCHOOL_STAFF, Role.VILLAGE_WORKER, Role.TOWNSHIP_SUPERVISOR, Role.COUNTY_ADMIN}
)
_CASE_POLICY: dict[Action, Admits] = {
    Action.READ: lambda g: g.role in _CASE_READERS or is_education_officer(g),
    Action.OPEN: _school_staff,
    Action.ATTEMPT: lambda g: g.role == Role.SCHOOL_STAFF or g.role in WRITE_ROLES,
    Action.ESCALATE: _school_staff,
    Action.OUTCOME: lambda g: g.role == Role.SCHOOL_STAFF or is_education_officer(g),
}

HUKOU_READERS = frozenset({Role.POLICE, Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR, Role.VILLAGE_WORKER})
HUKOU_GENERATORS = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR})


# --- scope of one grant ------------------------------------------------------------------------


def _children(user: User, admits: Admits) -> QuerySet[Child]:
    parts = [grant_scope_q(user, grant) for grant in active_grants(user) if admits(grant)]
    if not parts:
        return Child.objects.none()
    return Child.objects.filter(reduce(or_, parts))


def _deny(user: User, child_id: object, *, for_write: bool, exists: bool) -> NoReturn:
    child_access_denied(user=user, child_id=child_id, for_write=for_write, exists=exists)
    raise Http404(NOT_FOUND)


# --- dropout cases ---------------------------------------------------------------------------


def can(user: User, action: Action) -> bool:
    """Whether any of the user's grants allows `action` somewhere (buttons, role gates)."""
    admits = _CASE_POLICY[action]
    return any(admits(grant) for grant in active_grants(user))


def children_for(user: User, action: Action) -> QuerySet[Child]:
    """The children on whose cases this user may do `action`."""
    return _children(user, _CASE_POLICY[action])


def cases_visible_to(user: User) -> QuerySet[DropoutCase]:
    return DropoutCase.objects.filter(child__in=children_for(user, Action.READ).values("pk"))


def allowed_actions(user: User, case: DropoutCase) -> set[Action]:
    """What this user may do on this case (for the case page's buttons)."""
    return {
        action
        for action in Action
        if can(user, action) and children_for(user, action).filter(pk=case.child_id).exists()
    }


def access_case(user: User, case_id: uuid.UUID | str, action: Action = Action.READ) -> DropoutCase:
    """The case, if this user may do `action` on it; else Http404 as if it were missing."""
    case = (
        DropoutCase.objects.select_related("child__village", "child__township", "child__school", "school")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        _deny(user, "", for_write=action != Action.READ, exists=False)
    if not children_for(user, action).filter(pk=case.child_id).exists():
        _deny(user, case.child_id, for_write=action != Action.READ, exists=True)
    return case


def access_child_to_report(user: User, child_id: uuid.UUID | str) -> Child:
    """The child, if this user may open a dropout case for it (school staff of the child's
    school); else Http404 as if missing."""
    child = (
        children_for(user, Action.OPEN)
        .select_related("village", "township", "county", "school")
        .filter(pk=child_id)
        .first()
    )
    if child is None:
        _deny(user, child_id, for_write=True, exists=Child.objects.filter(pk=child_id).exists())
    return child


# --- hukou registration tasks ----------------------------------------------------------------


def _roles(user: User) -> set[str]:
    return {grant.role for grant in active_grants(user)}


def can_see_hukou(user: User) -> bool:
    return bool(_roles(user) & HUKOU_READERS)


def can_generate_hukou(user: User) -> bool:
    return bool(_roles(user) & HUKOU_GENERATORS)


def hukou_children(user: User) -> QuerySet[Child]:
    """The children whose hukou registration this user follows (the no-hukou list's scope)."""
    return _children(user, lambda grant: grant.role in HUKOU_READERS)


def hukou_generatable(user: User) -> QuerySet[Child]:
    return _children(user, lambda grant: grant.role in HUKOU_GENERATORS)


def police_unit_ids(user: User) -> set[uuid.UUID]:
    return {grant.unit_id for grant in active_grants(user) if grant.role == Role.POLICE}


def access_hukou_task(user: User, task_id: uuid.UUID | str) -> HukouTask:
    """The task, if this user is police of its unit and the child is in that grant's scope;
    else Http404 as if it were missing."""
    task = HukouTask.objects.select_related("child__village", "child__township", "police_unit").filter(
        pk=task_id
    )
    found = task.first()
    if found is None:
        _deny(user, "", for_write=True, exists=False)
    grants = [g for g in active_grants(user) if g.role == Role.POLICE and g.unit_id == found.police_unit_id]
    scope = reduce(or_, (grant_scope_q(user, grant) for grant in grants)) if grants else None
    if scope is None or not Child.objects.filter(scope, pk=found.child_id).exists():
        _deny(user, found.child_id, for_write=True, exists=True)
    return found
