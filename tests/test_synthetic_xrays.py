"""Synthetic knee radiographs with six landmarks (kplearn.data.synthetic.xrays)."""

import numpy as np
import pytest

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.synthetic import make_xrays


def test_make_xrays_layout_and_reproducibility():
    ds = make_xrays(6, image_size=64, seed=0)
    assert isinstance(ds, KeypointDataset) and ds.skeleton.name == "knee6"
    assert ds[0].image.shape == (64, 64) and ds[0].image.dtype == np.uint8
    kp = ds.keypoints_array()
    assert np.all((kp[..., :2] > -0.5) & (kp[..., :2] < 63.5)) and np.all(kp[..., 2] == 2)
    # Image i depends on (seed, i) only.
    again = make_xrays(3, image_size=64, seed=0)
    assert np.array_equal(again[2].image, ds[2].image)
    assert not np.array_equal(make_xrays(1, 64, seed=1)[0].image, ds[0].image)


def test_make_xrays_condyle_landmarks_sit_on_the_bone_edge():
    ds = make_xrays(30, image_size=64, seed=1)
    diffs = []
    for s in ds:
        a = np.deg2rad(s.meta["rotation"])
        up = np.array([np.sin(a), -np.cos(a)])  # the image direction of the canonical "up"
        img = s.image.astype(float)
        for k in (1, 2):  # lowest points of the condyles: bone above, joint space below
            p = s.keypoints[0, k, :2]
            inside, below = np.rint(p + 2 * up).astype(int), np.rint(p - up).astype(int)
            diffs.append(img[inside[1], inside[0]] - img[below[1], below[0]])
    assert np.mean(diffs) > 30 and np.min(diffs) > 0


def test_make_xrays_rejects_bad_input():
    with pytest.raises(ValueError, match="image_size"):
        make_xrays(1, image_size=16)
    with pytest.raises(ValueError):
        make_xrays(-1)


def test_sample_is_a_plain_sample():
    s = make_xrays(1, 64)[0]
    assert isinstance(s, Sample) and s.group == s.name
