"""Seeds one after the other on all threads, or side by side in one-thread processes.

Lesson 7 trains each deep model once per seed. This benchmark trains the same
localisers (lesson 7's QUICK settings: the ``fast`` presets on 64-pixel synthetic faces
in the wild, the lesson's epochs and recipe) twice:

- ``sequential``: one after the other in this process, on ``--threads`` threads;
- ``parallel``: :func:`kplearn.train.parallel.fit_parallel` with ``--threads`` worker
  processes of one thread each (process start-up included in the time).

It prints the wall-clock seconds of each way, their ratio, and each seed's validation
NME both ways. These are not equal: another thread count rounds sums differently, and
training amplifies that into a different run of the same seed (the spread between seeds
is the yardstick).

Usage::

    python benchmarks/bench_train_parallel.py                      # ~4 min on 2 cores
    python benchmarks/bench_train_parallel.py --models heatmap --seeds 2
    python benchmarks/bench_train_parallel.py --out benchmarks/results/train_parallel.txt
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: no spinning on a busy machine

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import ResultTable, load_average  # noqa: E402

from kplearn.data.synthetic import make_faces  # noqa: E402
from kplearn.train import DeepLocaliser  # noqa: E402
from kplearn.train.parallel import fit_parallel  # noqa: E402

#: Lesson 7's QUICK settings (notebooks/07_classical_vs_deep.ipynb, cell "EPOCHS").
EPOCHS = {"regression": 22, "cascade": 10, "heatmap": 12}
RECIPE = {"regression": {"lr": 3e-3, "augment": True}, "cascade": {"lr": 3e-3, "augment": True},
          "heatmap": {"lr": 5e-3, "augment": False}}
SMALL_REFINER = {"patch": 12, "refiner_widths": [8, 16, 24]}
WILD = dict(yaw=35.0, rotation=25.0, expression=1.5, lighting=0.8, blur=(0.0, 2.0), noise=(0.0, 10.0),
            occlusion=0.4)


def localisers(name: str, seeds: list[int]) -> list[DeepLocaliser]:
    train = {"batch_size": 32, "schedule": "cosine", **RECIPE[name], "precision": "bf16"}
    return [DeepLocaliser(name, "faces68", preset="fast", train=train, seed=s,
                          model=SMALL_REFINER if name == "cascade" else None) for s in seeds]  # fmt: skip


def best_nme(loc: DeepLocaliser) -> float:
    return min(e["val"]["nme"] for e in loc.history.epochs)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=list(EPOCHS), choices=list(EPOCHS))
    p.add_argument("--seeds", type=int, default=3, help="trainings per model (3, as in lesson 7)")
    p.add_argument("--faces", type=int, default=2000, help="synthetic faces, 72 %% for training (2000)")
    p.add_argument("--epochs-scale", type=float, default=1.0, help="multiply the lesson's epochs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.seeds < 1 or args.threads < 1:
        p.error("--seeds and --threads must be at least 1")

    torch.set_num_threads(args.threads)
    faces = make_faces(args.faces, image_size=64, seed=0, **WILD)
    train, _ = faces.split(0.2, seed=0)
    train, val = train.split(0.1, seed=0)
    seeds = list(range(args.seeds))
    table = ResultTable([
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"load {load_average():.2f}; {len(train)} training faces, {len(val)} validation; {args.seeds} seeds",
        f"# sequential: {args.threads} threads in one process; parallel: {args.threads} processes x 1 thread",
        f"{'model':11s} {'epochs':>6s} {'sequential s':>12s} {'parallel s':>10s} {'ratio':>6s}  "
        "validation NME per seed (sequential / parallel)",
    ])
    total = {"sequential": 0.0, "parallel": 0.0}
    for name in args.models:
        epochs = max(1, round(EPOCHS[name] * args.epochs_scale))
        start = time.perf_counter()
        seq = fit_parallel(localisers(name, seeds), train, val, workers=1, epochs=epochs)
        t_seq = time.perf_counter() - start
        start = time.perf_counter()
        par = fit_parallel(localisers(name, seeds), train, val, workers=args.threads, epochs=epochs)
        t_par = time.perf_counter() - start
        torch.set_num_threads(args.threads)
        total["sequential"] += t_seq
        total["parallel"] += t_par
        nmes = ", ".join(f"{best_nme(a):.4f}/{best_nme(b):.4f}" for a, b in zip(seq, par, strict=True))
        table.add(f"{name:11s} {epochs:6d} {t_seq:12.1f} {t_par:10.1f} {t_seq / t_par:5.2f}x  {nmes}")
        gap = max(abs(best_nme(a) - best_nme(b)) for a, b in zip(seq, par, strict=True))
        if not np.isfinite(gap):
            sys.exit(f"{name}: a training ended without a finite validation NME")
    table.add(f"{'all':11s} {'':6s} {total['sequential']:12.1f} {total['parallel']:10.1f} "
              f"{total['sequential'] / total['parallel']:5.2f}x")
    table.save(args.out)


if __name__ == "__main__":
    main()
