"""Drawings of interest points and matches (kplearn.viz.interest)."""

from __future__ import annotations

import numpy as np
import pytest

from kplearn.classical.interest import Keypoints
from kplearn.viz import plot_interest_points, plot_matches


def test_plot_interest_points_and_matches_are_labelled():
    import matplotlib

    matplotlib.use("Agg")
    img = np.zeros((40, 50, 3), np.uint8)
    kp = Keypoints(xy=np.array([[10.0, 12.0], [30.0, 20.0]]), scale=np.array([6.0, 9.0]),
                   angle=np.array([np.nan, 45.0]), response=np.ones(2), method="sift")  # fmt: skip
    ax = plot_interest_points(img, kp)
    assert ax.get_title() == "sift: 2 points" and ax.get_xlabel() == "x (px)"
    ax = plot_matches(img, img, kp, kp, np.array([[0, 0], [1, 1]]), np.array([True, False]))
    assert ax.get_title() == "2 matches, 1 correct"
    assert ax.get_xlim() == (-0.5, 99.5)
    with pytest.raises(ValueError, match="same height"):
        plot_matches(img, img[:20], kp, kp, np.zeros((0, 2), int))
    with pytest.raises(ValueError, match="correct"):
        plot_matches(img, img, kp, kp, np.array([[0, 0]]), np.array([True, False]))
