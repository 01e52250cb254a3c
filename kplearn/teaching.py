"""Small helpers the lesson notebooks share, so that their cells stay short.

Nothing here is a keypoint method of its own: these are the bits of plumbing a
lesson needs around the library (where the sample files are, whether widgets
can be shown, a drawing of interest points, warps with a known homography, and
simulated predictions with known errors for the lesson on metrics).

Examples
--------
>>> import numpy as np
>>> H = centred_similarity((100, 80), scale=2.0)
>>> np.round(H @ [49.5, 39.5, 1.0], 6).tolist()  # the image centre stays put
[49.5, 39.5, 1.0]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "sample_path",
    "interactive",
    "plot_interest_points",
    "plot_matches",
    "centred_similarity",
    "warp_homography",
    "simulate_predictions",
    "simulate_detections",
    "work_frames",
    "window_features_at",
    "sample_negative_centres",
    "hard_negatives",
]

#: Environment variable that forces interactive widgets on ("1") or off ("0").
INTERACTIVE_ENV = "KPLEARN_INTERACTIVE"


# --------------------------------------------------------------------------- files


def sample_path(*parts: str) -> Path:
    """Path of a file or folder in the repository's ``datasets/`` sample folder.

    The folder sits beside the ``kplearn`` package in a source checkout; the
    current directory's ``datasets/`` and ``../datasets/`` (a notebook run from
    ``notebooks/``) are tried too.

    Parameters
    ----------
    *parts : str
        Path components below ``datasets/``, e.g. ``"coco", "person_keypoints_tiny.json"``.

    Raises
    ------
    FileNotFoundError
        When no candidate exists; the message lists the places tried.

    Examples
    --------
    >>> sample_path("coco", "person_keypoints_tiny.json").name
    'person_keypoints_tiny.json'
    """
    candidates = [
        Path(__file__).resolve().parents[1] / "datasets",
        Path.cwd() / "datasets",
        Path.cwd().parent / "datasets",
    ]
    for root in candidates:
        path = root.joinpath(*parts)
        if path.exists():
            return path
    tried = ", ".join(str(root.joinpath(*parts)) for root in candidates)
    raise FileNotFoundError(
        f"sample file {'/'.join(parts)!r} not found (tried {tried}); "
        "the samples ship with the kplearn source checkout"
    )


# ---------------------------------------------------------------------- front end


def interactive() -> bool:
    """Whether widgets can be shown: ipywidgets is installed and a person is at the front end.

    Batch runners (nbval, nbclient, ``kplearn lessons run``) execute cells with
    ``allow_stdin=False``, while Jupyter front ends allow input, so the kernel's
    current ``allow_stdin`` tells the two apart. ``KPLEARN_INTERACTIVE=0`` or ``1``
    overrides the guess (``1`` still needs ipywidgets and an IPython kernel).

    Examples
    --------
    >>> interactive()  # a plain Python process has no front end
    False
    """
    forced = os.environ.get(INTERACTIVE_ENV, "").strip()
    if forced == "0":
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return False
    if forced == "1":
        return True
    return bool(getattr(kernel, "_allow_stdin", False))


# ------------------------------------------------------------------ interest points


def plot_interest_points(
    image: np.ndarray,
    keypoints,
    ax=None,
    *,
    title: str | None = None,
    show_scale: bool = True,
    color: str = "yellow",
    figsize: tuple[float, float] = (5.0, 4.0),
):
    """Draw interest points on an image: dots, with a circle of the detector's scale.

    Parameters
    ----------
    image : ndarray
        ``uint8`` grey or RGB.
    keypoints : Keypoints or ndarray (N, 2)
        :class:`kplearn.classical.interest.Keypoints` (``scale`` is drawn as a circle of
        that diameter and ``angle`` as a radius, where defined) or plain ``x, y``.
    ax : matplotlib Axes, optional
    title : str, optional
        Default: the method and the number of points.
    show_scale : bool
        Draw scale circles and orientations.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import EllipseCollection, LineCollection

    from kplearn.classical.interest import Keypoints

    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise ValueError(f"image: expected uint8 H×W or H×W×3, got {img.dtype} {img.shape}")
    if isinstance(keypoints, Keypoints):
        xy, scale, angle, method = keypoints.xy, keypoints.scale, keypoints.angle, keypoints.method
    else:
        xy = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
        scale = angle = None
        method = ""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    h, w = img.shape[:2]
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
    if show_scale and scale is not None and len(xy):
        d = np.asarray(scale, dtype=np.float64)
        circles = EllipseCollection(d, d, np.zeros_like(d), units="xy", offsets=xy,
                                    offset_transform=ax.transData, facecolors="none",
                                    edgecolors=color, linewidths=0.7)  # fmt: skip
        ax.add_collection(circles)
        has = np.isfinite(angle)
        if has.any():
            t = np.deg2rad(angle[has])
            ends = xy[has] + 0.5 * d[has, None] * np.stack([np.cos(t), np.sin(t)], 1)
            ax.add_collection(LineCollection(np.stack([xy[has], ends], 1), colors=color,
                                             linewidths=0.7))  # fmt: skip
    ax.scatter(xy[:, 0], xy[:, 1], s=6, c=color, edgecolors="black", linewidths=0.3)
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")
    ax.set_title(title if title is not None else f"{method or 'points'}: {len(xy)} points")
    return ax


