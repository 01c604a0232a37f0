"""Administrative boundaries from GeoJSON: the areas responders ask about ("which municipios
are dark?"), keyed as the reports that name them are keyed.

US Census files key counties by 5-digit FIPS (``fips``), Natural Earth admin-1 files by ISO
3166-2 (``iso_3166_2``); another key property can be named. The parent (for rolling areas up)
is the FIPS state (first two digits) or the ISO 3166-1 country (before the dash)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from outage_map.errors import ReaderError
from outage_map.model import AdminArea
from outage_map.readers.fields import FieldError
from outage_map.readers.geojson import Feature, geometry_of, load_features, polygonal
from outage_map.readers.results import Problem, ReadResult, Severity
from outage_map.readers.tables import Input, input_name

KEY_PROPERTIES = ("fips", "iso_3166_2", "geoid", "code")
"""Tried in this order when no key property is named."""

_ISO_3166_2 = re.compile(r"([A-Z]{2})-[A-Z0-9]{1,3}")


def read_boundaries(
    source: Input,
    *,
    key: str | None = None,
    name_property: str = "name",
    parent_property: str | None = None,
    name: str | None = None,
) -> ReadResult[AdminArea]:
    """Areas from a GeoJSON FeatureCollection of Polygon/MultiPolygon features.

    A feature without a key, with a key seen before, or without polygonal geometry is an
    error; invalid geometry is repaired with ``make_valid`` and reported as info."""
    file = input_name(source, name)
    features = load_features(source, file, "an admin boundary file")
    key = key or _detect_key(features, file)
    if features and not any(key in f.properties for f in features):
        raise ReaderError(
            f"{file}: no feature has the key property {key!r}; properties found: "
            f"{', '.join(sorted(_property_names(features))) or 'none'}. "
            "Name the property that holds the area code"
        )
    areas: list[AdminArea] = []
    problems: list[Problem] = []
    first_seen: dict[str, int] = {}
    for feature in features:
        code = _code(feature.properties.get(key), key)
        if not code:
            problems.append(
                Problem(
                    file,
                    None,
                    key,
                    None,
                    "is missing or empty; the area has no code",
                    feature=feature.number,
                )
            )
            continue
        if code in first_seen:
            problems.append(
                Problem(
                    file,
                    None,
                    key,
                    code,
                    f"was already used by feature {first_seen[code]}; this one is dropped",
                    feature=feature.number,
                )
            )
            continue
        try:
            geometry, repair = polygonal(geometry_of(feature.geometry))
        except FieldError as exc:
            problems.append(
                Problem(
                    file,
                    None,
                    "geometry",
                    None,
                    f"{exc.reason} ({key} {code})",
                    feature=feature.number,
                )
            )
            continue
        if repair is not None:
            problems.append(
                Problem(
                    file,
                    None,
                    "geometry",
                    None,
                    f"{repair} ({key} {code})",
                    Severity.INFO,
                    feature=feature.number,
                )
            )
        first_seen[code] = feature.number
        area_name = feature.properties.get(name_property)
        areas.append(
            AdminArea(
                code=code,
                name=str(area_name).strip() if area_name is not None else "",
                geometry=geometry,
                parent=_parent(code, key, feature.properties, parent_property),
            )
        )
    return ReadResult(file, tuple(areas), tuple(problems), rows=len(features))


def _property_names(features: list[Feature]) -> set[str]:
    return {p for f in features for p in f.properties}


def _detect_key(features: list[Feature], file: str) -> str:
    names = _property_names(features)
    for candidate in KEY_PROPERTIES:
        if candidate in names:
            return candidate
    if not features:
        return KEY_PROPERTIES[0]
    raise ReaderError(
        f"{file}: none of the usual key properties ({', '.join(KEY_PROPERTIES)}) is present; "
        f"properties found: {', '.join(sorted(names)) or 'none'}. Name the key property"
    )


def _code(value: Any, key: str) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int) and key.casefold() in ("fips", "geoid"):
        return f"{value:05d}"  # a number loses the leading zero of 01001 (Autauga, AL)
    return str(value).strip()


def _parent(code: str, key: str, properties: Mapping[str, Any], parent_property: str | None) -> str:
    if parent_property is not None:
        value = properties.get(parent_property)
        return "" if value is None else str(value).strip()
    if key.casefold() in ("fips", "geoid") and re.fullmatch(r"\d{5}", code):
        return code[:2]
    match = _ISO_3166_2.fullmatch(code)
    return match.group(1) if match else ""
