"""Supervised descent (SDM): a cascade of linear regressions from local HOG to shape updates.

Xiong & De la Torre's supervised descent method starts from the mean shape
and, at each stage ``t``, reads a descriptor around every current landmark,
stacks them into one vector ``phi(x_t)``, and adds a learnt linear update::

    x_{t+1} = x_t + R_t phi(x_t) + b_t

Each ``R_t`` is a ridge regression from the descriptors of training samples
at their current shapes to the remaining error ``x* - x_t``. The training
samples start at the mean shape and at randomly moved, scaled and rotated
copies of it (several initialisations per image); after a stage is learnt the
samples move by its prediction and the next stage learns from where they
land. Each stage's ridge penalty is chosen on *people* held out inside the
training set, so that it is the penalty that generalises to new faces.

Descriptors are :func:`~kplearn.classical.hog_svm.hog_at_points`: SIFT-like
4×4-cell HOG computed once per image and sampled at sub-pixel positions;
the cell size shrinks over the cascade (coarse to fine). Each stage's fit is
:func:`ridge_fit` (lesson 3 has students write it and run the cascade).

Examples
--------
>>> from kplearn.data.synthetic import make_faces
>>> data = make_faces(8, seed=0)  # a real fit wants hundreds of faces and 4 stages
>>> model = SupervisedDescent(n_stages=1, n_init=1).fit(data)
>>> model.predict([data[0].image]).shape
(1, 68, 3)
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from threadpoolctl import threadpool_limits

from kplearn.classical.hog_svm import hog_at_points
from kplearn.classical.localiser import (
    ClassicalLocaliser,
    Deadline,
    progress_bar,
)
from kplearn.classical.shape_model import apply_similarity, similarity_transform

__all__ = ["SupervisedDescent", "select_ridge", "ridge_fit", "pca_basis", "group_holdout"]


def _eigh(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.linalg.eigh`` on one BLAS thread.

    OpenBLAS's threaded eigensolver is no faster at these sizes (hundreds to a few
    thousand rows), and when another process holds a core it can take seconds instead
    of tens of milliseconds (seen on 2 shared cores: SDM training 10x slower).
    """
    with threadpool_limits(1, user_api="blas"):
        return np.linalg.eigh(a)


