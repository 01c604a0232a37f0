"""A small synthetic outage for the layer, map, command and HTTP tests.

Three square areas side by side along the equator, children of the region ``RG``:

- ``RG-A`` (0..1°E): four GSM sites, all reported down (power) by their operator at T0;
- ``RG-B`` (1..2°E): two sites, reported up at T0;
- ``RG-C`` (2..3°E): no site and no report of its own; the region-wide report (30 % out)
  gives it its figures.

A crowd report ("no signal") at 0.5°E 0.5°N, and a field team's polygon over RG-B.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import shapely

from outage_map.config import MergePolicy
from outage_map.model import (
    AdminArea,
    AreaSubject,
    Cause,
    PointSubject,
    PolygonSubject,
    Report,
    Site,
    SiteSubject,
    Source,
    SourceKind,
    Status,
    Technology,
)
from outage_map.store import OutageStore

T0 = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)
RECEIVED = T0 + timedelta(minutes=5)
OPERATOR = Source(SourceKind.OPERATOR, "Example Mobile")
REGULATOR = Source(SourceKind.REGULATOR, "Regional regulator")

AREAS = (
    AdminArea("RG-A", "Alpha", shapely.box(0.0, 0.0, 1.0, 1.0), "RG"),
    AdminArea("RG-B", "Beta", shapely.box(1.0, 0.0, 2.0, 1.0), "RG"),
    AdminArea("RG-C", "Gamma", shapely.box(2.0, 0.0, 3.0, 1.0), "RG"),
)
SITES_A = (("a1", 0.2, 0.2), ("a2", 0.8, 0.2), ("a3", 0.2, 0.8), ("a4", 0.8, 0.8))
SITES_B = (("b1", 1.3, 0.5), ("b2", 1.7, 0.5))
SITES = tuple(
    Site(site_id, lon, lat, 2000.0, Technology.GSM, "001-01")
    for site_id, lon, lat in SITES_A + SITES_B
)


def reports() -> list[Report]:
    out = [
        Report(T0, RECEIVED, OPERATOR, SiteSubject(site_id), Status.DOWN, Cause.POWER)
        for site_id, _lon, _lat in SITES_A
    ]
    out += [
        Report(T0, RECEIVED, OPERATOR, SiteSubject(site_id), Status.UP)
        for site_id, _lon, _lat in SITES_B
    ]
    out.append(
        Report(
            T0 - timedelta(hours=1),
            RECEIVED,
            REGULATOR,
            AreaSubject("RG"),
            Status.DEGRADED,
            share_out=0.3,
            note="regional figure",
        )
    )
    out.append(
        Report(
            T0 + timedelta(minutes=30),
            RECEIVED,
            Source(SourceKind.CROWD, "hotline"),
            PointSubject(0.5, 0.5, 500.0),
            Status.DOWN,
            note="no signal",
        )
    )
    out.append(
        Report(
            T0 - timedelta(hours=2),
            RECEIVED,
            Source(SourceKind.FIELD_TEAM, "team-1"),
            PolygonSubject(shapely.box(1.1, 0.1, 1.9, 0.9)),
            Status.UP,
        )
    )
    return out


def build_store(path: Path) -> Path:
    """The scenario in a fresh store file."""
    with OutageStore(path) as store:
        store.append_areas(AREAS, origin="scenario", now=RECEIVED)
        store.append_sites(SITES, origin="scenario", now=RECEIVED)
        store.append_reports(reports(), origin="scenario", now=RECEIVED)
    return path


POLICY = MergePolicy()
AT = T0 + timedelta(hours=1)  # every report observed, none stale
