"""Who gets an SMS: a directory of numbers, each with a language and a place.

The directory is a CSV file or an SQLite database (table ``recipients``) with the columns
``number`` (E.164, ``+`` and 7 to 15 digits), ``language`` (a BCP 47 tag such as ``fr`` or
``ar-SA``; empty: the channel's default), ``geocodes`` (``NAME=VALUE`` pairs separated by ``;``
matched against the CAP area's geocodes, or ``*`` for every alert the channel carries),
``lon``/``lat`` (a point matched against the area's polygons and circles) and ``name``.
A recipient is in an area when one of its geocodes is the area's, or its point lies inside one
of the area's polygons or circles. Rows that cannot be read are reported with their line and
field and left out; the others are kept.
"""

from __future__ import annotations

import csv
import math
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shapely import contains_xy

from cap.geometry import polygon_shape
from cap.model import Area
from gateways.base import GatewayConfigError

_NUMBER = re.compile(r"\+[1-9]\d{6,14}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")
_COLUMNS = ("number", "language", "geocodes", "lon", "lat", "name")
_EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Recipient:
    number: str
    language: str = ""
    geocodes: frozenset[tuple[str, str]] = frozenset()  # (lower-cased name, value)
    everywhere: bool = False
    lon: float | None = None
    lat: float | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class DirectoryProblem:
    """A row left out: where it is and why."""

    source: str
    line: int  # the CSV line as a person counts it (header = 1), or the table's row number
    field: str
    message: str
    unit: str = "line"

    def __str__(self) -> str:
        return f"{self.source} {self.unit} {self.line}, field {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class RecipientDirectory:
    recipients: tuple[Recipient, ...]
    problems: tuple[DirectoryProblem, ...] = ()

    def in_areas(self, areas: Sequence[Area]) -> list[Recipient]:
        """The recipients in any of ``areas``, in directory order, each once."""
        matchers = [_AreaMatcher(area) for area in areas]
        return [r for r in self.recipients if r.everywhere or any(m.contains(r) for m in matchers)]


class _AreaMatcher:
    def __init__(self, area: Area) -> None:
        self.geocodes = {(g.value_name.strip().lower(), g.value.strip()) for g in area.geocodes}
        self.polygons = [s for s in map(polygon_shape, area.polygons) if s is not None]
        self.circles: list[tuple[float, float, float]] = [
            (float(c.center.lat), float(c.center.lon), float(c.radius_km))
            for c in area.circles
            if c.center is not None and c.radius_km is not None
        ]

    def contains(self, recipient: Recipient) -> bool:
        if self.geocodes & recipient.geocodes:
            return True
        if recipient.lon is None or recipient.lat is None:
            return False
        lon, lat = recipient.lon, recipient.lat
        if any(bool(contains_xy(polygon, lon, lat)) for polygon in self.polygons):
            return True
        return any(
            _distance_km(lat, lon, c_lat, c_lon) <= radius for c_lat, c_lon, radius in self.circles
        )


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def load_directory(path: Path) -> RecipientDirectory:
    """Read a CSV or SQLite directory (chosen by the file's first bytes, not its name)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise GatewayConfigError(
            f"recipients directory {path}: cannot be read ({exc.strerror or exc})"
        ) from None
    if head.startswith(b"SQLite format 3\x00"):
        return _read_sqlite(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GatewayConfigError(
            f"recipients directory {path}: not UTF-8 text at byte {exc.start}; save it as UTF-8"
        ) from None
    return read_csv_directory(text.splitlines(), source=str(path))


def read_csv_directory(lines: Iterable[str], *, source: str) -> RecipientDirectory:
    reader = csv.DictReader(lines)
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "number" not in fields:
        raise GatewayConfigError(
            f"recipients directory {source}: the header has no 'number' column "
            f"(found: {', '.join(fields) or 'nothing'}); columns: {', '.join(_COLUMNS)}"
        )
    reader.fieldnames = fields
    rows = ((reader.line_num, row) for row in reader)
    return _build(rows, source)


def _read_sqlite(path: Path) -> RecipientDirectory:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            cur = conn.execute("SELECT * FROM recipients ORDER BY rowid")
            names = [d[0].lower() for d in cur.description]
            rows: list[tuple[int, dict[str, str | None]]] = [
                (n, {k: None if v is None else str(v) for k, v in zip(names, row, strict=True)})
                for n, row in enumerate(cur.fetchall(), 1)
            ]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise GatewayConfigError(
            f"recipients directory {path}: cannot read its 'recipients' table ({exc}); "
            f"expected columns {', '.join(_COLUMNS)}"
        ) from None
    if rows and "number" not in rows[0][1]:
        raise GatewayConfigError(f"recipients directory {path}: table has no 'number' column")
    return _build(iter(rows), str(path), "row")


def _build(
    rows: Iterable[tuple[int, dict[str, str | None]]], source: str, unit: str = "line"
) -> RecipientDirectory:
    recipients: list[Recipient] = []
    problems: list[DirectoryProblem] = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            recipient = _recipient(row)
        except _RowError as exc:
            problems.append(DirectoryProblem(source, line, exc.field, exc.message, unit))
            continue
        if recipient.number in seen:
            problems.append(
                DirectoryProblem(
                    source, line, "number", f"{recipient.number} is listed already; kept once", unit
                )
            )
            continue
        seen.add(recipient.number)
        recipients.append(recipient)
    return RecipientDirectory(tuple(recipients), tuple(problems))


class _RowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _cell(row: dict[str, str | None], name: str) -> str:
    value = row.get(name)
    return (value or "").strip()


def _recipient(row: dict[str, str | None]) -> Recipient:
    number = re.sub(r"[\s().-]", "", _cell(row, "number"))
    if not _NUMBER.fullmatch(number):
        raise _RowError(
            "number",
            f"{_cell(row, 'number')!r} is not an international number: write it as + and "
            "the country code, 7 to 15 digits in all (e.g. +254700000001)",
        )
    language = _cell(row, "language")
    if language and not _LANGUAGE.fullmatch(language):
        raise _RowError("language", f"{language!r} is not a language tag such as 'fr' or 'ar-SA'")
    geocodes: set[tuple[str, str]] = set()
    everywhere = False
    for pair in filter(None, (p.strip() for p in _cell(row, "geocodes").split(";"))):
        if pair == "*":
            everywhere = True
            continue
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise _RowError("geocodes", f"{pair!r} is not NAME=VALUE (e.g. SAME=006109) or *")
        geocodes.add((name.strip().lower(), value.strip()))
    lon_text, lat_text = _cell(row, "lon"), _cell(row, "lat")
    lon = lat = None
    if lon_text or lat_text:
        lon = _coordinate(lon_text, "lon", 180.0)
        lat = _coordinate(lat_text, "lat", 90.0)
    if not everywhere and not geocodes and lon is None:
        raise _RowError("geocodes", "no place: give geocodes, lon and lat, or * for every alert")
    return Recipient(
        number, language, frozenset(geocodes), everywhere, lon, lat, _cell(row, "name")
    )


def _coordinate(text: str, field: str, limit: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _RowError(field, f"{text!r} is not a number (decimal degrees)") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise _RowError(field, f"{text} is out of range (-{limit:g} to {limit:g})")
    return value