def group_holdout(groups: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of samples whose group (person) is held out; about ``fraction`` of them.

    Falls back to single samples when there are fewer than two groups.
    """
    g = np.asarray(groups)
    uniq = np.unique(g)
    if len(uniq) < 2:
        held = np.zeros(len(g), bool)
        held[rng.permutation(len(g))[: max(1, int(round(fraction * len(g))))]] = True
        return held
    order = rng.permutation(uniq)
    counts = np.array([np.sum(g == u) for u in order])
    n_groups = int(np.clip(np.searchsorted(np.cumsum(counts), fraction * len(g)) + 1, 1, len(uniq) - 1))
    return np.isin(g, order[:n_groups])


def select_ridge(
    x: np.ndarray, y: np.ndarray, held: np.ndarray, alphas: np.ndarray
) -> tuple[float, np.ndarray]:
    """Ridge penalty with the lowest squared error on the ``held`` rows, fitting on the others.

    ``alphas`` are relative to the mean squared (centred) feature, the
    ``scale`` of :func:`ridge_fit`. One eigendecomposition serves every
    candidate (of ``x^T x``, or of ``x x^T`` when there are fewer rows than
    features). Returns ``(best_alpha, held_out_mse_per_alpha)``.
    """
    tr = ~np.asarray(held, bool)
    if tr.sum() < 2 or (~tr).sum() < 1:
        raise ValueError("select_ridge: need at least two fitting rows and one held-out row")
    xm, ym = x[tr].mean(0), y[tr].mean(0)
    xt, yt = x[tr] - xm, y[tr] - ym
    xv = x[~tr] - xm
    scale = np.sum(xt * xt) / x.shape[1]
    if xt.shape[0] >= xt.shape[1]:
        lam, vec = _eigh(xt.T @ xt)
        proj, val = vec.T @ (xt.T @ yt), xv @ vec
    else:  # dual form: W = xt^T (xt xt^T + a I)^-1 yt
        lam, vec = _eigh(xt @ xt.T)
        proj, val = vec.T @ yt, xv @ (xt.T @ vec)
    errors = np.array([
        float(np.mean((val @ (proj / (lam + a * scale)[:, None]) + ym - y[~tr]) ** 2)) for a in alphas
    ])
    return float(alphas[int(np.argmin(errors))]), errors


def ridge_fit(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form ridge regression with an unpenalised intercept: one SDM stage's fit.

    Finds ``W, b`` minimising ``|x W + b - y|^2 + alpha * scale * |W|^2``, where
    ``scale = sum(xc**2) / d`` is the mean squared centred feature (``xc = x -
    mean(x)``, ``d`` features), so that ``alpha`` means the same whatever the
    features' units. The intercept is not penalised: centre ``x`` and ``y``,
    solve ``(xc^T xc + alpha * scale * I) W = xc^T yc``, then
    ``b = mean(y) - mean(x) W``. With fewer rows than features the same ``W``
    comes from the smaller dual system ``W = xc^T (xc xc^T + alpha * scale * I)^-1 yc``.
    In :class:`SupervisedDescent` the rows are training samples at their
    current shapes, ``x`` their descriptors and ``y`` the remaining updates
    ``x* - x_t``; lesson 3 has students write it.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Features, one row per sample (at least two rows).
    y : ndarray, shape (n, m)
        Targets.
    alpha : float
        Penalty, relative to ``scale``; must be positive.

    Returns
    -------
    W : ndarray, shape (d, m)
    b : ndarray, shape (m,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(50, 3)) + 10.0  # an offset: the intercept absorbs it
    >>> y = x @ np.array([[1.0], [-2.0], [0.5]]) + 4.0
    >>> W, b = ridge_fit(x, y, alpha=1e-8)
    >>> np.round(W.ravel(), 4), np.round(b, 4)
    (array([ 1. , -2. ,  0.5]), array([4.]))
    >>> W, b = ridge_fit(x, y, alpha=1e8)  # a huge penalty: W -> 0, b -> mean(y)
    >>> bool(np.abs(W).max() < 1e-6), bool(np.isclose(b[0], y.mean()))
    (True, True)
    """
    x, y = np.asarray(x), np.asarray(y)  # float32 features stay float32 (SDM's PCA features: half the time)
    x = x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y) or len(x) < 2:
        raise ValueError(f"ridge_fit: x (n, d) and y (n, m) with n >= 2 expected, got {x.shape} and {y.shape}")
    if not alpha > 0:
        raise ValueError(f"ridge_fit: alpha must be positive, got {alpha}")
    xm, ym = x.mean(0), y.mean(0)
    xc = x - xm
    scale = np.sum(xc * xc) / x.shape[1]
    scale = scale if scale > 0 else 1.0  # constant features: W = 0, b = mean(y)
    if xc.shape[0] >= xc.shape[1]:
        gram = xc.T @ xc
        gram[np.diag_indices_from(gram)] += alpha * scale
        w = np.linalg.solve(gram, xc.T @ (y - ym))
    else:
        gram = xc @ xc.T
        gram[np.diag_indices_from(gram)] += alpha * scale
        w = xc.T @ np.linalg.solve(gram, y - ym)
    return w, ym - xm @ w


