"""A picture of the merged state for people who only want to look: areas filled by their share
of service, sites as dots coloured by their probability of service, a legend, a title with the
instant and the sources counted, and a scale bar.

The classes follow the merge policy: under ``down_below`` is down (two shades of red),
``up_from`` and over is up (blue), degraded in between (two pale shades); grey is unknown.
Hatched areas show the figures of an enclosing area (e.g. an island-wide series), not their
own. Drawn with matplotlib's Agg canvas (no display, no global pyplot state, so threads can
draw at once). :func:`render_png` is pure; :func:`write_png` writes the file.
"""

from __future__ import annotations

import contextlib
import io
import math
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from outage_map.config import MergePolicy
from outage_map.errors import OutageError
from outage_map.inventory import METRES_PER_DEGREE
from outage_map.merge import UNKNOWN, MergeResult
from outage_map.table import SOURCE_KINDS
from outage_map.vector import AreaRow, area_rows, display_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.path import Path as MplPath

__all__ = [
    "UNKNOWN_COLOUR",
    "MapError",
    "ServiceClass",
    "render_png",
    "service_classes",
    "write_png",
]

UNKNOWN_COLOUR: Final = "#bdbdbd"
_CLASS_COLOURS: Final = (
    "#d7191c",
    "#fdae61",
    "#ffffbf",
    "#abd9e9",
    "#2c7bb6",
)  # ColorBrewer RdYlBu
_EDGE: Final = "#4d4d4d"  # legend outlines
_BORDER: Final = "#7a7a7a"  # area borders: visible on every fill
_HATCH: Final = "#555555"
_NICE_KM: Final = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)


class MapError(OutageError):
    """The map cannot be drawn or written (nothing to show, bad size, unwritable path)."""


@dataclass(frozen=True, slots=True)
class ServiceClass:
    """Service shares in [low, high) drawn in ``colour`` (the last class includes 1)."""

    low: float
    high: float
    colour: str
    label: str


def service_classes(policy: MergePolicy) -> tuple[ServiceClass, ...]:
    """Five classes whose edges are the policy's thresholds and the midpoints below them."""
    down, up = policy.down_below, policy.up_from
    edges = (0.0, down / 2, down, (down + up) / 2, up, 1.0)
    words = ("down", "down", "degraded", "degraded", "up")
    classes = []
    for i, colour in enumerate(_CLASS_COLOURS):
        low, high = edges[i], edges[i + 1]
        span = f"under {high:.0%}" if i == 0 else f"{low:.0%} or more" if i == 4 else None
        span = span or f"{low:.0%} to {high:.0%}"
        classes.append(ServiceClass(low, high, colour, f"{span} ({words[i]})"))
    return tuple(classes)


def _colours_of(shares: NDArray[np.float64], classes: Sequence[ServiceClass]) -> list[str]:
    out: list[str] = []
    for share in shares.tolist():
        if math.isnan(share):
            out.append(UNKNOWN_COLOUR)
            continue
        colour = classes[-1].colour
        for c in classes:
            if share < c.high:
                colour = c.colour
                break
        out.append(colour)
    return out


