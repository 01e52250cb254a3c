"""Drawings of interest points: detections with their scale and orientation, and matches.

Both functions take the points as :class:`kplearn.classical.interest.Keypoints`
(what the detectors return) or as plain ``(N, 2)`` ``x, y`` arrays, and return
a matplotlib ``Axes`` with a title and labelled axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import EllipseCollection, LineCollection

from kplearn.viz.keypoints import _frame_image, _image_axes

__all__ = ["plot_interest_points", "plot_matches"]


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

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_interest_points(np.zeros((20, 30), np.uint8), [[5.0, 5.0], [20.0, 10.0]])
    >>> ax.get_title()
    'points: 2 points'
    """
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
    ax = _image_axes(img, ax, figsize)
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
    _frame_image(ax, img)
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
        The two images side by side, the second shifted right by the first's width.

    Examples
    --------
    >>> img = np.zeros((20, 30), np.uint8)
    >>> pts = np.array([[5.0, 5.0], [20.0, 10.0]])
    >>> plot_matches(img, img, pts, pts, np.array([[0, 0], [1, 1]]), np.array([True, False])).get_title()
    '2 matches, 1 correct'
    """

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
    keep = (
        np.unique(np.linspace(0, len(m) - 1, min(len(m), int(max_lines))).astype(int))
        if len(m)
        else []
    )
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
        title = f"{len(m)} matches" + (
            f", {int(correct.sum())} correct" if correct is not None else ""
        )
    ax.set_title(title)
    return ax
