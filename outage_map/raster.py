"""The service GeoTIFF: a lon/lat grid (EPSG:4326) of the merged state, rasterised from site
coverage, written as a Cloud-Optimised GeoTIFF.

Bands (float32, NaN is nodata: no site with a known state covers the pixel centre):

1. service probability 0-1: ``1 - prod(1 - p)`` over the sites whose coverage disk holds the
   pixel centre (the chance that at least one of them serves, taking them as independent);
2. confidence 0-1: the mean confidence of those sites;
3. age of the newest report among those sites, in hours.

A site covers the places within its range (:mod:`outage_map.inventory`); the same rule
answers :func:`outage_map.merge.service_at`, so a pixel holds what a query at its centre says.

:func:`service_grid` is pure (numpy); :func:`write_service_geotiff` writes the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from outage_map.errors import OutageError
from outage_map.inventory import METRES_PER_DEGREE, ground_distance_m
from outage_map.merge import DOWN, UNKNOWN, MergeResult

__all__ = [
    "BAND_DESCRIPTIONS",
    "ServiceGrid",
    "region_of",
    "service_grid",
    "write_service_geotiff",
]

BAND_DESCRIPTIONS: Final = (
    "service probability (0-1)",
    "confidence (0-1)",
    "age of newest report (hours)",
)
_BAND_UNITS: Final = ("probability", "confidence", "hours")
_SMALL_KERNEL: Final = 16  # pixels; sites reaching further are drawn one by one
_MAX_PIXELS: Final = 200_000_000


class RasterError(OutageError):
    """The grid cannot be made or written (bad bounds or resolution, unwritable path)."""


@dataclass(frozen=True, slots=True)
class ServiceGrid:
    """The three bands, north-up: row 0 is the northern edge, column 0 the western."""

    west: float
    south: float
    east: float
    north: float
    resolution_deg: float
    probability: NDArray[np.float32]
    confidence: NDArray[np.float32]
    age_hours: NDArray[np.float32]
    sites_drawn: int

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.probability.shape[0]), int(self.probability.shape[1]))

    def pixel_centre(self, row: int, col: int) -> tuple[float, float]:
        """(lon, lat) of a pixel's centre, as the grid computes it."""
        return (
            self.west + (col + 0.5) * self.resolution_deg,
            self.north - (row + 0.5) * self.resolution_deg,
        )


def region_of(result: MergeResult, margin_deg: float = 0.05) -> tuple[float, float, float, float]:
    """(west, south, east, north) around every site of the inventory, with a margin."""
    inv = result.inventory
    if len(inv) == 0:
        raise RasterError("the inventory has no sites: give the bounds of the GeoTIFF")
    return (
        max(float(inv.lon.min()) - margin_deg, -180.0),
        max(float(inv.lat.min()) - margin_deg, -90.0),
        min(float(inv.lon.max()) + margin_deg, 180.0),
        min(float(inv.lat.max()) + margin_deg, 90.0),
    )


def service_grid(
    result: MergeResult,
    bounds: tuple[float, float, float, float] | None = None,
    resolution_deg: float = 0.01,
) -> ServiceGrid:
    """The bands over ``bounds`` (west, south, east, north; default: around the sites) at
    ``resolution_deg``. The east and north edges are moved out to a whole number of pixels."""
    west, south, east, north = bounds if bounds is not None else region_of(result)
    if not (resolution_deg > 0 and math.isfinite(resolution_deg)):
        raise RasterError(f"resolution {resolution_deg}: must be a positive number of degrees")
    if not (-180.0 <= west < east <= 180.0 + resolution_deg and -90.0 <= south < north <= 90.0):
        raise RasterError(
            f"bounds {west}, {south}, {east}, {north}: need west < east and south < north, "
            "in degrees of longitude and latitude"
        )
    width = max(1, math.ceil((east - west) / resolution_deg - 1e-9))
    height = max(1, math.ceil((north - south) / resolution_deg - 1e-9))
    if width * height > _MAX_PIXELS:
        raise RasterError(
            f"{width} x {height} pixels is more than {_MAX_PIXELS:,}; use a coarser resolution "
            "or smaller bounds"
        )
    north = south + height * resolution_deg
    east = west + width * resolution_deg
    canvas = _Canvas(west, north, resolution_deg, width, height)

    inv, states = result.inventory, result.sites
    known = np.flatnonzero(states.status != UNKNOWN)
    lon, lat, reach = inv.lon[known], inv.lat[known], inv.range_m[known]
    half_h = reach / METRES_PER_DEGREE
    half_w = half_h / np.cos(np.radians(np.minimum(np.abs(lat) + half_h, 89.9)))
    inside = (
        (lon + half_w >= west) & (lon - half_w <= east)
        & (lat + half_h >= south) & (lat - half_h <= north)
    )  # fmt: skip
    known = known[inside]
    kx = np.ceil(half_w[inside] / resolution_deg).astype(np.int64) + 1
    ky = np.ceil(half_h[inside] / resolution_deg).astype(np.int64) + 1
    values = _SiteValues(
        lon=inv.lon[known],
        lat=inv.lat[known],
        reach=inv.range_m[known],
        miss=1.0 - states.probability[known],
        confidence=states.confidence[known],
        age=states.newest_age_s[known],
    )
    small = np.maximum(kx, ky) <= _SMALL_KERNEL
    canvas.draw_small(values, np.flatnonzero(small), kx, ky)
    for i in np.flatnonzero(~small):
        canvas.draw_one(values, int(i), int(kx[i]), int(ky[i]))
    return canvas.finish(south, east, len(known))


