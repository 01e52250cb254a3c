"""HOG + linear SVM keypoint localiser with a PCA shape prior (a constrained local model).

The recipe, one keypoint at a time:

1. **Features.** Histograms of oriented gradients (HOG) of a square patch
   centred on a candidate position. :func:`dense_hog` gives the same numbers
   as :func:`skimage.feature.hog` (``feature_vector=False``), vectorised.
2. **Patch experts.** For each keypoint a linear SVM (scikit-learn) separates
   patches centred on the keypoint from patches centred elsewhere, sampled
   near (the hard cases) and far (:func:`random_negative_windows`); rounds of
   *hard-negative mining* add the false positives that score highest
   (:func:`hard_negative_windows`). Lesson 3 runs the same steps one by one
   (:func:`kplearn.classical.localiser.work_frames`, :func:`window_features_at`,
   :func:`sample_negative_centres`, :func:`hard_negatives`).
3. **Dense response maps.** HOG is computed *once* per image (on a few
   shifted copies, for a finer stride than one cell); a linear SVM applied
   to every window is then a correlation of its weights with the block grid
   (:func:`response_maps`), not one HOG call per window. A logistic
   calibration turns scores into probabilities.
4. **Fitting.** Each keypoint's peak inside its search region (placed by
   the mean shape in the face box) is its independent guess — the answer
   with the prior switched off. With the prior, the mean shape is first
   aligned to those peaks by a robust similarity fit (wrong peaks get no
   weight); then each point moves to the response-weighted mean of its
   neighbourhood (mean shift) and the shape is projected onto the PCA shape
   model (:mod:`kplearn.classical.shape_model`), with a shrinking
   neighbourhood and more shape modes as it shrinks — regularised landmark
   mean shift (one step: :func:`mean_shift_targets`, one iteration:
   :meth:`HogSvmLocaliser.mean_shift_step`; lesson 3 draws one).

All of it runs in a square *working frame* (the face box resized to
``work_size`` pixels; see :mod:`kplearn.classical.localiser`).

Examples
--------
>>> import numpy as np
>>> from skimage.feature import hog
>>> img = np.random.default_rng(0).random((32, 40)).astype(np.float32)
>>> np.allclose(dense_hog(img, cell=4), hog(img, 9, (4, 4), (2, 2), feature_vector=False), atol=1e-5)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kplearn._checks import check_grey_float
from kplearn.classical.localiser import ClassicalLocaliser, Deadline, progress_bar
from kplearn.classical.shape_model import ShapeModel

__all__ = [
    "hog_cells",
    "hog_blocks",
    "dense_hog",
    "hog_at_points",
    "HogGrid",
    "response_maps",
    "window_features",
    "window_features_at",
    "sample_negative_centres",
    "random_negative_windows",
    "hard_negative_windows",
    "hard_negatives",
    "refine_peak",
    "mean_shift_targets",
    "platt_scaling",
    "HogSvmLocaliser",
    "HogSvmNoPriorLocaliser",
]


# ----------------------------------------------------------------------------------------
# HOG features
# ----------------------------------------------------------------------------------------
def _gradients(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences along rows and columns, zero on the border (as scikit-image)."""
    g_row = np.zeros_like(image)
    g_col = np.zeros_like(image)
    g_row[1:-1, :] = image[2:, :] - image[:-2, :]
    g_col[:, 1:-1] = image[:, 2:] - image[:, :-2]
    return g_row, g_col


def hog_cells(image: np.ndarray, cell: int = 4, orientations: int = 9) -> np.ndarray:
    """Unsigned orientation histograms of the ``cell × cell`` cells of a grey image.

    Each pixel votes its gradient magnitude into the one bin (of ``orientations``
    over 0–180°) holding its orientation, and each cell's histogram is divided
    by its pixel count, as in :func:`skimage.feature.hog`. Pixels beyond the
    last whole cell are ignored.

    Returns
    -------
    ndarray, shape (H // cell, W // cell, orientations)
    """
    img = check_grey_float(image)
    if cell < 1 or orientations < 1:
        raise ValueError(f"cell and orientations must be positive, got {cell}, {orientations}")
    ny, nx = img.shape[0] // cell, img.shape[1] // cell
    if ny < 1 or nx < 1:
        raise ValueError(f"image {img.shape} is smaller than one {cell}×{cell} cell")
    g_row, g_col = _gradients(img)
    g_row = g_row[: ny * cell, : nx * cell].astype(np.float64)
    g_col = g_col[: ny * cell, : nx * cell].astype(np.float64)
    mag = np.hypot(g_col, g_row)
    ori = np.rad2deg(np.arctan2(g_row, g_col)) % 180
    b = np.minimum((ori / (180.0 / orientations)).astype(np.int64), orientations - 1)
    rows = np.arange(ny * cell) // cell
    cols = np.arange(nx * cell) // cell
    idx = ((rows[:, None] * nx + cols[None, :]) * orientations + b).ravel()
    hist = np.bincount(idx, weights=mag.ravel(), minlength=ny * nx * orientations)
    return hist.reshape(ny, nx, orientations) / (cell * cell)


def hog_blocks(cells: np.ndarray, block: int = 2, eps: float = 1e-5) -> np.ndarray:
    """Overlapping ``block × block`` groups of cells, each L2-Hys normalised.

    Returns ``(ny - block + 1, nx - block + 1, block, block, orientations)``, the
    layout of ``skimage.feature.hog(..., feature_vector=False)``.
    """
    ny, nx, n = cells.shape
    if ny < block or nx < block:
        raise ValueError(f"need at least {block}×{block} cells for one block, got {ny}×{nx}")
    win = sliding_window_view(cells, (block, block), axis=(0, 1))  # (by, bx, n, block, block)
    blocks = np.ascontiguousarray(win.transpose(0, 1, 3, 4, 2))
    flat = blocks.reshape(blocks.shape[0], blocks.shape[1], -1)
    flat = flat / np.sqrt(np.sum(flat**2, axis=-1, keepdims=True) + eps**2)
    flat = np.minimum(flat, 0.2)
    flat = flat / np.sqrt(np.sum(flat**2, axis=-1, keepdims=True) + eps**2)
    return flat.reshape(blocks.shape)


def dense_hog(image: np.ndarray, cell: int = 4, orientations: int = 9, block: int = 2) -> np.ndarray:
    """HOG block descriptors of the whole image, equal to scikit-image's.

    Same numbers as ``skimage.feature.hog(image, orientations, (cell, cell),
    (block, block), block_norm="L2-Hys", feature_vector=False)`` (tested), in
    a fraction of the time. Returns ``(by, bx, block, block, orientations)``.
    """
    return hog_blocks(hog_cells(image, cell, orientations), block)


def _tent(cell: float) -> np.ndarray:
    r = int(np.ceil(cell)) - 1
    k = 1.0 - np.abs(np.arange(-r, r + 1)) / cell
    return (k / k.sum()).astype(np.float32)


