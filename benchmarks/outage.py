"""Outage map at scale: 1,000,000 reports over 100,000 sites, merged and rasterised, against a
naive per-site Python loop in the same run.

    .venv/bin/python benchmarks/outage.py [--reports 1000000] [--sites 100000] [--seed 8]
                                          [--baseline-sites 10] [--no-store]

Generates (seeded) a 10 x 10 degree region with 100,000 cell sites and 100 one-degree admin
areas, and a storm: a third of the sites go down at random times over six days, half of those
come back. Reports of that truth, with noise: operator, field-team and probe reports per site
(85%), crowd reports at points (12%), probe grid cells of 0.05 degrees (2.9%) and regulator
area reports with a share out (0.1%). Then, timing each stage:

1. columns: the ReportTable, the SiteInventory and the AreaTable (site membership);
2. store: append every report to a fresh SQLite store and read them back (skip: --no-store);
3. merge as of the last instant (with the full history, for dark since / restored at);
4. the 0.01-degree Cloud-Optimised GeoTIFF of the region (1000 x 1000 pixels, 3 bands).

The baseline is the obvious program: for each site, loop in Python over every report, keep
those that concern the site, drop superseded and expired ones, and weigh the rest; final state
only (no history). It runs on --baseline-sites sites and is EXTRAPOLATED linearly to all sites
(it is O(sites x reports)); its answers are checked against the merge for those sites.
Targets (issue 8): whole pipeline under 10 s and 2 GB, >= 20x faster than the baseline.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from outage_map.config import MergePolicy  # noqa: E402
from outage_map.inventory import AreaTable, SiteInventory, ground_distance_m  # noqa: E402
from outage_map.merge import MergeResult, merge  # noqa: E402
from outage_map.model import AdminArea  # noqa: E402
from outage_map.raster import write_service_geotiff  # noqa: E402
from outage_map.store import OutageStore  # noqa: E402
from outage_map.table import (  # noqa: E402
    AREA,
    GRID,
    POINT,
    SITE,
    ReportTable,
    datetime_of,
)

WEST, SOUTH, SIZE = 30.0, -5.0, 10.0
DAY_US = 86_400_000_000
T_US = 1_700_000_000_000_000  # the merge instant (2023-11-14T22:13:20Z)
R = TypeVar("R")
PEAKS: dict[str, float] = {}  # peak RSS (MB) of the process after each stage


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(label: str, times: dict[str, float], step: Callable[[], R]) -> R:
    log(f"  {label} ...")
    start = time.perf_counter()
    out = step()
    times[label] = time.perf_counter() - start
    PEAKS[label] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log(f"  {label}: {times[label]:.2f} s, peak RSS so far {PEAKS[label]:.0f} MB")
    return out


@dataclass(frozen=True)
class World:
    site_ids: list[str]
    lon: np.ndarray[Any, Any]
    lat: np.ndarray[Any, Any]
    range_m: np.ndarray[Any, Any]
    tech: np.ndarray[Any, Any]
    areas: list[AdminArea]
    columns: dict[str, Any]


def generate(n_sites: int, n_reports: int, seed: int) -> World:
    rng = np.random.default_rng(seed)
    lon = WEST + rng.random(n_sites) * SIZE
    lat = SOUTH + rng.random(n_sites) * SIZE
    range_m = np.clip(rng.lognormal(np.log(1500.0), 0.7, n_sites), 200.0, 20000.0)
    range_m[rng.random(n_sites) < 0.1] = np.nan  # no range: the technology default
    tech = rng.choice(np.array([0, 1, 3], np.int8), n_sites)  # gsm, umts, lte
    site_ids = [f"621-20-{i // 50}-{i}" for i in range(n_sites)]
    # The truth: a third of the sites go dark at some time in the six days; half come back.
    start = T_US - 6 * DAY_US
    dark_from = np.where(
        rng.random(n_sites) < 1 / 3,
        start + rng.integers(0, 6 * DAY_US, n_sites),
        np.iinfo(np.int64).max,
    )
    back_at = np.where(
        rng.random(n_sites) < 0.5,
        dark_from + rng.integers(3_600_000_000, 2 * DAY_US, n_sites),
        np.iinfo(np.int64).max,
    )

    def truth_down(site: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.asarray((dark_from[site] <= t) & (t < back_at[site]), dtype=np.bool_)

    kind_roll = rng.random(n_reports)
    subject = np.where(kind_roll < 0.85, SITE, np.where(kind_roll < 0.97, POINT, GRID))
    n_area = max(1, n_reports // 1000)
    subject[rng.choice(n_reports, n_area, replace=False)] = AREA
    observed = start + rng.integers(0, 6 * DAY_US, n_reports)
    received = observed + rng.integers(0, 3_600_000_000, n_reports)
    site = rng.integers(0, n_sites, n_reports)
    down = truth_down(site, observed)
    wrong = rng.random(n_reports) < 0.05
    status = np.where(down ^ wrong, 2, 0).astype(np.int8)  # down / up
    status[rng.random(n_reports) < 0.05] = 1  # degraded
    source_kind = rng.choice(np.array([0, 2, 4], np.int8), n_reports, p=[0.7, 0.1, 0.2])
    # Points: crowd reports near a site; grid cells: probes on the 0.05-degree grid.
    is_point = subject == POINT
    is_grid = subject == GRID
    source_kind[is_point] = 3  # crowd
    source_kind[is_grid] = 4  # probe
    lon_r = np.full(n_reports, np.nan)
    lat_r = np.full(n_reports, np.nan)
    extent = np.full(n_reports, np.nan)
    lon_r[is_point] = lon[site[is_point]] + rng.normal(0, 0.004, is_point.sum())
    lat_r[is_point] = lat[site[is_point]] + rng.normal(0, 0.004, is_point.sum())
    extent[is_point] = rng.uniform(50, 1000, is_point.sum())
    cell = 0.05
    lon_r[is_grid] = np.floor((lon[site[is_grid]] - WEST) / cell) * cell + WEST
    lat_r[is_grid] = np.floor((lat[site[is_grid]] - SOUTH) / cell) * cell + SOUTH
    extent[is_grid] = cell
    np.clip(lon_r, -180, 180, out=lon_r)
    np.clip(lat_r, -90, 90, out=lat_r)
    # Areas: one-degree squares; regulator reports give the true share out, +-5 points.
    areas = [
        AdminArea(
            f"A{ix}{iy}",
            f"Area {ix}{iy}",
            shapely.box(WEST + ix, SOUTH + iy, WEST + ix + 1, SOUTH + iy + 1),
        )
        for ix in range(10)
        for iy in range(10)
    ]
    is_area = subject == AREA
    area_of_site = (np.floor(lon - WEST).clip(0, 9) * 10 + np.floor(lat - SOUTH).clip(0, 9)).astype(
        np.int64
    )
    key = np.where(subject == SITE, site, -1)
    key[is_area] = n_sites + area_of_site[site[is_area]]
    share = np.full(n_reports, np.nan)
    for i in np.flatnonzero(is_area):
        members = np.flatnonzero(area_of_site == area_of_site[site[i]])
        true_share = truth_down(members, np.full(len(members), observed[i])).mean()
        share[i] = float(np.clip(true_share + rng.normal(0, 0.05), 0, 1))
    source_kind[is_area] = 1  # regulator
    status[is_area] = np.where(share[is_area] > 0.5, 2, 1)
    cause = np.where(status == 2, rng.integers(0, 4, n_reports), -1).astype(np.int8)
    keys = site_ids + [a.code for a in areas]
    return World(
        site_ids=site_ids,
        lon=lon,
        lat=lat,
        range_m=range_m,
        tech=tech,
        areas=areas,
        columns={
            "observed_us": observed,
            "received_us": received,
            "source_kind": source_kind,
            "subject_kind": subject.astype(np.int8),
            "status": status,
            "key": key,
            "keys": keys,
            "lon": lon_r,
            "lat": lat_r,
            "extent": extent,
            "cause": cause,
            "share_out": share,
        },
    )


def naive_baseline(
    table: ReportTable,
    inventory: SiteInventory,
    areas: AreaTable,
    policy: MergePolicy,
    sites: list[int],
) -> dict[int, float]:
    """For each site, one Python loop over all reports (final state at T only)."""
    cols = {
        name: getattr(table, name).tolist()
        for name in (
            "observed_us",
            "source_kind",
            "source_name",
            "subject_kind",
            "key",
            "lon",
            "lat",
            "extent",
            "status",
            "share_out",
        )
    }
    keys = table.keys
    trust = policy.trust_by_code().tolist()
    half = policy.half_life_by_code().tolist()
    value_of = [1.0, 0.5, 0.0]
    max_age = policy.max_age_s
    members = {areas.codes[a]: set(areas.members(a).tolist()) for a in range(len(areas))}
    out: dict[int, float] = {}
    n = len(table)
    for done, s in enumerate(sites):
        sid, slon, slat, reach = (
            inventory.site_ids[s],
            float(inventory.lon[s]),
            float(inventory.lat[s]),
            float(inventory.range_m[s]),
        )
        latest: dict[tuple[Any, ...], tuple[int, list[tuple[int, float]]]] = {}
        for i in range(n):
            o = cols["observed_us"][i]
            if o > T_US or cols["status"][i] == 3:
                continue
            kind = cols["subject_kind"][i]
            factor = 1.0
            if kind == SITE:
                if keys[cols["key"][i]] != sid:
                    continue
            elif kind == POINT:
                d = float(ground_distance_m(slon, slat, cols["lon"][i], cols["lat"][i]))
                if d > reach + cols["extent"][i]:
                    continue
            elif kind == GRID:
                x0, y0, size = cols["lon"][i], cols["lat"][i], cols["extent"][i]
                nx, ny = min(max(slon, x0), x0 + size), min(max(slat, y0), y0 + size)
                if float(ground_distance_m(slon, slat, nx, ny)) > reach:
                    continue
            elif kind == AREA:
                if s not in members.get(keys[cols["key"][i]], ()):
                    continue
                factor = policy.area_site_weight
            else:
                continue
            # A later report from the same source about the same subject replaces this one.
            group = (
                cols["source_kind"][i],
                cols["source_name"][i],
                kind,
                cols["key"][i],
                *(
                    None if x != x else x
                    for x in (cols["lon"][i], cols["lat"][i], cols["extent"][i])
                ),
            )
            entry = latest.get(group)
            if entry is None or entry[0] < o:
                latest[group] = (o, [(i, factor)])
            elif entry[0] == o:
                entry[1].append((i, factor))
        w_sum = wv_sum = 0.0
        for _, rows in latest.values():
            for i, factor in rows:
                age = (T_US - cols["observed_us"][i]) / 1e6
                if age >= max_age:
                    continue
                k = cols["source_kind"][i]
                w = trust[k] * factor * 2.0 ** (-age / half[k])
                share = cols["share_out"][i]
                v = value_of[cols["status"][i]] if share != share else 1.0 - share
                w_sum += w
                wv_sum += w * v
        out[s] = wv_sum / w_sum if w_sum > 0 else math.nan
        log(f"    baseline: site {done + 1}/{len(sites)}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--reports", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--baseline-sites", type=int, default=10)
    ap.add_argument("--no-store", action="store_true", help="skip the SQLite stage")
    args = ap.parse_args()
    policy = MergePolicy()
    times: dict[str, float] = {}
    log(f"generating {args.reports:,} reports over {args.sites:,} sites (seed {args.seed})")
    world = timed(
        "generate (not timed in the pipeline)",
        times,
        lambda: generate(args.sites, args.reports, args.seed),
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    log("pipeline:")
    columns = dict(world.columns)
    table = timed("1a. report table", times, lambda: ReportTable.from_arrays(**columns))
    inventory = timed(
        "1b. site inventory",
        times,
        lambda: SiteInventory.from_arrays(
            site_ids=world.site_ids,
            lon=world.lon,
            lat=world.lat,
            range_m=world.range_m,
            technology=world.tech,
            policy=policy,
        ),
    )
    areas = timed("1c. area membership", times, lambda: AreaTable.build(world.areas, inventory))
    work = Path(tempfile.mkdtemp(prefix="tocsin-outage-bench-"))
    try:
        if not args.no_store:
            store = OutageStore(work / "outage.db")

            def store_and_read() -> ReportTable:
                store.append_reports(table, origin="benchmark")
                return store.reports(observed_until=datetime_of(T_US))

            table_back = timed("2. store: append + read back", times, store_and_read)
            store.close()
            assert len(table_back) == len(table)
            db_mb = (work / "outage.db").stat().st_size / 1e6
        at = datetime_of(T_US)
        result: MergeResult = timed(
            "3. merge", times, lambda: merge(table, inventory, areas, at, policy)
        )
        tif = work / "service.tif"
        timed(
            "4. GeoTIFF 0.01 deg",
            times,
            lambda: write_service_geotiff(
                result,
                tif,
                bounds=(WEST, SOUTH, WEST + SIZE, SOUTH + SIZE),
                resolution_deg=0.01,
            ),
        )
        tif_mb = tif.stat().st_size / 1e6
        rss_pipeline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        pipeline = sum(v for k, v in times.items() if k[0] in "134")
        with_store = pipeline + times.get("2. store: append + read back", 0.0)

        rng = np.random.default_rng(args.seed + 1)
        subset = sorted(rng.choice(len(inventory), args.baseline_sites, replace=False).tolist())
        log(f"baseline on {len(subset)} sites (extrapolated to {len(inventory):,}):")
        start = time.perf_counter()
        answers = naive_baseline(table, inventory, areas, policy, subset)
        per_site = (time.perf_counter() - start) / len(subset)
        baseline = per_site * len(inventory)
        disagree = [
            s
            for s, p in answers.items()
            if not (
                (math.isnan(p) and math.isnan(result.sites.probability[s]))
                or abs(p - result.sites.probability[s]) < 1e-9
            )
        ]
    finally:
        for path in sorted(work.glob("*"), reverse=True):
            path.unlink()
        work.rmdir()

    states = result.sites
    print(
        f"outage benchmark: {args.reports:,} reports, {args.sites:,} sites, 100 areas, "
        f"seed {args.seed}"
    )
    print(f"{'stage':<40} {'seconds':>9} {'peak RSS after (MB)':>20}")
    for label, seconds in times.items():
        print(f"{label:<40} {seconds:9.2f} {PEAKS.get(label, 0):20.0f}")
    print(f"{'pipeline (1 + 3 + 4)':<40} {pipeline:9.2f}   target < 10 s")
    if not args.no_store:
        print(
            f"{'pipeline with the store (1 to 4)':<40} {with_store:9.2f}   "
            f"store file {db_mb:.0f} MB"
        )
    print(f"GeoTIFF: 1000 x 1000 x 3 float32, {tif_mb:.1f} MB")
    print(
        f"peak RSS: {rss_pipeline:.0f} MB after the pipeline ({rss_before:.0f} MB after generating "
        "the input)   target < 2048 MB"
    )
    print(
        f"merge: {result.reports_counted:,} reports counted, {result.reports_unplaced:,} "
        f"reached no site; sites down {int((states.status == 2).sum()):,}, degraded "
        f"{int((states.status == 1).sum()):,}, up {int((states.status == 0).sum()):,}, unknown "
        f"{int((states.status == 3).sum()):,}; dark-since known for "
        f"{int((~np.isnan(states.dark_since)).sum()):,}, restored-at for "
        f"{int((~np.isnan(states.restored_at)).sum()):,}"
    )
    print(
        f"naive baseline: {per_site:.2f} s per site on {len(subset)} sites, EXTRAPOLATED to "
        f"{len(inventory):,} sites: {baseline:,.0f} s ({baseline / 3600:.1f} h)"
    )
    print(f"speed-up of merge over the baseline: {baseline / times['3. merge']:,.0f}x")
    print(
        f"speed-up of the whole pipeline over the baseline: {baseline / pipeline:,.0f}x   "
        "target >= 20x"
    )
    print(
        "baseline agrees with the merge on "
        f"{len(answers) - len(disagree)}/{len(answers)} sites"
        + (f" (disagree: {disagree})" if disagree else "")
    )
    return 1 if disagree else 0


if __name__ == "__main__":
    raise SystemExit(main())
