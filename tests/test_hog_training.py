"""The patch-training steps of the HOG + SVM localiser, as lesson 3 runs them one by one.

Working frames (:func:`kplearn.classical.localiser.work_frames`), window features,
negative sampling and hard-negative mining (:mod:`kplearn.classical.hog_svm`): the
same functions :class:`~kplearn.classical.hog_svm.HogSvmLocaliser` trains with.
"""

from __future__ import annotations

import numpy as np
import pytest

from kplearn.classical.hog_svm import (
    HogGrid,
    hard_negative_windows,
    hard_negatives,
    random_negative_windows,
    response_maps,
    sample_negative_centres,
    window_features,
    window_features_at,
)
from kplearn.classical.localiser import work_frames
from kplearn.data.datasets import KeypointDataset, Sample


def _faces5_dataset(n=3, size=160):
    rng = np.random.default_rng(0)
    samples = []
    for i in range(n):
        kp = np.column_stack([rng.uniform(20, size - 20, (5, 2)), np.full(5, 2.0)])
        samples.append(
            Sample(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), kp, name=f"s{i}")
        )
    return KeypointDataset(samples, "faces5")


def test_work_frames_scales_pixel_centres():
    ds = _faces5_dataset()
    ds.samples[0].keypoints[0, 0, :2] = (79.5, 79.5)  # the centre of a 160 px image
    ds.samples[0].keypoints[0, 1, :2] = (-0.5, 159.5)  # its corner
    works, kp = work_frames(ds, 80)
    assert works.shape == (3, 80, 80) and works.dtype == np.float32
    assert 0.0 <= works.min() and works.max() <= 1.0
    np.testing.assert_allclose(kp[0, 0, :2], (39.5, 39.5))
    np.testing.assert_allclose(kp[0, 1, :2], (-0.5, 79.5))
    np.testing.assert_array_equal(kp[..., 2], ds.keypoints_array()[..., 2])
    with pytest.raises(ValueError, match="empty"):
        work_frames(ds[:0])


def test_window_features_at_snaps_to_the_grid():
    grid = HogGrid(80)
    rng = np.random.default_rng(1)
    blocks = [grid.blocks(rng.random((80, 80)).astype(np.float32)) for _ in range(2)]
    c = grid.centres()
    centres = np.array(
        [[[c[10], c[12]], [c[3] + 0.4, c[30] - 0.3]], [[c[0], c[0]], [c[43], c[20]]]]
    )
    feats = window_features_at(blocks, grid, centres)
    assert feats.shape == (4, grid.feature_size)
    expected = np.concatenate([window_features(blocks[0], grid, [12, 30], [10, 3]),
                               window_features(blocks[1], grid, [0, 20], [0, 43])])  # fmt: skip
    np.testing.assert_array_equal(feats, expected)
    with pytest.raises(ValueError, match="centres"):
        window_features_at(blocks, grid, centres[:1])


def test_sample_negative_centres_stay_in_the_ring_and_frame():
    for point in ((40.0, 40.0), (1.0, 78.0)):
        c = sample_negative_centres(point, 200, 4.0, 20.0, np.random.default_rng(0), 80)
        d = np.hypot(*(c - point).T)
        assert c.shape == (200, 2)
        assert np.all((d >= 4.0) & (d <= 20.0)) and np.all((c >= 0) & (c <= 79))
        # Uniform over the ring: about as many points inside radius 12 as the area share says.
    c = sample_negative_centres((40.0, 40.0), 4000, 4.0, 20.0, np.random.default_rng(1), 80)
    share = np.mean(np.hypot(*(c - 40.0).T) < 12.0)
    assert abs(share - (12**2 - 4**2) / (20**2 - 4**2)) < 0.03
    np.testing.assert_array_equal(
        sample_negative_centres((9.0, 9.0), 5, 2.0, 6.0, np.random.default_rng(7), 80),
        sample_negative_centres((9.0, 9.0), 5, 2.0, 6.0, np.random.default_rng(7), 80),
    )
    with pytest.raises(ValueError):
        sample_negative_centres((40.0, 40.0), 5, 5.0, 5.0, np.random.default_rng(0), 80)
    with pytest.raises(ValueError, match="outside"):
        sample_negative_centres((200.0, 40.0), 5, 1.0, 5.0, np.random.default_rng(0), 80)