def hog_at_points(
    image: np.ndarray,
    points: np.ndarray,
    cell: float = 4.0,
    n_cells: int = 4,
    orientations: int = 8,
    signed: bool = True,
) -> np.ndarray:
    """A HOG (SIFT-like) descriptor at each of any number of sub-pixel points.

    Orientation channels (each gradient split linearly between its two nearest
    bins) are pooled with a tent filter of half-width ``cell`` — bilinear
    spatial binning, as in SIFT — once per image; each descriptor samples them
    at the ``n_cells × n_cells`` cell centres around its point, then is
    L2-normalised, clipped at 0.2 and renormalised. Sampling outside the image
    repeats the border. Rotation is not normalised.

    Parameters
    ----------
    image : (H, W) float grey image.
    points : (..., 2) ``x, y`` in pixels.

    Returns
    -------
    ndarray, shape (..., n_cells * n_cells * orientations), float32

    Examples
    --------
    >>> img = np.random.default_rng(0).random((40, 40)).astype(np.float32)
    >>> hog_at_points(img, np.array([[20.0, 20.0], [10.5, 30.2]])).shape
    (2, 128)
    """
    img = check_grey_float(image).astype(np.float32)
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape[-1] != 2 or not np.all(np.isfinite(pts)):
        raise ValueError(f"points: expected finite (..., 2) coordinates, got shape {pts.shape}")
    h, w = img.shape
    g_row, g_col = _gradients(img)
    mag = np.hypot(g_col, g_row)
    span = 360.0 if signed else 180.0
    ori = np.rad2deg(np.arctan2(g_row, g_col)) % span
    pos = ori / (span / orientations) - 0.5  # bin centres at integers
    lo = np.floor(pos)
    frac = (pos - lo).astype(np.float32)
    lo = lo.astype(np.int64) % orientations
    hi = (lo + 1) % orientations
    pix = np.arange(h * w).reshape(h, w)
    chan = np.bincount(
        np.concatenate([(pix * orientations + lo).ravel(), (pix * orientations + hi).ravel()]),
        weights=np.concatenate([(mag * (1 - frac)).ravel(), (mag * frac).ravel()]),
        minlength=h * w * orientations,
    ).astype(np.float32).reshape(h, w, orientations)
    k = _tent(cell)
    # OpenCV filters at most 4 channels at a time.
    pooled = np.concatenate([
        cv2.sepFilter2D(np.ascontiguousarray(chan[..., i : i + 4]), -1, k, k, borderType=cv2.BORDER_REPLICATE)
        .reshape(h, w, -1)
        for i in range(0, orientations, 4)
    ], -1)
    offs = (np.arange(n_cells) - (n_cells - 1) / 2) * cell
    oy, ox = np.meshgrid(offs, offs, indexing="ij")
    flat_pts = pts.reshape(-1, 2)
    sx = np.clip(flat_pts[:, None, 0] + ox.ravel()[None], 0, w - 1)
    sy = np.clip(flat_pts[:, None, 1] + oy.ravel()[None], 0, h - 1)
    x0 = np.minimum(np.floor(sx).astype(np.int64), w - 2 if w > 1 else 0)
    y0 = np.minimum(np.floor(sy).astype(np.int64), h - 2 if h > 1 else 0)
    fx = (sx - x0)[..., None].astype(np.float32)
    fy = (sy - y0)[..., None].astype(np.float32)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    desc = (
        pooled[y0, x0] * (1 - fx) * (1 - fy)
        + pooled[y0, x1] * fx * (1 - fy)
        + pooled[y1, x0] * (1 - fx) * fy
        + pooled[y1, x1] * fx * fy
    ).reshape(len(flat_pts), -1)
    desc /= np.sqrt(np.sum(desc**2, axis=1, keepdims=True)) + 1e-7
    np.minimum(desc, 0.2, out=desc)
    desc /= np.sqrt(np.sum(desc**2, axis=1, keepdims=True)) + 1e-7
    return desc.reshape(pts.shape[:-1] + (desc.shape[-1],))


# ----------------------------------------------------------------------------------------
# Dense HOG on a grid of windows, and the SVM as a correlation over it
# ----------------------------------------------------------------------------------------
class HogGrid:
    """Geometry of the dense window grid over a padded working image.

    The working image (``work_size`` square) is padded by ``margin`` pixels
    (border repeated) so that windows can centre on points near or just
    outside its edge. HOG is computed once on each of ``n_shifts²`` copies
    shifted by multiples of ``cell / n_shifts`` pixels, which gives window
    centres every ``stride = cell / n_shifts`` pixels. A window spans
    ``patch_cells`` cells (``patch_cells - 1`` blocks of 2×2 cells) and its
    centre in working coordinates for grid index ``g`` is
    ``origin + stride * g`` on each axis.
    """

    def __init__(
        self, work_size: int, cell: int = 4, patch_cells: int = 6, orientations: int = 9, n_shifts: int = 2
    ) -> None:
        if cell % n_shifts:
            raise ValueError(f"cell ({cell}) must be a multiple of n_shifts ({n_shifts})")
        if patch_cells < 3:
            raise ValueError(f"patch_cells must be at least 3, got {patch_cells}")
        self.work_size = int(work_size)
        self.cell = int(cell)
        self.patch_cells = int(patch_cells)
        self.orientations = int(orientations)
        self.n_shifts = int(n_shifts)
        self.stride = self.cell // self.n_shifts
        self.patch = self.cell * self.patch_cells
        self.margin = self.patch // 2 + self.cell
        self.win_blocks = self.patch_cells - 1
        self.feature_size = self.win_blocks**2 * 4 * self.orientations
        padded = self.work_size + 2 * self.margin
        self.n_cells = (padded - (self.cell - self.stride)) // self.cell
        self.n_blocks = self.n_cells - 1
        self.n_windows = self.n_blocks - self.win_blocks + 1
        self.size = self.n_windows * self.n_shifts
        self.origin = self.patch / 2 - 0.5 - self.margin

    def centres(self) -> np.ndarray:
        """Working-frame coordinate of each grid index (same on both axes)."""
        return self.origin + self.stride * np.arange(self.size)

    def index_of(self, coords: np.ndarray) -> np.ndarray:
        """Nearest grid index of working coordinates (may fall outside ``[0, size)``)."""
        return np.rint((np.asarray(coords) - self.origin) / self.stride).astype(np.int64)

    def blocks(self, work: np.ndarray) -> np.ndarray:
        """Block descriptors of every shifted copy: ``(n_shifts, n_shifts, nb, nb, 4 * orientations)``."""
        if work.shape != (self.work_size, self.work_size):
            raise ValueError(f"working image must be {self.work_size}², got {work.shape}")
        m = self.margin
        padded = cv2.copyMakeBorder(work, m, m, m, m, cv2.BORDER_REPLICATE)
        side = self.n_cells * self.cell
        out = np.empty((self.n_shifts, self.n_shifts, self.n_blocks, self.n_blocks, 4 * self.orientations),
                       np.float32)
        for a in range(self.n_shifts):
            for b in range(self.n_shifts):
                sy, sx = a * self.stride, b * self.stride
                crop = padded[sy : sy + side, sx : sx + side]
                out[a, b] = dense_hog(crop, self.cell, self.orientations).reshape(
                    self.n_blocks, self.n_blocks, -1
                )
        return out

    def split_index(self, gy: np.ndarray, gx: np.ndarray) -> tuple[np.ndarray, ...]:
        """Grid index -> (shift_y, shift_x, block_row, block_col) of the window's first block."""
        gy, gx = np.asarray(gy), np.asarray(gx)
        return gy % self.n_shifts, gx % self.n_shifts, gy // self.n_shifts, gx // self.n_shifts


