"""The CAP alert as typed, immutable values.

Fields that CAP requires but a broken document may lack are kept as ``""`` (strings) or ``None``
(``sent``, ``scope``) so that a bad alert still parses and can be reported on in full.

The model is version-neutral: CAP 1.0, 1.1 and 1.2 documents all parse into it and it is
serialized as CAP 1.2. Enumerated fields (status, urgency, ...) are kept as the strings found in
the document so that an invalid value can still be parsed, reported and round-tripped; the
allowed values live in :mod:`cap.vocabulary`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from cap.errors import CapModelError
from cap.timefmt import format_cap_datetime


@dataclass(frozen=True, slots=True)
class ValuePair:
    """A ``valueName``/``value`` pair: the shape shared by eventCode, parameter and geocode."""

    value_name: str
    value: str


@dataclass(frozen=True, slots=True)
class EventCode(ValuePair):
    """A system-specific code for the event type, e.g. ``SAME``/``TOR``."""


@dataclass(frozen=True, slots=True)
class Parameter(ValuePair):
    """A system-specific additional parameter, e.g. ``EAS-ORG``/``WXR``."""


@dataclass(frozen=True, slots=True)
class Geocode(ValuePair):
    """A geographic code delineating the area, e.g. ``SAME``/``006109``."""


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS 84 coordinate as written in CAP: latitude first."""

    lat: Decimal
    lon: Decimal


@dataclass(frozen=True, slots=True)
class Polygon:
    """A ring of points (CAP requires it closed). ``text`` is the original string; it is kept for
    reporting and for writing back a polygon that did not parse, and is not part of equality."""

    points: tuple[Point, ...]
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Circle:
    """A centre and a radius in kilometres. ``text`` is the original string."""

    center: Point | None
    radius_km: Decimal | None
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Area:
    area_desc: str
    polygons: tuple[Polygon, ...] = ()
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[Geocode, ...] = ()
    altitude: Decimal | None = None
    ceiling: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    resource_desc: str
    mime_type: str | None = None
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class Info:
    category: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    language: str | None = None
    response_type: tuple[str, ...] = ()
    audience: str | None = None
    event_codes: tuple[EventCode, ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[Parameter, ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[Area, ...] = ()

    @property
    def effective_language(self) -> str:
        """CAP's default when ``<language>`` is absent is ``en-US``."""
        return self.language or "en-US"

    def parameter(self, value_name: str) -> str | None:
        """The first parameter with this name (later duplicates are ignored, as receivers do)."""
        for p in self.parameters:
            if p.value_name == value_name:
                return p.value
        return None


@dataclass(frozen=True, slots=True)
class Reference:
    """One earlier alert named in ``<references>``: ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: datetime | None
    sent_text: str

    @property
    def well_formed(self) -> bool:
        """False for a token that was not a ``sender,identifier,sent`` triple (kept whole in
        ``sender`` so that it can be reported and written back unchanged)."""
        return bool(self.identifier or self.sent_text)

    def as_text(self) -> str:
        if not self.well_formed:
            return self.sender
        return f"{self.sender},{self.identifier},{self.sent_text}"


@dataclass(frozen=True, slots=True)
class AlertIdentity:
    """What makes an alert unique: receivers de-duplicate on this triple."""

    sender: str
    identifier: str
    sent: datetime


@dataclass(frozen=True, slots=True)
class Alert:
    identifier: str
    sender: str
    sent: datetime | None
    status: str
    msg_type: str
    scope: str | None
    source: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[Reference, ...] = ()
    incidents: tuple[str, ...] = ()
    infos: tuple[Info, ...] = field(default=())

    @property
    def identity(self) -> AlertIdentity:
        if self.sent is None:
            raise CapModelError(f"alert {self.identifier!r} has no valid <sent> time")
        return AlertIdentity(self.sender, self.identifier, self.sent)

    def as_reference(self) -> Reference:
        """This alert as an entry of a later alert's ``<references>``."""
        identity = self.identity
        return Reference(
            identity.sender, identity.identifier, identity.sent, format_cap_datetime(identity.sent)
        )
