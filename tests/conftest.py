"""Shared fixtures: where the repository and the shared public test data are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT / ".." / "shared" / "data"
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        if UNDER_CI:
            pytest.fail(f"shared test data missing at {SHARED_DATA} (required under CI)")
        pytest.skip(f"shared test data not found at {SHARED_DATA} (allowed outside CI only)")
    return SHARED_DATA


def require_tool(name: str, package: str | None = None) -> str:
    """The path of an external tool a test checks our output with. Outside CI a missing tool
    skips the test; under CI=true it fails it (scripts/test installs every one)."""
    path = shutil.which(name)
    if path is None:
        message = (
            f"{name} (Debian package {package or name}) is not installed; "
            "scripts/setup --test-peers installs it"
        )
        if UNDER_CI:
            pytest.fail(f"{message}: required under CI")
        pytest.skip(f"{message} (skipped outside CI only)")
    return path
