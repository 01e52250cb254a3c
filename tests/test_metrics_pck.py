"""PCK, PCKh, the PCK curve and AUC, EPE, NME, failure rate, and the two table summaries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kplearn.metrics import (
    body_metrics,
    ced_auc,
    epe,
    face_metrics,
    failure_rate,
    keypoint_errors,
    nme,
    pck,
    pck_curve,
    pckh,
)
from kplearn.skeletons import faces68_to_faces5


def labelled(xy, v=2):
    xy = np.asarray(xy, dtype=float)
    return np.concatenate([xy, np.full(xy.shape[:-1] + (1,), float(v))], axis=-1)


# ------------------------------------------------------------------------------- PCK


def test_threshold_is_strict_unless_inclusive():
    gt = labelled([[[0.0, 0.0]]])
    pred = [[[3.0, 4.0]]]  # 5 px: 5 / 10 = 0.5 exactly
    assert pck(pred, gt, None, 10.0, 0.5) == 0.0
    assert pck(pred, gt, None, 10.0, 0.5, inclusive=True) == 1.0
    assert pck(pred, gt, None, 10.0, 0.5000001) == 1.0


def test_per_axis_normaliser():
    gt = labelled([[[0.0, 0.0]]])
    d, ok = keypoint_errors([[[3.0, 4.0]]], gt, None, [[10.0, 20.0]])
    assert d[0, 0] == pytest.approx(np.hypot(0.3, 0.2))  # 0.3606
    assert pck([[[3.0, 4.0]]], gt, None, [[10.0, 20.0]], 0.36) == 0.0
    assert pck([[[3.0, 4.0]]], gt, None, [[10.0, 20.0]], 0.37) == 1.0


def test_macro_versus_pooled_averaging():
    # keypoint 0: 3 valid instances, all correct; keypoint 1: 1 valid instance, wrong
    gt = labelled(np.zeros((3, 2, 2)))
    gt[1:, 1, 2] = 0
    pred = np.zeros((3, 2, 2))
    pred[0, 1] = 50.0
    assert pck(pred, gt, None, 10.0, 0.5) == pytest.approx(0.5)
    assert pck(pred, gt, None, 10.0, 0.5, average="pooled") == pytest.approx(0.75)
    np.testing.assert_allclose(pck(pred, gt, None, 10.0, 0.5, average="none"), [1.0, 0.0])


def test_per_keypoint_values_and_zero_normaliser():
    # 2 samples × 5 keypoints; keypoint 2 never valid; sample 0 gets keypoint 1 wrong
    gt = labelled(np.zeros((2, 5, 2)))
    gt[:, 2, 2] = 0
    pred = np.zeros((2, 5, 2))
    pred[0, 1] = [20.0, 0.0]
    pred[1, 1] = [1.0, 0.0]
    acc = pck(pred, gt, None, 10.0, 0.5, average="none")
    np.testing.assert_allclose(acc, [1, 0.5, np.nan, 1, 1])
    assert pck(pred, gt, None, 10.0, 0.5) == pytest.approx(0.875)
    # a zero normaliser (on any axis) leaves the whole instance out
    norm = np.array([[0.0, 10.0], [10.0, 10.0]])
    np.testing.assert_allclose(pck(pred, gt, None, norm, 0.5, average="none"), [1, 1, np.nan, 1, 1])
    assert np.isnan(pck(pred, gt, None, 0.0, 0.5))  # nothing left: NaN
    np.testing.assert_array_equal(pck(pred, gt, None, 0.0, 0.5, average="none"), [np.nan] * 5)


def test_visible_mask_combines_with_visibility():
    gt = labelled(np.zeros((1, 3, 2)))
    gt[0, 0, 2] = 0
    pred = np.zeros((1, 3, 2))
    pred[0, 2] = 100.0
    assert pck(pred, gt, [[True, True, True]], 1.0, 0.5) == pytest.approx(0.5)
    assert pck(pred, gt, [[True, True, False]], 1.0, 0.5) == 1.0
    assert pck(pred, gt[..., :2], None, 1.0, 0.5) == pytest.approx(2 / 3)  # no v: all count


def test_nan_prediction_is_a_miss():
    gt = labelled(np.zeros((1, 2, 2)))
    pred = np.array([[[np.nan, 0.0], [0.0, 0.0]]])
    assert pck(pred, gt, None, 1.0, 0.5, average="none").tolist() == [0.0, 1.0]
    pred[0, 1] = np.inf
    assert pck(pred, gt, None, 1.0, 1e9) == 0.0


def test_unbatched_input():
    gt = labelled([[0.0, 0.0], [10.0, 0.0]])
    assert pck([[1.0, 0.0], [30.0, 0.0]], gt, None, 10.0, 0.5) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pred": np.zeros((2, 3, 2))}, "disagree"),
        ({"pred": np.zeros((1, 3, 4))}, "pred"),
        ({"visible": np.ones((1, 4), bool)}, "visible"),
        ({"normalizer": -1.0}, "normalizer"),
        ({"normalizer": np.nan}, "normalizer"),
        ({"normalizer": np.ones(3)}, "normalizer"),
        ({"gt": labelled([[[np.nan, 0.0], [0.0, 0.0], [0.0, 0.0]]])}, "NaN"),
        ({"average": "micro"}, "average"),
    ],
)
def test_pck_bad_input(kwargs, match):
    args = {
        "pred": np.zeros((1, 3, 2)),
        "gt": labelled(np.zeros((1, 3, 2))),
        "visible": None,
        "normalizer": 1.0,
        "threshold": 0.5,
    }
    args.update(kwargs)
    average = args.pop("average", "macro")
    with pytest.raises(ValueError, match=match):
        pck(**args, average=average)


def test_nan_at_unlabelled_ground_truth_is_fine():
    gt = labelled(np.zeros((1, 2, 2)))
    gt[0, 1] = [np.nan, np.nan, 0]
    assert pck(np.zeros((1, 2, 2)), gt, None, 1.0, 0.5) == 1.0


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 10.0))
def test_pck_properties(seed, scale):
    rng = np.random.default_rng(seed)
    gt = labelled(rng.uniform(0, 100, (6, 4, 2)))
    gt[..., 2] = rng.choice([0, 2], (6, 4), p=[0.2, 0.8])
    pred = gt[..., :2] + rng.normal(0, 5, (6, 4, 2))
    norm = rng.uniform(5, 50, 6)
    thr = np.linspace(0, 0.5, 11)
    curve = [pck(pred, gt, None, norm, t) for t in thr]
    curve = np.nan_to_num(curve, nan=0.0)
    assert np.all(np.diff(curve) >= -1e-12) and 0 <= curve[0] and curve[-1] <= 1
    # scale invariance: scale coordinates and normaliser together
    a = pck(pred, gt, None, norm, 0.2)
    gt_s = gt.copy()
    gt_s[..., :2] *= scale
    b = pck(pred * scale, gt_s, None, norm * scale, 0.2)
    assert a == pytest.approx(b, nan_ok=True)
    # order of instances does not matter
    perm = rng.permutation(6)
    assert pck(pred[perm], gt[perm], None, norm[perm], 0.2) == pytest.approx(a, nan_ok=True)


# ------------------------------------------------------------------------------ PCKh


def test_pckh_head_size():
    # a 30 × 40 head box: diagonal 50, head size 30, so PCKh@0.5 accepts errors below 15 px
    gt = labelled(np.zeros((1, 3, 2)))
    pred = np.array([[[14.9, 0.0], [15.0, 0.0], [0.0, -2.9]]])
    assert pckh(pred, gt, None, [[5, 5, 30, 40]], average="none").tolist() == [1.0, 0.0, 1.0]
    assert pckh(pred, gt, None, [[5, 5, 30, 40]], inclusive=True) == 1.0
    assert pckh(pred, gt, None, [[5, 5, 30, 40]]) == pytest.approx(2 / 3)
    assert pckh(pred, gt, None, [[5, 5, 30, 40]], exclude=[1]) == 1.0
    assert pckh(pred, gt, None, [[5, 5, 30, 40]], threshold=0.1) == pytest.approx(1 / 3)


def test_pckh_default_is_pooled():
    gt = labelled(np.zeros((3, 2, 2)))
    gt[1:, 1, 2] = 0
    pred = np.zeros((3, 2, 2))
    pred[0, 1] = 50.0
    boxes = np.tile([0, 0, 30, 40], (3, 1))
    assert pckh(pred, gt, None, boxes) == pytest.approx(0.75)
    assert pckh(pred, gt, None, boxes, average="macro") == pytest.approx(0.5)


def test_pckh_bad_boxes():
    gt = labelled(np.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match="head_boxes"):
        pckh(np.zeros((2, 3, 2)), gt, None, [[0, 0, 30, 40]])
    with pytest.raises(ValueError, match="head_boxes"):
        pckh(np.zeros((2, 3, 2)), gt, None, [[0, 0, -30, 40]] * 2)
    with pytest.raises(ValueError, match="exclude"):
        pckh(np.zeros((2, 3, 2)), gt, None, [[0, 0, 30, 40]] * 2, exclude=[3])


# ------------------------------------------------------------------------- curve / AUC


def test_auc_hand_worked():
    gt = labelled(np.zeros((2, 1, 2)))
    pred = np.array([[[5.0, 0.0]], [[15.0, 0.0]]])  # normalised 0.05 and 0.15
    thr, curve, auc = pck_curve(pred, gt, None, 100.0, [0.0, 0.05, 0.1])
    np.testing.assert_allclose(curve, [0.0, 0.0, 0.5])  # strict <: 0.05 is not below 0.05
    assert auc == pytest.approx(0.25)  # ∫_0^0.1 (0.5 for t > 0.05) dt / 0.1
    # a sub-range: [0.05, 0.2] -> the 0.05 point counts throughout, the 0.15 one for a third
    assert pck_curve(pred, gt, None, 100.0, [0.05, 0.2])[2] == pytest.approx((1 + 1 / 3) / 2)


def test_auc_of_a_perfect_prediction_is_one():
    gt = labelled(np.random.default_rng(0).uniform(0, 50, (4, 5, 2)))
    thr, curve, auc = pck_curve(gt[..., :2], gt, None, 30.0, np.arange(20) / 20)
    assert auc == 1.0
    # the MMPose rectangle rule (mean over i/n, i = 0..n-1) would give (n-1)/n instead
    assert np.mean(curve) == pytest.approx(0.95)


def test_auc_equals_fine_trapezoid():
    rng = np.random.default_rng(3)
    gt = labelled(rng.uniform(0, 100, (20, 6, 2)))
    pred = gt[..., :2] + rng.normal(0, 4, (20, 6, 2))
    norm = rng.uniform(40, 80, 20)
    fine = np.linspace(0, 0.2, 4001)
    thr, curve, auc = pck_curve(pred, gt, None, norm, fine)
    trapezoid = np.sum((curve[1:] + curve[:-1]) / 2 * np.diff(thr)) / 0.2
    assert auc == pytest.approx(trapezoid, abs=2e-4)
    assert pck_curve(pred, gt, None, norm)[2] == pytest.approx(auc)  # default range [0, 0.2]
    np.testing.assert_allclose(
        curve[[100, 2000]], [pck(pred, gt, None, norm, fine[i]) for i in (100, 2000)]
    )


def test_auc_nan_prediction_contributes_zero():
    gt = labelled(np.zeros((2, 1, 2)))
    pred = np.array([[[0.0, 0.0]], [[np.nan, 0.0]]])
    assert pck_curve(pred, gt, None, 10.0, [0.0, 0.1])[2] == pytest.approx(0.5)


def test_curve_bad_thresholds():
    gt = labelled(np.zeros((1, 1, 2)))
    for bad in ([0.1], [0.2, 0.1], [-0.1, 0.1], [0.0, np.nan]):
        with pytest.raises(ValueError, match="thresholds"):
            pck_curve(np.zeros((1, 1, 2)), gt, None, 1.0, bad)
    with pytest.raises(ValueError, match="average"):
        pck_curve(np.zeros((1, 1, 2)), gt, None, 1.0, average="none")


def test_ced_auc():
    assert ced_auc([0.0, 0.05, 0.2]) == pytest.approx(0.5)
    assert ced_auc([0.02, np.inf, np.nan], max_error=0.08) == pytest.approx(0.75 / 2)
    assert np.isnan(ced_auc([]))
    with pytest.raises(ValueError):
        ced_auc([0.1], max_error=0.0)
    with pytest.raises(ValueError):
        ced_auc([-0.1])


# ------------------------------------------------------------------------------- EPE


def test_epe_hand_worked():
    gt = labelled(np.zeros((2, 2, 2)))
    gt[1, 1, 2] = 0  # left out
    pred = np.array([[[3.0, 4.0], [0.0, 1.0]], [[6.0, 8.0], [500.0, 0.0]]])
    assert epe(pred, gt) == pytest.approx((5 + 1 + 10) / 3)
    assert epe(pred, gt, [[True, False], [True, True]]) == pytest.approx(7.5)
    pred[0, 0, 0] = np.nan
    assert epe(pred, gt) == np.inf
    gt[..., 2] = 0
    assert np.isnan(epe(pred, gt))


# ------------------------------------------------------------------------------- NME


def face(n=1, seed=0):
    """faces68 ground truth with outer eye corners 100 px apart (along a diagonal)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 160, (n, 68, 2))
    xy[:, 36] = [10.0, 20.0]
    xy[:, 45] = [70.0, 100.0]  # (60, 80): 100 px
    return labelled(xy)


