"""Drawings for the classical localisers: response maps, chosen peaks, cascade stages.

Each function takes a fitted model and one image, runs the model's
``explain`` method and draws what it returns, in image pixels. Figures have a
fixed size, titles and labelled axes; nothing calls ``plt.show``.

Examples
--------
>>> fig = plot_response_maps(hog_svm_model, image)   # doctest: +SKIP
>>> fig = plot_cascade(sdm_model, image, truth=gt)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["plot_response_maps", "plot_cascade"]


def _show(ax, image: np.ndarray, title: str) -> None:
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")


def _names(model) -> Sequence[str]:
    return model.skeleton.keypoint_names


def _truth(truth, k: int) -> np.ndarray | None:
    if truth is None:
        return None
    t = np.asarray(truth, dtype=np.float64)
    if t.ndim == 3 and t.shape[0] == 1:
        t = t[0]
    if t.ndim != 2 or t.shape[0] != k or t.shape[1] not in (2, 3):
        raise ValueError(f"truth: expected ({k}, 2|3) keypoints, got {np.shape(truth)}")
    return t


def _draw_truth(ax, t: np.ndarray | None) -> None:
    if t is None:
        return
    shown = t[:, 2] > 0 if t.shape[1] == 3 else np.ones(len(t), bool)
    ax.scatter(t[shown, 0], t[shown, 1], s=10, c="lime", marker="o", label="truth", zorder=3)


def plot_response_maps(
    model, image: np.ndarray, keypoints: Sequence[int] | None = None, box=None, truth=None
) -> Figure:
    """Calibrated SVM response maps of a few keypoints over the image.

    Each panel shows one keypoint's response (probability that a patch centred
    there is that keypoint), its search region (dashed), the independent peak
    (``x``) and the point fitted with the shape prior (``o``).

    Parameters
    ----------
    model : HogSvmLocaliser
        A fitted HOG + SVM localiser.
    image : ndarray
        ``uint8`` grey or RGB image.
    keypoints : sequence of int, optional
        Keypoint indices to show (at most 6); default: the outer eye corners,
        nose tip and a mouth corner for faces68, else the first four.
    box : [x, y, w, h], optional
        Face box (default: the whole image).
    truth : ndarray (K, 2|3), optional
        Ground truth, drawn as a white ``+`` on each panel.
    """
    info = model.explain(image, box)
    k = len(info["maps"])
    t = _truth(truth, k)
    if keypoints is None:
        keypoints = [36, 45, 30, 48] if k == 68 else list(range(min(4, k)))
    keypoints = [int(i) for i in keypoints]
    if not keypoints or len(keypoints) > 6 or any(not 0 <= i < k for i in keypoints):
        raise ValueError(f"keypoints: give 1 to 6 indices in 0..{k - 1}, got {keypoints}")
    fig, axes = plt.subplots(1, len(keypoints), figsize=(3.2 * len(keypoints), 3.6), squeeze=False)
    gx, gy = info["grid_x"], info["grid_y"]
    dx, dy = (gx[1] - gx[0]) / 2, (gy[1] - gy[0]) / 2
    extent = (gx[0] - dx, gx[-1] + dx, gy[-1] + dy, gy[0] - dy)
    names = _names(model)
    cmap = plt.get_cmap("plasma")
    for ax, i in zip(axes[0], keypoints, strict=True):
        _show(ax, np.asarray(image), f"{i}: {names[i]}")
        # Opacity follows the response (relative to this map's peak), so the face stays
        # visible where the SVM sees nothing and strong responses stand out.
        prob = info["maps"][i]
        rgba = cmap(np.clip(prob, 0, 1))
        rgba[..., 3] = 0.85 * np.sqrt(np.clip(prob / max(float(prob.max()), 1e-6), 0, 1))
        ax.imshow(rgba, extent=extent)
        lo, hi = info["search_lo"][i], info["search_hi"][i]
        ax.add_patch(Rectangle(lo, *(hi - lo), fill=False, ls="--", ec="cyan", lw=1))
        ax.plot(*info["peaks"][i], "x", c="yellow", ms=8, mew=2, label="peak")
        ax.plot(*info["fitted"][i], "o", mfc="none", mec="lime", ms=8, mew=2, label="with prior")
        if t is not None and (t.shape[1] == 2 or t[i, 2] > 0):
            ax.plot(*t[i, :2], "+", c="white", ms=10, mew=2, label="truth")
        ax.set_xlim(-0.5, image.shape[1] - 0.5)
        ax.set_ylim(image.shape[0] - 0.5, -0.5)
    axes[0, 0].legend(loc="lower left", fontsize=7)
    scale = plt.cm.ScalarMappable(norm=plt.Normalize(0, 1), cmap=cmap)
    fig.colorbar(scale, ax=axes[0].tolist(), fraction=0.02, label="P(keypoint) (opacity: relative)")
    fig.suptitle("HOG + SVM response maps (dashed: search region)")
    return fig


def plot_cascade(model, image: np.ndarray, box=None, truth=None, max_panels: int = 6) -> Figure:
    """The shape at each stage of a cascade (SDM) or of the CLM's shrinking kernels.

    The first panel is the start (the mean shape placed in the box); the last
    is the prediction. ``truth`` is drawn in green when given.
    """
    info = model.explain(image, box)
    stages = np.asarray(info["stages"])
    t = _truth(truth, stages.shape[1])
    if len(stages) > max_panels:
        keep = np.unique(np.linspace(0, len(stages) - 1, max_panels).round().astype(int))
    else:
        keep = np.arange(len(stages))
    fig, axes = plt.subplots(1, len(keep), figsize=(2.8 * len(keep), 3.4), squeeze=False)
    names = info.get("stage_names") or ["start (mean shape)"] + [f"stage {i}" for i in range(1, len(stages))]
    for ax, s in zip(axes[0], keep, strict=True):
        title = names[s]
        _show(ax, np.asarray(image), title)
        _draw_truth(ax, t)
        ax.scatter(stages[s, :, 0], stages[s, :, 1], s=8, c="red", marker="x", zorder=4)
    fig.suptitle(f"{model.name}: the shape stage by stage (red: estimate, green: truth)")
    return fig
