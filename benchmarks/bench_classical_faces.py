"""Classical face localisers on faces68 and on synthetic faces: a results table.

Each method is trained on the training side of a seeded 90/10 split *by person*
(by identity for synthetic faces) within a time budget (``--minutes``, default
5, enforced by the models' own ``fit(minutes=...)``) with BLAS limited to
``--threads`` (default 2) threads, then scored on the held-out people, whom it
never saw. HOG + SVM is trained once and evaluated with and without its shape
prior (the prior is only used when fitting, so both rows share one training).

Printed per method: NME (inter-ocular, outer eye corners 36 and 45, %), failure
rate (% of faces with NME > 10 %), PCK@0.1 (%), milliseconds per image (the whole
``predict``: crop, features, fit; one image after another) and training seconds,
all through :func:`kplearn.metrics.face_metrics`; then the goals
(faces68: SDM <= 6.5 %, HOG + SVM with prior <= 8.0 %, both better than HOG +
ridge) and whether the synthetic table orders the methods the same way.

Usage
-----
    python benchmarks/bench_classical_faces.py                  # faces68 + synthetic, ~25 min on 2 cores
    python benchmarks/bench_classical_faces.py --only synthetic --minutes 2
    python benchmarks/bench_classical_faces.py --quick          # smoke run, about a minute

faces68 is read from ``--faces68 PATH``, ``$KPLEARN_FACES68`` or ``../shared/data/faces68``;
when it is absent only the synthetic table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROWS = [  # (row label, registry name, shape prior)
    ("mean shape", "mean-shape", None),
    ("HOG + ridge", "hog-ridge", None),
    ("HOG + SVM, no shape prior", "hog-svm", False),
    ("HOG + SVM + shape prior", "hog-svm", True),
    ("SDM", "sdm", None),
]
GOALS = {"SDM": 6.5, "HOG + SVM + shape prior": 8.0}


def faces68_root(arg: str | None) -> Path | None:
    root = arg or os.environ.get("KPLEARN_FACES68") or str(
        Path(__file__).resolve().parents[2] / "shared" / "data" / "faces68"
    )
    return Path(root) if (Path(root) / "keypoints.csv").is_file() else None


def evaluate_table(train, test, minutes: float, seed: int, quick: bool, progress: bool) -> list[dict]:
    """Train every method on ``train`` and score it on ``test``; one dict per table row."""
    from kplearn.classical.registry import make_classical
    from kplearn.metrics import face_metrics

    quick_params = {
        "hog-svm": dict(n_images=150, mining_rounds=1, pca_dims=100),
        "sdm": dict(n_stages=3, n_init=2, pca_dims=200),
    }
    gt = test.keypoints_array()
    images = [s.image for s in test]
    trained: dict[str, tuple[object, float]] = {}
    rows = []
    for label, name, prior in ROWS:
        if name not in trained:
            model = make_classical(name, **(quick_params.get(name, {}) if quick else {}))
            t0 = time.perf_counter()
            model.fit(train, minutes=minutes, seed=seed, progress=progress)
            trained[name] = (model, time.perf_counter() - t0)
        model, train_s = trained[name]
        t0 = time.perf_counter()
        pred = model.predict(images, shape_prior=prior) if prior is not None else model.predict(images)
        ms = 1000.0 * (time.perf_counter() - t0) / len(images)
        m = face_metrics(pred, gt)
        rows.append({
            "method": label, "model": name, "nme": 100 * m["nme"], "failure": 100 * m["failure_rate"],
            "pck@0.1": 100 * m["pck@0.1"], "ms_per_image": ms, "train_s": train_s,
            "train_info": dict(getattr(model, "train_info", {})), "notes": notes(model),
        })  # fmt: skip
        print(f"  {label:<28s} done: NME {rows[-1]['nme']:.2f} %, trained in {train_s:.0f} s", flush=True)
    return rows


def notes(model) -> str:
    """What the time budget let the trainer do."""
    info = getattr(model, "train_info", {})
    if model.name == "hog-svm":
        return f"{info['n_svm_images']} SVM images, {info['mining_rounds_done']} mining rounds"
    if model.name == "sdm":
        st = info["stages"]
        return f"{len(st)} stages, last on {st[-1]['images']} of {info['images_used']} images"
    if model.name == "hog-ridge":
        return f"alpha {info['alpha']:g}"
    return ""


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    head = (f"{'method':<28s} {'NME %':>7s} {'fail %':>7s} {'PCK@0.1 %':>10s} {'ms/img':>8s} {'train s':>8s}"
            "  training")
    print(head)
    print("-" * (len(head) + 30))
    for r in rows:
        print(f"{r['method']:<28s} {r['nme']:7.2f} {r['failure']:7.1f} {r['pck@0.1']:10.1f} "
              f"{r['ms_per_image']:8.1f} {r['train_s']:8.1f}  {r['notes']}")


def check_goals(rows: list[dict], minutes: float) -> None:
    nme = {r["method"]: r["nme"] for r in rows}
    for method, goal in GOALS.items():
        ok = nme[method] <= goal and nme[method] < nme["HOG + ridge"]
        print(f"goal {method}: NME {nme[method]:.2f} % <= {goal} % and < HOG + ridge "
              f"({nme['HOG + ridge']:.2f} %): {'met' if ok else 'NOT met'}")
    slow = [r["method"] for r in rows if r["train_s"] > 60 * minutes * 1.05]
    print(f"training within {minutes:g} min: {'yes' if not slow else 'NO: ' + ', '.join(slow)}")


def ordering(rows: list[dict]) -> list[str]:
    return [r["method"] for r in sorted(rows, key=lambda r: r["nme"], reverse=True)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["faces68", "synthetic"], help="run one table only")
    ap.add_argument("--faces68", help="faces68 folder (default: $KPLEARN_FACES68 or ../shared/data/faces68)")
    ap.add_argument("--minutes", type=float, default=5.0, help="training budget per method")
    ap.add_argument("--threads", type=int, default=2, help="BLAS threads (the 2-core setting)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the faces68 split and of training")
    ap.add_argument("--synthetic-seed", type=int, default=2024, help="fresh seed of the synthetic faces")
    ap.add_argument("--synthetic-n", type=int, default=2000, help="number of synthetic faces")
    ap.add_argument("--quick", action="store_true", help="smoke run on small subsets")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--progress", action="store_true", help="show progress bars")
    args = ap.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from kplearn.data import load_faces68
    from kplearn.data.synthetic import make_faces

    minutes = min(args.minutes, 0.5) if args.quick else args.minutes
    results: dict[str, list[dict]] = {}
    with threadpool_limits(args.threads):
        if args.only != "synthetic":
            root = faces68_root(args.faces68)
            if root is None:
                print("faces68 not found (set KPLEARN_FACES68 or --faces68): skipping the real-face table")
            else:
                t0 = time.perf_counter()
                data = load_faces68(root, progress=False)
                if args.quick:
                    data = data.subset(400, args.seed)
                train, test = data.split(0.1, seed=args.seed, by_group=True)
                print(f"faces68: {len(train)} training faces, {len(test)} held-out faces of "
                      f"{len(set(test.groups))} unseen people (loaded in {time.perf_counter() - t0:.0f} s)")
                results["faces68"] = evaluate_table(train, test, minutes, args.seed, args.quick, args.progress)
        if args.only != "faces68":
            n = 300 if args.quick else args.synthetic_n
            data = make_faces(n, image_size=96, seed=args.synthetic_seed)
            train, test = data.split(0.1, seed=args.seed, by_group=True)
            print(f"\nsynthetic faces (seed {args.synthetic_seed}): {len(train)} training, {len(test)} held-out "
                  f"faces of {len(set(test.groups))} unseen identities")
            results["synthetic"] = evaluate_table(train, test, minutes, args.seed, args.quick, args.progress)
    for key, rows in results.items():
        title = ("faces68, held-out people" if key == "faces68" else
                 f"synthetic faces (seed {args.synthetic_seed}), held-out identities")
        print_table(title, rows)
        if key == "faces68":
            check_goals(rows, minutes)
    if len(results) == 2:
        same = ordering(results["faces68"]) == ordering(results["synthetic"])
        print(f"\nordering, worst to best, faces68:   {' > '.join(ordering(results['faces68']))}")
        print(f"ordering, worst to best, synthetic: {' > '.join(ordering(results['synthetic']))}")
        print(f"same ordering of methods: {'yes' if same else 'no'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
