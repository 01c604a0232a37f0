"""The merged state as vector layers: areas, sites and reports, in lon/lat (EPSG:4326).

A :class:`Layer` holds aligned columns and one geometry per feature; the same layer becomes a
GeoJSON or GeoPackage file (:func:`write_layers`, through pyogrio), the OGC API items of
``tocsin outage serve``, and the picture of :mod:`outage_map.png_map`.

Areas whose own state is unknown show their parent's figures when the parent has some
(``basis = "parent"``, ``figures_from`` names it): a territory-wide series such as status.pr's
"Puerto Rico" then colours every municipio, and says it is the island's figure, not theirs.
An area known only by code (an island-wide report with no boundary of its own) takes the
union of its children's boundaries as its geometry.

Building the layers is pure; only :func:`write_layers` touches files.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from outage_map.errors import OutageError
from outage_map.inventory import AreaTable, SiteInventory
from outage_map.merge import AreaState, MergeResult
from outage_map.model import Cause, Status, Technology
from outage_map.readers.area_names import US_STATES
from outage_map.table import (
    AREA,
    CAUSES,
    GRID,
    POINT,
    POLYGON,
    SITE,
    SOURCE_KINDS,
    STATUSES,
    SUBJECT_KINDS,
    TECHNOLOGIES,
    ReportTable,
    micros,
)

__all__ = [
    "AREA_FIELDS",
    "REPORT_FIELDS",
    "SITE_FIELDS",
    "AreaRow",
    "Field",
    "FieldKind",
    "Layer",
    "LayerError",
    "area_rows",
    "areas_layer",
    "display_name",
    "json_schema",
    "parent_shapes",
    "reports_layer",
    "sites_layer",
    "write_layers",
]

_STATE_NAMES: Final = {fips: names[0] for fips, _postal, names in US_STATES}
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NAT: Final = np.datetime64("NaT", "us")


class LayerError(OutageError):
    """A layer file cannot be written (unknown format, unwritable path)."""


class FieldKind(StrEnum):
    TEXT = "text"
    REAL = "real"
    INTEGER = "integer"
    DATETIME = "datetime"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: FieldKind
    description: str


@dataclass(frozen=True, slots=True)
class Layer:
    """Features as columns. TEXT columns are object arrays (``None`` is null), REAL float64
    (NaN is null), INTEGER int64, DATETIME ``datetime64[us]`` in UTC (NaT is null).
    ``geometries`` holds Shapely geometries or ``None``."""

    name: str
    title: str
    description: str
    geometry_type: str  # the OGR type written to files: MultiPolygon, Point, Geometry
    fields: tuple[Field, ...]
    ids: tuple[str, ...]
    geometries: NDArray[np.object_]
    columns: Mapping[str, NDArray[Any]]

    def __len__(self) -> int:
        return len(self.ids)

    def index_of(self, feature_id: str) -> int | None:
        try:
            return self.ids.index(feature_id)
        except ValueError:
            return None

    def take(self, rows: Sequence[int] | NDArray[np.integer]) -> Layer:
        """The features at ``rows``, in that order."""
        picked = np.asarray(rows, dtype=np.int64)
        return replace(
            self,
            ids=tuple(self.ids[int(i)] for i in picked),
            geometries=self.geometries[picked],
            columns=MappingProxyType({k: v[picked] for k, v in self.columns.items()}),
        )

    def in_bbox(self, bbox: tuple[float, float, float, float]) -> NDArray[np.int64]:
        """Indices of the features whose geometry meets the box (west, south, east, north).
        A box whose west is east of its east crosses the antimeridian (OGC API rule)."""
        west, south, east, north = bbox
        boxes = (
            [shapely.box(west, south, 180.0, north), shapely.box(-180.0, south, east, north)]
            if west > east
            else [shapely.box(west, south, east, north)]
        )
        has = np.array([g is not None for g in self.geometries], dtype=np.bool_)
        hit = np.zeros(len(self), dtype=np.bool_)
        if has.any():
            geoms = self.geometries[has]
            for box in boxes:
                hit[has] |= np.asarray(shapely.intersects(geoms, box), dtype=np.bool_)
        return np.flatnonzero(hit).astype(np.int64)

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of every geometry, or None when there is none."""
        geoms = [g for g in self.geometries if g is not None and not g.is_empty]
        if not geoms:
            return None
        b = shapely.total_bounds(np.asarray(geoms, dtype=np.object_))
        return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))

    def properties(self, i: int) -> dict[str, Any]:
        """The JSON properties of feature ``i`` (nulls as ``None``, times as RFC 3339 UTC)."""
        return {f.name: _json_value(self.columns[f.name][i], f.kind) for f in self.fields}

    def feature(self, i: int) -> dict[str, Any]:
        """Feature ``i`` as a GeoJSON Feature (RFC 7946)."""
        geometry = self.geometries[i]
        return {
            "type": "Feature",
            "id": self.ids[i],
            "geometry": None if geometry is None else shapely.geometry.mapping(geometry),
            "properties": self.properties(i),
        }


