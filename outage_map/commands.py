"""``tocsin outage ingest|query|areas|layer|serve``: the outage map from the command line.

Registered with the ``tocsin`` command through the ``tocsin.commands`` entry point. Only what
building the parser needs is imported here: the readers, the merge (numpy, Shapely), GDAL and
matplotlib load when a command runs. ``python -m outage_map.commands outage ...`` runs the
same commands without the entry point.

Exit codes: 0 done; 1 the input was judged bad (an ingest with refused rows or an unreadable
file); 2 usage or configuration error (a missing file, a bad option, no store).
"""

from __future__ import annotations

import argparse
import os
import signal
import struct
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

from cap.cli import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_USAGE,
    RawDefaultsFormatter,
    UsageError,
    add_format_option,
    emit_json,
)

if TYPE_CHECKING:
    from outage_map.config import OutageConfig
    from outage_map.readers import ReadResult
    from outage_map.snapshot import MergedView, Snapshot
    from outage_map.store import OutageStore

KINDS: Final = (
    "opencellid",
    "site-status",
    "dirs",
    "status-series",
    "field-csv",
    "field-geojson",
    "boundaries",
)
_LAYER_SUFFIXES: Final = (".tif", ".tiff", ".geojson", ".json", ".gpkg", ".png")


def data_dir() -> Path:
    """Where the embedded defaults keep the store: $TOCSIN_DATA_DIR, else XDG data home (the
    same folder as the dispatch outbox)."""
    explicit = os.environ.get("TOCSIN_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tocsin"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    outage = sub.add_parser(
        "outage",
        help="the outage map: ingest network reports, ask where service is down, make layers",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Merge operator, regulator, field-team and crowd reports about mobile networks "
            "into one time-aware picture: is there service here, which areas are dark, since "
            "when and why. Reports are kept in an append-only store ([outage] store in the "
            "configuration, else outage.db in the data folder), so any past instant can be "
            "asked about."
        ),
        epilog=(
            "examples:\n"
            "  tocsin outage ingest boundaries us_census_pr_municipios.geojson\n"
            "  tocsin outage ingest status-series statuspr_maria_2017_2018.csv\n"
            "  tocsin outage query --lon -66.1 --lat 18.4 --at 2017-10-20\n"
            "  tocsin outage areas --at 2017-09-30 --min-out 0.5\n"
            "  tocsin outage layer --at 2017-10-20 -o pr.png\n"
            "  tocsin outage serve --listen 127.0.0.1:8471"
        ),
    )
    actions = outage.add_subparsers(dest="outage_command", metavar="ACTION")
    outage.set_defaults(handler=lambda _args: _usage(outage))

    store = argparse.ArgumentParser(add_help=False)
    store.add_argument(
        "--store",
        metavar="FILE",
        help="the report store (default: [outage] store in the configuration, else "
        "outage.db in $TOCSIN_DATA_DIR or ~/.local/share/tocsin)",
    )
    when = argparse.ArgumentParser(add_help=False)
    when.add_argument(
        "--at",
        metavar="TIME",
        default="now",
        help="the instant: ISO 8601 with an offset (2017-10-20T12:00-04:00), a date "
        "(2017-10-20: as of the end of that day, UTC), or now",
    )

    ingest = actions.add_parser(
        "ingest",
        parents=[store],
        help="read report, site or boundary files into the store (bad rows are listed)",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Read files of one kind and append what they hold to the store. Every bad row is "
            "listed with its file, line (or feature), field and why; the good rows are kept. "
            "Formats: docs/outage-formats.md. Kinds: opencellid (cell sites), site-status "
            "(operator per-site status), dirs (FCC DIRS county/state tables), status-series "
            "(status.pr daily figures), field-csv and field-geojson (crowd and field-team "
            "reports), boundaries (admin areas). Ingest boundaries first: DIRS and status "
            "tables name areas, and the names are resolved against them. Exit 1 if any row "
            "was refused."
        ),
        epilog=(
            "examples:\n"
            "  tocsin outage ingest boundaries us_census_pr_municipios.geojson\n"
            "  tocsin outage ingest opencellid cells-603.csv --mcc 603\n"
            "  tocsin outage ingest site-status noc-0900.csv --operator 'Example Mobile'\n"
            "  tocsin outage ingest dirs fcc_dirs_headlines.csv\n"
            "  tocsin outage ingest status-series statuspr.csv --resource Telecomunications\n"
            "  tocsin outage ingest field-csv hotline.csv --tz America/Puerto_Rico\n"
            "  tocsin outage ingest field-geojson teams.geojson --source-kind field_team"
        ),
    )
    ingest.add_argument("kind", choices=KINDS, metavar="KIND", help=", ".join(KINDS))
    ingest.add_argument("files", nargs="+", metavar="FILE")
    ingest.add_argument(
        "--received-at",
        metavar="TIME",
        default="now",
        help="when the reports were received (default: now)",
    )
    ingest.add_argument("--operator", help="site-status: operator name when the file has none")
    ingest.add_argument(
        "--source-kind",
        choices=("crowd", "field_team", "probe", "operator", "regulator"),
        default="crowd",
        help="field-csv/field-geojson: who reported, when the file does not say",
    )
    ingest.add_argument("--reporter", help="field-csv/field-geojson: reporter name")
    ingest.add_argument(
        "--tz",
        metavar="ZONE",
        help="site-status/field-*: time zone of times written without an offset "
        "(e.g. America/Puerto_Rico)",
    )
    ingest.add_argument(
        "--mcc",
        type=int,
        action="append",
        metavar="MCC",
        help="opencellid: keep only this country code (repeatable)",
    )
    ingest.add_argument(
        "--resource",
        action="append",
        metavar="NAME",
        help="status-series: read only this series (repeatable; default: Telecomunications, "
        "Cell towers and Cell antennas)",
    )
    ingest.add_argument("--key", help="boundaries: the property holding the area code")
    ingest.add_argument(
        "--name-property", default="name", help="boundaries: the property holding the name"
    )
    ingest.add_argument("--parent-property", help="boundaries: the property with the parent")
    add_format_option(ingest)
    ingest.set_defaults(handler=run_ingest)

    query = actions.add_parser(
        "query",
        parents=[store, when],
        help="is there service at this place? (status, confidence, since, reports)",
        formatter_class=RawDefaultsFormatter,
        description=(
            "The merged state at a place and instant: status, probability of service, "
            "confidence, since when it is dark or when it was restored, and the reports "
            "that count. A place no site covers is answered from the smallest area holding "
            "it whose figures are known (its own, or its parent's)."
        ),
        epilog=(
            "examples:\n"
            "  tocsin outage query --lon -66.1057 --lat 18.4655\n"
            "  tocsin outage query --lon -66.1057 --lat 18.4655 --at 2017-10-20 --format json"
        ),
    )
    query.add_argument("--lon", type=float, required=True, help="longitude, degrees east")
    query.add_argument("--lat", type=float, required=True, help="latitude, degrees north")
    query.add_argument("--max-reports", type=int, default=10, help="reports listed at most")
    add_format_option(query)
    query.set_defaults(handler=run_query)

    areas = actions.add_parser(
        "areas",
        parents=[store, when],
        help="dark areas at an instant, worst first",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Areas whose share of service out is at least --min-out, worst first, with their "
            "causes and since when. An area whose figures other areas show (an island-wide "
            "series over its municipios) is listed once, with how many areas show them."
        ),
        epilog=(
            "examples:\n"
            "  tocsin outage areas\n"
            "  tocsin outage areas --at 2017-09-30 --min-out 0.9 --format json"
        ),
    )
    areas.add_argument(
        "--min-out",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="smallest share of service out listed, 0 to 1",
    )
    add_format_option(areas)
    areas.set_defaults(handler=run_areas)

    layer = actions.add_parser(
        "layer",
        parents=[store, when],
        help="write the map at an instant: GeoTIFF, GeoJSON, GeoPackage or PNG",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Write the merged state at an instant. The format follows the file name: .tif "
            "(service probability, confidence and report age rasterised from site coverage; "
            "Cloud-Optimised GeoTIFF), .geojson (one layer: --layer areas or sites), .gpkg "
            "(both layers), .png (a picture with a legend). Layers are in EPSG:4326; their "
            "fields are listed in docs/outage-map.md."
        ),
        epilog=(
            "examples:\n"
            "  tocsin outage layer --at 2017-10-20 -o pr.png\n"
            "  tocsin outage layer --at now -o coverage.tif --bbox -67.3,17.9,-65.2,18.6 "
            "--resolution 0.005\n"
            "  tocsin outage layer -o areas.geojson\n"
            "  tocsin outage layer -o sites.geojson --layer sites\n"
            "  tocsin outage layer -o outage.gpkg"
        ),
    )
    layer.add_argument("-o", "--output", required=True, metavar="FILE")
    layer.add_argument(
        "--bbox", metavar="W,S,E,N", help="region, degrees (default: everything in the store)"
    )
    layer.add_argument(
        "--resolution", type=float, default=0.01, metavar="DEG", help=".tif: pixel size, degrees"
    )
    layer.add_argument(
        "--layer", choices=("areas", "sites"), default="areas", help=".geojson: which layer"
    )
    layer.add_argument("--width", type=int, default=1200, help=".png: width in pixels")
    layer.add_argument("--height", type=int, help=".png: height in pixels (default: to fit)")
    layer.add_argument("--title", help=".png: the title (default: the instant)")
    add_format_option(layer)
    layer.set_defaults(handler=run_layer)

    serve = actions.add_parser(
        "serve",
        parents=[store],
        help="serve the outage map over HTTP (OGC API - Features, status, GeoTIFF, PNG)",
        formatter_class=RawDefaultsFormatter,
        description=(
            "Serve the store read-only over HTTP: OGC API - Features (collections areas, sites "
            "and reports; QGIS and GDAL read it), /status?lon=&lat=&at=, /areas/dark?at=, "
            "/coverage.tif?at= and /map.png?at=. Reports appended while it runs are picked up. "
            "Runs until Ctrl-C or SIGTERM."
        ),
        epilog=(
            "examples:\n"
            "  tocsin outage serve\n"
            "  tocsin outage serve --listen 0.0.0.0:8471\n"
            "  ogrinfo -ro -al -so OAPIF:http://127.0.0.1:8471"
        ),
    )
    serve.add_argument(
        "--listen", default="127.0.0.1:8471", metavar="HOST:PORT", help="address to listen on"
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="log each request")
    serve.set_defaults(handler=run_serve)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


