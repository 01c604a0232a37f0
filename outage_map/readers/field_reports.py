"""Crowd and field-team reports: "no signal here", "site on fire", a team's test calls, as a
CSV of points or as GeoJSON points and polygons.

CSV columns (header required, any order, case-insensitive): ``lon``, ``lat``,
``observed_at``, ``status`` required; ``radius_m``, ``cause``, ``technologies``, ``note``,
``reporter``, ``source`` optional. GeoJSON: Point, Polygon or MultiPolygon features with the
same names as properties (``technologies`` may also be a JSON list)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from functools import partial
from pathlib import PurePath
from typing import Any, TypeVar

from shapely.geometry import MultiPolygon, Point, Polygon

from outage_map.model import (
    PointSubject,
    PolygonSubject,
    Report,
    Source,
    SourceKind,
    Subject,
)
from outage_map.readers.fields import (
    FieldError,
    RowError,
    check_received_at,
    parse_cause,
    parse_lat,
    parse_lon,
    parse_number,
    parse_status,
    parse_technologies,
    parse_time,
)
from outage_map.readers.geojson import geometry_of, load_features, polygonal
from outage_map.readers.results import Problem, ReadResult, Severity
from outage_map.readers.tables import CsvTable, Input, Row, input_name, open_text

REQUIRED_CSV = ("lon", "lat", "observed_at", "status")
OPTIONAL = ("radius_m", "cause", "technologies", "note", "reporter", "source")
PROPERTIES = ("observed_at", "status", *OPTIONAL)

FIELD_KINDS: dict[str, SourceKind] = {
    "crowd": SourceKind.CROWD,
    "field team": SourceKind.FIELD_TEAM,
    "field_team": SourceKind.FIELD_TEAM,
    "field": SourceKind.FIELD_TEAM,
    "probe": SourceKind.PROBE,
    "operator": SourceKind.OPERATOR,
    "regulator": SourceKind.REGULATOR,
}

V = TypeVar("V")


def parse_radius(text: str) -> float:
    """Metres; empty means just the point (0)."""
    if not text.strip():
        return 0.0
    metres = parse_number(text)
    if metres < 0:
        raise FieldError("is negative; a radius is 0 or more metres")
    return metres


def parse_source_kind(text: str) -> SourceKind | None:
    if not text.strip():
        return None
    kind = FIELD_KINDS.get(text.strip().casefold())
    if kind is None:
        raise FieldError("is not a source kind; write crowd, field_team, probe or operator")
    return kind


def read_field_reports_csv(
    source: Input,
    *,
    received_at: datetime,
    kind: SourceKind = SourceKind.CROWD,
    reporter: str | None = None,
    default_tz: tzinfo | None = None,
    name: str | None = None,
) -> ReadResult[Report]:
    """Point reports (``PointSubject``, radius ``radius_m`` or 0), one per row.

    The source is ``Source(<source column or kind>, <reporter column or reporter or the file
    stem>)``. Times need an offset unless ``default_tz`` is given."""
    check_received_at(received_at)
    file = input_name(source, name)
    default_reporter = reporter or PurePath(file).stem or kind.value
    reports: list[Report] = []
    problems: list[Problem] = []
    rows = 0
    with open_text(source, file) as stream:
        table = CsvTable(
            stream, file, required=REQUIRED_CSV, known=OPTIONAL, what="a field-report CSV"
        )
        problems.extend(table.unused_problems())
        for item in table.rows():
            rows += 1
            if isinstance(item, Problem):
                problems.append(item)
                continue
            try:
                reports.append(
                    _csv_report(item, table, received_at, kind, default_reporter, default_tz)
                )
            except RowError as bad:
                problems.append(table.problem(item, bad))
    return ReadResult(file, tuple(reports), tuple(problems), rows=rows)


def _csv_report(
    row: Row,
    table: CsvTable,
    received_at: datetime,
    kind: SourceKind,
    reporter: str,
    default_tz: tzinfo | None,
) -> Report:
    subject = PointSubject(
        lon=table.parse(row, "lon", parse_lon),
        lat=table.parse(row, "lat", parse_lat),
        radius_m=table.parse(row, "radius_m", parse_radius),
    )
    return Report(
        observed_at=table.parse(row, "observed_at", partial(parse_time, default_tz=default_tz)),
        received_at=received_at,
        source=Source(
            table.parse(row, "source", parse_source_kind) or kind,
            row.values.get("reporter") or reporter,
        ),
        subject=subject,
        status=table.parse(row, "status", parse_status),
        cause=table.parse(row, "cause", parse_cause),
        technologies=table.parse(row, "technologies", parse_technologies),
        note=row.values.get("note", ""),
    )


def read_field_reports_geojson(
    source: Input,
    *,
    received_at: datetime,
    kind: SourceKind = SourceKind.CROWD,
    reporter: str | None = None,
    default_tz: tzinfo | None = None,
    name: str | None = None,
) -> ReadResult[Report]:
    """Reports from GeoJSON features: a Point becomes a ``PointSubject`` (radius from
    ``radius_m``), a Polygon or MultiPolygon a ``PolygonSubject`` (repaired with
    ``make_valid`` when invalid, reported as info). Other geometry types are errors."""
    check_received_at(received_at)
    file = input_name(source, name)
    default_reporter = reporter or PurePath(file).stem or kind.value
    reports: list[Report] = []
    problems: list[Problem] = []
    features = load_features(source, file, "a field-report file")
    for feature in features:
        props = feature.properties
        try:
            subject, repair = _feature_subject(feature.geometry, props)
            report = Report(
                observed_at=_prop(props, "observed_at", partial(parse_time, default_tz=default_tz)),
                received_at=received_at,
                source=Source(
                    _prop(props, "source", parse_source_kind) or kind,
                    _text(props.get("reporter")) or default_reporter,
                ),
                subject=subject,
                status=_prop(props, "status", parse_status),
                cause=_prop(props, "cause", parse_cause),
                technologies=_prop(props, "technologies", parse_technologies),
                note=_text(props.get("note")),
            )
        except RowError as bad:
            problems.append(
                Problem(file, None, bad.field, bad.value, bad.reason, feature=feature.number)
            )
            continue
        if repair is not None:
            problems.append(
                Problem(file, None, "geometry", None, repair, Severity.INFO, feature=feature.number)
            )
        reports.append(report)
    return ReadResult(file, tuple(reports), tuple(problems), rows=len(features))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):  # technologies as a JSON list
        return ";".join(str(v) for v in value)
    return str(value).strip()


def _prop(props: Mapping[str, Any], key: str, parse: Callable[[str], V]) -> V:
    text = _text(props.get(key))
    try:
        return parse(text)
    except FieldError as exc:
        raise RowError(key, text, exc.reason) from None


def _feature_subject(
    raw: Mapping[str, Any] | None, props: Mapping[str, Any]
) -> tuple[Subject, str | None]:
    try:
        geometry = geometry_of(raw)
        if isinstance(geometry, Point):
            radius = _prop(props, "radius_m", parse_radius)
            return PointSubject(lon=geometry.x, lat=geometry.y, radius_m=radius), None
        if not isinstance(geometry, Polygon | MultiPolygon):
            raise FieldError(
                f"is a {geometry.geom_type}; a report is a Point, Polygon or MultiPolygon"
            )
        shape, repair = polygonal(geometry)
    except RowError:
        raise
    except FieldError as exc:
        raise RowError("geometry", "", exc.reason) from None
    return PolygonSubject(shape), repair