# --- areas ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AreaRow:
    """An area's figures at T, as shown: its own, or (``basis == "parent"``) its nearest
    ancestor's, named by ``figures_from``."""

    code: str
    name: str
    parent: str
    geometry: BaseGeometry | None
    status: Status
    share_out: float | None
    confidence: float
    basis: str  # sites | reports | parent | none
    figures_from: str | None
    sites: int
    sites_known: int
    sites_out: int
    causes: tuple[tuple[Cause, float], ...]
    dark_since: datetime | None
    restored_at: datetime | None
    newest_report: datetime | None

    @property
    def share_service(self) -> float | None:
        return None if self.share_out is None else 1.0 - self.share_out


def display_name(code: str, name: str) -> str:
    """A name for people: the area's own, else a US state's name for its FIPS code."""
    if name and name != code:
        return name
    return _STATE_NAMES.get(code, name or code)


def parent_shapes(areas: AreaTable) -> Mapping[str, BaseGeometry]:
    """For each parent code no area of the table draws, the union of its children's
    boundaries (e.g. "72", Puerto Rico, from its 78 municipios)."""
    children: dict[str, list[BaseGeometry]] = {}
    drawn = {c for c, g in zip(areas.codes, areas.geometries, strict=True) if g is not None}
    for parent, geometry in zip(areas.parents, areas.geometries, strict=True):
        if parent and geometry is not None and parent not in drawn:
            children.setdefault(parent, []).append(geometry)
    shapes = {
        code: shapely.union_all(np.asarray(parts, dtype=np.object_))
        for code, parts in children.items()
    }
    return MappingProxyType(shapes)


def area_rows(
    result: MergeResult, shapes: Mapping[str, BaseGeometry] | None = None
) -> tuple[AreaRow, ...]:
    """Every area of the merge, with parent figures filled in where its own are unknown.
    ``shapes`` is :func:`parent_shapes` of the merge's area table (computed when omitted)."""
    table = result.area_table
    if shapes is None:
        shapes = parent_shapes(table)
    parents = dict(zip(table.codes, table.parents, strict=True))
    rows: list[AreaRow] = []
    for i, state in enumerate(result.areas):
        geometry = table.geometries[i]
        if geometry is None:
            geometry = shapes.get(state.code)
        source = state
        basis = state.basis
        if state.share_out is None:
            ancestor = _known_ancestor(result, parents, state.code)
            source, basis = (ancestor, "parent") if ancestor is not None else (state, "none")
        rows.append(
            AreaRow(
                code=state.code,
                name=display_name(state.code, state.name),
                parent=parents.get(state.code, ""),
                geometry=geometry,
                status=source.status,
                share_out=source.share_out,
                confidence=source.confidence,
                basis=basis,
                figures_from=None if source.share_out is None else source.code,
                sites=state.sites_total,
                sites_known=state.sites_known,
                sites_out=state.sites_down,
                causes=source.causes,
                dark_since=source.dark_since,
                restored_at=source.restored_at,
                newest_report=_newest(result.at, source.newest_age_s),
            )
        )
    return tuple(rows)


def _known_ancestor(result: MergeResult, parents: Mapping[str, str], code: str) -> AreaState | None:
    seen = {code}
    parent = parents.get(code, "")
    while parent and parent not in seen:
        seen.add(parent)
        state = result.area(parent)
        if state is not None and state.share_out is not None:
            return state
        parent = parents.get(parent, "")
    return None


def _newest(at: datetime, age_s: float | None) -> datetime | None:
    return None if age_s is None else at - timedelta(seconds=age_s)


