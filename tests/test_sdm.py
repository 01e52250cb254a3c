"""Supervised descent: ridge selection on held-out people, the cascade, persistence, time budget."""

from __future__ import annotations

import numpy as np
import pytest

from kplearn.classical.sdm import (
    SupervisedDescent,
    group_holdout,
    pca_basis,
    ridge_fit,
    select_ridge,
)

SMALL = dict(work_size=48, n_stages=3, cells=(5.0, 4.0, 3.0), n_init=3, pca_dims=80)


@pytest.mark.parametrize("n, d", [(60, 8), (10, 30)])  # primal and dual (fewer rows than features)
def test_ridge_fit_matches_scikit_learn(n, d):
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d)) + 3.0
    y = rng.normal(size=(n, 3))
    w, b = ridge_fit(x, y, alpha=0.5)
    xc = x - x.mean(0)
    scale = np.trace(xc.T @ xc) / x.shape[1]
    ref = Ridge(alpha=0.5 * scale).fit(x, y)
    np.testing.assert_allclose(w, ref.coef_.T, atol=1e-10)
    np.testing.assert_allclose(b, ref.intercept_, atol=1e-10)


def test_ridge_fit_intercept_is_free_and_penalty_is_relative_to_the_features():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 6)) + 50.0  # a large offset: a penalised intercept would show
    y = rng.normal(size=(40, 2))
    w, b = ridge_fit(x, y, alpha=1e9)
    assert w.shape == (6, 2) and b.shape == (2,)
    np.testing.assert_allclose(w, 0.0, atol=1e-8)
    np.testing.assert_allclose(b, y.mean(0), atol=1e-6)  # the mean, not shrunk towards zero
    w1, b1 = ridge_fit(x, y, alpha=2.0)
    w10, b10 = ridge_fit(10.0 * x, y, alpha=2.0)  # features in other units: the same predictions
    np.testing.assert_allclose(x @ w1 + b1, 10.0 * x @ w10 + b10, atol=1e-10)
    with pytest.raises(ValueError, match="alpha"):
        ridge_fit(x, y, 0.0)
    with pytest.raises(ValueError, match="expected"):
        ridge_fit(x, y[:, 0], 1.0)

def test_select_ridge_prefers_strong_penalty_on_noise_and_weak_on_signal():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 30))
    held = np.zeros(200, bool)
    held[150:] = True
    alphas = np.array([1e-4, 1e-2, 1.0, 100.0])
    noise = rng.normal(size=(200, 2))
    assert select_ridge(x, noise, held, alphas)[0] == 100.0  # nothing to learn: shrink all
    signal = x @ rng.normal(size=(30, 2))
    assert select_ridge(x, signal, held, alphas)[0] == 1e-4  # exact linear map: barely shrink
    # The held-out errors it reports are those of fitting on the other rows, in primal and dual form.
    for cols in (30, 5):
        wide = np.c_[x, rng.normal(size=(200, 300))] if cols == 5 else x
        _, errs = select_ridge(wide, signal, held, alphas)
        w, b = ridge_fit(wide[~held], signal[~held], 1.0)
        assert errs[2] == pytest.approx(np.mean((wide[held] @ w + b - signal[held]) ** 2))


def test_group_holdout_keeps_people_apart():
    groups = np.repeat([f"p{i}" for i in range(20)], 5)
    held = group_holdout(groups, 0.2, np.random.default_rng(0))
    assert set(groups[held]).isdisjoint(groups[~held])
    assert 0.1 <= held.mean() <= 0.35


def test_pca_basis_is_top_principal_directions():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 20)) * np.linspace(5, 0.1, 20)
    mu, basis = pca_basis(x, 4, rng)
    np.testing.assert_allclose(basis.T @ basis, np.eye(4), atol=1e-5)
    _, _, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    # Same subspace as the reference SVD (signs may differ).
    np.testing.assert_allclose(np.abs(vt[:4] @ basis), np.eye(4), atol=1e-4)
    np.testing.assert_allclose(mu, x.mean(0), rtol=1e-5)


@pytest.fixture(scope="module")
def faces():
    from kplearn.data.synthetic import make_faces

    return make_faces(120, image_size=64, seed=5).split(0.2, seed=0)


@pytest.fixture(scope="module")
def trained(faces):
    train, _ = faces
    return SupervisedDescent(**SMALL).fit(train, seed=0, progress=False)


