"""The PNG map: a real PNG of the asked size, with its legend and the areas in their colours."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpl_image
from numpy.typing import NDArray

from outage_map.config import MergePolicy
from outage_map.png_map import (
    UNKNOWN_COLOUR,
    MapError,
    render_png,
    service_classes,
    write_png,
)
from outage_map.snapshot import MergedView, Snapshot, load_snapshot
from tests.outage_map.scenario import AT, POLICY, T0, build_store


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return load_snapshot(build_store(tmp_path_factory.mktemp("png") / "s.db"), POLICY)


@pytest.fixture(scope="module")
def view(snapshot: Snapshot) -> MergedView:
    return snapshot.view_at(AT)


def _pixels(data: bytes) -> NDArray[np.uint8]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    rgba = mpl_image.imread(io.BytesIO(data), format="png")
    return np.round(np.asarray(rgba)[:, :, :3] * 255).astype(np.uint8)


def _count(pixels: NDArray[np.uint8], colour: str, columns: slice = slice(None)) -> int:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)
    return int(np.all(pixels[:, columns] == rgb, axis=-1).sum())


def test_png_of_the_asked_size_with_every_legend_colour(
    view: MergedView, snapshot: Snapshot
) -> None:
    data = render_png(view.result, rows=view.rows, shapes=snapshot.shapes, width=1000, height=700)
    pixels = _pixels(data)
    assert pixels.shape == (700, 1000, 3)
    legend = slice(1000 - 340, 1000)  # the legend column, right of the map
    for service_class in service_classes(POLICY):
        # A legend patch is at least 20 x 12 pixels of its exact colour.
        assert _count(pixels, service_class.colour, legend) >= 200, service_class.label
    assert _count(pixels, UNKNOWN_COLOUR, legend) >= 200


def test_areas_are_filled_by_their_share_of_service(view: MergedView, snapshot: Snapshot) -> None:
    pixels = _pixels(render_png(view.result, rows=view.rows, shapes=snapshot.shapes, width=1000))
    classes = service_classes(POLICY)
    map_part = slice(70, 1000 - 360)
    down, up = classes[0].colour, classes[-1].colour
    degraded = classes[3].colour  # 70 % of service (RG-C, the region's figure): 70-90 %
    # Alpha (all down) and Beta (all up) are each a third of the map: far more than a legend
    # patch. Gamma shows the region's 70 %, hatched.
    assert _count(pixels, down, map_part) > 10_000
    assert _count(pixels, up, map_part) > 10_000
    assert _count(pixels, degraded, map_part) > 2_000


def test_sites_drawn_and_unknown_areas_grey(snapshot: Snapshot) -> None:
    later = snapshot.view_at(T0 + timedelta(days=30))  # every report expired
    pixels = _pixels(render_png(later.result, rows=later.rows, shapes=snapshot.shapes, width=1000))
    map_part = slice(70, 1000 - 360)
    assert _count(pixels, UNKNOWN_COLOUR, map_part) > 20_000
    for service_class in service_classes(POLICY):
        assert _count(pixels, service_class.colour, map_part) == 0


def test_classes_follow_the_policy() -> None:
    classes = service_classes(MergePolicy(down_below=0.4, up_from=0.8))
    assert [c.low for c in classes] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])
    assert [c.high for c in classes] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert classes[0].label == "under 20% (down)"
    assert classes[-1].label == "80% or more (up)"


def test_bbox_and_errors(view: MergedView, snapshot: Snapshot, tmp_path: Path) -> None:
    data = render_png(view.result, rows=view.rows, bbox=(1.0, 0.0, 2.0, 1.0), width=800)
    classes = service_classes(POLICY)
    pixels = _pixels(data)
    assert _count(pixels, classes[-1].colour, slice(70, 800 - 360)) > 5_000  # Beta fills it
    with pytest.raises(MapError, match="pixels"):
        render_png(view.result, width=100)
    path = write_png(tmp_path / "deep" / "map.png", data)
    assert path.read_bytes() == data
    with pytest.raises(MapError, match="cannot write"):
        write_png(path / "x.png", data)  # a file where a folder should be
