"""Which cells broadcast an alert: the cells whose coverage reaches the CAP area.

A cell table is a CSV of cells (CGI: MCC, MNC, LAC, CI) with a location and a range in
metres; OpenCelliD exports are accepted as they come (``radio,mcc,net,area,cell,unit,lon,lat,
range,...``, with or without the header line). A cell is chosen when its coverage disk (its
range around its location) comes within the bleed buffer of the area: a polygon or circle of
the CAP ``<area>``, grown by ``bleed_m`` metres so that the edges of the area are covered too.

Distances are geodesic on a sphere (mean Earth radius): each polygon is drawn in an azimuthal
equidistant projection centred on it (distances from its centre are exact, and the error
elsewhere is below 0.1% within 300 km of it), circles use the great-circle distance. The
search is indexed: a Shapely STRtree over the cells' coverage boxes finds the candidates, and
one vectorised ``dwithin`` per polygon decides, so a 10,000-cell area among 200,000 cells
takes milliseconds (``benchmarks/cell_broadcast.py``). Areas across the antimeridian or
around a pole are not handled.

:meth:`CellSelection.cell_list` gives the selected cells in each form a CBSP cell list can
take (3GPP TS 48.049 8.2.6 cell identification discriminators), as the CBSP codec's
:class:`~gateways.cell_broadcast.cbsp.CellList`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from cap.model import Area, Circle, Polygon
from gateways.cell_broadcast.cbsp import (
    CbspEncodeError,
    CellId,
    CellIdKind,
    CellList,
    Cgi,
    Ci,
    Lac,
    LacCi,
    Lai,
)

EARTH_RADIUS_M: Final = 6_371_008.8
METRES_PER_DEGREE: Final = EARTH_RADIUS_M * math.pi / 180.0
DEFAULT_RANGE_M: Final = 1_000.0  # a cell without a range estimate
MAX_RANGE_M: Final = 35_000.0  # GSM's timing advance reaches 35 km
OPENCELLID_COLUMNS: Final = (
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averagesignal",
)
_ALIASES: Final = {
    "mcc": ("mcc",),
    "mnc": ("mnc", "net"),
    "lac": ("lac", "area", "tac"),
    "ci": ("ci", "cell", "cid", "cellid"),
    "lon": ("lon", "longitude", "lng"),
    "lat": ("lat", "latitude"),
    "range": ("range", "range_m"),
    "radio": ("radio",),
}
_REQUIRED: Final = ("mcc", "mnc", "lac", "ci", "lon", "lat")
_OPENCELLID_KEYS: Final = {
    "radio": "radio",
    "mcc": "mcc",
    "mnc": "net",
    "lac": "area",
    "ci": "cell",
    "lon": "lon",
    "lat": "lat",
    "range": "range",
}
_PAD: Final = 1.002  # boxes a little larger than what they hold
_MAX_PROBLEMS: Final = 1000


class CellTableError(ValueError):
    """A cell table that cannot be read, or a cell list that cannot be made (says where)."""


@dataclass(frozen=True, slots=True)
class Cell:
    cgi: Cgi
    lon: float
    lat: float
    range_m: float
    radio: str = ""


@dataclass(frozen=True, slots=True)
class CellProblem:
    """A row of a cell table that was skipped, and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class CellSelection:
    """The cells chosen for an alert, in CGI order, each once. ``unlocated`` lists the areas
    that have no polygon or circle (only geocodes), so no cell could be chosen for them."""

    cells: tuple[Cell, ...]
    unlocated: tuple[str, ...] = ()
    bleed_m: float = 0.0

    def __len__(self) -> int:
        return len(self.cells)

    def cgis(self) -> tuple[Cgi, ...]:
        """The selected cells' identities, sorted, each once."""
        return tuple(cell.cgi for cell in self.cells)

    def cell_list(self, kind: CellIdKind = CellIdKind.CGI) -> CellList:
        """The selection as a CBSP cell list (TS 48.049 8.2.6) naming cells by ``kind``:
        CGI, LAC+CI, CI, LAI, LAC (each entry once), or all cells of the BSS. A LAI or LAC
        list names whole location areas: every cell in them broadcasts, not only the chosen
        ones. An empty selection has no cell list (CellTableError)."""
        kind = CellIdKind(kind)
        if kind is CellIdKind.ALL_IN_BSS:
            return CellList.all_in_bss()
        if not self.cells:
            raise CellTableError(
                "no cell of the table reaches the alert area, so there is no cell list; "
                "check the area, the cell table, or widen the bleed buffer"
            )
        if kind is CellIdKind.CGI:
            return CellList(kind, self.cgis())
        items = dict.fromkeys(_identity(cell.cgi, kind) for cell in self.cells)
        return CellList(kind, tuple(items))