AREA_FIELDS: Final = (
    Field("code", FieldKind.TEXT, "area code (FIPS, ISO 3166-2, or the name a report used)"),
    Field("name", FieldKind.TEXT, "area name"),
    Field("parent", FieldKind.TEXT, "code of the enclosing area (state, country)"),
    Field("status", FieldKind.TEXT, "up, degraded, down or unknown"),
    Field("share_out", FieldKind.REAL, "expected share of service out, 0-1 (null: unknown)"),
    Field("confidence", FieldKind.REAL, "how sure the merge is, 0-1"),
    Field("basis", FieldKind.TEXT, "sites, reports (its own), parent (figures_from), none"),
    Field("figures_from", FieldKind.TEXT, "the area whose reports give these figures"),
    Field("sites", FieldKind.INTEGER, "cell sites located in the area"),
    Field("sites_known", FieldKind.INTEGER, "of those, sites with a known state"),
    Field("sites_out", FieldKind.INTEGER, "of those, sites down"),
    Field("main_cause", FieldKind.TEXT, "damage, power, transport, other (null: not given)"),
    Field("causes", FieldKind.TEXT, "the outage split by cause, e.g. 'power 62%, damage 38%'"),
    Field("dark_since", FieldKind.DATETIME, "start of the current outage (status down)"),
    Field("restored_at", FieldKind.DATETIME, "end of the last outage"),
    Field("newest_report", FieldKind.DATETIME, "observation time of the newest report counted"),
    Field("merged_at", FieldKind.DATETIME, "the instant these figures are for"),
)


def areas_layer(
    result: MergeResult,
    shapes: Mapping[str, BaseGeometry] | None = None,
    rows: Sequence[AreaRow] | None = None,
) -> Layer:
    """The areas at ``result.at`` (one feature per area, id = code)."""
    items = tuple(rows) if rows is not None else area_rows(result, shapes)
    columns: dict[str, NDArray[Any]] = {
        "code": _text([r.code for r in items]),
        "name": _text([r.name for r in items]),
        "parent": _text([r.parent or None for r in items]),
        "status": _text([r.status.value for r in items]),
        "share_out": _real([r.share_out for r in items]),
        "confidence": _real([r.confidence for r in items]),
        "basis": _text([r.basis for r in items]),
        "figures_from": _text([r.figures_from for r in items]),
        "sites": np.array([r.sites for r in items], dtype=np.int64),
        "sites_known": np.array([r.sites_known for r in items], dtype=np.int64),
        "sites_out": np.array([r.sites_out for r in items], dtype=np.int64),
        "main_cause": _text([r.causes[0][0].value if r.causes else None for r in items]),
        "causes": _text([causes_text(r.causes) for r in items]),
        "dark_since": _times([r.dark_since for r in items]),
        "restored_at": _times([r.restored_at for r in items]),
        "newest_report": _times([r.newest_report for r in items]),
        "merged_at": _times([result.at] * len(items)),
    }
    return Layer(
        name="areas",
        title="Areas: share of mobile service out",
        description="Administrative areas with the merged share of cell service out, its "
        "causes, since when it is dark and when it was restored.",
        geometry_type="MultiPolygon",
        fields=AREA_FIELDS,
        ids=tuple(r.code for r in items),
        geometries=_geometries([_multi(r.geometry) for r in items]),
        columns=MappingProxyType(columns),
    )


def _multi(geometry: BaseGeometry | None) -> BaseGeometry | None:
    """A Polygon as a one-part MultiPolygon, so that every area has the same type."""
    if isinstance(geometry, shapely.Polygon):
        return shapely.MultiPolygon([geometry])
    return geometry


def json_schema(
    fields: Sequence[Field], title: str, description: str, geometry_type: str
) -> dict[str, Any]:
    """A JSON Schema of a layer's GeoJSON features (OGC clients read field types from it)."""
    kinds = {
        FieldKind.TEXT: {"type": "string"},
        FieldKind.REAL: {"type": "number"},
        FieldKind.INTEGER: {"type": "integer"},
        FieldKind.DATETIME: {"type": "string", "format": "date-time"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "title": title,
        "description": description,
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"type": "object", "description": f"GeoJSON {geometry_type}"},
            "properties": {
                "type": "object",
                "properties": {
                    f.name: {**kinds[f.kind], "description": f.description} for f in fields
                },
            },
        },
    }


def causes_text(causes: Sequence[tuple[Cause, float]]) -> str | None:
    if not causes:
        return None
    return ", ".join(f"{cause.value} {share:.0%}" for cause, share in causes)


# --- sites ---------------------------------------------------------------------------------

