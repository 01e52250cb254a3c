"""Point tracking (kplearn.tracking) through moving test sequences (kplearn.data.synthetic.make_sequence)."""

import numpy as np
import pytest

from kplearn.data.synthetic import make_sequence
from kplearn.tracking import track_lucas_kanade


def _dot_image(x, y, size=64):
    yy, xx = np.mgrid[:size, :size]
    dot = 255 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5**2))
    return np.clip(dot, 0, 255).astype(np.uint8)


def test_make_sequence_moves_keypoints_with_the_content():
    img = _dot_image(20.0, 30.0)
    frames, kp = make_sequence(img, np.array([[20.0, 30.0, 2.0]]), 12, seed=4, noise=0.0)
    assert np.array_equal(frames[0], img)
    for frame, k in zip(frames, kp, strict=True):
        y, x = np.unravel_index(np.argmax(frame), frame.shape)
        assert abs(x - k[0, 0]) <= 1.0 and abs(y - k[0, 1]) <= 1.0  # the dot is where the point is
    assert np.ptp(kp[:, 0, 0]) > 1.0  # it did move


def test_track_lucas_kanade_follows_a_known_translation():
    rng = np.random.default_rng(0)
    base = (rng.random((96, 96)) * 255).astype(np.uint8)
    import cv2

    base = cv2.GaussianBlur(base, (0, 0), 2.0)
    # 2 px right and 1 px down per frame.
    frames = [np.roll(base, (t, 2 * t), axis=(0, 1)) for t in range(5)]
    pts = np.array([[40.0, 40.0], [50.0, 45.0]])
    tracks, ok = track_lucas_kanade(frames, pts, win_size=15, levels=2)
    expected = pts[None] + np.arange(5)[:, None, None] * np.array([2.0, 1.0])
    np.testing.assert_allclose(tracks, expected, atol=0.1)
    assert ok.all()
    with pytest.raises(ValueError, match="points"):
        track_lucas_kanade(frames, np.array([[np.nan, 1.0]]))