def pca_basis(
    x: np.ndarray, dims: int, rng: np.random.Generator, n_sample: int = 2500
) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and ``(d, k)`` orthonormal principal directions of the rows of ``x``.

    Estimated from at most ``n_sample`` random rows through their Gram matrix
    (cheap when rows are fewer than dimensions); ``k = min(dims, rows - 1, d)``.
    """
    rows = x[rng.permutation(len(x))[:n_sample]].astype(np.float64)
    mu = x.mean(0).astype(np.float64)
    c = rows - mu
    k = int(min(dims, len(c) - 1, x.shape[1]))
    if k < 1:
        raise ValueError("pca_basis: need at least two rows")
    lam, u = _eigh(c @ c.T)
    lam, u = lam[::-1][:k], u[:, ::-1][:, :k]
    keep = lam > 1e-10 * lam[0]
    basis = (c.T @ u[:, keep]) / np.sqrt(lam[keep])
    return mu.astype(np.float32), basis.astype(np.float32)


class SupervisedDescent(ClassicalLocaliser):
    """Supervised descent method (cascaded linear regression on HOG).

    Parameters
    ----------
    work_size : int
        Side of the working frame the face box is resized to.
    n_stages : int
        Cascade length (fewer when the time budget runs short).
    cells : tuple of float
        HOG cell size (working px) for each stage; the last value repeats.
    n_cells, orientations : int
        Descriptor grid (``n_cells²`` cells) and orientation bins (signed, 0–360°).
    n_init : int
        Initialisations per training image: the mean shape and ``n_init - 1``
        randomly moved copies.
    jitter : float
        Scale of the random moves relative to the spread of the true faces'
        position, size and rotation around the mean shape.
    alphas : tuple of float
        Candidate ridge penalties (relative to the mean squared feature).
    holdout : float
        Fraction of training people held out to choose each stage's penalty.
    flip : bool
        Also train on mirrored images (with left/right keypoints swapped).
    pca_dims, pca_sample : int
        Each stage regresses on the leading ``pca_dims`` principal components of
        the stacked descriptors, estimated from ``pca_sample`` of them.
    """

    name: ClassVar[str] = "sdm"
    _array_names: ClassVar[tuple[str, ...]] = ("init_shape", "stage_weights", "stage_bias", "stage_cells")

    def __init__(
        self,
        work_size: int = 80,
        n_stages: int = 4,
        cells: tuple[float, ...] = (6.0, 5.0, 4.0, 3.5),
        n_cells: int = 4,
        orientations: int = 8,
        n_init: int = 4,
        jitter: float = 1.0,
        alphas: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
        holdout: float = 0.2,
        flip: bool = True,
        pca_dims: int = 600,
        pca_sample: int = 1500,
    ) -> None:
        super().__init__(work_size)
        if n_stages < 1:
            raise ValueError(f"n_stages must be at least 1, got {n_stages}")
        if not cells or min(cells) <= 0:
            raise ValueError(f"cells must be positive, got {cells}")
        if n_init < 1:
            raise ValueError(f"n_init must be at least 1, got {n_init}")
        if not 0 < holdout < 1:
            raise ValueError(f"holdout must be in (0, 1), got {holdout}")
        self.n_stages = int(n_stages)
        self.cells = tuple(float(c) for c in cells)
        self.n_cells, self.orientations = int(n_cells), int(orientations)
        self.n_init, self.jitter = int(n_init), float(jitter)
        self.alphas = tuple(float(a) for a in alphas)
        self.holdout = float(holdout)
        self.flip = bool(flip)
        self.pca_dims = int(pca_dims)
        self.pca_sample = int(pca_sample)

    def get_params(self) -> dict[str, Any]:
        return {
            "work_size": self.work_size, "n_stages": self.n_stages, "cells": list(self.cells),
            "n_cells": self.n_cells, "orientations": self.orientations, "n_init": self.n_init,
            "jitter": self.jitter, "alphas": list(self.alphas), "holdout": self.holdout, "flip": self.flip,
            "pca_dims": self.pca_dims, "pca_sample": self.pca_sample,
        }

    def _cell(self, stage: int) -> float:
        return self.cells[min(stage, len(self.cells) - 1)]

    def features(self, work: np.ndarray, shapes: np.ndarray, stage: int) -> np.ndarray:
        """Stacked descriptors ``(S, K * D)`` of one working image at ``S`` shapes ``(S, K, 2)``."""
        d = hog_at_points(work, shapes, cell=self._cell(stage), n_cells=self.n_cells,
                          orientations=self.orientations)
        return d.reshape(len(shapes), -1)

    # -- training ---------------------------------------------------------------------
    def _fit(self, works, kp_work, groups, deadline: Deadline, rng, progress) -> None:
        works, target, groups = self._regression_set(works, kp_work, groups, 2, self.flip)
        n = len(works)
        mean = target.mean(0)
        self.init_shape = mean
        starts = self._initial_shapes(target, mean, rng)  # (n, n_init, K, 2)
        held = group_holdout(groups, self.holdout, rng)
        held_rows = np.repeat(held, self.n_init)
        cur = starts.reshape(n * self.n_init, -1, 2)
        goal = np.repeat(target, self.n_init, axis=0)
        weights, biases, cells, log = [], [], [], []
        per = self.n_init
        active = np.arange(n)  # images whose samples the current stage learns from
        stage_time = 0.0
        for t in range(self.n_stages):
            if t > 0:
                active = self._affordable(active, stage_time, self.n_stages - t, held, deadline, rng)
                if active is None:
                    break  # not even a small subset of images would fit in the budget
            t0 = deadline.elapsed
            rows = (active[:, None] * per + np.arange(per)).ravel()

            def descriptors(idx: np.ndarray, cur=cur, t=t) -> np.ndarray:
                return np.concatenate([self.features(works[i], cur[i * per : (i + 1) * per], t) for i in idx])

            # PCA of the descriptors (from a random subset of images) first: ridge on
            # thousands of HOG dimensions would cost minutes per stage. The final update
            # is still one linear map of the descriptors.
            sub = rng.permutation(active)[: max(2, -(-self.pca_sample // per))]
            mu, basis = pca_basis(descriptors(sub), self.pca_dims, rng, n_sample=self.pca_sample)
            z = np.empty((len(rows), basis.shape[1]), np.float32)
            chunks = np.array_split(np.arange(len(active)), max(1, len(active) // 64))
            for idx in progress_bar(chunks, progress, f"sdm: stage {t + 1} features"):
                z[idx[0] * per : (idx[-1] + 1) * per] = (descriptors(active[idx]) - mu) @ basis
            y = (goal[rows] - cur[rows]).reshape(len(rows), -1)
            alpha, errs = select_ridge(z, y, held_rows[rows], np.array(self.alphas))
            wz, bz = ridge_fit(z, y, alpha)
            w = basis @ wz
            b = bz - mu @ w  # the same update as a map of the raw descriptors
            before = float(np.sqrt(np.mean(np.sum((goal[rows] - cur[rows]) ** 2, -1))))
            cur[rows] += (z @ wz + bz).reshape(-1, cur.shape[1], 2)
            after = float(np.sqrt(np.mean(np.sum((goal[rows] - cur[rows]) ** 2, -1))))
            weights.append(w.astype(np.float32))
            biases.append(b.astype(np.float32))
            cells.append(self._cell(t))
            log.append({"stage": t + 1, "images": int(len(active)), "alpha": alpha,
                        "rms_before_px": round(before, 4), "rms_after_px": round(after, 4),
                        "held_out_mse": [round(float(e), 5) for e in errs]})
            stage_time = deadline.elapsed - t0
        self.stage_weights = np.stack(weights)
        self.stage_bias = np.stack(biases)
        self.stage_cells = np.array(cells)
        self.train_info.update(stages=log, n_samples=int(len(cur)), images_used=int(n))

    @staticmethod
    def _affordable(active, stage_time, stages_left, held, deadline: Deadline, rng, min_images: int = 100):
        """The images the next stage can use so that all ``stages_left`` stages fit the budget.

        The cascade degrades more gracefully from fewer samples in late stages
        than from missing stages, so when time runs short later stages learn
        from a random subset of the images (the subsets are nested, so each
        sample's current shape stays known). ``None`` when not even
        ``min_images`` would fit.
        """
        if deadline.seconds is None:
            return active
        left = 0.9 * deadline.seconds - deadline.elapsed
        per_image = 1.15 * stage_time / len(active)  # with a margin
        n_fit = int(left / (stages_left * per_image)) if left > 0 else 0
        if n_fit >= len(active):
            return active
        if n_fit < min(min_images, len(active)):
            return None
        keep = np.sort(rng.permutation(active)[:n_fit])
        if held[keep].all() or not held[keep].any():
            return None  # the penalty could not be chosen on held-out people
        return keep

    def _initial_shapes(self, target: np.ndarray, mean: np.ndarray, rng) -> np.ndarray:
        """The mean shape, and copies moved by random similarities like the true faces' spread."""
        n = len(target)
        centre = mean.mean(0)
        params = np.array([
            self._similarity_params(*similarity_transform(mean - centre, s - centre)) for s in target
        ])
        spread = params.std(0) * self.jitter  # log-scale, angle, centre shift x, y
        out = np.repeat(mean[None, None], self.n_init, axis=1).repeat(n, axis=0)
        for j in range(1, self.n_init):
            draw = rng.normal(size=(n, 4)) * spread
            for i in range(n):
                s, a = np.exp(draw[i, 0]), draw[i, 1]
                A = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
                out[i, j] = apply_similarity(mean - centre, A, centre + draw[i, 2:])
        return out

    @staticmethod
    def _similarity_params(A: np.ndarray, t: np.ndarray) -> np.ndarray:
        return np.array([np.log(np.hypot(A[0, 0], A[1, 0])), np.arctan2(A[1, 0], A[0, 0]), t[0], t[1]])

    # -- inference --------------------------------------------------------------------
    def cascade(self, work: np.ndarray) -> np.ndarray:
        """Shapes ``(n_stages + 1, K, 2)`` in working px: the mean shape, then after each stage."""
        x = self.init_shape.copy()
        out = [x.copy()]
        for t in range(len(self.stage_weights)):
            f = hog_at_points(work, x, cell=float(self.stage_cells[t]), n_cells=self.n_cells,
                              orientations=self.orientations).reshape(1, -1)
            x = x + (f @ self.stage_weights[t] + self.stage_bias[t]).reshape(x.shape)
            out.append(x.copy())
        return np.stack(out)

    def explain(self, image: np.ndarray, box: Any = None) -> dict[str, Any]:
        """The cascade on one image in image pixels: ``{"stages": (T + 1, K, 2)}`` (for drawing)."""
        from kplearn.classical.localiser import check_boxes, check_images, crop_to_work, from_work

        self._check_fitted()
        images = check_images([image])
        box = check_boxes(None if box is None else [box], images)[0]
        work, m = crop_to_work(images[0], box, self.work_size)
        stages = from_work(self.cascade(work), m)
        return {"stages": stages, "fitted": stages[-1]}

    def _predict_work(self, works: np.ndarray) -> np.ndarray:
        return np.stack([self.cascade(w)[-1] for w in works])
