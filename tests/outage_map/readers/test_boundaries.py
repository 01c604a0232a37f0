"""Admin boundaries from the real US Census and Natural Earth files, and broken ones."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point

from outage_map.errors import ReaderError
from outage_map.readers import Severity, read_boundaries


@pytest.mark.parametrize(
    ("name", "count", "key", "code", "area_name", "parent"),
    [
        ("us_census_fl_counties.geojson", 67, "fips", "12043", "Glades", "12"),
        ("us_census_pr_municipios.geojson", 78, "fips", "72013", "Arecibo", "72"),
        ("ne10m_admin1_timor_leste.geojson", 13, "iso_3166_2", "TL-DI", "Dili", "TL"),
        ("ne10m_admin1_solomon_islands.geojson", 8, "iso_3166_2", "SB-GU", "Guadalcanal", "SB"),
    ],
)
def test_the_real_boundary_files(
    outage_data: Path, name: str, count: int, key: str, code: str, area_name: str, parent: str
) -> None:
    result = read_boundaries(outage_data / name)
    assert (result.rows, len(result.items), result.problems) == (count, count, ())
    areas = {a.code: a for a in result.items}
    assert len(areas) == count
    assert (areas[code].name, areas[code].parent) == (area_name, parent)
    assert all(a.geometry.is_valid and a.geometry.geom_type in ("Polygon", "MultiPolygon")
               for a in result.items)  # fmt: skip


def test_a_point_falls_in_the_right_area(outage_data: Path) -> None:
    areas = read_boundaries(outage_data / "us_census_pr_municipios.geojson").items
    old_san_juan = Point(-66.1057, 18.4655)
    assert [a.name for a in areas if a.geometry.contains(old_san_juan)] == ["San Juan"]


def test_another_key_property_can_be_named(outage_data: Path) -> None:
    result = read_boundaries(
        outage_data / "ne10m_admin1_timor_leste.geojson", key="adm1_code", name_property="name_en"
    )
    codes = {a.code: a for a in result.items}
    assert codes["TLS-543"].name == "Oe-Cusse Ambeno"
    assert codes["TLS-543"].parent == ""
    with pytest.raises(ReaderError, match="no feature has the key property 'gid'"):
        read_boundaries(outage_data / "ne10m_admin1_timor_leste.geojson", key="gid")


def feature(props: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def square(x: float, y: float) -> dict[str, Any]:
    ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


LINE = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


def collection(*features: dict[str, Any]) -> io.StringIO:
    return io.StringIO(json.dumps({"type": "FeatureCollection", "features": list(features)}))


def test_invalid_geometry_is_repaired_and_bad_features_reported() -> None:
    source = collection(
        feature({"fips": "12001", "name": "Bowtie"}, BOWTIE),
        feature({"fips": 1001, "name": "Autauga"}, square(-87, 32)),
        feature({"fips": "12003", "name": "Line"}, LINE),
        feature({"name": "No code"}, square(0, 0)),
        feature({"fips": "12001", "name": "Again"}, square(0, 0)),
        feature({"fips": "12005", "name": "Null"}, None),
        feature({"fips": "12007", "name": "Projected"}, square(500000, 4000000)),
    )  # fmt: skip
    result = read_boundaries(source, name="b.geojson")
    assert [(p.severity, str(p)) for p in result.problems] == [
        (Severity.INFO, "b.geojson feature 1, field geometry: was invalid "
         "(Self-intersection[0.5 0.5]); repaired with make_valid (fips 12001)"),
        (Severity.ERROR, "b.geojson feature 3, field geometry: is a LineString; a Polygon or "
         "MultiPolygon is needed (fips 12003)"),
        (Severity.ERROR, "b.geojson feature 4, field fips: is missing or empty; the area has no "
         "code"),
        (Severity.ERROR, "b.geojson feature 5, field fips: '12001' was already used by feature 1;"
         " this one is dropped"),
        (Severity.ERROR, "b.geojson feature 6, field geometry: is missing or null; every feature "
         "needs a geometry (fips 12005)"),
        (Severity.ERROR, "b.geojson feature 7, field geometry: has coordinates outside lon/lat "
         "range (bounds 500000,4000000,500001,4000001); GeoJSON is lon/lat in EPSG:4326: reproject "
         "the file or swap lat and lon (fips 12007)"),
    ]  # fmt: skip
    bowtie, autauga = result.items
    assert bowtie.geometry.is_valid
    assert bowtie.geometry.area == pytest.approx(0.5)  # both triangles kept
    assert (autauga.code, autauga.parent) == ("01001", "01")  # the number lost its zero


def test_files_that_are_not_boundaries_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="line 1 column 1: is not JSON"):
        read_boundaries(io.StringIO("fips,name\n"), name="x.csv")
    with pytest.raises(ReaderError, match="GeoJSON type is 'Polygon', not a FeatureCollection"):
        read_boundaries(io.StringIO(json.dumps(BOWTIE)), name="p.json")
    with pytest.raises(ReaderError, match="none of the usual key properties"):
        read_boundaries(collection(feature({"name": "x"}, square(0, 0))), name="k.json")
    utm = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32620"}}
    projected = {"type": "FeatureCollection", "features": [], "crs": utm}
    with pytest.raises(ReaderError, match=r"declares CRS .*32620.*ogr2ogr -t_srs EPSG:4326"):
        read_boundaries(io.StringIO(json.dumps(projected)), name="utm.json")
    with pytest.raises(ReaderError, match="no such file"):
        read_boundaries(tmp_path / "missing.geojson")