def _cgi_order(cgi: Cgi) -> tuple[str, str, int, int]:
    return (cgi.mcc, cgi.mnc, cgi.lac, cgi.ci)


def _identity(cgi: Cgi, kind: CellIdKind) -> CellId:
    if kind is CellIdKind.CGI:
        return cgi
    if kind is CellIdKind.LAC_CI:
        return LacCi(cgi.lac, cgi.ci)
    if kind is CellIdKind.CI:
        return Ci(cgi.ci)
    if kind is CellIdKind.LAI:
        return Lai(cgi.mcc, cgi.mnc, cgi.lac)
    return Lac(cgi.lac)


def _half_sizes(
    lat: NDArray[np.float64], radius_m: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Half width and height (degrees) of a box holding every point within ``radius_m``."""
    dlat = radius_m / METRES_PER_DEGREE * _PAD
    far = np.minimum(np.abs(lat) + dlat, 89.0)
    return np.minimum(dlat / np.cos(np.radians(far)), 180.0), dlat


def _aeqd(
    sin_lat: NDArray[np.float64],
    cos_lat: NDArray[np.float64],
    lon_rad: NDArray[np.float64],
    lat0: float,
    lon0: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Azimuthal equidistant projection (sphere) about (lat0, lon0), in metres."""
    sin0, cos0 = math.sin(math.radians(lat0)), math.cos(math.radians(lat0))
    dlon = lon_rad - math.radians(lon0)
    cos_dlon = np.cos(dlon)
    cos_c = np.clip(sin0 * sin_lat + cos0 * cos_lat * cos_dlon, -1.0, 1.0)
    c = np.arccos(cos_c)
    sin_c = np.sin(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(sin_c > 1e-12, c / sin_c, 1.0) * EARTH_RADIUS_M
    x = k * cos_lat * np.sin(dlon)
    y = k * (cos0 * sin_lat - sin0 * cos_lat * cos_dlon)
    return x, y


def great_circle_m(
    lon1: NDArray[np.float64] | float,
    lat1: NDArray[np.float64] | float,
    lon2: float,
    lat2: float,
) -> NDArray[np.float64]:
    """Haversine distance in metres (vectorised over the first point)."""
    p1, p2 = np.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0))), np.float64)


