"""Predictions with errors of a known size, to see what each metric measures.

:func:`simulate_predictions` adds a bias, Gaussian noise and gross outliers to
ground-truth keypoints; :func:`simulate_detections` turns a COCO ground truth into
COCO keypoint results whose errors are set relative to OKS's falloff, with missed
people and false positives. Both are seeded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kplearn.metrics.oks import resolve_sigmas

__all__ = ["simulate_predictions", "simulate_detections"]


def simulate_predictions(
    gt: np.ndarray,
    rng: np.random.Generator,
    *,
    noise: float = 1.0,
    bias: Sequence[float] = (0.0, 0.0),
    outlier_fraction: float = 0.0,
    outlier_error: float = 20.0,
) -> np.ndarray:
    """Predictions with known errors: ground truth + bias + Gaussian noise (+ gross outliers).

    Parameters
    ----------
    gt : ndarray, shape (N, K, 2|3)
        Ground-truth keypoints in pixels.
    rng : numpy.random.Generator
    noise : float
        Standard deviation (px) of the Gaussian error on each coordinate.
    bias : (float, float)
        A constant shift (px) added to every point.
    outlier_fraction : float
        Fraction of *images* (chosen at random) whose every point also moves by
        ``outlier_error`` px in one random direction per point.
    outlier_error : float
        Size (px) of that extra error.

    Returns
    -------
    ndarray, shape (N, K, 2)

    Examples
    --------
    >>> gt = np.zeros((2, 3, 3))
    >>> pred = simulate_predictions(gt, np.random.default_rng(0), noise=0.0, bias=(1.0, -2.0))
    >>> pred[0, 0].tolist()
    [1.0, -2.0]
    """
    g = np.asarray(gt, dtype=np.float64)
    if g.ndim != 3 or g.shape[-1] not in (2, 3):
        raise ValueError(f"gt: expected shape (N, K, 2 or 3), got {g.shape}")
    if not (noise >= 0 and outlier_error >= 0 and 0.0 <= outlier_fraction <= 1.0):
        raise ValueError("noise and outlier_error must be >= 0, outlier_fraction in [0, 1]")
    n, k = g.shape[:2]
    pred = (
        g[..., :2]
        + np.asarray(bias, dtype=np.float64).reshape(2)
        + rng.normal(0.0, noise, (n, k, 2))
    )
    bad = rng.permutation(n)[: int(round(outlier_fraction * n))]
    theta = rng.uniform(0.0, 2.0 * np.pi, (len(bad), k))
    pred[bad] += outlier_error * np.stack([np.cos(theta), np.sin(theta)], -1)
    return pred


def simulate_detections(
    coco: dict,
    seed: int = 0,
    *,
    noise: float = 0.5,
    miss_rate: float = 0.1,
    false_positives: int = 3,
    sigmas: Sequence[float] | None = None,
) -> list[dict]:
    """COCO keypoint results for a ground-truth dict, with errors of a known size.

    Each non-crowd ground truth with labelled keypoints is detected with
    probability ``1 - miss_rate``. A detection moves keypoint ``i`` by a Gaussian
    of standard deviation ``noise × σ_i × sqrt(area)`` per axis, the scale at which
    OKS measures errors: a keypoint's expected similarity is ``1 / (1 + noise² / 4)``
    (0.8 for ``noise = 1``). Unlabelled keypoints are guessed at the labelled
    points' centroid. The score is the detection's own similarity to its ground
    truth over all keypoints, times a random factor in ``[0.8, 1]`` (better
    detections tend to score higher, as with a real detector). ``false_positives``
    detections are added at random places of random images, with low scores.

    Parameters
    ----------
    coco : dict
        COCO keypoints ground truth (``images``, ``annotations``, ``categories``).
    seed : int
    noise : float
        Error scale relative to the OKS falloff.
    miss_rate : float
        Probability of missing a person.
    false_positives : int
        Spurious detections in total, spread over random images.
    sigmas : sequence of float, optional
        Per-keypoint sigmas (default: COCO's for 17 keypoints).

    Returns
    -------
    list of dict
        ``image_id``, ``category_id``, ``keypoints`` (flat ``x, y, 1`` list) and ``score``.

    Examples
    --------
    >>> gt = {"images": [{"id": 1, "width": 50, "height": 50}], "categories": [{"id": 1}],
    ...       "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
    ...                        "area": 400.0, "keypoints": [10, 10, 2] * 17}]}
    >>> dt = simulate_detections(gt, noise=0.0, miss_rate=0.0, false_positives=0)
    >>> dt[0]["keypoints"][:3], 0.8 <= dt[0]["score"] <= 1.0
    ([10.0, 10.0, 1], True)
    """
    if not (noise >= 0 and 0.0 <= miss_rate <= 1.0 and int(false_positives) >= 0):
        raise ValueError("noise must be >= 0, miss_rate in [0, 1], false_positives >= 0")
    rng = np.random.default_rng(seed)
    anns = [a for a in coco["annotations"] if not a.get("iscrowd", 0)]
    if not anns and not coco["images"]:
        return []
    k = len(anns[0]["keypoints"]) // 3 if anns else 17
    s = resolve_sigmas(sigmas, k)
    results = []
    for ann in anns:
        kp = np.asarray(ann["keypoints"], dtype=np.float64).reshape(k, 3)
        lab = kp[:, 2] > 0
        missed = rng.random() < miss_rate
        err = rng.normal(0.0, 1.0, (k, 2)) * (noise * s * np.sqrt(max(ann["area"], 1.0)))[:, None]
        factor = rng.uniform(0.8, 1.0)
        if missed or not lab.any():
            continue
        xy = np.where(lab[:, None], kp[:, :2], kp[lab, :2].mean(0)) + err
        similarity = np.exp(-np.sum(err**2, 1) / (2 * max(ann["area"], 1.0) * (2 * s) ** 2))
        score = float(np.mean(similarity) * factor)
        results.append(_result(ann["image_id"], ann["category_id"], xy, score))
    images = coco["images"]
    cat = coco["categories"][0]["id"] if coco.get("categories") else 1
    for _ in range(int(false_positives)):
        img = images[int(rng.integers(len(images)))]
        w, h = img.get("width", 100), img.get("height", 100)
        centre = rng.uniform([0.2 * w, 0.2 * h], [0.8 * w, 0.8 * h])
        xy = centre + rng.normal(0.0, 0.1 * min(w, h), (k, 2))
        results.append(_result(img["id"], cat, xy, float(rng.uniform(0.05, 0.4))))
    return results


def _result(image_id, category_id, xy: np.ndarray, score: float) -> dict:
    flat: list = []
    for x, y in xy:
        flat += [round(float(x), 2), round(float(y), 2), 1]
    return {
        "image_id": image_id,
        "category_id": category_id,
        "keypoints": flat,
        "score": round(score, 4),
    }
