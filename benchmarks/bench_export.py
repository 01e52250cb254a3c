"""Milliseconds per face, torch vs onnxruntime, at 1 and 2 threads, for every deep model.

Each model (``best`` preset; ``fast`` with ``--quick``) is exported with
:func:`kplearn.export.export_onnx` and timed on one face crop at a time through
:func:`kplearn.train.predict.predict_crops` -- network, flip test (off with
``--no-flip``) and decoding, the same code for both runtimes except the network.
The median and the spread (10th-90th percentile) of ``--repeats`` calls are printed.
PAF (bottom-up) is timed on one whole image through
:func:`kplearn.train.predict.predict_people` (grouping included).

Usage::

    python benchmarks/bench_export.py                      # every model, 50 repeats
    python benchmarks/bench_export.py --quick              # smoke run: fast presets, 2 models
    python benchmarks/bench_export.py --out benchmarks/results/export_speed.txt
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: no spinning on a busy machine

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import ResultTable, load_average  # noqa: E402

from kplearn.data.synthetic import make_faces, make_people_scenes  # noqa: E402
from kplearn.export import OnnxRuntimeNet, export_onnx  # noqa: E402
from kplearn.models import DEEP_MODELS, build_model  # noqa: E402
from kplearn.train.predict import predict_crops, predict_people  # noqa: E402


def _samples(call, repeats: int, warmup: int = 3) -> np.ndarray:
    for _ in range(warmup):
        call()
    out = np.empty(repeats)
    for i in range(repeats):
        t0 = time.perf_counter()
        call()
        out[i] = 1000.0 * (time.perf_counter() - t0)
    return out


def bench_model(name: str, preset: str, threads: int, repeats: int, flip: bool, tmp: Path) -> dict:
    sk = "coco17" if name == "paf" else "faces68"
    net = build_model(name, sk, preset=preset).eval()
    path = export_onnx(net, tmp / f"{name}.onnx")
    w, h = net.input_size
    if name == "paf":
        image = make_people_scenes(1, image_size=w, seed=0)[0].image

        def run(model):
            return lambda: predict_people(model, [image], flip_test=flip)
    else:
        face = make_faces(1, image_size=max(w, h), seed=0)[0].image[:h, :w]
        crop = torch.from_numpy(np.ascontiguousarray(face)).permute(2, 0, 1)[None].contiguous()

        def run(model):
            return lambda: predict_crops(model, crop, flip_test=flip, batch_size=1)

    row = {"model": name, "input": f"{w}x{h}", "threads": threads}
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        row["torch"] = _samples(run(net), repeats)
        row["onnx"] = _samples(run(OnnxRuntimeNet(net, path, threads=threads)), repeats)
    finally:
        torch.set_num_threads(old)
    return row


def fmt(s: np.ndarray) -> str:
    lo, med, hi = np.percentile(s, [10, 50, 90])
    return f"{med:7.2f} ({lo:5.2f}-{hi:5.2f})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--models", nargs="+", default=sorted(DEEP_MODELS))
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--no-flip", action="store_true", help="time without flip test")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: fast presets, heatmap and simcc, 1 thread, 10 repeats")  # fmt: skip
    ap.add_argument("--out", default=None, help="also write the table to this file")
    args = ap.parse_args(argv)
    preset = "best"
    if args.quick:
        preset, args.models, args.threads, args.repeats = "fast", ["heatmap", "simcc"], [1], 10
    unknown = sorted(set(args.models) - set(DEEP_MODELS))
    if unknown:
        ap.error(f"unknown models {unknown}; known: {sorted(DEEP_MODELS)}")
    head = [
        f"# bench_export: ms per face, median (10th-90th percentile) of {args.repeats} calls, "
        f"{preset} presets, flip test {'off' if args.no_flip else 'on'}, torch {torch.__version__}, "
        f"{os.cpu_count()} cores, load {load_average():.1f} at start",
        f"{'model':<11s} {'input':>7s} {'thr':>3s} {'torch ms':>21s} {'onnxruntime ms':>21s} {'speed-up':>8s}",
    ]
    table = ResultTable(head)
    with tempfile.TemporaryDirectory() as d:
        for name in args.models:
            for threads in args.threads:
                r = bench_model(name, preset, threads, args.repeats, not args.no_flip, Path(d))
                ratio = np.median(r["torch"]) / np.median(r["onnx"])
                table.add(f"{name:<11s} {r['input']:>7s} {threads:3d} {fmt(r['torch']):>21s} "
                          f"{fmt(r['onnx']):>21s} {ratio:7.2f}x")  # fmt: skip
    table.save(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
