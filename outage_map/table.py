"""Reports as columns: one numpy array per field, so that a million reports cost a few arrays
and not a million Python objects.

Enumerations are small integer codes in the order of their Python enums (:data:`STATUSES`,
:data:`SOURCE_KINDS`, :data:`CAUSES`, :data:`TECHNOLOGIES`, :data:`SUBJECT_KINDS`); strings
(source names, site ids and area codes, notes) are codes into a tuple of distinct values.
Times are integer microseconds since 1970-01-01 UTC, exact both ways.

A table is immutable: its arrays are read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from outage_map.errors import ReportError
from outage_map.model import (
    AreaSubject,
    Cause,
    GridSubject,
    PointSubject,
    PolygonSubject,
    Report,
    SiteSubject,
    Source,
    SourceKind,
    Status,
    Subject,
    Technology,
)

__all__ = [
    "AREA",
    "CAUSES",
    "EPOCH",
    "GRID",
    "POINT",
    "POLYGON",
    "SITE",
    "SOURCE_KINDS",
    "STATUSES",
    "SUBJECT_KINDS",
    "TECHNOLOGIES",
    "ReportTable",
    "datetime_of",
    "micros",
    "technology_mask",
]

_T = TypeVar("_T", bound=np.generic)

STATUSES: Final = tuple(Status)  # up, degraded, down, unknown
SOURCE_KINDS: Final = tuple(SourceKind)
CAUSES: Final = tuple(Cause)  # code -1: no cause given
TECHNOLOGIES: Final = tuple(Technology)  # bit i of a technology mask; mask 0: all of them

SITE: Final = 0
POINT: Final = 1
POLYGON: Final = 2
AREA: Final = 3
GRID: Final = 4
SUBJECT_KINDS: Final = ("site", "point", "polygon", "area", "grid")

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_US: Final = timedelta(microseconds=1)

_STATUS_CODE: Final = {s: i for i, s in enumerate(STATUSES)}
_KIND_CODE: Final = {k: i for i, k in enumerate(SOURCE_KINDS)}
_CAUSE_CODE: Final = {c: i for i, c in enumerate(CAUSES)}
_TECH_BIT: Final = {t: 1 << i for i, t in enumerate(TECHNOLOGIES)}


def micros(at: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ReportError(f"time {at.isoformat()} has no time zone; pass an aware datetime")
    return (at - EPOCH) // _US


def datetime_of(us: int | np.integer) -> datetime:
    """The UTC datetime of microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=int(us))


def technology_mask(technologies: Iterable[Technology]) -> int:
    mask = 0
    for tech in technologies:
        mask |= _TECH_BIT[tech]
    return mask


def _frozen(values: ArrayLike, dtype: type[_T], name: str, n: int) -> NDArray[_T]:
    array = np.array(values, dtype=dtype)  # always a copy: the caller keeps theirs
    if array.shape != (n,):
        raise ReportError(f"report column {name} has shape {array.shape}, expected ({n},)")
    array.flags.writeable = False
    return array


