"""Distance-based keypoint metrics: PCK, PCKh, the PCK curve and its AUC, EPE, NME.

Trusted implementations disagree on several details; kplearn decides each one
here, once, for every function in this module:

- **Threshold test.** A keypoint is correct when its normalised distance is
  *strictly* below the threshold, ``d < t`` (MMPose). ``inclusive=True`` gives the
  ``d <= t`` of the MPII MATLAB code / HRNet evaluator.
- **Averaging.** ``average="macro"`` (default for PCK, as MMPose): the mean over
  keypoints of each keypoint's accuracy, skipping keypoints with no valid instance.
  ``"pooled"``: the fraction of all valid (image, keypoint) pairs (MPII's "Mean",
  the default for :func:`pckh`). ``"none"``: the per-keypoint values (NaN where a
  keypoint has no valid instance). EPE and NME always pool (MMPose).
- **What counts.** A ground-truth keypoint counts when its visibility ``v > 0``
  (and ``visible`` is True where given); an instance whose normaliser is 0 (on any
  axis) is left out entirely. When nothing counts the result is NaN (MMPose returns 0).
- **Missing predictions.** A NaN or infinite predicted coordinate is a miss: it is
  never within any threshold, and its error is infinite, so EPE/NME become ``inf``
  (there is no finite mean of an infinite error) and the image counts as a failure.
  The third column of a prediction (a score or visibility) is ignored everywhere:
  mark a keypoint as not predicted by making its coordinates NaN.
- **AUC.** The area under the PCK curve between the first and last threshold divided
  by their span, integrated *exactly*: the curve is a step function of the
  distances, so ``AUC = mean(clip((t1 - max(d, t0)) / (t1 - t0), 0, 1))`` (then averaged
  like PCK). This is the limit of the trapezoid rule on an ever finer grid, and a
  perfect prediction scores exactly 1. MMPose's ``keypoint_auc`` instead averages PCK
  at ``i/n`` for ``i = 0..n-1`` (rectangles, 0 included, 1 excluded), so a perfect
  prediction scores ``(n-1)/n`` there.
- **Bad input** (shapes that do not match, NaN/inf at labelled ground-truth
  keypoints, negative or NaN normalisers) raises ``ValueError``.

Examples
--------
>>> import numpy as np
>>> gt = np.array([[[0.0, 0.0, 2], [10.0, 0.0, 2]]])
>>> pred = gt[..., :2] + [[[3.0, 4.0], [0.0, 1.0]]]   # errors 5 px and 1 px
>>> float(epe(pred, gt))
3.0
>>> float(pck(pred, gt, normalizer=10.0, threshold=0.5))   # 5/10 is not < 0.5
0.5
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kplearn.skeletons import FACES68_OUTER_EYE_CORNERS

__all__ = [
    "keypoint_errors",
    "pck",
    "pckh",
    "pck_curve",
    "epe",
    "nme",
    "failure_rate",
    "ced_auc",
    "face_metrics",
    "body_metrics",
    "face_normalizer",
    "spread_ratio",
    "mpjpe",
]

_AVERAGES = ("macro", "pooled", "none")


# ----------------------------------------------------------------------------- helpers


def _as_batch(arr: np.ndarray | Sequence, what: str) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[-1] not in (2, 3):
        raise ValueError(f"{what}: expected shape (N, K, 2 or 3) or (K, 2 or 3), got {a.shape}")
    return a


def _prepare(pred, gt, visible) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked ``pred_xy (N,K,2)``, ``gt_xy (N,K,2)`` and the valid mask ``(N,K)``."""
    p = _as_batch(pred, "pred")
    g = _as_batch(gt, "gt")
    if p.shape[:2] != g.shape[:2]:
        raise ValueError(f"pred and gt disagree: {p.shape[:2]} vs {g.shape[:2]} (N, K)")
    valid = np.ones(g.shape[:2], dtype=bool)
    if g.shape[-1] == 3:
        v = g[..., 2]
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError("gt visibility must be finite and >= 0")
        valid &= v > 0
    if visible is not None:
        vis = np.asarray(visible)
        if vis.ndim == 1 and g.shape[0] == 1:
            vis = vis[None]
        if vis.shape != g.shape[:2]:
            raise ValueError(f"visible: expected shape {g.shape[:2]}, got {vis.shape}")
        valid &= vis.astype(bool)
    if not np.all(np.isfinite(g[..., :2][valid])):
        raise ValueError("gt has NaN or infinite coordinates at labelled keypoints")
    return p[..., :2], g[..., :2], valid


