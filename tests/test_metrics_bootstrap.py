"""kplearn.metrics.bootstrap_interval: the paired percentile bootstrap."""

import numpy as np
import pytest

from kplearn.metrics import bootstrap_interval


def test_interval_matches_a_direct_resampling():
    values = np.random.default_rng(1).normal(0.0, 1.0, 50)
    low, high = bootstrap_interval(values, n_resamples=500, confidence=0.9, seed=3)
    index = np.random.default_rng(3).integers(0, 50, size=(500, 50))
    means = values[index].mean(axis=1)
    assert (low, high) == pytest.approx(tuple(np.percentile(means, [5, 95])))
    assert low < values.mean() < high


def test_same_seed_same_interval_and_wider_with_more_confidence():
    values = np.random.default_rng(2).exponential(1.0, 80)
    assert bootstrap_interval(values, seed=4) == bootstrap_interval(values, seed=4)
    low90, high90 = bootstrap_interval(values, confidence=0.9)
    low99, high99 = bootstrap_interval(values, confidence=0.99)
    assert low99 < low90 < high90 < high99


def test_paired_samples_are_resampled_together():
    rng = np.random.default_rng(5)
    a = rng.uniform(0.02, 0.3, 60)  # faces of very different difficulty...
    b = a + 0.01  # ...but B is worse by exactly 0.01 on every one of them
    low, high = bootstrap_interval(a, b, statistic=lambda x, y: np.mean(y - x))
    assert low == pytest.approx(0.01) and high == pytest.approx(0.01)
    low, high = bootstrap_interval(b, a, statistic=lambda x, y: x.mean() / y.mean())
    assert 1 < low <= high


def test_more_images_give_a_narrower_interval():
    rng = np.random.default_rng(6)
    few, many = rng.normal(0, 1, 20), rng.normal(0, 1, 2000)
    width = [np.subtract(*bootstrap_interval(v)[::-1]) for v in (few, many)]
    assert width[1] < width[0] / 4


@pytest.mark.parametrize(
    "samples, kwargs, message",
    [
        ((), {}, "at least one sample"),
        ((np.zeros((3, 2)),), {}, "1-D"),
        ((np.array([]),), {}, "1-D"),
        ((np.array([0.1, np.inf]),), {}, "infinite"),
        ((np.array([0.1, np.nan]),), {}, "NaN"),
        ((np.ones(3), np.ones(4)), {}, "different lengths"),
        ((np.ones(3),), {"n_resamples": 10}, "n_resamples"),
        ((np.ones(3),), {"confidence": 1.0}, "confidence"),
    ],
)
def test_bad_input_is_refused(samples, kwargs, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_interval(*samples, **kwargs)
