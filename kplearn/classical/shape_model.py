"""Point distribution model: Procrustes alignment and a PCA shape model.

A shape is a ``(K, 2)`` array of points. Shapes differ by where the object
sits (a similarity transform: scale, rotation, translation) and by how it is
deformed. :func:`generalized_procrustes` removes the similarity part;
:class:`ShapeModel` describes what is left with a few principal components, so
that any plausible shape is ``T(mean + modes @ b)`` with each coefficient
``|b_i| <= clamp * sqrt(eigenvalue_i)``. Projecting a noisy shape onto the model
is what keeps a constrained local model (CLM) from drifting into shapes no
face has.

Examples
--------
>>> import numpy as np
>>> square = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1]])
>>> A, t = similarity_transform(square, 2 * square + 5)
>>> np.allclose(A, [[2, 0], [0, 2]]), np.allclose(t, [5, 5])
(True, True)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "similarity_transform",
    "apply_similarity",
    "generalized_procrustes",
    "ShapeModel",
]


def _check_shape(points: np.ndarray, what: str) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 2:
        raise ValueError(f"{what}: expected a (K, 2) shape with K >= 2, got {np.shape(points)}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{what}: contains NaN or infinite coordinates")
    return p


def similarity_transform(
    source: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares similarity ``(A, t)`` with ``A @ source_k + t ≈ target_k``.

    ``A = [[a, -b], [b, a]]`` (scale and rotation, no reflection); ``weights``
    (``K``, non-negative) weight each point's squared error.
    """
    src = _check_shape(source, "source")
    dst = _check_shape(target, "target")
    if src.shape != dst.shape:
        raise ValueError(f"source {src.shape} and target {dst.shape} differ in shape")
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(src),) or np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise ValueError("weights: expected K non-negative finite values with a positive sum")
    return _similarity(src, dst, w / w.sum())


