"""Object keypoint similarity (OKS), the COCO analogue of IoU for keypoints.

For a prediction ``p`` and a ground truth ``g`` with area ``s²`` and labelled
keypoints ``i`` (visibility ``v_i > 0``)::

    OKS = mean_i exp(-d_i² / (2 s² κ_i²)),   κ_i = 2 σ_i

This module computes it exactly as ``pycocotools.cocoeval.COCOeval.computeOks``
does (same operation order, same ``area + eps`` guard), with two decisions of
its own, both documented on :func:`oks`:

- a prediction coordinate that is NaN or infinite contributes similarity 0
  (a miss) instead of turning the whole OKS into NaN;
- without ``boxes``, a ground truth with no labelled keypoint has OKS 0 with
  every prediction (pycocotools measures it to a doubled box; pass ``boxes``
  to get that rule).

Examples
--------
>>> import numpy as np
>>> gt = np.zeros((1, 17, 3)); gt[0, :, 0] = np.arange(17) * 5; gt[0, :, 2] = 2
>>> float(oks(gt, gt, areas=[100.0 * 100.0])[0, 0])
1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kplearn.skeletons import Skeleton, get_skeleton

__all__ = ["oks", "resolve_sigmas", "COCO_SIGMAS"]

#: The 17 COCO body-keypoint sigmas (pycocotools ``Params.kpt_oks_sigmas``).
# Divided by 10 as pycocotools does, so that the values agree to the last bit.
COCO_SIGMAS = np.array([
    0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72,
    0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89,
]) / 10.0  # fmt: skip
COCO_SIGMAS.setflags(write=False)

# pycocotools adds this to the area so that a zero area divides safely.
_EPS = np.spacing(1)


def resolve_sigmas(
    sigmas: Sequence[float] | np.ndarray | str | Skeleton | None, num_keypoints: int
) -> np.ndarray:
    """Turn a sigma specification into a checked float array of length ``num_keypoints``.

    Parameters
    ----------
    sigmas : array-like, str, Skeleton or None
        Per-keypoint sigmas; a layout name / :class:`~kplearn.skeletons.Skeleton`
        whose sigmas to use; or None for the COCO body sigmas (only valid for 17 keypoints).
    num_keypoints : int
        The number of keypoints ``K`` the sigmas must match.

    Returns
    -------
    ndarray, shape (K,)

    Examples
    --------
    >>> resolve_sigmas(None, 17)[:2].round(3).tolist()
    [0.026, 0.025]
    """
    if sigmas is None:
        if num_keypoints != 17:
            raise ValueError(
                f"no default OKS sigmas for {num_keypoints} keypoints (COCO's are for 17); "
                "pass sigmas explicitly"
            )
        return np.array(COCO_SIGMAS)
    if isinstance(sigmas, (str, Skeleton)):
        arr = get_skeleton(sigmas).sigma_array
    else:
        arr = np.asarray(sigmas, dtype=np.float64)
    if arr.ndim != 1 or arr.shape[0] != num_keypoints:
        raise ValueError(f"sigmas: expected shape ({num_keypoints},), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("sigmas must be finite and positive")
    return arr


def _oks_core(
    pred_xy: np.ndarray,
    gt_xy: np.ndarray,
    gt_labelled: np.ndarray,
    areas: np.ndarray,
    boxes: np.ndarray | None,
    variances: np.ndarray,
) -> np.ndarray:
    """Vectorised OKS over leading batch axes.

    Shapes: ``pred_xy (..., D, K, 2)``, ``gt_xy (..., G, K, 2)``,
    ``gt_labelled (..., G, K)`` bool, ``areas (..., G)``, ``boxes (..., G, 4)`` or None,
    ``variances (K,) = (2 σ)²``. Returns ``(..., D, G)``. Inputs are assumed checked.
    """
    xd = pred_xy[..., :, None, :, 0]  # (..., D, 1, K)
    yd = pred_xy[..., :, None, :, 1]
    k1 = gt_labelled.sum(axis=-1)  # (..., G)
    dx = xd - gt_xy[..., None, :, :, 0]  # (..., D, G, K)
    dy = yd - gt_xy[..., None, :, :, 1]
    no_kp = k1 == 0
    if boxes is not None and np.any(no_kp):
        # pycocotools: distance to the GT box doubled in each direction.
        bx, by, bw, bh = (boxes[..., None, :, None, j] for j in range(4))
        x0, x1 = bx - bw, bx + bw * 2
        y0, y1 = by - bh, by + bh * 2
        zero = np.zeros(())
        bdx = np.maximum(zero, x0 - xd) + np.maximum(zero, xd - x1)
        bdy = np.maximum(zero, y0 - yd) + np.maximum(zero, yd - y1)
        sel = no_kp[..., None, :, None]
        dx = np.where(sel, bdx, dx)
        dy = np.where(sel, bdy, dy)
    # Same operation order as pycocotools, so that values agree to the last bits.
    e = (dx**2 + dy**2) / variances / (areas[..., None, :, None] + _EPS) / 2
    sim = np.exp(-e)
    # A NaN/inf prediction coordinate is a miss: similarity 0, not NaN.
    sim = np.where(np.isnan(sim), 0.0, sim)
    # Keypoints that count: the labelled ones, or all K for the doubled-box rule.
    if boxes is not None:
        weight = np.where(no_kp[..., None], True, gt_labelled)
    else:
        weight = gt_labelled
    num = np.where(weight[..., None, :, :], sim, 0.0).sum(axis=-1)
    den = weight.sum(axis=-1)[..., None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    return np.where(den > 0, out, 0.0)


def oks(
    pred: np.ndarray,
    gt: np.ndarray,
    areas: Sequence[float] | np.ndarray,
    sigmas: Sequence[float] | np.ndarray | str | Skeleton | None = None,
    *,
    boxes: np.ndarray | None = None,
) -> np.ndarray:
    """Object keypoint similarity between M predictions and G ground truths.

    Parameters
    ----------
    pred : ndarray, shape (M, K, 2) or (M, K, 3)
        Predicted keypoints in image pixels. A third column (score or visibility)
        is ignored. NaN or infinite coordinates mark a missing prediction: that
        keypoint contributes similarity 0 (pycocotools would return NaN).
    gt : ndarray, shape (G, K, 3)
        Ground-truth keypoints with COCO visibility. Only keypoints with ``v > 0``
        count; the coordinates of ``v = 0`` keypoints are never read.
    areas : array-like, shape (G,)
        Ground-truth areas (the COCO segment area, ``s²``). Must be finite and >= 0.
        As in pycocotools the area gets ``+ eps`` (``np.spacing(1)``), so an area of 0
        makes OKS an exact-equality test: 1 for a perfect prediction, 0 otherwise.
    sigmas : array-like (K,), str, Skeleton or None
        Per-keypoint sigmas (``κ = 2σ``). None means the COCO body sigmas, which
        requires K = 17. A layout name such as ``"coco17"`` uses that layout's sigmas.
    boxes : ndarray, shape (G, 4), optional
        Ground-truth boxes ``[x, y, w, h]``. Used only for a ground truth with no
        labelled keypoint: as in pycocotools, each predicted keypoint's distance is
        then measured to the box doubled in each direction, ``[x-w, x+2w] × [y-h, y+2h]``,
        and all K keypoints count (a prediction wholly inside has OKS 1). Without
        ``boxes`` such a ground truth has OKS 0 with every prediction.

    Returns
    -------
    ndarray, shape (M, G)
        Values in [0, 1].

    Raises
    ------
    ValueError
        On mismatched shapes, NaN/inf in labelled ground-truth coordinates,
        negative or non-finite areas, or bad sigmas.

    Examples
    --------
    A 5-px shift on every keypoint of a 100×100 person:

    >>> import numpy as np
    >>> gt = np.zeros((1, 17, 3)); gt[..., 2] = 2
    >>> pred = gt.copy(); pred[..., 0] += 5.0
    >>> round(float(oks(pred, gt, [10000.0])[0, 0]), 5)
    0.87115
    """
    p = np.asarray(pred, dtype=np.float64)
    g = np.asarray(gt, dtype=np.float64)
    if p.ndim != 3 or p.shape[-1] not in (2, 3):
        raise ValueError(f"pred: expected shape (M, K, 2 or 3), got {p.shape}")
    if g.ndim != 3 or g.shape[-1] != 3:
        raise ValueError(f"gt: expected shape (G, K, 3) with visibility, got {g.shape}")
    if p.shape[1] != g.shape[1]:
        raise ValueError(f"pred has {p.shape[1]} keypoints but gt has {g.shape[1]}")
    k = g.shape[1]
    a = np.asarray(areas, dtype=np.float64).reshape(-1) if np.ndim(areas) else None
    if a is None or a.shape[0] != g.shape[0]:
        raise ValueError(f"areas: expected shape ({g.shape[0]},), got {np.shape(areas)}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("areas must be finite and >= 0")
    s = resolve_sigmas(sigmas, k)
    vis = g[..., 2]
    if not np.all(np.isfinite(vis)) or np.any(vis < 0):
        raise ValueError("gt visibility must be finite and >= 0")
    labelled = vis > 0
    if not np.all(np.isfinite(g[..., :2][labelled])):
        raise ValueError("gt has NaN or infinite coordinates at labelled keypoints")
    b = None
    if boxes is not None:
        b = np.asarray(boxes, dtype=np.float64)
        if b.shape != (g.shape[0], 4):
            raise ValueError(f"boxes: expected shape ({g.shape[0]}, 4), got {b.shape}")
        if not np.all(np.isfinite(b)) or np.any(b[:, 2:] < 0):
            raise ValueError("boxes must be finite with w, h >= 0")
    return _oks_core(p[..., :2], g[..., :2], labelled, a, b, (2 * s) ** 2)
