"""The small text syntaxes inside CAP elements: lists, references, polygons, circles, pairs.

Each function turns text into model values without raising: a malformed piece is kept in a form
the validator can report on (see :mod:`cap.rules`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from cap.model import Circle, Point, Polygon, Reference
from cap.timefmt import format_cap_datetime, parse_lenient_datetime

_NUMBER_RE = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)$")


def split_cap_list(text: str) -> tuple[str, ...]:
    """Split a CAP space-delimited list; entries holding spaces are enclosed in double quotes."""
    items: list[str] = []
    for m in re.finditer(r'"([^"]*)"|(\S+)', text):
        items.append(m.group(1) if m.group(1) is not None else m.group(2))
    return tuple(items)


def join_cap_list(items: tuple[str, ...] | list[str]) -> str:
    return " ".join(f'"{item}"' if re.search(r"\s", item) else item for item in items)


def parse_references(text: str) -> tuple[Reference, ...]:
    """Parse ``sender,identifier,sent`` triples separated by white space.

    A token that is not a triple is kept whole in ``sender`` with empty ``identifier`` and
    ``sent_text`` so that it can be reported and written back unchanged.
    """
    refs: list[Reference] = []
    for token in text.split():
        parts = token.split(",")
        if len(parts) == 3:
            sender, identifier, sent_text = parts
            refs.append(Reference(sender, identifier, parse_lenient_datetime(sent_text), sent_text))
        else:
            refs.append(Reference(token, "", None, ""))
    return tuple(refs)


def format_references(refs: tuple[Reference, ...]) -> str:
    return " ".join(r.as_text() for r in refs)


def parse_decimal(text: str) -> Decimal | None:
    stripped = text.strip()
    if not _NUMBER_RE.match(stripped):
        return None
    try:
        return Decimal(stripped)
    except InvalidOperation:
        return None


def parse_point(text: str) -> Point | None:
    """``lat,lon`` (WGS 84, decimal degrees) into a point; ``None`` if it is not two numbers."""
    parts = text.split(",")
    if len(parts) != 2:
        return None
    lat, lon = parse_decimal(parts[0]), parse_decimal(parts[1])
    if lat is None or lon is None:
        return None
    return Point(lat, lon)


_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_POLYGON_RE = re.compile(rf"\s*{_NUM},{_NUM}(?:\s+{_NUM},{_NUM})*\s*")


def parse_polygon(text: str) -> Polygon:
    """Points separated by white space; an unparseable polygon has no points but keeps its text."""
    if _POLYGON_RE.fullmatch(text) is None:
        return Polygon((), text)
    points = []
    for token in text.split():
        lat, lon = token.split(",")
        points.append(Point(Decimal(lat), Decimal(lon)))
    return Polygon(tuple(points), text)


def format_point(point: Point) -> str:
    return f"{_decimal_text(point.lat)},{_decimal_text(point.lon)}"


def format_polygon(polygon: Polygon) -> str:
    if not polygon.points:
        return polygon.text
    return " ".join(format_point(p) for p in polygon.points)


def parse_circle(text: str) -> Circle:
    """``lat,lon radius`` with the radius in kilometres."""
    parts = text.split()
    if len(parts) != 2:
        return Circle(None, None, text)
    return Circle(parse_point(parts[0]), parse_decimal(parts[1]), text)


def format_circle(circle: Circle) -> str:
    if circle.center is None or circle.radius_km is None:
        return circle.text
    return f"{format_point(circle.center)} {_decimal_text(circle.radius_km)}"


def _decimal_text(value: Decimal) -> str:
    text = format(value, "f")
    return text


def format_sent(reference: Reference) -> str:
    """The ``sent`` part of a reference, re-written canonically when it was a valid time."""
    if reference.sent is None:
        return reference.sent_text
    return format_cap_datetime(reference.sent)
