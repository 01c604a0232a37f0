"""The report store: one SQLite file (WAL, synchronous=FULL) to which reports, sites and areas
are appended and never changed, so that any past instant can be merged again.

Reports are kept in batches: one row per append, holding the batch's columns (a
:class:`~outage_map.table.ReportTable` as an ``.npz`` document, no pickles) with the range of
ids it was given and the span of its times. Reading a million reports back is then a few
array copies, not a million rows. Report ids are consecutive from 1 in append order.

Sites and areas are one row per version: appending a site id again adds its new version, and
readers take the latest version appended by a given instant.

Triggers refuse ``UPDATE`` and ``DELETE`` on every table, and a batch whose ids do not follow
the last one. (Anyone holding the file can drop triggers; this guards against mistakes, not
attackers.)
"""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final

import numpy as np
import shapely
from numpy.typing import NDArray

from outage_map.config import MergePolicy
from outage_map.errors import OutageStoreError, ReportError
from outage_map.inventory import SiteInventory
from outage_map.model import AdminArea, Report, Site, Technology
from outage_map.table import ReportTable, micros

__all__ = ["SCHEMA_VERSION", "OutageStore"]

SCHEMA_VERSION: Final = "1"
_FORMAT: Final = 1  # the batch document's layout

_STATEMENTS: Final = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS report_batches ("
    "batch INTEGER PRIMARY KEY, first_id INTEGER NOT NULL, count INTEGER NOT NULL, "
    "appended_at TEXT NOT NULL, appended_us INTEGER NOT NULL, origin TEXT NOT NULL, "
    "observed_min INTEGER NOT NULL, observed_max INTEGER NOT NULL, "
    "received_min INTEGER NOT NULL, received_max INTEGER NOT NULL, columns BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sites ("
    "seq INTEGER PRIMARY KEY, site_id TEXT NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL, "
    "range_m REAL, technology TEXT, operator TEXT NOT NULL, "
    "appended_at TEXT NOT NULL, appended_us INTEGER NOT NULL, origin TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS areas ("
    "seq INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL, parent TEXT NOT NULL, "
    "geometry BLOB NOT NULL, appended_at TEXT NOT NULL, appended_us INTEGER NOT NULL, "
    "origin TEXT NOT NULL)",
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'the outage store is append-only: {what} cannot be "
        f"{done}; append a new report or version instead'); END"
        for table, what in (
            ("report_batches", "reports"),
            ("sites", "sites"),
            ("areas", "areas"),
            ("meta", "its settings"),
        )
        for verb, done in (("UPDATE", "changed"), ("DELETE", "deleted"))
    ),
    "CREATE TRIGGER IF NOT EXISTS report_batches_consecutive BEFORE INSERT ON report_batches "
    "WHEN NEW.first_id IS NOT (SELECT COALESCE(MAX(first_id + count), 1) FROM report_batches) "
    "BEGIN SELECT RAISE(ABORT, 'report ids must follow the last batch (another writer "
    "appended first? retry)'); END",
)