def _similarity(src: np.ndarray, dst: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`similarity_transform` without the checks; ``w`` sums to 1."""
    mu_s, mu_d = w @ src, w @ dst
    s, d = src - mu_s, dst - mu_d
    norm = w @ (s * s).sum(1)
    if norm <= 1e-24:
        raise ValueError("source: all (weighted) points coincide; the transform is undefined")
    a = w @ (s * d).sum(1) / norm
    b = w @ (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]) / norm
    A = np.array([[a, -b], [b, a]])
    return A, mu_d - A @ mu_s


def apply_similarity(points: np.ndarray, A: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``A @ p + t`` for each point of a ``(..., 2)`` array."""
    return np.asarray(points, dtype=np.float64) @ np.asarray(A).T + np.asarray(t)


def _normalise(shape: np.ndarray) -> np.ndarray:
    c = shape - shape.mean(0)
    return c / np.linalg.norm(c)


def generalized_procrustes(
    shapes: np.ndarray, weights: np.ndarray | None = None, n_iter: int = 20, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Align ``(N, K, 2)`` shapes to their common mean.

    Returns ``(mean, aligned)``: the mean is centred with unit Frobenius norm
    and its orientation follows the first shape; ``aligned`` are the shapes
    after their best similarity onto the mean. ``weights`` ``(N, K)`` (e.g.
    visibility) down-weight points in the alignment; a zero-weight point is
    moved with its shape but does not pull on the fit or the mean.
    """
    s = np.asarray(shapes, dtype=np.float64)
    if s.ndim != 3 or s.shape[2] != 2 or s.shape[0] < 1:
        raise ValueError(f"shapes: expected (N, K, 2), got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("shapes: contain NaN or infinite coordinates")
    w = np.ones(s.shape[:2]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != s.shape[:2]:
        raise ValueError(f"weights: expected {s.shape[:2]}, got {w.shape}")
    if np.any(w < 0) or np.any(w.sum(1) <= 0):
        raise ValueError("weights: must be non-negative with a positive sum for every shape")
    wn = w / w.sum(1, keepdims=True)
    mu = np.einsum("nk,nkd->nd", wn, s)
    c = s - mu[:, None]
    norm = np.einsum("nk,nkd->n", wn, c * c)
    if np.any(norm <= 1e-24):
        raise ValueError(f"shapes: shape {int(np.argmax(norm <= 1e-24))} has all its points at one place")
    mean = _normalise(s[0])
    aligned = s.copy()
    for _ in range(n_iter):
        # All shapes at once: the closed-form similarity of each onto the mean.
        centre = wn @ mean
        md = mean[None] - centre[:, None]
        a = np.einsum("nk,nkd->n", wn, c * md) / norm
        b = np.einsum("nk,nk->n", wn, c[..., 0] * md[..., 1] - c[..., 1] * md[..., 0]) / norm
        aligned[..., 0] = a[:, None] * c[..., 0] - b[:, None] * c[..., 1]
        aligned[..., 1] = b[:, None] * c[..., 0] + a[:, None] * c[..., 1]
        aligned += centre[:, None]
        wsum = w.sum(0)
        new = np.where(wsum[:, None] > 0, (w[..., None] * aligned).sum(0) / np.maximum(wsum, 1e-12)[:, None], mean)
        # Keep the mean's orientation and scale fixed to the current one (avoids drift).
        A, t = similarity_transform(new, mean)
        new = _normalise(apply_similarity(new, A, t))
        change = np.linalg.norm(new - mean)
        mean = new
        if change < tol:
            break
    return mean, aligned


class ShapeModel:
    """PCA shape model ``x = T(mean + modes @ b)``.

    Parameters
    ----------
    variance : float
        Keep the fewest modes that explain this fraction of the shape variance.
    n_modes : int, optional
        Keep exactly this many modes (overrides ``variance``).
    clamp : float
        Coefficients are clamped to ``±clamp * sqrt(eigenvalue)``.

    Attributes (after :meth:`fit`)
    ------------------------------
    mean : (K, 2) centred, unit-norm mean shape.
    modes : (2K, n) orthonormal deformation modes (row-major ``x0, y0, x1, ...``),
        orthogonal to the similarity transforms of the mean, so that pose and
        deformation do not mix.
    eigenvalues : (n,) variance of each mode's coefficient.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(size=(10, 2))
    >>> shapes = base + 0.05 * rng.normal(size=(50, 10, 2))
    >>> model = ShapeModel(n_modes=3).fit(shapes)
    >>> fitted = model.project(shapes[0]).shape
    >>> fitted == (10, 2)
    True
    """

    def __init__(self, variance: float = 0.95, n_modes: int | None = None, clamp: float = 3.0) -> None:
        if not 0.0 < variance <= 1.0:
            raise ValueError(f"variance must be in (0, 1], got {variance}")
        if n_modes is not None and n_modes < 0:
            raise ValueError(f"n_modes must be >= 0, got {n_modes}")
        if not clamp > 0:
            raise ValueError(f"clamp must be positive, got {clamp}")
        self.variance = float(variance)
        self.n_modes = n_modes
        self.clamp = float(clamp)
        self.mean: np.ndarray | None = None
        self.modes: np.ndarray | None = None
        self.eigenvalues: np.ndarray | None = None

    @property
    def num_keypoints(self) -> int:
        self._check_fitted()
        return self.mean.shape[0]

    def fit(self, shapes: np.ndarray, weights: np.ndarray | None = None) -> ShapeModel:
        """Align ``(N, K, 2)`` training shapes and find their principal deformation modes.

        Points with weight 0 (unlabelled) are filled in from the aligned mean
        before PCA.
        """
        s = np.asarray(shapes, dtype=np.float64)
        if s.ndim != 3 or s.shape[0] < 2:
            raise ValueError(f"shapes: need at least two (K, 2) shapes, got {s.shape}")
        mean, aligned = generalized_procrustes(s, weights)
        if weights is not None:
            miss = np.asarray(weights) <= 0
            aligned[miss] = np.broadcast_to(mean, aligned.shape)[miss]
        # Tangent-space projection, then remove any similarity component left.
        scale = np.einsum("nkd,kd->n", aligned, mean)
        dev = (aligned / scale[:, None, None] - mean).reshape(len(s), -1)
        sim = self._similarity_basis(mean)
        dev -= (dev @ sim) @ sim.T
        _, sv, vt = np.linalg.svd(dev, full_matrices=False)
        eig = sv**2 / max(len(s) - 1, 1)
        keep = eig > 1e-12 * max(eig.max(initial=0.0), 1e-300)
        eig, vt = eig[keep], vt[keep]
        if self.n_modes is not None:
            n = min(self.n_modes, len(eig))
        else:
            frac = np.cumsum(eig) / max(eig.sum(), 1e-300)
            n = int(np.searchsorted(frac, self.variance - 1e-12) + 1) if len(eig) else 0
            n = min(n, len(eig))
        self.mean = mean
        self.modes = vt[:n].T.copy()
        self.eigenvalues = eig[:n].copy()
        return self

    @staticmethod
    def _similarity_basis(mean: np.ndarray) -> np.ndarray:
        """Orthonormal (2K, 4) basis of infinitesimal similarity changes of ``mean``."""
        k = len(mean)
        rot = np.stack([-mean[:, 1], mean[:, 0]], 1)
        tx = np.tile([1.0, 0.0], k)
        ty = np.tile([0.0, 1.0], k)
        q, _ = np.linalg.qr(np.stack([mean.ravel(), rot.ravel(), tx, ty], 1))
        return q

    def n_modes_for(self, variance: float) -> int:
        """Fewest leading modes explaining ``variance`` of the shape variance this model was fitted on.

        The fraction is of the variance the kept modes explain, so ``1.0`` means all kept modes.
        """
        self._check_fitted()
        if not 0.0 < variance <= 1.0:
            raise ValueError(f"variance must be in (0, 1], got {variance}")
        if not len(self.eigenvalues):
            return 0
        frac = np.cumsum(self.eigenvalues) / self.eigenvalues.sum()
        return int(min(np.searchsorted(frac, variance - 1e-12) + 1, len(frac)))

    def truncated(self, n_modes: int) -> ShapeModel:
        """The same model with only its first ``n_modes`` modes (a stronger prior)."""
        self._check_fitted()
        out = ShapeModel(self.variance, n_modes, self.clamp)
        out.mean = self.mean
        out.modes = self.modes[:, :n_modes]
        out.eigenvalues = self.eigenvalues[:n_modes]
        return out

    def shape(self, b: np.ndarray, A: np.ndarray | None = None, t: np.ndarray | None = None) -> np.ndarray:
        """The shape ``T(mean + modes @ b)`` (identity transform when ``A``/``t`` are None)."""
        self._check_fitted()
        x = self.mean + (self.modes @ np.asarray(b, dtype=np.float64)).reshape(-1, 2)
        if A is None:
            return x
        return apply_similarity(x, A, np.zeros(2) if t is None else t)

    def clamp_coefficients(self, b: np.ndarray) -> np.ndarray:
        """``b`` clipped to ``±clamp * sqrt(eigenvalues)``."""
        self._check_fitted()
        lim = self.clamp * np.sqrt(self.eigenvalues)
        return np.clip(b, -lim, lim)

    def fit_shape(
        self, points: np.ndarray, weights: np.ndarray | None = None, n_iter: int = 50, tol: float = 1e-10
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Best model parameters for ``points``: ``(b, A, t)`` with clamped ``b``.

        Alternates a (weighted) similarity fit of the current model shape to
        the points with a (weighted) least-squares update of the clamped
        coefficients, until the coefficients stop changing.
        """
        self._check_fitted()
        y = _check_shape(points, "points")
        if y.shape != self.mean.shape:
            raise ValueError(f"points: expected shape {self.mean.shape} for this model, got {y.shape}")
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(y),) or np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
            raise ValueError("weights: expected K non-negative finite values with a positive sum")
        w2 = np.repeat(w, 2)
        phi = self.modes
        # Weighted normal equations; the tiny ridge only guards modes no weighted point sees.
        gram = phi.T @ (w2[:, None] * phi) + 1e-9 * w.mean() * np.eye(phi.shape[1])
        wn = w / w.sum()
        b = np.zeros(phi.shape[1])
        lim = self.clamp * np.sqrt(self.eigenvalues)
        for _ in range(n_iter):
            A, t = _similarity(self.shape(b), y, wn)
            y_model = (y - t) @ np.linalg.inv(A).T
            resid = (y_model - self.mean).ravel()
            b_new = np.clip(np.linalg.solve(gram, phi.T @ (w2 * resid)), -lim, lim) if len(b) else b
            done = np.linalg.norm(b_new - b) < tol
            b = b_new
            if done:
                break
        A, t = _similarity(self.shape(b), y, wn)
        return b, A, t

    def project(
        self, points: np.ndarray, weights: np.ndarray | None = None, n_iter: int = 50, tol: float = 1e-10
    ) -> np.ndarray:
        """The closest plausible shape: ``points`` fitted by the model, ``(K, 2)``."""
        b, A, t = self.fit_shape(points, weights, n_iter, tol)
        return self.shape(b, A, t)

    def _check_fitted(self) -> None:
        if self.mean is None:
            raise ValueError("ShapeModel is not fitted; call fit() first")
