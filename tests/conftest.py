"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Location of the public datasets (env LINGUALIFT_SHARED_DATA, default ../shared/data beside the repo)."""
    return Path(os.environ.get("LINGUALIFT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The shared data folder; skips the test with a clear reason when it is absent."""
    root = shared_data_dir()
    if not root.is_dir():
        pytest.skip(f"public data not found at {root} (set LINGUALIFT_SHARED_DATA to its location)")
    return root
