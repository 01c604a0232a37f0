"""Vector layers: what the areas and sites layers say, and that GDAL reads the files back."""

from __future__ import annotations

import json
import math
import subprocess
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from outage_map.snapshot import MergedView, Snapshot, load_snapshot
from outage_map.vector import (
    AREA_FIELDS,
    SITE_FIELDS,
    LayerError,
    area_rows,
    display_name,
    json_schema,
    reports_layer,
    write_layers,
)
from tests.conftest import require_tool
from tests.outage_map.scenario import AT, POLICY, T0, build_store


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return load_snapshot(build_store(tmp_path_factory.mktemp("vector") / "s.db"), POLICY)


@pytest.fixture(scope="module")
def view(snapshot: Snapshot) -> MergedView:
    return snapshot.view_at(AT)


def _row(view: MergedView, code: str) -> dict[str, object]:
    index = view.areas.index_of(code)
    assert index is not None, code
    return view.areas.properties(index)


def test_areas_layer_has_the_merged_figures(view: MergedView) -> None:
    alpha = _row(view, "RG-A")
    assert alpha["status"] == "down"
    assert alpha["share_out"] == pytest.approx(1.0)
    assert (alpha["sites"], alpha["sites_known"], alpha["sites_out"]) == (4, 4, 4)
    assert alpha["main_cause"] == "power"
    assert alpha["causes"] == "power 100%"
    assert alpha["dark_since"] == "2024-10-01T12:00:00Z"
    assert alpha["restored_at"] is None
    assert alpha["newest_report"] == "2024-10-01T12:00:00Z"
    assert alpha["merged_at"] == "2024-10-01T13:00:00Z"
    assert alpha["basis"] == "sites"
    beta = _row(view, "RG-B")
    assert (beta["status"], beta["share_out"], beta["sites_out"]) == ("up", 0.0, 0)
    assert beta["dark_since"] is None


def test_an_area_without_figures_shows_its_parents_and_says_so(view: MergedView) -> None:
    gamma = _row(view, "RG-C")
    assert gamma["basis"] == "parent"
    assert gamma["figures_from"] == "RG"
    assert gamma["share_out"] == pytest.approx(0.3)
    assert gamma["status"] == "degraded"
    assert gamma["sites"] == 0
    # The region itself has no boundary: it is drawn as the union of its children.
    region = view.areas.index_of("RG")
    assert region is not None
    geometry = view.areas.geometries[region]
    assert geometry is not None
    assert shapely.equals(shapely.normalize(geometry), shapely.normalize(shapely.box(0, 0, 3, 1)))


def test_no_parent_figures_when_the_parent_is_unknown_too(snapshot: Snapshot) -> None:
    # Long after every report expired: nothing is known, nothing is inherited.
    rows = area_rows(snapshot.merge_at(T0 + timedelta(days=30)), snapshot.shapes)
    assert {r.basis for r in rows} == {"none"}
    assert all(r.share_out is None and r.figures_from is None for r in rows)


def test_sites_layer(view: MergedView) -> None:
    layer = view.sites
    assert layer.ids == ("a1", "a2", "a3", "a4", "b1", "b2")
    a1 = layer.properties(0)
    assert (a1["status"], a1["probability"], a1["cause"]) == ("down", 0.0, "power")
    assert (a1["technology"], a1["operator"], a1["range_m"]) == ("gsm", "001-01", 2000.0)
    assert a1["dark_since"] == "2024-10-01T12:00:00Z"
    b1 = layer.properties(4)
    assert (b1["status"], b1["probability"], b1["reports"]) == ("up", 1.0, 2)
    point = layer.geometries[0]
    assert (point.x, point.y) == (0.2, 0.2)


def test_reports_layer_places_each_subject(snapshot: Snapshot) -> None:
    layer = reports_layer(snapshot.reports, snapshot.inventory, snapshot.areas, snapshot.shapes)
    subjects = [layer.properties(i)["subject"] for i in range(len(layer))]
    assert subjects[:6] == ["site a1", "site a2", "site a3", "site a4", "site b1", "site b2"]
    assert subjects[6:] == ["area RG", "point", "polygon"]
    assert layer.geometries[0].equals(shapely.Point(0.2, 0.2))
    assert layer.geometries[6].area == pytest.approx(3.0)  # the region: its children's union
    assert layer.properties(7)["radius_m"] == 500.0
    assert layer.properties(6)["share_out"] == pytest.approx(0.3)
    assert layer.properties(6)["note"] == "regional figure"
    assert layer.properties(0)["note"] is None


def test_bbox_selects_features_that_meet_it(view: MergedView) -> None:
    hit = view.areas.in_bbox((1.5, 0.2, 1.6, 0.3))
    assert sorted(view.areas.ids[int(i)] for i in hit) == ["RG", "RG-B"]
    sites = view.sites.in_bbox((0.0, 0.0, 0.5, 0.5))
    assert [view.sites.ids[int(i)] for i in sites] == ["a1"]
    # A box crossing the antimeridian (west > east) meets nothing here.
    assert len(view.sites.in_bbox((179.0, -1.0, -179.0, 1.0))) == 0


