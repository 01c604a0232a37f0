"""CAP core: the Common Alerting Protocol (1.0, 1.1, 1.2) parsed, validated, authored, written."""

from cap.authoring import alert_from_description, cancel_alert, update_alert
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
from cap.identifiers import new_identifier
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
from cap.validation import AlertReport, validate_alert, validate_document

__version__ = "0.1.0"

__all__ = [
    "Alert",
    "AlertIdentity",
    "AlertReport",
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
    "alert_from_description",
    "cancel_alert",
    "format_cap_datetime",
    "new_identifier",
    "parse_alert",
    "parse_cap_datetime",
    "serialize_alert",
    "update_alert",
    "validate_alert",
    "validate_document",
]
