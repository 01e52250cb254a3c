"""Wall-clock timing on this machine: the median of repeated calls.

:func:`median_ms` times any call; :func:`time_per_image` times a ``predict(images)``
function (a classical or deep localiser's ``predict``) per image. The network-only
timer :func:`kplearn.models.time_per_image` is built on :func:`median_ms` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["median_ms", "time_per_image"]


def median_ms(call: Callable[[], object], repeats: int, warmup: int = 0) -> float:
    """Median wall-clock milliseconds of ``call()`` over ``repeats`` timed calls.

    ``warmup`` untimed calls come first. For an even ``repeats`` the upper of the
    two middle values is taken.

    Examples
    --------
    >>> median_ms(lambda: sum(range(100)), repeats=3) >= 0
    True
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    times.sort()
    return 1000.0 * times[len(times) // 2]


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