def test_nme_interocular():
    gt = face(2)
    pred = gt[..., :2] + [3.0, 4.0]
    assert nme(pred, gt) == pytest.approx(0.05)
    np.testing.assert_allclose(nme(pred, gt, per_image=True), [0.05, 0.05])


def test_nme_interpupil_and_faces5():
    gt = face(1)
    gt[0, 36:42, :2] = [[0, 0], [10, 0], [20, 0], [30, 0], [20, 10], [10, 10]]  # centre (15, 5/3)
    gt[0, 42:48, :2] = gt[0, 36:42, :2] + [80.0, 0.0]  # centre 80 px to the right
    pred = gt[..., :2] + [4.0, 0.0]
    assert nme(pred, gt, normalize="interpupil") == pytest.approx(0.05)
    assert nme(pred, gt) == pytest.approx(4.0 / 110.0)  # outer corners 36 (0,0), 45 (110, 0)
    five = faces68_to_faces5(gt)
    assert nme(five[..., :2] + [4.0, 0.0], five, normalize="interpupil") == pytest.approx(0.05)
    with pytest.raises(ValueError, match="interocular"):
        nme(five[..., :2], five)


def test_nme_bbox_and_array():
    gt = labelled(np.array([[[0.0, 0.0], [40.0, 10.0], [20.0, 80.0]]]))
    pred = gt[..., :2] + [0.0, 2.0]
    assert nme(pred, gt, normalize="bbox") == pytest.approx(2 / 80)  # tight box 40 × 80
    assert nme(pred, gt, normalize="bbox", boxes=[[0, 0, 100, 50]]) == pytest.approx(2 / 100)
    assert nme(pred, gt, normalize=[4.0]) == pytest.approx(0.5)
    assert nme(pred, gt, normalize=1.0) == pytest.approx(epe(pred, gt))  # unit norm = EPE


