"""kplearn.metrics.compare: seed summaries, relative degradation, flattened curves."""

import numpy as np
import pytest

from kplearn.metrics.compare import late_gain, relative_degradation, seed_summary


def test_seed_summary_matches_numpy():
    values = [0.051, 0.047, 0.055, 0.049]
    s = seed_summary(values)
    assert s["n"] == 4
    assert s["mean"] == pytest.approx(np.mean(values))
    assert s["std"] == pytest.approx(np.std(values, ddof=1))
    assert (s["min"], s["max"]) == (min(values), max(values))


@pytest.mark.parametrize("bad", [[], [0.1, float("nan")], [np.inf]])
def test_seed_summary_rejects(bad):
    with pytest.raises(ValueError):
        seed_summary(bad)


def test_relative_degradation_broadcasts_and_checks():
    out = relative_degradation(np.array([0.05, 0.1]), np.array([[0.05, 0.2], [0.1, 0.1]]))
    np.testing.assert_allclose(out, [[1.0, 2.0], [2.0, 1.0]])
    for clean, degraded in ((0.0, 0.1), (-1.0, 0.1), (np.nan, 0.1), (0.1, np.inf)):
        with pytest.raises(ValueError):
            relative_degradation(clean, degraded)


def test_late_gain():
    assert late_gain([1.0, 0.5, 0.5, 0.5]) == 0.0
    assert late_gain([1.0, 0.8, 0.6, 0.4], tail=0.25) == pytest.approx(1 / 3)
    assert late_gain([1.0, 0.5, 0.6, 0.7]) == 0.0  # got worse at the end: no gain
    assert late_gain([1.0, 0.5], tail=0.9) == pytest.approx(0.5)  # the tail keeps one epoch before it
    for bad, tail in (([1.0], 0.25), ([1.0, np.nan], 0.25), ([1.0, 0.5], 0.0), ([1.0, 0.5], 1.0)):
        with pytest.raises(ValueError):
            late_gain(bad, tail)
