"""Evaluating interest points under a known homography: repeatability, matching score and
homography accuracy (the Mikolajczyk et al. 2005 / HPatches protocol, with points, not
regions).

Definitions (``H`` maps image 1 to image 2; ``ε`` in pixels of image 2)
-----------------------------------------------------------------------
Shared region
    A point of image 1 is *shared* when ``H x`` lies inside image 2; a point of image 2
    is shared when ``H⁻¹ x`` lies inside image 1. "Inside" is the pixel-centre extent
    ``[-0.5, W - 0.5] × [-0.5, H - 0.5]``. Only shared points count anywhere below; let
    ``n1`` and ``n2`` be their numbers.
Repeatability
    Warp the shared points of image 1 into image 2 and pair them one-to-one with the
    shared points of image 2, greedily: among all pairs with ``|H x_i - y_j| <= ε``, take
    the closest, remove both points, repeat (ties: lower ``i``, then lower ``j``). This is
    the assignment of Mikolajczyk's ``repeatability.m``, with distance in place of region
    overlap; being one-to-one, a cluster of detections cannot be counted twice, and
    points at one position with different orientations (SIFT) pair with their copies.
    ``repeatability = pairs / min(n1, n2)``, in ``[0, 1]``.
    (SuperPoint's variant, which counts points of both images with *any* neighbour within
    ``ε`` and divides by ``n1 + n2``, gives similar but not identical numbers.)
Matching score
    Of the descriptor matches (one-to-one, e.g. ratio test + mutual check), those between
    two shared points with ``|H x_i - y_j| <= ε`` are *correct*;
    ``matching score = correct / min(n1, n2)`` — the fraction of the detections that a
    descriptor matcher gets right, so it is bounded by the repeatability up to ties.
Corner error
    Map the four corners of image 1 (``(-0.5, -0.5)``, ``(W - 0.5, -0.5)``,
    ``(W - 0.5, H - 0.5)``, ``(-0.5, H - 0.5)``) with the estimated and with the true
    homography; the corner error is the mean distance between the two, in pixels of
    image 2 (the HPatches homography-estimation error). A failed estimate (``None``)
    scores ``inf``.

When ``min(n1, n2) == 0`` (say a constant image), repeatability and matching score are
undefined and returned as ``NaN``; averaging code should use ``np.nanmean`` and report
how many pairs were undefined.

Examples
--------
>>> xy = np.array([[10.0, 10.0], [50.0, 20.0]])
>>> H = np.array([[1.0, 0, 2], [0, 1, 0], [0, 0, 1]])  # 2 px to the right
>>> repeatability(xy, xy + [2.0, 0.0], H, (64, 64))
1.0
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy.spatial import cKDTree

from kplearn._checks import check_homography
from kplearn.classical.interest import (
    Keypoints,
    detect_and_describe,
    estimate_homography,
    match_descriptors,
    warp_points,
)

__all__ = [
    "image_size",
    "inside_image",
    "image_corners",
    "shared_masks",
    "repeated_pairs",
    "repeatability_counts",
    "repeatability",
    "correct_matches",
    "matching_score",
    "corner_error",
    "evaluate_pair",
]


def _xy(points, name: str) -> np.ndarray:
    if isinstance(points, Keypoints):
        return points.xy
    points = np.asarray(points, dtype=np.float64)
    if points.size == 0:
        return points.reshape(0, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"{name} must have shape (N, 2) or be Keypoints, got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError(f"{name} contains NaN or inf")
    return points


def _size(size, name: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be (width, height), got {size!r}") from None
    if width <= 0 or height <= 0:
        raise ValueError(f"{name} must be positive (width, height), got {size!r}")
    return width, height


def _homography(H, name: str = "H") -> np.ndarray:
    return check_homography(H, name, invertible=True)


def image_size(image: np.ndarray) -> tuple[int, int]:
    """``(width, height)`` of an image array (sizes are (w, h) throughout kplearn).

    Examples
    --------
    >>> image_size(np.zeros((240, 320, 3), np.uint8))
    (320, 240)
    """
    return int(image.shape[1]), int(image.shape[0])


def inside_image(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Boolean mask of points inside ``[-0.5, W - 0.5] × [-0.5, H - 0.5]`` (NaN: outside).

    Examples
    --------
    >>> inside_image(np.array([[-0.5, 0.0], [9.6, 0.0]]), (10, 10)).tolist()
    [True, False]
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    width, height = _size(size, "size")
    with np.errstate(invalid="ignore"):
        return (
            (points[:, 0] >= -0.5)
            & (points[:, 0] <= width - 0.5)
            & (points[:, 1] >= -0.5)
            & (points[:, 1] <= height - 0.5)
        )


def image_corners(size: tuple[int, int]) -> np.ndarray:
    """The four corners ``(4, 2)`` of an image's pixel-centre extent, clockwise from top-left.

    Examples
    --------
    >>> image_corners((4, 2)).tolist()
    [[-0.5, -0.5], [3.5, -0.5], [3.5, 1.5], [-0.5, 1.5]]
    """
    width, height = _size(size, "size")
    return np.array(
        [[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5], [-0.5, height - 0.5]]
    )


def shared_masks(xy1, xy2, H, size1, size2=None) -> tuple[np.ndarray, np.ndarray]:
    """Which points of each image lie in the region both images see.

    Parameters
    ----------
    xy1, xy2 : ndarray (N1, 2), (N2, 2) or Keypoints
        Points in image 1 and image 2.
    H : ndarray (3, 3)
        Homography from image 1 to image 2.
    size1, size2 : (width, height)
        Image sizes (``size2`` defaults to ``size1``).

    Returns
    -------
    mask1, mask2 : ndarray of bool
        ``mask1[i]``: ``H x_i`` is inside image 2; ``mask2[j]``: ``H⁻¹ y_j`` is inside image 1.
    """
    xy1, xy2 = _xy(xy1, "xy1"), _xy(xy2, "xy2")
    H = _homography(H)
    size2 = size1 if size2 is None else size2
    mask1 = inside_image(warp_points(xy1, H), size2)
    mask2 = inside_image(warp_points(xy2, np.linalg.inv(H)), size1)
    return mask1, mask2


def _greedy_pairs(points1: np.ndarray, points2: np.ndarray, eps: float) -> np.ndarray:
    """One-to-one pairs within ``eps``, closest first (ties: lower index of 1, then of 2)."""
    if len(points1) == 0 or len(points2) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    candidates = cKDTree(points1).sparse_distance_matrix(
        cKDTree(points2), max_distance=eps, output_type="ndarray"
    )
    order = np.lexsort((candidates["j"], candidates["i"], candidates["v"]))
    used1 = np.zeros(len(points1), dtype=bool)
    used2 = np.zeros(len(points2), dtype=bool)
    pairs = []
    for i, j in zip(candidates["i"][order], candidates["j"][order], strict=True):
        if not used1[i] and not used2[j]:
            used1[i] = used2[j] = True
            pairs.append((i, j))
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return pairs[np.argsort(pairs[:, 0], kind="stable")]


def repeated_pairs(xy1, xy2, H, size1, size2=None, eps: float = 3.0) -> np.ndarray:
    """Pairs ``(i, j)`` of shared points repeated within ``eps`` px after warping ``xy1``
    into image 2: the greedy one-to-one assignment of the module notes.

    Returns
    -------
    ndarray (P, 2) int64
        Indices into ``xy1`` and ``xy2``, sorted by ``i``.

    Examples
    --------
    >>> xy1 = np.array([[10.0, 10.0], [11.0, 10.0]])  # two detections ...
    >>> xy2 = np.array([[10.5, 10.0]])                 # ... compete for one
    >>> repeated_pairs(xy1, xy2, np.eye(3), (64, 64)).tolist()
    [[0, 0]]
    """
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    xy1, xy2 = _xy(xy1, "xy1"), _xy(xy2, "xy2")
    mask1, mask2 = shared_masks(xy1, xy2, H, size1, size2)
    idx1, idx2 = np.flatnonzero(mask1), np.flatnonzero(mask2)
    pairs = _greedy_pairs(warp_points(xy1[idx1], H), xy2[idx2], eps)
    return np.column_stack([idx1[pairs[:, 0]], idx2[pairs[:, 1]]]).astype(np.int64)


def repeatability_counts(xy1, xy2, H, size1, size2=None, eps: float = 3.0) -> tuple[int, int, int]:
    """``(n_repeated, n1_shared, n2_shared)``; see :func:`repeatability`."""
    mask1, mask2 = shared_masks(xy1, xy2, H, size1, size2)
    pairs = repeated_pairs(xy1, xy2, H, size1, size2, eps)
    return len(pairs), int(mask1.sum()), int(mask2.sum())


def repeatability(xy1, xy2, H, size1, size2=None, eps: float = 3.0) -> float:
    """Fraction of shared detections found again: ``repeated / min(n1_shared, n2_shared)``.

    Parameters
    ----------
    xy1, xy2 : ndarray (N1, 2), (N2, 2) or Keypoints
        Detections in image 1 and image 2.
    H : ndarray (3, 3)
        True homography from image 1 to image 2.
    size1, size2 : (width, height)
        Image sizes (``size2`` defaults to ``size1``).
    eps : float
        Distance threshold (px, in image 2).

    Returns
    -------
    float
        In ``[0, 1]``; ``NaN`` when either image has no shared detection.

    Examples
    --------
    >>> xy = np.array([[10.0, 10.0], [30.0, 30.0]])
    >>> repeatability(xy, xy + [[1.0, 0.0], [4.0, 0.0]], np.eye(3), (64, 64), eps=3)
    0.5
    """
    n_repeated, n1, n2 = repeatability_counts(xy1, xy2, H, size1, size2, eps)
    return float("nan") if min(n1, n2) == 0 else n_repeated / min(n1, n2)


def _check_matches(matches, n1: int, n2: int) -> np.ndarray:
    matches = np.asarray(matches)
    if matches.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if matches.ndim != 2 or matches.shape[1] != 2 or not np.issubdtype(matches.dtype, np.integer):
        raise ValueError(f"matches must be an integer array (P, 2), got {matches.shape}")
    if (matches < 0).any() or (matches[:, 0] >= n1).any() or (matches[:, 1] >= n2).any():
        raise ValueError("matches index outside the point arrays")
    return matches.astype(np.int64)


def correct_matches(xy1, xy2, matches, H, eps: float = 3.0) -> np.ndarray:
    """Boolean mask over ``matches``: ``|H x_i - y_j| <= eps`` (px in image 2).

    Examples
    --------
    >>> xy = np.array([[10.0, 10.0], [30.0, 30.0]])
    >>> correct_matches(xy, xy, np.array([[0, 0], [0, 1]]), np.eye(3)).tolist()
    [True, False]
    """
    xy1, xy2 = _xy(xy1, "xy1"), _xy(xy2, "xy2")
    H = _homography(H)
    matches = _check_matches(matches, len(xy1), len(xy2))
    if len(matches) == 0:
        return np.zeros(0, dtype=bool)
    warped = warp_points(xy1[matches[:, 0]], H)
    with np.errstate(invalid="ignore"):
        return np.linalg.norm(warped - xy2[matches[:, 1]], axis=1) <= eps


def matching_score(xy1, xy2, matches, H, size1, size2=None, eps: float = 3.0) -> float:
    """Correct one-to-one matches between shared points over ``min(n1_shared, n2_shared)``.

    Parameters
    ----------
    xy1, xy2 : ndarray or Keypoints
        The matched detections (those that were described).
    matches : ndarray (P, 2) int
        One-to-one index pairs, e.g. from ``match_descriptors(..., mutual=True)``; repeated
        indices raise ``ValueError`` (they could count one detection twice).
    H, size1, size2, eps
        As in :func:`repeatability`.

    Returns
    -------
    float
        In ``[0, 1]``; ``NaN`` when either image has no shared detection.

    Examples
    --------
    >>> xy = np.array([[10.0, 10.0], [30.0, 30.0], [50.0, 50.0]])
    >>> matching_score(xy, xy, np.array([[0, 0], [1, 2]]), np.eye(3), (64, 64))
    0.3333333333333333
    """
    xy1, xy2 = _xy(xy1, "xy1"), _xy(xy2, "xy2")
    matches = _check_matches(matches, len(xy1), len(xy2))
    for column, name in ((0, "image 1"), (1, "image 2")):
        if len(np.unique(matches[:, column])) != len(matches):
            raise ValueError(
                f"matches reuse a point of {name}; the matching score needs one-to-one "
                "matches (use match_descriptors(..., mutual=True))"
            )
    mask1, mask2 = shared_masks(xy1, xy2, H, size1, size2)
    n_shared = min(int(mask1.sum()), int(mask2.sum()))
    if n_shared == 0:
        return float("nan")
    good = correct_matches(xy1, xy2, matches, H, eps)
    if len(matches):
        good &= mask1[matches[:, 0]] & mask2[matches[:, 1]]
    return int(good.sum()) / n_shared


def corner_error(H_estimated, H_true, size: tuple[int, int]) -> float:
    """Mean distance (px) between image 1's corners mapped by the estimated and true ``H``.

    ``H_estimated=None`` (a failed estimate) gives ``inf``.

    Examples
    --------
    >>> shift = np.array([[1.0, 0, 3], [0, 1, 4], [0, 0, 1]])
    >>> corner_error(shift, np.eye(3), (100, 50))
    5.0
    """
    H_true = _homography(H_true, "H_true")
    if H_estimated is None:
        return float("inf")
    H_estimated = np.asarray(H_estimated, dtype=np.float64)
    if H_estimated.shape != (3, 3):
        raise ValueError(f"H_estimated must be 3×3, got shape {H_estimated.shape}")
    if not np.isfinite(H_estimated).all():
        return float("inf")
    corners = image_corners(size)
    error = np.linalg.norm(warp_points(corners, H_estimated) - warp_points(corners, H_true), axis=1)
    return float(error.mean()) if np.isfinite(error).all() else float("inf")


def evaluate_pair(
    image1: np.ndarray,
    image2: np.ndarray,
    H: np.ndarray,
    method: str = "sift",
    *,
    max_points: int | None = 500,
    eps: float = 3.0,
    ratio: float | None = 0.8,
    ransac_threshold: float = 3.0,
    seed: int = 0,
    timer: Callable[[], float] = time.perf_counter,
    **params,
) -> dict:
    """Run one detector on an image pair with known geometry and score it.

    ``params`` go to the detector. Detects and describes both images (:func:`~kplearn.classical.interest.detect_and_describe`),
    matches with the ratio test and mutual check, fits ``H`` with RANSAC, and scores
    repeatability (on all detections), matching score and corner error.

    Returns
    -------
    dict
        ``n1``, ``n2`` (detections), ``n1_shared``, ``n2_shared``, ``n_repeated``,
        ``repeatability``, ``n_matches``, ``n_correct``, ``matching_score``, ``n_inliers``,
        ``corner_error`` (``inf`` when fewer than 4 matches or RANSAC fails), ``H`` (the
        estimate or ``None``) and ``ms_per_image`` (detection + description, mean of the
        two images, measured with ``timer``: wall clock by default; pass
        ``time.process_time`` for CPU time, steadier on a busy machine).

    Examples
    --------
    >>> import skimage.data
    >>> image = skimage.data.astronaut()
    >>> result = evaluate_pair(image, image, np.eye(3), "orb", max_points=200)
    >>> result["repeatability"], result["corner_error"] < 0.5
    (1.0, True)
    """
    H = _homography(H)
    size1, size2 = image_size(image1), image_size(image2)
    start = timer()
    kp1, d1 = detect_and_describe(image1, method, max_points, **params)
    middle = timer()
    kp2, d2 = detect_and_describe(image2, method, max_points, **params)
    stop = timer()

    n_repeated, n1_shared, n2_shared = repeatability_counts(kp1, kp2, H, size1, size2, eps)
    n_shared = min(n1_shared, n2_shared)
    matches = match_descriptors(d1, d2, ratio=ratio, mutual=True)
    good = correct_matches(kp1, kp2, matches, H, eps)
    if len(matches):
        mask1, mask2 = shared_masks(kp1, kp2, H, size1, size2)
        good &= mask1[matches[:, 0]] & mask2[matches[:, 1]]
    H_est, inliers = None, np.zeros(len(matches), dtype=bool)
    if len(matches) >= 4:
        H_est, inliers = estimate_homography(
            kp1.xy[matches[:, 0]], kp2.xy[matches[:, 1]], ransac_threshold, seed
        )
    return {
        "n1": len(kp1),
        "n2": len(kp2),
        "n1_shared": n1_shared,
        "n2_shared": n2_shared,
        "n_repeated": n_repeated,
        "repeatability": float("nan") if n_shared == 0 else n_repeated / n_shared,
        "n_matches": len(matches),
        "n_correct": int(good.sum()),
        "matching_score": float("nan") if n_shared == 0 else int(good.sum()) / n_shared,
        "n_inliers": int(inliers.sum()),
        "corner_error": corner_error(H_est, H, size1),
        "H": H_est,
        "ms_per_image": 1000.0 * ((middle - start) + (stop - middle)) / 2.0,
    }