def test_nme_pooled_versus_per_image():
    gt = face(2, seed=1)
    gt[1, 50:, 2] = 0  # image 1: 50 valid landmarks (eye corners stay labelled)
    pred = gt[..., :2].copy()
    pred[0] += [1.0, 0.0]  # NME 0.01 over 68
    pred[1] += [5.0, 0.0]  # NME 0.05 over 50
    assert nme(pred, gt) == pytest.approx((68 * 0.01 + 50 * 0.05) / 118)
    np.testing.assert_allclose(nme(pred, gt, per_image=True), [0.01, 0.05])


def test_nme_leaves_out_images_without_a_normaliser():
    gt = face(2)
    gt[1, 45, 2] = 0  # outer eye corner unlabelled: no inter-ocular distance
    pred = gt[..., :2] + [3.0, 4.0]
    pred[1] += 100.0
    assert nme(pred, gt) == pytest.approx(0.05)
    per = nme(pred, gt, per_image=True)
    assert per[0] == pytest.approx(0.05) and np.isnan(per[1])
    gt[0, 36, :2] = gt[0, 45, :2]  # coincident eye corners: zero normaliser
    assert np.isnan(nme(pred, gt))


def test_nme_nan_prediction_and_bad_input():
    gt = face(1)
    pred = gt[..., :2].copy()
    pred[0, 10] = np.nan
    assert nme(pred, gt) == np.inf
    with pytest.raises(ValueError, match="normalize"):
        nme(pred, gt, normalize="eyes")
    with pytest.raises(ValueError, match="normalize"):
        nme(pred, gt, normalize=[1.0, 2.0])
    with pytest.raises(ValueError, match="boxes"):
        nme(pred, gt, normalize="bbox", boxes=[[0, 0, 1, 1], [0, 0, 1, 1]])