@dataclass(frozen=True, slots=True)
class _SiteValues:
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    reach: NDArray[np.float64]
    miss: NDArray[np.float64]  # 1 - probability
    confidence: NDArray[np.float64]
    age: NDArray[np.float64]


class _Canvas:
    """Accumulators over the grid: product of misses, sum of confidences, count, newest age."""

    def __init__(self, west: float, north: float, res: float, width: int, height: int) -> None:
        self.west, self.north, self.res = west, north, res
        self.width, self.height = width, height
        n = width * height
        self.miss = np.ones(n)
        self.conf = np.zeros(n)
        self.count = np.zeros(n, np.int32)
        self.age = np.full(n, np.inf)

    def _col_row(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        col = np.floor((lon - self.west) / self.res).astype(np.int64)
        row = np.floor((self.north - lat) / self.res).astype(np.int64)
        return col, row

    def _hit(
        self,
        v: _SiteValues,
        sites: NDArray[np.int64],
        col: NDArray[np.int64],
        row: NDArray[np.int64],
    ) -> None:
        """Add sites to pixels (one pixel per site; the pixels must be distinct)."""
        ok = (col >= 0) & (col < self.width) & (row >= 0) & (row < self.height)
        sites, col, row = sites[ok], col[ok], row[ok]
        centre_lon = self.west + (col + 0.5) * self.res
        centre_lat = self.north - (row + 0.5) * self.res
        near = ground_distance_m(v.lon[sites], v.lat[sites], centre_lon, centre_lat)
        ok = near <= v.reach[sites]
        sites, flat = sites[ok], (row[ok] * self.width + col[ok])
        self.miss[flat] *= v.miss[sites]
        self.conf[flat] += v.confidence[sites]
        self.count[flat] += 1
        self.age[flat] = np.minimum(self.age[flat], v.age[sites])

    def draw_small(
        self,
        v: _SiteValues,
        sites: NDArray[np.int64],
        kx: NDArray[np.int64],
        ky: NDArray[np.int64],
    ) -> None:
        """Every site with a small kernel, one pixel offset at a time. Sites are split into
        layers with distinct centre pixels, so that one offset never hits a pixel twice."""
        if not len(sites):
            return
        col, row = self._col_row(v.lon[sites], v.lat[sites])
        order = np.lexsort((sites, col, row))
        first = np.ones(len(order), np.bool_)
        first[1:] = (row[order][1:] != row[order][:-1]) | (col[order][1:] != col[order][:-1])
        start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
        layer = np.empty(len(order), np.int64)
        layer[order] = np.arange(len(order)) - start
        reach = np.maximum(kx[sites], ky[sites])
        for depth in range(int(layer.max()) + 1):
            in_layer = np.flatnonzero(layer == depth)
            by_reach = in_layer[np.argsort(-reach[in_layer], kind="stable")]
            neg = -reach[by_reach]
            k_max = int(-neg[0])
            for dy in range(-k_max, k_max + 1):
                for dx in range(-k_max, k_max + 1):
                    m = max(abs(dx), abs(dy))
                    n = int(np.searchsorted(neg, -m, side="right"))  # reach >= m
                    if n == 0:
                        continue
                    pick = by_reach[:n]
                    self._hit(v, sites[pick], col[pick] + dx, row[pick] + dy)

    def draw_one(self, v: _SiteValues, site: int, kx: int, ky: int) -> None:
        col, row = self._col_row(v.lon[site : site + 1], v.lat[site : site + 1])
        dx, dy = np.meshgrid(np.arange(-kx, kx + 1), np.arange(-ky, ky + 1))
        n = dx.size
        self._hit(v, np.full(n, site, np.int64), col[0] + dx.ravel(), row[0] + dy.ravel())

    def finish(self, south: float, east: float, drawn: int) -> ServiceGrid:
        covered = self.count > 0
        shape = (self.height, self.width)
        probability = np.where(covered, 1.0 - self.miss, np.nan).astype(np.float32)
        confidence = np.divide(
            self.conf, self.count, out=np.full(self.count.shape, np.nan), where=covered
        ).astype(np.float32)
        age = np.where(covered, self.age / 3600.0, np.nan).astype(np.float32)
        return ServiceGrid(
            west=self.west,
            south=south,
            east=east,
            north=self.north,
            resolution_deg=self.res,
            probability=probability.reshape(shape),
            confidence=confidence.reshape(shape),
            age_hours=age.reshape(shape),
            sites_drawn=drawn,
        )


def write_service_geotiff(
    result: MergeResult,
    path: Path | str,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    resolution_deg: float = 0.01,
    grid: ServiceGrid | None = None,
) -> ServiceGrid:
    """Write the Cloud-Optimised GeoTIFF of :func:`service_grid` to ``path`` (replaced
    atomically) and return the grid. Pass ``grid`` to write one already computed."""
    # The GDAL bindings load slowly; only the writer needs them. (No type stubs: pyproject's
    # mypy overrides do not list rasterio.)
    import rasterio  # type: ignore[import-untyped]
    from rasterio.io import MemoryFile  # type: ignore[import-untyped]
    from rasterio.shutil import copy as gdal_copy  # type: ignore[import-untyped]
    from rasterio.transform import Affine  # type: ignore[import-untyped]

    grid = grid if grid is not None else service_grid(result, bounds, resolution_deg)
    target = Path(path)
    height, width = grid.shape
    states = result.sites
    tags = {
        "TOCSIN_MERGE_AT": result.at.isoformat(),
        "TOCSIN_KNOWN_AT": "" if result.known_at is None else result.known_at.isoformat(),
        "TOCSIN_POLICY": result.policy.to_json(),
        "TOCSIN_SITES": str(len(result.inventory)),
        "TOCSIN_SITES_KNOWN": str(int((states.status != UNKNOWN).sum())),
        "TOCSIN_SITES_DOWN": str(int((states.status == DOWN).sum())),
        "TOCSIN_SITES_DRAWN": str(grid.sites_drawn),
        "TOCSIN_REPORTS_COUNTED": str(result.reports_counted),
        "TOCSIN_COMBINE": "probability = 1 - prod(1 - p) over covering sites with a known "
        "state; confidence = their mean; age = the newest",
    }
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 3,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": Affine(
            grid.resolution_deg, 0.0, grid.west, 0.0, -grid.resolution_deg, grid.north
        ),
        "nodata": float("nan"),
    }
    partial = target.with_name(f".{target.name}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with MemoryFile() as memory:
            with memory.open(**profile) as dataset:
                for band, data in enumerate(
                    (grid.probability, grid.confidence, grid.age_hours), start=1
                ):
                    dataset.write(data, band)
                    dataset.set_band_description(band, BAND_DESCRIPTIONS[band - 1])
                    dataset.update_tags(band, UNITS=_BAND_UNITS[band - 1])
                dataset.update_tags(**tags)
            with memory.open() as source:
                gdal_copy(
                    source,
                    str(partial),
                    driver="COG",
                    BLOCKSIZE=256,
                    COMPRESS="DEFLATE",
                    PREDICTOR="YES",
                    OVERVIEW_RESAMPLING="AVERAGE",
                    OVERVIEWS="AUTO",
                )
        partial.replace(target)
    except (OSError, rasterio.errors.RasterioError) as exc:
        partial.unlink(missing_ok=True)
        raise RasterError(f"cannot write the GeoTIFF {target}: {exc}") from None
    return grid
