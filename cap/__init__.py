"""CAP core: the Common Alerting Protocol (1.0, 1.1, 1.2) parsed, validated, authored, written."""

from cap.errors import (
    CapAuthoringError,
    CapError,
    CapFormatError,
    CapInputError,
    CapModelError,
    CapParseError,
    CapProfileError,
    NotCapError,
)
from cap.findings import Finding, Severity
from cap.hardened_xml import ParseLimits
from cap.model import (
    Alert,
    AlertIdentity,
    Area,
    Circle,
    EventCode,
    Geocode,
    Info,
    Parameter,
    Point,
    Polygon,
    Reference,
    Resource,
    ValuePair,
)
from cap.parsing import ParsedAlert, parse_alert
from cap.serialize import serialize_alert
from cap.timefmt import format_cap_datetime, parse_cap_datetime

__version__ = "0.1.0"

__all__ = [
    "Alert",
    "AlertIdentity",
    "Area",
    "CapAuthoringError",
    "CapError",
    "CapFormatError",
    "CapInputError",
    "CapModelError",
    "CapParseError",
    "CapProfileError",
    "Circle",
    "EventCode",
    "Finding",
    "Geocode",
    "Info",
    "NotCapError",
    "Parameter",
    "ParseLimits",
    "ParsedAlert",
    "Point",
    "Polygon",
    "Reference",
    "Resource",
    "Severity",
    "ValuePair",
    "__version__",
    "format_cap_datetime",
    "parse_alert",
    "parse_cap_datetime",
    "serialize_alert",
]