def test_failure_rate():
    gt = labelled(np.zeros((4, 68, 2)))
    gt[:, 45, 0] = 100.0  # inter-ocular 100 along x
    pred = gt[..., :2].copy()
    pred[0] += [10.0, 0.0]  # NME exactly 0.1: not a failure (strict >)
    pred[1] += [10.5, 0.0]  # failure
    pred[2, 3] = np.nan  # missing: failure
    assert failure_rate(pred, gt) == pytest.approx(0.5)
    assert failure_rate(pred, gt, threshold=0.2) == pytest.approx(0.25)
    gt[3, 36, 2] = 0  # left out of the denominator
    assert failure_rate(pred, gt) == pytest.approx(2 / 3)


# ---------------------------------------------------------------------- summaries


def test_face_metrics_hand_worked():
    gt = face(3, seed=2)
    pred = gt[..., :2].copy()
    for i, err in enumerate([2.0, 8.0, 20.0]):  # NME 0.02, 0.08, 0.2 (inter-ocular 100)
        pred[i] += [err * 0.6, err * 0.8]
    m = face_metrics(pred, gt)
    assert list(m) == ["nme", "failure_rate", "pck@0.05", "pck@0.1", "auc_ced@0.1"]
    assert m["nme"] == pytest.approx(0.1)
    assert m["failure_rate"] == pytest.approx(1 / 3)
    assert m["pck@0.05"] == pytest.approx(1 / 3)
    assert m["pck@0.1"] == pytest.approx(2 / 3)
    assert m["auc_ced@0.1"] == pytest.approx((0.8 + 0.2 + 0.0) / 3)
    # the AUC is the CED area on [0, 0.1]: check against a fine trapezoid
    grid = np.linspace(0, 0.1, 10001)
    ced = np.array([np.mean(np.array([0.02, 0.08, 0.2]) <= e) for e in grid])
    assert m["auc_ced@0.1"] == pytest.approx(
        np.sum((ced[1:] + ced[:-1]) / 2 * np.diff(grid)) / 0.1, abs=1e-3
    )


