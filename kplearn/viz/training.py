"""Plots of training: loss and validation curves, and the stages of a DeepPose cascade.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> hist = {"metric": "nme", "best_epoch": 2, "epochs": [
...     {"epoch": 1, "train_loss": 0.5, "val": {"nme": 0.2}},
...     {"epoch": 2, "train_loss": 0.3, "val": {"nme": 0.1}}]}
>>> fig = plot_history(hist)
>>> [ax.get_title() for ax in fig.axes]
['training loss', 'validation nme']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from kplearn.skeletons import Skeleton, get_skeleton
from kplearn.viz.keypoints import _frame_image

__all__ = ["plot_history", "plot_histories", "draw_cascade_stages"]


def _as_dict(history) -> dict:
    if hasattr(history, "to_dict"):
        return history.to_dict()
    if isinstance(history, Mapping):
        return dict(history)
    raise ValueError(f"expected a History or its dict, got {type(history).__name__}")


def _draw_references(ax, reference: Mapping[str, float] | None) -> None:
    """Dashed horizontal lines at reference values (e.g. a baseline's metric)."""
    for (name, value), colour in zip((reference or {}).items(), ("grey", "tab:brown", "tab:pink"), strict=False):
        ax.axhline(float(value), color=colour, ls="--", lw=1, label=name)


def plot_history(
    history,
    *,
    figsize: tuple[float, float] = (9.0, 3.5),
    log_loss: bool = True,
    reference: Mapping[str, float] | None = None,
) -> Figure:
    """Training loss and validation metric per epoch, the best epoch marked.

    Parameters
    ----------
    history : History or dict
        From :func:`kplearn.train.fit` (or its ``history.json``).
    log_loss : bool
        Loss on a log scale.
    reference : dict, optional
        ``{name: value}`` of the validation metric to draw as dashed lines (e.g. the
        mean shape's NME, the floor a trained model must beat).
    """
    h = _as_dict(history)
    epochs = h.get("epochs") or []
    if not epochs:
        raise ValueError("the history has no epochs to plot")
    x = [e["epoch"] for e in epochs]
    metric = h.get("metric", "")
    fig, axes = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    axes[0].plot(x, [e["train_loss"] for e in epochs], "o-", color="tab:blue")
    axes[0].set_title("training loss")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("loss")
    if log_loss and all(e["train_loss"] > 0 for e in epochs):
        axes[0].set_yscale("log")
    vals = [e.get("val", {}).get(metric, np.nan) for e in epochs]
    axes[1].plot(x, vals, "o-", color="tab:orange", label=f"validation {metric}")
    best = h.get("best_epoch")
    if best is not None and best in x:
        axes[1].axvline(best, color="grey", ls=":", lw=1, label=f"best epoch ({best})")
    _draw_references(axes[1], reference)
    axes[1].set_title(f"validation {metric}")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel(metric)
    axes[1].legend(fontsize="small")
    return fig


def plot_histories(
    histories: Mapping[str, object],
    *,
    x: str = "time",
    reference: Mapping[str, float] | None = None,
    figsize: tuple[float, float] = (6.0, 4.0),
) -> Figure:
    """Validation metric of several runs (``{name: History}``) on one plot.

    Parameters
    ----------
    histories : dict
        ``{name: History or its dict}``.
    x : {"time", "epoch"}
        Against cumulative training time (seconds) or epoch.
    reference : dict, optional
        ``{name: value}`` drawn as dashed horizontal lines (e.g. a baseline).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> h = {"metric": "nme", "epochs": [{"epoch": 1, "seconds": 2.0, "val": {"nme": 0.2}}]}
    >>> fig = plot_histories({"a": h, "b": h}, x="epoch", reference={"mean shape": 0.3})
    >>> fig.axes[0].get_xlabel(), len(fig.axes[0].lines)
    ('epoch', 3)
    """
    if not histories:
        raise ValueError("no histories to plot")
    if x not in ("time", "epoch"):
        raise ValueError(f"x must be 'time' or 'epoch', got {x!r}")
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    metric = ""
    for name, hist in histories.items():
        h = _as_dict(hist)
        metric = h.get("metric", metric)
        if x == "time":
            pos = np.cumsum([e.get("seconds", 0.0) for e in h["epochs"]])
        else:
            pos = [e["epoch"] for e in h["epochs"]]
        ax.plot(pos, [e.get("val", {}).get(metric, np.nan) for e in h["epochs"]], "o-", label=name)
    _draw_references(ax, reference)
    ax.set_xlabel("training time (s)" if x == "time" else "epoch")
    ax.set_ylabel(f"validation {metric}")
    ax.set_title(f"validation {metric} during training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def draw_cascade_stages(
    image: np.ndarray,
    stages: Sequence[np.ndarray],
    skeleton: Skeleton | str,
    *,
    truth: np.ndarray | None = None,
    crop_half_sizes: Sequence[float] | None = None,
    keypoint: int | None = None,
    figsize_per_stage: float = 3.0,
) -> Figure:
    """One panel per cascade stage: the estimate after that stage (and the crops the next stage sees).

    Parameters
    ----------
    image : ndarray
        The network input as uint8 ``H×W×3`` (pixels of ``stages``).
    stages : sequence of ndarray (K, 2)
        Keypoints after each stage, in image pixels.
    skeleton : Skeleton or str
    truth : ndarray (K, 2|3), optional
        Ground truth, drawn as green dots; each panel's title gives the mean error.
    crop_half_sizes : sequence of float, optional
        Half-side in pixels of the crops of stage 2, 3, ...; a square is drawn
        around the ``keypoint``-th estimate of the stage before.
    keypoint : int, optional
        Which keypoint's crop to draw (default: the first).
    """
    sk = get_skeleton(skeleton)
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise ValueError(f"image must be uint8 H×W or H×W×3, got {img.dtype} {img.shape}")
    pts = [np.asarray(s, np.float64)[:, :2] for s in stages]
    if not pts or any(p.shape != (sk.num_keypoints, 2) for p in pts):
        raise ValueError(f"stages must be a non-empty list of ({sk.num_keypoints}, 2) arrays")
    n = len(pts)
    fig, axes = plt.subplots(1, n, figsize=(figsize_per_stage * n, figsize_per_stage + 0.4),
                             layout="constrained", squeeze=False)  # fmt: skip
    k = 0 if keypoint is None else int(keypoint)
    for i, (ax, p) in enumerate(zip(axes[0], pts, strict=True)):
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        for a, b in sk.edges:
            ax.plot(p[[a, b], 0], p[[a, b], 1], "-", color="tab:orange", lw=0.8)
        ax.plot(p[:, 0], p[:, 1], "o", ms=2.5, color="tab:red", label="estimate")
        title = f"stage {i + 1}"
        if truth is not None:
            t = np.asarray(truth, np.float64)
            ax.plot(t[:, 0], t[:, 1], ".", ms=3, color="tab:green", label="truth")
            err = np.linalg.norm(p - t[:, :2], axis=1).mean()
            title += f": mean error {err:.2f} px"
        if crop_half_sizes is not None and i + 1 < n and i < len(crop_half_sizes):
            r = float(crop_half_sizes[i])
            cx, cy = p[k]
            ax.add_patch(
                plt.Rectangle((cx - r, cy - r), 2 * r, 2 * r, fill=False, color="cyan", lw=1.2)
            )
        ax.set_title(title, fontsize="small")
        _frame_image(ax, img)
    axes[0][0].legend(fontsize="x-small", loc="lower left")
    return fig
