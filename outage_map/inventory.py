"""Where the cell sites are and what they cover, as columns with a spatial index.

The coverage model is deliberately simple: a site serves every place within its range (the
OpenCelliD ``range``, else the policy's default for its technology, cut to ``max_range``).
Distances are on a local equirectangular projection (:func:`ground_distance_m`), good to a
fraction of a percent at the ranges of cell sites; the antimeridian is not handled by the
index (a site within range of it does not reach across).

:class:`AreaTable` ties administrative areas to the sites located inside them (Shapely 2
vectorised predicates on an STRtree).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, TypeVar

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from outage_map.config import MergePolicy
from outage_map.errors import ReportError
from outage_map.model import AdminArea, Site, Technology

__all__ = [
    "EARTH_RADIUS_M",
    "METRES_PER_DEGREE",
    "AreaTable",
    "SiteInventory",
    "disk_polygons",
    "ground_distance_m",
]

_T = TypeVar("_T", bound=np.generic)

EARTH_RADIUS_M: Final = 6_371_008.8
METRES_PER_DEGREE: Final = EARTH_RADIUS_M * np.pi / 180.0
_TECH_CODE: Final = {t: i for i, t in enumerate(Technology)}
_PAD: Final = 1.001  # bounding boxes a little larger than the disks they hold
_DISK_VERTICES: Final = 64


def ground_distance_m(
    lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike
) -> NDArray[np.float64]:
    """Metres between points on a local equirectangular projection (the cosine of the mean
    latitude scales longitude). Vectorised; longitude differences wrap at ±180°."""
    x1, y1 = np.asarray(lon1, np.float64), np.asarray(lat1, np.float64)
    x2, y2 = np.asarray(lon2, np.float64), np.asarray(lat2, np.float64)
    dlon = (x2 - x1 + 180.0) % 360.0 - 180.0
    dx = dlon * np.cos(np.radians((y1 + y2) * 0.5)) * METRES_PER_DEGREE
    dy = (y2 - y1) * METRES_PER_DEGREE
    return np.asarray(np.hypot(dx, dy), dtype=np.float64)


def _half_sizes(
    lat: NDArray[np.float64], radius_m: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Half width and height in degrees of a box holding every point within ``radius_m``."""
    dlat = radius_m / METRES_PER_DEGREE * _PAD
    far = np.minimum(np.abs(lat) + dlat, 89.9)
    dlon = np.minimum(dlat / np.cos(np.radians(far)), 180.0)
    return dlon, dlat


def disk_polygons(
    lon: ArrayLike, lat: ArrayLike, radius_m: ArrayLike, vertices: int = _DISK_VERTICES
) -> NDArray[np.object_]:
    """Polygons approximating ground disks (ellipses in lon/lat), vectorised."""
    x = np.asarray(lon, np.float64)[:, None]
    y = np.asarray(lat, np.float64)[:, None]
    r = np.asarray(radius_m, np.float64)[:, None] / METRES_PER_DEGREE
    angle = np.linspace(0.0, 2.0 * np.pi, vertices + 1)[None, :]
    ry = r * np.sin(angle)
    rx = r * np.cos(angle) / np.cos(np.radians(np.clip(y + ry, -89.9, 89.9)))
    ring = np.stack([x + rx, y + ry], axis=-1)
    ring[:, -1, :] = ring[:, 0, :]
    return np.asarray(shapely.polygons(ring), dtype=np.object_)