def test_hard_negatives_are_the_best_far_windows():
    grid = HogGrid(80)
    rng = np.random.default_rng(2)
    blocks = [grid.blocks(rng.random((80, 80)).astype(np.float32)) for _ in range(2)]
    w = rng.normal(size=grid.feature_size).astype(np.float32)
    kp = np.array([[30.0, 30.0], [50.0, 20.0]])
    hard = hard_negatives(blocks, grid, w, 0.5, kp, min_dist=6.0, n_per_image=4)
    assert hard.shape == (2, 4, 2)
    c = grid.centres()
    gy, gx = np.meshgrid(np.arange(grid.size), np.arange(grid.size), indexing="ij")
    for i in range(2):
        scores = window_features(blocks[i], grid, gy.ravel(), gx.ravel()) @ w + 0.5
        far = np.hypot(c[gx.ravel()] - kp[i, 0], c[gy.ravel()] - kp[i, 1]) >= 6.0
        best = np.sort(scores[far])[::-1][:4]
        idx = grid.index_of(hard[i])
        got = window_features(blocks[i], grid, idx[:, 1], idx[:, 0]) @ w + 0.5
        np.testing.assert_allclose(np.sort(got)[::-1], best, rtol=1e-5)
        assert np.all(np.hypot(*(hard[i] - kp[i]).T) >= 6.0)
    with pytest.raises(ValueError, match="keypoints"):
        hard_negatives(blocks, grid, w, 0.0, kp[:1], 6.0)


def test_hard_negative_windows_brute_force_in_a_region():
    grid = HogGrid(80)
    rng = np.random.default_rng(4)
    blocks = grid.blocks(rng.random((80, 80)).astype(np.float32))
    w = rng.normal(size=(1, grid.feature_size)).astype(np.float32)
    score = response_maps(blocks, grid, w, np.array([-0.2]))[0]
    c = grid.centres()
    kp, lo, hi = (40.0, 35.0), (10, 8), (30, 33)  # lo, hi: (gx, gy)
    got = hard_negative_windows(score, grid, kp, 5.0, 6, lo=lo, hi=hi, min_score=-1.0)
    # Brute force: every window of the region, far enough, inside the margin, best first.
    cand = [(score[gy, gx], gy, gx) for gy in range(lo[1], hi[1] + 1) for gx in range(lo[0], hi[0] + 1)
            if np.hypot(c[gx] - kp[0], c[gy] - kp[1]) >= 5.0 and score[gy, gx] > -1.0]  # fmt: skip
    cand.sort(key=lambda t: -t[0])
    assert got.tolist() == [[gy, gx] for _, gy, gx in cand[:6]]
    # Scores equal the SVM applied to each window's features (an independent code path).
    feats = window_features(blocks, grid, got[:, 0], got[:, 1])
    np.testing.assert_allclose(
        feats @ w[0] - 0.2, score[got[:, 0], got[:, 1]], rtol=1e-4, atol=1e-4
    )
    # A threshold above every score leaves nothing; n = 0 asks for nothing.
    assert len(hard_negative_windows(score, grid, kp, 5.0, 6, min_score=float(score.max()))) == 0
    assert hard_negative_windows(score, grid, kp, 5.0, 0).shape == (0, 2)


def test_random_negative_windows_respect_region_distance_and_count():
    grid = HogGrid(80)
    kp = np.array([[40.0, 40.0], [20.0, 60.0], [70.0, 10.0]])
    rows = random_negative_windows(
        grid, kp, 7, np.random.default_rng(0), lo=(5, 6), hi=(30, 35), min_dist=4.0
    )
    assert rows.dtype == np.int64 and rows.shape[1] == 3
    c = grid.centres()
    img, gy, gx = rows.T
    assert np.all((gx >= 5) & (gx <= 30) & (gy >= 6) & (gy <= 35))
    assert np.all(np.hypot(c[gx] - kp[img, 0], c[gy] - kp[img, 1]) >= 4.0)
    assert np.bincount(img, minlength=3).max() <= 7 and set(img) == {0, 1, 2}
    again = random_negative_windows(
        grid, kp, 7, np.random.default_rng(0), lo=(5, 6), hi=(30, 35), min_dist=4.0
    )
    np.testing.assert_array_equal(rows, again)
    assert random_negative_windows(grid, kp, 0, np.random.default_rng(0)).shape == (0, 3)


def test_window_features_of_a_stack_equal_those_of_each_image():
    grid = HogGrid(40)
    rng = np.random.default_rng(5)
    stack = np.stack([grid.blocks(rng.random((40, 40)).astype(np.float32)) for _ in range(3)])
    images, gy, gx = np.array([2, 0, 2]), np.array([1, 5, 9]), np.array([3, 0, 7])
    expected = np.concatenate(
        [window_features(stack[i], grid, [y], [x]) for i, y, x in zip(images, gy, gx, strict=True)]
    )
    np.testing.assert_array_equal(window_features(stack, grid, gy, gx, images=images), expected)
