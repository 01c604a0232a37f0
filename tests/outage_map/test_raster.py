"""The service GeoTIFF: pixels hold what the merge says about the sites covering them, and
GDAL's own tools (Debian gdal-bin) read the file back as a cloud-optimised EPSG:4326 GeoTIFF
with the values, band descriptions and tags we wrote."""

from __future__ import annotations

import json
import math
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from outage_map.config import MergePolicy
from outage_map.inventory import AreaTable, SiteInventory
from outage_map.merge import MergeResult, merge, service_at
from outage_map.model import Report, Site, SiteSubject, Source, SourceKind, Status, Technology
from outage_map.raster import (
    BAND_DESCRIPTIONS,
    RasterError,
    service_grid,
    write_service_geotiff,
)
from outage_map.table import ReportTable
from tests.conftest import require_tool

T0 = datetime(2024, 9, 1, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = MergePolicy()
OPERATOR = Source(SourceKind.OPERATOR, "telco")
CROWD = Source(SourceKind.CROWD, "app")
BOUNDS = (30.0, -2.0, 32.0, 0.0)  # 2 x 2 degrees; at 0.0025 degrees: 800 x 800 pixels

SITES = (
    Site("lone-up", 30.3, -0.3, 2000.0, Technology.LTE),
    Site("lone-down", 30.9, -0.9, 5000.0, Technology.GSM),
    Site("pair-1", 31.5, -1.5, 3000.0, Technology.GSM),
    Site("pair-2", 31.51, -1.5, 3000.0, Technology.UMTS),
    Site("silent", 31.8, -0.2, 3000.0, Technology.GSM),  # no report: unknown, not drawn
    Site("big", 30.5, -1.6, 30000.0, Technology.GSM),  # drawn one by one (large kernel)
)


def merged() -> MergeResult:
    reports = [
        Report(T0, T0, OPERATOR, SiteSubject("lone-up"), Status.UP),
        Report(T0 + H, T0 + H, OPERATOR, SiteSubject("lone-down"), Status.DOWN),
        Report(T0, T0, OPERATOR, SiteSubject("pair-1"), Status.DEGRADED),
        Report(T0 + 2 * H, T0 + 2 * H, CROWD, SiteSubject("pair-2"), Status.DOWN),
        Report(T0 + 2 * H, T0 + 2 * H, OPERATOR, SiteSubject("pair-2"), Status.UP),
        Report(T0, T0, OPERATOR, SiteSubject("big"), Status.DEGRADED),
    ]
    inventory = SiteInventory.from_sites(SITES, POLICY)
    return merge(
        ReportTable.from_reports(reports),
        inventory,
        AreaTable.build([], inventory),
        T0 + 3 * H,
        POLICY,
    )


RESULT = merged()
GRID = service_grid(RESULT, BOUNDS, 0.0025)


def pixel_of(lon: float, lat: float) -> tuple[int, int]:
    return (
        math.floor((GRID.north - lat) / GRID.resolution_deg),
        math.floor((lon - GRID.west) / GRID.resolution_deg),
    )


def test_a_lone_site_gives_its_own_state() -> None:
    for site_id in ("lone-up", "lone-down"):
        state = RESULT.site(site_id)
        site = SITES[[s.site_id for s in SITES].index(site_id)]
        row, col = pixel_of(site.lon, site.lat)
        assert GRID.probability[row, col] == np.float32(state.probability)
        assert GRID.confidence[row, col] == np.float32(state.confidence)
        assert GRID.age_hours[row, col] == np.float32((state.newest_age_s or 0) / 3600)


def test_overlapping_sites_combine_as_at_least_one_serving() -> None:
    p1 = RESULT.site("pair-1").probability or 0.0
    p2 = RESULT.site("pair-2").probability or 0.0
    row, col = pixel_of(31.505, -1.5)
    assert GRID.probability[row, col] == pytest.approx(1 - (1 - p1) * (1 - p2), abs=1e-6)
    c1, c2 = RESULT.site("pair-1").confidence, RESULT.site("pair-2").confidence
    assert GRID.confidence[row, col] == pytest.approx((c1 + c2) / 2, abs=1e-6)


def test_uncovered_and_unknown_places_are_nodata() -> None:
    assert np.isnan(GRID.probability[pixel_of(31.8, -0.2)])  # the silent site
    assert np.isnan(GRID.probability[pixel_of(31.9, -0.9)])  # nobody there
    assert np.isnan(GRID.age_hours[pixel_of(31.9, -0.9)])


def test_a_site_covers_the_pixels_whose_centres_are_within_its_range() -> None:
    covered = int(np.isfinite(GRID.probability).sum())
    assert covered > 0
    # Area of the disks in pixels, roughly (pair-1/pair-2 overlap; big is partly outside).
    lone = np.isfinite(GRID.probability[:160, :160]).sum()  # lone-up, 2 km: ~pi*r^2 pixels
    r_px_lat = 2000 / (111195 * GRID.resolution_deg)
    expected = math.pi * r_px_lat**2 / math.cos(math.radians(0.3))
    assert abs(lone - expected) / expected < 0.05


def test_every_pixel_answers_like_a_query_at_its_centre() -> None:
    rows, cols = np.nonzero(np.isfinite(GRID.probability))
    rng = np.random.default_rng(3)
    for i in rng.choice(len(rows), 300, replace=False):
        lon, lat = GRID.pixel_centre(int(rows[i]), int(cols[i]))
        answer = service_at(RESULT, lon, lat)
        assert answer.probability is not None
        assert GRID.probability[rows[i], cols[i]] == pytest.approx(answer.probability, abs=1e-6)
        assert GRID.confidence[rows[i], cols[i]] == pytest.approx(answer.confidence, abs=1e-6)
    # And where the grid has nodata, the query knows nothing from sites either.
    empty_r, empty_c = np.nonzero(np.isnan(GRID.probability))
    for i in rng.choice(len(empty_r), 300, replace=False):
        lon, lat = GRID.pixel_centre(int(empty_r[i]), int(empty_c[i]))
        assert service_at(RESULT, lon, lat).basis != "sites"


def test_bad_bounds_and_resolution_are_refused() -> None:
    with pytest.raises(RasterError, match="resolution"):
        service_grid(RESULT, BOUNDS, 0.0)
    with pytest.raises(RasterError, match="west < east"):
        service_grid(RESULT, (32.0, -2.0, 30.0, 0.0), 0.01)
    with pytest.raises(RasterError, match="coarser"):
        service_grid(RESULT, (-180.0, -90.0, 180.0, 90.0), 0.0001)


# --- GDAL reads what we wrote -------------------------------------------------------------------


def gdal_tool(name: str) -> str:
    return require_tool(name, "gdal-bin")


@pytest.fixture(scope="module")
def geotiff(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("raster") / "service.tif"
    write_service_geotiff(RESULT, path, bounds=BOUNDS, resolution_deg=0.0025)
    return path


@pytest.mark.integration
def test_gdalinfo_reads_a_cloud_optimised_epsg_4326_geotiff(geotiff: Path) -> None:
    out = subprocess.run(
        [gdal_tool("gdalinfo"), "-json", str(geotiff)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    info = json.loads(out.stdout)
    assert info["size"] == [800, 800]
    assert 'ID["EPSG",4326]' in info["coordinateSystem"]["wkt"]
    assert info["geoTransform"] == pytest.approx([30.0, 0.0025, 0.0, 0.0, 0.0, -0.0025])
    assert info["metadata"]["IMAGE_STRUCTURE"]["LAYOUT"] == "COG"
    tags = info["metadata"][""]
    assert tags["TOCSIN_MERGE_AT"] == (T0 + 3 * H).isoformat()
    assert json.loads(tags["TOCSIN_POLICY"])["max_age_s"] == POLICY.max_age_s
    assert tags["TOCSIN_SITES"] == "6" and tags["TOCSIN_SITES_KNOWN"] == "5"
    bands = info["bands"]
    assert [b["description"] for b in bands] == list(BAND_DESCRIPTIONS)
    for band in bands:
        assert band["type"] == "Float32"
        assert band["block"] == [256, 256]
        assert band["noDataValue"] == "NaN"
        assert band["overviews"], "a COG of 800 x 800 pixels has overviews"


@pytest.mark.integration
def test_gdallocationinfo_returns_the_merged_values_at_the_sites(geotiff: Path) -> None:
    tool = gdal_tool("gdallocationinfo")
    for site_id in ("lone-up", "lone-down", "pair-1", "big"):
        site = SITES[[s.site_id for s in SITES].index(site_id)]
        row, col = pixel_of(site.lon, site.lat)
        lon, lat = GRID.pixel_centre(row, col)
        out = subprocess.run(
            [tool, "-valonly", "-wgs84", str(geotiff), repr(lon), repr(lat)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        values = [float(v) for v in out.stdout.split()]
        answer = service_at(RESULT, lon, lat)
        assert answer.probability is not None
        assert values[0] == pytest.approx(answer.probability, abs=1e-6), site_id
        assert values[1] == pytest.approx(answer.confidence, abs=1e-6), site_id
        assert values[2] == pytest.approx((answer.newest_age_s or 0) / 3600, abs=1e-5), site_id
        if site_id.startswith("lone"):
            assert values[0] == pytest.approx(RESULT.site(site_id).probability, abs=1e-6)
    # Where no site is known, GDAL reads nodata.
    out = subprocess.run(
        [tool, "-valonly", "-wgs84", str(geotiff), "31.9", "-0.9"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert all(math.isnan(float(v)) for v in out.stdout.split())
