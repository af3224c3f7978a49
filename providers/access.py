"""Who may see and do what in the providers register (R16). The one access layer of this app.

| action                                   | who (each within that grant's own scope)                   |
|------------------------------------------|------------------------------------------------------------|
| read the register (list and pages)       | county admin and county officer: providers located in the  |
|                                          | county; township supervisor: located in the township, or   |
|                                          | under a contract covering it; village worker: located in   |
|                                          | the village (to assign its children, below)                |
| read one provider's page                 | the above, and the provider's own staff (provider_staff)   |
| register a provider / edit it            | county admin: any provider kind in the county; township    |
|                                          | supervisor: 儿童之家, 妇女之家, 志愿服务队 in the township      |
| read contracts (政府购买服务)               | county admin, county officer: the county's; township       |
|                                          | supervisor: those covering the township; provider staff:   |
|                                          | their own provider's                                       |
| create and edit contracts                | county admin of the provider's county                      |
| assign children / end an assignment      | county admin, township supervisor, village worker, on a    |
|                                          | provider they may read, children from                      |
|                                          | registry.access.children_editable_by                       |
| reveal the contact phone                 | readers of the provider whose role may reveal numbers      |
|                                          | (registry.access.can_reveal), with a reason, audited       |

A role with no part in a page gets 403 (PermissionDenied). A provider or contract outside the
user's scope answers 404 exactly like a missing one, and leaves a denial row (LG-1).
"""

import uuid
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, RoleGrant, User
from audit.services import object_access_denied
from geo.models import Region, RegionLevel, Unit, UnitKind
from providers.models import Contract, Provider
from registry.access import active_grants, can_reveal, user_roles
from registry.models import UnitAssignment

NOT_FOUND = "未找到该服务机构"
CONTRACT_NOT_FOUND = "未找到该合同"
ASSIGNMENT_NOT_FOUND = "未找到该服务对象指派"

LIST_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.COUNTY_OFFICER, Role.TOWNSHIP_SUPERVISOR, Role.VILLAGE_WORKER}
)
READ_ROLES = LIST_ROLES | {Role.PROVIDER_STAFF}
REGISTRAR_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR})
ASSIGN_ROLES = frozenset({Role.COUNTY_ADMIN, Role.TOWNSHIP_SUPERVISOR, Role.VILLAGE_WORKER})
CONTRACT_READ_ROLES = frozenset(
    {Role.COUNTY_ADMIN, Role.COUNTY_OFFICER, Role.TOWNSHIP_SUPERVISOR, Role.PROVIDER_STAFF}
)
# The kinds a township supervisor registers (the township's own homes and volunteer teams).
TOWNSHIP_KINDS = (UnitKind.CHILDRENS_HOME, UnitKind.WOMENS_HOME, UnitKind.VOLUNTEER_TEAM)
COUNTY_CODE_LENGTH = 6

NO_REGISTER = "您的角色不能查看服务机构名录。"
NO_PROVIDER = "您的角色不能查看服务机构。"
NO_EDIT = "您不能登记或修改该服务机构。"
NO_CONTRACTS = "您的角色不能查看政府购买服务合同。"
NO_CONTRACT_EDIT = "只有县民政管理员可以登记和修改政府购买服务合同。"
NO_ASSIGN = "您的角色不能指派服务对象。"
NO_REVEAL = "您的角色不能查看完整号码。"
NOT_STAFF = "只有服务机构工作人员使用此页面。"


def _grants(user: User, roles: Iterable[str]) -> list[RoleGrant]:
    wanted = set(roles)
    return [grant for grant in active_grants(user) if grant.role in wanted]


def _within(region: Region, scope: Region) -> bool:
    return region.code.startswith(scope.code)


# --- providers ---------------------------------------------------------------------------------


def _provider_q(grant: RoleGrant) -> Q:
    if grant.role == Role.PROVIDER_STAFF:
        return Q(unit_id=grant.unit_id)
    code = grant.scope_region.code
    located = Q(unit__region__code__startswith=code)
    if grant.role == Role.TOWNSHIP_SUPERVISOR:
        # The county's social-work station serves the township under a contract.
        covered = Contract.objects.filter(townships__code__startswith=code).values("provider_id")
        return located | Q(pk__in=covered)
    return located