# --- shared --------------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> OutageConfig:
    from cap.config import load_config
    from outage_map.config import outage_config_from
    from outage_map.errors import OutageConfigError

    settings = load_config(getattr(args, "config", None))
    try:
        return outage_config_from(settings.raw, settings.path, data_dir())
    except OutageConfigError as exc:
        raise UsageError(str(exc)) from None


def _store_path(args: argparse.Namespace, config: OutageConfig) -> Path:
    return Path(args.store).expanduser() if args.store else config.store_path


def _instant(text: str, what: str) -> datetime:
    from outage_map.instants import InstantError, parse_instant

    try:
        return parse_instant(text, now=datetime.now(UTC), what=what)
    except InstantError as exc:
        raise UsageError(str(exc)) from None


def _snapshot(args: argparse.Namespace) -> Snapshot:
    from outage_map.errors import OutageError
    from outage_map.snapshot import load_snapshot

    config = _config(args)
    try:
        return load_snapshot(_store_path(args, config), config.policy)
    except OutageError as exc:
        raise UsageError(str(exc)) from None


def _view(args: argparse.Namespace) -> tuple[Snapshot, MergedView]:
    from outage_map.errors import OutageError

    at = _instant(args.at, "--at")
    snapshot = _snapshot(args)
    try:
        return snapshot, snapshot.view_at(at)
    except OutageError as exc:
        raise UsageError(f"cannot merge as of {args.at}: {exc}") from None


