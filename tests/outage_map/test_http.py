"""``tocsin outage serve``: OGC API - Features read endpoints, the answers, the GeoTIFF and the
map over HTTP, and GDAL's own OGC client reading it."""

from __future__ import annotations

import io
import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from outage_map.http import OutageServer, RequestError, split_listen
from outage_map.model import Report, SiteSubject, Status
from outage_map.snapshot import SnapshotCache
from outage_map.store import OutageStore
from tests.conftest import require_tool
from tests.outage_map.scenario import AT, OPERATOR, POLICY, RECEIVED, T0, build_store


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[OutageServer]:
    store = build_store(tmp_path / "scenario.db")
    running = OutageServer("127.0.0.1:0", SnapshotCache(store, POLICY), clock=lambda: AT)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def get(server: OutageServer, path: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(server.url + path)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def get_json(server: OutageServer, path: str, status: int = 200) -> Any:
    code, content_type, body = get(server, path)
    assert code == status, body
    assert content_type in ("application/json", "application/geo+json", "application/schema+json")
    return json.loads(body)


def test_landing_conformance_and_api(server: OutageServer) -> None:
    landing = get_json(server, "/")
    rels = {link["rel"]: link for link in landing["links"]}
    for rel in ("self", "service-desc", "conformance", "data"):
        assert rels[rel]["href"].startswith(server.url)
    conformance = get_json(server, "/conformance")["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance
    code, content_type, body = get(server, "/api")
    assert code == 200 and content_type.startswith("application/vnd.oai.openapi+json")
    api = json.loads(body)
    assert api["openapi"].startswith("3.0")
    assert "/collections/areas/items" in api["paths"]


def test_collections_describe_extent_and_links(server: OutageServer) -> None:
    collections = get_json(server, "/collections")["collections"]
    assert [c["id"] for c in collections] == ["areas", "sites", "reports"]
    areas = get_json(server, "/collections/areas")
    assert areas["extent"]["spatial"]["bbox"] == [[0.0, 0.0, 3.0, 1.0]]
    assert areas["extent"]["temporal"]["interval"] == [
        ["2024-10-01T10:00:00Z", "2024-10-01T12:30:00Z"]
    ]
    items = [link for link in areas["links"] if link["rel"] == "items"]
    assert items[0]["type"] == "application/geo+json"
    schema = get_json(server, "/collections/areas/schema")
    assert schema["properties"]["properties"]["properties"]["share_out"]["type"] == "number"


def test_items_page_through_next_links(server: OutageServer) -> None:
    seen: list[str] = []
    url = "/collections/sites/items?limit=4"
    pages = 0
    while url:
        page = get_json(server, url)
        assert page["type"] == "FeatureCollection"
        assert page["numberMatched"] == 6
        assert page["numberReturned"] == len(page["features"])
        seen += [f["id"] for f in page["features"]]
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = following[0].removeprefix(server.url) if following else ""
        pages += 1
    assert seen == ["a1", "a2", "a3", "a4", "b1", "b2"]
    assert pages == 2
    huge = get_json(server, "/collections/sites/items?limit=1000000")
    assert huge["numberReturned"] == 6  # over the maximum: the maximum, not an error


def test_bbox_and_datetime(server: OutageServer) -> None:
    page = get_json(server, "/collections/sites/items?bbox=1,0,2,1")
    assert [f["id"] for f in page["features"]] == ["b1", "b2"]
    # datetime chooses the merge instant: before the operator's reports, only the field team
    # had spoken (Beta's sites up), Alpha's sites were not known.
    before = get_json(server, "/collections/sites/items?datetime=2024-10-01T11:00:00Z")
    statuses = {f["id"]: f["properties"]["status"] for f in before["features"]}
    assert statuses == {"a1": "unknown", "a2": "unknown", "a3": "unknown", "a4": "unknown",
                        "b1": "up", "b2": "up"}  # fmt: skip
    assert before["mergedAt"] == "2024-10-01T11:00:00Z"
    during = get_json(server, "/collections/sites/items?datetime=../2024-10-01T13:00:00Z")
    assert during["features"][0]["properties"]["status"] == "down"
    # Reports: datetime selects by observation time.
    reports = get_json(
        server, "/collections/reports/items?datetime=2024-10-01T11:30:00Z/2024-10-01T12:00:00Z"
    )
    assert reports["numberMatched"] == 6  # the six site reports at 12:00
    one_day = get_json(server, "/collections/reports/items?datetime=2024-10-01")
    assert one_day["numberMatched"] == 9


def test_one_feature_and_not_found(server: OutageServer) -> None:
    feature = get_json(server, "/collections/areas/items/RG-A")
    assert feature["id"] == "RG-A"
    assert feature["properties"]["status"] == "down"
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert any(link["rel"] == "collection" for link in feature["links"])
    report = get_json(server, "/collections/reports/items/7")
    assert report["properties"]["subject"] == "area RG"
    error = get_json(server, "/collections/areas/items/XX", status=404)
    assert error["code"] == "NotFound" and "XX" in error["description"]
    error = get_json(server, "/collections/towers", status=404)
    assert "areas, sites, reports" in error["description"]
    assert get_json(server, "/nowhere", status=404)["code"] == "NotFound"


@pytest.mark.parametrize(
    "path",
    [
        "/collections/sites/items?bbox=1,2,3",
        "/collections/sites/items?bbox=a,b,c,d",
        "/collections/sites/items?limit=0",
        "/collections/sites/items?limit=ten",
        "/collections/sites/items?datetime=yesterday",
        "/collections/sites/items?datetime=2024-10-02T00:00Z/2024-10-01T00:00Z",
        "/collections/sites/items?colour=red",
        "/collections/sites/items?f=html",
        "/status?lon=0",
        "/status?lon=0&lat=95",
        "/areas/dark?min_out=2",
    ],
)
def test_bad_parameters_are_400_with_a_reason(server: OutageServer, path: str) -> None:
    error = get_json(server, path, status=400)
    assert error["code"] == "InvalidParameterValue"
    assert error["description"]


def test_only_get_and_head(server: OutageServer) -> None:
    request = urllib.request.Request(server.url + "/collections", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 405
    assert caught.value.headers["Allow"] == "GET, HEAD"
    head = urllib.request.Request(server.url + "/collections", method="HEAD")
    with urllib.request.urlopen(head, timeout=30) as response:
        assert response.status == 200
        assert int(response.headers["Content-Length"]) > 0
        assert response.read() == b""


def test_status_and_dark_areas(server: OutageServer) -> None:
    answer = get_json(server, "/status?lon=0.2&lat=0.2")
    assert (answer["status"], answer["basis"], answer["sites"]) == ("down", "sites", ["a1"])
    assert answer["dark_since"] == "2024-10-01T12:00:00Z"
    assert answer["reports"][0]["subject"] == "site a1"
    inherited = get_json(server, "/status?lon=2.5&lat=0.5")
    assert inherited["figures_from"]["code"] == "RG"
    assert inherited["probability"] == pytest.approx(0.7)
    # Before the operator spoke, a1 was not known: the region's figure answers, and says so.
    earlier = get_json(server, "/status?lon=0.2&lat=0.2&at=2024-10-01T11:00Z")
    assert (earlier["status"], earlier["basis"]) == ("degraded", "area")
    assert earlier["area"]["code"] == "RG-A" and earlier["figures_from"]["code"] == "RG"
    assert get_json(server, "/status?lon=0.2&lat=0.2&at=2024-10-01T09:00Z")["status"] == "unknown"
    dark = get_json(server, "/areas/dark")
    assert [a["code"] for a in dark["areas"]] == ["RG-A"]
    assert dark["areas"][0]["causes"] == [{"cause": "power", "share": 1.0}]
    assert [a["code"] for a in get_json(server, "/areas/dark?min_out=0.2")["areas"]] == [
        "RG-A",
        "RG",
    ]


def test_coverage_geotiff_and_map(server: OutageServer) -> None:
    import rasterio  # type: ignore[import-untyped]

    code, content_type, body = get(server, "/coverage.tif?resolution=0.005")
    assert code == 200 and content_type.startswith("image/tiff")
    with rasterio.open(io.BytesIO(body)) as tif:
        assert tif.crs.to_epsg() == 4326
        row, col = tif.index(1.3, 0.5)  # site b1: up
        assert tif.read(1)[row, col] == pytest.approx(1.0)
    code, content_type, body = get(server, "/map.png?width=800")
    assert (code, content_type, body[:4]) == (200, "image/png", b"\x89PNG")


def test_appended_reports_are_picked_up(server: OutageServer) -> None:
    assert get_json(server, "/collections/areas/items/RG-B")["properties"]["status"] == "up"
    with OutageStore(server.cache.store_path) as store:
        store.append_reports(
            [
                Report(T0 + timedelta(minutes=50), RECEIVED, OPERATOR, SiteSubject(s), Status.DOWN)
                for s in ("b1", "b2")
            ],
            now=RECEIVED,
        )
    beta = get_json(server, "/collections/areas/items/RG-B")["properties"]
    assert (beta["status"], beta["dark_since"]) == ("down", "2024-10-01T12:50:00Z")


def test_listen_addresses() -> None:
    assert split_listen("127.0.0.1:8471") == ("127.0.0.1", 8471)
    assert split_listen("[::1]:0") == ("::1", 0)
    with pytest.raises(Exception, match="host:port"):
        split_listen("8471")
    assert issubclass(RequestError, Exception)


@pytest.mark.integration
def test_gdal_ogc_client_reads_the_collections(server: OutageServer) -> None:
    ogrinfo = require_tool("ogrinfo", "gdal-bin")
    source = f"OAPIF:{server.url}"
    listing = subprocess.run(
        [ogrinfo, "-ro", "-al", "-so", source],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for name, count in (("areas", 4), ("sites", 6), ("reports", 9)):
        assert f"Layer name: {name}" in listing
        block = listing.split(f"Layer name: {name}", 1)[1]
        assert f"Feature Count: {count}" in block.split("Layer name:", 1)[0]
    # Read every feature of a layer (GDAL pages with limit and follows the next links).
    sites = subprocess.run(
        [ogrinfo, "-ro", "-al", source, "sites"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert sites.count("OGRFeature(sites)") == 6
    assert "status (String) = down" in sites and "status (String) = up" in sites
    assert "POINT (0.2 0.2)" in sites
    areas = subprocess.run(
        [ogrinfo, "-ro", "-al", "-spat", "0.1", "0.1", "0.9", "0.9", source, "areas"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "code (String) = RG-A" in areas
    assert "code (String) = RG-B" not in areas  # the bbox went to the server