def render_png(
    result: MergeResult,
    *,
    rows: Sequence[AreaRow] | None = None,
    shapes: Mapping[str, BaseGeometry] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    width: int = 1200,
    height: int | None = None,
    title: str | None = None,
) -> bytes:
    """The PNG bytes of the map at ``result.at``, ``width`` by ``height`` pixels (default
    height: what the map's shape needs). ``bbox`` (west, south, east, north) defaults to
    everything drawn, with a margin. A ``title`` replaces "Mobile network service as of T";
    the instant then heads the line under it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if not 600 <= width <= 8000 or (height is not None and not 400 <= height <= 8000):
        raise MapError(
            f"map size {width}x{height or 'auto'}: the width must be 600 to 8000 pixels and "
            "the height 400 to 8000"
        )
    rows = tuple(rows) if rows is not None else area_rows(result, shapes)
    derived = set(shapes) if shapes is not None else _derived_codes(result)
    drawn = [r for r in rows if r.geometry is not None and r.code not in derived]
    classes = service_classes(result.policy)
    inv, states = result.inventory, result.sites

    view = bbox if bbox is not None else _extent(drawn, inv.lon, inv.lat)
    if view is None:
        raise MapError(
            "nothing to draw: the store has no areas and no sites; ingest boundaries "
            "(tocsin outage ingest boundaries FILE) or sites, or give --bbox"
        )
    west, south, east, north = view

    # Layout in pixels: title block on top, legend column on the right, footer below; the
    # map takes the rest, its height following its shape unless the height is given.
    top, bottom, left, column = 100, 50, 70, 360
    map_w = width - left - column
    stretch = 1.0 / max(math.cos(math.radians((south + north) / 2)), 0.05)
    shape = (north - south) * stretch / max(east - west, 1e-9)
    if height is None:
        height = int(min(max(map_w * shape, 300), 3 * map_w)) + top + bottom
    map_h = height - top - bottom
    dpi = 100
    figure = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((left / width, bottom / height, map_w / width, map_h / height))
    axes.set_facecolor("#dde8f0")  # sea and land without areas
    axes.set_aspect(stretch, adjustable="box", anchor="NW")
    axes.set_xlim(west, east)
    axes.set_ylim(south, north)
    axes.tick_params(labelsize=8, colors="#555555")
    for spine in axes.spines.values():
        spine.set_color("#999999")

    # Areas: own figures plain, a parent's figures hatched.
    for hatched in (False, True):
        group = [r for r in drawn if (r.basis == "parent") is hatched]
        if not group:
            continue
        paths: list[MplPath] = []
        colours: list[str] = []
        shares = np.array([np.nan if r.share_service is None else r.share_service for r in group])
        for row, colour in zip(group, _colours_of(shares, classes), strict=True):
            assert row.geometry is not None
            paths.extend(_paths(row.geometry))
            colours.extend([colour] * (len(paths) - len(colours)))
        collection = PathCollection(
            paths,
            facecolors=colours,
            edgecolors=_BORDER,
            linewidths=0.6,
            hatch="///" if hatched else None,
            hatchcolor=_HATCH,
        )
        axes.add_collection(collection)

    # Sites: dots by probability of service; unknown ones hollow.
    if len(inv):
        inside = (inv.lon >= west) & (inv.lon <= east) & (inv.lat >= south) & (inv.lat <= north)
        known = inside & (states.status != UNKNOWN)
        unknown = inside & (states.status == UNKNOWN)
        dot = 30.0 if inside.sum() < 500 else 10.0 if inside.sum() < 5000 else 3.0
        if unknown.any():
            axes.scatter(
                inv.lon[unknown],
                inv.lat[unknown],
                s=dot,
                facecolors="none",
                edgecolors="#7f7f7f",
                linewidths=0.6,
                zorder=3,
            )
        if known.any():
            axes.scatter(
                inv.lon[known],
                inv.lat[known],
                s=dot,
                c=_colours_of(np.asarray(states.probability[known]), classes),
                edgecolors="black",
                linewidths=0.4,
                zorder=4,
            )

    _scale_bar(axes, view)

    # Title, sources, legend, notes.
    instant = result.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    figure.text(
        left / width,
        1 - 35 / height,
        title or f"Mobile network service as of {instant}",
        fontsize=16,
        weight="bold",
        va="center",
    )
    figure.text(
        left / width,
        1 - 70 / height,
        ("" if title is None else f"as of {instant} · ") + _sources_line(result, rows),
        fontsize=10,
        va="center",
        color="#333333",
    )
    handles: list[Any] = [
        Patch(facecolor=c.colour, edgecolor=_EDGE, linewidth=0.4, label=c.label) for c in classes
    ]
    handles.append(Patch(facecolor=UNKNOWN_COLOUR, edgecolor=_EDGE, linewidth=0.4, label="unknown"))
    if any(r.basis == "parent" for r in drawn):
        handles.append(
            Patch(
                facecolor="white",
                edgecolor=_EDGE,
                hatch="///",
                hatchcolor=_HATCH,
                linewidth=0.4,
                label="figures of the enclosing area",
            )
        )
    if len(inv):
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markerfacecolor="#ffffff",
                markeredgecolor="black",
                markersize=7,
                label="cell site (filled by its probability)",
            )
        )
    legend = figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1 - (column - 20) / width, 1 - top / height),
        title="Share of service",
        fontsize=10,
        title_fontsize=11,
        frameon=False,
        handlelength=2.6,
        handleheight=1.6,
    )
    legend.get_title().set_horizontalalignment("left")
    notes = _notes(rows, result)
    if notes:
        figure.canvas.draw()  # places the legend, so the notes can go under it
        legend_box = legend.get_window_extent()
        figure.text(
            1 - (column - 20) / width,
            (legend_box.y0 - 15) / height,
            "\n".join(textwrap.fill(note, 46) for note in notes),
            fontsize=9,
            va="top",
            color="#222222",
        )
    figure.text(
        left / width,
        12 / height,
        "Tocsin outage map · lon/lat (EPSG:4326) · areas: share of sites in service; "
        "sites: probability of service",
        fontsize=8,
        color="#666666",
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def write_png(path: Path | str, data: bytes) -> Path:
    """Write PNG bytes to ``path``, replacing it atomically."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise MapError(f"cannot write the map {target}: {exc.strerror or exc}") from None
    return target


