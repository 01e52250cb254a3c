"""The accuracy-cost trade-off of trained models as a plot (rows of :func:`kplearn.train.tradeoff.cost_accuracy_table`).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> rows = [{"name": "a", "params": 1e6, "macs": 5e7, "ms": 3.0, "ms_p10": 2.5, "ms_p90": 4.0,
...          "runs": 50, "metric": "nme", "nme": 0.05},
...         {"name": "sdm", "params": None, "macs": None, "ms": 2.0, "ms_p10": 1.8,
...          "ms_p90": 2.4, "runs": 50, "metric": "nme", "nme": 0.046}]
>>> fig = plot_cost_accuracy(rows)
>>> [ax.get_xlabel() for ax in fig.axes]
['ms per face (1 thread; bars: 10th-90th percentile)', 'MMACs per face (log scale)']
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_cost_accuracy"]


def _pareto(cost: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Indices of the models no other model beats on both cost and error, by cost."""
    order = np.argsort(cost)
    best, keep = np.inf, []
    for i in order:
        if err[i] < best:
            keep.append(i)
            best = err[i]
    return np.asarray(keep, int)


def plot_cost_accuracy(rows: list[dict], title: str | None = None) -> Figure:
    """Held-out metric against ms per face (with its spread) and against MACs, one point per model.

    The left panel has every model (classical ones too), with horizontal bars from
    the 10th to the 90th percentile of the timing and the Pareto front (no model both
    faster and more accurate) drawn as a line; the right panel has the networks
    against their multiply-accumulates. A lower metric is better for NME; for other
    metrics (PCK) higher is better and the front follows.
    """
    if not rows:
        raise ValueError("no rows to plot")
    metric = rows[0]["metric"]
    lower_better = metric in ("nme", "epe", "failure_rate")
    names = [r["name"] for r in rows]
    value = np.array([r[metric] for r in rows], float)
    ms = np.array([r["ms"] for r in rows], float)
    lo = ms - np.array([r["ms_p10"] for r in rows], float)
    hi = np.array([r["ms_p90"] for r in rows], float) - ms
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    ax.errorbar(ms, value, xerr=[lo, hi], fmt="o", capsize=3)
    front = _pareto(ms, value if lower_better else -value)
    ax.plot(ms[front], value[front], "--", color="grey", lw=1, label="Pareto front")
    for x, y, n in zip(ms, value, names, strict=True):
        ax.annotate(n, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("ms per face (1 thread; bars: 10th-90th percentile)")
    ax.set_ylabel(f"held-out {metric}")
    ax.set_title("accuracy vs time")
    ax.legend(loc="best", fontsize=8)
    ax = axes[1]
    deep = [i for i, r in enumerate(rows) if r.get("macs")]
    if deep:
        macs = np.array([rows[i]["macs"] for i in deep], float) / 1e6
        ax.scatter(macs, value[deep])
        for i, m in zip(deep, macs, strict=True):
            ax.annotate(
                names[i], (m, value[i]), textcoords="offset points", xytext=(4, 4), fontsize=8
            )
        ax.set_xscale("log")
    ax.set_xlabel("MMACs per face (log scale)")
    ax.set_ylabel(f"held-out {metric}")
    ax.set_title("accuracy vs compute (networks)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
