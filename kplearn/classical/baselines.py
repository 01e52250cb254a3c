"""Global baselines: the mean shape, and HOG of the whole crop regressed to all coordinates.

These set the floor every localiser must beat. The mean shape ignores the
image altogether: its error is the spread of faces inside their boxes. HOG +
ridge looks at the image but only globally — one linear map from the HOG of
the whole face crop to all ``2K`` coordinates — so it captures pose and size
but not fine local detail.

Examples
--------
>>> from kplearn.data.synthetic import make_faces
>>> data = make_faces(8, seed=0)
>>> MeanShape().fit(data).predict([data[0].image]).shape
(1, 68, 3)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from kplearn.classical.hog_svm import dense_hog
from kplearn.classical.localiser import ClassicalLocaliser, Deadline
from kplearn.classical.sdm import group_holdout, ridge_fit, select_ridge

__all__ = ["MeanShape", "HogRidge"]


class MeanShape(ClassicalLocaliser):
    """Predicts the training set's mean keypoints, placed in the face box.

    Each keypoint's mean is taken over the images where it is labelled. The
    image content is never used, so constant images are accepted.
    """

    name: ClassVar[str] = "mean-shape"
    _array_names: ClassVar[tuple[str, ...]] = ("mean_shape",)
    _needs_texture: ClassVar[bool] = False

    def _fit(self, works, kp_work, groups, deadline: Deadline, rng, progress) -> None:
        lab = kp_work[..., 2] > 0
        if not lab.any(0).all():
            raise ValueError(f"keypoint {int(np.argmin(lab.any(0)))} is never labelled in the training set")
        xy = np.where(lab[..., None], kp_work[..., :2], 0.0)
        self.mean_shape = xy.sum(0) / lab.sum(0)[:, None]

    def _predict_work(self, works: np.ndarray) -> np.ndarray:
        return np.repeat(self.mean_shape[None], len(works), axis=0)


class HogRidge(ClassicalLocaliser):
    """HOG of the whole face crop, ridge-regressed to all keypoint coordinates.

    Parameters
    ----------
    work_size : int
        Side of the (square) crop the HOG is computed on.
    cell : int
        HOG cell size in pixels (2×2-cell blocks, 9 orientations).
    alphas : tuple of float
        Candidate ridge penalties (relative to the mean squared feature); the
        one with the lowest error on people held out inside the training set wins.
    holdout : float
        Fraction of training people held out to choose the penalty.
    flip : bool
        Also train on mirrored crops (left/right keypoints swapped).
    """

    name: ClassVar[str] = "hog-ridge"
    _array_names: ClassVar[tuple[str, ...]] = ("weights", "bias")

    def __init__(
        self,
        work_size: int = 64,
        cell: int = 8,
        orientations: int = 9,
        alphas: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
        holdout: float = 0.2,
        flip: bool = True,
    ) -> None:
        super().__init__(work_size)
        if cell < 2 or work_size < 2 * cell:
            raise ValueError(f"cell {cell} does not fit twice in work_size {work_size}")
        self.cell, self.orientations = int(cell), int(orientations)
        self.alphas = tuple(float(a) for a in alphas)
        if not 0 < holdout < 1:
            raise ValueError(f"holdout must be in (0, 1), got {holdout}")
        self.holdout = float(holdout)
        self.flip = bool(flip)

    def get_params(self) -> dict[str, Any]:
        return {"work_size": self.work_size, "cell": self.cell, "orientations": self.orientations,
                "alphas": list(self.alphas), "holdout": self.holdout, "flip": self.flip}

    def features(self, work: np.ndarray) -> np.ndarray:
        """HOG vector of one working crop."""
        return dense_hog(work, self.cell, self.orientations).ravel().astype(np.float32)

    def _fit(self, works, kp_work, groups, deadline: Deadline, rng, progress) -> None:
        works, target, groups = self._regression_set(works, kp_work, groups, 4, self.flip)
        x = np.stack([self.features(w) for w in works]).astype(np.float64)
        y = target.reshape(len(target), -1)
        held = group_holdout(groups, self.holdout, rng)
        alpha, errs = select_ridge(x, y, held, np.array(self.alphas))
        self.weights, self.bias = ridge_fit(x, y, alpha)
        self.train_info.update(alpha=alpha, held_out_mse=[round(float(e), 5) for e in errs],
                               images_used=int(len(works)))

    def _predict_work(self, works: np.ndarray) -> np.ndarray:
        x = np.stack([self.features(w) for w in works])
        return (x @ self.weights + self.bias).reshape(len(works), -1, 2)