class OutageStore:
    """The outage store file. Not shared between threads; open one per thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            with self._transaction():
                for statement in _STATEMENTS:
                    self._conn.execute(statement)
                row = self._conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                if row is None:
                    self._conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
                elif row[0] != SCHEMA_VERSION:
                    raise OutageStoreError(
                        f"the outage store {self.path} has schema {row[0]}, this version reads "
                        f"schema {SCHEMA_VERSION}; use a matching tocsin or a new store file"
                    )
        except (OSError, sqlite3.Error) as exc:
            raise OutageStoreError(f"cannot open the outage store {self.path}: {exc}") from None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> OutageStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise OutageStoreError(f"the outage store {self.path} is not writable: {exc}") from None
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise OutageStoreError(
                f"the outage store {self.path} could not commit: {exc}"
            ) from None

    # --- reports -----------------------------------------------------------------------------

    def append_reports(
        self,
        reports: ReportTable | Iterable[Report],
        *,
        origin: str = "",
        now: datetime | None = None,
        batch_size: int = 200_000,
    ) -> range:
        """Append reports (in one transaction) and return the ids they were given. ``origin``
        says where they came from (a file, a feed); ``now`` is the append time (default: the
        clock)."""
        table = reports if isinstance(reports, ReportTable) else ReportTable.from_reports(reports)
        at = _now(now)
        at_text, at_us = at.isoformat(timespec="microseconds"), micros(at)
        try:
            with self._transaction() as conn:
                (next_id,) = conn.execute(
                    "SELECT COALESCE(MAX(first_id + count), 1) FROM report_batches"
                ).fetchone()
                first = int(next_id)
                for start in range(0, len(table), batch_size):
                    part = _compact(
                        table.select(np.arange(start, min(start + batch_size, len(table))))
                    )
                    conn.execute(
                        "INSERT INTO report_batches (first_id, count, appended_at, appended_us, "
                        "origin, observed_min, observed_max, received_min, received_max, "
                        "columns) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (
                            first + start,
                            len(part),
                            at_text,
                            at_us,
                            origin,
                            int(part.observed_us.min()),
                            int(part.observed_us.max()),
                            int(part.received_us.min()),
                            int(part.received_us.max()),
                            _encode(part),
                        ),
                    )
        except sqlite3.Error as exc:
            raise OutageStoreError(
                f"cannot append {len(table)} reports to {self.path}: {exc}"
            ) from None
        return range(first, first + len(table))

    def reports(
        self,
        *,
        observed_until: datetime | None = None,
        received_until: datetime | None = None,
        appended_until: datetime | None = None,
    ) -> ReportTable:
        """Every report observed by ``observed_until``, received by ``received_until`` and
        appended by ``appended_until`` (each optional), with their store ids, in id order."""
        where, args = ["1"], []
        if observed_until is not None:
            where.append("observed_min <= ?")
            args.append(micros(observed_until))
        if received_until is not None:
            where.append("received_min <= ?")
            args.append(micros(received_until))
        if appended_until is not None:
            where.append("appended_us <= ?")
            args.append(micros(appended_until))
        try:
            rows = self._conn.execute(
                f"SELECT first_id, count, columns FROM report_batches WHERE {' AND '.join(where)} "
                "ORDER BY first_id",
                args,
            ).fetchall()
        except sqlite3.Error as exc:
            raise OutageStoreError(f"cannot read reports from {self.path}: {exc}") from None
        tables = [_decode(bytes(blob), int(first), int(count)) for first, count, blob in rows]
        table = ReportTable.concat(tables)
        keep = np.ones(len(table), np.bool_)
        if observed_until is not None:
            keep &= table.observed_us <= micros(observed_until)
        if received_until is not None:
            keep &= table.received_us <= micros(received_until)
        return table if bool(keep.all()) else table.select(keep)

    def report_count(self) -> int:
        (count,) = self._conn.execute(
            "SELECT COALESCE(SUM(count), 0) FROM report_batches"
        ).fetchone()
        return int(count)

    # --- sites and areas ---------------------------------------------------------------------

    def append_sites(
        self, sites: Iterable[Site], *, origin: str = "", now: datetime | None = None
    ) -> int:
        """Append a version of each site; returns how many."""
        at = _now(now)
        rows = [
            (
                s.site_id,
                s.lon,
                s.lat,
                s.range_m,
                None if s.technology is None else s.technology.value,
                s.operator,
                at.isoformat(timespec="microseconds"),
                micros(at),
                origin,
            )
            for s in sites
        ]
        try:
            with self._transaction() as conn:
                conn.executemany(
                    "INSERT INTO sites (site_id, lon, lat, range_m, technology, operator, "
                    "appended_at, appended_us, origin) VALUES (?,?,?,?,?,?,?,?,?)",
                    rows,
                )
        except sqlite3.Error as exc:
            raise OutageStoreError(f"cannot append sites to {self.path}: {exc}") from None
        return len(rows)

    def _site_rows(
        self, appended_until: datetime | None
    ) -> list[tuple[str, float, float, float | None, str | None, str]]:
        limit = micros(appended_until) if appended_until is not None else None
        # The latest version of each site id (highest seq) appended by the limit.
        query = (
            "SELECT site_id, lon, lat, range_m, technology, operator FROM sites "
            "WHERE seq IN (SELECT MAX(seq) FROM sites {where} GROUP BY site_id) ORDER BY seq"
        )
        where = "" if limit is None else "WHERE appended_us <= ?"
        args = () if limit is None else (limit,)
        try:
            return self._conn.execute(query.format(where=where), args).fetchall()
        except sqlite3.Error as exc:
            raise OutageStoreError(f"cannot read sites from {self.path}: {exc}") from None

    def sites(self, *, appended_until: datetime | None = None) -> tuple[Site, ...]:
        """The latest version of every site (appended by ``appended_until``)."""
        return tuple(
            Site(
                site_id,
                lon,
                lat,
                range_m,
                None if tech is None else Technology(tech),
                operator,
            )
            for site_id, lon, lat, range_m, tech, operator in self._site_rows(appended_until)
        )

    def site_inventory(
        self, policy: MergePolicy, *, appended_until: datetime | None = None
    ) -> SiteInventory:
        """The inventory of :meth:`sites`, built from columns (no Site objects)."""
        rows = self._site_rows(appended_until)
        codes = {t.value: i for i, t in enumerate(Technology)}
        operators: dict[str, int] = {"": 0}
        return SiteInventory.from_arrays(
            site_ids=[r[0] for r in rows],
            lon=np.array([r[1] for r in rows], np.float64),
            lat=np.array([r[2] for r in rows], np.float64),
            range_m=np.array([np.nan if r[3] is None else r[3] for r in rows], np.float64),
            technology=np.array([-1 if r[4] is None else codes[r[4]] for r in rows], np.int8),
            operator=np.array([operators.setdefault(r[5], len(operators)) for r in rows]),
            operators=tuple(operators),
            policy=policy,
        )

    def append_areas(
        self, areas: Iterable[AdminArea], *, origin: str = "", now: datetime | None = None
    ) -> int:
        """Append a version of each area; returns how many."""
        at = _now(now)
        rows = [
            (
                a.code,
                a.name,
                a.parent,
                shapely.to_wkb(a.geometry),
                at.isoformat(timespec="microseconds"),
                micros(at),
                origin,
            )
            for a in areas
        ]
        try:
            with self._transaction() as conn:
                conn.executemany(
                    "INSERT INTO areas (code, name, parent, geometry, appended_at, appended_us, "
                    "origin) VALUES (?,?,?,?,?,?,?)",
                    rows,
                )
        except sqlite3.Error as exc:
            raise OutageStoreError(f"cannot append areas to {self.path}: {exc}") from None
        return len(rows)

    def areas(self, *, appended_until: datetime | None = None) -> tuple[AdminArea, ...]:
        """The latest version of every area (appended by ``appended_until``), in the order
        they were first appended."""
        where = "" if appended_until is None else "WHERE appended_us <= ?"
        args = () if appended_until is None else (micros(appended_until),)
        try:
            rows = self._conn.execute(
                "SELECT code, name, parent, geometry FROM areas WHERE seq IN "
                f"(SELECT MAX(seq) FROM areas {where} GROUP BY code) ORDER BY "
                f"(SELECT MIN(seq) FROM areas AS first WHERE first.code = areas.code)",
                args,
            ).fetchall()
        except sqlite3.Error as exc:
            raise OutageStoreError(f"cannot read areas from {self.path}: {exc}") from None
        return tuple(
            AdminArea(code, name, shapely.from_wkb(bytes(wkb)), parent)
            for code, name, parent, wkb in rows
        )


def _now(now: datetime | None) -> datetime:
    at = datetime.now(UTC) if now is None else now
    if at.tzinfo is None or at.utcoffset() is None:
        raise OutageStoreError(f"append time {at.isoformat()} has no time zone")
    return at.astimezone(UTC)


def _compact(table: ReportTable) -> ReportTable:
    """The table with only the strings and polygons its rows use (a batch of a large table
    would otherwise carry all of them)."""

    def used(codes: NDArray[np.int32], size: int) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
        keep = np.unique(codes[codes >= 0]).astype(np.int64)
        remap = np.full(size + 1, -1, np.int32)
        remap[keep] = np.arange(len(keep), dtype=np.int32)
        return keep, np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int32)

    keys, key = used(table.key, len(table.keys))
    polygons, polygon = used(table.polygon, len(table.polygons))
    names, name = used(table.source_name, len(table.names))
    notes, note = used(table.note, len(table.notes))
    # Code 0 of names and notes stays the empty string, as ReportTable builds them.
    if len(names) == 0 or names[0] != 0:
        names = np.concatenate([[0], names]).astype(np.int64)
        name = np.where(name >= 0, name + 1, 0).astype(np.int32)
    if len(notes) == 0 or notes[0] != 0:
        notes = np.concatenate([[0], notes]).astype(np.int64)
        note = np.where(note >= 0, note + 1, 0).astype(np.int32)
    return ReportTable.from_arrays(
        ids=table.ids,
        observed_us=table.observed_us,
        received_us=table.received_us,
        source_kind=table.source_kind,
        source_name=name,
        names=tuple(table.names[int(i)] for i in names),
        subject_kind=table.subject_kind,
        key=key,
        keys=tuple(table.keys[int(i)] for i in keys),
        lon=table.lon,
        lat=table.lat,
        extent=table.extent,
        polygon=polygon,
        polygons=tuple(table.polygons[int(i)] for i in polygons),
        status=table.status,
        cause=table.cause,
        tech_mask=table.tech_mask,
        share_out=table.share_out,
        note=note,
        notes=tuple(table.notes[int(i)] for i in notes),
    )


def _strings(values: tuple[str, ...]) -> NDArray[np.uint8]:
    return np.frombuffer(json.dumps(list(values)).encode("utf-8"), dtype=np.uint8)


def _encode(table: ReportTable) -> bytes:
    """A batch as an .npz document: every column but the ids, strings as JSON, polygons as
    WKB with offsets."""
    wkbs = [shapely.to_wkb(g) for g in table.polygons]
    offsets = np.cumsum([0, *(len(w) for w in wkbs)]).astype(np.int64)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        format=np.array([_FORMAT]),
        observed_us=table.observed_us,
        received_us=table.received_us,
        source_kind=table.source_kind,
        source_name=table.source_name,
        subject_kind=table.subject_kind,
        key=table.key,
        lon=table.lon,
        lat=table.lat,
        extent=table.extent,
        polygon=table.polygon,
        status=table.status,
        cause=table.cause,
        tech_mask=table.tech_mask,
        share_out=table.share_out,
        note=table.note,
        names=_strings(table.names),
        keys=_strings(table.keys),
        notes=_strings(table.notes),
        polygon_wkb=np.frombuffer(b"".join(wkbs), dtype=np.uint8),
        polygon_offsets=offsets,
    )
    return buffer.getvalue()


def _decode(blob: bytes, first_id: int, count: int) -> ReportTable:
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as doc:
            if int(doc["format"][0]) != _FORMAT:
                raise OutageStoreError(
                    f"report batch from id {first_id} has format {int(doc['format'][0])}, "
                    f"this version reads format {_FORMAT}"
                )
            wkb = doc["polygon_wkb"].tobytes()
            offsets = doc["polygon_offsets"]
            polygons = tuple(
                shapely.from_wkb(wkb[int(a) : int(b)]) for a, b in itertools.pairwise(offsets)
            )

            def strings(name: str) -> tuple[str, ...]:
                return tuple(json.loads(doc[name].tobytes().decode("utf-8")))

            table = ReportTable.from_arrays(
                ids=np.arange(first_id, first_id + count),
                observed_us=doc["observed_us"],
                received_us=doc["received_us"],
                source_kind=doc["source_kind"],
                source_name=doc["source_name"],
                subject_kind=doc["subject_kind"],
                key=doc["key"],
                lon=doc["lon"],
                lat=doc["lat"],
                extent=doc["extent"],
                polygon=doc["polygon"],
                status=doc["status"],
                cause=doc["cause"],
                tech_mask=doc["tech_mask"],
                share_out=doc["share_out"],
                note=doc["note"],
                names=strings("names"),
                keys=strings("keys"),
                polygons=polygons,
                notes=strings("notes"),
            )
    except (OSError, ValueError, KeyError, ReportError) as exc:
        raise OutageStoreError(
            f"report batch from id {first_id} cannot be read ({exc}); the store file is damaged"
        ) from None
    return table
