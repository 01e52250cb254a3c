"""Interest-point benchmark: detector × (repeatability, matching score, corner error, speed).

Two conditions, one table each, on pairs from
``kplearn.data.synthetic.make_homography_pairs`` (half synthetic textured scenes, half
scikit-image photographs, 320×240 px, seeded):

* **viewpoint** — random homographies (perspective up to 20 % of the image size per
  corner, ±15° rotation, zoom 0.8-1.25, 5 % shift), no photometric change;
* **illumination** — identity geometry with the generator's photometric change at full
  strength (brightness ±60, contrast and gamma ×/÷ 2, Gaussian noise σ = 8).

Columns (definitions in :mod:`kplearn.classical.geometry_eval`): repeatability at
ε = 3 px, matching score at ε = 3 px (ratio test 0.8 + mutual check), corner error of the
RANSAC homography (median and mean over pairs; mean over successful fits, failures
counted separately), and milliseconds per image for detection + description on one
thread, as process CPU time (the wall clock on a shared machine counts other people's
work too).

Run ``python benchmarks/bench_interest_points.py`` (under 2 minutes on one core) or
``--quick`` for a smoke run (under 15 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import cv2
import numpy as np

from kplearn.classical.geometry_eval import evaluate_pair
from kplearn.classical.interest import METHODS
from kplearn.data.synthetic import make_homography_pairs

#: Geometry of each condition, passed to ``make_homography_pairs``.
CONDITIONS = {
    # Perspective, in-plane rotation, zoom and shift (the generator's defaults), no
    # photometric change.
    "viewpoint": {
        "viewpoint": 0.2,
        "rotation": 15.0,
        "scale": (0.8, 1.25),
        "translation": 0.05,
        "photometric": 0.0,
    },
    # Identity geometry; brightness, contrast, gamma and noise at full strength.
    "illumination": {
        "viewpoint": 0.0,
        "rotation": 0.0,
        "scale": (1.0, 1.0),
        "translation": 0.0,
        "photometric": 1.0,
    },
}


def make_conditions(n: int, image_size: tuple[int, int], seed: int) -> dict[str, list]:
    """``{condition: [HomographyPair, ...]}``: half synthetic scenes, half photographs."""
    n_synthetic = max(1, n // 2)
    conditions = {}
    for offset, (condition, settings) in enumerate(CONDITIONS.items()):
        pairs = make_homography_pairs(
            n_synthetic, image_size, seed + 2 * offset, "synthetic", **settings
        )
        if n > n_synthetic:
            pairs += make_homography_pairs(
                n - n_synthetic, image_size, seed + 2 * offset + 1, "skimage", **settings
            )
        conditions[condition] = pairs
    return conditions


def summarise(results: list[dict]) -> dict:
    corner = np.array([r["corner_error"] for r in results])
    ok = np.isfinite(corner)
    return {
        "repeatability": np.nanmean([r["repeatability"] for r in results]),
        "matching_score": np.nanmean([r["matching_score"] for r in results]),
        "corner_median": float(np.median(corner)),
        "corner_mean": float(corner[ok].mean()) if ok.any() else float("nan"),
        "failed": int((~ok).sum()),
        "accurate": float(np.mean(corner <= 3.0)),
        "points": np.mean([(r["n1"] + r["n2"]) / 2 for r in results]),
        "ms": np.mean([r["ms_per_image"] for r in results]),
    }


def format_table(condition: str, rows: dict[str, dict], n_pairs: int) -> str:
    header = (
        f"{'detector':<11} {'points':>6} {'rep@3px':>8} {'MS@3px':>7} "
        f"{'CE med':>7} {'CE mean':>8} {'CE<=3px':>7} {'H fail':>6} {'ms/img':>7}"
    )
    lines = [f"\n{condition} change ({n_pairs} pairs)", header, "-" * len(header)]
    for method, s in rows.items():
        lines.append(
            f"{method:<11} {s['points']:>6.0f} {s['repeatability']:>8.3f} "
            f"{s['matching_score']:>7.3f} {s['corner_median']:>7.2f} {s['corner_mean']:>8.2f} "
            f"{s['accurate']:>7.0%} {s['failed']:>3d}/{n_pairs:<2d} {s['ms']:>7.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 pairs, 6 s")
    parser.add_argument("--pairs", type=int, default=16, help="pairs per condition")
    parser.add_argument("--max-points", type=int, default=500)
    parser.add_argument("--eps", type=float, default=3.0, help="distance threshold (px)")
    parser.add_argument("--size", type=int, nargs=2, default=(320, 240), metavar=("W", "H"))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n_pairs = 2 if args.quick else args.pairs
    max_points = 300 if args.quick else args.max_points

    cv2.setNumThreads(1)  # ms per image on one core
    start = time.perf_counter()
    conditions = make_conditions(n_pairs, tuple(args.size), args.seed)
    print(
        f"kplearn interest points: {args.size[0]}×{args.size[1]} px, max {max_points} points, "
        f"ε = {args.eps:g} px, ratio 0.8 + mutual, RANSAC 3 px, seed {args.seed}, "
        f"pairs: make_homography_pairs, half synthetic, half skimage; "
        f"OpenCV {cv2.__version__}, 1 thread"
    )
    for condition, pairs in conditions.items():
        rows = {}
        for method in args.methods:
            # One untimed call so that first-use set-up does not count as detection time.
            evaluate_pair(pairs[0].image, pairs[0].warped, pairs[0].homography, method)
            results = [
                evaluate_pair(
                    pair.image,
                    pair.warped,
                    pair.homography,
                    method,
                    max_points=max_points,
                    eps=args.eps,
                    seed=index,
                    timer=time.process_time,
                )
                for index, pair in enumerate(pairs)
            ]
            rows[method] = summarise(results)
        print(format_table(condition, rows, len(pairs)))
    print(
        "\nrep: repeatability (greedy one-to-one within ε, / min shared detections); "
        "MS: matching score (correct matches / min shared detections); CE: corner error "
        "(px) of the RANSAC homography, mean over fits that succeeded; CE<=3px: share of "
        "pairs with corner error <= 3 px (HPatches homography accuracy); H fail: fewer than "
        "4 matches or no RANSAC fit; ms/img: detection + "
        "description, CPU time on one thread."
    )
    print(f"total {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
