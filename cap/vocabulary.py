"""The closed code lists of CAP, per version, and the namespaces that identify each version."""

from __future__ import annotations

from typing import Final, Literal

CapVersion = Literal["1.0", "1.1", "1.2"]

NAMESPACES: Final[dict[str, CapVersion]] = {
    "http://www.incident.com/cap/1.0": "1.0",
    "urn:oasis:names:tc:emergency:cap:1.1": "1.1",
    "urn:oasis:names:tc:emergency:cap:1.2": "1.2",
}
NAMESPACE_OF: Final[dict[CapVersion, str]] = {v: k for k, v in NAMESPACES.items()}
CAP12_NS: Final = "urn:oasis:names:tc:emergency:cap:1.2"

STATUS: Final[dict[CapVersion, tuple[str, ...]]] = {
    "1.0": ("Actual", "Exercise", "System", "Test"),
    "1.1": ("Actual", "Exercise", "System", "Test", "Draft"),
    "1.2": ("Actual", "Exercise", "System", "Test", "Draft"),
}
MSG_TYPE: Final = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPE: Final = ("Public", "Restricted", "Private")
_CATEGORY_10: Final = (
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
    "Other",
)  # fmt: skip
# CAP 1.1 added CBRNE (chemical, biological, radiological, nuclear or high-yield explosive).
_CATEGORY_11: Final = (*_CATEGORY_10[:-1], "CBRNE", "Other")
CATEGORY: Final[dict[CapVersion, tuple[str, ...]]] = {
    "1.0": _CATEGORY_10,
    "1.1": _CATEGORY_11,
    "1.2": _CATEGORY_11,
}
RESPONSE_TYPE: Final[dict[CapVersion, tuple[str, ...]]] = {
    "1.0": (),
    "1.1": ("Shelter", "Evacuate", "Prepare", "Execute", "Monitor", "Assess", "None"),
    "1.2": (
        "Shelter",
        "Evacuate",
        "Prepare",
        "Execute",
        "Avoid",
        "Monitor",
        "Assess",
        "AllClear",
        "None",
    ),
}
URGENCY: Final = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITY: Final = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTY: Final[dict[CapVersion, tuple[str, ...]]] = {
    "1.0": ("Very Likely", "Likely", "Possible", "Unlikely", "Unknown"),
    # CAP 1.1 added "Observed" and deprecated "Very Likely" (still schema-valid in 1.1).
    "1.1": ("Observed", "Very Likely", "Likely", "Possible", "Unlikely", "Unknown"),
    "1.2": ("Observed", "Likely", "Possible", "Unlikely", "Unknown"),
}

# Ordered from most to least pressing; used by routing thresholds and authoring.
SEVERITY_RANK: Final = {name: rank for rank, name in enumerate(reversed(SEVERITY[:-1]), 1)}
URGENCY_RANK: Final = {"Immediate": 4, "Expected": 3, "Future": 2, "Past": 1}
CERTAINTY_RANK: Final = {"Observed": 5, "Very Likely": 4, "Likely": 4, "Possible": 3, "Unlikely": 2}