SITE_FIELDS: Final = (
    Field("site_id", FieldKind.TEXT, "site id in the inventory (OpenCelliD mcc-net-area-cell)"),
    Field("operator", FieldKind.TEXT, "operator (OpenCelliD mcc-net)"),
    Field("technology", FieldKind.TEXT, "gsm, umts, cdma, lte, nr (null: not known)"),
    Field("range_m", FieldKind.REAL, "coverage radius used, metres"),
    Field("status", FieldKind.TEXT, "up, degraded, down or unknown"),
    Field("probability", FieldKind.REAL, "probability of service, 0-1 (null: unknown)"),
    Field("confidence", FieldKind.REAL, "how sure the merge is, 0-1"),
    Field("cause", FieldKind.TEXT, "main cause reported (null: none given)"),
    Field("reports", FieldKind.INTEGER, "reports counted for this site"),
    Field("dark_since", FieldKind.DATETIME, "start of the current outage (status down)"),
    Field("restored_at", FieldKind.DATETIME, "end of the last outage"),
    Field("newest_report", FieldKind.DATETIME, "observation time of the newest report counted"),
    Field("merged_at", FieldKind.DATETIME, "the instant these figures are for"),
)


def sites_layer(result: MergeResult) -> Layer:
    """The sites at ``result.at`` (one point per site, id = site id)."""
    inv, s = result.inventory, result.sites
    n = len(inv)
    tech_names = np.array([t.value for t in TECHNOLOGIES] + [None], dtype=np.object_)
    cause_names = np.array([c.value for c in CAUSES] + [None], dtype=np.object_)
    status_names = np.array([st.value for st in STATUSES], dtype=np.object_)
    operators = np.array(list(inv.operators), dtype=np.object_)
    at_us = micros(result.at)
    newest = np.where(np.isnan(s.newest_age_s), np.nan, at_us - np.nan_to_num(s.newest_age_s) * 1e6)
    columns: dict[str, NDArray[Any]] = {
        "site_id": np.array(inv.site_ids, dtype=np.object_),
        "operator": _blank_as_null(operators[inv.operator]),
        "technology": tech_names[np.where(inv.technology < 0, len(Technology), inv.technology)],
        "range_m": np.asarray(inv.range_m, dtype=np.float64),
        "status": status_names[s.status],
        "probability": np.asarray(s.probability, dtype=np.float64),
        "confidence": np.asarray(s.confidence, dtype=np.float64),
        "cause": cause_names[np.where(s.cause < 0, len(CAUSES), s.cause)],
        "reports": np.asarray(s.reports, dtype=np.int64),
        "dark_since": _epoch_seconds(s.dark_since),
        "restored_at": _epoch_seconds(s.restored_at),
        "newest_report": _epochmicros(newest),
        "merged_at": np.full(n, np.datetime64(at_us, "us")),
    }
    return Layer(
        name="sites",
        title="Cell sites: probability of service",
        description="Every cell site of the inventory with its merged probability of service.",
        geometry_type="Point",
        fields=SITE_FIELDS,
        ids=tuple(inv.site_ids),
        geometries=np.asarray(shapely.points(inv.lon, inv.lat), dtype=np.object_).reshape(n),
        columns=MappingProxyType(columns),
    )


# --- reports -------------------------------------------------------------------------------

REPORT_FIELDS: Final = (
    Field("report_id", FieldKind.INTEGER, "id in the report store"),
    Field("observed_at", FieldKind.DATETIME, "when the source observed it"),
    Field("received_at", FieldKind.DATETIME, "when it was ingested"),
    Field("source_kind", FieldKind.TEXT, "operator, regulator, field_team, crowd, probe"),
    Field("source", FieldKind.TEXT, "who reported"),
    Field("subject", FieldKind.TEXT, "what it speaks of: site ID, area CODE, point, polygon, grid"),
    Field("radius_m", FieldKind.REAL, "radius of a point report, metres"),
    Field("status", FieldKind.TEXT, "up, degraded, down or unknown"),
    Field("share_out", FieldKind.REAL, "share of sites out, 0-1, for reports on many sites"),
    Field("cause", FieldKind.TEXT, "damage, power, transport, other"),
    Field("technologies", FieldKind.TEXT, "technologies concerned (null: all)"),
    Field("note", FieldKind.TEXT, "the source's note"),
)


