"""coco_keypoint_eval: agreement with pycocotools (randomised), hand-worked cases, bad input."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math

import numpy as np
import pytest

from kplearn.metrics import STAT_NAMES, coco_keypoint_eval, oks
from kplearn.metrics.oks import COCO_SIGMAS

pycocotools = pytest.importorskip("pycocotools")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

# ----------------------------------------------------------------------------- helpers


def reference_eval(gt: dict, dt: list, sigmas=None) -> tuple[np.ndarray, COCOeval]:
    """pycocotools' ten keypoint stats (deep copies: pycocotools mutates its inputs)."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(dt))
        ev = COCOeval(coco_gt, coco_dt, iouType="keypoints")
        if sigmas is not None:
            ev.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=float)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats), ev


def as_vector(stats: dict) -> np.ndarray:
    return np.array([stats[k] for k in STAT_NAMES])


def random_case(seed: int) -> tuple[dict, list, np.ndarray]:
    """A random COCO keypoints problem exercising every rule pycocotools has."""
    rng = np.random.default_rng(seed)
    k = int(rng.choice([17, 5, 3]))
    sigmas = COCO_SIGMAS.copy() if k == 17 else rng.uniform(0.02, 0.11, k)
    n_img = int(rng.integers(1, 9))
    n_cat = 1 if rng.random() < 0.8 else 2
    img_ids = rng.choice(np.arange(1, 200), size=n_img, replace=False)  # unsorted on purpose
    use_bbox = rng.random() < 0.3
    tie_scores = rng.random() < 0.4
    fp_rate = float(rng.choice([0.0, 0.3, 1.0]))
    informative = rng.random() < 0.6  # scores that rank good detections first
    images = [{"id": int(i), "width": 640, "height": 480} for i in img_ids]
    anns, dets = [], []
    ann_id = int(rng.integers(1, 50))
    for iid in img_ids:
        kind = rng.random()
        n_people = 0 if kind < 0.15 else int(rng.integers(1, 6))
        for _ in range(n_people):
            cat = int(rng.integers(1, n_cat + 1))
            # areas in every range: small, medium, large (and the odd exact bound)
            area = float(
                rng.choice(
                    [
                        rng.uniform(50, 1024),
                        rng.uniform(1024, 9216),
                        rng.uniform(9216, 60000),
                        1024.0,
                        9216.0,
                    ]
                )
            )
            side = np.sqrt(area)
            x0, y0 = rng.uniform(0, 400, 2)
            xy = np.stack([x0 + rng.uniform(0, side, k), y0 + rng.uniform(0, side, k)], axis=1)
            v = rng.choice([0, 1, 2], size=k, p=[0.2, 0.2, 0.6])
            crowd = int(rng.random() < 0.1)
            r = rng.random()
            if r < 0.1 or crowd:
                v[:] = 0  # no labelled keypoints
            xy[v == 0] = 0.0
            num_kp = int((v > 0).sum())
            if r > 0.95:
                num_kp = 0 if num_kp else 1  # field disagrees with the visibilities
            kp = np.concatenate([xy, v[:, None]], axis=1).ravel().round(2).tolist()
            anns.append(
                {
                    "id": ann_id,
                    "image_id": int(iid),
                    "category_id": cat,
                    "keypoints": kp,
                    "num_keypoints": num_kp,
                    "area": round(area, 3),
                    "iscrowd": crowd,
                    "bbox": [
                        round(float(x0), 2),
                        round(float(y0), 2),
                        round(side, 2),
                        round(side, 2),
                    ],
                }
            )
            ann_id += int(rng.integers(1, 4))
            # detections near this person: a few noisy copies (OKS spread over [0, 1])
            for _ in range(int(rng.integers(0, 4))):
                quality = rng.uniform(0.0, 1.0)
                dxy = xy + rng.normal(0, quality * 0.1 * side + 1e-3, xy.shape)
                if v.sum() == 0:
                    dxy = np.stack(
                        [
                            x0 + rng.uniform(-side, 2.5 * side, k),
                            y0 + rng.uniform(-side, 2.5 * side, k),
                        ],
                        axis=1,
                    )
                dets.append((int(iid), cat, dxy, 1.0 - quality))
        # images with more than 20 detections, or none
        n_fp = 0 if kind > 0.85 else int(rng.choice([0, 2, 5, 25]) * fp_rate)
        if rng.random() < 0.15:
            n_fp = 25  # always some images with more than 20 detections
        for _ in range(n_fp):
            cat = int(rng.integers(1, n_cat + 1))
            c = rng.uniform(0, 500, 2)
            dets.append((int(iid), cat, c + rng.normal(0, rng.uniform(5, 80), (k, 2)), 0.3))
        if kind > 0.85:
            dets = [d for d in dets if d[0] != int(iid)]
    if not dets:  # pycocotools cannot load an empty list; that case is tested on its own
        dets.append((int(img_ids[0]), 1, rng.uniform(0, 400, (k, 2)), 0.5))
    order = rng.permutation(len(dets))
    results = []
    for j in order:
        iid, cat, dxy, goodness = dets[j]
        score = float(rng.random())
        if informative:
            score = 0.7 * goodness + 0.3 * score
        if tie_scores:
            score = round(score * 4) / 4
        res = {
            "image_id": iid,
            "category_id": cat,
            "score": score,
            "keypoints": np.concatenate([dxy, np.ones((k, 1))], axis=1).ravel().tolist(),
        }
        if use_bbox:
            lo, hi = dxy.min(axis=0), dxy.max(axis=0)
            pad = rng.uniform(0, 20)
            res["bbox"] = [
                float(lo[0] - pad),
                float(lo[1] - pad),
                float(hi[0] - lo[0] + 2 * pad),
                float(hi[1] - lo[1] + 2 * pad),
            ]
        results.append(res)
    gt = {
        "images": images,
        "annotations": anns,
        "categories": [{"id": c, "name": f"c{c}"} for c in range(1, n_cat + 1)],
    }
    return gt, results, sigmas