def _pct(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0%}"


# --- ingest --------------------------------------------------------------------------------


def run_ingest(args: argparse.Namespace) -> int:
    from outage_map.errors import OutageError, ReaderError
    from outage_map.instants import format_instant
    from outage_map.store import OutageStore

    config = _config(args)
    received = _instant(args.received_at, "--received-at")
    paths = [Path(f) for f in args.files]
    for path in paths:
        if not path.is_file():
            what = "is a folder, not a file" if path.is_dir() else "does not exist"
            raise UsageError(f"{path} {what}; nothing was ingested")
    zone = _zone(args.tz)
    store_path = _store_path(args, config)
    files: list[dict[str, Any]] = []
    ok = True
    try:
        with OutageStore(store_path) as store:
            for path in paths:
                try:
                    result = _read(args, store, path, received, zone)
                except ReaderError as exc:
                    ok = False
                    files.append({"file": str(path), "kind": args.kind, "error": str(exc)})
                    continue
                files.append(_store_items(args.kind, store, path, result, received))
                ok = ok and not result.errors
            totals = {
                "reports": store.report_count(),
                "sites": len(store.sites()),
                "areas": len(store.areas()),
            }
    except OutageError as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        emit_json(
            {
                "store": str(store_path),
                "received_at": format_instant(received),
                "ok": ok,
                "files": files,
                "totals": totals,
            }
        )
    else:
        for entry in files:
            _print_ingest(entry)
        print(
            f"store {store_path}: {totals['reports']} reports, {totals['sites']} sites, "
            f"{totals['areas']} areas"
        )
    return EXIT_OK if ok else EXIT_BAD_INPUT


