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
Region repeatability
    The repeatability above asks only whether a point comes back *near* where it should;
    it ignores the scale a detector reports, so under a zoom it still counts a detector
    whose one fixed-size window now covers a different piece of the scene. Mikolajczyk et al. (2005) compare *regions*
    instead: a detection counts as repeated when the overlap error
    ``1 - area(A ∩ B) / area(A ∪ B)`` between its region mapped by ``H`` and a region
    detected in image 2 is below 40 %. Here every region is the disc of diameter
    ``scale`` (:class:`~kplearn.classical.interest.Keypoints`; the detectors in kplearn
    are not affine-covariant, so discs, not ellipses). A disc of radius ``r`` at ``x``
    is mapped to the disc of radius ``r·sqrt(|det J_H(x)|)`` at ``H x``, where
    ``det J_H(x) = det(H) / w³`` (``w`` the third coordinate of ``H [x, 1]``) is the
    local area scale of the warp: exact for similarities (zooms, turns, shifts), the
    equal-area disc of the true ellipse otherwise. Pairs are assigned one-to-one as for
    the repeatability, lowest overlap error first, and divided by ``min(n1, n2)`` of the
    same shared points. Two concentric discs with radius ratio ``z`` have overlap error
    ``1 - 1/z²``, so a detector whose scale does not follow a zoom ``z >= sqrt(1/0.6)
    ≈ 1.29`` repeats nothing. (The paper also rescales each pair so that the reference
    region has a 30 px radius before measuring the overlap; that is not done here, so a
    point's position tolerance grows with its own scale: about 0.39 ``r`` for two equal
    discs.)
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
    "disc_overlap_error",
    "homography_area_scale",
    "region_pairs",
    "region_repeatability_counts",
    "region_repeatability",
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


def _candidates(points1: np.ndarray, points2: np.ndarray, max_distance: float) -> np.ndarray:
    """All index pairs ``(i, j)`` closer than ``max_distance``, with their distance ``v``."""
    return cKDTree(points1).sparse_distance_matrix(
        cKDTree(points2), max_distance=max_distance, output_type="ndarray"
    )


def _greedy_one_to_one(
    i: np.ndarray, j: np.ndarray, cost: np.ndarray, n1: int, n2: int
) -> np.ndarray:
    """One-to-one pairs among candidates ``(i, j)``, lowest ``cost`` first (ties: lower
    ``i``, then lower ``j``); returned sorted by ``i``."""
    order = np.lexsort((j, i, cost))
    used1 = np.zeros(n1, dtype=bool)
    used2 = np.zeros(n2, dtype=bool)
    pairs = []
    for a, b in zip(i[order], j[order], strict=True):
        if not used1[a] and not used2[b]:
            used1[a] = used2[b] = True
            pairs.append((a, b))
    pairs = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return pairs[np.argsort(pairs[:, 0], kind="stable")]


def _greedy_pairs(points1: np.ndarray, points2: np.ndarray, eps: float) -> np.ndarray:
    """One-to-one pairs within ``eps``, closest first (ties: lower index of 1, then of 2)."""
    if len(points1) == 0 or len(points2) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    c = _candidates(points1, points2, eps)
    return _greedy_one_to_one(c["i"], c["j"], c["v"], len(points1), len(points2))


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
    return _per_shared(n_repeated, min(n1, n2))


