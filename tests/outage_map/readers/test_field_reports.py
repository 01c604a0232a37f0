"""Crowd and field-team reports as CSV points and GeoJSON points/polygons."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from outage_map.errors import ReaderError
from outage_map.model import (
    Cause,
    PointSubject,
    PolygonSubject,
    Source,
    SourceKind,
    Status,
    Technology,
)
from outage_map.readers import Severity, read_field_reports_csv, read_field_reports_geojson

RECEIVED = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


def test_the_documented_csv_example(fixtures: Path) -> None:
    result = read_field_reports_csv(fixtures / "field_reports.csv", received_at=RECEIVED)
    assert (result.rows, len(result.items), result.problems) == (3, 3, ())
    crowd, team, plaza = result.items
    assert crowd.subject == PointSubject(lon=-66.1057, lat=18.4655, radius_m=500.0)
    assert crowd.source == Source(SourceKind.CROWD, "field_reports")
    assert crowd.observed_at == datetime(2017, 9, 22, 14, 15, tzinfo=UTC)
    assert crowd.status is Status.DOWN
    assert team.subject == PointSubject(lon=-66.0614, lat=18.2208, radius_m=0.0)
    assert team.source == Source(SourceKind.FIELD_TEAM, "team-caguas")
    assert (team.status, team.cause) == (Status.DEGRADED, Cause.POWER)
    assert team.technologies == {Technology.GSM, Technology.UMTS}
    assert team.note == "one bar; site on generator"
    assert plaza.technologies == {Technology.LTE}


def test_the_documented_geojson_example(fixtures: Path) -> None:
    result = read_field_reports_geojson(
        fixtures / "field_reports.geojson", received_at=RECEIVED, kind=SourceKind.FIELD_TEAM
    )
    assert (result.rows, len(result.items), result.problems) == (2, 2, ())
    point, area = result.items
    assert point.subject == PointSubject(lon=-66.1057, lat=18.4655, radius_m=500.0)
    assert point.source == Source(SourceKind.FIELD_TEAM, "field_reports")
    assert isinstance(area.subject, PolygonSubject)
    assert area.subject.geometry.bounds == (-66.1, 18.2, -66.0, 18.26)
    assert area.technologies == {Technology.GSM, Technology.UMTS}
    assert area.cause is Cause.POWER


CSV = """\
lon,lat,radius_m,observed_at,status,cause
-66.1,18.4,,2017-09-22T10:15:00-04:00,down,
18.4,-196.1,,2017-09-22T10:15:00-04:00,down,
-66.1,18.4,-5,2017-09-22T10:15:00-04:00,down,
-66.1,18.4,100,2017-09-22,down,
-66.1,18.4,100,2017-09-22T10:15:00-04:00,no bars,
"""


def test_bad_csv_rows_say_where_and_why() -> None:
    result = read_field_reports_csv(io.StringIO(CSV), received_at=RECEIVED, name="crowd.csv")
    assert [str(p) for p in result.problems] == [
        "crowd.csv line 3, field lat: '-196.1' is not a latitude between -90 and 90",
        "crowd.csv line 4, field radius_m: '-5' is negative; a radius is 0 or more metres",
        "crowd.csv line 5, field observed_at: '2017-09-22' is not a date and time; write it as "
        "ISO 8601, like 2024-10-01T09:00:00-04:00",
        "crowd.csv line 6, field status: 'no bars' is not a status; write up, degraded, down or "
        "unknown",
    ]
    assert len(result.items) == 1


def feature(geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    base = {"observed_at": "2017-09-22T10:15:00Z", "status": "down"}
    return {"type": "Feature", "geometry": geometry, "properties": {**base, **props}}


BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


def test_geojson_invalid_polygons_are_repaired_and_bad_features_reported() -> None:
    features = [
        feature(BOWTIE, note="drawn by hand"),
        feature({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
        feature({"type": "Point", "coordinates": [0, 0]}, status="meh"),
        feature({"type": "Point", "coordinates": [0, 0]}, technologies=["gsm", "tv"]),
        feature(None),
        feature({"type": "Point", "coordinates": [2, 3]}, radius_m="250", source="probe"),
        feature({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}),
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features})
    result = read_field_reports_geojson(io.StringIO(text), received_at=RECEIVED, name="r.json")
    *problems, degenerate = result.problems
    assert [(p.severity, str(p)) for p in problems] == [
        (Severity.INFO, "r.json feature 1, field geometry: was invalid "
         "(Self-intersection[0.5 0.5]); repaired with make_valid"),
        (Severity.ERROR, "r.json feature 2, field geometry: is a LineString; a report is a Point, "
         "Polygon or MultiPolygon"),
        (Severity.ERROR, "r.json feature 3, field status: 'meh' is not a status; write up, "
         "degraded, down or unknown"),
        (Severity.ERROR, "r.json feature 4, field technologies: 'gsm;tv' names 'tv', not a radio "
         "technology; write gsm, umts, cdma, lte or nr, separated by ';'"),
        (Severity.ERROR, "r.json feature 5, field geometry: is missing or null; every feature "
         "needs a geometry"),
    ]  # fmt: skip
    assert (degenerate.feature, degenerate.field) == (7, "geometry")
    assert degenerate.reason.startswith("is invalid (Too few points")  # GEOS's words
    assert degenerate.reason.endswith("nothing polygonal is left after make_valid")
    bowtie, probe = result.items
    assert isinstance(bowtie.subject, PolygonSubject)
    assert bowtie.subject.geometry.is_valid and bowtie.note == "drawn by hand"
    assert probe.subject == PointSubject(2.0, 3.0, 250.0)
    assert probe.source == Source(SourceKind.PROBE, "r")


def test_not_geojson_is_refused() -> None:
    with pytest.raises(ReaderError, match="is not JSON"):
        read_field_reports_geojson(io.StringIO("lon,lat\n"), received_at=RECEIVED, name="x")