def _zone(name: str | None) -> Any:
    if name is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {name!r} is not a time zone name; write e.g. America/Puerto_Rico or UTC"
        ) from None


def _read(
    args: argparse.Namespace,
    store: OutageStore,
    path: Path,
    received: datetime,
    zone: Any,
) -> ReadResult[Any]:
    from outage_map import readers
    from outage_map.model import SourceKind

    kind = args.kind
    if kind == "opencellid":
        return readers.read_opencellid(path, mccs=set(args.mcc) if args.mcc else None)
    if kind == "boundaries":
        return readers.read_boundaries(
            path,
            key=args.key,
            name_property=args.name_property,
            parent_property=args.parent_property,
        )
    if kind == "site-status":
        return readers.read_site_status(
            path, received_at=received, operator=args.operator, default_tz=zone
        )
    if kind in ("dirs", "status-series"):
        names = readers.AreaNames.from_areas(store.areas())
        if kind == "dirs":
            return readers.read_dirs(path, received_at=received, area_names=names)
        return readers.read_status_series(
            path,
            received_at=received,
            area_names=names,
            resources=frozenset(args.resource) if args.resource else readers.TELECOM_RESOURCES,
        )
    field_reader = (
        readers.read_field_reports_csv
        if kind == "field-csv"
        else readers.read_field_reports_geojson
    )
    return field_reader(
        path,
        received_at=received,
        kind=SourceKind(args.source_kind),
        reporter=args.reporter,
        default_tz=zone,
    )


def _store_items(
    kind: str, store: OutageStore, path: Path, result: ReadResult[Any], received: datetime
) -> dict[str, Any]:
    origin = str(path)
    entry: dict[str, Any] = {
        "file": origin,
        "kind": kind,
        "rows": result.rows,
        "stored": len(result.items),
        "what": "sites" if kind == "opencellid" else "areas" if kind == "boundaries" else "reports",
        "ids": None,
        "skipped": dict(result.skipped),
        "errors": len(result.errors),
        "notes": len(result.infos),
        "problems": [
            {
                "file": p.file,
                "line": p.line,
                "feature": p.feature,
                "field": p.field,
                "value": p.value,
                "reason": p.reason,
                "severity": p.severity.value,
                "message": str(p),
            }
            for p in result.problems
        ],
    }
    if not result.items:
        return entry
    if kind == "opencellid":
        store.append_sites(result.items, origin=origin, now=received)
    elif kind == "boundaries":
        store.append_areas(result.items, origin=origin, now=received)
    else:
        ids = store.append_reports(result.items, origin=origin, now=received)
        entry["ids"] = [ids.start, ids.stop - 1]
    return entry


def _print_ingest(entry: dict[str, Any]) -> None:
    if "error" in entry:
        print(f"{entry['file']} ({entry['kind']}): not read: {entry['error']}")
        return
    ids = f" (ids {entry['ids'][0]}-{entry['ids'][1]})" if entry["ids"] else ""
    line = (
        f"{entry['file']} ({entry['kind']}): {entry['rows']} rows; {entry['stored']} "
        f"{entry['what']} stored{ids}; {entry['errors']} refused"
    )
    if entry["skipped"]:
        skipped = ", ".join(f"{k} {v}" for k, v in entry["skipped"].items())
        line += f"; left out: {skipped}"
    print(line)
    for problem in entry["problems"]:
        mark = "refused" if problem["severity"] == "error" else "note"
        print(f"  {mark}: {problem['message']}")


# --- query, areas --------------------------------------------------------------------------


