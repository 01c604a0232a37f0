"""Polygons, circles, references and lists: text to values and back without loss."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cap.model import Circle, Point, Polygon, Reference
from cap.textcodecs import (
    format_circle,
    format_polygon,
    format_references,
    join_cap_list,
    parse_circle,
    parse_polygon,
    parse_references,
    split_cap_list,
)
from cap.timefmt import format_cap_datetime

lats = st.decimals(min_value=-90, max_value=90, places=4, allow_nan=False)
lons = st.decimals(min_value=-180, max_value=180, places=4, allow_nan=False)
points = st.builds(Point, lats, lons)


@given(st.lists(points, min_size=3, max_size=30))
def test_polygon_round_trip(ring: list[Point]) -> None:
    ring = [*ring, ring[0]]
    polygon = Polygon(tuple(ring))
    back = parse_polygon(format_polygon(polygon))
    assert back == polygon
    assert back.points[0] == back.points[-1]


@given(points, st.decimals(min_value=0, max_value=20000, places=3, allow_nan=False))
def test_circle_round_trip(center: Point, radius: Decimal) -> None:
    circle = Circle(center, radius)
    assert parse_circle(format_circle(circle)) == circle


def test_polygon_tolerates_newlines_and_extra_spaces() -> None:
    polygon = parse_polygon(" 38.47,-120.14\n  38.34,-119.95 38.52,-119.74\t38.47,-120.14 ")
    assert len(polygon.points) == 4
    assert polygon.points[1] == Point(Decimal("38.34"), Decimal("-119.95"))


def test_bad_polygon_keeps_its_text_for_reporting() -> None:
    polygon = parse_polygon("38.47,-120.14, 38.34,-119.95,")
    assert polygon.points == ()
    assert format_polygon(polygon) == "38.47,-120.14, 38.34,-119.95,"


def test_bad_circle_is_kept() -> None:
    circle = parse_circle("32.9525,-115.5527")
    assert circle.radius_km is None and format_circle(circle) == "32.9525,-115.5527"


tokens = st.text(
    alphabet=st.characters(blacklist_characters=' ,"<&', blacklist_categories=("Cs", "Z", "Cc")),
    min_size=1,
    max_size=20,
)
offsets = st.integers(min_value=-720, max_value=840).map(lambda m: timezone(timedelta(minutes=m)))
sent_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets
).map(lambda d: d.replace(microsecond=0))


@given(st.lists(st.tuples(tokens, tokens, sent_times), max_size=6))
def test_references_round_trip(triples: list[tuple[str, str, datetime]]) -> None:
    refs = tuple(Reference(s, i, t, format_cap_datetime(t)) for s, i, t in triples)
    assert parse_references(format_references(refs)) == refs


def test_malformed_reference_token_is_kept_whole() -> None:
    (ref,) = parse_references("only-an-identifier")
    assert ref.identifier == "" and ref.as_text() == "only-an-identifier"


@given(st.lists(st.text(alphabet="abc xyz-", min_size=1, max_size=12).filter(str.strip)))
def test_lists_with_quoted_entries_round_trip(items: list[str]) -> None:
    items = [i.strip() for i in items if i.strip() and "  " not in i.strip()]
    assert list(split_cap_list(join_cap_list(items))) == items


def test_split_respects_quotes() -> None:
    assert split_cap_list('a "b c" d') == ("a", "b c", "d")
