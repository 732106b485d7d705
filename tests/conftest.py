"""Shared test fixtures.

Real data lives in ``../shared/data`` beside the checkout (CI has it there); override with
the ``FOCUSLAB_SHARED_DATA`` environment variable. Tests that need it skip with a clear
reason when it is absent (a user's machine), never fail silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Folder of the real data shared by the project (may not exist)."""
    env = os.environ.get("FOCUSLAB_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data``; skips the test when the folder is absent."""
    d = shared_data_dir()
    if not d.is_dir():
        pytest.skip(f"real data folder {d} is absent (set FOCUSLAB_SHARED_DATA to use it)")
    return d


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: tests are deterministic."""
    return np.random.default_rng(12345)