@dataclass(frozen=True, slots=True)
class SiteInventory:
    """The sites as aligned columns. ``range_m`` is resolved (never NaN); ``technology`` is a
    code in the order of :class:`Technology`, -1 when not known."""

    site_ids: tuple[str, ...]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    range_m: NDArray[np.float64]
    technology: NDArray[np.int8]
    operator: NDArray[np.int32]
    operators: tuple[str, ...]
    index: Mapping[str, int]
    _coverage_tree: shapely.STRtree
    _point_tree: shapely.STRtree

    def __len__(self) -> int:
        return len(self.site_ids)

    @classmethod
    def from_sites(cls, sites: Iterable[Site], policy: MergePolicy) -> SiteInventory:
        items = list(sites)
        operators: dict[str, int] = {"": 0}
        return cls.from_arrays(
            site_ids=[s.site_id for s in items],
            lon=np.array([s.lon for s in items], np.float64),
            lat=np.array([s.lat for s in items], np.float64),
            range_m=np.array(
                [np.nan if s.range_m is None else s.range_m for s in items], np.float64
            ),
            technology=np.array(
                [-1 if s.technology is None else _TECH_CODE[s.technology] for s in items],
                np.int8,
            ),
            operator=np.array(
                [operators.setdefault(s.operator, len(operators)) for s in items], np.int32
            ),
            operators=tuple(operators),
            policy=policy,
        )

    @classmethod
    def from_arrays(
        cls,
        *,
        site_ids: Sequence[str],
        lon: ArrayLike,
        lat: ArrayLike,
        policy: MergePolicy,
        range_m: ArrayLike | None = None,
        technology: ArrayLike | None = None,
        operator: ArrayLike | None = None,
        operators: Sequence[str] = ("",),
    ) -> SiteInventory:
        """Sites from columns. A range that is missing, NaN or not positive takes the policy's
        default for the site's technology; every range is cut to ``policy.max_range_m``."""
        ids = tuple(site_ids)
        n = len(ids)
        x = _column(lon, np.float64, n, "lon")
        y = _column(lat, np.float64, n, "lat")
        bad = ~((x >= -180.0) & (x <= 180.0) & (y >= -90.0) & (y <= 90.0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ReportError(f"site {ids[i]}: lon/lat {x[i]}, {y[i]} is not a place on Earth")
        tech = _column(
            np.full(n, -1) if technology is None else technology, np.int8, n, "technology"
        )
        if ((tech < -1) | (tech >= len(Technology))).any():
            raise ReportError("site technology codes must be -1 or a Technology index")
        given = _column(np.full(n, np.nan) if range_m is None else range_m, np.float64, n, "range")
        defaults = policy.range_by_code()[np.where(tech < 0, len(Technology), tech)]
        resolved = np.where(given > 0.0, given, defaults)  # NaN > 0 is False
        resolved = np.minimum(resolved, policy.max_range_m)
        index = {site_id: i for i, site_id in enumerate(ids)}
        if len(index) != n:
            seen: set[str] = set()
            duplicate = next(s for s in ids if s in seen or seen.add(s))  # type: ignore[func-returns-value]
            raise ReportError(f"site id {duplicate!r} appears twice in the inventory")
        ops = _column(np.zeros(n) if operator is None else operator, np.int32, n, "operator")
        for array in (x, y, resolved, tech, ops):
            array.flags.writeable = False
        half_w, half_h = _half_sizes(y, resolved)
        boxes = shapely.box(x - half_w, y - half_h, x + half_w, y + half_h)
        return cls(
            site_ids=ids,
            lon=x,
            lat=y,
            range_m=resolved,
            technology=tech,
            operator=ops,
            operators=tuple(operators),
            index=MappingProxyType(index),
            _coverage_tree=shapely.STRtree(np.asarray(boxes, dtype=np.object_)),
            _point_tree=shapely.STRtree(np.asarray(shapely.points(x, y), dtype=np.object_)),
        )

    @classmethod
    def empty(cls, policy: MergePolicy) -> SiteInventory:
        return cls.from_arrays(site_ids=(), lon=np.zeros(0), lat=np.zeros(0), policy=policy)

    def indices_of(self, site_ids: Sequence[str]) -> NDArray[np.int64]:
        """Inventory index of each id, -1 when the inventory does not know it."""
        get = self.index.get
        return np.array([get(s, -1) for s in site_ids], dtype=np.int64)

    def near(
        self, lon: ArrayLike, lat: ArrayLike, radius_m: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Pairs (query, site) where the site reaches within ``radius_m`` of the query point
        (distance <= site range + radius): the sites that could serve that place."""
        qx, qy = (
            np.atleast_1d(np.asarray(lon, np.float64)),
            np.atleast_1d(np.asarray(lat, np.float64)),
        )
        qr = np.broadcast_to(np.asarray(radius_m, np.float64), qx.shape)
        if len(self) == 0 or qx.size == 0:
            return _no_pairs()
        half_w, half_h = _half_sizes(qy, qr)
        query, site = self._coverage_tree.query(
            shapely.box(qx - half_w, qy - half_h, qx + half_w, qy + half_h)
        )
        distance = ground_distance_m(qx[query], qy[query], self.lon[site], self.lat[site])
        keep = distance <= self.range_m[site] + qr[query]
        return _by_query(query[keep], site[keep])

    def covering(self, lon: float, lat: float) -> NDArray[np.int64]:
        """The sites whose coverage contains the point, in inventory order."""
        return self.near([lon], [lat], 0.0)[1]

    def in_cells(
        self, lon: ArrayLike, lat: ArrayLike, size_deg: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Pairs (cell, site) where the site's coverage reaches into the grid cell with this
        south-west corner and size (the nearest point of the cell is within range)."""
        x0, y0 = (
            np.atleast_1d(np.asarray(lon, np.float64)),
            np.atleast_1d(np.asarray(lat, np.float64)),
        )
        size = np.broadcast_to(np.asarray(size_deg, np.float64), x0.shape)
        if len(self) == 0 or x0.size == 0:
            return _no_pairs()
        query, site = self._coverage_tree.query(shapely.box(x0, y0, x0 + size, y0 + size))
        sx, sy = self.lon[site], self.lat[site]
        nearest_x = np.clip(sx, x0[query], x0[query] + size[query])
        nearest_y = np.clip(sy, y0[query], y0[query] + size[query])
        keep = ground_distance_m(sx, sy, nearest_x, nearest_y) <= self.range_m[site]
        return _by_query(query[keep], site[keep])

    def touching(
        self, geometries: Sequence[BaseGeometry] | NDArray[np.object_]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Pairs (geometry, site) where the site's coverage disk intersects the geometry."""
        geoms = np.asarray(geometries, dtype=np.object_)
        if len(self) == 0 or geoms.size == 0:
            return _no_pairs()
        query, site = self._coverage_tree.query(geoms)
        disks = disk_polygons(self.lon[site], self.lat[site], self.range_m[site])
        keep = np.asarray(shapely.intersects(geoms[query], disks), dtype=np.bool_)
        return _by_query(query[keep], site[keep])

    def located_in(
        self, geometries: Sequence[BaseGeometry] | NDArray[np.object_]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Pairs (geometry, site) where the site's location lies in the geometry (boundary
        included)."""
        geoms = np.asarray(geometries, dtype=np.object_)
        if len(self) == 0 or geoms.size == 0:
            return _no_pairs()
        query, site = self._point_tree.query(geoms, predicate="intersects")
        return _sorted_pairs(query.astype(np.int64), site.astype(np.int64))


@dataclass(frozen=True, slots=True)
class AreaTable:
    """Administrative areas with the sites located in each (CSR: the members of area ``i`` are
    ``member_sites[member_offsets[i]:member_offsets[i + 1]]``, in inventory order).

    Areas only named by reports (``AreaSubject`` codes the boundary files do not have, such as
    "Puerto Rico" for an island-wide series) are added by :meth:`with_codes` without geometry
    or sites: their state comes from their own reports."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    parents: tuple[str, ...]
    geometries: tuple[BaseGeometry | None, ...]
    member_offsets: NDArray[np.int64]
    member_sites: NDArray[np.int64]
    lookup_index: Mapping[str, int]

    def __len__(self) -> int:
        return len(self.codes)

    @classmethod
    def build(cls, areas: Sequence[AdminArea], inventory: SiteInventory) -> AreaTable:
        codes = tuple(a.code for a in areas)
        if len(set(codes)) != len(codes):
            seen: set[str] = set()
            duplicate = next(c for c in codes if c in seen or seen.add(c))  # type: ignore[func-returns-value]
            raise ReportError(f"area code {duplicate!r} appears twice in the area table")
        area_idx, site_idx = inventory.located_in([a.geometry for a in areas])
        offsets = np.zeros(len(areas) + 1, np.int64)
        np.cumsum(np.bincount(area_idx, minlength=len(areas)), out=offsets[1:])
        return cls._make(
            codes,
            tuple(a.name for a in areas),
            tuple(a.parent for a in areas),
            tuple(a.geometry for a in areas),
            offsets,
            site_idx,
        )

    @classmethod
    def _make(
        cls,
        codes: tuple[str, ...],
        names: tuple[str, ...],
        parents: tuple[str, ...],
        geometries: tuple[BaseGeometry | None, ...],
        offsets: NDArray[np.int64],
        sites: NDArray[np.int64],
    ) -> AreaTable:
        lookup: dict[str, int] = {}
        by_name: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            by_name.setdefault(name.casefold(), []).append(i)
        for name, found in by_name.items():
            if len(found) == 1 and name:
                lookup[name] = found[0]
        for i, code in enumerate(codes):
            lookup[code] = i  # codes win over names
        offsets.flags.writeable = False
        sites.flags.writeable = False
        return cls(codes, names, parents, geometries, offsets, sites, MappingProxyType(lookup))

    @classmethod
    def empty(cls) -> AreaTable:
        return cls._make((), (), (), (), np.zeros(1, np.int64), np.zeros(0, np.int64))

    def find(self, code: str) -> int | None:
        """The area a report's code names: its code exactly, else its name ignoring case
        (when only one area has that name)."""
        found = self.lookup_index.get(code)
        return found if found is not None else self.lookup_index.get(code.casefold())

    def with_codes(self, codes: Iterable[str]) -> AreaTable:
        """This table plus an area without geometry or sites for each code it cannot find."""
        extra: list[str] = []
        for code in codes:
            if self.find(code) is None and code not in extra:
                extra.append(code)
        if not extra:
            return self
        n = len(self)
        offsets = np.concatenate(
            [self.member_offsets, np.full(len(extra), self.member_offsets[n], np.int64)]
        )
        return AreaTable._make(
            self.codes + tuple(extra),
            self.names + tuple(extra),
            self.parents + ("",) * len(extra),
            self.geometries + (None,) * len(extra),
            offsets,
            self.member_sites.copy(),
        )

    def members(self, area: int) -> NDArray[np.int64]:
        return self.member_sites[self.member_offsets[area] : self.member_offsets[area + 1]]

    def member_counts(self) -> NDArray[np.int64]:
        return np.diff(self.member_offsets)

    def pairs(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(area, site) for every membership, by area."""
        area = np.repeat(np.arange(len(self), dtype=np.int64), self.member_counts())
        return area, self.member_sites


def _column(values: ArrayLike, dtype: type[_T], n: int, name: str) -> NDArray[_T]:
    array = np.array(values, dtype=dtype)
    if array.shape != (n,):
        raise ReportError(f"site column {name} has shape {array.shape}, expected ({n},)")
    return array


def _no_pairs() -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64)


def _by_query(
    query: NDArray[np.integer], site: NDArray[np.integer]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Pairs grouped by query (the tree answers in query order already; checked, not assumed)."""
    if len(query) > 1 and not bool(np.all(query[1:] >= query[:-1])):
        order = np.argsort(query, kind="stable")
        query, site = query[order], site[order]
    return query.astype(np.int64), site.astype(np.int64)


def _sorted_pairs(
    query: NDArray[np.integer], site: NDArray[np.integer]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    order = np.lexsort((site, query))
    return query[order].astype(np.int64), site[order].astype(np.int64)