def window_features(
    blocks: np.ndarray, grid: HogGrid, gy: np.ndarray, gx: np.ndarray, images: np.ndarray | None = None
) -> np.ndarray:
    """Feature vectors ``(P, feature_size)`` of the windows at grid indices ``(gy, gx)``.

    ``blocks`` is one image's :meth:`HogGrid.blocks` output, or with ``images``
    (the image index of each window) a stack ``(N, ...)`` of them; the features
    are the window's blocks in row-major order, the order of
    ``skimage.feature.hog(patch).ravel()``.
    """
    a, b, i, j = grid.split_index(gy, gx)
    wb = grid.win_blocks
    if images is None:
        win = sliding_window_view(blocks, (wb, wb), axis=(2, 3))  # (ns, ns, nw, nw, F, wb, wb)
        feats = win[a, b, i, j]  # (P, F, wb, wb)
    else:
        win = sliding_window_view(blocks, (wb, wb), axis=(3, 4))  # (N, ns, ns, nw, nw, F, wb, wb)
        feats = win[np.asarray(images, np.int64), a, b, i, j]
    return np.ascontiguousarray(feats.transpose(0, 2, 3, 1)).reshape(len(feats), -1).astype(np.float32)


def window_features_at(blocks: Sequence[np.ndarray], grid: HogGrid, centres: np.ndarray) -> np.ndarray:
    """HOG window features centred on given points, image by image.

    Parameters
    ----------
    blocks : sequence of ndarray
        :meth:`HogGrid.blocks` of each image.
    grid : HogGrid
    centres : ndarray, shape (N, P, 2)
        ``P`` window centres ``x, y`` (working px) per image; each snaps to the
        nearest grid position, clipped to the grid.

    Returns
    -------
    ndarray, shape (N * P, grid.feature_size), float32
        Rows in image order, then point order.

    Examples
    --------
    >>> grid = HogGrid(40)
    >>> blocks = [grid.blocks(np.random.default_rng(0).random((40, 40)).astype(np.float32))]
    >>> window_features_at(blocks, grid, np.array([[[20.0, 20.0], [5.0, 30.0]]])).shape
    (2, 900)
    """
    c = np.asarray(centres, dtype=np.float64)
    if c.ndim != 3 or c.shape[-1] != 2 or len(c) != len(blocks):
        raise ValueError(f"centres: expected shape ({len(blocks)}, P, 2), got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("centres: NaN or infinite coordinates")
    g = np.clip(grid.index_of(c), 0, grid.size - 1)
    return np.concatenate([window_features(b, grid, g[i, :, 1], g[i, :, 0]) for i, b in enumerate(blocks)])


def response_maps(blocks: np.ndarray, grid: HogGrid, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Linear scores ``w_k · x + b_k`` of every window on the grid: ``(K, size, size)``.

    The SVM is applied as a correlation of each weight window (``win_blocks ×
    win_blocks`` blocks) with the block grid of each shifted copy — the same
    numbers as scoring each window's feature vector, at a fraction of the cost.
    """
    ns, wb, nw = grid.n_shifts, grid.win_blocks, grid.n_windows
    k = len(bias)
    w = np.asarray(weights, np.float32).reshape(k, wb, wb, -1)
    out = np.zeros((ns, ns, nw, nw, k), np.float32)
    for a in range(wb):
        for b in range(wb):
            out += blocks[:, :, a : a + nw, b : b + nw, :] @ w[:, a, b, :].T
    out += np.asarray(bias, np.float32)
    # Interleave the shifted copies into one grid with stride cell / n_shifts.
    return out.transpose(4, 2, 0, 3, 1).reshape(k, nw * ns, nw * ns)


def platt_scaling(scores: np.ndarray, labels: np.ndarray, n_iter: int = 50) -> tuple[float, float]:
    """Logistic fit ``P(y = 1 | s) = 1 / (1 + exp(-(a s + b)))`` by Newton's method.

    A small L2 penalty keeps ``a`` finite when the classes are separable.

    Examples
    --------
    >>> s = np.r_[np.linspace(-3, 1, 50), np.linspace(-1, 3, 50)]
    >>> a, b = platt_scaling(s, np.r_[np.zeros(50), np.ones(50)])
    >>> a > 0 and abs(b) < 0.5
    True
    """
    s = np.asarray(scores, np.float64)
    y = np.asarray(labels, np.float64)
    if s.shape != y.shape or s.ndim != 1 or len(s) < 2:
        raise ValueError("scores and labels: expected two 1-D arrays of the same length >= 2")
    x = np.stack([s, np.ones_like(s)], 1)
    theta = np.zeros(2)
    reg = np.diag([1e-3, 0.0])
    for _ in range(n_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -50, 50)))
        grad = x.T @ (p - y) + reg @ theta
        hess = x.T @ (x * (p * (1 - p))[:, None]) + reg + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-9:
            break
    return float(theta[0]), float(theta[1])


def refine_peak(score: np.ndarray, iy: int, ix: int) -> tuple[float, float]:
    """Sub-grid peak position ``(y, x)`` by a parabola through the peak and its neighbours."""
    h, w = score.shape
    y, x = float(iy), float(ix)
    if 0 < iy < h - 1:
        l, c, r = score[iy - 1, ix], score[iy, ix], score[iy + 1, ix]
        den = l - 2 * c + r
        if den < 0:
            y += float(np.clip(0.5 * (l - r) / den, -0.5, 0.5))
    if 0 < ix < w - 1:
        l, c, r = score[iy, ix - 1], score[iy, ix], score[iy, ix + 1]
        den = l - 2 * c + r
        if den < 0:
            x += float(np.clip(0.5 * (l - r) / den, -0.5, 0.5))
    return y, x


def mean_shift_targets(
    maps: np.ndarray,
    grid: HogGrid,
    points: np.ndarray,
    sigma: float,
    lo: np.ndarray | None = None,
    hi: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One mean-shift step on response maps: each point's response-weighted local mean.

    The step of regularised landmark mean shift (Saragih et al. 2011): the
    response of keypoint ``k`` at every grid position near its current point
    ``x_k`` is weighted by a Gaussian of width ``sigma`` around ``x_k``; the
    target is the weighted mean of those positions. Only grid positions
    within ``2 sigma`` (per axis) and inside the search window ``lo..hi`` count.

    Parameters
    ----------
    maps : ndarray, shape (K, G, G)
        Non-negative responses (probabilities) on the grid of ``grid``, ``maps[k, gy, gx]``.
    grid : HogGrid
        The window grid the maps live on (positions :meth:`HogGrid.centres`).
    points : ndarray, shape (K, 2)
        Current ``x, y`` of each keypoint, working px.
    sigma : float
        Kernel width, working px.
    lo, hi : ndarray, shape (K, 2), optional
        Search window of each keypoint in grid indices ``(gx, gy)``, both ends
        included; the whole grid when None.

    Returns
    -------
    targets : ndarray, shape (K, 2)
        The mean-shift targets (a point whose neighbourhood has no response stays put).
    mass : ndarray, shape (K,)
        The total kernel-weighted response behind each target (how much evidence it has).

    Examples
    --------
    >>> grid = HogGrid(40)
    >>> maps = np.zeros((1, grid.size, grid.size))
    >>> gx, gy = grid.index_of(np.array([[24.0, 16.0]]))[0]  # one bright spot near (24, 16)
    >>> maps[0, gy, gx] = 1.0
    >>> targets, mass = mean_shift_targets(maps, grid, np.array([[20.0, 18.0]]), sigma=4.0)
    >>> np.allclose(targets[0], grid.centres()[[gx, gy]]), bool(mass[0] > 0)
    (True, True)
    """
    maps = np.asarray(maps)
    x = np.asarray(points, dtype=np.float64)
    if maps.ndim != 3 or maps.shape[1:] != (grid.size, grid.size) or x.shape != (len(maps), 2):
        raise ValueError(
            f"maps (K, {grid.size}, {grid.size}) and points (K, 2) expected, got {maps.shape} and {x.shape}"
        )
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    k = len(maps)
    lo = np.zeros((k, 2), np.int64) if lo is None else np.asarray(lo)
    hi = np.full((k, 2), grid.size - 1) if hi is None else np.asarray(hi)
    c = grid.centres()
    half = int(np.ceil(2.0 * sigma / grid.stride))
    off = np.arange(-half, half + 1)
    gi = grid.index_of(x)  # (K, 2): gx, gy
    gx = np.clip(gi[:, 0, None] + off[None], lo[:, 0, None], hi[:, 0, None])  # (K, W)
    gy = np.clip(gi[:, 1, None] + off[None], lo[:, 1, None], hi[:, 1, None])
    p = maps[np.arange(k)[:, None, None], gy[:, :, None], gx[:, None, :]]  # (K, W, W)
    ddx = c[gx][:, None, :] - x[:, 0, None, None]
    ddy = c[gy][:, :, None] - x[:, 1, None, None]
    wgt = p * np.exp(-(ddx**2 + ddy**2) / (2 * sigma**2))
    mass = wgt.sum((1, 2))
    targets = np.stack([
        (wgt * c[gx][:, None, :]).sum((1, 2)),
        (wgt * c[gy][:, :, None]).sum((1, 2)),
    ], 1) / np.maximum(mass, 1e-12)[:, None]
    return np.where(mass[:, None] > 1e-12, targets, x), mass


def sample_negative_centres(
    keypoint: Sequence[float],
    n: int,
    min_dist: float,
    max_dist: float,
    rng: np.random.Generator,
    work_size: int,
) -> np.ndarray:
    """``n`` random window centres at ``min_dist``–``max_dist`` px from a keypoint, inside the frame.

    Uniform over the part of the ring that lies in ``[0, work_size - 1]²``
    (rejection sampling from the ring's bounding square): the simple sampler of
    lesson 3, in continuous working pixels. :class:`HogSvmLocaliser` draws its
    random negatives on the window grid instead (:func:`random_negative_windows`).

    Returns
    -------
    ndarray, shape (n, 2)
        ``x, y`` in working pixels.

    Examples
    --------
    >>> c = sample_negative_centres((40.0, 40.0), 5, 4.0, 10.0, np.random.default_rng(0), 80)
    >>> d = np.hypot(*(c - 40.0).T)
    >>> c.shape, bool(np.all((d >= 4) & (d <= 10)))
    ((5, 2), True)
    """
    p = np.asarray(keypoint, dtype=np.float64).reshape(2)
    if not (0 <= min_dist < max_dist and np.all(np.isfinite(p))):
        raise ValueError(f"need 0 <= min_dist < max_dist and a finite keypoint, got {min_dist}, {max_dist}, {p}")
    lo = np.maximum(p - max_dist, 0.0)
    hi = np.minimum(p + max_dist, work_size - 1.0)
    if np.any(lo > hi):
        raise ValueError(f"keypoint {p.tolist()} is more than max_dist outside the {work_size} px frame")
    out = np.zeros((0, 2))
    for _ in range(1000):
        cand = rng.uniform(lo, hi, (max(4 * n, 16), 2))
        d = np.hypot(*(cand - p).T)
        out = np.concatenate([out, cand[(d >= min_dist) & (d <= max_dist)]])
        if len(out) >= n:
            return out[:n]
    raise ValueError(f"no room for negatives {min_dist}-{max_dist} px from {p.tolist()} in the frame")


def random_negative_windows(
    grid: HogGrid,
    keypoints: np.ndarray,
    count: int,
    rng: np.random.Generator,
    *,
    lo: Sequence[int] = (0, 0),
    hi: Sequence[int] | None = None,
    min_dist: float = 0.0,
) -> np.ndarray:
    """Random negative windows on the grid: up to ``count`` per image, ``min_dist`` px from its keypoint.

    ``4 count`` grid positions per image are drawn uniformly in ``[lo, hi]``
    (grid indices ``(gx, gy)``; default the whole grid) and the first ``count``
    at least ``min_dist`` working px from the image's keypoint are kept.

    Parameters
    ----------
    keypoints : ndarray, shape (N, 2)
        One keypoint per image, ``x, y`` in working px.

    Returns
    -------
    ndarray, shape (P, 3), int64
        Rows ``(image, gy, gx)``.

    Examples
    --------
    >>> grid = HogGrid(80)
    >>> rows = random_negative_windows(grid, np.array([[40.0, 40.0]]), 5, np.random.default_rng(0),
    ...                                min_dist=4.0)
    >>> rows.shape, bool(np.all(np.hypot(*(grid.centres()[rows[:, [2, 1]]] - 40.0).T) >= 4.0))
    ((5, 3), True)
    """
    if count <= 0:
        return np.zeros((0, 3), np.int64)
    ref = np.asarray(keypoints, dtype=np.float64)
    hi = (grid.size - 1,) * 2 if hi is None else hi
    n = len(ref)
    c = grid.centres()
    gx = rng.integers(lo[0], hi[0] + 1, size=(n, 4 * count))
    gy = rng.integers(lo[1], hi[1] + 1, size=(n, 4 * count))
    ok = np.hypot(c[gx] - ref[:, 0, None], c[gy] - ref[:, 1, None]) >= min_dist
    # Keep the first `count` acceptable candidates of each image.
    keep = ok & (np.cumsum(ok, axis=1) <= count)
    rows = np.broadcast_to(np.arange(n)[:, None], gx.shape)
    return np.stack([rows[keep], gy[keep], gx[keep]], 1).astype(np.int64)


def hard_negative_windows(
    score: np.ndarray,
    grid: HogGrid,
    keypoint: Sequence[float],
    min_dist: float,
    n: int,
    *,
    lo: Sequence[int] = (0, 0),
    hi: Sequence[int] | None = None,
    min_score: float | None = None,
) -> np.ndarray:
    """The ``n`` highest-scoring windows of one response map that are not the keypoint.

    Windows closer than ``min_dist`` working px to ``keypoint`` are the keypoint
    itself and are skipped; only grid positions in ``[lo, hi]`` (``(gx, gy)``,
    default the whole grid) count, and with ``min_score`` only windows scoring
    above it (for a linear SVM, ``-1``: inside the margin).

    Parameters
    ----------
    score : ndarray, shape (grid.size, grid.size)
        One keypoint's :func:`response_maps` of one image.
    keypoint : (float, float)
        The true keypoint, ``x, y`` in working px.

    Returns
    -------
    ndarray, shape (P, 2), int64
        Grid indices ``(gy, gx)``, best first (``P <= n``).

    Examples
    --------
    >>> grid = HogGrid(40)
    >>> score = np.zeros((grid.size, grid.size)); score[3, 4] = 5.0; score[10, 10] = 9.0
    >>> c = grid.centres()
    >>> hard_negative_windows(score, grid, (c[10], c[10]), 2.0, 1).tolist()  # (10, 10) is the keypoint
    [[3, 4]]
    """
    (x0, y0) = (int(lo[0]), int(lo[1]))
    (x1, y1) = (grid.size - 1,) * 2 if hi is None else (int(hi[0]), int(hi[1]))
    if n <= 0:
        return np.zeros((0, 2), np.int64)
    c = grid.centres()
    sub = np.asarray(score)[y0 : y1 + 1, x0 : x1 + 1]
    far = (c[None, x0 : x1 + 1] - keypoint[0]) ** 2 + (c[y0 : y1 + 1, None] - keypoint[1]) ** 2
    sub = np.where(far >= min_dist**2, sub, -np.inf).ravel()
    n_top = min(int(n), sub.size)
    top = np.argpartition(sub, -n_top)[-n_top:]
    if min_score is not None:
        top = top[sub[top] > min_score]
    top = top[np.argsort(-sub[top], kind="stable")]
    gy, gx = np.divmod(top, x1 - x0 + 1)
    return np.stack([gy + y0, gx + x0], 1).astype(np.int64)


def hard_negatives(
    blocks: Sequence[np.ndarray],
    grid,
    weights: np.ndarray,
    bias: float,
    keypoints: np.ndarray,
    min_dist: float,
    n_per_image: int = 3,
) -> np.ndarray:
    """The highest-scoring *wrong* windows of each image: hard negatives for the next round.

    Scores every window of each image with the linear classifier
    (:func:`response_maps`) and keeps the ``n_per_image`` best windows at least
    ``min_dist`` px from the image's true keypoint (:func:`hard_negative_windows`,
    the selection :class:`HogSvmLocaliser` mines with), as window centres.

    Parameters
    ----------
    blocks : sequence of ndarray
        :meth:`HogGrid.blocks` of each image.
    grid : HogGrid
    weights : ndarray, shape (F,)
    bias : float
    keypoints : ndarray, shape (N, 2)
        The true keypoint of each image (working px).
    min_dist : float
    n_per_image : int

    Returns
    -------
    ndarray, shape (N, n_per_image, 2)
        Window centres ``x, y`` (working px), best first.

    Examples
    --------
    >>> grid = HogGrid(40)
    >>> blocks = [grid.blocks(np.random.default_rng(0).random((40, 40)).astype(np.float32))]
    >>> w = np.random.default_rng(1).normal(size=grid.feature_size)
    >>> hard_negatives(blocks, grid, w, 0.0, np.array([[20.0, 20.0]]), 6.0, 2).shape
    (1, 2, 2)
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.shape != (len(blocks), 2):
        raise ValueError(f"keypoints: expected shape ({len(blocks)}, 2), got {kp.shape}")
    c = grid.centres()
    out = np.zeros((len(blocks), int(n_per_image), 2))
    for i, b in enumerate(blocks):
        score = response_maps(b, grid, np.asarray(weights)[None], np.atleast_1d(bias))[0]
        idx = hard_negative_windows(score, grid, kp[i], min_dist, n_per_image)
        out[i] = np.stack([c[idx[:, 1]], c[idx[:, 0]]], axis=1)
    return out


class _WindowBank:
    """Training images' HOG (float16) and the window features the SVMs learn from."""

    def __init__(self, cache: np.ndarray, grid: HogGrid) -> None:
        self.cache = cache
        self.grid = grid
        self.mu = np.zeros(grid.feature_size, np.float32)
        self.basis: np.ndarray | None = None

    def features(self, rows: np.ndarray) -> np.ndarray:
        """Full HOG window features ``(P, feature_size)`` for rows ``(image, gy, gx)``."""
        r, gy, gx = np.asarray(rows, np.int64).reshape(-1, 3).T
        return window_features(self.cache, self.grid, gy, gx, images=r)

    def fit_pca(self, rows: np.ndarray, dims: int | None) -> None:
        """A PCA basis of window features: the SVMs train several times faster in it, and
        their weights map back to the full HOG space, so scoring is unchanged."""
        if not dims or dims >= self.grid.feature_size:
            return
        x = self.features(rows).astype(np.float64)
        self.mu = x.mean(0).astype(np.float32)
        cov = np.cov(x, rowvar=False)
        _, vecs = np.linalg.eigh(cov)
        self.basis = np.ascontiguousarray(vecs[:, ::-1][:, :dims]).astype(np.float32)

    def train_svm(
        self, pos: np.ndarray, neg: np.ndarray, C: float, solver: str = "liblinear", seed: int = 0
    ) -> tuple[np.ndarray, float]:
        """Linear SVM of positives against negatives; ``(w, b)`` in the full feature space.

        ``solver="liblinear"`` is scikit-learn's ``LinearSVC`` (squared hinge, dual solver);
        ``"sgd"`` is ``SGDClassifier(loss="hinge")`` with averaging, the same
        objective (``alpha = 1 / (C n)``) solved approximately and faster.
        """
        from sklearn.linear_model import SGDClassifier
        from sklearn.svm import LinearSVC

        x = self.features(np.concatenate([pos, neg])) - self.mu
        if self.basis is not None:
            x = x @ self.basis
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        if solver == "sgd":
            svm = SGDClassifier(loss="hinge", alpha=1.0 / (C * len(y)), class_weight="balanced",
                                max_iter=10, tol=None, average=True, random_state=seed)
            svm.fit(x, y)
        else:
            import warnings

            from sklearn.exceptions import ConvergenceWarning

            # The dual solver is several times faster here (strong regularisation, many
            # easy negatives); a rare non-converged fit is still a usable detector.
            svm = LinearSVC(C=C, class_weight="balanced", dual=True, max_iter=2000)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                svm.fit(x.astype(np.float64), y)
        w = svm.coef_[0] if self.basis is None else self.basis @ svm.coef_[0]
        return w.astype(np.float32), float(svm.intercept_[0] - w @ self.mu)

    def scores(self, rows: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
        return self.features(rows) @ w + b


# ----------------------------------------------------------------------------------------
# The localiser
# ----------------------------------------------------------------------------------------
class HogSvmLocaliser(ClassicalLocaliser):
    """Per-keypoint HOG + linear SVM patch experts, fitted with a PCA shape prior.

    Parameters
    ----------
    work_size : int
        Side of the working frame the face box is resized to.
    cell, patch_cells, orientations, n_shifts :
        HOG cell size (px), patch side in cells, orientation bins, and shifted
        HOG copies per axis (window stride ``cell / n_shifts``).
    n_images : int
        At most this many training images feed the SVMs (their HOG is kept in memory).
    n_near, n_far : int
        Random negatives per image and keypoint, near (inside the search
        region) and far (anywhere in the frame).
    neg_radius : float
        Windows centred at least this far (working px) from the keypoint are negatives.
    mining_rounds : int
        Rounds of hard-negative mining (fewer when the time budget runs short).
    n_mined : int
        Hard negatives added per image, keypoint and round.
    C : float
        SVM regularisation (scikit-learn ``LinearSVC``).
    pca_dims : int or None
        Train the SVMs on this many principal components of the window
        features (several times faster); the weights are mapped back to the full
        HOG space, so response maps are exact correlations. None: full features.
    solver : {"liblinear", "sgd"}
        ``LinearSVC`` (exact) or ``SGDClassifier`` with hinge loss (faster, approximate).
    shape_prior : bool
        Fit with the PCA shape model (True) or take each keypoint's peak independently.
    fit_radii : tuple of float
        Mean-shift kernel widths (working px), from wide to narrow.
    fit_variances : tuple of float
        For each kernel width, the fraction of the training shapes' variance
        the shape model may use: few modes while the search is wide, more as it
        narrows (coarse to fine). The PCA model keeps the largest fraction.
    fit_iters : int
        Mean-shift + projection iterations per kernel width.
    init_scales : tuple of float
        Before mean shift, the mean shape is aligned to the independent peaks by
        a robust (Tukey-weighted) similarity fit; these are the residual scales
        (working px) of its reweighting rounds, from tolerant to strict.
    """

    name: ClassVar[str] = "hog-svm"
    _array_names: ClassVar[tuple[str, ...]] = (
        "svm_weights", "svm_bias", "calib", "search_lo", "search_hi",
        "init_shape", "pdm_mean", "pdm_modes", "pdm_eigenvalues",
    )
    default_prior: ClassVar[bool] = True

    def __init__(
        self,
        work_size: int = 80,
        cell: int = 4,
        patch_cells: int = 6,
        orientations: int = 9,
        n_shifts: int = 2,
        n_images: int = 1000,
        n_near: int = 4,
        n_far: int = 2,
        neg_radius: float = 4.0,
        mining_rounds: int = 2,
        n_mined: int = 2,
        C: float = 0.01,
        pca_dims: int | None = 300,
        solver: str = "liblinear",
        shape_prior: bool | None = None,
        fit_radii: tuple[float, ...] = (8.0, 4.0, 2.0),
        fit_variances: tuple[float, ...] = (0.8, 0.9, 0.95),
        fit_iters: int = 3,
        init_scales: tuple[float, ...] = (16.0, 12.0, 8.0, 6.0, 4.0, 4.0, 4.0),
    ) -> None:
        super().__init__(work_size)
        self.cell, self.patch_cells, self.orientations = int(cell), int(patch_cells), int(orientations)
        self.n_shifts = int(n_shifts)
        self.grid = HogGrid(self.work_size, self.cell, self.patch_cells, self.orientations, self.n_shifts)
        if n_images < 2:
            raise ValueError(f"n_images must be at least 2, got {n_images}")
        self.n_images, self.n_near, self.n_far = int(n_images), int(n_near), int(n_far)
        self.neg_radius = float(neg_radius)
        self.mining_rounds, self.n_mined = int(mining_rounds), int(n_mined)
        if not C > 0:
            raise ValueError(f"C must be positive, got {C}")
        self.C = float(C)
        self.pca_dims = None if pca_dims is None else int(pca_dims)
        if solver not in ("liblinear", "sgd"):
            raise ValueError(f"solver must be 'liblinear' or 'sgd', got {solver!r}")
        self.solver = solver
        self.shape_prior = self.default_prior if shape_prior is None else bool(shape_prior)
        self.fit_radii = tuple(float(r) for r in fit_radii)
        if not self.fit_radii or min(self.fit_radii) <= 0:
            raise ValueError(f"fit_radii must be positive, got {fit_radii}")
        self.fit_variances = tuple(float(v) for v in fit_variances)
        if len(self.fit_variances) != len(self.fit_radii) or not all(0 < v <= 1 for v in self.fit_variances):
            raise ValueError(
                f"fit_variances: one fraction in (0, 1] per kernel width {self.fit_radii}, got {fit_variances}"
            )
        self.fit_iters = int(fit_iters)
        self.init_scales = tuple(float(v) for v in init_scales)
        if min(self.init_scales, default=1.0) <= 0:
            raise ValueError(f"init_scales must be positive, got {init_scales}")

    def get_params(self) -> dict[str, Any]:
        return {
            "work_size": self.work_size, "cell": self.cell, "patch_cells": self.patch_cells,
            "orientations": self.orientations, "n_shifts": self.n_shifts, "n_images": self.n_images,
            "n_near": self.n_near, "n_far": self.n_far, "neg_radius": self.neg_radius,
            "mining_rounds": self.mining_rounds, "n_mined": self.n_mined, "C": self.C, "pca_dims": self.pca_dims,
            "solver": self.solver,
            "shape_prior": self.shape_prior, "fit_radii": list(self.fit_radii),
            "fit_variances": list(self.fit_variances), "fit_iters": self.fit_iters,
            "init_scales": list(self.init_scales),
        }

    # -- training ---------------------------------------------------------------------
    def _fit(self, works, kp_work, groups, deadline: Deadline, rng, progress) -> None:
        grid = self.grid
        n, k = kp_work.shape[:2]
        lab = kp_work[..., 2] > 0
        if not lab.any(0).all():
            raise ValueError(f"keypoint {int(np.argmin(lab.any(0)))} is never labelled in the training set")
        self._fit_shape_model(kp_work)
        # Visible points give positives; hidden-but-labelled ones (v = 1) show the occluder.
        vis = kp_work[..., 2] == 2
        vis[:, ~vis.any(0)] = lab[:, ~vis.any(0)]

        # HOG of the training images, once (a quarter of the time budget at most).
        cache, kept = [], []
        for i in progress_bar(rng.permutation(n)[: self.n_images], progress, "hog-svm: HOG of training images"):
            cache.append(grid.blocks(works[i]).astype(np.float16))
            kept.append(i)
            if len(kept) >= 20 and not deadline.allows(0.0, 0.25):
                break
        bank = _WindowBank(np.stack(cache), grid)
        kp_c = kp_work[kept]
        gidx = grid.index_of(kp_c[..., :2])  # (n, K, 2): gx, gy
        inside = vis[kept] & np.all((gidx >= 0) & (gidx < grid.size), axis=-1)
        if not inside.any(0).all():
            kk = int(np.argmin(inside.any(0)))
            raise ValueError(f"keypoint {kk}: no training image shows it inside the frame")
        lo_g, hi_g = self._search_slices()

        pos_sets, neg_sets = [], []
        for kk in range(k):
            rows = np.flatnonzero(inside[:, kk])
            pos_sets.append(np.stack([rows, gidx[rows, kk, 1], gidx[rows, kk, 0]], 1))
            near = random_negative_windows(grid, kp_c[:, kk, :2], self.n_near, rng, lo=lo_g[kk], hi=hi_g[kk],
                                           min_dist=self.neg_radius)  # fmt: skip
            far = random_negative_windows(grid, kp_c[:, kk, :2], self.n_far, rng, min_dist=self.neg_radius)
            neg_sets.append(np.unique(np.concatenate([near, far]), axis=0))
        sample = np.concatenate([s[rng.permutation(len(s))[: max(1, 6000 // (2 * k))]]
                                 for s in neg_sets + pos_sets])
        bank.fit_pca(sample, self.pca_dims)

        weights = np.zeros((k, grid.feature_size), np.float32)
        bias = np.zeros(k, np.float32)

        def train_all(desc: str) -> None:
            for kk in progress_bar(range(k), progress, desc):
                weights[kk], bias[kk] = bank.train_svm(pos_sets[kk], neg_sets[kk], self.C, self.solver)

        t0 = deadline.elapsed
        train_all("hog-svm: SVMs")
        round_time = deadline.elapsed - t0
        rounds_done = 0
        n_neg = [float(np.mean([len(s) for s in neg_sets]))]
        for rnd in range(self.mining_rounds):
            if not deadline.allows(1.6 * round_time, 0.9):  # scan + retrain on ~1.3x the negatives
                break
            t0 = deadline.elapsed
            self._mine(bank, kp_c, weights, bias, neg_sets, progress, rnd)
            train_all(f"hog-svm: SVMs after mining round {rnd + 1}")
            round_time = deadline.elapsed - t0
            rounds_done += 1
            n_neg.append(float(np.mean([len(s) for s in neg_sets])))
        self.svm_weights = weights
        self.svm_bias = bias
        self.calib = np.array([
            platt_scaling(np.r_[bank.scores(pos_sets[kk], weights[kk], bias[kk]),
                                bank.scores(neg_sets[kk], weights[kk], bias[kk])],
                          np.r_[np.ones(len(pos_sets[kk])), np.zeros(len(neg_sets[kk]))])
            for kk in range(k)
        ])
        self.train_info.update(
            n_svm_images=len(kept), mining_rounds_done=rounds_done, negatives_per_keypoint=n_neg,
            positives_per_keypoint=float(np.mean([len(s) for s in pos_sets])),
        )

    def _fit_shape_model(self, kp_work: np.ndarray) -> None:
        lab = kp_work[..., 2] > 0
        xy = kp_work[..., :2]
        cnt = lab.sum(0)
        mean = np.where(lab[..., None], xy, 0).sum(0) / np.maximum(cnt, 1)[:, None]
        var = np.where(lab[..., None], (xy - mean) ** 2, 0).sum(0) / np.maximum(cnt - 1, 1)[:, None]
        spread = 3.0 * np.sqrt(var) + self.cell
        self.init_shape = mean
        self.search_lo = mean - spread
        self.search_hi = mean + spread
        full = lab.all(1)
        shapes = xy[full] if full.sum() >= 2 else np.where(lab[..., None], xy, mean)
        pdm = ShapeModel(1.0).fit(shapes)  # all modes; each stage uses its leading ones
        self.pdm_mean, self.pdm_modes, self.pdm_eigenvalues = pdm.mean, pdm.modes, pdm.eigenvalues
        self._pdm = pdm

    def _after_load(self) -> None:
        pdm = ShapeModel(1.0)
        pdm.mean, pdm.modes, pdm.eigenvalues = self.pdm_mean, self.pdm_modes, self.pdm_eigenvalues
        self._pdm = pdm

    def _mine(self, bank, kp_c, weights, bias, neg_sets, progress, rnd) -> None:
        """Add each image's highest-scoring wrong windows inside the search region as negatives."""
        grid = self.grid
        lo, hi = self._search_slices()
        k = len(bias)
        found: list[list[np.ndarray]] = [[] for _ in range(k)]
        for r in progress_bar(range(len(bank.cache)), progress, f"hog-svm: mining round {rnd + 1}"):
            maps = response_maps(bank.cache[r].astype(np.float32), grid, weights, bias)
            for kk in range(k):
                # Inside the margin (score > -1): hard negatives.
                idx = hard_negative_windows(maps[kk], grid, kp_c[r, kk, :2], self.neg_radius, self.n_mined,
                                            lo=lo[kk], hi=hi[kk], min_score=-1.0)  # fmt: skip
                if len(idx):
                    found[kk].append(np.concatenate([np.full((len(idx), 1), r), idx], 1))
        for kk in range(k):
            if found[kk]:
                neg_sets[kk] = np.unique(np.concatenate([neg_sets[kk], *found[kk]]), axis=0)

    # -- inference --------------------------------------------------------------------
    def probability_maps(self, work: np.ndarray) -> np.ndarray:
        """Calibrated response maps ``(K, size, size)`` of one working image (see :attr:`grid`)."""
        scores = response_maps(self.grid.blocks(work), self.grid, self.svm_weights, self.svm_bias)
        z = self.calib[:, 0, None, None] * scores + self.calib[:, 1, None, None]
        return 1.0 / (1.0 + np.exp(-z))

    def _search_slices(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.clip(self.grid.index_of(self.search_lo), 0, self.grid.size - 1)
        hi = np.clip(self.grid.index_of(self.search_hi), 0, self.grid.size - 1)
        return lo, hi

    def peaks(self, maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each keypoint's refined peak inside its search region: ``(K, 2)`` working px and scores."""
        lo, hi = self._search_slices()
        c = self.grid.centres()
        pts = np.zeros((len(maps), 2))
        score = np.zeros(len(maps))
        for kk, m in enumerate(maps):
            sub = m[lo[kk, 1] : hi[kk, 1] + 1, lo[kk, 0] : hi[kk, 0] + 1]
            iy, ix = np.unravel_index(int(np.argmax(sub)), sub.shape)
            y, x = refine_peak(sub, iy, ix)
            pts[kk] = c[0] + self.grid.stride * (x + lo[kk, 0]), c[0] + self.grid.stride * (y + lo[kk, 1])
            score[kk] = sub[iy, ix]
        return pts, score

    def fit_shape(self, maps: np.ndarray, shape_prior: bool | None = None, return_stages: bool = False):
        """Keypoints ``(K, 2)`` in working px from probability maps.

        With the prior: (1) a robust start — the mean shape aligned to the
        independent peaks by a Tukey-reweighted similarity fit, then projected
        onto the coarsest shape model with those weights; (2) regularised
        landmark mean shift: each point moves to the response-weighted mean of
        its neighbourhood (Gaussian kernel of width :attr:`fit_radii`) and the
        shape is projected onto the PCA model (with more modes as the kernel
        narrows, :attr:`fit_variances`), weighting each point by its response.
        Without the prior: the independent peaks. ``return_stages`` also
        returns the shapes along the way (mean shape, robust start, and after
        each kernel width) for drawing.
        """
        prior = self.shape_prior if shape_prior is None else shape_prior
        peaks, _ = self.peaks(maps)
        if not prior:
            return (peaks, [peaks]) if return_stages else peaks
        x, w = self._robust_start(peaks)
        coarse = self._pdm.truncated(self._pdm.n_modes_for(self.fit_variances[0]))
        x = coarse.project(x if w is None else peaks, w)
        stages = [self.init_shape.copy(), x.copy()]
        lo, hi = self._search_slices()
        for rho, variance in zip(self.fit_radii, self.fit_variances, strict=True):
            for _ in range(self.fit_iters):
                x = self.mean_shift_step(maps, x, rho, variance, lo, hi)[0]
            stages.append(x.copy())
        return (x, stages) if return_stages else x

    def mean_shift_step(
        self, maps: np.ndarray, x: np.ndarray, sigma: float, variance: float = 1.0,
        lo: np.ndarray | None = None, hi: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One regularised mean-shift iteration from shape ``x`` ``(K, 2)``, working px.

        Each point's target is :func:`mean_shift_targets` of its map inside its
        search window (``lo``/``hi``, default :attr:`search_lo`/:attr:`search_hi`);
        the new shape is the targets projected onto the leading shape modes
        that explain ``variance`` of the training shapes' variance, each point
        weighted by the evidence behind its target (its share of the largest
        kernel-weighted response, plus a floor of 0.001). Returns
        ``(new_shape, targets, weights)``; :meth:`fit_shape` repeats it for each
        kernel width of :attr:`fit_radii` with :attr:`fit_variances`.
        """
        self._check_fitted()
        if lo is None or hi is None:
            lo, hi = self._search_slices()
        targets, mass = mean_shift_targets(maps, self.grid, x, sigma, lo, hi)
        weights = mass / max(float(mass.max()), 1e-12) + 1e-3
        pdm = self._pdm.truncated(self._pdm.n_modes_for(variance))
        return pdm.project(targets, weights, n_iter=10, tol=1e-6), targets, weights  # precise enough for a step

    def _robust_start(self, peaks: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Mean shape aligned to the peaks, down-weighting peaks that disagree (Tukey biweight).

        Returns the aligned mean shape and the final per-point weights
        (``None`` when :attr:`init_scales` is empty: the plain mean shape).
        """
        from kplearn.classical.shape_model import apply_similarity, similarity_transform

        if not self.init_scales:
            return self.init_shape.copy(), None
        w = np.ones(len(peaks))
        for s in self.init_scales:
            A, t = similarity_transform(self.init_shape, peaks, w)
            r = np.linalg.norm(apply_similarity(self.init_shape, A, t) - peaks, axis=1)
            w = np.where(r < s, (1 - (r / s) ** 2) ** 2, 0.0) + 1e-6
        return apply_similarity(self.init_shape, A, t), w

    def explain(self, image: np.ndarray, box: Any = None) -> dict[str, Any]:
        """Everything the fit of one image goes through, in image pixels (for drawing).

        Returns a dict with ``"maps"`` (``(K, G, G)`` calibrated responses),
        ``"grid_x"``/``"grid_y"`` (image coordinates of the map columns/rows),
        ``"search_lo"``/``"search_hi"`` (``(K, 2)`` search-region corners),
        ``"peaks"`` and ``"peak_scores"`` (independent peaks), ``"stages"``
        (``(S, K, 2)``: the mean shape, the robust start, then the shape after
        each kernel width, named in ``"stage_names"``; kernel widths in working
        px) and ``"fitted"`` (``(K, 2)``, with the shape prior).
        """
        from kplearn.classical.localiser import check_boxes, check_images, crop_to_work, from_work

        self._check_fitted()
        images = check_images([image])
        box = check_boxes(None if box is None else [box], images)[0]
        work, m = crop_to_work(images[0], box, self.work_size)
        maps = self.probability_maps(work)
        peaks, scores = self.peaks(maps)
        fitted, stages = self.fit_shape(maps, shape_prior=True, return_stages=True)
        c = self.grid.centres()
        grid_img = from_work(np.stack([c, c], 1), m)
        return {
            "maps": maps, "grid_x": grid_img[:, 0], "grid_y": grid_img[:, 1],
            "search_lo": from_work(self.search_lo, m), "search_hi": from_work(self.search_hi, m),
            "peaks": from_work(peaks, m), "peak_scores": scores,
            "stages": from_work(np.stack(stages), m), "fitted": from_work(fitted, m),
            "stage_names": ["start (mean shape)", "robust start"]
            + [f"mean shift, σ = {r:g} work px" for r in self.fit_radii],
        }

    def _predict_work(self, works: np.ndarray, shape_prior: bool | None = None) -> np.ndarray:
        return np.stack([self.fit_shape(self.probability_maps(w), shape_prior) for w in works])

    def predict(self, images, boxes=None, shape_prior: bool | None = None, *,
                return_scores: bool = False):  # fmt: skip
        """Keypoints ``(N, K, 3)``; ``shape_prior`` overrides :attr:`shape_prior` for this call."""
        if shape_prior is None:
            return super().predict(images, boxes, return_scores=return_scores)
        saved = self.shape_prior
        self.shape_prior = bool(shape_prior)
        try:
            return super().predict(images, boxes, return_scores=return_scores)
        finally:
            self.shape_prior = saved


class HogSvmNoPriorLocaliser(HogSvmLocaliser):
    """:class:`HogSvmLocaliser` that picks each keypoint's peak independently (no shape prior)."""

    name: ClassVar[str] = "hog-svm-noprior"
    default_prior: ClassVar[bool] = False