def test_geopackage_read_back_with_pyogrio(view: MergedView, tmp_path: Path) -> None:
    path = write_layers(tmp_path / "out.gpkg", [view.areas, view.sites])
    assert sorted(name for name, _ in pyogrio.list_layers(path)) == ["areas", "sites"]
    info = pyogrio.read_info(path, layer="areas")
    assert info["crs"] == "EPSG:4326"
    assert info["geometry_type"] == "MultiPolygon"
    assert list(info["fields"]) == [f.name for f in AREA_FIELDS]
    meta, _fids, geometry, fields = pyogrio.raw.read(path, layer="areas", datetime_as_string=True)
    columns = dict(zip(meta["fields"], fields, strict=True))
    codes = list(columns["code"])
    alpha = codes.index("RG-A")
    assert columns["status"][alpha] == "down"
    assert columns["share_out"][alpha] == pytest.approx(1.0)
    assert str(columns["dark_since"][alpha]).startswith("2024-10-01T12:00:00")
    gamma = codes.index("RG-C")
    assert columns["figures_from"][gamma] == "RG"
    beta = codes.index("RG-B")
    assert columns["dark_since"][beta] is None or not columns["dark_since"][beta]
    assert shapely.from_wkb(geometry[alpha]).equals(shapely.box(0, 0, 1, 1))
    info = pyogrio.read_info(path, layer="sites")
    assert info["features"] == 6
    assert list(info["fields"]) == [f.name for f in SITE_FIELDS]


def test_geojson_keeps_nulls_and_utc_times(view: MergedView, tmp_path: Path) -> None:
    path = write_layers(tmp_path / "areas.geojson", [view.areas])
    document = json.loads(path.read_text(encoding="utf-8"))
    by_code = {f["properties"]["code"]: f["properties"] for f in document["features"]}
    assert by_code["RG-A"]["dark_since"] == "2024-10-01T12:00:00Z"
    assert by_code["RG-B"]["dark_since"] is None
    assert by_code["RG-C"]["main_cause"] is None
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in document["features"])
    assert not list(tmp_path.glob(".*partial*"))


def test_geojson_holds_one_layer_and_the_suffix_picks_the_format(
    view: MergedView, tmp_path: Path
) -> None:
    with pytest.raises(LayerError, match="one layer"):
        write_layers(tmp_path / "both.geojson", [view.areas, view.sites])
    with pytest.raises(LayerError, match=r"\.gpkg"):
        write_layers(tmp_path / "areas.shp", [view.areas])


def test_empty_layers_are_written(snapshot: Snapshot, tmp_path: Path) -> None:
    view = snapshot.view_at(AT)
    empty = view.sites.take(np.zeros(0, np.int64))
    path = write_layers(tmp_path / "empty.gpkg", [view.areas, empty])
    assert pyogrio.read_info(path, layer="sites")["features"] == 0


def test_json_schema_types() -> None:
    schema = json_schema(AREA_FIELDS, "t", "d", "MultiPolygon")
    fields = schema["properties"]["properties"]["properties"]
    assert fields["share_out"]["type"] == "number"
    assert fields["sites"]["type"] == "integer"
    assert fields["dark_since"] == {
        "type": "string",
        "format": "date-time",
        "description": fields["dark_since"]["description"],
    }


def test_display_names() -> None:
    assert display_name("72", "72") == "Puerto Rico"
    assert display_name("72127", "San Juan") == "San Juan"
    assert display_name("XX-9", "") == "XX-9"


def _ogrinfo() -> str:
    return require_tool("ogrinfo", "gdal-bin")


@pytest.mark.integration
def test_debian_ogrinfo_reads_the_geopackage(view: MergedView, tmp_path: Path) -> None:
    ogrinfo = _ogrinfo()
    path = write_layers(tmp_path / "outage.gpkg", [view.areas, view.sites])
    done = subprocess.run(
        [ogrinfo, "-ro", "-al", "-where", "code = 'RG-A'", str(path), "areas"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out = done.stdout
    assert "Geometry: Multi Polygon" in out
    assert 'ID["EPSG",4326]' in out
    assert "status (String) = down" in out
    assert "share_out (Real) = 1" in out
    assert "dark_since (DateTime) = 2024/10/01 12:00:00+00" in out
    assert "sites_out (Integer64) = 4" in out
    assert "Warning" not in done.stderr
    done = subprocess.run(
        [ogrinfo, "-ro", "-so", str(path), "sites"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Feature Count: 6" in done.stdout
    assert "probability: Real" in done.stdout


def test_features_are_valid_geojson_with_no_nan(view: MergedView) -> None:
    for layer in (view.areas, view.sites):
        for i in range(len(layer)):
            text = json.dumps(layer.feature(i), allow_nan=False)
            feature = json.loads(text)
            assert feature["type"] == "Feature"
            for value in feature["properties"].values():
                assert not (isinstance(value, float) and math.isnan(value))


def test_docs_list_every_field(repo_root: Path) -> None:
    from outage_map.vector import REPORT_FIELDS

    text = (repo_root / "docs" / "outage-map.md").read_text(encoding="utf-8")
    for field in (*AREA_FIELDS, *SITE_FIELDS, *REPORT_FIELDS):
        assert f"| `{field.name}` | {field.kind.value} | {field.description} |" in text
