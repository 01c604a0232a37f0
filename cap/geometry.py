"""A CAP area's polygons and circles as Shapely shapes in longitude/latitude degrees.

Routing (does an alert's area meet a channel's coverage?) and the SAME county lookup both need
the area as shapes, and must agree on what a circle covers. Polygons with fewer than three
distinct points or with non-finite coordinates are skipped (the validator reports them); a
self-intersecting ring (a "bow tie") keeps the area its author drew. A circle is approximated by
a 64-sided ellipse in degrees: its edge lies within 3 % of the radius from the centre for
circles up to 300 km at latitudes up to 70 degrees (tests/cap/test_geometry.py). One of radius
0 (USGS marks an epicentre so) is its centre point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from cap.model import Area, Circle, Polygon

KM_PER_DEGREE_LAT: Final = 110.574
KM_PER_DEGREE_LON_AT_EQUATOR: Final = 111.320
# cos(latitude) is floored so that a circle near a pole stays a finite shape.
_MIN_COS_LAT: Final = 0.01
_QUAD_SEGS: Final = 16  # segments per quarter circle


def area_shapes(area: Area) -> list[BaseGeometry]:
    """The area's polygons and circles that describe a place, as lon/lat shapes."""
    shapes = [polygon_shape(p) for p in area.polygons]
    shapes += [circle_shape(c) for c in area.circles]
    return [s for s in shapes if s is not None]


def polygon_shape(polygon: Polygon) -> BaseGeometry | None:
    return ring_shape([(float(p.lon), float(p.lat)) for p in polygon.points])


def ring_shape(coords: Sequence[tuple[float, float]]) -> BaseGeometry | None:
    """A polygon from (lon, lat) pairs; None when it has fewer than 3 distinct points."""
    if len(set(coords)) < 3 or not all(math.isfinite(v) for xy in coords for v in xy):
        return None
    shape = shapely.Polygon(coords)
    if shape.is_valid:
        return shape
    return shapely.make_valid(shape)


def circle_shape(circle: Circle) -> BaseGeometry | None:
    if circle.center is None or circle.radius_km is None:
        return None
    lat, lon, radius = float(circle.center.lat), float(circle.center.lon), float(circle.radius_km)
    if not (math.isfinite(lat) and math.isfinite(lon) and math.isfinite(radius)) or radius < 0:
        return None
    return disc_shape(lat, lon, radius)


def disc_shape(lat: float, lon: float, radius_km: float) -> BaseGeometry:
    """The points within ``radius_km`` of (lat, lon), as a lon/lat shape."""
    centre = shapely.Point(lon, lat)
    if radius_km <= 0:
        return centre
    cos_lat = max(math.cos(math.radians(lat)), _MIN_COS_LAT)
    return affinity.scale(
        centre.buffer(1.0, quad_segs=_QUAD_SEGS),
        xfact=radius_km / (KM_PER_DEGREE_LON_AT_EQUATOR * cos_lat),
        yfact=radius_km / KM_PER_DEGREE_LAT,
        origin=centre,
    )
