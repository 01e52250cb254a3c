"""Wall-clock timing on this machine: the median of repeated calls, and its spread.

:func:`median_ms` times any call; :func:`timing_stats` also reports the spread
(quartiles, minimum and maximum), so that a difference between two timings can be
told from noise (:func:`told_apart`); :func:`interleaved_stats` times several calls
in turn, so that a change of the machine's load hits them all alike; :func:`time_per_image` times a ``predict(images)`` function (a
classical or deep localiser's ``predict``) per image. The network-only timer
:func:`kplearn.models.time_per_image` is built on :func:`median_ms` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

__all__ = ["median_ms", "timing_stats", "interleaved_stats", "told_apart", "time_per_image"]


def median_ms(call: Callable[[], object], repeats: int, warmup: int = 0) -> float:
    """Median wall-clock milliseconds of ``call()`` over ``repeats`` timed calls.

    ``warmup`` untimed calls come first. For an even ``repeats`` the upper of the
    two middle values is taken.

    Examples
    --------
    >>> median_ms(lambda: sum(range(100)), repeats=3) >= 0
    True
    """
    times = _sorted_ms(call, repeats, warmup)
    return times[len(times) // 2]


def _sorted_ms(call: Callable[[], object], repeats: int, warmup: int) -> list[float]:
    # The timed calls' milliseconds, smallest first (shared by the public timers).
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(1000.0 * (time.perf_counter() - t0))
    times.sort()
    return times


def timing_stats(call: Callable[[], object], repeats: int = 30, warmup: int = 3) -> dict:
    """Median and spread of the wall-clock milliseconds of ``call()``.

    A single timing, or the median of a handful, on a shared machine mixes the
    call's cost with the machine's load; the spread over many repeats says how far
    the median can be trusted (two calls whose interquartile ranges overlap are not
    told apart by the measurement).

    Parameters
    ----------
    call : callable
        Called without arguments; its result is ignored.
    repeats : int
        Timed calls (at least 1; 30 or more for a stable median and quartiles).
    warmup : int
        Untimed calls first (one-off set-up, caches).

    Returns
    -------
    dict
        ``median``, ``q1`` and ``q3`` (25th and 75th percentiles, linear
        interpolation as :func:`numpy.percentile`), ``min`` and ``max``, all in
        milliseconds, and ``repeats``. ``median`` is the upper middle call for an
        even ``repeats``, as in :func:`median_ms`.

    Examples
    --------
    >>> s = timing_stats(lambda: sum(range(100)), repeats=5, warmup=1)
    >>> s["min"] <= s["q1"] <= s["median"] <= s["q3"] <= s["max"], s["repeats"]
    (True, 5)
    """
    return _summary(_sorted_ms(call, repeats, warmup))


def _summary(times: list[float]) -> dict:
    # timing_stats's dictionary of the sorted milliseconds `times`.
    def percentile(q: float) -> float:
        pos = q * (len(times) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(times) - 1)
        return times[lo] + (pos - lo) * (times[hi] - times[lo])

    return {
        "median": times[len(times) // 2], "q1": percentile(0.25), "q3": percentile(0.75),
        "min": times[0], "max": times[-1], "repeats": len(times),
    }  # fmt: skip


def interleaved_stats(
    calls: Mapping[str, Callable[[], object]], repeats: int = 30, warmup: int = 3
) -> dict[str, dict]:
    """:func:`timing_stats` of several calls, timed in turn rather than one after the other.

    Each of ``repeats`` rounds times every call once, in the order given. On a
    shared machine the load changes over seconds; timed in rounds, every call sees
    the same mixture of quiet and busy moments, so a burst of load widens all the
    spreads instead of making one call look slow.

    Parameters
    ----------
    calls : mapping of str to callable
        Named calls without arguments; their results are ignored.
    repeats : int
        Rounds (timed calls of each; at least 1, 30 or more for stable quartiles).
    warmup : int
        Untimed rounds first.

    Returns
    -------
    dict of str to dict
        For each name, the dictionary of :func:`timing_stats` (milliseconds).

    Examples
    --------
    >>> stats = interleaved_stats({"short": lambda: sum(range(10)), "long": lambda: sum(range(10**5))},
    ...                           repeats=5, warmup=1)
    >>> sorted(stats), stats["long"]["repeats"]
    (['long', 'short'], 5)
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        for call in calls.values():
            call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            t0 = time.perf_counter()
            call()
            times[name].append(1000.0 * (time.perf_counter() - t0))
    return {name: _summary(sorted(ms)) for name, ms in times.items()}


def told_apart(a: dict, b: dict) -> bool:
    """Whether two timings differ beyond their spread: their interquartile ranges do not overlap.

    ``a`` and ``b`` are dictionaries of :func:`timing_stats` (or :func:`interleaved_stats`).
    When the ranges ``[q1, q3]`` overlap, the measurement does not say which call is faster.

    Examples
    --------
    >>> fast = {"q1": 1.0, "median": 1.2, "q3": 1.5}
    >>> told_apart(fast, {"q1": 2.0, "median": 2.5, "q3": 3.0}), told_apart(fast, {"q1": 1.4, "q3": 3.0})
    (True, False)
    """
    return a["q3"] < b["q1"] or b["q3"] < a["q1"]


def time_per_image(predict: Callable, images, repeats: int = 3, warmup: int = 2) -> float:
    """Median wall-clock milliseconds per image of ``predict(images)`` on this machine.

    ``predict`` is called once on the first ``warmup`` images (so one-off setup is not
    timed), then ``repeats`` times on all of ``images``; the median call is divided by
    the number of images.

    Examples
    --------
    >>> import numpy as np
    >>> ms = time_per_image(lambda ims: [im.mean() for im in ims], [np.zeros((8, 8))] * 4)
    >>> ms >= 0
    True
    """
    imgs = list(images)
    if not imgs:
        raise ValueError("no images to time")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if warmup > 0:
        predict(imgs[:warmup])
    return median_ms(lambda: predict(imgs), repeats) / len(imgs)