class CellTable:
    """The cells of one or more networks, indexed by where their coverage reaches."""

    def __init__(
        self,
        cells: Iterable[Cell],
        *,
        problems: Sequence[CellProblem] = (),
        source: str = "",
    ) -> None:
        unique: dict[Cgi, Cell] = {}
        repeated: list[CellProblem] = []
        for n, cell in enumerate(cells, 1):
            if cell.cgi in unique:
                repeated.append(CellProblem(n, f"CGI {cell.cgi} given twice; the first is kept"))
            else:
                unique[cell.cgi] = cell
        self.cells: tuple[Cell, ...] = tuple(unique.values())
        self.problems = (*problems, *repeated[:_MAX_PROBLEMS])
        # Each cell's place in CGI order, so that a selection comes out sorted cheaply.
        order = sorted(range(len(self.cells)), key=lambda i: _cgi_order(self.cells[i].cgi))
        self._rank = np.empty(len(self.cells), np.int64)
        self._rank[order] = np.arange(len(self.cells))
        self.source = source
        n = len(self.cells)
        self.lon = np.fromiter((c.lon for c in self.cells), np.float64, n)
        self.lat = np.fromiter((c.lat for c in self.cells), np.float64, n)
        self.range_m = np.fromiter((c.range_m for c in self.cells), np.float64, n)
        lat_rad = np.radians(self.lat)
        self._sin_lat, self._cos_lat = np.sin(lat_rad), np.cos(lat_rad)
        self._lon_rad = np.radians(self.lon)
        half_w, half_h = _half_sizes(self.lat, self.range_m)
        boxes = shapely.box(
            self.lon - half_w, self.lat - half_h, self.lon + half_w, self.lat + half_h
        )
        self._tree = shapely.STRtree(np.asarray(boxes, dtype=np.object_))

    def __len__(self) -> int:
        return len(self.cells)

    @classmethod
    def read_csv(
        cls,
        source: str | Path | TextIO,
        *,
        radios: Iterable[str] | None = None,
        default_range_m: float = DEFAULT_RANGE_M,
        max_range_m: float = MAX_RANGE_M,
    ) -> CellTable:
        """A table from CSV (a path or an open text stream). Columns, by header name:
        ``mcc``, ``mnc``/``net``, ``lac``/``area``, ``ci``/``cell``, ``lon``, ``lat``,
        optional ``range`` (metres; missing or 0: ``default_range_m``; cut to
        ``max_range_m``) and ``radio``; a file without a header line is read as
        OpenCelliD's 14 columns. ``radios`` keeps only those (e.g. ``["GSM"]``). Bad rows are
        skipped and listed in ``problems`` (with their line); a repeated CGI keeps the first
        row."""
        if isinstance(source, str | Path):
            path = Path(source)
            try:
                with path.open(newline="", encoding="utf-8-sig") as stream:
                    return cls._read(stream, str(path), radios, default_range_m, max_range_m)
            except OSError as error:
                raise CellTableError(f"{path}: cannot read the cell table: {error}") from None
        return cls._read(
            source, getattr(source, "name", "<stream>"), radios, default_range_m, max_range_m
        )

    @classmethod
    def _read(
        cls,
        stream: TextIO,
        name: str,
        radios: Iterable[str] | None,
        default_range_m: float,
        max_range_m: float,
    ) -> CellTable:
        wanted = None if radios is None else {r.strip().casefold() for r in radios}
        reader = csv.reader(stream)
        first = next(reader, None)
        if first is None:
            raise CellTableError(f"{name}: the cell table is empty")
        header = [h.strip().casefold() for h in first]
        columns: dict[str, int] = {}
        rows: Iterator[list[str]]
        if "mcc" in header:
            for key, names in _ALIASES.items():
                found = next((header.index(n) for n in names if n in header), None)
                if found is not None:
                    columns[key] = found
            missing = [key for key in _REQUIRED if key not in columns]
            if missing:
                raise CellTableError(
                    f"{name}: line 1: the header lacks {', '.join(missing)} (a cell table needs "
                    "mcc, mnc (or net), lac (or area), ci (or cell), lon, lat, optionally range)"
                )
            rows = reader
            start = 2
        else:
            columns = {
                key: OPENCELLID_COLUMNS.index(column) for key, column in _OPENCELLID_KEYS.items()
            }
            rows = _chain([first], reader)
            start = 1
        cells: list[Cell] = []
        problems: list[CellProblem] = []
        seen: dict[Cgi, int] = {}
        for line, row in enumerate(rows, start):
            if not row or all(not field.strip() for field in row):
                continue
            try:
                if wanted is not None:
                    radio = _field(row, columns, "radio", required=False).casefold()
                    if radio not in wanted:
                        continue
                cell = _cell(row, columns, default_range_m, max_range_m)
            except CellTableError as error:
                if len(problems) < _MAX_PROBLEMS:
                    problems.append(CellProblem(line, str(error)))
                continue
            if cell.cgi in seen:
                if len(problems) < _MAX_PROBLEMS:
                    problems.append(
                        CellProblem(line, f"CGI {cell.cgi} repeats line {seen[cell.cgi]}; skipped")
                    )
                continue
            seen[cell.cgi] = line
            cells.append(cell)
        return cls(cells, problems=problems, source=name)

    def cells_for(self, areas: Sequence[Area], *, bleed_m: float = 0.0) -> CellSelection:
        """The cells whose coverage disk comes within ``bleed_m`` of any polygon or circle of
        ``areas`` (see the module docstring)."""
        indices = self.indices_for(areas, bleed_m=bleed_m)
        indices = indices[np.argsort(self._rank[indices], kind="stable")]
        unlocated = tuple(
            dict.fromkeys(a.area_desc for a in areas if not a.polygons and not a.circles)
        )
        cells = self.cells
        return CellSelection(tuple(cells[i] for i in indices.tolist()), unlocated, bleed_m)

    def indices_for(self, areas: Sequence[Area], *, bleed_m: float = 0.0) -> NDArray[np.int64]:
        """Table indices (sorted) of the cells :meth:`cells_for` chooses."""
        if bleed_m < 0 or not math.isfinite(bleed_m):
            raise CellTableError(f"bleed buffer {bleed_m} m must be a finite, non-negative length")
        chosen: list[NDArray[np.int64]] = []
        for area in areas:
            for polygon in area.polygons:
                found = self._polygon(polygon, bleed_m)
                if found.size:
                    chosen.append(found)
            for circle in area.circles:
                found = self._circle(circle, bleed_m)
                if found.size:
                    chosen.append(found)
        if not chosen:
            return np.zeros(0, np.int64)
        return np.unique(np.concatenate(chosen))

    def _candidates(
        self, west: float, south: float, east: float, north: float, reach_m: float
    ) -> NDArray[np.int64]:
        half_w, half_h = _half_sizes(np.array([max(abs(south), abs(north))]), np.array([reach_m]))
        box = shapely.box(west - half_w[0], south - half_h[0], east + half_w[0], north + half_h[0])
        return np.asarray(self._tree.query(box), dtype=np.int64)

    def _polygon(self, polygon: Polygon, bleed_m: float) -> NDArray[np.int64]:
        if len(polygon.points) < 3 or len(self) == 0:
            return np.zeros(0, np.int64)
        lat = np.array([float(p.lat) for p in polygon.points])
        lon = np.array([float(p.lon) for p in polygon.points])
        lat0, lon0 = float(lat.mean()), float(lon.mean())
        # Polygon edges are straight in the projection; between vertices far apart they bow
        # away from the lon/lat box by up to a few per mille of its size: pad the search.
        span_m = max(float(np.ptp(lat)), float(np.ptp(lon))) * METRES_PER_DEGREE
        candidates = self._candidates(
            float(lon.min()),
            float(lat.min()),
            float(lon.max()),
            float(lat.max()),
            bleed_m + 0.01 * span_m + 1.0,
        )
        if candidates.size == 0:
            return candidates
        lat_rad, lon_rad = np.radians(lat), np.radians(lon)
        px, py = _aeqd(np.sin(lat_rad), np.cos(lat_rad), lon_rad, lat0, lon0)
        shape: BaseGeometry = shapely.Polygon(np.column_stack([px, py]))
        if not shape.is_valid:  # a self-intersecting ring: the area it encloses
            shape = shapely.make_valid(shape)
        shapely.prepare(shape)
        x, y = _aeqd(
            self._sin_lat[candidates],
            self._cos_lat[candidates],
            self._lon_rad[candidates],
            lat0,
            lon0,
        )
        reach = self.range_m[candidates] + bleed_m
        # The stubs allow a scalar distance only; Shapely broadcasts an array of them.
        inside = shapely.dwithin(shape, shapely.points(x, y), reach)  # type: ignore[call-overload]
        return candidates[np.asarray(inside, dtype=np.bool_)]

    def _circle(self, circle: Circle, bleed_m: float) -> NDArray[np.int64]:
        if circle.center is None or circle.radius_km is None or len(self) == 0:
            return np.zeros(0, np.int64)
        lat0, lon0 = float(circle.center.lat), float(circle.center.lon)
        radius = float(circle.radius_km) * 1000.0
        candidates = self._candidates(lon0, lat0, lon0, lat0, radius + bleed_m)
        if candidates.size == 0:
            return candidates
        distance = great_circle_m(self.lon[candidates], self.lat[candidates], lon0, lat0)
        return candidates[distance <= radius + bleed_m + self.range_m[candidates]]


