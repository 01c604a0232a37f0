"""``tocsin outage serve``: the outage map over HTTP, read-only, on the standard library's
threaded server.

OGC API - Features - Part 1 (core, GeoJSON, OpenAPI 3.0) so that GIS clients (QGIS, GDAL's
OAPIF driver, ``ogrinfo``) read it as they are: ``/`` (landing page), ``/conformance``,
``/api``, ``/collections``, ``/collections/{areas|sites|reports}``, ``.../items`` with
``bbox``, ``datetime``, ``limit`` and ``offset`` (``next`` links), ``.../items/{featureId}``.
For ``areas`` and ``sites``, ``datetime`` chooses the instant of the merge (an interval: its
end; none: now); for ``reports`` it selects the reports observed in it.

For people and scripts: ``/status?lon=&lat=&at=`` (is there service here?),
``/areas/dark?at=&min_out=`` (dark areas, worst first), ``/coverage.tif?at=`` (the service
GeoTIFF), ``/map.png?at=`` (the picture). Errors are JSON ``{"code", "description"}`` with
the status the OGC specification asks for (400 bad parameter, 404 unknown, 405 method).
"""

from __future__ import annotations

import json
import logging
import math
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import numpy as np

from outage_map.errors import OutageError
from outage_map.instants import Interval, format_instant, parse_instant, parse_interval
from outage_map.snapshot import MergedView, Snapshot, SnapshotCache
from outage_map.table import micros
from outage_map.vector import Layer, reports_layer

__all__ = ["COLLECTIONS", "DEFAULT_LISTEN", "OutageServer", "RequestError", "split_listen"]

log = logging.getLogger("tocsin.outage.http")

DEFAULT_LISTEN: Final = "127.0.0.1:8471"
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 10_000
CRS84: Final = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON: Final = "application/geo+json"
JSON: Final = "application/json"
JSON_SCHEMA: Final = "application/schema+json"
OPENAPI: Final = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE: Final = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
)
COLLECTIONS: Final = {
    "areas": (
        "Areas: share of mobile service out",
        "Administrative areas with the merged share of cell service out at an instant "
        "(datetime: the instant; an interval: its end; default: now).",
    ),
    "sites": (
        "Cell sites: probability of service",
        "Every cell site with its merged probability of service at an instant "
        "(datetime: the instant; an interval: its end; default: now).",
    ),
    "reports": (
        "Reports",
        "Every report in the store; datetime selects by observation time.",
    ),
}
_ITEM_PARAMS: Final = frozenset({"bbox", "datetime", "limit", "offset", "f"})