def _derived_codes(result: MergeResult) -> set[str]:
    table = result.area_table
    drawn = {c for c, g in zip(table.codes, table.geometries, strict=True) if g is not None}
    return {p for p in table.parents if p and p not in drawn}


def _extent(
    rows: Sequence[AreaRow], lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[float, float, float, float] | None:
    boxes = [r.geometry.bounds for r in rows if r.geometry is not None and not r.geometry.is_empty]
    if len(lon):
        boxes.append((float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())))
    if not boxes:
        return None
    west = min(b[0] for b in boxes)
    south = min(b[1] for b in boxes)
    east = max(b[2] for b in boxes)
    north = max(b[3] for b in boxes)
    margin = max(east - west, north - south, 0.02) * 0.04
    return (
        max(west - margin, -180.0),
        max(south - margin, -90.0),
        min(east + margin, 180.0),
        min(north + margin, 90.0),
    )


def _paths(geometry: BaseGeometry) -> list[MplPath]:
    """Matplotlib paths of a polygonal geometry, holes included (one path per polygon)."""
    from matplotlib.path import Path as MplPath

    polygons = list(getattr(geometry, "geoms", [geometry]))
    out: list[MplPath] = []
    for polygon in polygons:
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        vertices: list[NDArray[np.float64]] = []
        codes: list[NDArray[np.uint8]] = []
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords, dtype=np.float64)[:, :2]
            ring_codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
            ring_codes[0] = MplPath.MOVETO
            ring_codes[-1] = MplPath.CLOSEPOLY
            vertices.append(xy)
            codes.append(ring_codes)
        out.append(MplPath(np.concatenate(vertices), np.concatenate(codes)))
    return out


def _scale_bar(axes: Axes, view: tuple[float, float, float, float]) -> None:
    west, south, east, north = view
    mid_lat = (south + north) / 2
    km_per_deg = METRES_PER_DEGREE * max(math.cos(math.radians(mid_lat)), 0.05) / 1000.0
    width_km = (east - west) * km_per_deg
    target = width_km / 5
    length = max([k for k in _NICE_KM if k <= target] or [_NICE_KM[0]])
    x0 = west + (east - west) * 0.04
    y0 = south + (north - south) * 0.05
    x1 = x0 + length / km_per_deg
    axes.plot([x0, x1], [y0, y0], color="black", linewidth=3, solid_capstyle="butt", zorder=5)
    axes.text(
        (x0 + x1) / 2,
        y0 + (north - south) * 0.015,
        f"{length:g} km",
        ha="center",
        va="bottom",
        fontsize=9,
        zorder=5,
    )


def _sources_line(result: MergeResult, rows: Sequence[AreaRow]) -> str:
    """How many reports count at T, from which kinds and sources."""
    table = result.reports
    counted = np.unique(result.contributions.row)
    kinds = Counter(SOURCE_KINDS[int(k)].value for k in table.source_kind[counted])
    sources = sorted({table.names[int(n)] for n in table.source_name[counted]})
    head = f"{len(counted)} report{'s' if len(counted) != 1 else ''} in effect"
    if kinds:
        counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(kinds.items()))
        head += f" ({counts})"
    parts = [head]
    if sources:
        shown = ", ".join(sources[:3]) + (
            f" and {len(sources) - 3} more" if len(sources) > 3 else ""
        )
        parts.append(f"sources: {shown}")
    known_areas = sum(1 for r in rows if r.share_out is not None)
    parts.append(f"{known_areas} of {len(rows)} areas known")
    if len(result.inventory):
        sites_known = int((result.sites.status != UNKNOWN).sum())
        parts.append(f"{sites_known} of {len(result.inventory)} sites known")
    return " · ".join(parts)


def _notes(rows: Sequence[AreaRow], result: MergeResult) -> list[str]:
    """A line for each area whose figures other areas show (the hatched ones), up to five."""
    shown = Counter(r.figures_from for r in rows if r.basis == "parent" and r.figures_from)
    lines = []
    for code, count in shown.most_common(5):
        state = result.area(code)
        if state is None or state.share_out is None:
            continue
        name = display_name(code, state.name)
        lines.append(
            f"{name}: {1 - state.share_out:.0%} of service ({state.status.value}); "
            f"shown on {count} area{'s' if count != 1 else ''}"
        )
    return lines
