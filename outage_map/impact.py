"""For dispatch: is the cell network likely down in an alert's area, and so which channels
will not reach people there?

Cell broadcast and SMS need the cell network; radio (SAME, APRS) and satellite do not. The
answer rests on the sites whose coverage reaches into the area (their expected share out of
service), or, where the inventory has no site there, on the administrative areas the alert
area overlaps (their share out, weighted by overlap), or on areas named by the alert's
geocodes. Pure: it reads a :class:`~outage_map.merge.MergeResult` and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Final

import numpy as np
import shapely
from shapely.geometry import Polygon as ShapelyPolygon
from shapely.geometry.base import BaseGeometry

from cap.model import Area as CapArea
from outage_map.inventory import disk_polygons
from outage_map.merge import DOWN, UNKNOWN, AreaState, MergeResult
from outage_map.model import Status

__all__ = [
    "NEEDS_CELL_NETWORK",
    "ChannelImpact",
    "Impact",
    "alert_geometry",
    "channel_impact",
]

NEEDS_CELL_NETWORK: Final[Mapping[str, bool]] = MappingProxyType(
    {
        "cell_broadcast": True,
        "sms": True,
        "radio": False,  # SAME/EAS and APRS transmitters have their own power and paths
        "satellite": False,
    }
)


@dataclass(frozen=True, slots=True)
class ChannelImpact:
    """One channel kind: ``state`` is ``"impaired"`` (the cell network is down there),
    ``"degraded"``, ``"ok"``, ``"unknown"`` (no state for the area) or ``"not assessed"``
    (a kind whose dependence on the cell network is not known)."""

    kind: str
    needs_cell_network: bool | None
    state: str


@dataclass(frozen=True, slots=True)
class Impact:
    """What the outage map says about an alert area at ``at``."""

    at: datetime
    cell_network: Status
    share_out: float | None
    confidence: float
    basis: str  # "sites", "areas", "geocodes" or "none"
    sites_total: int
    sites_known: int
    sites_down: int
    areas: tuple[str, ...]
    channels: tuple[ChannelImpact, ...]
    reason: str

    @property
    def impaired(self) -> tuple[str, ...]:
        """Channel kinds likely not to reach people there."""
        return tuple(c.kind for c in self.channels if c.state == "impaired")

    @property
    def prefer(self) -> tuple[str, ...]:
        """Channel kinds that do not need the cell network (the ones to lean on when it is
        impaired or degraded)."""
        return tuple(c.kind for c in self.channels if c.needs_cell_network is False)


def alert_geometry(areas: CapArea | Sequence[CapArea]) -> BaseGeometry | None:
    """The union of a CAP area's polygons and circles (lon/lat), None when it has neither."""
    items = [areas] if isinstance(areas, CapArea) else list(areas)
    parts: list[BaseGeometry] = []
    for area in items:
        for polygon in area.polygons:
            ring = [(float(p.lon), float(p.lat)) for p in polygon.points]
            if len(ring) >= 3:
                shape = ShapelyPolygon(ring)
                parts.append(shape if shape.is_valid else shapely.make_valid(shape))
        for circle in area.circles:
            if circle.center is None or circle.radius_km is None:
                continue
            radius_m = max(float(circle.radius_km) * 1000.0, 1.0)
            disk = disk_polygons([float(circle.center.lon)], [float(circle.center.lat)], [radius_m])
            parts.append(disk[0])
    if not parts:
        return None
    return shapely.union_all(parts)