def reports_layer(
    table: ReportTable,
    inventory: SiteInventory,
    areas: AreaTable,
    shapes: Mapping[str, BaseGeometry] | None = None,
) -> Layer:
    """Every report in the table, placed: a site report at its site, an area report on its
    area's boundary (none when the area is not drawn), a point at its point, a grid cell as
    its square, a polygon as drawn."""
    if shapes is None:
        shapes = parent_shapes(areas)
    n = len(table)
    kind = table.subject_kind
    geometries = np.full(n, None, dtype=np.object_)
    points = (kind == POINT) | (kind == SITE)
    lon = np.array(table.lon, dtype=np.float64)
    lat = np.array(table.lat, dtype=np.float64)
    site_rows = np.flatnonzero(kind == SITE)
    if len(site_rows):
        site_of_key = inventory.indices_of(table.keys)
        site = site_of_key[table.key[site_rows]]
        known = site >= 0
        lon[site_rows[known]] = inventory.lon[site[known]]
        lat[site_rows[known]] = inventory.lat[site[known]]
        points[site_rows[~known]] = False
    if points.any():
        geometries[points] = shapely.points(lon[points], lat[points])
    grid = np.flatnonzero(kind == GRID)
    if len(grid):
        x, y, size = table.lon[grid], table.lat[grid], table.extent[grid]
        geometries[grid] = shapely.box(x, y, x + size, y + size)
    for i in np.flatnonzero(kind == POLYGON):
        geometries[i] = table.polygons[int(table.polygon[i])]
    area_geometry: dict[int, BaseGeometry | None] = {}
    for i in np.flatnonzero(kind == AREA):
        key = int(table.key[i])
        if key not in area_geometry:
            code = table.keys[key]
            found = areas.find(code)
            drawn = None if found is None else areas.geometries[found]
            area_geometry[key] = drawn if drawn is not None else shapes.get(code)
        geometries[i] = area_geometry[key]
    keys = np.array(list(table.keys) or [""], dtype=np.object_)
    subject_names = np.array(list(SUBJECT_KINDS), dtype=np.object_)
    subject = subject_names[kind].astype(np.object_)
    keyed = (kind == SITE) | (kind == AREA)
    subject[keyed] = [
        f"{s} {k}" for s, k in zip(subject[keyed], keys[table.key[keyed]], strict=True)
    ]
    names = np.array(list(table.names), dtype=np.object_)
    notes = np.array(list(table.notes), dtype=np.object_)
    columns: dict[str, NDArray[Any]] = {
        "report_id": np.asarray(table.ids, dtype=np.int64),
        "observed_at": np.asarray(table.observed_us, dtype=np.int64).astype("datetime64[us]"),
        "received_at": np.asarray(table.received_us, dtype=np.int64).astype("datetime64[us]"),
        "source_kind": np.array([k.value for k in SOURCE_KINDS], dtype=np.object_)[
            table.source_kind
        ],
        "source": names[table.source_name],
        "subject": subject,
        "radius_m": np.where(kind == POINT, table.extent, np.nan),
        "status": np.array([s.value for s in STATUSES], dtype=np.object_)[table.status],
        "share_out": np.asarray(table.share_out, dtype=np.float64),
        "cause": np.array([c.value for c in CAUSES] + [None], dtype=np.object_)[
            np.where(table.cause < 0, len(CAUSES), table.cause)
        ],
        "technologies": _masks_text(table.tech_mask),
        "note": _blank_as_null(notes[table.note]),
    }
    return Layer(
        name="reports",
        title="Reports",
        description="Every report in the store, as received: operators, regulators, field "
        "teams, the public and probes.",
        geometry_type="Geometry",
        fields=REPORT_FIELDS,
        ids=tuple(str(int(i)) for i in table.ids),
        geometries=geometries,
        columns=MappingProxyType(columns),
    )


def _masks_text(masks: NDArray[np.uint8]) -> NDArray[np.object_]:
    names: list[str | None] = []
    for mask in range(1 << len(TECHNOLOGIES)):
        chosen = [t.value for bit, t in enumerate(TECHNOLOGIES) if mask & (1 << bit)]
        names.append(";".join(chosen) or None)
    return np.array(names, dtype=np.object_)[masks.astype(np.int64)]


# --- files ---------------------------------------------------------------------------------

_FORMATS: Final = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}


