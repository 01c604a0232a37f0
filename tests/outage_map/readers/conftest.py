"""Paths to the real outage data and this package's own fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def outage_data(shared_data: Path) -> Path:
    return shared_data / "outage"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return HERE
