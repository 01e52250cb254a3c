"""Shared test configuration: headless plotting and the opt-in real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]


def faces68_path() -> Path | None:
    """The faces68 folder from ``KPLEARN_FACES68`` or ``../shared/data/faces68``, if it exists."""
    env = os.environ.get("KPLEARN_FACES68")
    candidate = Path(env) if env else REPO_ROOT.parent / "shared" / "data" / "faces68"
    return candidate if (candidate / "keypoints.csv").is_file() else None


@pytest.fixture(scope="session")
def faces68_root() -> Path:
    """Path to the real faces; skips the test when the folder is absent."""
    root = faces68_path()
    if root is None:
        pytest.skip(
            "real faces not available: set KPLEARN_FACES68 or provide ../shared/data/faces68"
        )
    return root


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
