"""The profiles this toolkit knows, by the names the command line accepts."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cap.errors import CapProfileError
from cap.profiles import cap_au, cap_cp, ipaws, meteoalarm
from cap.profiles.base import Profile

PROFILES: Mapping[str, Profile] = MappingProxyType(
    {p.name: p for p in (ipaws.PROFILE, cap_cp.PROFILE, cap_au.PROFILE, meteoalarm.PROFILE)}
)

# Other spellings people type, compared after folding case and dropping spaces and underscores.
_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "us": "ipaws",
        "usa": "ipaws",
        "ipawsv1.0": "ipaws",
        "ipaws-v1.0": "ipaws",
        "ipaws1": "ipaws",
        "ipaws-1.0": "ipaws",
        "ipawsv1": "ipaws",
        "ca": "cap-cp",
        "canada": "cap-cp",
        "capcp": "cap-cp",
        "cp": "cap-cp",
        "au": "cap-au",
        "australia": "cap-au",
        "capau": "cap-au",
        "cap-au-std": "cap-au",
        "eu": "meteoalarm",
        "eumetnet": "meteoalarm",
        "meteo-alarm": "meteoalarm",
    }
)


def get_profile(name: str) -> Profile:
    """The profile called ``name`` (any case; the aliases above accepted)."""
    key = name.strip().casefold().replace(" ", "").replace("_", "-")
    key = _ALIASES.get(key, key)
    profile = PROFILES.get(key)
    if profile is None:
        known = ", ".join(PROFILES)
        raise CapProfileError(
            f"unknown profile {name!r}; known profiles: {known} "
            "(also accepted: us, ca, au, IPAWSv1.0, CAP-CP, CAP-AU)"
        )
    return profile
