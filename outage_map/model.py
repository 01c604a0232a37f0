"""What the outage map knows: reports about network service, the sites they speak of, and the
administrative areas responders ask about.

A report is one observation by one source, never edited: the merge decides what they add up
to at an instant. Subjects are what a report speaks of, from most to least precise: a site, a
point with a radius, a polygon, an administrative area, a grid cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shapely.geometry.base import BaseGeometry

from outage_map.errors import ReportError


class Status(StrEnum):
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"


class Cause(StrEnum):
    """Why service is out, as FCC DIRS splits it."""

    DAMAGE = "damage"
    POWER = "power"
    TRANSPORT = "transport"  # backhaul: fibre, microwave, satellite links
    OTHER = "other"


class SourceKind(StrEnum):
    OPERATOR = "operator"  # the network operator's own site status
    REGULATOR = "regulator"  # DIRS, a telecom regulator's status page
    FIELD_TEAM = "field_team"  # responders who went and looked
    CROWD = "crowd"  # the public (apps, social media, hotlines)
    PROBE = "probe"  # automated measurements (IODA, test calls, pings)


class Technology(StrEnum):
    """Radio access technologies, named as OpenCelliD names them (lower case)."""

    GSM = "gsm"
    UMTS = "umts"
    CDMA = "cdma"
    LTE = "lte"
    NR = "nr"


@dataclass(frozen=True, slots=True)
class Source:
    """Who reported: a kind (which sets the trust weight and the half-life) and a name."""

    kind: SourceKind
    name: str


@dataclass(frozen=True, slots=True)
class SiteSubject:
    """A cell site by its id in the site inventory (e.g. OpenCelliD ``mcc-net-area-cell``)."""

    site_id: str


@dataclass(frozen=True, slots=True)
class PointSubject:
    """A place with a radius: "no signal here", a field team's test call."""

    lon: float
    lat: float
    radius_m: float

    def __post_init__(self) -> None:
        check_lon_lat(self.lon, self.lat)
        if not self.radius_m >= 0:
            raise ReportError(f"radius {self.radius_m} m: a radius must be 0 or more metres")


@dataclass(frozen=True, slots=True)
class PolygonSubject:
    """An area drawn by the reporter (EPSG:4326 lon/lat), e.g. a crowd report's outline."""

    geometry: BaseGeometry


@dataclass(frozen=True, slots=True)
class AreaSubject:
    """An administrative area by code, as the boundary files key it (FIPS ``72013``,
    ISO 3166-2 ``SB-GU``) or a name the area table knows (``Puerto Rico``)."""

    code: str


@dataclass(frozen=True, slots=True)
class GridSubject:
    """A cell of a regular lon/lat grid, as probes and the ITU map report: its south-west
    corner and its size in degrees."""

    lon: float
    lat: float
    size_deg: float

    def __post_init__(self) -> None:
        check_lon_lat(self.lon, self.lat)
        if not 0 < self.size_deg <= 10:
            raise ReportError(f"grid cell size {self.size_deg}: must be over 0 and at most 10°")


Subject = SiteSubject | PointSubject | PolygonSubject | AreaSubject | GridSubject


@dataclass(frozen=True, slots=True)
class Report:
    """One observation of service on one subject.

    ``share_out`` is for reports about many sites at once (a county, an island): the fraction of
    them out of service, 0 to 1, as DIRS and status pages publish it. ``technologies`` empty
    means all of them."""

    observed_at: datetime
    received_at: datetime
    source: Source
    subject: Subject
    status: Status
    cause: Cause | None = None
    technologies: frozenset[Technology] = field(default_factory=frozenset)
    share_out: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("observed_at", "received_at"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ReportError(f"{name} {value.isoformat()} has no time zone")
        if self.share_out is not None and not 0.0 <= self.share_out <= 1.0:
            raise ReportError(f"share out {self.share_out}: must be between 0 and 1")


@dataclass(frozen=True, slots=True)
class Site:
    """A cell site from the inventory: where it is and how far it reaches."""

    site_id: str
    lon: float
    lat: float
    range_m: float | None
    technology: Technology | None
    operator: str = ""

    def __post_init__(self) -> None:
        check_lon_lat(self.lon, self.lat)


@dataclass(frozen=True, slots=True)
class AdminArea:
    """An administrative area: its code, name and boundary (EPSG:4326)."""

    code: str
    name: str
    geometry: BaseGeometry
    parent: str = ""  # e.g. the state or country code, for rolling areas up


def check_lon_lat(lon: float, lat: float) -> None:
    if not -180.0 <= lon <= 180.0:
        raise ReportError(f"longitude {lon}: must be between -180 and 180")
    if not -90.0 <= lat <= 90.0:
        raise ReportError(f"latitude {lat}: must be between -90 and 90")
