"""How sure is a measured score? The paired percentile bootstrap over test images.

A metric averaged over a test set is one draw: other test images of the same
kind would give another value. The bootstrap estimates that spread from the test
set itself: draw as many images as it has, *with replacement*, recompute the
statistic, repeat, and read the interval that holds the middle ``confidence`` of
the recomputed values (the *percentile* interval).

*Paired*: when two methods (or one method on clean and on degraded images) are
scored on the same images, every resample takes the same images for all of
them, so the interval of their difference or ratio reflects only how they differ
image by image, not how hard the images happen to be.

Examples
--------
>>> import numpy as np
>>> errors_a = np.array([0.05, 0.06, 0.04, 0.07, 0.05, 0.06])
>>> errors_b = errors_a + 0.01                      # B is worse by 0.01 on every image
>>> low, high = bootstrap_interval(errors_a - errors_b)
>>> bool(np.isclose(low, -0.01) and np.isclose(high, -0.01))
True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["bootstrap_interval"]


def bootstrap_interval(
    *samples,
    statistic: Callable[..., float] = np.mean,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Paired percentile-bootstrap interval of ``statistic(*samples)``.

    Parameters
    ----------
    *samples : array_like, each of shape (N,)
        One value per test image (for example per-image NME from
        :func:`kplearn.metrics.nme` with ``per_image=True``); all of the same
        length, element ``i`` of each belonging to image ``i``.
    statistic : callable
        ``statistic(*resampled) -> float``, called with one resampled 1-D array per
        sample (default: the mean of the single sample).
    n_resamples : int
        Number of bootstrap resamples (at least 100).
    confidence : float
        The interval holds this fraction of the resampled statistics, in (0, 1).
    seed : int
        Seeds the resampling.

    Returns
    -------
    low, high : float
        The ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` percentiles of the
        statistic over the resamples.

    Raises
    ------
    ValueError
        No sample, samples that are not 1-D, empty, of different lengths, or with a
        NaN or infinite value (an infinite NME is a missed prediction: there is no
        interval around an infinite mean); settings out of range.

    Examples
    --------
    The interval of a mean difference (paired: face ``i`` of ``a`` and ``b`` is the same face):

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(0.05, 0.01, 200)
    >>> b = a + rng.normal(0.002, 0.001, 200)      # b a little worse on most faces
    >>> low, high = bootstrap_interval(a - b)
    >>> bool(low < high < 0)                      # the interval excludes "no difference"
    True

    A ratio of two means, the same faces resampled for both:

    >>> clean, degraded = a, 2 * a
    >>> bootstrap_interval(degraded, clean, statistic=lambda d, c: d.mean() / c.mean())
    (2.0, 2.0)
    """
    if not samples:
        raise ValueError("bootstrap_interval needs at least one sample")
    arrays = [np.asarray(s, dtype=np.float64) for s in samples]
    for i, arr in enumerate(arrays):
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"sample {i}: a non-empty 1-D array expected, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"sample {i} has NaN or infinite values (a missed prediction?)")
    n = arrays[0].size
    if any(arr.size != n for arr in arrays):
        raise ValueError(f"samples of different lengths: {[arr.size for arr in arrays]} (they must be paired)")
    if int(n_resamples) != n_resamples or n_resamples < 100:
        raise ValueError(f"n_resamples must be an integer of at least 100, got {n_resamples!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    index = np.random.default_rng(seed).integers(0, n, size=(int(n_resamples), n))
    values = np.array([float(statistic(*(arr[row] for arr in arrays))) for row in index])
    tail = 50 * (1 - confidence)
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
