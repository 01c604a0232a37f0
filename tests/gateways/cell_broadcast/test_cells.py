"""Cell tables and cell selection: reading CSV (ours and OpenCelliD's), choosing the cells whose
coverage reaches a CAP area grown by the bleed buffer (checked against a brute-force check over
every cell that shares no code with the index: ray casting in lon/lat and haversine distances
to a densely sampled boundary), and the CBSP cell lists of every discriminator."""

from __future__ import annotations

import io
import itertools
import math
from decimal import Decimal

import numpy as np
import pytest

from cap.model import Area, Circle, Point, Polygon
from gateways.cell_broadcast.cbsp import CellIdKind, Cgi, Ci, Lac, LacCi, Lai
from gateways.cell_broadcast.cells import (
    Cell,
    CellTable,
    CellTableError,
    cells_from_text,
)

R = 6_371_008.8


def _haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * R * math.asin(math.sqrt(min(h, 1.0)))


def _inside(lon: float, lat: float, ring: list[tuple[float, float]]) -> bool:
    """Even-odd ray casting in lon/lat."""
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat):
            x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if x > lon:
                inside = not inside
    return inside


def _boundary(ring: list[tuple[float, float]], step_m: float = 50.0) -> list[tuple[float, float]]:
    points = []
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        n = max(1, int(_haversine(x1, y1, x2, y2) / step_m))
        points += [(x1 + (x2 - x1) * k / n, y1 + (y2 - y1) * k / n) for k in range(n)]
    return points


def _polygon(ring: list[tuple[float, float]]) -> Polygon:
    return Polygon(tuple(Point(Decimal(str(lat)), Decimal(str(lon))) for lon, lat in ring))