def channel_impact(
    area: BaseGeometry | CapArea | Sequence[CapArea],
    result: MergeResult,
    *,
    kinds: Sequence[str] = tuple(NEEDS_CELL_NETWORK),
) -> Impact:
    """Which of ``kinds`` are likely impaired in ``area`` at ``result.at``."""
    geometry = area if isinstance(area, BaseGeometry) else alert_geometry(area)
    geocodes = () if isinstance(area, BaseGeometry) else _geocode_values(area)
    share, confidence, basis = None, 0.0, "none"
    total = known = down = 0
    names: tuple[str, ...] = ()
    if geometry is not None and not geometry.is_empty:
        _, sites = result.inventory.touching([geometry])
        total = len(sites)
        states = result.sites
        is_known = states.status[sites] != UNKNOWN
        known = int(is_known.sum())
        down = int((states.status[sites] == DOWN).sum())
        if known:
            share = float(np.mean(1.0 - states.probability[sites][is_known]))
            confidence = float(np.sum(states.confidence[sites][is_known])) / total
            basis = "sites"
        else:
            overlap = _overlapping_areas(result, geometry)
            if overlap:
                weights = np.array([w for _, w in overlap])
                shares = np.array([a.share_out or 0.0 for a, _ in overlap])
                confs = np.array([a.confidence for a, _ in overlap])
                share = float(np.average(shares, weights=weights))
                confidence = float(np.average(confs, weights=weights))
                basis = "areas"
                names = tuple(a.code for a, _ in overlap)
    if basis == "none" and geocodes:
        found = [a for a in (result.area(code) for code in geocodes) if a is not None]
        found = [a for a in found if a.share_out is not None]
        if found:
            share = float(np.mean([a.share_out or 0.0 for a in found]))
            confidence = float(np.mean([a.confidence for a in found]))
            basis = "geocodes"
            names = tuple(a.code for a in found)
    network = Status.UNKNOWN if share is None else Status(result.policy.status_of(1.0 - share))
    state = {
        Status.DOWN: "impaired",
        Status.DEGRADED: "degraded",
        Status.UP: "ok",
        Status.UNKNOWN: "unknown",
    }[network]
    channels = tuple(
        ChannelImpact(
            kind,
            NEEDS_CELL_NETWORK.get(kind),
            (state if NEEDS_CELL_NETWORK[kind] else "ok")
            if kind in NEEDS_CELL_NETWORK
            else "not assessed",
        )
        for kind in kinds
    )
    return Impact(
        at=result.at,
        cell_network=network,
        share_out=share,
        confidence=confidence,
        basis=basis,
        sites_total=total,
        sites_known=known,
        sites_down=down,
        areas=names,
        channels=channels,
        reason=_reason(network, share, basis, total, known, names),
    )


def _geocode_values(area: CapArea | Sequence[CapArea]) -> tuple[str, ...]:
    """Area codes an alert names: each geocode value, and for SAME codes (``PSSCCC``) the
    FIPS county code ``SSCCC`` the boundary files use."""
    items = [area] if isinstance(area, CapArea) else list(area)
    values: list[str] = []
    for item in items:
        for code in item.geocodes:
            values.append(code.value)
            if code.value_name.upper() == "SAME" and len(code.value) == 6:
                values.append(code.value[1:])
    return tuple(dict.fromkeys(values))


def _overlapping_areas(
    result: MergeResult, geometry: BaseGeometry
) -> list[tuple[AreaState, float]]:
    found: list[tuple[AreaState, float]] = []
    for state, shape in zip(result.areas, result.area_table.geometries, strict=True):
        if shape is None or state.share_out is None or not shapely.intersects(shape, geometry):
            continue
        overlap = float(shapely.area(shapely.intersection(shape, geometry)))
        found.append((state, overlap if overlap > 0 else 1e-12))
    return found


def _reason(
    network: Status,
    share: float | None,
    basis: str,
    total: int,
    known: int,
    names: tuple[str, ...],
) -> str:
    if share is None:
        if total:
            return f"no report counts for any of the {total} cell sites serving the area"
        return "no cell site serves the area in the inventory, and no area report covers it"
    source = {
        "sites": f"{known} of {total} cell sites serving the area have a known state",
        "areas": f"from the reports of the areas it overlaps ({', '.join(names)})",
        "geocodes": f"from the reports of the areas its geocodes name ({', '.join(names)})",
    }[basis]
    return f"cell network {network.value}: {share:.0%} of service out ({source})"
