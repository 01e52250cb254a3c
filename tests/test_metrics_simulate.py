"""Simulated predictions and detections with errors of a known size (kplearn.metrics.simulate)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from kplearn.metrics import coco_keypoint_eval, oks, simulate_detections, simulate_predictions


def test_simulate_predictions_has_the_errors_it_promises():
    gt = np.random.default_rng(3).uniform(0, 100, (50, 10, 3))
    exact = simulate_predictions(gt, np.random.default_rng(0), noise=0.0, bias=(1.5, -2.0))
    np.testing.assert_allclose(exact, gt[..., :2] + [1.5, -2.0])
    out = simulate_predictions(gt, np.random.default_rng(0), noise=0.0, outlier_fraction=0.2,
                                        outlier_error=7.0)  # fmt: skip
    err = np.linalg.norm(out - gt[..., :2], axis=-1)
    bad = np.all(np.isclose(err, 7.0), axis=1)
    assert bad.sum() == 10 and np.allclose(err[~bad], 0.0)
    noisy = simulate_predictions(gt, np.random.default_rng(0), noise=2.0)
    assert abs(np.std(noisy - gt[..., :2]) - 2.0) < 0.2
    with pytest.raises(ValueError):
        simulate_predictions(gt, np.random.default_rng(0), noise=-1.0)
    with pytest.raises(ValueError, match="shape"):
        simulate_predictions(gt[0, 0], np.random.default_rng(0))


def _toy_coco(n_images=6, seed=0):
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for i in range(n_images):
        images.append({"id": i + 1, "file_name": f"{i}.png", "width": 200, "height": 200})
        for _ in range(2):
            xy = rng.uniform(20, 180, (17, 2))
            v = np.where(rng.random(17) < 0.1, 0, 2)
            kp = np.column_stack([np.where(v[:, None] > 0, xy, 0), v]).ravel().tolist()
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": 1,
                                "keypoints": kp, "num_keypoints": int((v > 0).sum()),
                                "area": float(rng.uniform(2000, 12000)), "bbox": [10, 10, 100, 100],
                                "iscrowd": 0})  # fmt: skip
    annotations.append({"id": len(annotations) + 1, "image_id": 1, "category_id": 1,
                        "keypoints": [0] * 51, "num_keypoints": 0, "area": 500.0,
                        "bbox": [0, 0, 20, 20], "iscrowd": 1})  # fmt: skip
    return {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": "person"}],
    }


def test_simulate_detections_exact_detections_score_ap_one():
    gt = _toy_coco()
    dt = simulate_detections(gt, noise=0.0, miss_rate=0.0, false_positives=0)
    assert len(dt) == 12  # the crowd region is not "detected"
    assert all(set(d) == {"image_id", "category_id", "keypoints", "score"} for d in dt)
    stats = coco_keypoint_eval(gt, dt)
    assert stats["AP"] == pytest.approx(1.0) and stats["AR"] == pytest.approx(1.0)


def test_simulate_detections_error_scale_and_misses():
    gt = _toy_coco(20, seed=1)
    dt = simulate_detections(gt, seed=2, noise=1.0, miss_rate=0.25, false_positives=4)
    assert 30 - 20 + 4 <= len(dt) <= 40 + 4
    again = simulate_detections(gt, seed=2, noise=1.0, miss_rate=0.25, false_positives=4)
    assert dt == again
    # With noise = 1, d² / (σ² area) is chi-square with 2 degrees of freedom, so a keypoint's
    # similarity exp(-d² / (8 σ² area)) has mean 1 / (1 + 2/8) = 0.8.
    real = [a for a in gt["annotations"] if not a["iscrowd"]]
    sims = []
    for d in dt:
        for a in real:
            if a["image_id"] == d["image_id"]:
                pred = np.array(d["keypoints"], float).reshape(1, 17, 3)
                sims.append(
                    oks(pred, np.array(a["keypoints"], float).reshape(1, 17, 3), [a["area"]])[0, 0]
                )
    best = np.sort(sims)[-(len(dt) - 4) :]
    assert 0.72 < np.median(best) < 0.88
    with pytest.raises(ValueError):
        simulate_detections(gt, miss_rate=1.5)


def test_simulate_detections_agree_with_pycocotools():
    pytest.importorskip("pycocotools")
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = _toy_coco(12, seed=4)
    dt = simulate_detections(gt, seed=5, noise=0.5, miss_rate=0.1, false_positives=6)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(dt)), iouType="keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    ours = coco_keypoint_eval(gt, dt)
    np.testing.assert_allclose([ours[k] for k in ("AP", "AP50", "AP75", "AR")], ev.stats[[0, 1, 2, 5]],
                               atol=1e-12)  # fmt: skip
