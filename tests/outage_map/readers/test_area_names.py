"""Area names as tables write them -> the codes the boundary files use."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import box

from outage_map.model import AdminArea
from outage_map.readers import AreaNames, normalise_name, read_boundaries


@pytest.fixture(scope="module")
def names(outage_data: Path) -> AreaNames:
    areas: list[AdminArea] = []
    for name in (
        "us_census_fl_counties.geojson",
        "us_census_pr_municipios.geojson",
        "ne10m_admin1_solomon_islands.geojson",
    ):
        areas.extend(read_boundaries(outage_data / name).items)
    return AreaNames.from_areas(areas)


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Glades County FL", "12043"),
        ("Glades County, Florida", "12043"),
        ("glades", "12043"),
        ("DeSoto County FL", "12027"),
        ("St. Johns County FL", "12109"),
        ("Miami-Dade County FL", "12086"),
        ("Puerto Rico", "72"),
        ("PR", "72"),
        ("U.S. Virgin Islands", "78"),
        ("Florida", "12"),  # the state, not the Puerto Rico municipio named Florida
        ("Florida Municipio PR", "72054"),
        ("Mayaguez", "72097"),  # accents do not matter
        ("Mayagüez Municipio, Puerto Rico", "72097"),
        ("Guadalcanal", "SB-GU"),
        ("SB-GU", "SB-GU"),
        ("12043", "12043"),
        ("North Carolina", "37"),
    ],
)
def test_names_resolve(names: AreaNames, written: str, code: str) -> None:
    assert names.resolve(written) == code


@pytest.mark.parametrize(
    "written", ["Puerto Rico + U.S. Virgin Islands", "TX/LA impact zone (55 counties)", "Atlantis"]
)
def test_what_no_file_names_does_not_resolve(names: AreaNames, written: str) -> None:
    assert names.resolve(written) is None


def test_a_name_two_areas_share_resolves_to_neither() -> None:
    areas = [
        AdminArea("12001", "Twin", box(0, 0, 1, 1), "12"),
        AdminArea("13001", "Twin", box(1, 1, 2, 2), "13"),
    ]
    names = AreaNames.from_areas(areas)
    assert names.resolve("Twin") is None
    assert names.resolve("Twin County FL") == "12001"
    assert names.resolve("Twin County, Georgia") == "13001"


@given(st.text(max_size=30))
def test_normalising_is_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once
