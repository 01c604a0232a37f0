"""County tables: which SAME location codes an alert's polygons and circles fall in.

An alert drawn as a polygon (a storm track, a plume) has no county codes of its own; a SAME
header needs them. A county table is a GeoJSON FeatureCollection of county outlines keyed by
5-digit FIPS (state + county, e.g. the US Census cartographic boundary files), such as
``../shared/data/outage/us_census_fl_counties.geojson``. A county is in the alert when its
interior meets an area's polygon or circle (touching along a border is not enough).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from cap.geometry import area_shapes
from cap.model import Area
from gateways.base import GatewayConfigError

_FIPS_RE = re.compile(r"^\d{5}$")


class CountyTableError(GatewayConfigError):
    """A county table that cannot be used (missing, not GeoJSON, a bad FIPS code)."""


@dataclass(frozen=True, slots=True, eq=False)
class CountyTable:
    """County outlines and their SAME codes (``0SSCCC``: the whole county)."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    geometries: NDArray[np.object_]
    source: str

    def locations_for(self, areas: Sequence[Area]) -> tuple[str, ...]:
        """The codes of the counties whose interior the areas' polygons and circles reach,
        in code order."""
        shapes = [s for area in areas for s in area_shapes(area)]
        if not shapes or not self.codes:
            return ()
        hazard = shapely.unary_union(shapes)
        hit = shapely.intersects(self.geometries, hazard) & ~shapely.touches(
            self.geometries, hazard
        )
        return tuple(sorted(code for code, h in zip(self.codes, hit, strict=True) if h))


def county_table_from_geojson(
    document: Mapping[str, Any], *, source: str, fips_property: str = "fips"
) -> CountyTable:
    """A county table from a parsed GeoJSON FeatureCollection whose features carry a 5-digit
    FIPS code in ``fips_property`` (pure)."""
    if document.get("type") != "FeatureCollection" or not isinstance(
        document.get("features"), list
    ):
        raise CountyTableError(f"{source}: not a GeoJSON FeatureCollection")
    codes: list[str] = []
    names: list[str] = []
    geometries: list[BaseGeometry] = []
    for n, feature in enumerate(document["features"], 1):
        properties = feature.get("properties") or {}
        fips = str(properties.get(fips_property, "")).strip()
        if not _FIPS_RE.match(fips):
            raise CountyTableError(
                f"{source}: feature {n}: property {fips_property!r} is {fips!r}, expected a "
                "5-digit county FIPS code (state + county, e.g. 12086)"
            )
        try:
            geometry = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CountyTableError(f"{source}: feature {n} ({fips}): bad geometry: {exc}") from None
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        codes.append("0" + fips)
        names.append(str(properties.get("name", "")))
        geometries.append(geometry)
    array = np.empty(len(geometries), dtype=object)
    array[:] = geometries
    shapely.prepare(array)
    return CountyTable(tuple(codes), tuple(names), array, source)


def load_county_table(path: Path, *, fips_property: str = "fips") -> CountyTable:
    """Read a county GeoJSON file (the IO edge of :func:`county_table_from_geojson`)."""
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise CountyTableError(f"county table {path}: no such file") from None
    except OSError as exc:
        raise CountyTableError(f"county table {path}: cannot read it: {exc.strerror}") from None
    except ValueError as exc:
        raise CountyTableError(f"county table {path}: not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise CountyTableError(f"county table {path}: not a GeoJSON FeatureCollection")
    return county_table_from_geojson(document, source=path.name, fips_property=fips_property)
