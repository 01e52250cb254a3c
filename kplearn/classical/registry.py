"""Names of the classical localisers, as the ``kplearn train --model NAME`` command knows them.

Examples
--------
>>> sorted(CLASSICAL_MODELS)
['hog-ridge', 'hog-svm', 'hog-svm-noprior', 'mean-shape', 'sdm']
"""

from __future__ import annotations

from pathlib import Path

from kplearn.classical.baselines import HogRidge, MeanShape
from kplearn.classical.hog_svm import HogSvmLocaliser, HogSvmNoPriorLocaliser
from kplearn.classical.localiser import ClassicalLocaliser
from kplearn.classical.sdm import SupervisedDescent
from kplearn.run_config import config_path, read_config

__all__ = ["CLASSICAL_MODELS", "make_classical", "load_classical"]

#: Model name -> class, in the lesson's order from weakest to strongest.
CLASSICAL_MODELS: dict[str, type[ClassicalLocaliser]] = {
    cls.name: cls
    for cls in (MeanShape, HogRidge, HogSvmNoPriorLocaliser, HogSvmLocaliser, SupervisedDescent)
}


def make_classical(name: str, **params) -> ClassicalLocaliser:
    """A new, untrained classical localiser by name (``params`` go to its constructor)."""
    try:
        cls = CLASSICAL_MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown classical model {name!r}; known: {', '.join(CLASSICAL_MODELS)}"
        ) from None
    return cls(**params)


def load_classical(run_dir: str | Path) -> ClassicalLocaliser:
    """Load a classical model saved with ``model.save(run_dir)``, whatever its kind."""
    cfg_path = config_path(run_dir)
    config = read_config(run_dir, family="classical")
    name = config.get("model")
    if name not in CLASSICAL_MODELS:
        raise ValueError(
            f"{cfg_path}: unknown classical model {name!r}; known: {', '.join(CLASSICAL_MODELS)}"
        )
    return CLASSICAL_MODELS[name].load(run_dir)