def _normalizer(normalizer, n: int, what: str = "normalizer") -> np.ndarray:
    """Per-instance, per-axis normaliser ``(N, 2)`` from a scalar, (N,), (N, 1) or (N, 2)."""
    a = np.asarray(normalizer, dtype=np.float64)
    if a.ndim == 0:
        a = np.full((n, 2), float(a))
    elif a.ndim == 1 and a.shape[0] == n:
        a = np.repeat(a[:, None], 2, axis=1)
    elif a.ndim == 2 and a.shape[0] == n and a.shape[1] in (1, 2):
        a = np.repeat(a, 2 // a.shape[1], axis=1)
    else:
        raise ValueError(f"{what}: expected a scalar or shape ({n},) or ({n}, 2), got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{what} must be finite and >= 0")
    return a


def keypoint_errors(
    pred: np.ndarray,
    gt: np.ndarray,
    visible: np.ndarray | None = None,
    normalizer: float | np.ndarray = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised distance of every keypoint and the mask of those that count.

    Parameters
    ----------
    pred : ndarray, shape (N, K, 2|3)
        Predictions; a third column is ignored; NaN/inf coordinates mark a miss.
    gt : ndarray, shape (N, K, 2|3)
        Ground truth; with a third column, only ``v > 0`` keypoints count.
    visible : ndarray of bool, shape (N, K), optional
        Extra mask, combined (AND) with ``v > 0``.
    normalizer : float or ndarray, shape (N,) or (N, 2)
        Per-instance normaliser, optionally per axis (``(w, h)``): the distance is
        ``‖(pred − gt) / norm‖`` as in MMPose. An instance with a 0 on any axis is left out.

    Returns
    -------
    distances : ndarray, shape (N, K)
        Normalised distances; ``inf`` for a missing prediction; NaN where not valid.
    valid : ndarray of bool, shape (N, K)

    Examples
    --------
    >>> d, ok = keypoint_errors([[[3.0, 4.0]]], [[[0.0, 0.0, 2]]], normalizer=[[10.0, 20.0]])
    >>> round(float(d[0, 0]), 4)
    0.3606
    """
    p, g, valid = _prepare(pred, gt, visible)
    norm = _normalizer(normalizer, g.shape[0])
    valid &= np.all(norm > 0, axis=1)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.linalg.norm((p - g) / norm[:, None, :], axis=-1)
    d = np.where(np.isnan(d), np.inf, d)  # NaN prediction: infinitely far
    return np.where(valid, d, np.nan), valid


def _reduce(values: np.ndarray, valid: np.ndarray, average: str):
    """Average ``values (N, K)`` over ``valid`` entries, macro / pooled / per keypoint."""
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    vals = np.where(valid, values, 0.0)
    count = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_kp = np.where(count > 0, vals.sum(axis=0) / count, np.nan)
    if average == "none":
        return per_kp
    if average == "pooled":
        total = valid.sum()
        return float(vals.sum() / total) if total else float("nan")
    return float(np.mean(per_kp[count > 0])) if np.any(count > 0) else float("nan")


# -------------------------------------------------------------------------------- PCK


def pck(
    pred: np.ndarray,
    gt: np.ndarray,
    visible: np.ndarray | None = None,
    normalizer: float | np.ndarray = 1.0,
    threshold: float = 0.05,
    *,
    average: str = "macro",
    inclusive: bool = False,
):
    """Percentage of correct keypoints: the fraction with ``‖pred − gt‖ / norm < threshold``.

    Parameters
    ----------
    pred, gt, visible, normalizer
        As in :func:`keypoint_errors`. Common normalisers: ``max(w, h)`` of the ground-truth
        box (MMPose ``'bbox'``), the head size (:func:`pckh`), the inter-ocular distance.
    threshold : float
        Fraction of the normaliser.
    average : {"macro", "pooled", "none"}
        Mean of per-keypoint accuracies (default), fraction of all valid keypoints, or the
        per-keypoint array ``(K,)`` (NaN where a keypoint has no valid instance).
    inclusive : bool
        Count ``d == threshold`` as correct (MPII/HRNet ``<=``); default strict ``<`` (MMPose).

    Returns
    -------
    float or ndarray
        In [0, 1]; NaN when no keypoint counts.

    Examples
    --------
    Macro and pooled averaging differ when keypoints have unequal counts:

    >>> import numpy as np
    >>> gt = np.zeros((2, 2, 3)); gt[..., 2] = 2; gt[1, 1, 2] = 0
    >>> pred = gt[..., :2].copy(); pred[0, 0] += 100; pred[0, 1] += 100
    >>> pck(pred, gt, threshold=0.5), pck(pred, gt, threshold=0.5, average="pooled")
    (0.25, 0.3333333333333333)
    """
    d, valid = keypoint_errors(pred, gt, visible, normalizer)
    with np.errstate(invalid="ignore"):
        hit = d <= threshold if inclusive else d < threshold
    return _reduce(hit.astype(float), valid, average)


def pck_curve(
    pred: np.ndarray,
    gt: np.ndarray,
    visible: np.ndarray | None = None,
    normalizer: float | np.ndarray = 1.0,
    thresholds: Sequence[float] | np.ndarray | None = None,
    *,
    average: str = "macro",
    inclusive: bool = False,
) -> tuple[np.ndarray, np.ndarray, float]:
    """PCK at each threshold, and the normalised area under the curve.

    Parameters
    ----------
    pred, gt, visible, normalizer, average, inclusive
        As in :func:`pck` (``average`` must be ``"macro"`` or ``"pooled"``).
    thresholds : array-like, optional
        Increasing thresholds ``>= 0`` (at least two). Default ``np.linspace(0, 0.2, 41)``.

    Returns
    -------
    thresholds : ndarray, shape (T,)
    pck : ndarray, shape (T,)
    auc : float
        ``(1 / (t_last − t_first)) ∫ PCK(t) dt`` over ``[t_first, t_last]``, integrated exactly
        (the curve is a step function of the distances; see the module notes). A perfect
        prediction scores 1. Equivalent to the trapezoid rule on an infinitely fine grid;
        not MMPose's ``keypoint_auc`` (rectangles at ``i/n``, i = 0..n−1).

    Examples
    --------
    One keypoint, 5 px off, normaliser 100: PCK(t) is 1 for t > 0.05, so on [0, 0.1]
    the AUC is 0.5.

    >>> t, p, auc = pck_curve([[[5.0, 0.0]]], [[[0.0, 0.0, 2]]], normalizer=100.0,
    ...                       thresholds=[0.0, 0.05, 0.1])
    >>> p.tolist(), auc
    ([0.0, 0.0, 1.0], 0.5)
    """
    if average not in ("macro", "pooled"):
        raise ValueError(f"average must be 'macro' or 'pooled' for a curve, got {average!r}")
    thr = np.linspace(0.0, 0.2, 41) if thresholds is None else np.asarray(thresholds, float)
    if thr.ndim != 1 or thr.size < 2 or not np.all(np.isfinite(thr)) or thr[0] < 0:
        raise ValueError("thresholds: need at least two finite values >= 0")
    if np.any(np.diff(thr) <= 0):
        raise ValueError("thresholds must be strictly increasing")
    d, valid = keypoint_errors(pred, gt, visible, normalizer)
    with np.errstate(invalid="ignore"):
        hit = d[None] <= thr[:, None, None] if inclusive else d[None] < thr[:, None, None]
    curve = np.array([_reduce(h.astype(float), valid, average) for h in hit])
    return thr, curve, _exact_auc(d, valid, float(thr[0]), float(thr[-1]), average)


def _exact_auc(d: np.ndarray, valid: np.ndarray, t0: float, t1: float, average: str) -> float:
    # ∫_{t0}^{t1} [d < t] dt = clip(t1 − max(d, t0), 0, t1 − t0); inf distances give 0.
    with np.errstate(invalid="ignore"):
        part = np.clip((t1 - np.maximum(d, t0)) / (t1 - t0), 0.0, 1.0)
    return _reduce(np.where(valid, part, 0.0), valid, average)


def pckh(
    pred: np.ndarray,
    gt: np.ndarray,
    visible: np.ndarray | None,
    head_boxes: np.ndarray,
    threshold: float = 0.5,
    *,
    average: str = "pooled",
    exclude: Sequence[int] = (),
    inclusive: bool = False,
):
    """PCKh: PCK normalised by the MPII head size, ``0.6 ×`` the head-box diagonal.

    Parameters
    ----------
    pred, gt, visible
        As in :func:`pck`.
    head_boxes : ndarray, shape (N, 4)
        Head boxes ``[x, y, w, h]`` (kplearn's box convention; MPII stores the corners
        ``x1, y1, x2, y2``, so pass ``w = x2 − x1, h = y2 − y1``). Head size ``0.6 √(w² + h²)``.
    threshold : float
        0.5 for the standard PCKh@0.5.
    average : {"pooled", "macro", "none"}
        Default pooled: MPII's "Mean" weights every joint equally (joint-count weighted).
    exclude : sequence of int
        Keypoint indices left out; MPII's "Mean" excludes pelvis (6) and thorax (7) of the
        16-joint MPII order.
    inclusive : bool
        Default strict ``<`` (as :func:`pck`); the MPII MATLAB code uses ``<=``.

    Examples
    --------
    A 30×40 head box gives a head size of 30 px, so errors below 15 px pass PCKh@0.5:

    >>> import numpy as np
    >>> gt = np.array([[[0.0, 0.0, 2], [0.0, 0.0, 2]]])
    >>> pred = np.array([[[14.9, 0.0], [15.0, 0.0]]])
    >>> pckh(pred, gt, None, [[0, 0, 30, 40]], average="none").tolist()
    [1.0, 0.0]
    """
    boxes = np.asarray(head_boxes, dtype=np.float64)
    n = _as_batch(gt, "gt").shape[0]
    if boxes.shape != (n, 4):
        raise ValueError(f"head_boxes: expected shape ({n}, 4), got {boxes.shape}")
    if not np.all(np.isfinite(boxes)) or np.any(boxes[:, 2:] < 0):
        raise ValueError("head_boxes must be finite with w, h >= 0")
    size = 0.6 * np.hypot(boxes[:, 2], boxes[:, 3])
    vis = _exclude_mask(gt, visible, exclude)
    return pck(pred, gt, vis, size, threshold, average=average, inclusive=inclusive)


def _exclude_mask(gt, visible, exclude: Sequence[int]) -> np.ndarray | None:
    if not len(exclude):
        return visible
    shape = _as_batch(gt, "gt").shape[:2]
    mask = np.ones(shape, bool) if visible is None else np.array(visible, dtype=bool, copy=True)
    if mask.ndim == 1:
        mask = mask[None]
    idx = np.asarray(exclude, dtype=int)
    if np.any((idx < 0) | (idx >= shape[1])):
        raise ValueError(f"exclude: indices must be in 0..{shape[1] - 1}")
    mask[..., idx] = False
    return mask


# ------------------------------------------------------------------------- EPE / NME


def epe(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray | None = None) -> float:
    """End-point error: the mean Euclidean pixel error over all valid (image, keypoint) pairs.

    Pooled over N×K (MMPose ``keypoint_epe``). ``inf`` if a valid keypoint's prediction is
    missing (NaN/inf); NaN if no keypoint counts.

    Examples
    --------
    >>> float(epe([[[3.0, 4.0], [1.0, 0.0]]], [[[0.0, 0.0, 2], [0.0, 0.0, 1]]]))
    3.0
    """
    d, valid = keypoint_errors(pred, gt, visible, 1.0)
    return _reduce(np.where(valid, d, 0.0), valid, "pooled")


_EYE_CENTRES_68 = (tuple(range(36, 42)), tuple(range(42, 48)))


def _face_normalizer(gt_xy: np.ndarray, valid: np.ndarray, mode: str) -> np.ndarray:
    """Per-image inter-ocular or inter-pupil distance; NaN where its points are unlabelled."""
    k = gt_xy.shape[1]
    if mode == "interocular":
        if k != 68:
            raise ValueError(
                f"normalize='interocular' needs the 68-point layout (outer eye corners 36, 45); "
                f"got K={k}. For faces5 use 'interpupil'."
            )
        a, b = FACES68_OUTER_EYE_CORNERS
        left, right = gt_xy[:, a], gt_xy[:, b]
        ok = valid[:, a] & valid[:, b]
    elif mode == "interpupil":
        if k == 68:
            i, j = (list(x) for x in _EYE_CENTRES_68)
            left, right = gt_xy[:, i].mean(axis=1), gt_xy[:, j].mean(axis=1)
            ok = valid[:, i].all(axis=1) & valid[:, j].all(axis=1)
        elif k == 5:
            left, right = gt_xy[:, 0], gt_xy[:, 1]
            ok = valid[:, 0] & valid[:, 1]
        else:
            raise ValueError(f"normalize='interpupil' needs 68 or 5 keypoints, got K={k}")
    else:  # pragma: no cover - checked by the caller
        raise ValueError(mode)
    with np.errstate(invalid="ignore"):
        dist = np.linalg.norm(left - right, axis=-1)
    return np.where(ok, dist, np.nan)


def _nme_normalizer(gt_xy, valid, normalize, boxes) -> np.ndarray:
    n = gt_xy.shape[0]
    if isinstance(normalize, str):
        if normalize in ("interocular", "interpupil"):
            return _face_normalizer(gt_xy, valid, normalize)
        if normalize == "bbox":
            if boxes is not None:
                b = np.asarray(boxes, dtype=np.float64)
                if b.shape != (n, 4) or not np.all(np.isfinite(b)) or np.any(b[:, 2:] < 0):
                    raise ValueError(f"boxes: expected finite [x, y, w, h] of shape ({n}, 4)")
                return np.maximum(b[:, 2], b[:, 3])
            # tight box of the labelled ground-truth keypoints
            lo = np.where(valid[..., None], gt_xy, np.inf).min(axis=1)
            hi = np.where(valid[..., None], gt_xy, -np.inf).max(axis=1)
            with np.errstate(invalid="ignore"):
                size = np.max(hi - lo, axis=1)
            return np.where(valid.any(axis=1), size, np.nan)
        raise ValueError(
            f"normalize must be 'interocular', 'interpupil', 'bbox' or an array, got {normalize!r}"
        )
    a = np.asarray(normalize, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"normalize: expected a scalar or shape ({n},), got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("normalize must be finite and >= 0")
    return a


def _per_image_nme(pred, gt, visible, normalize, boxes) -> tuple[np.ndarray, np.ndarray]:
    """Normalised distances ``(N, K)`` and the valid mask after dropping unusable images."""
    p, g, valid = _prepare(pred, gt, visible)
    norm = _nme_normalizer(g, valid, normalize, boxes)
    usable = np.isfinite(norm) & (norm > 0)
    norm = np.where(usable, norm, 1.0)
    d, valid = keypoint_errors(p, g, valid, norm)
    valid &= usable[:, None]
    return np.where(valid, d, 0.0), valid


def nme(
    pred: np.ndarray,
    gt: np.ndarray,
    visible: np.ndarray | None = None,
    normalize: str | float | np.ndarray = "interocular",
    *,
    boxes: np.ndarray | None = None,
    per_image: bool = False,
):
    """Normalised mean error, as a fraction (multiply by 100 for the usual %).

    Parameters
    ----------
    pred, gt, visible
        As in :func:`keypoint_errors`.
    normalize : {"interocular", "interpupil", "bbox"} or array
        ``"interocular"``: distance between the ground-truth outer eye corners 36 and 45
        (faces68, the 300-W convention of HRNet/MMPose). ``"interpupil"``: distance between
        the eye centres (faces68: means of points 36–41 and 42–47; faces5: points 0 and 1),
        the convention of the classical SDM/ESR/LBF tables, which gives larger NMEs.
        ``"bbox"``: ``max(w, h)`` of ``boxes`` (MMPose), or of the tight box of the labelled
        ground-truth keypoints when ``boxes`` is None. An array ``(N,)`` (or a scalar) gives
        the normaliser directly. An image whose normaliser is 0 or whose normalising points
        are unlabelled is left out.
    boxes : ndarray, shape (N, 4), optional
        ``[x, y, w, h]`` boxes for ``normalize="bbox"``.
    per_image : bool
        Return the per-image NMEs ``(N,)`` (NaN for images left out) instead of the pooled mean.

    Returns
    -------
    float or ndarray
        The mean of ``‖pred − gt‖ / norm`` pooled over all valid (image, keypoint) pairs
        (MMPose); equal to the mean of per-image NMEs (HRNet-face) when every image has the
        same number of valid keypoints. ``inf`` where a prediction is missing; NaN when
        nothing counts.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((1, 68, 3)); gt[..., 2] = 2; gt[0, 45, 0] = 100.0
    >>> pred = gt[..., :2] + [3.0, 4.0]                 # every point 5 px off
    >>> round(nme(pred, gt), 6)                         # 5 / 100
    0.05
    """
    d, valid = _per_image_nme(pred, gt, visible, normalize, boxes)
    if per_image:
        count = valid.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, d.sum(axis=1) / count, np.nan)
    return _reduce(d, valid, "pooled")


def failure_rate(
    pred: np.ndarray,
    gt: np.ndarray,
    visible: np.ndarray | None = None,
    normalize: str | float | np.ndarray = "interocular",
    threshold: float = 0.10,
    *,
    boxes: np.ndarray | None = None,
) -> float:
    """Fraction of images whose per-image NME is above ``threshold`` (strictly, ``>``).

    Images left out of the NME (no usable normaliser or no valid keypoint) are left out of
    the denominator too; an image with a missing prediction has NME ``inf`` and fails.
    NaN when no image counts.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((2, 68, 3)); gt[..., 2] = 2; gt[:, 45, 0] = 100.0
    >>> pred = gt[..., :2].copy(); pred[1] += 20.0      # image 1: NME 0.28
    >>> failure_rate(pred, gt)
    0.5
    """
    per = nme(pred, gt, visible, normalize, boxes=boxes, per_image=True)
    ok = ~np.isnan(per)
    return float(np.mean(per[ok] > threshold)) if ok.any() else float("nan")


def ced_auc(errors: np.ndarray | Sequence[float], max_error: float = 0.1) -> float:
    """Area under the cumulative error distribution on ``[0, max_error]``, normalised to 1.

    The CED is the fraction of images with error ``<= e``; its AUC (the face-alignment
    "AUC@0.1" for ``max_error = 0.1``) is integrated exactly: ``mean(clip(1 − err / max_error,
    0, 1))``, the limit of the trapezoid rule on a fine grid. NaN errors are left out;
    ``inf`` errors contribute 0.

    Examples
    --------
    >>> ced_auc([0.0, 0.05, 0.2])
    0.5
    """
    e = np.asarray(errors, dtype=np.float64).ravel()
    if max_error <= 0 or not np.isfinite(max_error):
        raise ValueError("max_error must be finite and > 0")
    e = e[~np.isnan(e)]
    if np.any(e < 0):
        raise ValueError("errors must be >= 0")
    return float(np.mean(np.clip(1.0 - e / max_error, 0.0, 1.0))) if e.size else float("nan")


# ---------------------------------------------------------------------------- summaries


def face_metrics(
    pred: np.ndarray,
    gt: np.ndarray,
    *,
    failure_threshold: float = 0.10,
    auc_max: float = 0.10,
) -> dict[str, float]:
    """The face-landmark summary every kplearn model table reports.

    Parameters
    ----------
    pred : ndarray, shape (N, 68 or 5, 2|3)
        Predicted landmarks (NaN coordinates for a missing prediction).
    gt : ndarray, shape (N, 68 or 5, 3) (or ``(..., 2)``: all labelled)
        faces68 (iBUG 300-W order) or faces5 (eye centres, nose, mouth corners).

    Returns
    -------
    dict
        - ``"nme"``: pooled NME (a fraction) normalised by the inter-ocular distance (outer
          corners 36–45) for faces68, or the distance between the eye centres for faces5;
        - ``"failure_rate"``: fraction of images whose per-image NME > ``failure_threshold``;
        - ``"pck@0.05"``, ``"pck@0.1"``: PCK (macro over landmarks, strict ``<``) with the same
          inter-ocular normaliser;
        - ``"auc_ced@0.1"`` (``auc_max`` in the name): the area under the cumulative error
          distribution (CED) of per-image NME on ``[0, auc_max]``, normalised to 1 and
          integrated exactly (:func:`ced_auc`). Not the area under a PCK curve, which
          :func:`body_metrics` reports as ``"auc_pck@..."``: the two are named apart.

        A missing prediction makes ``"nme"`` infinite, counts as a failure, is never a PCK hit
        and contributes 0 to the AUC. Images whose eye points are unlabelled are left out.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((1, 68, 3)); gt[..., 2] = 2; gt[0, 45, 0] = 100.0
    >>> m = face_metrics(gt[..., :2] + [3.0, 4.0], gt)
    >>> [round(m[k], 6) for k in ("nme", "failure_rate", "pck@0.05", "pck@0.1", "auc_ced@0.1")]
    [0.05, 0.0, 0.0, 1.0, 0.5]
    """
    g = _as_batch(gt, "gt")
    k = g.shape[1]
    if k not in (68, 5):
        raise ValueError(f"face_metrics needs faces68 or faces5 landmarks, got K={k}")
    mode = "interocular" if k == 68 else "interpupil"
    p, gxy, valid = _prepare(pred, g, None)
    norm = _face_normalizer(gxy, valid, mode)
    usable = np.isfinite(norm) & (norm > 0)
    per_image = nme(p, g, None, mode, per_image=True)
    return {
        "nme": nme(p, g, None, mode),
        "failure_rate": failure_rate(p, g, None, mode, failure_threshold),
        "pck@0.05": pck(p, g, usable[:, None] & valid, np.where(usable, norm, 0.0), 0.05),
        "pck@0.1": pck(p, g, usable[:, None] & valid, np.where(usable, norm, 0.0), 0.1),
        f"auc_ced@{auc_max:g}": ced_auc(per_image, auc_max),
    }


def body_metrics(
    pred: np.ndarray,
    gt: np.ndarray,
    boxes: np.ndarray,
    *,
    auc_max: float = 0.2,
) -> dict[str, float]:
    """The body-keypoint summary (single-person crops) every kplearn model table reports.

    Parameters
    ----------
    pred : ndarray, shape (N, K, 2|3)
        Predicted keypoints in the same pixel frame as ``gt`` (NaN for missing).
    gt : ndarray, shape (N, K, 3)
        Ground truth with visibility (coco17 or any layout).
    boxes : ndarray, shape (N, 4)
        Ground-truth person boxes ``[x, y, w, h]``; the PCK normaliser is ``max(w, h)``
        (MMPose's ``'bbox'`` convention).

    Returns
    -------
    dict
        - ``"pck@0.05"``, ``"pck@0.1"``: PCK, macro over keypoints, strict ``<``;
        - ``"auc_pck@0.2"`` (``auc_max`` in the name): normalised area under the PCK curve on
          ``[0, auc_max]`` (default 0.2 of the box size), integrated exactly (see
          :func:`pck_curve`);
        - ``"epe"``: mean pixel error pooled over the labelled keypoints (``inf`` if a labelled
          keypoint's prediction is missing).

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((1, 17, 3)); gt[..., 2] = 2
    >>> m = body_metrics(gt[..., :2] + [3.0, 4.0], gt, [[0, 0, 50, 100]])
    >>> [round(m[k], 6) for k in ("pck@0.05", "pck@0.1", "auc_pck@0.2", "epe")]
    [0.0, 1.0, 0.75, 5.0]
    """
    g = _as_batch(gt, "gt")
    b = np.asarray(boxes, dtype=np.float64)
    if b.shape != (g.shape[0], 4):
        raise ValueError(f"boxes: expected shape ({g.shape[0]}, 4), got {b.shape}")
    if not np.all(np.isfinite(b)) or np.any(b[:, 2:] < 0):
        raise ValueError("boxes must be finite with w, h >= 0")
    size = np.maximum(b[:, 2], b[:, 3])
    _, _, auc = pck_curve(pred, g, None, size, [0.0, auc_max])
    return {
        "pck@0.05": pck(pred, g, None, size, 0.05),
        "pck@0.1": pck(pred, g, None, size, 0.1),
        f"auc_pck@{auc_max:g}": auc,
        "epe": epe(pred, g),
    }


# ------------------------------------------------------------------ normalisers and spreads


def face_normalizer(gt: np.ndarray, mode: str = "interocular") -> np.ndarray:
    """Per-image face normaliser of ground-truth landmarks, the one :func:`nme` uses.

    ``"interocular"``: distance between the outer eye corners (36, 45) of faces68;
    ``"interpupil"``: distance between the eye centres (mean of each eye's six points
    for faces68, points 0 and 1 for faces5). ``NaN`` where one of those points is
    unlabelled (``v = 0``).

    Parameters
    ----------
    gt : ndarray, shape (N, K, 3) (or ``(N, K, 2)``: all labelled)
    mode : {"interocular", "interpupil"}

    Returns
    -------
    ndarray, shape (N,)

    Examples
    --------
    >>> gt = np.zeros((2, 68, 3)); gt[..., 2] = 2; gt[:, 45, 0] = [60.0, 80.0]
    >>> face_normalizer(gt).tolist()
    [60.0, 80.0]
    """
    if mode not in ("interocular", "interpupil"):
        raise ValueError(f"mode must be 'interocular' or 'interpupil', got {mode!r}")
    g = _as_batch(gt, "gt")
    _, gxy, valid = _prepare(g, g, None)
    return _face_normalizer(gxy, valid, mode)


def _keypoint_batch(arr, what: str) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim != 3 or a.shape[-1] not in (2, 3):
        raise ValueError(f"{what}: expected shape (N, K, 2|3), got {a.shape}")
    return a


def spread_ratio(pred, gt, mean_shape) -> float:
    """How much of the true shape variation the predictions keep (0: all collapsed to the mean).

    ``mean ‖pred − mean_shape‖ / mean ‖gt − mean_shape‖`` over the labelled keypoints
    (``v > 0`` in ``gt``). A regressor that has learnt nothing but the average face
    predicts the mean shape for every image and scores 0; predictions that vary as
    much as the truth score about 1.

    Parameters
    ----------
    pred : ndarray (N, K, 2|3)
        Predicted keypoints (a third column is ignored).
    gt : ndarray (N, K, 3)
        Ground truth with visibility.
    mean_shape : ndarray (K, 2)
        The shape to measure the spread from (e.g. the mean training shape).

    Examples
    --------
    >>> gt = np.zeros((2, 1, 3)); gt[..., 2] = 2; gt[1, 0, 0] = 4.0
    >>> mean = np.array([[2.0, 0.0]])
    >>> spread_ratio(np.array([[[1.0, 0.0]], [[3.0, 0.0]]]), gt, mean)
    0.5
    """
    p = _keypoint_batch(pred, "pred")[..., :2]
    g = _keypoint_batch(gt, "gt")
    m = np.asarray(mean_shape, dtype=np.float64)
    if p.shape != g[..., :2].shape or m.shape != g.shape[1:2] + (2,):
        raise ValueError(f"shapes differ: pred {p.shape}, gt {g.shape}, mean_shape {m.shape}")
    vis = g[..., 2] > 0 if g.shape[-1] == 3 else np.ones(g.shape[:2], bool)
    if not vis.any():
        raise ValueError("gt has no labelled keypoint")
    if not np.all(np.isfinite(p[vis])):
        raise ValueError("pred has NaN or infinite coordinates at labelled keypoints")
    d_pred = np.linalg.norm(p - m, axis=-1)[vis].mean()
    d_gt = np.linalg.norm(g[..., :2] - m, axis=-1)[vis].mean()
    if d_gt == 0:
        raise ValueError("every ground-truth shape equals mean_shape; the spread is undefined")
    return float(d_pred / d_gt)


def mpjpe(pred, gt) -> float:
    """Mean per-joint position error: mean Euclidean distance over all joints, in the input units.

    Examples
    --------
    >>> mpjpe(np.zeros((1, 2, 3)), np.array([[[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]]]))
    3.0
    """
    p, g = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if p.shape != g.shape or p.shape[-1] != 3:
        raise ValueError(f"pred {p.shape} and gt {g.shape} must both be (N, K, 3)")
    return float(np.linalg.norm(p - g, axis=-1).mean())