def write_layers(path: Path | str, layers: Sequence[Layer]) -> Path:
    """Write layers to a GeoPackage (``.gpkg``: every layer) or GeoJSON (``.geojson``,
    ``.json``: exactly one layer), EPSG:4326, replacing the file atomically."""
    import pyogrio.errors  # GDAL loads slowly; only writing needs it
    import pyogrio.raw

    target = Path(path)
    driver = _FORMATS.get(target.suffix.lower())
    if driver is None:
        raise LayerError(
            f"{target}: unknown layer format {target.suffix or '(none)'}; use .gpkg "
            "(GeoPackage, all layers) or .geojson (one layer)"
        )
    if driver == "GeoJSON" and len(layers) != 1:
        raise LayerError(f"{target}: a GeoJSON file holds one layer, not {len(layers)}")
    partial = target.with_name(f".{target.stem}.partial{target.suffix}")  # GDAL wants the suffix
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        for number, layer in enumerate(layers):
            _write_one(pyogrio.raw, partial, driver, layer, append=number > 0)
        partial.replace(target)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise LayerError(f"cannot write {target}: {exc}") from None
    return target


def _write_one(raw: Any, path: Path, driver: str, layer: Layer, *, append: bool) -> None:
    geometry = np.array(
        [None if g is None else shapely.to_wkb(g) for g in layer.geometries], dtype=np.object_
    )
    data: list[NDArray[Any]] = []
    offsets: dict[str, NDArray[np.int64]] = {}
    for field in layer.fields:
        column = layer.columns[field.name]
        if field.kind is FieldKind.DATETIME:
            column = column.astype("datetime64[ms]")
            offsets[field.name] = np.full(len(column), 100, np.int64)  # GDAL's code for UTC
        data.append(column)
    options: dict[str, Any] = {}
    if driver == "GPKG":
        # GeoPackage 1.3 and millisecond times read cleanly with older GDAL (Debian's 3.6).
        options["layer_options"] = {"DATETIME_PRECISION": "MILLISECOND"}
        if not append:
            options["dataset_options"] = {"VERSION": "1.3"}
    raw.write(
        str(path),
        geometry,
        data,
        [f.name for f in layer.fields],
        layer=layer.name,
        driver=driver,
        geometry_type=layer.geometry_type if len(layer) or driver != "GeoJSON" else "Unknown",
        crs="EPSG:4326",
        promote_to_multi=layer.geometry_type.startswith("Multi"),
        nan_as_null=True,
        append=append,
        gdal_tz_offsets=offsets,
        **options,
    )


# --- columns -------------------------------------------------------------------------------


def _text(values: Sequence[str | None]) -> NDArray[np.object_]:
    array = np.empty(len(values), dtype=np.object_)
    array[:] = list(values)
    return array


def _real(values: Sequence[float | None]) -> NDArray[np.float64]:
    return np.array([math.nan if v is None else v for v in values], dtype=np.float64)


def _times(values: Sequence[datetime | None]) -> NDArray[np.datetime64]:
    return np.array(
        [_NAT if v is None else np.datetime64(micros(v), "us") for v in values],
        dtype="datetime64[us]",
    )


def _epoch_seconds(seconds: NDArray[np.float64]) -> NDArray[np.datetime64]:
    return _epochmicros(np.asarray(seconds, dtype=np.float64) * 1e6)


def _epochmicros(micros: NDArray[np.float64]) -> NDArray[np.datetime64]:
    known = ~np.isnan(micros)
    out = np.full(len(micros), _NAT, dtype="datetime64[us]")
    out[known] = np.round(micros[known]).astype(np.int64).astype("datetime64[us]")
    return out


def _blank_as_null(values: NDArray[np.object_]) -> NDArray[np.object_]:
    out = values.astype(np.object_)  # a copy
    out[out == ""] = None
    return out


def _geometries(values: Sequence[BaseGeometry | None]) -> NDArray[np.object_]:
    array = np.empty(len(values), dtype=np.object_)
    array[:] = list(values)
    return array


def _json_value(value: Any, kind: FieldKind) -> Any:
    if kind is FieldKind.TEXT:
        return None if value is None else str(value)
    if kind is FieldKind.REAL:
        number = float(value)
        return None if math.isnan(number) else number
    if kind is FieldKind.INTEGER:
        return int(value)
    if np.isnat(value):
        return None
    micros = int(np.datetime64(value, "us").astype(np.int64))
    at = _EPOCH + timedelta(microseconds=micros)
    spec = "microseconds" if at.microsecond else "seconds"
    return at.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
