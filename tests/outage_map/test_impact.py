"""For dispatch: which channels an outage makes unlikely to reach an alert's area."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from shapely.geometry import box

from cap.model import Area, Circle, Geocode, Point, Polygon
from outage_map.config import MergePolicy
from outage_map.impact import alert_geometry, channel_impact
from outage_map.inventory import AreaTable, SiteInventory
from outage_map.merge import MergeResult, merge
from outage_map.model import (
    AdminArea,
    AreaSubject,
    Report,
    Site,
    SiteSubject,
    Source,
    SourceKind,
    Status,
    Technology,
)
from outage_map.table import ReportTable

T0 = datetime(2024, 9, 1, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = MergePolicy()
OPERATOR = Source(SourceKind.OPERATOR, "telco")
REGULATOR = Source(SourceKind.REGULATOR, "regulator")

# A coast of dark sites (lon 125.5-125.6) and an inland town that is fine (lon 126.0).
SITES = (
    Site("coast-1", 125.50, -8.55, 2000.0, Technology.GSM),
    Site("coast-2", 125.55, -8.55, 2000.0, Technology.GSM),
    Site("coast-3", 125.60, -8.56, 2000.0, Technology.LTE),
    Site("town-1", 126.00, -8.90, 2000.0, Technology.LTE),
)
AREAS = (
    AdminArea("TL-DI", "Díli", box(125.4, -8.7, 125.7, -8.4)),
    AdminArea("TL-AT", "Atauro", box(125.5, -8.35, 125.7, -8.1)),  # no sites
)


def result() -> MergeResult:
    reports = [
        Report(T0, T0, OPERATOR, SiteSubject("coast-1"), Status.DOWN),
        Report(T0, T0, OPERATOR, SiteSubject("coast-2"), Status.DOWN),
        Report(T0, T0, OPERATOR, SiteSubject("coast-3"), Status.DEGRADED),
        Report(T0, T0, OPERATOR, SiteSubject("town-1"), Status.UP),
        Report(T0, T0, REGULATOR, AreaSubject("TL-AT"), Status.DOWN, share_out=0.8),
    ]
    inventory = SiteInventory.from_sites(SITES, POLICY)
    return merge(
        ReportTable.from_reports(reports),
        inventory,
        AreaTable.build(AREAS, inventory),
        T0 + H,
        POLICY,
    )


RESULT = result()


def cap_polygon(*lat_lon: tuple[float, float]) -> Polygon:
    return Polygon(tuple(Point(Decimal(str(lat)), Decimal(str(lon))) for lat, lon in lat_lon))


def test_cell_channels_are_impaired_where_the_cell_network_is_down() -> None:
    impact = channel_impact(box(125.45, -8.6, 125.65, -8.5), RESULT)
    assert impact.basis == "sites"
    assert (impact.sites_total, impact.sites_known, impact.sites_down) == (3, 3, 2)
    assert impact.share_out == pytest.approx((1 + 1 + 0.5) / 3)
    assert impact.cell_network is Status.DOWN
    assert impact.impaired == ("cell_broadcast", "sms")
    assert impact.prefer == ("radio", "satellite")
    assert "2 of 3" not in impact.reason and "3 of 3 cell sites" in impact.reason


def test_nothing_is_impaired_where_the_network_is_up() -> None:
    impact = channel_impact(box(125.95, -8.95, 126.05, -8.85), RESULT)
    assert impact.cell_network is Status.UP and impact.impaired == ()
    assert {c.kind: c.state for c in impact.channels}["sms"] == "ok"


def test_a_cap_area_with_polygons_and_circles() -> None:
    area = Area(
        area_desc="Coast and town",
        polygons=(cap_polygon((-8.6, 125.45), (-8.6, 125.52), (-8.5, 125.52), (-8.6, 125.45)),),
        circles=(Circle(Point(Decimal("-8.9"), Decimal("126.0")), Decimal("1")),),
    )
    geometry = alert_geometry(area)
    assert geometry is not None and geometry.geom_type == "MultiPolygon"
    impact = channel_impact(area, RESULT)
    assert impact.sites_total == 2  # coast-1 (down) and town-1 (up)
    assert impact.share_out == pytest.approx(0.5)
    assert impact.cell_network is Status.DEGRADED
    assert impact.impaired == () and {c.state for c in impact.channels[:2]} == {"degraded"}


def test_without_sites_the_overlapping_areas_answer() -> None:
    impact = channel_impact(box(125.55, -8.3, 125.65, -8.2), RESULT)  # over Atauro only
    assert impact.basis == "areas" and impact.areas == ("TL-AT",)
    assert impact.share_out == pytest.approx(0.8)
    assert impact.impaired == ("cell_broadcast", "sms")


def test_geocodes_name_the_areas_when_there_is_no_geometry() -> None:
    area = Area(area_desc="Atauro", geocodes=(Geocode("ISO3166-2", "TL-AT"),))
    impact = channel_impact(area, RESULT)
    assert impact.basis == "geocodes" and impact.share_out == pytest.approx(0.8)
    unknown = channel_impact(Area(area_desc="Elsewhere"), RESULT)
    assert unknown.cell_network is Status.UNKNOWN and unknown.impaired == ()
    assert {c.state for c in unknown.channels if c.needs_cell_network} == {"unknown"}
    assert "no cell site" in unknown.reason


def test_kinds_not_known_to_depend_on_the_cell_network_are_not_assessed() -> None:
    impact = channel_impact(box(125.45, -8.6, 125.65, -8.5), RESULT, kinds=("sms", "mqtt"))
    assert [(c.kind, c.state) for c in impact.channels] == [
        ("sms", "impaired"),
        ("mqtt", "not assessed"),
    ]
