"""The localiser interface: what every trained keypoint model offers, deep or classical.

A *localiser* predicts the keypoints of one object per image from the image and,
optionally, a box around it. Two families implement it:

- deep: :class:`kplearn.train.DeepLocaliser` (a network with its training settings);
- classical: :class:`kplearn.classical.localiser.ClassicalLocaliser` and its
  subclasses (mean shape, HOG + ridge, HOG + SVM, SDM).

:class:`Localiser` is a :class:`typing.Protocol`: nothing inherits from it; a class
fits by having these members. The run directory that :meth:`Localiser.save` writes
is read back, whatever its family, by :func:`kplearn.train.load_run`; its
``config.json`` is read and written only by :mod:`kplearn.run_config`.

Examples
--------
>>> from kplearn.classical.baselines import MeanShape
>>> isinstance(MeanShape(), Localiser)
True
>>> isinstance("a string", Localiser)
False
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

__all__ = ["Localiser"]


@runtime_checkable
class Localiser(Protocol):
    """A trainable keypoint model with one call to predict and a run directory to live in.

    Attributes
    ----------
    name : str
        The model name, as ``kplearn train --model NAME`` knows it.
    family : {"deep", "classical"}
    skeleton : Skeleton or None
        The layout it predicts (None before :meth:`fit`).
    """

    name: str
    family: ClassVar[str]
    skeleton: Any

    def fit(self, train, val=None, minutes: float | None = None, seed: int = 0,
            progress: bool = True) -> Localiser:  # fmt: skip
        """Learn from a :class:`~kplearn.data.KeypointDataset`, within ``minutes`` if given."""
        ...

    def predict(self, images: Sequence[np.ndarray] | np.ndarray, boxes=None, *,
                return_scores: bool = False):  # fmt: skip
        """Keypoints ``(N, K, 3)`` in image pixels (``v = 2``), and scores ``(N, K)`` if asked.

        ``boxes``: one ``[x, y, w, h]`` or ``None`` (the whole image) per image, or None
        for whole images throughout.
        """
        ...

    def save(self, run_dir: str | Path) -> Path:
        """Write the run directory (``config.json`` and the weights); returns it."""
        ...

    @classmethod
    def load(cls, run_dir: str | Path) -> Localiser:
        """Rebuild a localiser saved by :meth:`save`."""
        ...