def plot_matches(
    image1: np.ndarray,
    image2: np.ndarray,
    xy1,
    xy2,
    matches: np.ndarray,
    correct: np.ndarray | None = None,
    ax=None,
    *,
    title: str | None = None,
    max_lines: int = 200,
    figsize: tuple[float, float] = (10.0, 4.0),
):
    """Draw two images side by side with lines between matched points.

    Parameters
    ----------
    image1, image2 : ndarray
        ``uint8`` images of the same height (grey or RGB; grey is shown as RGB).
    xy1, xy2 : Keypoints or ndarray (N, 2)
        Points of each image.
    matches : ndarray (P, 2) int
        Index pairs into ``xy1`` and ``xy2``.
    correct : ndarray (P,) bool, optional
        Colours the lines green (True) and red (False); one colour otherwise.
    max_lines : int
        Draw at most this many matches (an even sample, in order).

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    def rgb(img: np.ndarray) -> np.ndarray:
        img = np.asarray(img)
        if img.dtype != np.uint8 or img.ndim not in (2, 3):
            raise ValueError(f"images: expected uint8 H×W or H×W×3, got {img.dtype} {img.shape}")
        return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img

    a, b = rgb(image1), rgb(image2)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"images must have the same height, got {a.shape[0]} and {b.shape[0]}")
    p1 = getattr(xy1, "xy", xy1)
    p2 = getattr(xy2, "xy", xy2)
    p1 = np.asarray(p1, dtype=np.float64).reshape(-1, 2)
    p2 = np.asarray(p2, dtype=np.float64).reshape(-1, 2)
    m = np.asarray(matches, dtype=np.int64).reshape(-1, 2)
    if correct is not None:
        correct = np.asarray(correct, dtype=bool)
        if correct.shape != (len(m),):
            raise ValueError(f"correct: expected shape ({len(m)},), got {correct.shape}")
    keep = np.unique(np.linspace(0, len(m) - 1, min(len(m), int(max_lines))).astype(int)) if len(m) else []
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    offset = a.shape[1]
    ax.imshow(np.concatenate([a, b], axis=1))
    segments = [(p1[i], p2[j] + [offset, 0.0]) for i, j in m[keep]]
    if correct is None:
        colours = ["yellow"] * len(segments)
    else:
        colours = ["lime" if ok else "red" for ok in correct[keep]]
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=0.7, alpha=0.8))
    ax.set_xlim(-0.5, offset + b.shape[1] - 0.5)
    ax.set_ylim(a.shape[0] - 0.5, -0.5)
    ax.set_xlabel("x (px; second image shifted right)")
    ax.set_ylabel("y (px)")
    if title is None:
        title = f"{len(m)} matches" + (f", {int(correct.sum())} correct" if correct is not None else "")
    ax.set_title(title)
    return ax


# ---------------------------------------------------------------------- homographies


def centred_similarity(
    size: tuple[int, int], scale: float = 1.0, angle_deg: float = 0.0
) -> np.ndarray:
    """3×3 homography that zooms by ``scale`` and turns by ``angle_deg`` about the image centre.

    The centre is ``((W - 1) / 2, (H - 1) / 2)`` in the pixel-centre convention;
    a positive angle turns the content counter-clockwise on screen.

    Examples
    --------
    >>> H = centred_similarity((11, 11), angle_deg=90.0)
    >>> np.round(H @ [10.0, 5.0, 1.0], 6).tolist()  # the right edge's middle goes to the top
    [5.0, 0.0, 1.0]
    """
    w, h = (int(s) for s in size)
    if w < 1 or h < 1:
        raise ValueError(f"size must be positive (width, height), got {size!r}")
    if not (np.isfinite(scale) and scale > 0 and np.isfinite(angle_deg)):
        raise ValueError(f"scale must be finite and > 0 and the angle finite, got {scale}, {angle_deg}")
    c = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    t = np.deg2rad(angle_deg)
    # y points down, so [[cos, sin], [-sin, cos]] turns the content counter-clockwise on screen.
    rot = scale * np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    H = np.eye(3)
    H[:2, :2] = rot
    H[:2, 2] = c - rot @ c
    return H


def warp_homography(image: np.ndarray, H: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Warp ``image`` so that pixel ``x`` moves to ``H x`` (pixel centres to pixel centres).

    ``cv2.warpPerspective`` with bilinear interpolation; pixels that see nothing are 0.
    ``size`` is the output ``(width, height)`` (default: the input's).

    Examples
    --------
    >>> img = np.zeros((5, 5), np.uint8); img[1, 1] = 255
    >>> shift = np.array([[1.0, 0, 2], [0, 1, 1], [0, 0, 1]])
    >>> int(warp_homography(img, shift)[2, 3])
    255
    """
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise ValueError(f"image: expected uint8 H×W or H×W×3, got {img.dtype} {img.shape}")
    H = np.asarray(H, dtype=np.float64)
    if H.shape != (3, 3) or not np.all(np.isfinite(H)):
        raise ValueError(f"H: expected a finite 3×3 matrix, got shape {H.shape}")
    out_size = (img.shape[1], img.shape[0]) if size is None else tuple(int(s) for s in size)
    return cv2.warpPerspective(img, H, out_size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip


# ------------------------------------------------------------- simulated predictions


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
    pred = g[..., :2] + np.asarray(bias, dtype=np.float64).reshape(2) + rng.normal(0.0, noise, (n, k, 2))
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
    from kplearn.metrics.oks import resolve_sigmas

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
    return {"image_id": image_id, "category_id": category_id, "keypoints": flat, "score": round(score, 4)}


# ------------------------------------------------------------- HOG patch experts


def work_frames(dataset, work_size: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Grey working images and keypoints of a single-instance dataset, as the HOG + SVM model sees them.

    Each whole image is resized to a ``work_size`` square (the classical
    localisers' working frame, :func:`kplearn.classical.localiser.crop_to_work`).

    Returns
    -------
    works : ndarray, shape (N, work_size, work_size), float32 in [0, 1]
    keypoints : ndarray, shape (N, K, 3)
        ``x, y`` in working-frame pixels, ``v`` unchanged.

    Examples
    --------
    >>> from kplearn.data.datasets import KeypointDataset, Sample
    >>> kp = np.zeros((1, 5, 3)); kp[0, :, 0] = 39.5; kp[0, :, 2] = 2
    >>> ds = KeypointDataset([Sample(np.zeros((40, 80), np.uint8), kp)], "faces5")
    >>> works, kpw = work_frames(ds, 40)
    >>> works.shape, float(kpw[0, 0, 0])
    ((1, 40, 40), 19.5)
    """
    from kplearn.classical.localiser import crop_to_work, image_box, to_work

    if len(dataset) == 0:
        raise ValueError("work_frames: empty dataset")
    kp = dataset.keypoints_array().copy()
    works = []
    for i, sample in enumerate(dataset):
        work, matrix = crop_to_work(sample.image, image_box(sample.image), work_size)
        works.append(work)
        kp[i, :, :2] = to_work(kp[i, :, :2], matrix)
    return np.stack(works), kp


def window_features_at(blocks: Sequence[np.ndarray], grid, centres: np.ndarray) -> np.ndarray:
    """HOG window features centred on given points, image by image.

    Parameters
    ----------
    blocks : sequence of ndarray
        :meth:`kplearn.classical.hog_svm.HogGrid.blocks` of each image.
    grid : HogGrid
    centres : ndarray, shape (N, P, 2)
        ``P`` window centres ``x, y`` (working px) per image; each snaps to the
        nearest grid position, clipped to the grid.

    Returns
    -------
    ndarray, shape (N * P, grid.feature_size), float32
        Rows in image order, then point order.
    """
    from kplearn.classical.hog_svm import window_features

    c = np.asarray(centres, dtype=np.float64)
    if c.ndim != 3 or c.shape[-1] != 2 or len(c) != len(blocks):
        raise ValueError(f"centres: expected shape ({len(blocks)}, P, 2), got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("centres: NaN or infinite coordinates")
    g = np.clip(grid.index_of(c), 0, grid.size - 1)
    return np.concatenate([window_features(b, grid, g[i, :, 1], g[i, :, 0]) for i, b in enumerate(blocks)])


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
    (rejection sampling from the ring's bounding square).

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
    (:func:`kplearn.classical.hog_svm.response_maps`), drops the windows within
    ``min_dist`` px of the image's true keypoint, and returns the centres of the
    ``n_per_image`` best remaining ones.

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
        Window centres ``x, y`` (working px).
    """
    from kplearn.classical.hog_svm import response_maps

    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.shape != (len(blocks), 2):
        raise ValueError(f"keypoints: expected shape ({len(blocks)}, 2), got {kp.shape}")
    c = grid.centres()
    out = np.zeros((len(blocks), int(n_per_image), 2))
    for i, b in enumerate(blocks):
        score = response_maps(b, grid, np.asarray(weights)[None], np.atleast_1d(bias))[0]
        far = (c[None, :] - kp[i, 0]) ** 2 + (c[:, None] - kp[i, 1]) ** 2 >= min_dist**2
        score = np.where(far, score, -np.inf)
        best = np.argsort(score, axis=None)[::-1][: int(n_per_image)]
        gy, gx = np.unravel_index(best, score.shape)
        out[i] = np.stack([c[gx], c[gy]], axis=1)
    return out
