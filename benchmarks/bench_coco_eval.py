"""Time kplearn.metrics.coco_keypoint_eval against pycocotools on the same problem.

The problem: 2,000 images with up to 3 people each (COCO 17 keypoints, areas in every
range, some crowd regions and some people without labelled keypoints) and 10
detections per image (noisy copies of the people plus false positives). Both
implementations are checked to give the same ten statistics, then timed.

What each timing includes (best of ``--repeat`` runs, pycocotools' printing suppressed):

- ``pycocotools setup``: ``COCO()`` + ``createIndex()`` on the ground-truth dict and
  ``loadRes(results)`` (building its index of the detections);
- ``pycocotools evaluate+accumulate+summarize``: the evaluation proper;
- ``pycocotools total``: both, i.e. the whole job starting from the two in-memory objects;
- ``kplearn total``: ``coco_keypoint_eval(gt_dict, results)``, also starting from the two
  in-memory objects (parsing, checking, OKS, matching, accumulation, statistics).

The headline ratio is ``pycocotools total / kplearn total``; the ratio against
pycocotools' evaluation alone (without its setup) is printed too.

Run: ``python benchmarks/bench_coco_eval.py`` (``--quick`` for a 200-image smoke run).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import time

import numpy as np

from kplearn.metrics import STAT_NAMES, coco_keypoint_eval
from kplearn.metrics.oks import COCO_SIGMAS


def make_problem(n_images: int, seed: int = 0, max_people: int = 3, dets_per_image: int = 10):
    """A random COCO keypoints ground truth and result list (17 keypoints)."""
    rng = np.random.default_rng(seed)
    k = 17
    images, anns, results = [], [], []
    ann_id = 1
    for iid in range(1, n_images + 1):
        images.append({"id": iid, "width": 640, "height": 480})
        people = []
        for _ in range(int(rng.integers(0, max_people + 1))):
            area = float(
                rng.choice(
                    [rng.uniform(300, 1024), rng.uniform(1024, 9216), rng.uniform(9216, 80000)]
                )
            )
            side = np.sqrt(area)
            x0, y0 = rng.uniform(0, 400, 2)
            xy = np.stack([x0 + rng.uniform(0, side, k), y0 + rng.uniform(0, side, k)], axis=1)
            v = rng.choice([0, 1, 2], size=k, p=[0.2, 0.2, 0.6])
            crowd = int(rng.random() < 0.03)
            if crowd or rng.random() < 0.05:
                v[:] = 0
            xy[v == 0] = 0
            anns.append(
                {
                    "id": ann_id,
                    "image_id": iid,
                    "category_id": 1,
                    "iscrowd": crowd,
                    "keypoints": np.concatenate([xy, v[:, None]], 1).ravel().tolist(),
                    "num_keypoints": int((v > 0).sum()),
                    "area": area,
                    "bbox": [float(x0), float(y0), float(side), float(side)],
                }
            )
            ann_id += 1
            people.append((xy, side))
        for j in range(dets_per_image):
            if j < len(people):
                xy, side = people[j]
                quality = rng.uniform(0, 1)
                dxy = xy + rng.normal(0, quality * 0.1 * side + 1e-3, xy.shape)
                score = 0.7 * (1 - quality) + 0.3 * rng.random()
            else:
                dxy = rng.uniform(0, 500, 2) + rng.normal(0, rng.uniform(5, 80), (k, 2))
                score = 0.5 * rng.random()
            results.append(
                {
                    "image_id": iid,
                    "category_id": 1,
                    "score": float(score),
                    "keypoints": np.concatenate([dxy, np.ones((k, 1))], 1).ravel().tolist(),
                }
            )
    gt = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "person"}]}
    return gt, results


def run_pycocotools(gt: dict, results: list) -> tuple[np.ndarray, float, float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt_copy, res_copy = copy.deepcopy(gt), copy.deepcopy(results)  # not timed
    with contextlib.redirect_stdout(io.StringIO()):
        t0 = time.perf_counter()
        coco_gt = COCO()
        coco_gt.dataset = gt_copy
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(res_copy)
        t1 = time.perf_counter()
        ev = COCOeval(coco_gt, coco_dt, iouType="keypoints")
        ev.params.kpt_oks_sigmas = np.array(COCO_SIGMAS)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        t2 = time.perf_counter()
    return np.asarray(ev.stats), t1 - t0, t2 - t1


def run_kplearn(gt: dict, results: list) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    stats = coco_keypoint_eval(gt, results)
    t1 = time.perf_counter()
    return np.array([stats[k] for k in STAT_NAMES]), t1 - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="200 images, one repeat")
    args = parser.parse_args(argv)
    n_images, repeat = (200, 1) if args.quick else (args.images, args.repeat)

    gt, results = make_problem(n_images, seed=args.seed)
    print(
        f"problem: {n_images} images, {len(gt['annotations'])} people, "
        f"{len(results)} detections (17 keypoints)"
    )
    ref_best = kp_best = None
    setup, evaluate, ours = [], [], []
    for _ in range(repeat):
        ref_stats, t_setup, t_eval = run_pycocotools(gt, results)
        kp_stats, t_kp = run_kplearn(gt, results)
        setup.append(t_setup)
        evaluate.append(t_eval)
        ours.append(t_kp)
        ref_best, kp_best = ref_stats, kp_stats
    max_diff = float(np.max(np.abs(ref_best - kp_best)))
    print("stats (pycocotools | kplearn):")
    for name, a, b in zip(STAT_NAMES, ref_best, kp_best, strict=True):
        print(f"  {name:<5} {a:.6f} | {b:.6f}")
    print(f"max |difference| over the ten stats: {max_diff:.1e}")
    t_setup, t_eval, t_kp = min(setup), min(evaluate), min(ours)
    total = min(s + e for s, e in zip(setup, evaluate, strict=True))
    print(f"pycocotools setup (COCO index + loadRes):      {t_setup * 1e3:8.1f} ms")
    print(f"pycocotools evaluate+accumulate+summarize:     {t_eval * 1e3:8.1f} ms")
    print(f"pycocotools total (from dicts):                {total * 1e3:8.1f} ms")
    print(f"kplearn coco_keypoint_eval total (from dicts): {t_kp * 1e3:8.1f} ms")
    print(f"speed-up, total vs total:                      {total / t_kp:8.1f}x")
    print(f"speed-up, pycocotools evaluation only vs kplearn total: {t_eval / t_kp:.1f}x")
    if max_diff > 1e-9:
        print("ERROR: the statistics differ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