def test_each_stage_reduces_training_error(trained, faces):
    train, _ = faces
    from kplearn.classical.localiser import image_box, to_work, work_frames, work_matrix

    works, _ = work_frames(train, trained.work_size)

    errors = []
    for w, s in zip(works, train, strict=True):
        truth = to_work(s.keypoints[0, :, :2], work_matrix(image_box(s.image), trained.work_size))
        errors.append(np.linalg.norm(trained.cascade(w) - truth, axis=-1).mean(-1))
    per_stage = np.mean(errors, axis=0)  # mean error at the start and after each stage
    assert len(per_stage) == SMALL["n_stages"] + 1
    assert np.all(np.diff(per_stage) < 0), per_stage
    assert per_stage[-1] < 0.6 * per_stage[0]


def test_beats_mean_shape_on_held_out(trained, faces):
    _, test = faces
    gt = test.keypoints_array()
    pred = trained.predict([s.image for s in test])
    from kplearn.classical.baselines import MeanShape

    train, _ = faces
    mean_pred = MeanShape().fit(train, progress=False).predict([s.image for s in test])
    err = np.linalg.norm(pred[..., :2] - gt[..., :2], axis=-1).mean()
    start = np.linalg.norm(mean_pred[..., :2] - gt[..., :2], axis=-1).mean()
    assert err < 0.8 * start


def test_save_load_round_trip(trained, faces, tmp_path):
    _, test = faces
    images = [s.image for s in test[:5]]
    trained.save(tmp_path)
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as npz:
        assert npz["stage_weights"].shape[0] == SMALL["n_stages"]
    loaded = SupervisedDescent.load(tmp_path)
    np.testing.assert_array_equal(loaded.predict(images), trained.predict(images))
    assert loaded.get_params() == trained.get_params()


def test_explain_stages_end_at_prediction(trained, faces):
    _, test = faces
    info = trained.explain(test[0].image)
    assert info["stages"].shape == (SMALL["n_stages"] + 1, 68, 2)
    np.testing.assert_allclose(info["fitted"], trained.predict([test[0].image])[0, :, :2], atol=1e-9)


def test_time_budget_cuts_stages(faces):
    train, _ = faces
    model = SupervisedDescent(**SMALL).fit(train[:30], minutes=1e-4, progress=False)
    assert len(model.stage_weights) == 1  # the first stage always runs; no time for more


def test_needs_complete_shapes(faces):
    from kplearn.data.datasets import KeypointDataset, Sample

    train, _ = faces
    samples = []
    for s in train[:6]:
        kp = s.keypoints.copy()
        kp[0, 10, 2] = 0  # unlabelled
        samples.append(Sample(s.image, kp, group=s.group))
    with pytest.raises(ValueError, match="every keypoint labelled"):
        SupervisedDescent(**SMALL).fit(KeypointDataset(samples, "faces68"), progress=False)


@pytest.mark.parametrize("kw, match", [(dict(n_stages=0), "n_stages"), (dict(cells=()), "cells"),
                                       (dict(n_init=0), "n_init"), (dict(holdout=1.0), "holdout")])
def test_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        SupervisedDescent(**kw)


def test_cascade_drawing(trained, faces):
    from kplearn.viz.classical import plot_cascade

    _, test = faces
    fig = plot_cascade(trained, test[0].image, truth=test[0].keypoints)
    assert [ax.get_title() for ax in fig.axes] == ["start (mean shape)", "stage 1", "stage 2", "stage 3"]


def test_late_stages_learn_from_fewer_images_when_time_is_short():
    from kplearn.classical.localiser import Deadline

    deadline = Deadline(minutes=1.0)  # 60 s, of which 54 s (90 %) may be planned
    active = np.arange(1000)
    held = np.zeros(1000, bool)
    held[::5] = True
    rng = np.random.default_rng(0)
    # A 3 s stage: three more fit easily, all images stay.
    assert SupervisedDescent._affordable(active, 3.0, 3, held, deadline, rng) is active
    # A 30 s stage: per image 1.15 * 30 / 1000 s, so 54 / (3 * 0.0345) = 521 images fit.
    keep = SupervisedDescent._affordable(active, 30.0, 3, held, deadline, rng)
    assert abs(len(keep) - 521) <= 2
    assert np.all(np.isin(keep, active)) and np.all(np.diff(keep) > 0)
    # A 600 s stage: not even 100 images fit.
    assert SupervisedDescent._affordable(active, 600.0, 3, held, deadline, rng) is None


def test_face_box_in_a_larger_image(trained, faces):
    """A face pasted into a bigger canvas, found through its box, gives the same keypoints moved."""
    _, test = faces
    face = test[0].image
    canvas = np.zeros((150, 170, 3), np.uint8)
    canvas[40:104, 70:134] = face
    direct = trained.predict([face])[0]
    boxed = trained.predict([canvas], boxes=[[69.5, 39.5, 64.0, 64.0]])[0]
    np.testing.assert_allclose(boxed[:, :2], direct[:, :2] + [70, 40], atol=1e-3)