def run_query(args: argparse.Namespace) -> int:
    from outage_map.answers import point_answer_json

    if not -180.0 <= args.lon <= 180.0 or not -90.0 <= args.lat <= 90.0:
        raise UsageError(
            f"--lon {args.lon} --lat {args.lat}: longitude must be in -180..180 and latitude "
            "in -90..90"
        )
    if args.max_reports < 0:
        raise UsageError("--max-reports must be 0 or more")
    view = _view(args)[1]
    answer = point_answer_json(view, args.lon, args.lat, max_reports=args.max_reports)
    if args.format == "json":
        emit_json(answer)
        return EXIT_OK
    print(f"{answer['status'].upper()} at lon {args.lon}, lat {args.lat}, as of {answer['at']}")
    if answer["basis"] == "none":
        print("  no report speaks of this place at this instant (no site covers it, no area")
        print("  holding it has figures)")
        return EXIT_OK
    line = (
        f"  service probability {_pct(answer['probability'])}, confidence "
        f"{answer['confidence']:.2f}"
    )
    if answer["basis"] == "sites":
        line += f", from {len(answer['sites'])} covering site(s)"
    elif answer["area"] is not None:
        area, source = answer["area"], answer["figures_from"]
        line += f", from the area {area['name']} ({area['code']})"
        if source is not None and source["code"] != area["code"]:
            line += f", figures of {source['name']} ({source['code']})"
    print(line)
    for label, key in (
        ("dark since", "dark_since"),
        ("restored at", "restored_at"),
        ("newest report", "newest_report"),
    ):
        if answer[key]:
            print(f"  {label} {answer[key]}")
    if answer["reports"]:
        print("  reports counted (heaviest first):")
        for r in answer["reports"]:
            share = "" if r["share_out"] is None else f", {r['share_out']:.0%} out"
            cause = "" if r["cause"] is None else f", {r['cause']}"
            note = f": {r['note']}" if r["note"] else ""
            print(
                f"    #{r['report_id']} {r['observed_at']} {r['source_kind']} {r['source']}, "
                f"{r['subject']}: {r['status']}{share}{cause}, weight {r['weight']:.2f}{note}"
            )
    return EXIT_OK


def run_areas(args: argparse.Namespace) -> int:
    from outage_map.answers import dark_areas_json

    if not 0.0 <= args.min_out <= 1.0:
        raise UsageError(f"--min-out {args.min_out}: a share between 0 and 1 (0.5 = half out)")
    view = _view(args)[1]
    document = dark_areas_json(view, args.min_out)
    if args.format == "json":
        emit_json(document)
        return EXIT_OK
    found = document["areas"]
    print(
        f"as of {document['at']}: {len(found)} area(s) with at least {args.min_out:.0%} of "
        f"service out ({document['areas_known']} of {document['areas_total']} areas known)"
    )
    for area in found:
        since = (
            f"dark since {area['dark_since']}"
            if area["dark_since"]
            else f"restored at {area['restored_at']}"
            if area["restored_at"]
            else ""
        )
        extra = [
            f"{area['sites_out']} of {area['sites']} sites down" if area["sites"] else "",
            area["causes_text"] or "",
            since,
            f"shown on {area['shown_on_areas']} areas" if area["shown_on_areas"] else "",
        ]
        detail = "; ".join(e for e in extra if e)
        print(
            f"  {area['share_out']:>4.0%} out  {area['status']:<8} {area['name']} "
            f"({area['code']}), confidence {area['confidence']:.2f}"
            + (f"; {detail}" if detail else "")
        )
    return EXIT_OK


# --- layer ---------------------------------------------------------------------------------


def _parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        west, south, east, north = (float(p) for p in text.split(","))
    except ValueError:
        raise UsageError(
            f"--bbox {text!r}: write west,south,east,north in degrees, e.g. -67.3,17.9,-65.2,18.6"
        ) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise UsageError(
            f"--bbox {text!r}: need -180 <= west < east <= 180 and -90 <= south < north <= 90"
        )
    return west, south, east, north


