"""HOG features, dense SVM response maps, hard-negative mining and the HOG + SVM localiser."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data as skdata
from skimage.feature import hog
from skimage.transform import resize

from kplearn.classical.hog_svm import (
    HogGrid,
    HogSvmLocaliser,
    HogSvmNoPriorLocaliser,
    dense_hog,
    hog_at_points,
    hog_cells,
    mean_shift_targets,
    platt_scaling,
    refine_peak,
    response_maps,
    window_features,
)


def _camera(size: int = 80) -> np.ndarray:
    return resize(skdata.camera(), (size, size), anti_aliasing=True).astype(np.float32)


@pytest.mark.parametrize("shape, cell", [((32, 40), 4), ((37, 29), 4), ((64, 64), 8), ((50, 45), 6)])
def test_dense_hog_equals_skimage(shape, cell):
    img = np.random.default_rng(0).random(shape).astype(np.float32)
    ours = dense_hog(img, cell=cell)
    ref = hog(img, 9, (cell, cell), (2, 2), block_norm="L2-Hys", feature_vector=False)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_dense_hog_uint8_and_real_image_equal_skimage():
    img = (skdata.camera()[::4, ::4]).copy()
    np.testing.assert_allclose(dense_hog(img, 8), hog(img, 9, (8, 8), (2, 2), feature_vector=False),
                               atol=1e-5)


def test_hog_cells_bad_input():
    with pytest.raises(ValueError, match="smaller than one"):
        hog_cells(np.zeros((3, 3)), cell=4)
    with pytest.raises(ValueError, match="2-D"):
        hog_cells(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="NaN"):
        hog_cells(np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match="at least 2×2 cells"):
        dense_hog(np.zeros((4, 40)), cell=4)


def test_response_map_equals_brute_force_window_scores():
    """The correlation over the block grid equals scoring each window's own HOG.

    Each reference window is cut from the padded working image with one cell
    of margin (so that its gradients see the same neighbours), given to
    scikit-image's ``hog``, and its inner blocks are scored by the SVM.
    """
    grid = HogGrid(80, cell=4, patch_cells=6, n_shifts=2)
    work = _camera(80)
    rng = np.random.default_rng(1)
    k = 3
    w = rng.normal(size=(k, grid.feature_size)).astype(np.float32)
    b = rng.normal(size=k).astype(np.float32)
    maps = response_maps(grid.blocks(work), grid, w, b)
    assert maps.shape == (k, grid.size, grid.size)
    padded = np.pad(work, grid.margin, mode="edge")
    c, patch, wb = grid.cell, grid.patch, grid.win_blocks
    # Interior windows: the reference crop (window + one cell each side) lies inside the
    # shifted copy, away from the rows whose gradient scikit-image zeroes.
    last = grid.n_cells - 1 - grid.patch_cells
    checked = 0
    for _ in range(25):
        g = rng.integers(0, grid.size, size=2)
        if min(g // grid.n_shifts) < 1 or max(g // grid.n_shifts) > last:
            continue
        start = (g % grid.n_shifts) * grid.stride + c * (g // grid.n_shifts)  # (row, col) in padded
        crop = padded[start[0] - c : start[0] + patch + c, start[1] - c : start[1] + patch + c]
        feat = hog(crop, 9, (c, c), (2, 2), feature_vector=False)[1 : 1 + wb, 1 : 1 + wb].ravel()
        np.testing.assert_allclose(maps[:, g[0], g[1]], w @ feat + b, rtol=1e-4, atol=1e-4)
        # The window is centred where the grid says it is.
        centre = start + patch / 2 - 0.5 - grid.margin
        np.testing.assert_allclose(centre, grid.centres()[g], atol=1e-12)
        checked += 1
    assert checked >= 10


def test_window_features_match_response_maps():
    grid = HogGrid(48, cell=4, patch_cells=5, n_shifts=2)
    blocks = grid.blocks(_camera(48))
    rng = np.random.default_rng(2)
    w = rng.normal(size=(2, grid.feature_size)).astype(np.float32)
    maps = response_maps(blocks, grid, w, np.zeros(2))
    gy, gx = rng.integers(0, grid.size, 30), rng.integers(0, grid.size, 30)
    np.testing.assert_allclose(window_features(blocks, grid, gy, gx) @ w.T, maps[:, gy, gx].T, rtol=1e-4,
                               atol=1e-4)


def test_hog_grid_index_round_trip():
    grid = HogGrid(80)
    c = grid.centres()
    np.testing.assert_array_equal(grid.index_of(c), np.arange(grid.size))
    assert c[0] < -0.5 and c[-1] > 79.5  # the grid covers the whole working frame


def test_refine_peak_recovers_parabola_vertex():
    # Samples of -(x - 5.3)^2 - 2 (y - 3.8)^2: a parabola through three samples is exact.
    yy, xx = np.mgrid[0:8, 0:10]
    score = -((xx - 5.3) ** 2) - 2 * (yy - 3.8) ** 2
    iy, ix = np.unravel_index(np.argmax(score), score.shape)
    assert refine_peak(score, iy, ix) == pytest.approx((3.8, 5.3))


def test_mean_shift_targets_is_the_kernel_weighted_mean_in_the_window():
    grid = HogGrid(40)
    rng = np.random.default_rng(4)
    maps = rng.random((3, grid.size, grid.size))
    maps[2] = 0.0  # no evidence: the point stays
    points = np.array([[20.0, 18.0], [3.0, 35.0], [10.0, 10.0]])
    lo = np.array([[0, 0], [2, 10], [0, 0]])
    hi = np.array([[grid.size - 1] * 2, [6, grid.size - 1], [grid.size - 1] * 2])
    sigma = 3.0
    targets, mass = mean_shift_targets(maps, grid, points, sigma, lo, hi)
    c = grid.centres()
    for k in range(2):  # brute force over the window positions within 2 sigma (in grid steps)
        gi = grid.index_of(points[k : k + 1])[0]
        half = int(np.ceil(2 * sigma / grid.stride))
        gx = np.unique(np.clip(np.arange(gi[0] - half, gi[0] + half + 1), lo[k, 0], hi[k, 0]))
        gy = np.unique(np.clip(np.arange(gi[1] - half, gi[1] + half + 1), lo[k, 1], hi[k, 1]))
        if k == 0:  # away from the window's edges no position repeats
            yy, xx = np.meshgrid(c[gy], c[gx], indexing="ij")
            w = maps[k][np.ix_(gy, gx)] * np.exp(-((xx - points[k, 0]) ** 2 + (yy - points[k, 1]) ** 2)
                                                 / (2 * sigma**2))
            np.testing.assert_allclose(targets[k], [(w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()])
            assert mass[k] == pytest.approx(w.sum())
        assert c[gx].min() <= targets[k, 0] <= c[gx].max() and c[gy].min() <= targets[k, 1] <= c[gy].max()
    np.testing.assert_array_equal(targets[2], points[2])
    assert mass[2] == 0.0
    with pytest.raises(ValueError, match="sigma"):
        mean_shift_targets(maps, grid, points, 0.0)
    with pytest.raises(ValueError, match="expected"):
        mean_shift_targets(maps, grid, points[:2], 1.0)

def test_platt_scaling_matches_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    s = np.r_[rng.normal(-1, 1, 300), rng.normal(1.5, 1, 100)]
    y = np.r_[np.zeros(300), np.ones(100)]
    ref = LogisticRegression(C=1e6).fit(s[:, None], y)
    a, b = platt_scaling(s, y)
    assert a == pytest.approx(ref.coef_[0, 0], rel=1e-3)
    assert b == pytest.approx(ref.intercept_[0], rel=1e-3, abs=1e-3)


def test_hog_at_points_translation_equivariant_and_normalised():
    img = _camera(80)
    pts = np.array([[30.0, 35.0], [41.5, 22.25]])
    d = hog_at_points(img, pts)
    assert d.shape == (2, 128)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, rtol=1e-5)
    shifted = np.zeros_like(img)
    shifted[3:, 5:] = img[:-3, :-5]
    np.testing.assert_allclose(hog_at_points(shifted, pts + [5, 3]), d, atol=1e-5)


# ---- the localiser on a small synthetic set ------------------------------------------------------

SMALL = dict(work_size=48, cell=4, patch_cells=5, n_images=80, n_near=3, n_far=1, mining_rounds=1,
             pca_dims=40, fit_radii=(4.0, 2.0), fit_variances=(0.9, 0.95), fit_iters=2)


@pytest.fixture(scope="module")
def faces():
    from kplearn.data.synthetic import make_faces

    data = make_faces(110, image_size=64, seed=3)
    return data.split(0.2, seed=0)


@pytest.fixture(scope="module")
def trained(faces):
    train, _ = faces
    return HogSvmLocaliser(**SMALL).fit(train, seed=0, progress=False)


def test_hard_negative_mining_adds_negatives(trained):
    counts = trained.train_info["negatives_per_keypoint"]
    assert trained.train_info["mining_rounds_done"] == 1
    assert len(counts) == 2 and counts[1] > counts[0]


def test_prediction_shape_and_frame(trained, faces):
    _, test = faces
    pred = trained.predict([s.image for s in test])
    assert pred.shape == (len(test), 68, 3)
    assert np.all(pred[..., 2] == 2)
    assert np.all(np.isfinite(pred))


def test_beats_mean_shape_on_unseen_faces(trained, faces):
    from kplearn.classical.baselines import MeanShape

    train, test = faces
    gt = test.keypoints_array()
    images = [s.image for s in test]

    def err(pred):
        return np.linalg.norm(pred[..., :2] - gt[..., :2], axis=-1).mean()

    assert err(trained.predict(images)) < 0.9 * err(MeanShape().fit(train, progress=False).predict(images))


def test_shape_prior_switch_and_noprior_class(trained, faces):
    _, test = faces
    images = [s.image for s in test[:5]]
    with_prior = trained.predict(images)
    without = trained.predict(images, shape_prior=False)
    assert not np.allclose(with_prior, without)
    assert trained.shape_prior  # the per-call switch does not stick
    assert not HogSvmNoPriorLocaliser().shape_prior


def test_explain_is_consistent_with_predict(trained, faces):
    _, test = faces
    img = test[0].image
    info = trained.explain(img)
    np.testing.assert_allclose(info["fitted"], trained.predict([img])[0, :, :2], atol=1e-9)
    np.testing.assert_allclose(info["peaks"], trained.predict([img], shape_prior=False)[0, :, :2],
                               atol=1e-9)
    assert info["maps"].min() >= 0 and info["maps"].max() <= 1


def test_mean_shift_step_is_the_fit_of_one_kernel_width(trained, faces):
    """fit_shape is the robust start, then mean_shift_step repeated per kernel width."""
    from kplearn.classical.localiser import work_frames

    _, test = faces
    maps = trained.probability_maps(work_frames(test[:1], trained.work_size)[0][0])
    fitted, stages = trained.fit_shape(maps, return_stages=True)
    x = stages[1]
    for rho, variance in zip(trained.fit_radii, trained.fit_variances, strict=True):
        for _ in range(trained.fit_iters):
            x, targets, weights = trained.mean_shift_step(maps, x, rho, variance)
    np.testing.assert_allclose(x, fitted, atol=1e-9)
    assert targets.shape == (68, 2) and weights.shape == (68,) and np.all(weights > 0)

def test_save_load_round_trip_without_pickle(trained, faces, tmp_path):
    import json

    _, test = faces
    images = [s.image for s in test[:4]]
    trained.save(tmp_path / "run")
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["family"] == "classical" and config["model"] == "hog-svm"
    assert config["skeleton"] == "faces68"
    with np.load(tmp_path / "run" / "weights.npz", allow_pickle=False) as npz:
        assert npz["svm_weights"].shape == (68, trained.grid.feature_size)
    loaded = HogSvmLocaliser.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.predict(images), trained.predict(images))
    np.testing.assert_array_equal(loaded.predict(images, shape_prior=False),
                                  trained.predict(images, shape_prior=False))
    with pytest.raises(ValueError, match="expected 'hog-svm-noprior'"):
        HogSvmNoPriorLocaliser.load(tmp_path / "run")


def test_keypoint_never_inside_frame_is_an_error(faces):
    from kplearn.data.datasets import KeypointDataset, Sample

    train, _ = faces
    samples = []
    for s in train[:30]:
        kp = s.keypoints.copy()
        kp[0, 5, :2] = (-200.0, -200.0)  # far outside every image
        samples.append(Sample(s.image, kp, name=s.name, group=s.group))
    bad = KeypointDataset(samples, "faces68")
    with pytest.raises(ValueError, match="keypoint 5: no training image shows it inside"):
        HogSvmLocaliser(**SMALL).fit(bad, progress=False)


def test_bad_parameters():
    with pytest.raises(ValueError, match="multiple of n_shifts"):
        HogSvmLocaliser(cell=5, n_shifts=2)
    with pytest.raises(ValueError, match="solver"):
        HogSvmLocaliser(solver="magic")
    with pytest.raises(ValueError, match="not fitted"):
        HogSvmLocaliser().predict([np.zeros((64, 64), np.uint8)])


def test_drawings(trained, faces):
    from kplearn.viz.classical import plot_cascade, plot_response_maps

    _, test = faces
    img, truth = test[0].image, test[0].keypoints[0]
    fig = plot_response_maps(trained, img, keypoints=[36, 45])
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == [f"36: {trained.skeleton.keypoint_names[36]}",
                                                 f"45: {trained.skeleton.keypoint_names[45]}"]
    assert panels[0].get_xlabel() == "x (px)"
    # mean shape, robust start, and one panel per kernel width
    assert len(plot_cascade(trained, img).axes) == 2 + len(trained.fit_radii)
    with pytest.raises(ValueError, match="give 1 to 6 indices"):
        plot_response_maps(trained, img, keypoints=[99])
    with pytest.raises(ValueError, match="truth"):
        plot_cascade(trained, img, truth=np.zeros((5, 2)))
    with pytest.raises(ValueError, match="truth"):
        plot_response_maps(trained, img, truth=np.zeros((5, 2)))
    # The truth is drawn as one marker per panel, at the keypoint.
    fig = plot_response_maps(trained, img, keypoints=[36], truth=truth)
    marker = [ln for ln in fig.axes[0].lines if ln.get_label() == "truth"][0]
    assert marker.get_xydata().tolist() == [truth[36, :2].tolist()]
