"""Drawings of keypoints, skeletons and heatmaps, and plots of results.

Every function returns a matplotlib ``Axes`` or ``Figure`` (never calls
``plt.show``), with a fixed size, a title and labelled axes, so that a notebook
cell shows it once and a test can inspect it.

Drawing conventions: visible keypoints (``v = 2``) are filled dots, labelled but
hidden ones (``v = 1``) hollow circles, unlabelled ones (``v = 0``) are not
drawn; a skeleton edge is drawn when both its ends are labelled. Predictions are
crosses joined to their ground truth by a thin error line. Points are coloured by
body/face part (``color_by="part"``), by side (``"side"``: the subject's left,
right, centre), by instance, by keypoint, or with one fixed colour.

Heatmaps are placed with kplearn's default (unbiased) convention: heatmap pixel
``j`` at stride ``s`` covers image pixels ``[j*s - 0.5, (j+1)*s - 0.5]``.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")  # no windows; the functions' examples below draw headless too
>>> import numpy as np
>>> from kplearn.viz import draw_keypoints
>>> img = np.zeros((40, 40, 3), np.uint8)
>>> kp = np.array([[12, 14, 2], [28, 14, 2], [20, 22, 1], [14, 30, 2], [26, 30, 0]], float)
>>> ax = draw_keypoints(img, kp, "faces5", title="a face")
>>> ax.get_title()
'a face'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from kplearn.skeletons import Skeleton, get_skeleton

__all__ = [
    "keypoint_colors",
    "draw_keypoints",
    "show_grid",
    "show_dataset",
    "overlay_heatmaps",
    "plot_heatmap_channels",
    "plot_pck_curves",
    "plot_bar_table",
]

_SIDE_COLOURS = {"left": "tab:blue", "right": "tab:orange", "centre": "tab:green"}
_PRED_COLOUR = "tab:red"
_EDGE_ALPHA = 0.9


# --- input checks -------------------------------------------------------------------------------


def _check_image(image, what: str = "image") -> np.ndarray:
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"{what}: expected a uint8 image, got dtype {img.dtype}")
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3) or 0 in img.shape[:2]:
        raise ValueError(f"{what}: expected shape H×W (grey) or H×W×3 (RGB), got {img.shape}")
    return img


def _as_instances(
    points, skeleton: Skeleton, what: str, third: float, layout_hint: bool
) -> np.ndarray:
    """``(K, 2|3)`` or ``(M, K, 2|3)`` -> ``(M, K, 3)``; two-column input gets ``third``.

    ``layout_hint`` names the skeleton in the shape error (for ground truth, whose ``K``
    comes from the layout the caller chose).
    """
    p = np.array(points, dtype=np.float64)
    if p.ndim == 2:
        p = p[None]
    k = skeleton.num_keypoints
    if p.ndim != 3 or p.shape[1] != k or p.shape[2] not in (2, 3):
        layout = f" for layout {skeleton.name!r}" if layout_hint else ""
        raise ValueError(
            f"{what}: expected shape ({k}, 2|3) or (M, {k}, 2|3){layout}, got {np.shape(points)}"
        )
    if p.shape[2] == 2:
        p = np.concatenate([p, np.full(p.shape[:2] + (1,), float(third))], axis=2)
    return p


def _check_instances(keypoints, skeleton: Skeleton, what: str = "keypoints") -> np.ndarray:
    """``(K, 2|3)`` or ``(M, K, 2|3)`` -> ``(M, K, 3)``, with ``v = 2`` for 2-column input."""
    kp = _as_instances(keypoints, skeleton, what, third=2.0, layout_hint=True)
    v = kp[..., 2]
    if not np.all(np.isin(v, (0, 1, 2))):
        raise ValueError(f"{what}: visibility must be 0, 1 or 2, found {np.unique(v)[:5].tolist()}")
    bad = (v > 0) & ~np.isfinite(kp[..., :2]).all(-1)
    if bad.any():
        m, j = np.argwhere(bad)[0]
        raise ValueError(
            f"{what}: instance {m}, keypoint {j} is labelled but has a NaN/inf coordinate"
        )
    return kp


def _check_predictions(predictions, skeleton: Skeleton, what: str = "predictions") -> np.ndarray:
    """Predictions ``(K, 2|3)`` or ``(M, K, 2|3)``; a third column > 0 marks a predicted point."""
    p = _as_instances(predictions, skeleton, what, third=1.0, layout_hint=False)
    shown = p[..., 2] > 0
    if (shown & ~np.isfinite(p[..., :2]).all(-1)).any():
        raise ValueError(f"{what}: a predicted keypoint has a NaN or infinite coordinate")
    return p


# --- image axes ---------------------------------------------------------------------------------


def _image_extent(img: np.ndarray) -> tuple[float, float, float, float]:
    """``(left, right, bottom, top)``: the pixel-centre extent of an image, y pointing down."""
    h, w = img.shape[:2]
    return (-0.5, w - 0.5, h - 0.5, -0.5)


def _show_image(ax: Axes, img: np.ndarray) -> None:
    """Show a uint8 image at its true grey levels (grey images in grey, not a colour map)."""
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)


def _image_axes(img: np.ndarray, ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax``, or a new ``figsize`` axes, showing ``img`` (see :func:`_frame_image`)."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    _show_image(ax, img)
    return ax


def _frame_image(ax: Axes, img: np.ndarray) -> None:
    """Limit ``ax`` to the image's pixel-centre extent and label its axes in pixels.

    Called after drawing, so points off the image do not widen the view.
    """
    left, right, bottom, top = _image_extent(img)
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")


# --- colours ------------------------------------------------------------------------------------


def _side(name: str) -> str:
    low = name.lower()
    if "left" in low:
        return "left"
    if "right" in low:
        return "right"
    return "centre"


def keypoint_colors(skeleton: Skeleton | str, color_by: str = "part") -> np.ndarray:
    """RGBA colour per keypoint, ``(K, 4)``.

    ``color_by`` is ``"part"`` (one colour per part label, a fixed palette),
    ``"side"`` (subject's left blue, right orange, centre green, from the keypoint
    names), ``"keypoint"`` (a colour per index) or any matplotlib colour.

    Examples
    --------
    >>> c = keypoint_colors("coco17", "side")
    >>> bool((c[1] == c[3]).all()), bool((c[1] == c[2]).all())  # left eye/ear vs right eye
    (True, False)
    """
    sk = get_skeleton(skeleton)
    k = sk.num_keypoints
    if color_by == "part":
        parts = sk.parts if sk.parts is not None else ("keypoint",) * k
        uniq = list(dict.fromkeys(parts))
        cmap = plt.get_cmap("tab10" if len(uniq) <= 10 else "tab20")
        lookup = {p: cmap(i % cmap.N) for i, p in enumerate(uniq)}
        return np.array([lookup[p] for p in parts])
    if color_by == "side":
        return np.array([to_rgba(_SIDE_COLOURS[_side(n)]) for n in sk.keypoint_names])
    if color_by == "keypoint":
        cmap = plt.get_cmap("hsv")
        return np.array([cmap(i / max(k, 1)) for i in range(k)])
    try:
        return np.tile(to_rgba(color_by), (k, 1))
    except ValueError:
        raise ValueError(
            f"color_by must be 'part', 'side', 'keypoint', 'instance' or a colour, got {color_by!r}"
        ) from None


def _instance_colours(m: int) -> list:
    cmap = plt.get_cmap("tab10")
    return [cmap(i % 10) for i in range(m)]


# --- keypoints on images ------------------------------------------------------------------------


def _draw_on(
    ax: Axes,
    kp: np.ndarray,
    skeleton: Skeleton,
    show_hidden: bool,
    color_by: str,
    predictions: np.ndarray | None,
    marker_size: float,
    line_width: float,
) -> None:
    """Draw ``(M, K, 3)`` keypoints (and predictions) on an axes that already shows the image."""
    m, k = kp.shape[:2]
    if color_by == "instance":
        colours = np.array([[c] * k for c in _instance_colours(m)]).reshape(m, k, 4)
    else:
        colours = np.broadcast_to(keypoint_colors(skeleton, color_by), (m, k, 4))
    v = kp[..., 2]
    drawn = (v == 2) | ((v == 1) & show_hidden)

    segments, seg_colours = [], []
    for i in range(m):
        for a, b in skeleton.edges:
            if drawn[i, a] and drawn[i, b]:
                segments.append(kp[i, [a, b], :2])
                same = color_by in ("instance",) or np.allclose(colours[i, a], colours[i, b])
                seg_colours.append(colours[i, a] if same else to_rgba("0.75"))
    if segments:
        lc = LineCollection(segments, colors=seg_colours, linewidths=line_width, zorder=2,
                            alpha=_EDGE_ALPHA)  # fmt: skip
        lc.set_gid("skeleton-edges")
        ax.add_collection(lc, autolim=False)

    vis = v == 2
    sc = ax.scatter(kp[vis][:, 0], kp[vis][:, 1], s=marker_size, c=colours[vis].reshape(-1, 4),
                    edgecolors="white", linewidths=0.6, zorder=3, label="visible")  # fmt: skip
    sc.set_gid("keypoints-visible")
    if show_hidden:
        hid = v == 1
        sc = ax.scatter(kp[hid][:, 0], kp[hid][:, 1], s=marker_size, facecolors="none",
                        edgecolors=colours[hid].reshape(-1, 4), linewidths=1.4, zorder=3,
                        label="hidden (v=1)")  # fmt: skip
        sc.set_gid("keypoints-hidden")

    if predictions is not None:
        if predictions.shape[0] != m and m != 0:
            raise ValueError(
                f"predictions: {predictions.shape[0]} instances but keypoints have {m}"
            )
        shown = predictions[..., 2] > 0
        sc = ax.scatter(predictions[shown][:, 0], predictions[shown][:, 1], s=marker_size,
                        marker="x", c=_PRED_COLOUR, linewidths=1.5, zorder=4,
                        label="prediction")  # fmt: skip
        sc.set_gid("predictions")
        if predictions.shape[0] == m:
            both = shown & (v > 0)
            errors = np.stack([kp[both][:, :2], predictions[both][:, :2]], axis=1)
            if len(errors):
                lc = LineCollection(errors, colors=_PRED_COLOUR, linewidths=0.8, zorder=3)
                lc.set_gid("errors")
                ax.add_collection(lc, autolim=False)


def draw_keypoints(
    image: np.ndarray,
    keypoints,
    skeleton: Skeleton | str,
    ax: Axes | None = None,
    show_hidden: bool = True,
    color_by: str = "part",
    title: str | None = None,
    predictions=None,
    *,
    marker_size: float = 30.0,
    line_width: float = 1.5,
    legend: bool | None = None,
    figsize: tuple[float, float] = (5.0, 5.0),
) -> Axes:
    """Draw an image with its keypoints and skeleton.

    Parameters
    ----------
    image : ndarray
        uint8, ``H×W`` or ``H×W×3`` RGB.
    keypoints : array, shape (K, 2|3) or (M, K, 2|3)
        ``x, y[, v]`` in image pixels (two columns: all visible).
    skeleton : Skeleton or str
    ax : Axes, optional
        Draw here; a new ``figsize`` figure otherwise.
    show_hidden : bool
        Draw labelled-but-hidden points (``v = 1``) as hollow circles.
    color_by : {"part", "side", "instance", "keypoint"} or a colour
    title : str, optional
        Default: the layout and the number of visible/hidden points.
    predictions : array, shape (K, 2|3) or (M, K, 2|3), optional
        Drawn as red crosses joined to the ground truth; a third column ``> 0``
        marks the points that were predicted.
    marker_size, line_width : float
    legend : bool, optional
        Show a legend (default: when predictions are given).

    Returns
    -------
    Axes

    Examples
    --------
    >>> kp = np.array([[5, 5, 2], [15, 5, 2], [10, 10, 2], [6, 15, 2], [14, 15, 2]], float)
    >>> ax = draw_keypoints(np.zeros((20, 20), np.uint8), kp, "faces5", predictions=kp[:, :2] + 1)
    >>> ax.get_xlabel()
    'x (px)'
    """
    img = _check_image(image)
    sk = get_skeleton(skeleton)
    kp = _check_instances(keypoints, sk)
    pred = None if predictions is None else _check_predictions(predictions, sk)
    ax = _image_axes(img, ax, figsize)
    _draw_on(ax, kp, sk, show_hidden, color_by, pred, marker_size, line_width)
    _frame_image(ax, img)
    if title is None:
        n_vis, n_hid = int((kp[..., 2] == 2).sum()), int((kp[..., 2] == 1).sum())
        title = f"{sk.name}: {n_vis} visible, {n_hid} hidden"
    ax.set_title(title)
    if legend or (legend is None and pred is not None):
        ax.legend(loc="upper right", fontsize="small", framealpha=0.7)
    return ax


def _check_ncols(ncols, n: int) -> int:
    """Columns of a grid of ``n`` panels: a positive integer, at most ``n``."""
    if int(ncols) != ncols or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    return min(int(ncols), n)


def _panel_grid(
    n: int,
    ncols: int,
    figsize: tuple[float, float] | None,
    cell: Callable[[int, int], tuple[float, float]],
) -> tuple[Figure, np.ndarray, list[Axes]]:
    """A figure of ``n`` panels in rows of ``ncols``; the unused cells of the last row are off.

    ``figsize`` defaults to ``cell(ncols, nrows)``. Returns the figure, the whole
    ``(nrows, ncols)`` axes array (for a shared colour bar) and the ``n`` panels in order.
    """
    nrows = math.ceil(n / ncols)
    if figsize is None:
        figsize = cell(ncols, nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained")
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    return fig, axes, list(axes.flat[:n])


def _as_list(x, n: int, what: str) -> list:
    items = list(x)
    if len(items) != n:
        raise ValueError(f"{what}: {len(items)} entries for {n} images")
    return items


def show_grid(
    images,
    keypoints,
    skeleton: Skeleton | str,
    ncols: int = 4,
    titles: Sequence[str] | None = None,
    predictions=None,
    figsize: tuple[float, float] | None = None,
    *,
    suptitle: str | None = None,
    color_by: str = "part",
    show_hidden: bool = True,
    marker_size: float = 16.0,
    line_width: float = 1.0,
) -> Figure:
    """A grid of images with their keypoints (and predictions).

    Parameters
    ----------
    images : sequence of ndarray or ndarray (N, H, W[, 3])
        uint8; sizes may differ.
    keypoints : sequence or ndarray
        Per image ``(K, 2|3)`` or ``(M, K, 2|3)``.
    skeleton : Skeleton or str
    ncols : int
    titles : sequence of str, optional
        One per image (default ``#i``).
    predictions : sequence or ndarray, optional
        Per image, as in :func:`draw_keypoints`.
    figsize : (float, float), optional
        Default 2.6 inches per cell.
    suptitle : str, optional
        Figure title (default: the number of images and the layout).

    Returns
    -------
    Figure

    Examples
    --------
    >>> imgs = np.zeros((3, 20, 20), np.uint8)
    >>> kps = np.tile(np.array([[5, 5, 2], [15, 5, 2], [10, 10, 2], [6, 15, 2], [14, 15, 2]], float),
    ...               (3, 1, 1))
    >>> fig = show_grid(imgs, kps, "faces5", ncols=2)
    >>> len(fig.axes)
    4
    """
    sk = get_skeleton(skeleton)
    imgs = list(images)
    n = len(imgs)
    if n == 0:
        raise ValueError("show_grid: no images")
    ncols = _check_ncols(ncols, n)
    kps = _as_list(keypoints, n, "keypoints")
    preds = None if predictions is None else _as_list(predictions, n, "predictions")
    names = (
        [f"#{i}" for i in range(n)]
        if titles is None
        else [str(t) for t in _as_list(titles, n, "titles")]
    )
    fig, _, panels = _panel_grid(n, ncols, figsize, lambda c, r: (2.6 * c, 2.6 * r + 0.4))
    for i, ax in enumerate(panels):
        draw_keypoints(
            imgs[i], kps[i], sk, ax=ax, show_hidden=show_hidden, color_by=color_by, title=names[i],
            predictions=None if preds is None else preds[i], marker_size=marker_size,
            line_width=line_width, legend=False,
        )  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    if suptitle is None:
        suptitle = f"{n} images, layout {sk.name}" + (
            " (red crosses: predictions)" if preds else ""
        )
    fig.suptitle(suptitle)
    return fig


def show_dataset(dataset, n: int = 8, ncols: int = 4, seed: int | None = None, **kwargs) -> Figure:
    """Show ``n`` samples of a :class:`~kplearn.data.datasets.KeypointDataset` in a grid.

    The first ``n`` samples, or a seeded random choice when ``seed`` is given;
    titles are the sample names. Extra keyword arguments go to :func:`show_grid`.
    """
    if len(dataset) == 0:
        raise ValueError("show_dataset: the dataset is empty")
    n = min(int(n), len(dataset))
    if seed is None:
        idx = np.arange(n)
    else:
        idx = np.sort(np.random.default_rng(seed).permutation(len(dataset))[:n])
    samples = [dataset[int(i)] for i in idx]
    titles = kwargs.pop("titles", None) or [
        s.name or f"#{int(i)}" for s, i in zip(samples, idx, strict=True)
    ]
    kwargs.setdefault("suptitle", f"{dataset.name or 'dataset'}: {n} of {len(dataset)} samples "
                                  f"({dataset.skeleton.name})")  # fmt: skip
    return show_grid([s.image for s in samples], [s.keypoints for s in samples], dataset.skeleton,
                     ncols=ncols, titles=titles, **kwargs)  # fmt: skip


# --- heatmaps -----------------------------------------------------------------------------------


def _check_heatmaps(heatmaps, what: str = "heatmaps") -> np.ndarray:
    hm = heatmaps.detach().cpu().numpy() if hasattr(heatmaps, "detach") else np.asarray(heatmaps)
    hm = hm.astype(np.float64)
    if hm.ndim == 2:
        hm = hm[None]
    if hm.ndim != 3 or 0 in hm.shape:
        raise ValueError(
            f"{what}: expected shape (K, H', W') or (H', W'), got {np.shape(heatmaps)}"
        )
    if not np.all(np.isfinite(hm)):
        raise ValueError(f"{what}: NaN or infinite values")
    return hm


def overlay_heatmaps(
    image: np.ndarray,
    heatmaps,
    keypoints=None,
    alpha: float = 0.5,
    ax: Axes | None = None,
    *,
    skeleton: Skeleton | str | None = None,
    channels: Sequence[int] | None = None,
    cmap: str = "jet",
    title: str | None = None,
    colorbar: bool = False,
    figsize: tuple[float, float] = (5.0, 5.0),
) -> Axes:
    """Overlay heatmaps (their maximum over keypoints) on the image.

    The heatmaps may be smaller than the image (stride ``s = W / W'``); they are
    placed with the unbiased convention, so a peak at heatmap pixel ``j`` lies over
    image coordinate ``(j + 0.5) * s - 0.5``.

    Parameters
    ----------
    image : ndarray
        uint8, ``H×W`` or ``H×W×3``.
    heatmaps : array, shape (K, H', W') or (H', W')
        numpy or torch.
    keypoints : array, optional
        Drawn on top: ``(K, 2|3)`` or ``(M, K, 2|3)``; with ``skeleton`` as in
        :func:`draw_keypoints`, otherwise as white dots.
    alpha : float
        Opacity of the heatmap layer.
    channels : sequence of int, optional
        Only these keypoints' maps.
    colorbar : bool
        Add a colour bar (values scaled to the maximum).

    Returns
    -------
    Axes
    """
    img = _check_image(image)
    hm = _check_heatmaps(heatmaps)
    if channels is not None:
        idx = np.asarray(channels, dtype=int).reshape(-1)
        if idx.size == 0 or idx.min() < -hm.shape[0] or idx.max() >= hm.shape[0]:
            raise ValueError(
                f"channels: indices must be in 0..{hm.shape[0] - 1}, got {list(channels)}"
            )
        hm = hm[idx]
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    combined = hm.max(axis=0)
    peak = combined.max()
    if peak > 0:
        combined = combined / peak
    ax = _image_axes(img, ax, figsize)
    layer = ax.imshow(combined, cmap=cmap, alpha=alpha, vmin=0.0, vmax=1.0,
                      extent=_image_extent(img), interpolation="bilinear")  # fmt: skip
    layer.set_gid("heatmap-overlay")
    if keypoints is not None:
        if skeleton is not None:
            sk = get_skeleton(skeleton)
            _draw_on(ax, _check_instances(keypoints, sk), sk, True, "part", None, 30.0, 1.5)
        else:
            kp = np.array(keypoints, dtype=np.float64).reshape(-1, np.shape(keypoints)[-1])
            if kp.shape[-1] not in (2, 3):
                raise ValueError(f"keypoints: expected (..., 2|3), got {np.shape(keypoints)}")
            shown = kp[:, 2] > 0 if kp.shape[-1] == 3 else np.ones(len(kp), bool)
            if not np.all(np.isfinite(kp[shown, :2])):
                raise ValueError("keypoints: a labelled keypoint has a NaN or infinite coordinate")
            sc = ax.scatter(kp[shown, 0], kp[shown, 1], s=20, c="white", edgecolors="black",
                            linewidths=0.6, zorder=3)  # fmt: skip
            sc.set_gid("keypoints-visible")
    if colorbar:
        ax.figure.colorbar(layer, ax=ax, fraction=0.046, pad=0.02, label="heatmap / max")
    _frame_image(ax, img)
    stride = img.shape[1] / hm.shape[2]
    ax.set_title(title if title is not None else f"{hm.shape[0]} heatmaps, max (stride {stride:g})")
    return ax


def plot_heatmap_channels(
    heatmaps,
    skeleton: Skeleton | str | None = None,
    ncols: int = 6,
    *,
    channels: Sequence[int] | None = None,
    names: Sequence[str] | None = None,
    image: np.ndarray | None = None,
    alpha: float = 0.6,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    cmap: str = "viridis",
) -> Figure:
    """One panel per heatmap channel, titled with the keypoint name.

    All panels share one colour scale (0 to the largest value), shown by a colour
    bar. With ``image`` each map is laid over the image (unbiased placement).

    Parameters
    ----------
    heatmaps : array, shape (K, H', W')
    skeleton : Skeleton or str, optional
        For panel titles (keypoint names).
    ncols : int
    channels : sequence of int, optional
        Which channels to show (default all).
    names : sequence of str, optional
        Panel titles, overriding the skeleton's names.
    image : ndarray, optional
        uint8 image the heatmaps belong to.

    Returns
    -------
    Figure
    """
    hm = _check_heatmaps(heatmaps)
    k = hm.shape[0]
    idx = list(range(k)) if channels is None else [int(c) for c in channels]
    if not idx or min(idx) < 0 or max(idx) >= k:
        raise ValueError(f"channels: indices must be in 0..{k - 1}, got {channels!r}")
    if names is not None:
        if len(names) != k:
            raise ValueError(f"names: {len(names)} names for {k} heatmaps")
        labels = list(names)
    elif skeleton is not None:
        sk = get_skeleton(skeleton)
        if sk.num_keypoints != k:
            raise ValueError(
                f"{k} heatmaps but layout {sk.name!r} has {sk.num_keypoints} keypoints"
            )
        labels = list(sk.keypoint_names)
    else:
        labels = [f"keypoint {i}" for i in range(k)]
    img = None if image is None else _check_image(image)
    n = len(idx)
    ncols = _check_ncols(ncols, n)
    fig, axes, panels = _panel_grid(n, ncols, figsize, lambda c, r: (2.2 * c + 0.8, 2.2 * r + 0.4))
    vmax = max(float(hm[idx].max()), 1e-12)
    vmin = min(float(hm[idx].min()), 0.0)
    layer = None
    for c, ax in zip(idx, panels, strict=True):
        if img is not None:
            _show_image(ax, img)
            layer = ax.imshow(hm[c], cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax,
                              extent=_image_extent(img))  # fmt: skip
        else:
            layer = ax.imshow(hm[c], cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_title(labels[c], fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(layer, ax=axes, shrink=0.8, label="heatmap value")
    fig.suptitle(title if title is not None else f"heatmaps, {n} of {k} channels")
    return fig


# --- result plots -------------------------------------------------------------------------------


def plot_pck_curves(
    curves: Mapping[str, Sequence],
    title: str = "PCK curve",
    xlabel: str = "threshold (fraction of the normaliser)",
    ylabel: str = "PCK (fraction of keypoints within threshold)",
    *,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (6.0, 4.0),
) -> Figure:
    """Plot PCK against threshold for several methods.

    Thresholds must increase along each curve; PCK may be given as fractions or as
    percentages (the y axis follows).

    Parameters
    ----------
    curves : dict
        ``name -> (thresholds, pck)`` or ``name -> (thresholds, pck, auc)``; with an
        AUC (as returned by ``kplearn.metrics.pck_curve``) the legend shows it.
    title, xlabel, ylabel : str
    ax : Axes, optional

    Returns
    -------
    Figure

    Examples
    --------
    >>> t = np.linspace(0, 0.2, 5)
    >>> fig = plot_pck_curves({"mean shape": (t, t * 2), "cnn": (t, np.sqrt(t / 0.2), 0.6)})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['mean shape', 'cnn (AUC 0.600)']
    """
    if not curves:
        raise ValueError("plot_pck_curves: no curves")
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    top = 1.0
    for name, curve in curves.items():
        if len(curve) not in (2, 3):
            raise ValueError(
                f"curve {name!r}: expected (thresholds, pck) or (thresholds, pck, auc)"
            )
        thr = np.asarray(curve[0], dtype=np.float64).reshape(-1)
        val = np.asarray(curve[1], dtype=np.float64).reshape(-1)
        if thr.shape != val.shape or thr.size == 0:
            raise ValueError(f"curve {name!r}: {thr.size} thresholds but {val.size} PCK values")
        if not (np.all(np.isfinite(thr)) and np.all(np.isfinite(val))):
            raise ValueError(f"curve {name!r}: NaN or infinite values")
        if np.any(np.diff(thr) <= 0):
            raise ValueError(f"curve {name!r}: thresholds must increase")
        label = str(name) if len(curve) == 2 else f"{name} (AUC {float(curve[2]):.3f})"
        ax.plot(thr, val, marker="o" if thr.size <= 12 else None, markersize=3, label=label)
        top = max(top, float(val.max()))
    ax.set_ylim(0, 102.0 if top > 1.0 else 1.02)  # fractions or percentages; room for the top line
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def plot_bar_table(
    table: Mapping[str, Mapping[str, float]],
    title: str = "Comparison",
    metrics: Sequence[str] | None = None,
    *,
    errors: Mapping[str, Mapping[str, float]] | None = None,
    lower_is_better: Iterable[str] = (),
    ncols: int = 3,
    fmt: str = "{:.3g}",
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Bar charts comparing methods, one panel per metric (metrics may have different units).

    Parameters
    ----------
    table : dict
        ``method -> {metric -> value}``. A missing or non-finite value is shown as "n/a".
    title : str
        Figure title.
    metrics : sequence of str, optional
        Which metrics, in order (default: all, in first-seen order).
    errors : dict, optional
        Same layout as ``table``: error-bar half-widths (e.g. a standard deviation).
    lower_is_better : iterable of str
        Metrics whose panel says "lower is better" (NME, failure rate, ms/image ...);
        the others say "higher is better".
    ncols : int
        Panels per row.
    fmt : str
        Format of the value printed on each bar.

    Returns
    -------
    Figure

    Examples
    --------
    >>> fig = plot_bar_table({"hog-svm": {"nme": 0.08, "ms": 12.0}, "cnn": {"nme": 0.05, "ms": 3.0}},
    ...                      lower_is_better=["nme", "ms"])
    >>> [ax.get_title() for ax in fig.axes]
    ['nme', 'ms']
    """
    if not table:
        raise ValueError("plot_bar_table: empty table")
    methods = [str(m) for m in table]
    if metrics is None:
        metrics = list(dict.fromkeys(k for row in table.values() for k in row))
    metrics = [str(m) for m in metrics]
    if not metrics:
        raise ValueError("plot_bar_table: no metrics")
    lower = set(lower_is_better)
    ncols = max(1, min(int(ncols), len(metrics)))  # lenient: 0 means one column
    panel_width = max(3.2, 0.7 * len(methods) + 1.6)
    fig, _, panels = _panel_grid(
        len(metrics), ncols, figsize, lambda c, r: (panel_width * c, 3.2 * r + 0.4)
    )
    colours = [plt.get_cmap("tab10")(i % 10) for i in range(len(methods))]
    x = np.arange(len(methods))
    for metric, ax in zip(metrics, panels, strict=True):
        vals = np.array([float(table[m].get(metric, np.nan)) for m in table], dtype=np.float64)
        errs = None
        if errors is not None:
            errs = np.array([float(errors.get(m, {}).get(metric, 0.0)) for m in table])
        ok = np.isfinite(vals)
        heights = np.where(ok, vals, 0.0)
        bars = ax.bar(x, heights, color=colours, yerr=errs, capsize=3 if errs is not None else 0)
        for i, bar in enumerate(bars):
            if not ok[i]:
                bar.set_visible(False)
            text = fmt.format(vals[i]) if ok[i] else "n/a"
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, heights[i]), ha="center",
                        va="bottom", fontsize="small", xytext=(0, 2),
                        textcoords="offset points")  # fmt: skip
        tilt = len(methods) > 3  # long method names overlap when many
        ax.set_xticks(x, methods, rotation=30 if tilt else 0, ha="right" if tilt else "center")
        ax.set_title(metric)
        ax.set_ylabel(f"{metric} ({'lower' if metric in lower else 'higher'} is better)")
        ax.set_xlabel("method")
        ax.margins(y=0.15)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(title)
    return fig