# ------------------------------------------------------------- randomised comparison


@pytest.mark.parametrize("seed", range(60))
def test_matches_pycocotools_on_random_cases(seed):
    gt, dt, sigmas = random_case(seed)
    expected, ev = reference_eval(gt, dt, sigmas)
    got = coco_keypoint_eval(gt, dt, sigmas=sigmas, return_arrays=True)
    np.testing.assert_allclose(as_vector(got), expected, rtol=0, atol=1e-9)
    # the per-threshold arrays too (pycocotools: (T, R, K, A, M) and (T, K, A, M))
    np.testing.assert_allclose(got["precision"], ev.eval["precision"][..., 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["recall"], ev.eval["recall"][..., 0], rtol=0, atol=1e-12)


# ------------------------------------------------------------------ hand-worked cases

SIG3 = [0.05, 0.05, 0.05]


def kps(x0=100.0, y0=100.0, v=2, spread=40.0):
    """Three keypoints as a flat COCO list."""
    pts = [(x0, y0), (x0 + spread, y0), (x0, y0 + spread)]
    return [c for x, y in pts for c in (x, y, v)]


def shifted(flat, dx=0.0, dy=0.0):
    return [c + (dx if i % 3 == 0 else dy if i % 3 == 1 else 0) for i, c in enumerate(flat)]


def ann(
    aid,
    image_id=1,
    area=20000.0,
    keypoints=None,
    iscrowd=0,
    num_keypoints=None,
    bbox=(80.0, 80.0, 100.0, 100.0),
    category_id=1,
):
    kp = kps() if keypoints is None else keypoints
    if num_keypoints is None:
        num_keypoints = sum(1 for v in kp[2::3] if v > 0)
    return {
        "id": aid,
        "image_id": image_id,
        "category_id": category_id,
        "keypoints": kp,
        "area": area,
        "iscrowd": iscrowd,
        "num_keypoints": num_keypoints,
        "bbox": list(bbox),
    }


def det(keypoints, score, image_id=1, category_id=1):
    return {
        "image_id": image_id,
        "category_id": category_id,
        "keypoints": keypoints,
        "score": score,
    }


def problem(anns, images=(1,)):
    return {"images": [{"id": i} for i in images], "categories": [{"id": 1}], "annotations": anns}


def stats_of(gt, dt, **kw):
    return as_vector(coco_keypoint_eval(gt, dt, sigmas=SIG3, **kw))


def test_single_perfect_large_prediction():
    out = stats_of(problem([ann(1)]), [det(kps(), 0.9)])
    np.testing.assert_allclose(out, [1, 1, 1, -1, 1, 1, 1, 1, -1, 1], atol=1e-12)


def test_area_ranges_are_inclusive_and_small_is_only_in_all():
    small = stats_of(problem([ann(1, area=500.0)]), [det(kps(), 0.9)])
    np.testing.assert_allclose(small[[0, 3, 4, 5, 8, 9]], [1, -1, -1, 1, -1, -1], atol=1e-12)
    medium = stats_of(problem([ann(1, area=5000.0)]), [det(kps(), 0.9)])
    np.testing.assert_allclose(medium[[0, 3, 4]], [1, 1, -1], atol=1e-12)
    # 96² exactly is both medium and large (inclusive bounds)
    edge = stats_of(problem([ann(1, area=96.0**2)]), [det(kps(), 0.9)])
    np.testing.assert_allclose(edge[[0, 3, 4]], [1, 1, 1], atol=1e-12)


def test_101_point_interpolated_precision():
    # 2 GTs; detections TP (0.9), FP (0.8), TP (0.7): rc = .5, .5, 1; pr = 1, .5, 2/3
    gt = problem([ann(1, keypoints=kps(100)), ann(2, keypoints=kps(400))])
    dt = [det(kps(100), 0.9), det(kps(700), 0.8), det(kps(400), 0.7)]
    out = stats_of(gt, dt)
    assert out[0] == pytest.approx((51 + 50 * 2 / 3) / 101, abs=1e-12)  # 0.83498
    assert out[5] == pytest.approx(1.0)


def test_only_the_top_20_detections_per_image_count():
    gt = problem([ann(1)])
    far = [det(kps(1000 + 50 * i), 0.9) for i in range(20)]  # 20 higher-scoring misses
    out = stats_of(gt, far + [det(kps(), 0.5)])  # the right one is ranked 21st
    np.testing.assert_allclose(out[[0, 5]], [0, 0], atol=1e-12)
    # ranked 20th instead: recall 1 reached at precision 1/20, so AP = 0.05
    out = stats_of(gt, far[:19] + [det(kps(), 0.5)])
    assert out[0] == pytest.approx(1 / 20, abs=1e-12)
    assert out[5] == pytest.approx(1.0)
    # the cut is per image: 20 misses on another image do not push it out
    gt2 = problem([ann(1)], images=(1, 2))
    other = [dict(d, image_id=2) for d in far]
    assert stats_of(gt2, other + [det(kps(), 0.5)])[5] == pytest.approx(1.0)


def test_score_ties_keep_file_order_then_image_order():
    gt = problem([ann(1)])
    tp, fp = det(kps(), 0.5), det(kps(900), 0.5)
    assert stats_of(gt, [fp, tp])[0] == pytest.approx(0.5, abs=1e-12)  # FP ranked first
    assert stats_of(gt, [tp, fp])[0] == pytest.approx(1.0, abs=1e-12)
    # across images, pycocotools concatenates images in id order before its stable sort
    gt2 = problem([ann(1, image_id=2)], images=(2, 1))
    tp2, fp1 = det(kps(), 0.5, image_id=2), det(kps(900), 0.5, image_id=1)
    assert stats_of(gt2, [tp2, fp1])[0] == pytest.approx(0.5, abs=1e-12)


def test_crowd_region_absorbs_detections():
    crowd = ann(2, keypoints=kps(500, v=0), iscrowd=1, bbox=(480, 80, 100, 100))
    dt = [det(kps(), 0.5)] + [det(kps(510 + 10 * i), 0.9) for i in range(3)]
    assert stats_of(problem([ann(1), crowd]), dt)[0] == pytest.approx(1.0)
    assert stats_of(problem([ann(1)]), dt)[0] < 0.5  # without the crowd region they are FPs


def test_ground_truth_without_labelled_keypoints_is_ignored_via_doubled_box():
    empty = ann(2, keypoints=kps(500, v=0), bbox=(480, 80, 100, 100))
    extra = det(kps(520), 0.9)  # inside [380, 680] x [-20, 280]
    assert stats_of(problem([ann(1), empty]), [extra, det(kps(), 0.5)])[0] == pytest.approx(1.0)
    assert stats_of(problem([ann(1)]), [extra, det(kps(), 0.5)])[0] == pytest.approx(0.5)
    # it is also not a false negative: alone it leaves every statistic undefined
    assert np.all(stats_of(problem([empty]), [det(kps(), 0.5)]) == -1)


def test_no_keypoints_rule_field_versus_visibility():
    # num_keypoints says 0 but the keypoints are labelled: pycocotools reads the field
    gt = problem([ann(1, num_keypoints=0)])
    dt = [det(kps(), 0.9)]
    assert np.all(stats_of(gt, dt) == -1)
    assert np.all(stats_of(gt, dt, no_keypoints_rule="field") == -1)
    assert stats_of(gt, dt, no_keypoints_rule="visibility")[0] == pytest.approx(1.0)
    expected, _ = reference_eval(gt, dt, SIG3)
    np.testing.assert_allclose(stats_of(gt, dt), expected)
    # a missing field falls back to counting v > 0
    no_field = problem([{k: v for k, v in ann(1).items() if k != "num_keypoints"}])
    assert stats_of(no_field, dt)[0] == pytest.approx(1.0)


def test_annotation_id_zero_is_not_a_hazard_here():
    gt = problem([ann(0)])
    dt = [det(kps(), 0.9)]
    assert stats_of(gt, dt)[0] == pytest.approx(1.0)
    # pycocotools stores matched ids with 0 meaning "unmatched": a perfect prediction scores 0
    expected, _ = reference_eval(gt, dt, SIG3)
    assert expected[0] == 0.0


def test_equal_oks_goes_to_the_last_ground_truth_as_in_pycocotools():
    # Two GTs with the same keypoints, areas 20000 (A) then 2000 (B). The exact detection has
    # OKS 1 with both and takes the *last* (B); the second, 5.78 px off everywhere, has OKS
    # 0.92 with A (large area) and 0.43 with B, so it is a TP up to t = 0.90 only if B is taken.
    d = math.sqrt(-math.log(0.92) * 2 * 20000 * (2 * 0.05) ** 2)  # e = d² / (2 A (2σ)²)
    a, b = ann(1, area=20000.0), ann(2, area=2000.0)
    off = det(shifted(kps(), d / math.sqrt(2), d / math.sqrt(2)), 0.8)
    gt, dt = problem([a, b]), [det(kps(), 0.9), off]
    m = oks(
        np.reshape(off["keypoints"], (1, 3, 3)),
        np.reshape(kps(), (1, 3, 3)).repeat(2, 0),
        [20000.0, 2000.0],
        SIG3,
    )
    assert m[0, 0] == pytest.approx(0.92) and m[0, 1] < 0.5
    out = stats_of(gt, dt)
    # 9 thresholds (0.50..0.90): both TP, AP 1; at 0.95: TP then FP, rc .5 -> 51/101
    assert out[0] == pytest.approx((9 + 51 / 101) / 10, abs=1e-12)
    expected, _ = reference_eval(gt, dt, SIG3)
    np.testing.assert_allclose(out, expected, atol=1e-12)


def test_nan_prediction_is_a_miss():
    gt = problem([ann(1)])
    nan = det([float("nan")] * 9, 0.9)
    out = stats_of(gt, [nan])
    np.testing.assert_allclose(out[[0, 5]], [0, 0], atol=1e-12)
    half = det(shifted(kps(), 0, 0)[:3] + [float("nan")] * 6, 0.9)  # OKS 1/3
    assert stats_of(gt, [half])[5] == 0.0
    assert stats_of(gt, [nan, det(kps(), 0.5)])[0] == pytest.approx(0.5)


def test_empty_detection_list():
    gt = problem([ann(1), ann(2, area=5000.0)])
    np.testing.assert_array_equal(stats_of(gt, []), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    only_large = problem([ann(1)])
    np.testing.assert_array_equal(stats_of(only_large, []), [0, 0, 0, -1, 0, 0, 0, 0, -1, 0])


def test_no_ground_truth_at_all():
    gt = problem([])
    assert np.all(stats_of(gt, [det(kps(), 0.9)]) == -1)
    assert np.all(stats_of(gt, []) == -1)


def test_detection_bbox_sets_its_area():
    # an unmatched detection is ignored in a range its area is outside
    gt = problem([ann(1, area=5000.0), ann(2, area=20000.0, keypoints=kps(400))])
    fp = det(kps(900, spread=10), 0.95)  # keypoint extent 100 px²: small
    base = stats_of(gt, [fp, det(kps(), 0.5), det(kps(400), 0.5)])
    assert base[3] == pytest.approx(1.0) and base[0] < 1.0
    fp_box = dict(fp, bbox=[900, 100, 80, 80])  # 6400 px²: medium
    boxed = stats_of(
        gt,
        [
            fp_box,
            dict(det(kps(), 0.5), bbox=[0, 0, 80, 80]),
            dict(det(kps(400), 0.5), bbox=[0, 0, 120, 120]),
        ],
    )
    assert boxed[3] == pytest.approx(0.5) and boxed[4] == pytest.approx(1.0)


def test_multiple_categories_are_averaged():
    gt = {
        "images": [{"id": 1}],
        "categories": [{"id": 1}, {"id": 7}],
        "annotations": [ann(1), ann(2, category_id=7, keypoints=kps(400))],
    }
    dt = [det(kps(), 0.9), det(kps(400), 0.9, category_id=1)]  # category 7 gets no TP
    out = stats_of(gt, dt)
    assert out[0] == pytest.approx(0.5)


def test_paths_and_inputs_untouched(tmp_path):
    gt, dt, sigmas = random_case(3)
    gt_path, dt_path = tmp_path / "gt.json", tmp_path / "dt.json"
    gt_path.write_text(json.dumps(gt))
    dt_path.write_text(json.dumps(dt))
    before = (copy.deepcopy(gt), copy.deepcopy(dt))
    a = coco_keypoint_eval(gt, dt, sigmas=sigmas)
    assert (gt, dt) == before
    b = coco_keypoint_eval(str(gt_path), dt_path, sigmas=sigmas)
    assert a == b
    with pytest.raises(FileNotFoundError, match="nope.json"):
        coco_keypoint_eval(tmp_path / "nope.json", dt)


def test_return_arrays():
    out = coco_keypoint_eval(problem([ann(1)]), [det(kps(), 0.9)], sigmas=SIG3, return_arrays=True)
    assert out["precision"].shape == (10, 101, 1, 3)
    assert out["recall"].shape == (10, 1, 3)
    np.testing.assert_allclose(out["oks_thresholds"], np.arange(10) * 0.05 + 0.5)
    assert list(out)[:10] == list(STAT_NAMES)
    assert out["category_ids"] == [1] and list(out["area_ranges"]) == ["all", "medium", "large"]


def test_coco17_default_sigmas():
    gt, dt, _ = random_case(5)
    while len(gt["annotations"][0]["keypoints"]) != 51:  # find a 17-keypoint case
        gt, dt, _ = random_case(len(dt) + 100)
    np.testing.assert_allclose(
        as_vector(coco_keypoint_eval(gt, dt)),
        as_vector(coco_keypoint_eval(gt, dt, sigmas="coco17")),
    )


# ------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda g, d: d[0].update(image_id=999), "image ids not in the ground truth: 999"),
        (lambda g, d: d[0].update(category_id=5), "category ids"),
        (lambda g, d: d[0].update(score=float("nan")), "detection #0: score"),
        (lambda g, d: d[0].pop("score"), "detection #0 has no 'score'"),
        (lambda g, d: d[0].update(keypoints=[1.0] * 8), "detection #0: 'keypoints' has 8"),
        (lambda g, d: d[0].update(bbox=[0, 0, -3, 4]), "detection #0: 'bbox'"),
        (lambda g, d: g["annotations"][0].update(area=-1.0), "annotation #0: area"),
        (lambda g, d: g["annotations"][0].update(area=float("nan")), "annotation #0: area"),
        (lambda g, d: g["annotations"][0]["keypoints"].__setitem__(0, float("nan")), "NaN"),
        (lambda g, d: g["annotations"][0].update(image_id=42), "gt annotations refer to image"),
        (lambda g, d: g["annotations"].append(ann(1, keypoints=kps(300))), "duplicate id 1"),
        (
            lambda g, d: g["annotations"].append(ann(5, keypoints=[1.0] * 12)),
            "gt annotation #1: 'keypoints' has 12 values, expected 9",
        ),
        (lambda g, d: g["annotations"][0].update(keypoints=[1.0] * 8), "3 values per keypoint"),
        (lambda g, d: g["annotations"].append(ann(9, keypoints=kps(v=0), bbox=())), "bbox"),
        (lambda g, d: g.pop("images"), "images"),
    ],
)
def test_bad_input_is_a_clear_error(mutate, match):
    gt = problem([ann(1)])
    dt = [det(kps(), 0.9)]
    mutate(gt, dt)
    with pytest.raises(ValueError, match=match):
        coco_keypoint_eval(gt, dt, sigmas=SIG3)


