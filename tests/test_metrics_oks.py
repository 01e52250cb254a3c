"""OKS: hand-worked values, the pycocotools rules it mirrors, its own NaN rule, bad input."""

from __future__ import annotations

import contextlib
import copy
import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kplearn.metrics import COCO_SIGMAS, oks, resolve_sigmas

COCO_SIGMAS_BY_HAND = [0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
                       0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089]  # fmt: skip


def person(seed=0, k=17, v=2):
    rng = np.random.default_rng(seed)
    kp = np.zeros((1, k, 3))
    kp[0, :, :2] = rng.uniform(100, 300, (k, 2))
    kp[0, :, 2] = v
    return kp


def test_sigmas_are_the_coco_ones():
    np.testing.assert_allclose(COCO_SIGMAS, COCO_SIGMAS_BY_HAND, rtol=0, atol=1e-15)
    np.testing.assert_allclose(resolve_sigmas("coco17", 17), COCO_SIGMAS_BY_HAND, atol=1e-15)


@pytest.mark.parametrize("area", [1.0, 500.0, 10_000.0, 1e6])
def test_identical_prediction_has_oks_exactly_one(area):
    gt = person(1)
    assert oks(gt, gt, [area])[0, 0] == 1.0


@pytest.mark.parametrize(("d", "expected"), [(1, 0.99399), (5, 0.87115), (10, 0.64699)])
def test_uniform_shift_matches_closed_form(d, expected):
    # every keypoint shifted by d px, area 10000: mean_i exp(-d² / (2 A (2σ_i)²))
    gt = person(2)
    pred = gt.copy()
    pred[..., 0] += d
    by_hand = sum(math.exp(-d * d / (2 * 10_000 * (2 * s) ** 2)) for s in COCO_SIGMAS_BY_HAND) / 17
    value = oks(pred, gt, [10_000.0])[0, 0]
    assert value == pytest.approx(by_hand, abs=1e-12)
    assert value == pytest.approx(expected, abs=5e-6)


def test_unlabelled_ground_truth_keypoints_do_not_count():
    gt = person(3)
    gt[0, [0, 4, 9], 2] = 0
    pred = gt.copy()
    pred[0, [0, 4, 9], :2] += 300.0  # move only the unlabelled ones
    assert oks(pred, gt, [5000.0])[0, 0] == 1.0
    gt[0, [0, 4, 9], :2] = np.nan  # and their coordinates are never read
    assert oks(pred, gt, [5000.0])[0, 0] == 1.0


def test_hidden_keypoints_count():
    gt = person(4, v=1)
    pred = gt.copy()
    pred[..., 0] += 10
    assert oks(pred, gt, [10_000.0])[0, 0] == pytest.approx(0.64699, abs=5e-6)


def test_zero_area_is_an_exact_equality_test():
    gt = person(5)
    assert oks(gt, gt, [0.0])[0, 0] == 1.0
    pred = gt.copy()
    pred[0, 0, 0] += 0.5
    # one of 17 keypoints off by 0.5 px: its term is exp(-huge) = 0
    assert oks(pred, gt, [0.0])[0, 0] == pytest.approx(16 / 17, abs=1e-15)
    pred[..., 0] += 0.5
    assert oks(pred, gt, [0.0])[0, 0] == 0.0


def test_three_keypoints_worked_by_hand():
    sig = [0.1, 0.05, 0.025]
    gt = np.array([[[0.0, 0.0, 2], [10.0, 0.0, 2], [20.0, 0.0, 1]]])
    pred = np.array([[[2.0, 0.0], [10.0, 1.0], [20.0, 0.0]]])
    area = 100.0
    # e_i = d² / (2 area (2σ)²): 4/8 = 0.5, 1/2 = 0.5, 0
    expected = (math.exp(-0.5) + math.exp(-0.5) + 1.0) / 3
    assert oks(pred, gt, [area], sig)[0, 0] == pytest.approx(expected, abs=1e-15)


def test_matrix_shape_and_pairs():
    a, b = person(6), person(7)
    gt = np.concatenate([a, b])
    pred = np.concatenate([b, a, a])
    m = oks(pred, gt, [4000.0, 4000.0])
    assert m.shape == (3, 2)
    assert m[0, 1] == 1.0 and m[1, 0] == 1.0 and m[2, 0] == 1.0
    assert m[0, 0] < 1.0 and m[1, 1] < 1.0


def test_prediction_score_column_is_ignored():
    gt = person(8)
    pred = gt.copy()
    pred[..., 2] = 0.0
    assert oks(pred, gt, [1000.0])[0, 0] == 1.0
    assert oks(gt[..., :2], gt, [1000.0])[0, 0] == 1.0


def test_nan_prediction_is_a_miss_not_a_crash():
    gt = np.array([[[0.0, 0.0, 2], [10.0, 0.0, 2]]])
    pred = np.array([[[0.0, 0.0], [np.nan, 0.0]]])
    assert oks(pred, gt, [100.0], [0.05, 0.05])[0, 0] == pytest.approx(0.5, abs=1e-15)
    pred[:] = np.inf
    assert oks(pred, gt, [100.0], [0.05, 0.05])[0, 0] == 0.0