def disc_overlap_error(centre1, radius1, centre2, radius2) -> np.ndarray:
    """Overlap error ``1 - area(A ∩ B) / area(A ∪ B)`` of discs ``A`` and ``B`` (broadcasts).

    Parameters
    ----------
    centre1, centre2 : array_like (..., 2)
        Disc centres.
    radius1, radius2 : array_like (...)
        Radii, ``> 0``.

    Returns
    -------
    ndarray
        In ``[0, 1]``: 0 for identical discs, 1 for disjoint ones; ``1 - (r / R)²`` for
        concentric discs of radii ``r <= R``.

    Examples
    --------
    >>> float(disc_overlap_error([0.0, 0.0], 2.0, [0.0, 0.0], 4.0))  # concentric: 1 - 1/4
    0.75
    >>> round(float(disc_overlap_error([0.0, 0.0], 4.0, [1.0, 0.0], 4.0)), 5)
    0.27399
    """
    c1, c2 = np.asarray(centre1, dtype=np.float64), np.asarray(centre2, dtype=np.float64)
    r1, r2 = np.broadcast_arrays(np.asarray(radius1, np.float64), np.asarray(radius2, np.float64))
    if not ((r1 > 0).all() and (r2 > 0).all()):
        raise ValueError("disc radii must be > 0")
    d = np.linalg.norm(c1 - c2, axis=-1)
    d, r1, r2 = np.broadcast_arrays(d, r1, r2)
    small, large = np.minimum(r1, r2), np.maximum(r1, r2)
    inter = np.where(d <= large - small, np.pi * small**2, 0.0)  # one disc inside the other
    lens = (d > large - small) & (d < r1 + r2)  # the boundaries cross: a lens
    if lens.any():
        dl, a, b = d[lens], r1[lens], r2[lens]
        cos_a = np.clip((dl**2 + a**2 - b**2) / (2 * dl * a), -1.0, 1.0)
        cos_b = np.clip((dl**2 + b**2 - a**2) / (2 * dl * b), -1.0, 1.0)
        kite = (-dl + a + b) * (dl + a - b) * (dl - a + b) * (dl + a + b)
        inter = inter.copy()
        inter[lens] = (a**2 * np.arccos(cos_a) + b**2 * np.arccos(cos_b)
                       - 0.5 * np.sqrt(np.maximum(kite, 0.0)))  # fmt: skip
    union = np.pi * (r1**2 + r2**2) - inter
    return 1.0 - inter / union


def homography_area_scale(H, points) -> np.ndarray:
    """Local area scale ``|det J_H(x)| = |det H| / |w|³`` of a homography at ``points``.

    ``w`` is the third coordinate of ``H [x, y, 1]ᵀ``; the result does not depend on the
    scaling of ``H``. A disc of radius ``r`` at ``x`` maps to a region of area
    ``π r² |det J_H(x)|``: for a zoom by ``s``, ``s²`` everywhere.

    Examples
    --------
    >>> H = np.array([[2.0, 0, 5], [0, 2, -3], [0, 0, 1]])  # zoom 2 and a shift
    >>> homography_area_scale(H, np.array([[0.0, 0.0], [10.0, 20.0]])).tolist()
    [4.0, 4.0]
    """
    H = _homography(H)
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    w = points @ H[2, :2] + H[2, 2]
    with np.errstate(divide="ignore"):
        return np.abs(np.linalg.det(H)) / np.abs(w) ** 3