def test_face_metrics_faces5_and_missing_predictions():
    gt = face(2, seed=3)
    five = faces68_to_faces5(gt)
    d = np.linalg.norm(five[:, 0, :2] - five[:, 1, :2], axis=1)
    pred = five[..., :2].copy()
    pred[0] += [0.03 * d[0], 0.0]
    pred[1, 2] = np.nan  # a missing landmark
    m = face_metrics(pred, five)
    assert m["nme"] == np.inf
    assert m["failure_rate"] == pytest.approx(0.5)
    assert m["pck@0.05"] == pytest.approx((5 + 4) / 10)  # every landmark has 2 instances
    assert m["auc_ced@0.1"] == pytest.approx((0.7 + 0.0) / 2)
    with pytest.raises(ValueError, match="faces68 or faces5"):
        face_metrics(np.zeros((1, 17, 2)), np.zeros((1, 17, 3)))


def test_body_metrics_hand_worked():
    gt = labelled(np.random.default_rng(4).uniform(0, 90, (2, 17, 2)))
    gt[1, :8, 2] = 0
    boxes = np.array([[0, 0, 50, 100], [10, 10, 80, 40]])  # normalisers 100 and 80
    pred = gt[..., :2].copy()
    pred[0] += [3.0, 4.0]  # 5 px: 0.05 of 100 (a miss at 0.05, strict)
    pred[1] += [0.0, 2.0]  # 2 px: 0.025 of 80
    m = body_metrics(pred, gt, boxes)
    assert list(m) == ["pck@0.05", "pck@0.1", "auc_pck@0.2", "epe"]
    # keypoints 0..7: only sample 0 (miss at 0.05); 8..16: one miss, one hit
    assert m["pck@0.05"] == pytest.approx((8 * 0.0 + 9 * 0.5) / 17)
    assert m["pck@0.1"] == pytest.approx(1.0)
    auc_kp_0_7 = (0.2 - 0.05) / 0.2
    auc_kp_8_16 = ((0.2 - 0.05) / 0.2 + (0.2 - 0.025) / 0.2) / 2
    assert m["auc_pck@0.2"] == pytest.approx((8 * auc_kp_0_7 + 9 * auc_kp_8_16) / 17)
    assert m["epe"] == pytest.approx((17 * 5 + 9 * 2) / 26)
    pred[1, 10] = np.nan
    m = body_metrics(pred, gt, boxes)
    assert m["epe"] == np.inf and m["pck@0.1"] == pytest.approx((16 + 0.5) / 17)
    with pytest.raises(ValueError, match="boxes"):
        body_metrics(pred, gt, boxes[:1])
    with pytest.raises(ValueError, match="boxes"):
        body_metrics(pred, gt, [[0, 0, 1, 1], [0, 0, np.nan, 1]])