def test_nan_at_unlabelled_ground_truth_keypoint_is_fine():
    kp = kps()
    kp[3:6] = [float("nan"), float("nan"), 0]
    out = stats_of(problem([ann(1, keypoints=kp)]), [det(kps(), 0.9)])
    assert out[0] == pytest.approx(1.0)


def test_bad_options():
    gt, dt = problem([ann(1)]), [det(kps(), 0.9)]
    with pytest.raises(ValueError, match="no_keypoints_rule"):
        coco_keypoint_eval(gt, dt, sigmas=SIG3, no_keypoints_rule="count")
    with pytest.raises(ValueError, match="sigmas"):
        coco_keypoint_eval(gt, dt, sigmas=[0.1, 0.1])
    with pytest.raises(ValueError, match="max_dets"):
        coco_keypoint_eval(gt, dt, sigmas=SIG3, max_dets=0)
    with pytest.raises(ValueError, match="list"):
        coco_keypoint_eval(gt, {"image_id": 1}, sigmas=SIG3)
    with pytest.raises(ValueError, match="list"):
        coco_keypoint_eval(problem([]), {"image_id": 1}, sigmas=SIG3)


def test_benchmark_quick_mode_runs_and_agrees(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_coco_eval.py"
    spec = importlib.util.spec_from_file_location("bench_coco_eval", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--quick"]) == 0  # non-zero if the statistics differ
    out = capsys.readouterr().out
    assert "speed-up, total vs total" in out and "max |difference|" in out