class RequestError(OutageError):
    """A request the server answers with an error status and a JSON body."""

    def __init__(self, status: HTTPStatus, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description


def split_listen(listen: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port``; port 0 takes any free port."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([A-Za-z0-9.-]+):(\d{1,5})", listen)
    if match is None:
        raise OutageError(
            f"listen address {listen!r} is not host:port; write e.g. {DEFAULT_LISTEN!r} or "
            "'[::1]:8471'"
        )
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if port > 65535:
        raise OutageError(f"listen address {listen!r}: port {port} is outside 0..65535")
    return host, port


class OutageServer:
    """The HTTP server, serving in a background thread until :meth:`stop`."""

    def __init__(
        self,
        listen: str,
        cache: SnapshotCache,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        host, port = split_listen(listen)
        self.cache = cache
        self.clock = clock
        self.server = ThreadingHTTPServer((host, port), _handler_class(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=lambda: self.server.serve_forever(poll_interval=0.1),
            name="outage-http",
            daemon=True,
        )
        self._reports: tuple[Snapshot, Layer] | None = None
        self._reports_lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- data --------------------------------------------------------------------------------

    def reports(self) -> Layer:
        """The reports layer of the current snapshot (built once per snapshot)."""
        snapshot = self.cache.snapshot()
        with self._reports_lock:
            if self._reports is None or self._reports[0] is not snapshot:
                layer = reports_layer(
                    snapshot.reports, snapshot.inventory, snapshot.areas, snapshot.shapes
                )
                self._reports = (snapshot, layer)
            return self._reports[1]

    def view(self, at: datetime) -> MergedView:
        return self.cache.view(at)

    # --- routing -----------------------------------------------------------------------------

    def respond(self, path: str, query: Mapping[str, list[str]], base: str) -> _Response:
        """The response to a GET of ``path`` with ``query`` (RequestError for errors)."""
        now = self.clock()
        parts = [p for p in path.split("/") if p]
        if not parts:
            _only(query, {"f"})
            return _json(self._landing(base))
        head = parts[0]
        if parts == ["conformance"]:
            _only(query, {"f"})
            return _json({"conformsTo": list(CONFORMANCE)})
        if parts == ["api"]:
            _only(query, {"f"})
            return _Response(HTTPStatus.OK, OPENAPI, _dumps(_openapi(base)))
        if parts == ["collections"]:
            _only(query, {"f"})
            return _json(
                {
                    "links": [_link(f"{base}/collections", "self", JSON, "the collections")],
                    "collections": [self._collection(c, base) for c in COLLECTIONS],
                }
            )
        if head == "collections" and len(parts) >= 2:
            collection = parts[1]
            if collection not in COLLECTIONS:
                raise RequestError(
                    HTTPStatus.NOT_FOUND,
                    "NotFound",
                    f"no collection {collection!r}; the collections are {', '.join(COLLECTIONS)}",
                )
            if len(parts) == 2:
                _only(query, {"f"})
                return _json(self._collection(collection, base))
            if parts[2] == "schema" and len(parts) == 3:
                _only(query, {"f"})
                return _Response(HTTPStatus.OK, JSON_SCHEMA, _dumps(self._schema(collection)))
            if parts[2] == "items" and len(parts) == 3:
                return self._items(collection, query, base, now)
            if parts[2] == "items" and len(parts) == 4:
                return self._item(collection, parts[3], query, base, now)
        if parts == ["status"]:
            return self._status(query, now)
        if parts == ["areas", "dark"]:
            return self._dark(query, now)
        if parts == ["coverage.tif"]:
            return self._coverage(query, now)
        if parts == ["map.png"]:
            return self._map(query, now)
        raise RequestError(
            HTTPStatus.NOT_FOUND,
            "NotFound",
            f"nothing at {path}; start at / for the links",
        )

    def _landing(self, base: str) -> dict[str, Any]:
        return {
            "title": "Tocsin outage map",
            "description": "Where the mobile networks are down, how badly, since when and why: "
            "operator, regulator, field and crowd reports merged at an instant.",
            "links": [
                _link(f"{base}/", "self", JSON, "this document"),
                _link(f"{base}/api", "service-desc", OPENAPI, "the API definition"),
                _link(f"{base}/conformance", "conformance", JSON, "conformance classes"),
                _link(f"{base}/collections", "data", JSON, "the collections"),
                _link(f"{base}/status?lon=LON&lat=LAT", "service", JSON, "service at a place"),
                _link(f"{base}/areas/dark", "service", JSON, "dark areas, worst first"),
                _link(
                    f"{base}/coverage.tif",
                    "service",
                    "image/tiff; application=geotiff",
                    "service GeoTIFF",
                ),
                _link(f"{base}/map.png", "service", "image/png", "the map as a picture"),
            ],
        }

    def _collection(self, collection: str, base: str) -> dict[str, Any]:
        title, description = COLLECTIONS[collection]
        snapshot = self.cache.snapshot()
        extent: dict[str, Any] = {}
        layer = self.reports() if collection == "reports" else None
        bounds = _snapshot_bounds(snapshot, layer)
        if bounds is not None:
            extent["spatial"] = {"bbox": [list(bounds)], "crs": CRS84}
        span = snapshot.observed_span()
        if span is not None:
            extent["temporal"] = {
                "interval": [[format_instant(span[0]), format_instant(span[1])]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }
        href = f"{base}/collections/{collection}"
        document: dict[str, Any] = {
            "id": collection,
            "title": title,
            "description": description,
            "itemType": "feature",
            "crs": [CRS84],
            "links": [
                _link(href, "self", JSON, title),
                _link(f"{href}/items", "items", GEOJSON, f"{title} (GeoJSON)"),
                _link(f"{href}/schema", "describedby", JSON_SCHEMA, "the fields of a feature"),
            ],
        }
        if extent:
            document["extent"] = extent
        return document

    def _schema(self, collection: str) -> dict[str, Any]:
        from outage_map.vector import AREA_FIELDS, REPORT_FIELDS, SITE_FIELDS, json_schema

        fields, geometry = {
            "areas": (AREA_FIELDS, "MultiPolygon"),
            "sites": (SITE_FIELDS, "Point"),
            "reports": (REPORT_FIELDS, "Point, Polygon or MultiPolygon"),
        }[collection]
        title, description = COLLECTIONS[collection]
        return json_schema(fields, title, description, geometry)

    def _items(
        self, collection: str, query: Mapping[str, list[str]], base: str, now: datetime
    ) -> _Response:
        _only(query, _ITEM_PARAMS)
        _format(query)
        limit = _limit(query)
        offset = _int_param(query, "offset", 0, minimum=0)
        bbox = _bbox(query)
        interval = _interval(query, now)
        merged_at: datetime | None = None
        if collection == "reports":
            layer = self.reports()
            keep = np.ones(len(layer), dtype=np.bool_)
            if interval is not None:
                observed = layer.columns["observed_at"]
                if interval.start is not None:
                    keep &= observed >= np.datetime64(micros(interval.start), "us")
                if interval.end is not None:
                    keep &= observed <= np.datetime64(micros(interval.end), "us")
        else:
            merged_at = _instant_of(interval, now)
            view = self.view(merged_at)
            layer = view.areas if collection == "areas" else view.sites
            keep = np.ones(len(layer), dtype=np.bool_)
        if bbox is not None:
            inside = np.zeros(len(layer), dtype=np.bool_)
            inside[layer.in_bbox(bbox)] = True
            keep &= inside
        rows = np.flatnonzero(keep)
        page = rows[offset : offset + limit]
        href = f"{base}/collections/{collection}/items"
        params = {k: v[-1] for k, v in query.items() if k != "offset"}
        links = [
            _link(_with(href, {**params, "offset": str(offset)}), "self", GEOJSON, "this page"),
            _link(f"{base}/collections/{collection}", "collection", JSON, "the collection"),
        ]
        if offset + limit < len(rows):
            links.append(
                _link(
                    _with(href, {**params, "offset": str(offset + limit)}),
                    "next",
                    GEOJSON,
                    "the next page",
                )
            )
        if offset > 0:
            links.append(
                _link(
                    _with(href, {**params, "offset": str(max(offset - limit, 0))}),
                    "prev",
                    GEOJSON,
                    "the previous page",
                )
            )
        document: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": [layer.feature(int(i)) for i in page],
            "links": links,
            "timeStamp": format_instant(now),
            "numberMatched": len(rows),
            "numberReturned": len(page),
        }
        if merged_at is not None:
            document["mergedAt"] = format_instant(merged_at)
        return _Response(HTTPStatus.OK, GEOJSON, _dumps(document))

    def _item(
        self,
        collection: str,
        feature_id: str,
        query: Mapping[str, list[str]],
        base: str,
        now: datetime,
    ) -> _Response:
        _only(query, {"datetime", "f"})
        _format(query)
        if collection == "reports":
            layer = self.reports()
        else:
            view = self.view(_instant_of(_interval(query, now), now))
            layer = view.areas if collection == "areas" else view.sites
        index = layer.index_of(feature_id)
        if index is None:
            raise RequestError(
                HTTPStatus.NOT_FOUND,
                "NotFound",
                f"no feature {feature_id!r} in the collection {collection}",
            )
        feature = layer.feature(index)
        href = f"{base}/collections/{collection}"
        feature["links"] = [
            _link(f"{href}/items/{quote(feature_id, safe='')}", "self", GEOJSON, "this feature"),
            _link(href, "collection", JSON, "the collection"),
        ]
        return _Response(HTTPStatus.OK, GEOJSON, _dumps(feature))

    def _status(self, query: Mapping[str, list[str]], now: datetime) -> _Response:
        from outage_map.answers import point_answer_json

        _only(query, {"lon", "lat", "at"})
        lon = _float_param(query, "lon", -180.0, 180.0)
        lat = _float_param(query, "lat", -90.0, 90.0)
        view = self.view(_at(query, now))
        return _json(point_answer_json(view, lon, lat))

    def _dark(self, query: Mapping[str, list[str]], now: datetime) -> _Response:
        from outage_map.answers import dark_areas_json

        _only(query, {"at", "min_out"})
        min_out = _float_param(query, "min_out", 0.0, 1.0, default=0.5)
        view = self.view(_at(query, now))
        return _json(dark_areas_json(view, min_out))

    def _coverage(self, query: Mapping[str, list[str]], now: datetime) -> _Response:
        from outage_map.raster import write_service_geotiff

        _only(query, {"at", "bbox", "resolution"})
        bbox = _bbox(query)
        resolution = _float_param(query, "resolution", 0.0001, 1.0, default=0.01)
        view = self.view(_at(query, now))
        bounds = bbox if bbox is not None else _snapshot_bounds(self.cache.snapshot(), None)
        if bounds is None:
            raise RequestError(
                HTTPStatus.NOT_FOUND, "NotFound", "the store has no sites or areas to draw"
            )
        with tempfile.TemporaryDirectory(prefix="tocsin-coverage-") as folder:
            path = Path(folder) / "coverage.tif"
            try:
                write_service_geotiff(view.result, path, bounds=bounds, resolution_deg=resolution)
            except OutageError as exc:
                raise RequestError(
                    HTTPStatus.BAD_REQUEST, "InvalidParameterValue", str(exc)
                ) from None
            data = path.read_bytes()
        return _Response(
            HTTPStatus.OK,
            "image/tiff; application=geotiff; profile=cloud-optimized",
            data,
        )

    def _map(self, query: Mapping[str, list[str]], now: datetime) -> _Response:
        from outage_map.png_map import render_png

        _only(query, {"at", "bbox", "width"})
        bbox = _bbox(query)
        width = _int_param(query, "width", 1200, minimum=600, maximum=4000)
        view = self.view(_at(query, now))
        snapshot = self.cache.snapshot()
        try:
            data = render_png(
                view.result, rows=view.rows, shapes=snapshot.shapes, bbox=bbox, width=width
            )
        except OutageError as exc:
            raise RequestError(HTTPStatus.NOT_FOUND, "NotFound", str(exc)) from None
        return _Response(HTTPStatus.OK, "image/png", data)


class _Response:
    __slots__ = ("body", "content_type", "status")

    def __init__(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.status = status
        self.content_type = content_type
        self.body = body


def _handler_class(server: OutageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "tocsin-outage/0.1"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            log.info("%s %s", self.address_string(), format % args)

        def _base(self) -> str:
            host = self.headers.get("Host") or "{}:{}".format(*server.address)
            return f"http://{host}"

        def _answer(self, head: bool) -> None:
            url = urlsplit(self.path)
            try:
                query = parse_qs(url.query, keep_blank_values=True)
                response = server.respond(url.path, query, self._base())
            except RequestError as exc:
                response = _error(exc.status, exc.code, exc.description)
            except OutageError as exc:  # the store or the data cannot answer
                log.warning("%s: %s", self.path, exc)
                response = _error(HTTPStatus.SERVICE_UNAVAILABLE, "Unavailable", str(exc))
            except Exception:
                log.exception("internal error on %s", self.path)
                response = _error(
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "the server failed on this request; the log has the details",
                )
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            if not head:
                self.wfile.write(response.body)

        def do_GET(self) -> None:
            self._answer(head=False)

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def _refuse(self) -> None:
            response = _error(
                HTTPStatus.METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                f"{self.command} is not supported: the outage map is read-only (GET, HEAD)",
            )
            length = int(self.headers.get("Content-Length") or 0)
            if 0 < length <= 1 << 20:
                self.rfile.read(length)
            else:
                self.close_connection = True
            self.send_response(response.status)
            self.send_header("Allow", "GET, HEAD")
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        def do_POST(self) -> None:
            self._refuse()

        def do_PUT(self) -> None:
            self._refuse()

        def do_DELETE(self) -> None:
            self._refuse()

        def do_PATCH(self) -> None:
            self._refuse()

    return Handler


# --- parameters --------------------------------------------------------------------------------


def _bad(description: str) -> RequestError:
    return RequestError(HTTPStatus.BAD_REQUEST, "InvalidParameterValue", description)


def _only(query: Mapping[str, list[str]], allowed: frozenset[str] | set[str]) -> None:
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        raise _bad(
            f"unknown parameter(s) {', '.join(unknown)}; this resource takes "
            f"{', '.join(sorted(allowed)) or 'none'}"
        )


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise _bad(f"{name} is given {len(values)} times; give it once")
    return values[0]


def _format(query: Mapping[str, list[str]]) -> None:
    value = _one(query, "f")
    if value is not None and value not in ("json", "geojson"):
        raise _bad(f"f={value!r}: this server speaks json (GeoJSON) only")


def _limit(query: Mapping[str, list[str]]) -> int:
    return min(_int_param(query, "limit", DEFAULT_LIMIT, minimum=1), MAX_LIMIT)


def _int_param(
    query: Mapping[str, list[str]],
    name: str,
    default: int,
    *,
    minimum: int,
    maximum: int | None = None,
) -> int:
    text = _one(query, name)
    if text is None:
        return default
    if not re.fullmatch(r"\d{1,9}", text.strip()):
        raise _bad(f"{name}={text!r} is not a whole number")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise _bad(f"{name}={value} must be at least {minimum}{upper}")
    return value


def _float_param(
    query: Mapping[str, list[str]],
    name: str,
    low: float,
    high: float,
    *,
    default: float | None = None,
) -> float:
    text = _one(query, name)
    if text is None:
        if default is None:
            raise _bad(f"{name} is required")
        return default
    try:
        value = float(text)
    except ValueError:
        raise _bad(f"{name}={text!r} is not a number") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise _bad(f"{name}={text!r} must be between {low:g} and {high:g}")
    return value


def _bbox(query: Mapping[str, list[str]]) -> tuple[float, float, float, float] | None:
    text = _one(query, "bbox")
    if text is None:
        return None
    try:
        numbers = [float(p) for p in text.split(",")]
    except ValueError:
        raise _bad(f"bbox={text!r}: write four numbers west,south,east,north") from None
    if len(numbers) == 6:  # 3D: the heights are not used
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise _bad(f"bbox={text!r}: write four numbers west,south,east,north")
    west, south, east, north = numbers
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise _bad(
            f"bbox={text!r}: longitudes must be in -180..180 and latitudes in -90..90 "
            "with south <= north"
        )
    return west, south, east, north


def _interval(query: Mapping[str, list[str]], now: datetime) -> Interval | None:
    text = _one(query, "datetime")
    if text is None:
        return None
    try:
        return parse_interval(text, now=now)
    except OutageError as exc:
        raise _bad(str(exc)) from None


def _instant_of(interval: Interval | None, now: datetime) -> datetime:
    """The merge instant a ``datetime`` names: an instant, an interval's end, else now."""
    if interval is None or interval.end is None:
        return now
    return interval.end


def _at(query: Mapping[str, list[str]], now: datetime) -> datetime:
    text = _one(query, "at")
    if text is None:
        return now
    try:
        return parse_instant(text, now=now, what="at")
    except OutageError as exc:
        raise _bad(str(exc)) from None


# --- documents ---------------------------------------------------------------------------------


def _snapshot_bounds(
    snapshot: Snapshot, reports: Layer | None
) -> tuple[float, float, float, float] | None:
    boxes: list[tuple[float, float, float, float]] = []
    inventory = snapshot.inventory
    if len(inventory):
        boxes.append(
            (
                float(inventory.lon.min()),
                float(inventory.lat.min()),
                float(inventory.lon.max()),
                float(inventory.lat.max()),
            )
        )
    for geometry in snapshot.areas.geometries:
        if geometry is not None and not geometry.is_empty:
            west, south, east, north = (float(v) for v in geometry.bounds)
            boxes.append((west, south, east, north))
    if reports is not None:
        found = reports.bounds()
        if found is not None:
            boxes.append(found)
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _link(href: str, rel: str, media: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media, "title": title}


def _with(href: str, params: Mapping[str, str]) -> str:
    return f"{href}?{urlencode(params)}" if params else href


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")


def _json(document: Any) -> _Response:
    return _Response(HTTPStatus.OK, JSON, _dumps(document))


def _error(status: HTTPStatus, code: str, description: str) -> _Response:
    return _Response(status, JSON, _dumps({"code": code, "description": description}))


def _openapi(base: str) -> dict[str, Any]:
    """A small OpenAPI 3.0 definition of the read endpoints (enough for OGC clients)."""

    def param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": schema,
            "style": "form",
            "explode": False,
        }

    limit = param(
        "limit",
        "how many features per page",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    )
    offset = param("offset", "features to skip (next links)", {"type": "integer", "minimum": 0})
    bbox = param(
        "bbox",
        "west,south,east,north in CRS84",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    )
    when = param(
        "datetime",
        "areas, sites: the merge instant (an interval: its end); reports: observation time",
        {"type": "string"},
    )
    at = param("at", "instant (RFC 3339, a date, or now)", {"type": "string"})
    ok = {"200": {"description": "OK"}, "400": {"description": "bad parameter"}}
    found = {**ok, "404": {"description": "not found"}}
    feature_id = {
        "name": "featureId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "landing page", "responses": ok}},
        "/conformance": {"get": {"summary": "conformance classes", "responses": ok}},
        "/api": {"get": {"summary": "this document", "responses": ok}},
        "/collections": {"get": {"summary": "the collections", "responses": ok}},
        "/status": {
            "get": {
                "summary": "is there service at a place?",
                "parameters": [
                    param("lon", "longitude", {"type": "number"}),
                    param("lat", "latitude", {"type": "number"}),
                    at,
                ],
                "responses": ok,
            }
        },
        "/areas/dark": {
            "get": {
                "summary": "dark areas, worst first",
                "parameters": [at, param("min_out", "share out, 0-1", {"type": "number"})],
                "responses": ok,
            }
        },
        "/coverage.tif": {
            "get": {
                "summary": "the service GeoTIFF",
                "parameters": [at, bbox, param("resolution", "degrees", {"type": "number"})],
                "responses": ok,
            }
        },
        "/map.png": {
            "get": {
                "summary": "the map as a picture",
                "parameters": [at, bbox, param("width", "pixels", {"type": "integer"})],
                "responses": ok,
            }
        },
    }
    for collection, (title, _description) in COLLECTIONS.items():
        paths[f"/collections/{collection}"] = {"get": {"summary": title, "responses": found}}
        paths[f"/collections/{collection}/items"] = {
            "get": {
                "summary": f"{title}: features",
                "parameters": [limit, offset, bbox, when],
                "responses": found,
            }
        }
        paths[f"/collections/{collection}/items/{{featureId}}"] = {
            "get": {
                "summary": f"{title}: one feature",
                "parameters": [feature_id, when],
                "responses": found,
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Tocsin outage map", "version": "1.0"},
        "servers": [{"url": base}],
        "paths": paths,
    }
