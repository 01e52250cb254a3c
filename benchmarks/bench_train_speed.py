"""Training speed (images per second) of each deep model with each training-recipe part on or off.

For every model (its ``best`` preset for faces) one *baseline* cell trains with the
defaults of :func:`kplearn.train.fit` (fp32, the device's memory format -- channels-last
on the CPU --, no EMA, no prefetch, no compile), then one cell per recipe part flips that
part alone: ``bf16`` autocast, ``contiguous`` (channels-last off), ``ema`` (0.998),
``prefetch`` (augmentation in a background thread) and ``compile`` (``torch.compile``).
Each cell trains for ``--seconds`` on pre-cropped synthetic faces (or faces68 with
``--faces68 DIR``) with the model's own augmentation and batch size, no validation.

Two rates are reported: ``img/s`` over all training steps (compile time included, as
a fixed budget pays it) and ``steady`` over the epochs after the first (compilation and
warm-up excluded). The machine, thread count and load are printed with the table;
on a shared machine the figures are indicative only.

Usage::

    python benchmarks/bench_train_speed.py                         # all models, ~20 s per cell
    python benchmarks/bench_train_speed.py --models heatmap simcc --parts bf16 contiguous \
        --seconds 10 --threads 2
    python benchmarks/bench_train_speed.py --out benchmarks/results/train_speed.txt
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

from kplearn.models import DEEP_MODELS, build_model, default_settings  # noqa: E402
from kplearn.train import fit  # noqa: E402
from kplearn.train.fit import crops_for  # noqa: E402
from kplearn.train.recipe import bf16_supported  # noqa: E402

#: Recipe part -> fit keyword arguments that turn it on (from the baseline).
PARTS = {
    "baseline": {},
    "bf16": {"precision": "bf16"},
    "contiguous": {"channels_last": False},
    "ema": {"ema": 0.998},
    "prefetch": {"prefetch": True},
    "compile": {"compile": True},
}


def load_faces(n: int, faces68: str | None, seed: int = 0):
    if faces68:
        from kplearn.data.faces68 import load_faces68

        data = load_faces68(faces68)
        return data[np.random.default_rng(seed).permutation(len(data))[:n]]
    from kplearn.data.synthetic import make_faces

    return make_faces(n, image_size=96, seed=seed)


def run_cell(name: str, crops, part: str, seconds: float, threads: int, seed: int = 0) -> dict:
    """Train one model with one recipe part for ``seconds``; the speed figures."""
    settings = default_settings(name, "faces")["train"]
    net = build_model(name, "faces68", kind="faces", seed=seed)
    kwargs = {k: settings[k] for k in ("batch_size", "lr", "weight_decay", "augment")}
    kwargs.update(PARTS[part])
    hist = fit(net, crops, None, minutes=seconds / 60.0, skeleton="faces68", progress=False,
               num_threads=threads, seed=seed, **kwargs)  # fmt: skip
    bs = min(kwargs["batch_size"], len(crops))
    later = hist.epochs[1:]
    steady = (
        sum((e["steps"] - p["steps"]) for p, e in zip(hist.epochs[:-1], later, strict=True)) * bs
        / max(sum(e["seconds"] for e in later), 1e-9)
        if later else float("nan")
    )  # fmt: skip
    return {"model": name, "part": part, "steps": hist.steps, "img_s": hist.images_per_second,
            "steady": steady, "epochs": len(hist.epochs), "recipe": hist.recipe}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--models", nargs="+", default=sorted(n for n in DEEP_MODELS if n != "paf"))
    ap.add_argument("--parts", nargs="+", default=[p for p in PARTS if p != "baseline"],
                    choices=[p for p in PARTS if p != "baseline"])  # fmt: skip
    ap.add_argument("--seconds", type=float, default=20.0, help="training time per cell (20)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=256, help="training faces (256)")
    ap.add_argument(
        "--faces68", default=None, metavar="DIR", help="real faces instead of synthetic"
    )
    ap.add_argument("--out", default=None, help="also write the table to this file")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.models) - set(DEEP_MODELS))
    if unknown:
        ap.error(f"unknown models {unknown}; known: {sorted(DEEP_MODELS)}")
    data = load_faces(args.n, args.faces68)
    head = [
        f"# bench_train_speed: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {args.threads} threads, load {load_average():.1f} at start, "
        f"bf16 native: {bf16_supported('cpu')}",
        f"# {args.n} {'faces68' if args.faces68 else 'synthetic'} faces, {args.seconds:g} s per cell, "
        "best presets, model batch size and augmentation, no validation",
        f"{'model':<11s} {'part':<11s} {'img/s':>7s} {'steady':>7s} {'vs base':>8s} {'steps':>6s}",
    ]
    table = ResultTable(head)
    crops_by_size: dict = {}
    for name in args.models:
        net = build_model(name, "faces68", kind="faces")
        size = tuple(net.input_size)
        if size not in crops_by_size:
            crops_by_size[size] = crops_for(net, data, "image", 1.25, False)
        crops = crops_by_size[size]
        base = None
        for part in ["baseline", *args.parts]:
            t0 = time.perf_counter()
            try:
                r = run_cell(name, crops, part, args.seconds, args.threads)
            except Exception as err:  # report and go on (e.g. compile without a C++ compiler)
                line = f"{name:<11s} {part:<11s} failed: {type(err).__name__}: {str(err)[:80]}"
            else:
                if part == "baseline":
                    base = r["steady"] if np.isfinite(r["steady"]) else r["img_s"]
                rate = r["steady"] if np.isfinite(r["steady"]) else r["img_s"]
                rel = f"{100 * (rate / base - 1):+7.0f}%" if base else "     n/a"
                note = (
                    ""
                    if r["recipe"].get("precision") != "fp32" or part != "bf16"
                    else "  (bf16 unsupported: fp32)"
                )
                line = (f"{name:<11s} {part:<11s} {r['img_s']:7.1f} {r['steady']:7.1f} {rel:>8s} "
                        f"{r['steps']:6d}{note}  [{time.perf_counter() - t0:.0f} s]")  # fmt: skip
            table.add(line)
    table.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