def _chain(first: list[list[str]], rest: Iterator[list[str]]) -> Iterator[list[str]]:
    yield from first
    yield from rest


def _field(row: Sequence[str], columns: dict[str, int], key: str, *, required: bool = True) -> str:
    index = columns.get(key)
    if index is None or index >= len(row):
        if required:
            raise CellTableError(f"the {key} field is missing")
        return ""
    return row[index].strip()


def _whole(row: Sequence[str], columns: dict[str, int], key: str) -> tuple[int, str]:
    text = _field(row, columns, key)
    if not text.isdigit():
        raise CellTableError(f"{key} {text!r} is not a whole number")
    return int(text), text


def _cell(
    row: Sequence[str], columns: dict[str, int], default_range_m: float, max_range_m: float
) -> Cell:
    mcc, _ = _whole(row, columns, "mcc")
    mnc, mnc_text = _whole(row, columns, "mnc")
    lac, _ = _whole(row, columns, "lac")
    ci, _ = _whole(row, columns, "ci")
    if mcc > 999 or mnc > 999:
        raise CellTableError(f"MCC {mcc} / MNC {mnc}: each is at most 3 digits")
    # "001" is not "01": keep the digits given, else 2 digits (3 when the value needs them).
    mnc_digits = mnc_text if len(mnc_text) == 3 else f"{mnc:02d}"
    try:
        cgi = Cgi(f"{mcc:03d}", mnc_digits, lac, ci)
    except CbspEncodeError as error:
        raise CellTableError(
            f"{error} (a CBSP cell list names GSM cells: LAC and CI of 16 bits; LTE and NR "
            "cell ids do not fit)"
        ) from None
    try:
        lon = float(_field(row, columns, "lon"))
        lat = float(_field(row, columns, "lat"))
    except ValueError:
        raise CellTableError("lon/lat are not numbers") from None
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise CellTableError(f"lon/lat {lon}, {lat} is not a place on Earth")
    text = _field(row, columns, "range", required=False)
    try:
        given = float(text) if text else 0.0
    except ValueError:
        raise CellTableError(f"range {text!r} is not a number of metres") from None
    if given < 0 or not math.isfinite(given):
        raise CellTableError(f"range {text!r} is negative or not finite")
    range_m = min(given if given > 0 else default_range_m, max_range_m)
    radio = _field(row, columns, "radio", required=False).upper()
    return Cell(cgi, lon, lat, range_m, radio)


def cells_from_text(text: str, **options: float) -> CellTable:
    """A table from CSV text (tests, small inline tables)."""
    return CellTable.read_csv(
        io.StringIO(text),
        default_range_m=options.get("default_range_m", DEFAULT_RANGE_M),
        max_range_m=options.get("max_range_m", MAX_RANGE_M),
    )
