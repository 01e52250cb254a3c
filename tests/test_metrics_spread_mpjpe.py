"""Shape statistics of kplearn.metrics: the spread of predictions, MPJPE, the face normaliser."""

import numpy as np
import pytest

from kplearn.metrics import face_normalizer, mpjpe, nme, spread_ratio


def _gt(xy):
    xy = np.asarray(xy, float)
    return np.concatenate([xy, np.full(xy.shape[:-1] + (1,), 2.0)], axis=-1)


def test_spread_ratio_hand_worked():
    gt = _gt([[[0.0, 0.0]], [[4.0, 0.0]]])
    mean = np.array([[2.0, 0.0]])
    assert spread_ratio(np.array([[[1.0, 0.0]], [[3.0, 0.0]]]), gt, mean) == 0.5
    assert spread_ratio(gt[..., :2], gt, mean) == 1.0
    assert spread_ratio(np.broadcast_to(mean, (2, 1, 2)), gt, mean) == 0.0


def test_spread_ratio_ignores_unlabelled_points():
    gt = _gt([[[0.0, 0.0], [0.0, 0.0]], [[4.0, 0.0], [0.0, 0.0]]])
    gt[:, 1, 2] = 0  # point 1 unlabelled: its (wild) prediction must not count
    pred = np.array([[[1.0, 0.0], [99.0, 99.0]], [[3.0, 0.0], [-99.0, 5.0]]])
    assert spread_ratio(pred, gt, np.array([[2.0, 0.0], [0.0, 0.0]])) == 0.5


def test_spread_ratio_rejects_bad_input():
    gt = _gt([[[0.0, 0.0]], [[4.0, 0.0]]])
    with pytest.raises(ValueError, match="shapes differ"):
        spread_ratio(np.zeros((3, 1, 2)), gt, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="NaN"):
        spread_ratio(np.full((2, 1, 2), np.nan), gt, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="undefined"):
        spread_ratio(np.zeros((2, 1, 2)), _gt(np.zeros((2, 1, 2))), np.zeros((1, 2)))


def test_mpjpe_by_hand_and_shape_check():
    p = np.array([[[0.1, 0.5, -0.3], [1.0, -2.0, 4.0]]])
    assert mpjpe(p, p) == 0.0
    assert mpjpe(np.zeros((1, 2, 3)), [[[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]]]) == 3.0
    with pytest.raises(ValueError):
        mpjpe(np.zeros((1, 2, 3)), np.zeros((1, 3, 3)))


def test_face_normalizer_is_the_one_nme_divides_by():
    rng = np.random.default_rng(0)
    gt = np.concatenate([rng.uniform(0, 100, (4, 68, 2)), np.full((4, 68, 1), 2.0)], axis=-1)
    d = np.linalg.norm(gt[:, 36, :2] - gt[:, 45, :2], axis=1)  # outer eye corners, by hand
    np.testing.assert_allclose(face_normalizer(gt), d)
    pred = gt[..., :2] + rng.normal(0, 2, (4, 68, 2))
    assert nme(pred, gt, normalize=face_normalizer(gt)) == pytest.approx(nme(pred, gt))
    pupils = np.linalg.norm(gt[:, 36:42, :2].mean(1) - gt[:, 42:48, :2].mean(1), axis=1)
    np.testing.assert_allclose(face_normalizer(gt, "interpupil"), pupils)
    gt[1, 45, 2] = 0  # an unlabelled eye corner: no normaliser for that face
    assert np.isnan(face_normalizer(gt)[1]) and np.isfinite(face_normalizer(gt)[[0, 2, 3]]).all()
    with pytest.raises(ValueError, match="mode"):
        face_normalizer(gt, "bbox")
    with pytest.raises(ValueError, match="68"):
        face_normalizer(gt[:, :17])