def _regions(points, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(N, 2)`` and radii ``(N,)`` of Keypoints or an ``(N, 3)`` ``x, y, scale`` array."""
    if isinstance(points, Keypoints):
        xy, scale = points.xy, points.scale
    else:
        array = np.asarray(points, dtype=np.float64)
        array = array.reshape(0, 3) if array.size == 0 else array
        if array.ndim != 2 or array.shape[1] != 3:
            raise ValueError(
                f"{name} must be Keypoints or an (N, 3) array x, y, scale; got {array.shape}"
            )
        xy, scale = _xy(array[:, :2], name), array[:, 2]
    if not (np.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError(f"{name}: every scale (region diameter) must be finite and > 0")
    return xy, 0.5 * scale


def region_pairs(kp1, kp2, H, size1, size2=None, max_overlap_error: float = 0.4) -> np.ndarray:
    """Pairs ``(i, j)`` of shared detections whose regions overlap with an error below
    ``max_overlap_error``, one-to-one, lowest error first (see the module notes).

    Parameters
    ----------
    kp1, kp2 : Keypoints or ndarray (N, 3)
        Detections of image 1 and image 2; the region of a detection is the disc of
        diameter ``scale`` (an array gives ``x, y, scale`` per row).
    H : ndarray (3, 3)
        True homography from image 1 to image 2.
    size1, size2 : (width, height)
        Image sizes (``size2`` defaults to ``size1``).
    max_overlap_error : float
        In ``(0, 1]``; Mikolajczyk et al. use 0.4.

    Returns
    -------
    ndarray of int64, shape (P, 2)
        Rows ``(i, j)``: indices into ``kp1`` and ``kp2``, sorted by ``i``.

    Examples
    --------
    >>> zoom2 = np.diag([2.0, 2.0, 1.0])
    >>> kp1 = np.array([[10.0, 10.0, 4.0]])                       # a disc of radius 2 ...
    >>> kp2 = np.array([[20.0, 20.0, 4.0], [20.5, 20.0, 8.0]])    # ... becomes radius 4
    >>> region_pairs(kp1, kp2, zoom2, (64, 64)).tolist()
    [[0, 1]]
    """
    if not 0 < max_overlap_error <= 1:
        raise ValueError(f"max_overlap_error must be in (0, 1], got {max_overlap_error}")
    xy1, r1 = _regions(kp1, "kp1")
    xy2, r2 = _regions(kp2, "kp2")
    mask1, mask2 = shared_masks(xy1, xy2, H, size1, size2)
    idx1, idx2 = np.flatnonzero(mask1), np.flatnonzero(mask2)
    if len(idx1) == 0 or len(idx2) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    H = _homography(H)
    centres = warp_points(xy1[idx1], H)
    radii = r1[idx1] * np.sqrt(homography_area_scale(H, xy1[idx1]))
    # Discs that do not touch have overlap error 1: only nearer pairs are candidates.
    c = _candidates(centres, xy2[idx2], float(radii.max() + r2[idx2].max()))
    error = disc_overlap_error(centres[c["i"]], radii[c["i"]], xy2[idx2][c["j"]], r2[idx2][c["j"]])
    keep = error < max_overlap_error
    pairs = _greedy_one_to_one(c["i"][keep], c["j"][keep], error[keep], len(idx1), len(idx2))
    return np.column_stack([idx1[pairs[:, 0]], idx2[pairs[:, 1]]]).astype(np.int64)


def region_repeatability_counts(
    kp1, kp2, H, size1, size2=None, max_overlap_error: float = 0.4
) -> tuple[int, int, int]:
    """``(n_repeated, n1_shared, n2_shared)``; see :func:`region_repeatability`."""
    xy1, xy2 = _regions(kp1, "kp1")[0], _regions(kp2, "kp2")[0]
    mask1, mask2 = shared_masks(xy1, xy2, H, size1, size2)
    pairs = region_pairs(kp1, kp2, H, size1, size2, max_overlap_error)
    return len(pairs), int(mask1.sum()), int(mask2.sum())


def region_repeatability(kp1, kp2, H, size1, size2=None, max_overlap_error: float = 0.4) -> float:
    """Region-overlap repeatability (Mikolajczyk et al. 2005): shared detections whose
    scale region is found again with an overlap error below ``max_overlap_error``, over
    ``min(n1_shared, n2_shared)``.

    Unlike :func:`repeatability`, a detection is repeated only when its *size* follows
    the warp too; see the module notes.

    Parameters
    ----------
    kp1, kp2, H, size1, size2, max_overlap_error
        As in :func:`region_pairs`.

    Returns
    -------
    float
        The repeated fraction, in ``[0, 1]``, or ``NaN`` when nothing is shared (as for
        :func:`repeatability`).

    Examples
    --------
    A zoom by 1.5 about the origin; one detector's regions grow with it, the other's
    keep their size. Both are "repeated" within 3 px, but only the first by region:

    >>> zoom = np.diag([1.5, 1.5, 1.0])
    >>> kp1 = np.array([[10.0, 10.0, 6.0], [30.0, 20.0, 6.0]])
    >>> follows = np.array([[15.0, 15.0, 9.0], [45.0, 30.0, 9.0]])
    >>> fixed = np.array([[15.0, 15.0, 6.0], [45.0, 30.0, 6.0]])
    >>> region_repeatability(kp1, follows, zoom, (64, 64)), region_repeatability(kp1, fixed, zoom, (64, 64))
    (1.0, 0.0)
    >>> repeatability(kp1[:, :2], fixed[:, :2], zoom, (64, 64))
    1.0
    """
    n_repeated, n1, n2 = region_repeatability_counts(kp1, kp2, H, size1, size2, max_overlap_error)
    return _per_shared(n_repeated, min(n1, n2))


def _per_shared(count: int, n_shared: int) -> float:
    """``count / n_shared``, ``NaN`` when no point is shared (the score is undefined)."""
    return float("nan") if n_shared == 0 else count / n_shared


def _check_matches(matches, n1: int, n2: int) -> np.ndarray:
    matches = np.asarray(matches)
    if matches.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if matches.ndim != 2 or matches.shape[1] != 2 or not np.issubdtype(matches.dtype, np.integer):
        raise ValueError(f"matches must be an integer array (P, 2), got {matches.shape}")
    if (matches < 0).any() or (matches[:, 0] >= n1).any() or (matches[:, 1] >= n2).any():
        raise ValueError("matches index outside the point arrays")
    return matches.astype(np.int64)


def _correct_between_shared(xy1, xy2, matches, H, masks, eps: float) -> np.ndarray:
    """:func:`correct_matches`, and both ends shared (``masks`` from :func:`shared_masks`)."""
    good = correct_matches(xy1, xy2, matches, H, eps)
    if len(matches):
        mask1, mask2 = masks
        good &= mask1[matches[:, 0]] & mask2[matches[:, 1]]
    return good


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
        As :func:`repeatability`'s: in ``[0, 1]``, ``NaN`` without shared detections.

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
    masks = shared_masks(xy1, xy2, H, size1, size2)
    n_shared = min(int(masks[0].sum()), int(masks[1].sum()))
    if n_shared == 0:
        return float("nan")
    good = _correct_between_shared(xy1, xy2, matches, H, masks, eps)
    return _per_shared(int(good.sum()), n_shared)


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
    max_overlap_error: float = 0.4,
    ratio: float | None = 0.8,
    ransac_threshold: float = 3.0,
    seed: int = 0,
    timer: Callable[[], float] = time.perf_counter,
    **params,
) -> dict:
    """Run one detector on an image pair with known geometry and score it.

    ``params`` go to the detector. Detects and describes both images (:func:`~kplearn.classical.interest.detect_and_describe`),
    matches with the ratio test and mutual check, fits ``H`` with RANSAC, and scores
    repeatability (within ``eps`` px) and region repeatability (overlap error below
    ``max_overlap_error``), both on all detections, matching score and corner error.

    Returns
    -------
    dict
        ``n1``, ``n2`` (detections), ``n1_shared``, ``n2_shared``, ``n_repeated``,
        ``repeatability``, ``n_region_repeated``, ``region_repeatability``, ``n_matches``, ``n_correct``, ``matching_score``, ``n_inliers``,
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
    n_region_repeated = len(region_pairs(kp1, kp2, H, size1, size2, max_overlap_error))
    matches = match_descriptors(d1, d2, ratio=ratio, mutual=True)
    masks = shared_masks(kp1, kp2, H, size1, size2)
    good = _correct_between_shared(kp1, kp2, matches, H, masks, eps)
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
        "repeatability": _per_shared(n_repeated, n_shared),
        "n_region_repeated": n_region_repeated,
        "region_repeatability": _per_shared(n_region_repeated, n_shared),
        "n_matches": len(matches),
        "n_correct": int(good.sum()),
        "matching_score": _per_shared(int(good.sum()), n_shared),
        "n_inliers": int(inliers.sum()),
        "corner_error": corner_error(H_est, H, size1),
        "H": H_est,
        "ms_per_image": 1000.0 * ((middle - start) + (stop - middle)) / 2.0,
    }
