"""Comparing methods fairly: summaries over seeds, relative degradation, flattened curves.

A head-to-head between localisers needs three small numbers beside the metric
itself:

* **over seeds**: a deep model's score is one draw from its training randomness
  (initial weights, batch order, augmentation); :func:`seed_summary` gives the mean
  and the spread of the scores of several seeds.
* **relative degradation**: how much a method loses when the test images are
  degraded, as a ratio to its own clean score (:func:`relative_degradation`), so
  that a method that starts better is not credited or blamed for its start.
* **a flattened curve**: whether a validation curve has stopped improving, i.e. the
  model was trained to the end of what its budget buys (:func:`late_gain`).

Examples
--------
>>> seed_summary([0.050, 0.054, 0.052])["mean"]
0.052
>>> float(relative_degradation(0.04, 0.06))
1.5
>>> late_gain([0.30, 0.12, 0.08, 0.071, 0.070, 0.070]) < 0.05
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["seed_summary", "relative_degradation", "late_gain"]


def seed_summary(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Mean and spread of one score measured over several training seeds.

    Parameters
    ----------
    values : sequence of float
        One finite score per seed (at least one).

    Returns
    -------
    dict
        ``"mean"``, ``"std"`` (sample standard deviation, ``ddof=1``; 0 for one
        seed), ``"min"``, ``"max"`` and ``"n"`` (the number of seeds).

    Raises
    ------
    ValueError
        No value, or a NaN or infinite one.

    Examples
    --------
    >>> s = seed_summary([0.04, 0.05, 0.06])
    >>> round(s["mean"], 3), round(s["std"], 3), s["min"], s["max"], s["n"]
    (0.05, 0.01, 0.04, 0.06, 3)
    >>> seed_summary([0.1])["std"]
    0.0
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("seed_summary needs at least one value")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"seed_summary got a NaN or infinite value: {arr.tolist()}")
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return {"mean": float(arr.mean()), "std": std, "min": float(arr.min()), "max": float(arr.max()),
            "n": int(arr.size)}  # fmt: skip


def relative_degradation(clean: float | np.ndarray, degraded: float | np.ndarray) -> np.ndarray:
    """The degraded score as a multiple of the clean one: ``degraded / clean``.

    1 means no loss; 2 means the error doubled. For error metrics such as NME,
    larger is worse.

    Parameters
    ----------
    clean, degraded : float or array_like
        Scores of the same method on the clean and on the degraded images
        (broadcast against each other); ``clean`` must be positive.

    Returns
    -------
    numpy.ndarray
        The ratio (a 0-d array for scalar inputs).

    Raises
    ------
    ValueError
        A clean score that is not positive and finite, or a degraded score that is not finite.

    Examples
    --------
    >>> relative_degradation([0.05, 0.10], [0.10, 0.12]).tolist()
    [2.0, 1.2]
    """
    c = np.asarray(clean, dtype=np.float64)
    d = np.asarray(degraded, dtype=np.float64)
    if not np.all(np.isfinite(c) & (c > 0)):
        raise ValueError("relative_degradation needs positive, finite clean scores")
    if not np.all(np.isfinite(d)):
        raise ValueError("relative_degradation got a NaN or infinite degraded score")
    return d / c


def late_gain(curve: Sequence[float] | np.ndarray, tail: float = 0.25) -> float:
    """How much a validation error curve still improved over its last ``tail`` of training.

    The relative drop from the best value before the tail to the best value within
    it: ``(best_before - best_tail) / best_before``, clipped at 0. A small value
    (a few percent) says the curve has flattened: more of the same training would buy
    little. A large one says the model stopped while still learning.

    Parameters
    ----------
    curve : sequence of float
        Validation error (lower is better) after each epoch, at least two values.
    tail : float
        Fraction of the epochs that form the tail, in (0, 1); at least one epoch.

    Returns
    -------
    float
        The relative improvement in the tail, ``>= 0``.

    Raises
    ------
    ValueError
        Fewer than two values, a NaN value, or ``tail`` outside (0, 1).

    Examples
    --------
    >>> late_gain([0.4, 0.2, 0.1, 0.05])      # halved in the last epoch: still learning
    0.5
    >>> late_gain([0.4, 0.2, 0.1, 0.1])       # flat
    0.0
    """
    arr = np.asarray(curve, dtype=np.float64).ravel()
    if arr.size < 2:
        raise ValueError("late_gain needs at least two values")
    if np.any(np.isnan(arr)):
        raise ValueError("late_gain got a NaN value")
    if not 0.0 < tail < 1.0:
        raise ValueError(f"tail must be in (0, 1), got {tail}")
    n_tail = min(arr.size - 1, max(1, int(round(tail * arr.size))))
    before = float(arr[:-n_tail].min())
    after = float(arr[-n_tail:].min())
    if not np.isfinite(before) or before <= 0:
        return 0.0 if after >= before else float("inf")
    return max(0.0, (before - after) / before)
