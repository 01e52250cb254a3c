"""The accuracy-cost table of trained models: size, compute, CPU time per face, held-out error.

:func:`cost_accuracy_table` measures, for each trained model (a network, a deep or
classical localiser, or a run directory):

- ``params``: parameters, and ``macs``: multiply-accumulates of one forward pass
  (:func:`kplearn.models.count_parameters`, :func:`kplearn.models.count_macs`; ``None``
  for classical models, which are not networks);
- ``ms``: wall-clock milliseconds to predict one face (crop, network, flip test if on,
  decoding), at one thread, as the median and the 10th / 90th percentiles over
  ``runs`` calls (at least 50 by default) -- the spread says how far to trust the median;
- the held-out metric (``nme`` on faces68, else ``pck@0.1``) from :func:`kplearn.train.evaluate`.

:func:`format_cost_table` prints the rows; :func:`kplearn.viz.plot_cost_accuracy`
draws the trade-off (metric against MACs or milliseconds).

Examples
--------
>>> from kplearn.data.synthetic import make_faces
>>> from kplearn.models import build_model
>>> faces = make_faces(4, image_size=64, seed=0)
>>> rows = cost_accuracy_table({"hm": build_model("heatmap", "faces68", preset="fast")}, faces,
...                            runs=5, warmup=1)
>>> sorted(rows[0])
['macs', 'metric', 'ms', 'ms_p10', 'ms_p90', 'name', 'nme', 'params', 'runs']
>>> rows[0]["ms_p10"] <= rows[0]["ms"] <= rows[0]["ms_p90"]
True
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import torch

from kplearn.data.datasets import KeypointDataset
from kplearn.models.complexity import count_macs, count_parameters

__all__ = ["cost_accuracy_table", "format_cost_table", "time_samples"]


def time_samples(call, runs: int = 50, warmup: int = 3) -> np.ndarray:
    """Milliseconds of ``runs`` timed calls of ``call()`` (after ``warmup`` untimed ones)."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    for _ in range(warmup):
        call()
    out = np.empty(int(runs))
    for i in range(int(runs)):
        t0 = time.perf_counter()
        call()
        out[i] = 1000.0 * (time.perf_counter() - t0)
    return out


def cost_accuracy_table(
    models: Mapping[str, object],
    data: KeypointDataset,
    *,
    runs: int = 50,
    warmup: int = 3,
    threads: int = 1,
    flip_test: bool = True,
    metric: str | None = None,
) -> list[dict]:
    """One row per model: parameters, MACs, ms per face (median and spread) and held-out accuracy.

    Parameters
    ----------
    models : mapping name -> model
        Trained :class:`~kplearn.models.base.KeypointNet` s, localisers (deep or
        classical) or run directories.
    data : KeypointDataset
        Held-out data (never seen in training). Its first image is the face timed.
    runs, warmup : int
        Timed and untimed prediction calls per model.
    threads : int
        ``torch.set_num_threads`` while timing (restored afterwards); 1 by default.
    flip_test : bool
        Deep models: time and evaluate with flip test-time augmentation.
    metric : str, optional
        A key of :func:`kplearn.train.evaluate`'s result; ``"nme"`` for faces68,
        ``"pck@0.1"`` otherwise.

    Returns
    -------
    list of dict
        ``name``, ``params``, ``macs`` (``None`` for classical models), ``ms`` (median),
        ``ms_p10``, ``ms_p90``, ``runs``, ``metric`` (its name) and the metric value
        under its own name.
    """
    from kplearn.train.evaluate import evaluate
    from kplearn.train.runs import as_localiser

    if not isinstance(data, KeypointDataset) or len(data) == 0:
        raise ValueError("data must be a non-empty KeypointDataset (held-out samples)")
    if not models:
        raise ValueError("no models to measure")
    name_metric = metric or ("nme" if data.skeleton.name == "faces68" else "pck@0.1")
    image = data[0].image
    rows = []
    for name, model in models.items():
        loc = as_localiser(model)
        deep = getattr(loc, "family", "classical") == "deep"
        net = loc.model if deep else None
        if deep and net.output_kind == "paf":
            raise ValueError(
                f"{name!r} is a bottom-up (PAF) model; the table is for top-down models"
            )
        if deep:

            def call(loc=loc):
                return loc.predict([image], flip_test=flip_test)
        else:

            def call(loc=loc):
                return loc.predict([image])

        old = torch.get_num_threads()
        torch.set_num_threads(int(threads))
        try:
            ms = time_samples(call, runs, warmup)
        finally:
            torch.set_num_threads(old)
        scores = evaluate(loc, data, flip_test=flip_test) if deep else evaluate(loc, data)
        if name_metric not in scores:
            raise ValueError(f"metric {name_metric!r} not among {sorted(scores)}")
        p10, med, p90 = np.percentile(ms, [10, 50, 90])
        rows.append({
            "name": str(name),
            "params": count_parameters(net) if deep else None,
            "macs": count_macs(net, net.input_size) if deep else None,
            "ms": float(med), "ms_p10": float(p10), "ms_p90": float(p90), "runs": int(runs),
            "metric": name_metric, name_metric: float(scores[name_metric]),
        })  # fmt: skip
    return rows


def format_cost_table(rows: list[dict]) -> str:
    """The rows of :func:`cost_accuracy_table` as an aligned text table.

    >>> print(format_cost_table([{"name": "sdm", "params": None, "macs": None, "ms": 2.0,
    ...     "ms_p10": 1.5, "ms_p90": 3.0, "runs": 50, "metric": "nme", "nme": 0.046}]))
    model      params    MMACs   ms/face (p10-p90)      nme
    sdm             -        -     2.00 (1.50-3.00)  0.0460
    """
    metric = rows[0]["metric"] if rows else "metric"
    lines = [
        f"{'model':<10s} {'params':>6s} {'MMACs':>8s}   {'ms/face (p10-p90)':<18s}  {metric:>6s}"
    ]
    for r in rows:
        params = "-" if r["params"] is None else f"{r['params'] / 1e6:.2f}M"
        macs = "-" if r["macs"] is None else f"{r['macs'] / 1e6:.1f}"
        ms = f"{r['ms']:.2f} ({r['ms_p10']:.2f}-{r['ms_p90']:.2f})"
        lines.append(f"{r['name']:<10s} {params:>6s} {macs:>8s}   {ms:>18s}  {r[r['metric']]:.4f}")
    return "\n".join(lines)
