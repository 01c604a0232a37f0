"""What the store holds, loaded once, and the merges of it kept per instant: the working set of
``tocsin outage query|areas|layer`` (one instant) and of ``tocsin outage serve`` (many).

The store is append-only, so a loaded snapshot stays true until something is appended; the
cache notices an append by the store file's size and time (the SQLite file and its WAL) and
loads again. Merges are pure, so a merge at an instant is computed once per snapshot.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from outage_map.config import MergePolicy
from outage_map.errors import OutageStoreError
from outage_map.inventory import AreaTable, SiteInventory
from outage_map.merge import MergeResult, merge
from outage_map.table import ReportTable, datetime_of, micros
from outage_map.vector import AreaRow, Layer, area_rows, areas_layer, parent_shapes, sites_layer

__all__ = ["MergedView", "Snapshot", "SnapshotCache", "load_snapshot"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The reports, sites and areas of a store at one moment, with the merge policy."""

    store_path: Path
    policy: MergePolicy
    reports: ReportTable
    inventory: SiteInventory
    areas: AreaTable
    shapes: Mapping[str, BaseGeometry]

    def merge_at(self, at: datetime) -> MergeResult:
        return merge(self.reports, self.inventory, self.areas, at, self.policy)

    def view_at(self, at: datetime) -> MergedView:
        return MergedView.of(self.merge_at(at), self.shapes)

    def observed_span(self) -> tuple[datetime, datetime] | None:
        """The first and last observation time of the reports."""
        if not len(self.reports):
            return None
        observed = self.reports.observed_us
        return datetime_of(observed.min()), datetime_of(observed.max())


@dataclass(frozen=True, slots=True)
class MergedView:
    """A merge with what answers and layers are made of: the area rows (parent figures
    filled in) and the two layers."""

    result: MergeResult
    rows: tuple[AreaRow, ...]
    areas: Layer
    sites: Layer
    _area_tree: shapely.STRtree
    _area_index: NDArray[np.int64]

    @classmethod
    def of(cls, result: MergeResult, shapes: Mapping[str, BaseGeometry]) -> MergedView:
        rows = area_rows(result, shapes)
        drawn = np.array(
            [i for i, r in enumerate(rows) if r.geometry is not None and r.basis != "none"],
            dtype=np.int64,
        )
        geoms = np.array([rows[int(i)].geometry for i in drawn], dtype=np.object_)
        return cls(
            result=result,
            rows=rows,
            areas=areas_layer(result, rows=rows),
            sites=sites_layer(result),
            _area_tree=shapely.STRtree(geoms),
            _area_index=drawn,
        )

    def areas_at(self, lon: float, lat: float) -> list[AreaRow]:
        """The areas holding the point whose figures are known, smallest first."""
        hits = self._area_tree.query(shapely.Point(lon, lat), predicate="intersects")
        found = [self.rows[int(self._area_index[int(i)])] for i in hits]
        return sorted(found, key=lambda r: (shapely.area(r.geometry), r.code))


def load_snapshot(store_path: Path, policy: MergePolicy) -> Snapshot:
    """Everything in the store at ``store_path`` (which must exist)."""
    from outage_map.store import OutageStore

    if not store_path.is_file():
        raise OutageStoreError(
            f"no outage store at {store_path}; add reports first with 'tocsin outage ingest', "
            "or point [outage] store (or --store) at the right file"
        )
    with OutageStore(store_path) as store:
        reports = store.reports()
        inventory = store.site_inventory(policy)
        areas = store.areas()
    table = AreaTable.build(areas, inventory)
    return Snapshot(store_path, policy, reports, inventory, table, parent_shapes(table))


class SnapshotCache:
    """A snapshot that reloads when the store changes, and merged views per instant (the most
    recent ``max_views``). Safe to share between threads."""

    def __init__(self, store_path: Path, policy: MergePolicy, *, max_views: int = 16) -> None:
        self.store_path = store_path
        self.policy = policy
        self.max_views = max_views
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._stamp: tuple[int, ...] | None = None
        self._views: OrderedDict[int, MergedView] = OrderedDict()

    def _file_stamp(self) -> tuple[int, ...]:
        stamp: list[int] = []
        for suffix in ("", "-wal"):
            path = self.store_path.with_name(self.store_path.name + suffix)
            try:
                info = path.stat()
            except FileNotFoundError:
                stamp.extend((-1, -1))
                continue
            stamp.extend((info.st_mtime_ns, info.st_size))
        return tuple(stamp)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._current()

    def _current(self) -> Snapshot:
        stamp = self._file_stamp()
        if self._snapshot is None or stamp != self._stamp:
            self._snapshot = load_snapshot(self.store_path, self.policy)
            self._stamp = stamp
            self._views.clear()
        return self._snapshot

    def view(self, at: datetime) -> MergedView:
        """The merged view at ``at`` (computed once per instant and snapshot)."""
        key = micros(at)
        with self._lock:
            snapshot = self._current()
            found = self._views.get(key)
            if found is not None:
                self._views.move_to_end(key)
                return found
            view = snapshot.view_at(at)
            self._views[key] = view
            while len(self._views) > self.max_views:
                self._views.popitem(last=False)
            return view