def _providers(user: User, roles: Iterable[str]) -> QuerySet[Provider]:
    parts = [_provider_q(grant) for grant in _grants(user, roles)]
    if not parts:
        return Provider.objects.none()
    return Provider.objects.filter(reduce(or_, parts))


def can_list(user: User) -> bool:
    return bool(user_roles(user) & LIST_ROLES)


def can_read_any(user: User) -> bool:
    return bool(user_roles(user) & READ_ROLES)


def require_list(user: User) -> None:
    if not can_list(user):
        raise PermissionDenied(NO_REGISTER)


def providers_listed_for(user: User) -> QuerySet[Provider]:
    """The register as this user reads it (the list page and its filters start here)."""
    return _providers(user, LIST_ROLES)


def providers_visible_to(user: User) -> QuerySet[Provider]:
    """Every provider whose page this user may open."""
    return _providers(user, READ_ROLES)


def _deny(user: User, object_type: str, object_id: object, message: str) -> Http404:
    object_access_denied(user=user, object_type=object_type, object_id=object_id)
    return Http404(message)


def access_provider(user: User, provider_id: uuid.UUID | str) -> Provider:
    """The provider, if this user may open its page: 403 for a role with no part in the
    register, 404 (and a denial row) for one outside the user's scope or missing."""
    if not can_read_any(user):
        raise PermissionDenied(NO_PROVIDER)
    try:
        return providers_visible_to(user).select_related("unit__region").get(pk=provider_id)
    except (Provider.DoesNotExist, ValueError, ValidationError) as exc:
        raise _deny(user, "provider", provider_id, NOT_FOUND) from exc


def _may_register_at(grant: RoleGrant, kind: str, region: Region) -> bool:
    if not _within(region, grant.scope_region):
        return False
    if grant.role == Role.COUNTY_ADMIN:
        return True
    return grant.role == Role.TOWNSHIP_SUPERVISOR and kind in TOWNSHIP_KINDS


def may_register(user: User, kind: str, region: Region) -> bool:
    """Whether one of the user's grants lets him register a provider of `kind` at `region`."""
    return any(_may_register_at(grant, kind, region) for grant in _grants(user, REGISTRAR_ROLES))


def require_registrar(user: User) -> None:
    if not user_roles(user) & REGISTRAR_ROLES:
        raise PermissionDenied(NO_EDIT)


def can_edit(user: User, provider: Provider) -> bool:
    return may_register(user, provider.unit.kind, provider.unit.region)


def require_edit(user: User, provider: Provider) -> None:
    if not can_edit(user, provider):
        raise PermissionDenied(NO_EDIT)


def registrable_kinds(user: User) -> list[str]:
    """The unit kinds the user may register, in the order of the vocabulary."""
    from providers.choices import PROVIDER_UNIT_KINDS

    roles = user_roles(user)
    if Role.COUNTY_ADMIN in roles:
        return list(PROVIDER_UNIT_KINDS)
    if Role.TOWNSHIP_SUPERVISOR in roles:
        return [kind for kind in PROVIDER_UNIT_KINDS if kind in TOWNSHIP_KINDS]
    return []


def registrable_regions(user: User) -> QuerySet[Region]:
    """Current regions (county, townships, villages) where the user may register providers."""
    grants = _grants(user, REGISTRAR_ROLES)
    if not grants:
        return Region.objects.none()
    q = reduce(or_, (Q(code__startswith=grant.scope_region.code) for grant in grants))
    levels = [RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]
    return Region.objects.filter(q, level__in=levels, valid_to__isnull=True).order_by("code")


def staff_unit_ids(user: User) -> set[uuid.UUID]:
    return {grant.unit_id for grant in _grants(user, [Role.PROVIDER_STAFF])}


def require_staff(user: User) -> None:
    if Role.PROVIDER_STAFF not in user_roles(user):
        raise PermissionDenied(NOT_STAFF)


# --- contact phone -----------------------------------------------------------------------------


def may_reveal(user: User) -> bool:
    return can_reveal(user)


def require_reveal(user: User) -> None:
    if not may_reveal(user):
        raise PermissionDenied(NO_REVEAL)


# --- assignments -------------------------------------------------------------------------------


def can_assign(user: User, provider: Provider) -> bool:
    """Whether the user assigns children to this provider (an assigning role that reads it)."""
    return _providers(user, ASSIGN_ROLES).filter(pk=provider.pk).exists()