def run_layer(args: argparse.Namespace) -> int:
    from outage_map.errors import OutageError
    from outage_map.instants import format_instant

    output = Path(args.output)
    suffix = output.suffix.lower()
    if suffix not in _LAYER_SUFFIXES:
        raise UsageError(
            f"-o {output}: the file name must end in {', '.join(_LAYER_SUFFIXES)} (the format "
            "follows it)"
        )
    bbox = _parse_bbox(args.bbox)
    snapshot, view = _view(args)
    document: dict[str, Any] = {"path": str(output), "at": format_instant(view.result.at)}
    try:
        if suffix in (".tif", ".tiff"):
            document.update(_write_tif(view, output, bbox, args.resolution))
        elif suffix == ".png":
            from outage_map.png_map import render_png, write_png

            data = render_png(
                view.result,
                rows=view.rows,
                shapes=snapshot.shapes,
                bbox=bbox,
                width=args.width,
                height=args.height,
                title=args.title,
            )
            write_png(output, data)
            width, height = struct.unpack(">II", data[16:24])  # the PNG header (IHDR)
            document.update(format="png", width=width, height=height)
        else:
            from outage_map.vector import write_layers

            layers = (
                [view.areas, view.sites]
                if suffix == ".gpkg"
                else [view.areas if args.layer == "areas" else view.sites]
            )
            if bbox is not None:
                layers = [layer.take(layer.in_bbox(bbox)) for layer in layers]
            write_layers(output, layers)
            document.update(
                format="gpkg" if suffix == ".gpkg" else "geojson",
                layers={layer.name: len(layer) for layer in layers},
            )
    except OutageError as exc:
        raise UsageError(str(exc)) from None
    if args.format == "json":
        emit_json(document)
        return EXIT_OK
    what = ", ".join(
        f"{k} {v}"
        for k, v in document.items()
        if k not in ("path", "at", "format") and not isinstance(v, dict)
    )
    if "layers" in document:
        what = ", ".join(f"{n} {c} features" for n, c in document["layers"].items())
    print(f"wrote {output} ({document['format']}) as of {document['at']}: {what}")
    return EXIT_OK


def _write_tif(
    view: MergedView,
    output: Path,
    bbox: tuple[float, float, float, float] | None,
    resolution: float,
) -> dict[str, Any]:
    from outage_map.raster import write_service_geotiff

    bounds = bbox
    if bounds is None and len(view.result.inventory) == 0:
        bounds = view.areas.bounds()  # no sites: the areas' extent (all nodata, but placed)
        if bounds is None:
            raise UsageError("the store has no sites and no areas: give --bbox")
    grid = write_service_geotiff(view.result, output, bounds=bounds, resolution_deg=resolution)
    height, width = grid.shape
    return {
        "format": "tif",
        "width": width,
        "height": height,
        "resolution_deg": grid.resolution_deg,
        "bounds": [grid.west, grid.south, grid.east, grid.north],
        "sites_drawn": grid.sites_drawn,
    }


# --- serve ---------------------------------------------------------------------------------


def run_serve(args: argparse.Namespace) -> int:
    import logging

    from outage_map.errors import OutageError
    from outage_map.http import OutageServer
    from outage_map.snapshot import SnapshotCache

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    config = _config(args)
    cache = SnapshotCache(_store_path(args, config), config.policy)
    try:
        snapshot = cache.snapshot()  # fail now, not on the first request, if it cannot load
        server = OutageServer(args.listen, cache)
    except (OutageError, OSError) as exc:
        raise UsageError(f"outage serve: {exc}") from None
    stopping = {"now": False}

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    print(
        f"tocsin outage serve: {server.url}/ (store {snapshot.store_path}: "
        f"{len(snapshot.reports)} reports, {len(snapshot.inventory)} sites, "
        f"{len(snapshot.areas)} areas)",
        file=sys.stderr,
        flush=True,
    )
    try:
        while not stopping["now"]:
            time.sleep(0.2)
    finally:
        server.stop()
    print("tocsin outage serve: stopped", file=sys.stderr)
    return EXIT_OK


# --- running without the entry point ------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """A ``tocsin`` parser holding only the outage commands (and ``--config``)."""
    parser = argparse.ArgumentParser(prog="tocsin", formatter_class=RawDefaultsFormatter)
    parser.add_argument("--config", metavar="FILE", help="TOML configuration")
    register(parser.add_subparsers(dest="command", metavar="COMMAND"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``tocsin outage ...`` with the error handling of ``tocsin`` (no traceback)."""
    from cap.errors import CapError

    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        code: int = handler(args)
        return code
    except KeyboardInterrupt:
        print("tocsin: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except UsageError as exc:
        print(f"tocsin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CapError as exc:  # configuration errors
        print(f"tocsin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        print(
            f"tocsin: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; please report it with the command you ran)",
            file=sys.stderr,
        )
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