@dataclass(frozen=True, slots=True)
class ReportTable:
    """Reports as aligned columns. Build with :meth:`from_reports` or :meth:`from_arrays`.

    ``key`` codes index ``keys`` (site ids for site subjects, area codes for area subjects;
    -1 otherwise). Points keep ``lon``/``lat`` and their radius in ``extent`` (metres); grid
    cells their south-west corner and size in ``extent`` (degrees); polygons an index into
    ``polygons``. ``share_out`` is NaN when not given. ``note`` 0 is the empty note."""

    ids: NDArray[np.int64]
    observed_us: NDArray[np.int64]
    received_us: NDArray[np.int64]
    source_kind: NDArray[np.int8]
    source_name: NDArray[np.int32]
    subject_kind: NDArray[np.int8]
    key: NDArray[np.int32]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    extent: NDArray[np.float64]
    polygon: NDArray[np.int32]
    status: NDArray[np.int8]
    cause: NDArray[np.int8]
    tech_mask: NDArray[np.uint8]
    share_out: NDArray[np.float64]
    note: NDArray[np.int32]
    names: tuple[str, ...]
    keys: tuple[str, ...]
    polygons: tuple[BaseGeometry, ...]
    notes: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    # --- building ----------------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        *,
        observed_us: ArrayLike,
        source_kind: ArrayLike,
        subject_kind: ArrayLike,
        status: ArrayLike,
        ids: ArrayLike | None = None,
        received_us: ArrayLike | None = None,
        source_name: ArrayLike | None = None,
        names: Sequence[str] = ("",),
        key: ArrayLike | None = None,
        keys: Sequence[str] = (),
        lon: ArrayLike | None = None,
        lat: ArrayLike | None = None,
        extent: ArrayLike | None = None,
        polygon: ArrayLike | None = None,
        polygons: Sequence[BaseGeometry] = (),
        cause: ArrayLike | None = None,
        tech_mask: ArrayLike | None = None,
        share_out: ArrayLike | None = None,
        note: ArrayLike | None = None,
        notes: Sequence[str] = ("",),
    ) -> ReportTable:
        """A table straight from columns (copied, then checked). Omitted columns take their
        empty value: ids 1..n, received = observed, source name / note code 0, no key, NaN
        coordinates, no cause, all technologies, no share."""
        observed = np.asarray(observed_us)
        n = int(observed.shape[0]) if observed.ndim == 1 else -1
        if n < 0:
            raise ReportError("observed_us must be a one-dimensional array of microseconds")

        def column(value: ArrayLike | None, fill: float | int) -> ArrayLike:
            return np.full(n, fill) if value is None else value

        table = cls(
            ids=_frozen(np.arange(1, n + 1) if ids is None else ids, np.int64, "ids", n),
            observed_us=_frozen(observed, np.int64, "observed_us", n),
            received_us=_frozen(
                observed if received_us is None else received_us, np.int64, "received_us", n
            ),
            source_kind=_frozen(source_kind, np.int8, "source_kind", n),
            source_name=_frozen(column(source_name, 0), np.int32, "source_name", n),
            subject_kind=_frozen(subject_kind, np.int8, "subject_kind", n),
            key=_frozen(column(key, -1), np.int32, "key", n),
            lon=_frozen(column(lon, np.nan), np.float64, "lon", n),
            lat=_frozen(column(lat, np.nan), np.float64, "lat", n),
            extent=_frozen(column(extent, np.nan), np.float64, "extent", n),
            polygon=_frozen(column(polygon, -1), np.int32, "polygon", n),
            status=_frozen(status, np.int8, "status", n),
            cause=_frozen(column(cause, -1), np.int8, "cause", n),
            tech_mask=_frozen(column(tech_mask, 0), np.uint8, "tech_mask", n),
            share_out=_frozen(column(share_out, np.nan), np.float64, "share_out", n),
            note=_frozen(column(note, 0), np.int32, "note", n),
            names=tuple(names),
            keys=tuple(keys),
            polygons=tuple(polygons),
            notes=tuple(notes),
        )
        table.check()
        return table

    @classmethod
    def from_reports(cls, reports: Iterable[Report], first_id: int = 1) -> ReportTable:
        """A table of report objects, numbered from ``first_id`` in the order given."""
        cols: dict[str, list[float | int]] = {name: [] for name in _COLUMNS if name != "ids"}
        names: dict[str, int] = {"": 0}
        keys: dict[str, int] = {}
        polygon_index: dict[bytes, int] = {}
        polygons: list[BaseGeometry] = []
        notes: dict[str, int] = {"": 0}
        nan = float("nan")
        for report in reports:
            cols["observed_us"].append(micros(report.observed_at))
            cols["received_us"].append(micros(report.received_at))
            cols["source_kind"].append(_KIND_CODE[report.source.kind])
            cols["source_name"].append(names.setdefault(report.source.name, len(names)))
            subject = report.subject
            key, lon, lat, extent, poly = -1, nan, nan, nan, -1
            if isinstance(subject, SiteSubject):
                kind, key = SITE, keys.setdefault(subject.site_id, len(keys))
            elif isinstance(subject, AreaSubject):
                kind, key = AREA, keys.setdefault(subject.code, len(keys))
            elif isinstance(subject, PointSubject):
                kind, lon, lat, extent = POINT, subject.lon, subject.lat, subject.radius_m
            elif isinstance(subject, GridSubject):
                kind, lon, lat, extent = GRID, subject.lon, subject.lat, subject.size_deg
            else:
                kind = POLYGON
                wkb = shapely.to_wkb(subject.geometry)
                poly = polygon_index.get(wkb, -1)
                if poly < 0:
                    poly = polygon_index[wkb] = len(polygons)
                    polygons.append(subject.geometry)
            cols["subject_kind"].append(kind)
            cols["key"].append(key)
            cols["lon"].append(lon)
            cols["lat"].append(lat)
            cols["extent"].append(extent)
            cols["polygon"].append(poly)
            cols["status"].append(_STATUS_CODE[report.status])
            cols["cause"].append(-1 if report.cause is None else _CAUSE_CODE[report.cause])
            cols["tech_mask"].append(technology_mask(report.technologies))
            cols["share_out"].append(nan if report.share_out is None else report.share_out)
            cols["note"].append(notes.setdefault(report.note, len(notes)))
        n = len(cols["observed_us"])
        return cls.from_arrays(
            ids=np.arange(first_id, first_id + n),
            **{k: np.array(v) if v else np.zeros(0) for k, v in cols.items()},
            names=tuple(names),
            keys=tuple(keys),
            polygons=tuple(polygons),
            notes=tuple(notes),
        )

    @classmethod
    def empty(cls) -> ReportTable:
        return cls.from_arrays(
            observed_us=np.zeros(0, np.int64),
            source_kind=np.zeros(0, np.int8),
            subject_kind=np.zeros(0, np.int8),
            status=np.zeros(0, np.int8),
        )

    def check(self) -> None:
        """Refuse codes out of range and values a report cannot have."""
        n = len(self)

        def bad(name: str, mask: NDArray[np.bool_], why: str) -> None:
            if n and bool(mask.any()):
                first = int(np.flatnonzero(mask)[0])
                raise ReportError(f"report id {int(self.ids[first])} (row {first}): {name} {why}")

        bad(
            "source kind",
            (self.source_kind < 0) | (self.source_kind >= len(SOURCE_KINDS)),
            "is not a known code",
        )
        bad("status", (self.status < 0) | (self.status >= len(STATUSES)), "is not a known code")
        bad("cause", (self.cause < -1) | (self.cause >= len(CAUSES)), "is not a known code")
        bad(
            "subject kind",
            (self.subject_kind < 0) | (self.subject_kind > GRID),
            "is not a known code",
        )
        bad(
            "source name",
            (self.source_name < 0) | (self.source_name >= len(self.names)),
            "code has no name",
        )
        bad("note", (self.note < 0) | (self.note >= len(self.notes)), "code has no text")
        bad("technology mask", self.tech_mask >= (1 << len(TECHNOLOGIES)), "has unknown bits")
        keyed = (self.subject_kind == SITE) | (self.subject_kind == AREA)
        bad(
            "subject key",
            keyed & ((self.key < 0) | (self.key >= len(self.keys))),
            "code has no key",
        )
        placed = (self.subject_kind == POINT) | (self.subject_kind == GRID)
        lon_bad = ~((self.lon >= -180.0) & (self.lon <= 180.0))
        lat_bad = ~((self.lat >= -90.0) & (self.lat <= 90.0))
        bad("coordinates", placed & (lon_bad | lat_bad), "are not a lon/lat in range")
        bad(
            "radius",
            (self.subject_kind == POINT) & ~(self.extent >= 0.0),
            "must be 0 or more metres",
        )
        bad(
            "grid cell size",
            (self.subject_kind == GRID) & ~((self.extent > 0.0) & (self.extent <= 10.0)),
            "must be over 0 and at most 10 degrees",
        )
        bad(
            "polygon",
            (self.subject_kind == POLYGON)
            & ((self.polygon < 0) | (self.polygon >= len(self.polygons))),
            "index has no geometry",
        )
        has_share = ~np.isnan(self.share_out)
        bad(
            "share out",
            has_share & ~((self.share_out >= 0.0) & (self.share_out <= 1.0)),
            "must be between 0 and 1",
        )
        increasing = n < 2 or bool(np.all(self.ids[1:] > self.ids[:-1]))
        if not increasing and len(np.unique(self.ids)) != n:
            raise ReportError("report ids repeat; every report needs its own id")

    # --- reading -----------------------------------------------------------------------------

    def select(self, rows: NDArray[np.bool_] | NDArray[np.integer]) -> ReportTable:
        """The rows picked by a boolean mask or an index array (string tables kept)."""
        return ReportTable(
            **{name: _taken(getattr(self, name), rows) for name in _COLUMNS},
            names=self.names,
            keys=self.keys,
            polygons=self.polygons,
            notes=self.notes,
        )

    @classmethod
    def concat(cls, tables: Sequence[ReportTable]) -> ReportTable:
        """One table of several, string codes renumbered into shared tuples."""
        if not tables:
            return cls.empty()
        if len(tables) == 1:
            return tables[0]
        names: dict[str, int] = {"": 0}
        keys: dict[str, int] = {}
        notes: dict[str, int] = {"": 0}
        polygons: list[BaseGeometry] = []
        parts: dict[str, list[NDArray[np.generic]]] = {name: [] for name in _COLUMNS}
        for table in tables:
            name_map = np.array([names.setdefault(s, len(names)) for s in table.names], np.int32)
            key_map = np.array([keys.setdefault(s, len(keys)) for s in table.keys] or [0], np.int32)
            note_map = np.array([notes.setdefault(s, len(notes)) for s in table.notes], np.int32)
            offset = len(polygons)
            polygons.extend(table.polygons)
            for name in _COLUMNS:
                values: NDArray[np.generic] = getattr(table, name)
                if name == "source_name":
                    values = name_map[table.source_name]
                elif name == "note":
                    values = note_map[table.note]
                elif name == "key":
                    values = np.where(table.key >= 0, key_map[np.maximum(table.key, 0)], -1)
                elif name == "polygon":
                    values = np.where(table.polygon >= 0, table.polygon + offset, -1)
                parts[name].append(values)
        joined = {name: np.concatenate(parts[name]) for name in _COLUMNS}
        result = cls.from_arrays(
            **joined,
            names=tuple(names),
            keys=tuple(keys),
            polygons=tuple(polygons),
            notes=tuple(notes),
        )
        return result

    def report(self, row: int) -> Report:
        """Row ``row`` as a :class:`Report` (for answers that list a few reports)."""
        kind = int(self.subject_kind[row])
        subject: Subject
        if kind == SITE:
            subject = SiteSubject(self.keys[int(self.key[row])])
        elif kind == AREA:
            subject = AreaSubject(self.keys[int(self.key[row])])
        elif kind == POINT:
            subject = PointSubject(
                float(self.lon[row]), float(self.lat[row]), float(self.extent[row])
            )
        elif kind == GRID:
            subject = GridSubject(
                float(self.lon[row]), float(self.lat[row]), float(self.extent[row])
            )
        else:
            subject = PolygonSubject(self.polygons[int(self.polygon[row])])
        cause = int(self.cause[row])
        mask = int(self.tech_mask[row])
        share = float(self.share_out[row])
        return Report(
            observed_at=datetime_of(self.observed_us[row]),
            received_at=datetime_of(self.received_us[row]),
            source=Source(
                SOURCE_KINDS[int(self.source_kind[row])], self.names[int(self.source_name[row])]
            ),
            subject=subject,
            status=STATUSES[int(self.status[row])],
            cause=None if cause < 0 else CAUSES[cause],
            technologies=frozenset(t for t in TECHNOLOGIES if mask & _TECH_BIT[t]),
            share_out=None if share != share else share,
            note=self.notes[int(self.note[row])],
        )

    def reports(self) -> list[Report]:
        return [self.report(i) for i in range(len(self))]


_COLUMNS: Final = (
    "ids",
    "observed_us",
    "received_us",
    "source_kind",
    "source_name",
    "subject_kind",
    "key",
    "lon",
    "lat",
    "extent",
    "polygon",
    "status",
    "cause",
    "tech_mask",
    "share_out",
    "note",
)


def _taken(array: NDArray[_T], rows: NDArray[np.bool_] | NDArray[np.integer]) -> NDArray[_T]:
    out = array[rows]
    out.flags.writeable = False
    return out