def require_assign(user: User, provider: Provider) -> None:
    if not can_assign(user, provider):
        raise PermissionDenied(NO_ASSIGN)


def access_assignment(user: User, assignment_id: uuid.UUID | str) -> tuple[UnitAssignment, Provider]:
    """An assignment of a child to a registered provider, for ending it: 403 for a role that
    assigns nothing, 404 (as missing) when the provider is out of the user's reach or the
    child is not one the user may change."""
    from registry.access import children_editable_by

    if not user_roles(user) & ASSIGN_ROLES:
        raise PermissionDenied(NO_ASSIGN)
    try:
        assignment = UnitAssignment.objects.select_related("child", "unit").get(pk=assignment_id)
        provider = _providers(user, ASSIGN_ROLES).select_related("unit__region").get(unit=assignment.unit_id)
    except (UnitAssignment.DoesNotExist, Provider.DoesNotExist, ValueError, ValidationError) as exc:
        raise _deny(user, "unit_assignment", assignment_id, ASSIGNMENT_NOT_FOUND) from exc
    if not children_editable_by(user).filter(pk=assignment.child_id).exists():
        raise _deny(user, "unit_assignment", assignment_id, ASSIGNMENT_NOT_FOUND)
    return assignment, provider


# --- contracts ---------------------------------------------------------------------------------


def _contract_q(grant: RoleGrant) -> Q:
    if grant.role == Role.PROVIDER_STAFF:
        return Q(provider__unit_id=grant.unit_id)
    code = grant.scope_region.code
    if grant.role == Role.TOWNSHIP_SUPERVISOR:
        return Q(pk__in=Contract.objects.filter(townships__code__startswith=code).values("pk"))
    return Q(county__code__startswith=code)


def can_read_contracts(user: User) -> bool:
    return bool(user_roles(user) & CONTRACT_READ_ROLES)


def require_contract_reader(user: User) -> None:
    if not can_read_contracts(user):
        raise PermissionDenied(NO_CONTRACTS)


def contracts_visible_to(user: User) -> QuerySet[Contract]:
    parts = [_contract_q(grant) for grant in _grants(user, CONTRACT_READ_ROLES)]
    if not parts:
        return Contract.objects.none()
    return Contract.objects.filter(reduce(or_, parts))


def access_contract(user: User, contract_id: uuid.UUID | str) -> Contract:
    require_contract_reader(user)
    try:
        return (
            contracts_visible_to(user)
            .select_related("provider__unit__region", "purchaser", "county")
            .get(pk=contract_id)
        )
    except (Contract.DoesNotExist, ValueError, ValidationError) as exc:
        raise _deny(user, "contract", contract_id, CONTRACT_NOT_FOUND) from exc


def _admin_grants(user: User) -> list[RoleGrant]:
    return [
        grant
        for grant in _grants(user, [Role.COUNTY_ADMIN])
        if len(grant.scope_region.code) <= COUNTY_CODE_LENGTH
    ]


def is_contract_manager(user: User) -> bool:
    return bool(_admin_grants(user))


def require_contract_manager(user: User) -> None:
    if not is_contract_manager(user):
        raise PermissionDenied(NO_CONTRACT_EDIT)


def purchasing_grant(user: User, county: Region) -> RoleGrant | None:
    """The county-admin grant that buys services for `county` (its unit is the purchaser)."""
    return next((grant for grant in _admin_grants(user) if _within(county, grant.scope_region)), None)


def can_manage_contract(user: User, contract: Contract) -> bool:
    return purchasing_grant(user, contract.county) is not None


def provider_county(provider: Provider) -> Region:
    """The county the provider is located in (its region's first six digits)."""
    code = provider.unit.region.code[:COUNTY_CODE_LENGTH]
    return Region.objects.get(code=code, valid_to__isnull=True)


def county_townships(county: Region) -> QuerySet[Region]:
    """The current townships of a county (a contract covers some of them; AC-4)."""
    return Region.objects.filter(
        code__startswith=county.code, level=RegionLevel.TOWNSHIP, valid_to__isnull=True
    ).order_by("code")


def provider_units() -> QuerySet[Unit]:
    from providers.choices import PROVIDER_UNIT_KINDS

    return Unit.objects.filter(kind__in=PROVIDER_UNIT_KINDS)
