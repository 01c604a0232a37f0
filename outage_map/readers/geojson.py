"""Reading GeoJSON feature collections and checking their geometry.

GeoJSON has no useful line numbers (boundary files are often one line), so problems name the
feature by its 1-based position in the file. Geometry must be EPSG:4326 lon/lat (RFC 7946);
invalid polygons are repaired with shapely's ``make_valid`` and the repair is reported."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity, make_valid

from outage_map.errors import ReaderError
from outage_map.readers.fields import FieldError
from outage_map.readers.tables import Input, open_text

# What shapely's ``shape`` raises on malformed GeoJSON geometry.
_SHAPE_ERRORS = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
    shapely.errors.ShapelyError,
)
_LONLAT_CRS = ("crs84", "epsg::4326", "epsg:4326", "wgs84")


@dataclass(frozen=True, slots=True)
class Feature:
    number: int  # 1-based position in the file
    geometry: Mapping[str, Any] | None
    properties: Mapping[str, Any]


def load_features(source: Input, file: str, what: str) -> list[Feature]:
    """Every feature of a FeatureCollection (or a lone Feature). A file that is not JSON,
    not GeoJSON features, or declares a projected CRS is a ReaderError."""
    with open_text(source, file) as stream:
        try:
            document = json.load(stream)
        except UnicodeDecodeError as exc:
            raise ReaderError(
                f"{file}: is not UTF-8 text ({exc.reason}); save it as UTF-8 GeoJSON"
            ) from None
        except (OSError, EOFError) as exc:
            raise ReaderError(f"{file}: cannot be read ({exc})") from None
        except json.JSONDecodeError as exc:
            raise ReaderError(
                f"{file} line {exc.lineno} column {exc.colno}: is not JSON ({exc.msg}); "
                f"{what} must be a GeoJSON FeatureCollection"
            ) from None
    if not isinstance(document, dict):
        raise ReaderError(f"{file}: is not a GeoJSON object; {what} must be a FeatureCollection")
    kind = document.get("type")
    if kind == "Feature":
        raw = [document]
    elif kind == "FeatureCollection" and isinstance(document.get("features"), list):
        raw = document["features"]
    else:
        raise ReaderError(
            f"{file}: GeoJSON type is {kind!r}, not a FeatureCollection with a 'features' "
            f"list; {what} must be one"
        )
    _check_crs(document, file)
    features = []
    for number, item in enumerate(raw, start=1):
        item_dict = item if isinstance(item, dict) else {}
        geometry = item_dict.get("geometry")
        properties = item_dict.get("properties")
        features.append(
            Feature(
                number,
                geometry if isinstance(geometry, dict) else None,
                properties if isinstance(properties, dict) else {},
            )
        )
    return features


def _check_crs(document: Mapping[str, Any], file: str) -> None:
    crs = document.get("crs")
    if not isinstance(crs, dict):
        return
    properties = crs.get("properties")
    name = str(properties.get("name", "")) if isinstance(properties, dict) else ""
    if name and not any(name.casefold().endswith(tag) for tag in _LONLAT_CRS):
        raise ReaderError(
            f"{file}: declares CRS {name!r}; the outage map reads lon/lat (EPSG:4326) only. "
            "Reproject it, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson"
        )


def geometry_of(raw: Mapping[str, Any] | None) -> BaseGeometry:
    """A shapely geometry from a GeoJSON geometry object; FieldError when it is none or
    malformed, or its coordinates are not lon/lat."""
    if raw is None:
        raise FieldError("is missing or null; every feature needs a geometry")
    try:
        geometry = shape(dict(raw))
    except _SHAPE_ERRORS as exc:
        raise FieldError(f"is not a GeoJSON geometry ({exc or type(exc).__name__})") from None
    if geometry.is_empty:
        raise FieldError("is empty")
    xmin, ymin, xmax, ymax = geometry.bounds
    if not all(math.isfinite(v) for v in geometry.bounds):
        raise FieldError("has coordinates that are not numbers")
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        raise FieldError(
            f"has coordinates outside lon/lat range (bounds {xmin:.10g},{ymin:.10g},{xmax:.10g},"
            f"{ymax:.10g});"
            " GeoJSON is lon/lat in EPSG:4326: reproject the file or swap lat and lon"
        )
    return geometry


def polygonal(geometry: BaseGeometry) -> tuple[BaseGeometry, str | None]:
    """The geometry as a (Multi)Polygon, repaired when invalid. Returns it and, when repaired,
    what was wrong (for an info problem). FieldError when it is not polygonal, or nothing
    polygonal survives the repair."""
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise FieldError(f"is a {geometry.geom_type}; a Polygon or MultiPolygon is needed")
    if geometry.is_valid:
        return geometry, None
    why = explain_validity(geometry)
    repaired = make_valid(geometry)
    parts = [p for p in shapely.get_parts(repaired) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        raise FieldError(f"is invalid ({why}) and nothing polygonal is left after make_valid")
    fixed: BaseGeometry = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    if not fixed.is_valid:  # pieces touching along an edge: dissolve them
        fixed = shapely.union_all(parts)
    return fixed, f"was invalid ({why}); repaired with make_valid"
