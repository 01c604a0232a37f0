"""Placing areas named in words ("Glades County FL", "Puerto Rico") on the codes the boundary
files key them by (FIPS ``12043``, ``72``), so reports from tables and from maps meet.

US states and territories resolve to their two-digit FIPS state code always (the code is a
standard, not a file); counties, municipios and provinces resolve when a boundary file that
names them was read. A name that matches two areas resolves to neither."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from outage_map.model import AdminArea

# FIPS state code, USPS code, names (US Census; public facts).
US_STATES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("01", "AL", ("Alabama",)),
    ("02", "AK", ("Alaska",)),
    ("04", "AZ", ("Arizona",)),
    ("05", "AR", ("Arkansas",)),
    ("06", "CA", ("California",)),
    ("08", "CO", ("Colorado",)),
    ("09", "CT", ("Connecticut",)),
    ("10", "DE", ("Delaware",)),
    ("11", "DC", ("District of Columbia", "Washington DC")),
    ("12", "FL", ("Florida",)),
    ("13", "GA", ("Georgia",)),
    ("15", "HI", ("Hawaii",)),
    ("16", "ID", ("Idaho",)),
    ("17", "IL", ("Illinois",)),
    ("18", "IN", ("Indiana",)),
    ("19", "IA", ("Iowa",)),
    ("20", "KS", ("Kansas",)),
    ("21", "KY", ("Kentucky",)),
    ("22", "LA", ("Louisiana",)),
    ("23", "ME", ("Maine",)),
    ("24", "MD", ("Maryland",)),
    ("25", "MA", ("Massachusetts",)),
    ("26", "MI", ("Michigan",)),
    ("27", "MN", ("Minnesota",)),
    ("28", "MS", ("Mississippi",)),
    ("29", "MO", ("Missouri",)),
    ("30", "MT", ("Montana",)),
    ("31", "NE", ("Nebraska",)),
    ("32", "NV", ("Nevada",)),
    ("33", "NH", ("New Hampshire",)),
    ("34", "NJ", ("New Jersey",)),
    ("35", "NM", ("New Mexico",)),
    ("36", "NY", ("New York",)),
    ("37", "NC", ("North Carolina",)),
    ("38", "ND", ("North Dakota",)),
    ("39", "OH", ("Ohio",)),
    ("40", "OK", ("Oklahoma",)),
    ("41", "OR", ("Oregon",)),
    ("42", "PA", ("Pennsylvania",)),
    ("44", "RI", ("Rhode Island",)),
    ("45", "SC", ("South Carolina",)),
    ("46", "SD", ("South Dakota",)),
    ("47", "TN", ("Tennessee",)),
    ("48", "TX", ("Texas",)),
    ("49", "UT", ("Utah",)),
    ("50", "VT", ("Vermont",)),
    ("51", "VA", ("Virginia",)),
    ("53", "WA", ("Washington",)),
    ("54", "WV", ("West Virginia",)),
    ("55", "WI", ("Wisconsin",)),
    ("56", "WY", ("Wyoming",)),
    ("60", "AS", ("American Samoa",)),
    ("66", "GU", ("Guam",)),
    ("69", "MP", ("Northern Mariana Islands", "Commonwealth of the Northern Mariana Islands")),
    ("72", "PR", ("Puerto Rico",)),
    (
        "78",
        "VI",
        (
            "U.S. Virgin Islands",
            "US Virgin Islands",
            "Virgin Islands",
            "United States Virgin Islands",
        ),
    ),
)

# What follows a county-level name in US tables: "Glades County", "Orleans Parish".
_US_SUFFIXES = ("county", "parish", "borough", "census area", "municipio", "municipality")


def normalise_name(name: str) -> str:
    """Case, accents, dots, commas and spacing do not distinguish two area names."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = plain.replace(".", "")
    return " ".join(re.sub(r"[,;()]", " ", plain).split())


@dataclass(frozen=True, slots=True)
class AreaNames:
    """Normalised name -> area code. Build with ``from_areas``."""

    codes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_areas(cls, areas: Iterable[AdminArea] = ()) -> AreaNames:
        """The US states plus every area read from boundary files (by name, by code, and for
        US counties as "<name> County <ST>", "<name> <ST>", "<name> County, <State>")."""
        candidates: dict[str, set[str]] = {}

        def add(key: str, code: str) -> None:
            if key:
                candidates.setdefault(normalise_name(key), set()).add(code)

        states = {fips: (postal, names) for fips, postal, names in US_STATES}
        for fips, postal, names in US_STATES:
            add(postal, fips)
            add(fips, fips)
            for state_name in names:
                add(state_name, fips)
        state_keys = set(candidates)
        for area in areas:
            add(area.code, area.code)
            if not area.name:
                continue
            add(area.name, area.code)
            state = states.get(area.parent)
            if state is None:
                continue
            postal, state_names = state
            for suffix in ("", *_US_SUFFIXES):
                local = f"{area.name} {suffix}".strip()
                add(local, area.code)
                for in_state in (postal, *state_names):
                    add(f"{local} {in_state}", area.code)
        codes: dict[str, str] = {}
        for key, found in candidates.items():
            if len(found) == 1:
                codes[key] = next(iter(found))
            elif key in state_keys:  # a state's own name wins over a county named like it
                state_codes = [c for c in found if len(c) == 2]
                if len(state_codes) == 1:
                    codes[key] = state_codes[0]
        return cls(MappingProxyType(codes))

    def resolve(self, name: str) -> str | None:
        """The area code for a name as a table writes it, or None when no area (or more than
        one) answers to it."""
        return self.codes.get(normalise_name(name))
