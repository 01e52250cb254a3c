"""Sub-pixel refinement of heatmap maxima: quarter offset and DARK (numpy, vectorised).

Both functions take the integer maxima from
:func:`~kplearn.codecs.heatmap.heatmap_maximum` and move them by a fraction of a
heatmap pixel, for all maps at once (fancy indexing, no loop over keypoints).
Positions that are NaN (invalid maps) stay NaN.

Border rule: a step along an axis is taken only where the neighbours it reads exist.
The quarter offset needs ``x - 1`` and ``x + 1``, so it refines ``1 <= x <= W' - 2``
(MMPose also skips ``x = 1``; kplearn does not, which keeps the rule flip-symmetric).
DARK needs two pixels on each side, so it refines only when ``2 <= x <= W' - 3`` and
``2 <= y <= H' - 3`` (as DarkPose and MMPose).

Examples
--------
>>> import numpy as np
>>> from kplearn.codecs.refine import refine_quarter
>>> hm = np.zeros((1, 20, 20)); hm[0, 10, 10] = 1.0; hm[0, 10, 11] = 0.8; hm[0, 10, 9] = 0.5
>>> refine_quarter(hm, np.array([[10.0, 10.0]]))
array([[10.25, 10.  ]])
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d

from kplearn.codecs._checks import check_heatmaps

__all__ = ["refine_quarter", "refine_dark", "gaussian_blur", "blur_sigma", "blur_kernel_for"]

# log() floor for DARK: blurred values below it (far tails, negatives) are clamped.
_LOG_FLOOR = 1e-10


def _flatten(heatmaps, xy) -> tuple[np.ndarray, np.ndarray]:
    hm = check_heatmaps(heatmaps)
    xy = np.asarray(xy, dtype=np.float64)
    if xy.shape != hm.shape[:-2] + (2,):
        raise ValueError(
            f"xy must have shape {hm.shape[:-2] + (2,)} for heatmaps {hm.shape}, got {xy.shape}"
        )
    return hm.reshape(-1, *hm.shape[-2:]), xy.reshape(-1, 2)


def _integer_positions(xy: np.ndarray, width: int, height: int) -> tuple[np.ndarray, ...]:
    """Nearest pixel of each position, clipped into the map, plus a finite-mask."""
    finite = np.all(np.isfinite(xy), axis=-1)
    safe = np.where(finite[:, None], xy, 0.0)
    ix = np.clip(np.rint(safe[:, 0]), 0, width - 1).astype(np.intp)
    iy = np.clip(np.rint(safe[:, 1]), 0, height - 1).astype(np.intp)
    return ix, iy, finite


def _refine(heatmaps, xy, step) -> np.ndarray:
    """Move each position by the offsets ``step(hm, rows, ix, iy, finite)`` (or not at all: ``None``).

    The maps are flattened to ``hm (N, H', W')``; ``rows`` indexes them and
    ``(ix, iy)`` is the nearest pixel of each position (:func:`_integer_positions`).
    """
    hm, flat = _flatten(heatmaps, xy)
    ix, iy, finite = _integer_positions(flat, hm.shape[-1], hm.shape[-2])
    out = flat.copy()
    offsets = step(hm, np.arange(hm.shape[0]), ix, iy, finite)
    if offsets is not None:
        out[:, 0] += offsets[0]
        out[:, 1] += offsets[1]
    return out.reshape(np.shape(xy))


# The two steps below are written once for numpy and torch (``xp`` is either module,
# the arrays of its kind): refine_quarter / refine_dark here and the torch decoder
# (kplearn.codecs.torch_ops) share one statement of each rule, so they cannot drift.


def _quarter_offsets(hm, rows, ix, iy, valid, xp):
    """The quarter step at pixels ``(ix, iy)`` of maps ``hm (N, H', W')``; 0 where not taken.

    ``valid`` (or ``None``: all) masks the positions that may move at all.
    """
    height, width = hm.shape[-2:]
    can_x = (ix >= 1) & (ix <= width - 2)
    can_y = (iy >= 1) & (iy <= height - 2)
    if valid is not None:
        can_x, can_y = can_x & valid, can_y & valid
    # The neighbour lookups are clipped into the map; the masks drop the clipped ones.
    gx = hm[rows, iy, xp.clip(ix + 1, 0, width - 1)] - hm[rows, iy, xp.clip(ix - 1, 0, width - 1)]
    gy = hm[rows, xp.clip(iy + 1, 0, height - 1), ix] - hm[rows, xp.clip(iy - 1, 0, height - 1), ix]
    return xp.where(can_x, 0.25 * xp.sign(gx), 0.0), xp.where(can_y, 0.25 * xp.sign(gy), 0.0)


def _dark_offsets(logh, rows, ix, iy, valid, max_offset, xp):
    """DARK's Newton step ``-H^{-1} grad`` of ``logh (N, H', W')`` at pixels ``(ix, iy)``; 0 where skipped.

    ``valid`` (or ``None``: all) masks the positions that may move at all; see
    :func:`refine_dark` for the skips.
    """
    height, width = logh.shape[-2:]
    can = (ix >= 2) & (ix <= width - 3) & (iy >= 2) & (iy <= height - 3)
    if valid is not None:
        can = can & valid
    cx, cy = xp.clip(ix, 2, width - 3), xp.clip(iy, 2, height - 3)

    def at(dy: int, dx: int):
        return logh[rows, cy + dy, cx + dx]

    dx = 0.5 * (at(0, 1) - at(0, -1))
    dy = 0.5 * (at(1, 0) - at(-1, 0))
    dxx = 0.25 * (at(0, 2) - 2 * at(0, 0) + at(0, -2))
    dyy = 0.25 * (at(2, 0) - 2 * at(0, 0) + at(-2, 0))
    dxy = 0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1))
    det = dxx * dyy - dxy**2
    ok = can & (det != 0)
    safe_det = xp.where(ok, det, 1.0)
    off_x = -(dyy * dx - dxy * dy) / safe_det
    off_y = -(dxx * dy - dxy * dx) / safe_det
    ok &= xp.isfinite(off_x) & xp.isfinite(off_y)
    if max_offset is not None:
        ok &= (xp.abs(off_x) <= max_offset) & (xp.abs(off_y) <= max_offset)
    return xp.where(ok, off_x, 0.0), xp.where(ok, off_y, 0.0)


def refine_quarter(heatmaps, xy) -> np.ndarray:
    """Quarter-pixel shift towards the larger neighbour, each axis on its own.

    ``x += 0.25 * sign(h[y, x+1] - h[y, x-1])`` (likewise ``y``), where the two
    neighbours exist (``1 <= x <= W'-2``). Equal neighbours give no shift, so a
    symmetric target decodes to its integer centre.

    Parameters
    ----------
    heatmaps : ndarray, shape (..., H', W')
    xy : ndarray, shape (..., 2)
        Positions in heatmap pixels (normally the integer argmax); the lookup uses
        the nearest pixel.

    Returns
    -------
    ndarray, shape (..., 2)
        Refined positions (float64, heatmap pixels).
    """
    return _refine(heatmaps, xy, lambda *args: _quarter_offsets(*args, np))


def blur_sigma(kernel_size: int) -> float:
    """OpenCV's sigma for a ``kernel_size`` Gaussian: ``0.3 ((k - 1) / 2 - 1) + 0.8``.

    >>> blur_sigma(11), round(blur_sigma(17), 6)
    (2.0, 2.9)
    """
    return 0.3 * ((kernel_size - 1) / 2 - 1) + 0.8


def blur_kernel_for(sigma: float) -> int:
    """DARK's blur width for targets of std ``sigma``: the odd ``k`` whose :func:`blur_sigma` is nearest.

    This is the one rule kplearn uses to match the blur to the targets
    (:class:`~kplearn.codecs.HeatmapCodec` with ``blur_kernel=None``); ``k = 11``
    for sigma 2, as DARK's default.

    Examples
    --------
    >>> blur_kernel_for(2.0), blur_kernel_for(1.5), blur_kernel_for(2.9)
    (11, 7, 17)
    """
    if isinstance(sigma, bool) or not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    half = max(1, int(round((float(sigma) - 0.8) / 0.3 + 1)))
    return 2 * half + 1


def _gaussian_kernel(kernel_size: int) -> np.ndarray:
    if isinstance(kernel_size, bool) or int(kernel_size) != kernel_size or kernel_size < 1:
        raise ValueError(f"blur_kernel must be a positive odd integer, got {kernel_size!r}")
    if kernel_size % 2 == 0:
        raise ValueError(f"blur_kernel must be odd, got {kernel_size}")
    kernel_size = int(kernel_size)
    if kernel_size == 1:
        return np.ones(1)
    r = (kernel_size - 1) // 2
    i = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-(i**2) / (2 * blur_sigma(kernel_size) ** 2))
    return g / g.sum()


def gaussian_blur(heatmaps, kernel_size: int = 11) -> np.ndarray:
    """Separable Gaussian blur of every map in ``(..., H', W')`` with zero padding.

    The kernel is ``kernel_size`` taps wide with sigma from :func:`blur_sigma`
    (k = 11 gives sigma = 2), normalised to sum 1; outside the map counts as 0,
    as DARK's zero-padded ``cv2.GaussianBlur``. ``kernel_size=1`` is the identity.
    Unlike MMPose the result is not rescaled to the original maximum: DARK uses
    derivatives of ``log h``, which a constant factor does not change.

    Examples
    --------
    >>> import numpy as np
    >>> gaussian_blur(np.ones((1, 3, 3)), 3)[0, 1, 1] == 1.0
    np.True_
    """
    g = _gaussian_kernel(kernel_size)
    hm = check_heatmaps(heatmaps)
    if g.size == 1:
        return hm.copy()
    out = correlate1d(hm, g, axis=-1, mode="constant", cval=0.0)
    return correlate1d(out, g, axis=-2, mode="constant", cval=0.0)


def refine_dark(heatmaps, xy, blur_kernel: int = 11, max_offset: float | None = 1.0) -> np.ndarray:
    """DARK refinement (Zhang et al., CVPR 2020): one Newton step on the log of the blurred map.

    1. Blur every map (:func:`gaussian_blur`, ``blur_kernel`` taps), then take
       ``L = log(max(h, 1e-10))``; for a Gaussian peak ``L`` is a quadratic.
    2. At the integer position ``(x, y)`` form central differences
       ``dx = (L[x+1] - L[x-1]) / 2``, ``dxx = (L[x+2] - 2 L[x] + L[x-2]) / 4``,
       ``dxy = (L[x+1,y+1] - L[x+1,y-1] - L[x-1,y+1] + L[x-1,y-1]) / 4`` (and ``y`` alike).
    3. Move by ``-H^{-1} grad``.

    The step is skipped (the integer position kept) near the border
    (unless ``2 <= x <= W'-3`` and ``2 <= y <= H'-3``), when the Hessian is singular
    (``dxx dyy - dxy^2 == 0``, e.g. a flat plateau), and, a kplearn guard for noisy
    network outputs, when the step is longer than ``max_offset`` heatmap pixels on
    either axis (``None`` disables it); on a Gaussian target the step is at most 0.5.

    Returns
    -------
    ndarray, shape (..., 2)
        Refined positions (float64, heatmap pixels).
    """

    def step(hm, rows, ix, iy, finite):
        if hm.shape[-1] < 5 or hm.shape[-2] < 5 or hm.shape[0] == 0:
            _gaussian_kernel(blur_kernel)  # still validate the argument
            return None
        logh = np.log(np.maximum(gaussian_blur(hm, blur_kernel), _LOG_FLOOR))
        return _dark_offsets(logh, rows, ix, iy, finite, max_offset, np)

    return _refine(heatmaps, xy, step)
