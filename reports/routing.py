"""Where a mandatory report goes (R17: to the police, at once): the jurisdiction map.

The map is geo.Unit.serves: an active police station (派出所) whose served regions include the
report's township receives it. When no station serves the township, the county police bureau
(县公安局: an active unit of kind police_bureau located in the county) receives it. When the
county has neither, filing is refused with a message that sends the reporter to 110 at once:
a report that reaches nobody must not look as if it had been sent.

Two stations serving one township is a set-up error; the report then goes to the first by
name, so that the choice is stable and can be explained.
"""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from geo.models import Region, RegionLevel, Unit, UnitKind

NO_POLICE = "本县尚未设置受理强制报告的公安机关，请立即拨打 110 报警，并联系县民政局。"
POLICE_KINDS = (UnitKind.POLICE_STATION, UnitKind.POLICE_BUREAU)


def county_of(township: Region) -> Region:
    """The county (县级区划) a township belongs to."""
    county = township.parent
    if township.level != RegionLevel.TOWNSHIP or county is None or county.level != RegionLevel.COUNTY:
        raise ValidationError({"township": "请选择乡镇（街道）。"})
    return county


def station_for(township: Region) -> Unit | None:
    return (
        Unit.objects.filter(kind=UnitKind.POLICE_STATION, active=True, serves=township)
        .order_by("name", "id")
        .first()
    )


def bureau_for(county: Region) -> Unit | None:
    return (
        Unit.objects.filter(kind=UnitKind.POLICE_BUREAU, active=True, region=county)
        .order_by("name", "id")
        .first()
    )


def route_for(township: Region) -> Unit:
    """The police unit that receives a report on a child of `township`; ValidationError
    (NO_POLICE) when the county has no police unit set up."""
    unit = station_for(township) or bureau_for(county_of(township))
    if unit is None:
        raise ValidationError(NO_POLICE)
    return unit


def police_units_of(county: Region) -> QuerySet[Unit]:
    """The active police units of a county (the bureau and the stations): re-routing targets."""
    return Unit.objects.filter(
        kind__in=POLICE_KINDS, active=True, region__code__startswith=county.code
    ).order_by("kind", "name")
