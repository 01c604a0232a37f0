"""A CAP area as shapes: what routing and the SAME county lookup take an area to cover."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cap.geometry import area_shapes, circle_shape, disc_shape, polygon_shape, ring_shape
from cap.model import Area, Circle, Point, Polygon

EARTH_RADIUS_KM = 6371.0


def polygon(text: str) -> Polygon:
    points = tuple(
        Point(Decimal(lat), Decimal(lon)) for lat, lon in (p.split(",") for p in text.split())
    )
    return Polygon(points, text)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@given(
    lat=st.floats(-70, 70),
    lon=st.floats(-170, 170),
    radius=st.floats(1, 300),
    bearing=st.floats(0, 2 * math.pi),
)
def test_a_circle_covers_the_points_within_its_radius(
    lat: float, lon: float, radius: float, bearing: float
) -> None:
    disc = disc_shape(lat, lon, radius)
    # The boundary point in that direction lies within 3 % of the radius from the centre (the
    # ellipse in degrees ignores how cos(latitude) changes across the circle).
    ring = disc.exterior
    far = ring.interpolate(bearing / (2 * math.pi), normalized=True)
    distance = great_circle_km(lat, lon, far.y, far.x)
    assert abs(distance - radius) <= 0.03 * radius + 0.05


def test_a_circle_of_radius_zero_is_its_centre() -> None:
    shape = circle_shape(Circle(Point(Decimal("38.5"), Decimal("-121.5")), Decimal("0"), "x"))
    assert shape is not None and shape.geom_type == "Point"
    assert (shape.x, shape.y) == (-121.5, 38.5)


def test_a_bow_tie_keeps_the_area_its_author_drew() -> None:
    shape = polygon_shape(polygon("0,0 1,1 1,0 0,1 0,0"))
    assert shape is not None and shape.is_valid
    assert shape.area == 0.5  # two triangles of a quarter each


def test_shapes_that_describe_no_place_are_left_out() -> None:
    assert ring_shape([(0.0, 0.0), (1.0, 1.0), (0.0, 0.0)]) is None  # two distinct points
    assert ring_shape([(0.0, 0.0), (math.inf, 1.0), (1.0, 0.0), (0.0, 0.0)]) is None
    assert circle_shape(Circle(None, Decimal("5"), "5")) is None
    assert circle_shape(Circle(Point(Decimal(0), Decimal(0)), Decimal("-1"), "0,0 -1")) is None
    area = Area(
        "Vale",
        polygons=(polygon("53.96,-1.08 53.93,-1.02 53.80,-1.05 53.96,-1.08"), polygon("1,1 1,1")),
        circles=(Circle(None, None, ""),),
    )
    (only,) = area_shapes(area)
    assert only.contains(disc_shape(53.9, -1.05, 0))