def _table(n: int, seed: int, west: float, south: float, size: float) -> CellTable:
    rng = np.random.default_rng(seed)
    lon = west + rng.random(n) * size
    lat = south + rng.random(n) * size
    ranges = rng.uniform(200, 8000, n)
    cells = [
        Cell(Cgi("310", "410", 1 + i // 1000, i % 60000), float(x), float(y), float(r))
        for i, (x, y, r) in enumerate(zip(lon, lat, ranges, strict=True))
    ]
    return CellTable(cells)


def _star(
    lon0: float, lat0: float, radius_deg: float, points: int, seed: int
) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    ring = []
    for k in range(points):
        angle = 2 * math.pi * k / points
        r = radius_deg * (0.4 + 0.6 * rng.random())
        ring.append(
            (lon0 + r * math.cos(angle) / math.cos(math.radians(lat0)), lat0 + r * math.sin(angle))
        )
    return [*ring, ring[0]]


@pytest.mark.parametrize(
    ("lat0", "bleed_m", "seed"),
    [(45.0, 0.0, 1), (45.0, 2000.0, 2), (-33.9, 500.0, 3), (64.1, 5000.0, 4)],
)
def test_polygon_selection_matches_brute_force(lat0: float, bleed_m: float, seed: int) -> None:
    table = _table(3000, seed, 10.0, lat0 - 1.0, 2.0)
    ring = _star(11.0, lat0, 0.5, 12, seed)
    area = Area("zone", polygons=(_polygon(ring),))
    chosen = set(table.indices_for([area], bleed_m=bleed_m).tolist())
    boundary = np.array(_boundary(ring))
    blon, blat = np.radians(boundary[:, 0]), np.radians(boundary[:, 1])
    compared = ambiguous = 0
    for i, cell in enumerate(table.cells):
        reach = cell.range_m + bleed_m
        if _inside(cell.lon, cell.lat, ring):
            distance = 0.0
        else:
            p = math.radians(cell.lat)
            h = (
                np.sin((blat - p) / 2) ** 2
                + math.cos(p) * np.cos(blat) * np.sin((blon - math.radians(cell.lon)) / 2) ** 2
            )
            distance = float(2 * R * np.arcsin(np.sqrt(np.minimum(h, 1.0))).min())
        if abs(distance - reach) < 60.0 + 0.002 * reach:  # sampling step, projection error
            ambiguous += 1
            continue
        compared += 1
        assert (i in chosen) == (distance <= reach), (i, cell, distance, reach)
    assert ambiguous < 0.02 * len(table)
    assert 0.1 * compared < len(chosen) < 0.9 * compared


def test_circle_selection_is_great_circle_distance() -> None:
    table = _table(2000, 7, -1.0, 51.0, 1.0)
    circle = Circle(Point(Decimal("51.5"), Decimal("-0.5")), Decimal("12.5"))
    chosen = set(table.indices_for([Area("London", circles=(circle,))], bleed_m=1000).tolist())
    for i, cell in enumerate(table.cells):
        distance = _haversine(cell.lon, cell.lat, -0.5, 51.5)
        reach = 12_500 + 1000 + cell.range_m
        if abs(distance - reach) > 1.0:
            assert (i in chosen) == (distance <= reach)
    assert chosen


def test_bleed_grows_the_selection_and_areas_add_up() -> None:
    table = _table(3000, 9, 10.0, 44.0, 2.0)
    ring = _star(11.0, 45.0, 0.3, 8, 9)
    area = Area("zone", polygons=(_polygon(ring),))
    tight = set(table.indices_for([area]).tolist())
    wide = set(table.indices_for([area], bleed_m=10_000).tolist())
    assert tight < wide
    circle = Area("c", circles=(Circle(Point(Decimal("44.3"), Decimal("10.3")), Decimal("5")),))
    both = set(table.indices_for([area, circle]).tolist())
    assert both == tight | set(table.indices_for([circle]).tolist())


def test_unlocated_areas_and_bad_bleed() -> None:
    table = cells_from_text("mcc,mnc,lac,ci,lon,lat\n001,01,1,1,0.0,0.0\n")
    selection = table.cells_for([Area("County", geocodes=())])
    assert len(selection) == 0
    assert selection.unlocated == ("County",)
    with pytest.raises(CellTableError, match="bleed buffer"):
        table.cells_for([], bleed_m=-1)
    with pytest.raises(CellTableError, match="no cell of the table reaches"):
        selection.cell_list(CellIdKind.CGI)


def test_cell_lists_for_every_discriminator() -> None:
    table = cells_from_text(
        "mcc,mnc,lac,ci,lon,lat,range\n"
        "001,01,10,2,0.000,0.000,500\n"
        "001,01,10,1,0.001,0.000,500\n"
        "001,01,11,1,0.002,0.000,500\n"
        "001,001,12,7,0.003,0.000,500\n"
        "001,01,13,9,5.000,5.000,500\n"
    )
    circle = Circle(Point(Decimal("0"), Decimal("0.001")), Decimal("1"))
    selection = table.cells_for([Area("here", circles=(circle,))])
    assert [str(c) for c in selection.cgis()] == [
        "001-001-12-7",
        "001-01-10-1",
        "001-01-10-2",
        "001-01-11-1",
    ]
    assert selection.cell_list(CellIdKind.CGI).cells == selection.cgis()
    assert selection.cell_list(CellIdKind.LAC_CI).cells == (
        LacCi(12, 7),
        LacCi(10, 1),
        LacCi(10, 2),
        LacCi(11, 1),
    )
    assert selection.cell_list(CellIdKind.CI).cells == (Ci(7), Ci(1), Ci(2))
    assert selection.cell_list(CellIdKind.LAI).cells == (
        Lai("001", "001", 12),
        Lai("001", "01", 10),
        Lai("001", "01", 11),
    )
    assert selection.cell_list(CellIdKind.LAC).cells == (Lac(12), Lac(10), Lac(11))
    everything = selection.cell_list(CellIdKind.ALL_IN_BSS)
    assert (everything.kind, everything.cells) == (CellIdKind.ALL_IN_BSS, ())


def test_opencellid_export_without_header() -> None:
    text = (
        "GSM,262,2,801,86355,0,13.285512,52.522202,1000,7,1,1282569574,1300155341,0\n"
        "UMTS,262,2,801,211250,0,13.285,52.52,500,7,1,1282569574,1300155341,0\n"
        "GSM,262,2,801,1234,0,13.28,52.52,0,7,1,1282569574,1300155341,0\n"
        "LTE,262,2,801,26870554,0,13.28,52.52,0,7,1,1282569574,1300155341,0\n"
    )
    table = CellTable.read_csv(io.StringIO(text), radios=["GSM", "UMTS"], default_range_m=750)
    assert [str(c.cgi) for c in table.cells] == ["262-02-801-1234"]
    assert table.cells[0].range_m == 750
    assert [p.line for p in table.problems] == [1, 2]
    assert "CI 86355" in table.problems[0].message
    assert "LTE and NR" in table.problems[0].message


def test_header_aliases_problems_and_duplicates() -> None:
    text = (
        "radio,MCC,net,area,cell,Longitude,Latitude,range\n"
        "GSM,310,410,100,1,-119.7,38.2,2000\n"
        "GSM,310,410,100,1,-119.6,38.2,2000\n"
        "GSM,310,410,100,x,-119.6,38.2,2000\n"
        "GSM,310,410,100,3,-200,38.2,2000\n"
        "GSM,310,410,100,4,-119.6,38.2,-5\n"
        "GSM,310,410,100,5,-119.6,38.2,99999\n"
    )
    table = CellTable.read_csv(io.StringIO(text))
    assert [c.cgi.ci for c in table.cells] == [1, 5]
    assert table.cells[1].range_m == 35_000  # cut to the GSM timing-advance reach
    assert [(p.line, p.message.split(" ")[0]) for p in table.problems] == [
        (3, "CGI"),
        (4, "ci"),
        (5, "lon/lat"),
        (6, "range"),
    ]
    with pytest.raises(CellTableError, match="the header lacks lat"):
        CellTable.read_csv(io.StringIO("mcc,mnc,lac,ci,lon\n"))
    with pytest.raises(CellTableError, match="empty"):
        CellTable.read_csv(io.StringIO(""))


def test_read_from_a_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "cells.csv"
    path.write_text("mcc,mnc,lac,ci,lon,lat\n901,70,1,2,0.5,0.5\n", encoding="utf-8")
    assert len(CellTable.read_csv(path)) == 1
    with pytest.raises(CellTableError, match="cannot read the cell table"):
        CellTable.read_csv(Path(str(tmp_path)) / "missing.csv")
