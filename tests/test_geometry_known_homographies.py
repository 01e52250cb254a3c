"""Known homographies: a zoom or turn about the image centre, and warping an image through H."""

from __future__ import annotations

import numpy as np
import pytest

from kplearn.classical.interest import warp_points
from kplearn.geometry import centred_similarity, warp_homography


def test_centred_similarity_by_hand():
    size = (11, 7)  # centre (5, 3)
    H = centred_similarity(size, scale=2.0)
    np.testing.assert_allclose(
        warp_points(np.array([[5.0, 3.0], [6.0, 3.0]]), H), [[5.0, 3.0], [7.0, 3.0]]
    )
    H = centred_similarity(size, angle_deg=90.0)
    # Counter-clockwise on screen (y down): a point right of the centre moves above it.
    np.testing.assert_allclose(warp_points(np.array([[7.0, 3.0]]), H), [[5.0, 1.0]], atol=1e-12)


@pytest.mark.parametrize("bad", [dict(scale=0.0), dict(scale=np.nan), dict(angle_deg=np.inf)])
def test_centred_similarity_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        centred_similarity((10, 10), **bad)


def test_warp_homography_moves_pixels_to_h_x():
    img = np.zeros((20, 30), np.uint8)
    img[4, 6] = 255
    H = np.array([[1.0, 0.0, 5.0], [0.0, 1.0, 3.0], [0.0, 0.0, 1.0]])
    out = warp_homography(img, H)
    assert out.shape == img.shape
    assert np.argwhere(out == 255).tolist() == [[7, 11]]
    rotated = warp_homography(img, centred_similarity((30, 20), angle_deg=90.0))
    y, x = np.unravel_index(np.argmax(rotated), rotated.shape)
    expected = warp_points(np.array([[6.0, 4.0]]), centred_similarity((30, 20), angle_deg=90.0))[0]
    assert abs(x - expected[0]) <= 1 and abs(y - expected[1]) <= 1


def test_warp_homography_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        warp_homography(np.zeros((5, 5)), np.eye(3))
    with pytest.raises(ValueError, match="3×3"):
        warp_homography(np.zeros((5, 5), np.uint8), np.eye(2))