def test_no_labelled_keypoint_uses_the_doubled_box():
    gt = np.zeros((1, 2, 3))  # all v = 0
    box = np.array([[10.0, 20.0, 30.0, 40.0]])  # doubled: x in [-20, 70], y in [-20, 100]
    inside = np.array([[[-20.0, -20.0], [70.0, 100.0]]])
    assert oks(inside, gt, [100.0], [0.1, 0.1], boxes=box)[0, 0] == 1.0
    outside = np.array([[[-23.0, -24.0], [70.0, 100.0]]])  # 3, 4 outside: d² = 25
    expected = (math.exp(-25 / (2 * 100 * 0.04)) + 1.0) / 2
    assert oks(outside, gt, [100.0], [0.1, 0.1], boxes=box)[0, 0] == pytest.approx(expected)
    # without boxes such a ground truth matches nothing (documented)
    assert oks(inside, gt, [100.0], [0.1, 0.1])[0, 0] == 0.0


def test_agrees_with_pycocotools_compute_oks():
    pytest.importorskip("pycocotools")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(11)
    for trial in range(5):
        gts = np.zeros((4, 17, 3))
        gts[..., :2] = rng.uniform(0, 200, (4, 17, 2))
        gts[..., 2] = rng.choice([0, 1, 2], (4, 17))
        gts[3, :, 2] = 0  # one with no labelled keypoint (doubled-box rule)
        gts[gts[..., 2] == 0, :2] = 0
        areas = rng.uniform(10, 20000, 4)
        boxes = np.c_[rng.uniform(0, 100, (4, 2)), rng.uniform(10, 80, (4, 2))]
        preds = gts[rng.integers(0, 4, 6), :, :2] + rng.normal(0, 8, (6, 17, 2))
        preds[5] = boxes[3, :2] + rng.uniform(0, 1, (17, 2)) * boxes[3, 2:]
        scores = rng.uniform(0, 1, 6)
        coco = {
            "images": [{"id": 1}], "categories": [{"id": 1}],
            "annotations": [
                {"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                 "keypoints": gts[i].ravel().tolist(), "area": float(areas[i]),
                 "num_keypoints": int((gts[i, :, 2] > 0).sum()), "bbox": boxes[i].tolist()}
                for i in range(4)
            ],
        }  # fmt: skip
        res = [
            {
                "image_id": 1,
                "category_id": 1,
                "score": float(scores[j]),
                "keypoints": np.c_[preds[j], np.ones(17)].ravel().tolist(),
            }
            for j in range(6)
        ]
        with contextlib.redirect_stdout(io.StringIO()):
            c = COCO()
            c.dataset = copy.deepcopy(coco)
            c.createIndex()
            ev = COCOeval(c, c.loadRes(res), iouType="keypoints")
            ev.evaluate()
        order = np.argsort(-scores, kind="mergesort")
        ours = oks(preds[order], gts, areas, boxes=boxes)
        np.testing.assert_allclose(
            ours, ev.ious[1, 1], rtol=0, atol=1e-14, err_msg=f"trial {trial}"
        )


@settings(max_examples=40, deadline=None)
@given(
    shift=st.floats(0.0, 50.0),
    extra=st.floats(0.1, 20.0),
    area=st.floats(1.0, 1e5),
    seed=st.integers(0, 1000),
)
def test_properties(shift, extra, area, seed):
    gt = person(seed)
    pred = gt.copy()
    pred[..., 0] += shift
    farther = gt.copy()
    farther[..., 0] += shift + extra
    a = oks(pred, gt, [area])[0, 0]
    b = oks(farther, gt, [area])[0, 0]
    assert 0.0 <= b <= a <= 1.0  # in range, and decreasing with the error
    # translating prediction and ground truth together changes nothing
    moved_gt, moved_pred = gt.copy(), pred.copy()
    moved_gt[..., :2] += 37.0
    moved_pred[..., :2] += 37.0
    assert oks(moved_pred, moved_gt, [area])[0, 0] == pytest.approx(a, abs=1e-12)


@pytest.mark.parametrize(
    ("pred_shape", "gt_shape", "areas", "match"),
    [
        ((1, 17, 3), (1, 16, 3), [1.0], "keypoints"),
        ((1, 17), (1, 17, 3), [1.0], "pred"),
        ((1, 17, 3), (1, 17, 2), [1.0], "gt"),
        ((1, 17, 3), (2, 17, 3), [1.0], "areas"),
    ],
)
def test_shape_errors(pred_shape, gt_shape, areas, match):
    with pytest.raises(ValueError, match=match):
        oks(np.zeros(pred_shape), np.ones(gt_shape), areas)


def test_bad_values_raise():
    gt = person(9)
    with pytest.raises(ValueError, match="areas"):
        oks(gt, gt, [-1.0])
    with pytest.raises(ValueError, match="areas"):
        oks(gt, gt, [np.nan])
    bad = gt.copy()
    bad[0, 3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        oks(gt, bad, [10.0])
    with pytest.raises(ValueError, match="sigmas"):
        oks(gt, gt, [10.0], sigmas=[0.1] * 16)
    with pytest.raises(ValueError, match="sigmas"):
        oks(gt, gt, [10.0], sigmas=[0.0] * 17)
    with pytest.raises(ValueError, match="no default OKS sigmas"):
        oks(gt[:, :5], gt[:, :5], [10.0])
    with pytest.raises(ValueError, match="boxes"):
        oks(gt, gt, [10.0], boxes=[[0, 0, -1, 1]])
