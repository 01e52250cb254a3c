"""Shared test configuration: headless plotting, the opt-in real-data folder, benchmark loading."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

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


@pytest.fixture
def load_benchmark(monkeypatch) -> Callable[[str], ModuleType]:
    """A loader of ``benchmarks/<name>.py`` as a module, for smoke-testing its ``main``.

    The benchmarks are scripts, not a package: each is loaded from its file, with
    ``benchmarks/`` on ``sys.path`` (for the duration of the test) so that one benchmark
    can import another or a shared helper, as it does when run as a script.
    """
    folder = REPO_ROOT / "benchmarks"
    monkeypatch.syspath_prepend(str(folder))

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
