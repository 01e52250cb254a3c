"""Diagrams of two heatmap architectures, drawn from a network's config.

:func:`plot_hourglass_diagram` draws a stacked Hourglass (Newell et al., ECCV 2016):
stacked encoder–decoders, each predicting heatmaps that the loss sees
(*intermediate supervision*) and feeding them back into the next stack.
:func:`plot_hrnet_diagram` draws an HRNet-style network (Sun et al., CVPR 2019):
parallel branches at halving resolutions, added stage by stage, with a
*fusion* (every branch receives the sum of all, resampled) after every module.

Both take the config dict of :mod:`kplearn.models.hourglass` /
:mod:`kplearn.models.hrnet` (``net.config``, or the network itself) and read the
same keys with the same defaults as the networks do, so the drawing has as
many stacks, poolings, branches and fusions as the network built from that
config. Every drawn block carries a matplotlib ``gid`` (``"stack-0"``,
``"fusion-1"``, ...) so that tests can count them.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> fig = plot_hourglass_diagram({"stacks": 3, "depth": 2, "channels": 32, "stride": 4})
>>> len(drawn(fig, "stack-")), len(drawn(fig, "loss-"))
(3, 3)
>>> fig = plot_hrnet_diagram({"branches": 3, "modules": 2, "width": 16})
>>> len(drawn(fig, "branch-")), len(drawn(fig, "fusion-"))
(3, 4)
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

__all__ = ["plot_hourglass_diagram", "plot_hrnet_diagram", "drawn"]

# The networks' own defaults (kplearn.models.hourglass.StackedHourglass, hrnet.TinyHRNet).
_HOURGLASS = {"stacks": 2, "depth": 3, "channels": 64, "stride": 4}
_HRNET = {"branches": 3, "modules": 1, "blocks": 1, "width": 32, "stride": 4}
_COLOURS = ("#4c72b0", "#55a868", "#c44e52", "#8172b2", "#ccb974", "#64b5cd")


def _config(config, defaults: Mapping[str, int], what: str) -> dict[str, int]:
    """The integer settings of ``defaults`` read from ``config`` (a dict, a network, or None)."""
    if config is None:
        config = {}
    elif not isinstance(config, Mapping) and isinstance(getattr(config, "config", None), Mapping):
        config = config.config
    if not isinstance(config, Mapping):
        raise ValueError(f"{what}: config must be a dict or a network with .config, got {type(config).__name__}")
    out = {}
    for key, default in defaults.items():
        value = config.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value or value < 1:
            raise ValueError(f"{what}: config[{key!r}] must be a positive integer, got {value!r}")
        out[key] = int(value)
    return out


def drawn(fig: Figure, prefix: str) -> list:
    """The artists of ``fig`` whose ``gid`` starts with ``prefix`` (the blocks a diagram drew).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> [a.get_gid() for a in drawn(plot_hourglass_diagram({"stacks": 2}), "stack-")]
    ['stack-0', 'stack-1']
    """
    return [a for ax in fig.axes for a in ax.get_children() if str(a.get_gid() or "").startswith(prefix)]


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, colour: str, gid: str,
         fontsize: float = 8.0, alpha: float = 0.85) -> None:
    """A rounded block centred at ``(x, y)`` with a label."""
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                           facecolor=colour, edgecolor="black", lw=0.8, alpha=alpha, gid=gid)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color="white" if alpha > 0.5 else "black")


def _arrow(ax: Axes, start, end, colour: str = "black", style: str = "-|>", ls: str = "-",
           rad: float = 0.0, gid: str | None = None, lw: float = 1.0) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=9, color=colour, lw=lw,
                                 linestyle=ls, connectionstyle=f"arc3,rad={rad}", gid=gid))


def plot_hourglass_diagram(config=None, *, figsize: tuple[float, float] | None = None) -> Figure:
    """Draw a stacked Hourglass: ``stacks`` encoder–decoders with intermediate supervision.

    Each hourglass is drawn as its blocks per resolution: ``depth`` max-poolings
    down (the encoder), the same number of upsamplings back (the decoder), and a
    skip connection at every resolution. Under each stack, its heatmap head and
    the loss it feeds; an arrow carries the stack's features and heatmaps into
    the next stack.

    Parameters
    ----------
    config : dict or network, optional
        The network's config (``net.config``; keys ``stacks``, ``depth``,
        ``channels``, ``stride``), or the network; missing keys take the
        network's defaults (2 stacks, depth 3, 64 channels, stride 4).
    figsize : (float, float), optional
        Default: grows with the number of stacks.

    Returns
    -------
    Figure
        One axes with a title. Gids: ``"stack-i"`` (one per hourglass),
        ``"level-i-j"`` (its blocks, ``2 depth + 1`` per stack), ``"skip-i-j"``,
        ``"head-i"``, ``"loss-i"``, ``"merge-i"`` (``stacks - 1``).

    Raises
    ------
    ValueError
        If a setting is not a positive integer.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = plot_hourglass_diagram({"stacks": 2, "depth": 2})
    >>> len(drawn(fig, "level-0-")), len(drawn(fig, "merge-"))
    (5, 1)
    >>> plot_hourglass_diagram({"stacks": 0})
    Traceback (most recent call last):
    ...
    ValueError: plot_hourglass_diagram: config['stacks'] must be a positive integer, got 0
    """
    cfg = _config(config, _HOURGLASS, "plot_hourglass_diagram")
    stacks, depth, stride = cfg["stacks"], cfg["depth"], cfg["stride"]
    width = 2 * depth + 1  # block columns of one hourglass
    span = width + 1.5
    fig, ax = plt.subplots(figsize=figsize or (2.2 + 1.15 * span * stacks * 0.55, 4.2), layout="constrained")
    top = depth + 0.6  # y of the full-resolution blocks
    ax.text(-1.7, top, "input", ha="center", va="center", fontsize=8)
    _box(ax, -0.8, top, 0.9, 0.55, f"stem\n/ {stride}", "grey", "stem")
    _arrow(ax, (-1.4, top), (-1.25, top))
    previous = (-0.35, top)
    for i in range(stacks):
        x0 = 0.6 + i * span
        xs = [x0 + j for j in range(width)]
        level = [depth - min(j, width - 1 - j) for j in range(width)]  # depth at the ends, 0 in the middle
        ax.add_patch(FancyBboxPatch((x0 - 0.55, -0.45), width + 0.1, depth + 1.45,
                                    boxstyle="round,pad=0.02", facecolor="none", edgecolor=_COLOURS[i % 6],
                                    lw=1.2, ls="--", gid=f"stack-{i}"))
        ax.text(x0 + depth, depth + 1.25, f"hourglass {i + 1}", ha="center", fontsize=9, color=_COLOURS[i % 6])
        for j, (x, lv) in enumerate(zip(xs, level, strict=True)):
            res = stride * 2 ** (depth - lv)
            h = 0.25 + 0.5 * lv / max(depth, 1)
            _box(ax, x, lv + 0.6 - (depth - lv) * 0.0, 0.7, h, f"/{res}", _COLOURS[i % 6], f"level-{i}-{j}",
                 fontsize=7)
            if j:
                _arrow(ax, (xs[j - 1] + 0.35, level[j - 1] + 0.6), (x - 0.35, lv + 0.6))
        for j in range(depth):  # skip connections at each resolution above the bottleneck
            y = level[j] + 0.6 + 0.35
            _arrow(ax, (xs[j], y), (xs[width - 1 - j], y), colour="tab:orange", style="-|>", ls=":",
                   rad=-0.25, gid=f"skip-{i}-{j}")
        _arrow(ax, previous, (x0 - 0.35, top))
        out_x = xs[-1] + 0.75
        _box(ax, out_x, top - 1.3 if depth else top - 0.8, 0.8, 0.45, "heatmaps", "black", f"head-{i}", fontsize=7)
        head_y = top - 1.3 if depth else top - 0.8
        _arrow(ax, (xs[-1] + 0.35, top), (out_x, head_y + 0.25))
        _box(ax, out_x, head_y - 0.8, 0.7, 0.4, "loss", "white", f"loss-{i}", fontsize=7, alpha=0.3)
        _arrow(ax, (out_x, head_y - 0.23), (out_x, head_y - 0.6), colour="tab:red")
        if i < stacks - 1:
            _arrow(ax, (out_x + 0.2, head_y + 0.25), (out_x + 0.7, top - 0.05), colour="tab:green",
                   rad=-0.3, gid=f"merge-{i}")
        previous = (xs[-1] + 0.35, top)
    ax.set_xlim(-2.3, 0.6 + stacks * span + 0.4)
    ax.set_ylim(top - 2.6, top + 0.9)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("data flow (left to right); each stack's heatmaps go to the loss (intermediate supervision)")
    ax.set_ylabel("resolution (down = coarser)")
    ax.set_title(f"Stacked Hourglass: {stacks} stack{'s' * (stacks != 1)}, {depth} pooling"
                 f"{'s' * (depth != 1)} each, output stride {stride}, {cfg['channels']} channels")
    return fig


def plot_hrnet_diagram(config=None, *, figsize: tuple[float, float] | None = None) -> Figure:
    """Draw an HRNet-style network: parallel resolutions with repeated fusion.

    One row per branch (branch ``b`` at stride ``stride * 2**b`` with ``width * 2**b``
    channels), one column per fuse module. A new branch starts at each stage
    (made from the lowest one by a strided convolution); after every module a
    fusion (the vertical bar) gives each branch the sum of all branches. The
    head upsamples every branch to the highest resolution and predicts the heatmaps.

    Parameters
    ----------
    config : dict or network, optional
        The network's config (``net.config``; keys ``branches``, ``modules``,
        ``blocks``, ``width``, ``stride``), or the network; missing keys take the
        network's defaults (3 branches, 1 module per stage, width 32).
    figsize : (float, float), optional
        Default: grows with the number of modules and branches.

    Returns
    -------
    Figure
        One axes with a title. Gids: ``"branch-b"`` (one row per branch),
        ``"module-m-b"`` (branch ``b`` in fuse module ``m``), ``"fusion-m"`` (one per
        fuse module: ``(branches - 1) * modules``), ``"head"``.

    Raises
    ------
    ValueError
        If a setting is not a positive integer.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> fig = plot_hrnet_diagram({"branches": 4, "modules": 1})
    >>> len(drawn(fig, "fusion-")), len(drawn(fig, "module-"))  # 3 fusions; 2 + 3 + 4 branch blocks
    (3, 9)
    """
    cfg = _config(config, _HRNET, "plot_hrnet_diagram")
    n_branches, n_modules, stride, c = cfg["branches"], cfg["modules"], cfg["stride"], cfg["width"]
    n_fuse = (n_branches - 1) * n_modules
    columns = n_fuse + 2  # stem, fuse modules, head
    fig, ax = plt.subplots(figsize=figsize or (4.0 + 1.3 * columns, 2.0 + 0.9 * n_branches), layout="constrained")
    y = [-1.0 * b for b in range(n_branches)]
    start = [0.0] + [1.0 + (b - 1) * n_modules for b in range(1, n_branches)]  # column where branch b starts
    end = columns - 1.0
    for b in range(n_branches):
        colour = _COLOURS[b % 6]
        ax.plot([start[b], end - 0.45], [y[b], y[b]], color=colour, lw=2.5 * (n_branches - b) / n_branches + 0.8,
                gid=f"branch-{b}", solid_capstyle="round", zorder=0)
        ax.text(-0.7, y[b], f"stride {stride * 2**b}\n{c * 2**b} ch", ha="right", va="center", fontsize=8,
                color=colour)
        if b:  # the transition: a strided 3x3 conv from the branch above
            _arrow(ax, (start[b] - 0.8, y[b - 1] - 0.1), (start[b] - 0.38, y[b] + 0.1), colour=colour)
    _box(ax, 0.0, y[0], 0.7, 0.45, "stem", "grey", "stem", fontsize=7)
    m = 0
    for stage in range(1, n_branches):
        for _ in range(n_modules):
            x = 1.0 + m
            for b in range(stage + 1):
                _box(ax, x - 0.2, y[b], 0.35, 0.32, "", _COLOURS[b % 6], f"module-{m}-{b}", fontsize=6)
            ax.plot([x + 0.2, x + 0.2], [y[0], y[stage]], color="black", lw=1.5, marker="o", ms=4,
                    gid=f"fusion-{m}")
            m += 1
        ax.text(1.0 + (stage - 1) * n_modules + (n_modules - 1) / 2, y[0] + 0.55, f"stage {stage + 1}",
                ha="center", fontsize=8)
    _box(ax, end, y[0], 0.8, 0.5, "heatmaps", "black", "head", fontsize=7)
    for b in range(1, n_branches):
        _arrow(ax, (end - 0.45, y[b]), (end - 0.1, y[0] - 0.26), colour=_COLOURS[b % 6], ls="--")
    ax.set_xlim(-2.0, end + 0.7)
    ax.set_ylim(y[-1] - 0.7, y[0] + 0.9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(f"data flow (left to right); each vertical bar is one fusion ({n_fuse} in all):\n"
                  "every branch receives the sum of all branches, resampled to its resolution")
    ax.set_ylabel("branch (down = coarser)")
    ax.set_title(f"HRNet-style network: {n_branches} parallel resolution{'s' * (n_branches != 1)}, "
                 f"{n_modules} fuse module{'s' * (n_modules != 1)} per stage,\nheatmaps at stride {stride}",
                 fontsize=10)
    return fig
