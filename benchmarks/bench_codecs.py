"""Heatmap codec round trip and decoding speed.

Encodes noise-free targets at random sub-pixel positions (input 192 x 256 (w x h),
heatmaps 48 x 64, sigma 2, keypoints at least 32 input px = 8 heatmap px from the
border), decodes them with every method, and prints the mean and max Euclidean error
in input pixels for each encode x decode pair; then the flip check, and how many
heatmaps per second each decoder handles on a batch of 64 x 17 maps.

    python benchmarks/bench_codecs.py            # full run (about 10 s of CPU)
    python benchmarks/bench_codecs.py --quick    # smoke run (a few seconds)
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from kplearn.codecs import (
    DECODE_METHODS,
    ENCODINGS,
    decode_heatmaps,
    decode_heatmaps_torch,
    encode_heatmaps,
)

INPUT_SIZE = (192, 256)  # (w, h): "256x192" in H x W notation
HEATMAP_SIZE = (48, 64)
SIGMA = 2.0
MARGIN = 32.0  # input px kept clear of the border


def random_keypoints(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    w, h = INPUT_SIZE
    x = rng.uniform(MARGIN, w - 1 - MARGIN, (n, k))
    y = rng.uniform(MARGIN, h - 1 - MARGIN, (n, k))
    return np.stack([x, y, np.full((n, k), 2.0)], axis=-1)


def round_trip(n: int, rng: np.random.Generator) -> dict[tuple[str, str], np.ndarray]:
    kp = random_keypoints(n, 1, rng)
    errors = {}
    for enc in ENCODINGS:
        hm, _ = encode_heatmaps(kp, INPUT_SIZE, HEATMAP_SIZE, SIGMA, method=enc)
        for dec in DECODE_METHODS:
            xy, _ = decode_heatmaps(hm, INPUT_SIZE, method=dec, encoding=enc)
            errors[(enc, dec)] = np.linalg.norm(xy - kp[..., :2], axis=-1).ravel()
    # The convention must match: decode with the other inverse map and see the shift.
    for enc, wrong in (("msra", "unbiased"), ("unbiased", "msra")):
        hm, _ = encode_heatmaps(kp, INPUT_SIZE, HEATMAP_SIZE, SIGMA, method=enc)
        xy, _ = decode_heatmaps(hm, INPUT_SIZE, method="dark", encoding=wrong)
        errors[(enc, f"dark as {wrong}")] = np.linalg.norm(xy - kp[..., :2], axis=-1).ravel()
    return errors


def flip_residual(n: int, rng: np.random.Generator) -> dict[str, float]:
    """max |decode(flip(hm)) - flip(decode(hm))| in input px, x axis."""
    w = INPUT_SIZE[0]
    kp = random_keypoints(n, 1, rng)
    out = {}
    for enc in ENCODINGS:
        hm, _ = encode_heatmaps(kp, INPUT_SIZE, HEATMAP_SIZE, SIGMA, method=enc)
        a, _ = decode_heatmaps(hm[..., ::-1], INPUT_SIZE, "dark", enc)
        b, _ = decode_heatmaps(hm, INPUT_SIZE, "dark", enc)
        out[enc] = float(np.max(np.abs(a[..., 0] - (w - 1 - b[..., 0]))))
    return out


def best_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def speed(
    batch: int, k: int, repeats: int, rng: np.random.Generator
) -> list[tuple[str, float, float]]:
    kp = random_keypoints(batch, k, np.random.default_rng(rng.integers(1 << 31)))
    hm, _ = encode_heatmaps(kp, INPUT_SIZE, HEATMAP_SIZE, SIGMA)
    hm = hm + rng.normal(0, 0.01, hm.shape).astype(np.float32)  # network-like noise
    ht = torch.from_numpy(hm)
    n_maps = batch * k
    rows = [
        (
            "encode (unbiased)",
            n_maps
            / best_time(lambda: encode_heatmaps(kp, INPUT_SIZE, HEATMAP_SIZE, SIGMA), repeats),
            float("nan"),
        )
    ]
    for dec in DECODE_METHODS:
        t_np = best_time(lambda dec=dec: decode_heatmaps(hm, INPUT_SIZE, dec), repeats)
        t_th = best_time(lambda dec=dec: decode_heatmaps_torch(ht, INPUT_SIZE, dec), repeats)
        rows.append((f"decode {dec}", n_maps / t_np, n_maps / t_th))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    n = 200 if args.quick else 5000
    repeats = 1 if args.quick else 5

    s = INPUT_SIZE[0] / HEATMAP_SIZE[0]
    print(
        f"Round trip: input {INPUT_SIZE[0]}x{INPUT_SIZE[1]} (w x h), heatmap "
        f"{HEATMAP_SIZE[0]}x{HEATMAP_SIZE[1]}, stride {s:g}, sigma {SIGMA:g}, "
        f"{n} random sub-pixel keypoints >= {MARGIN:g} px from the border"
    )
    print("Euclidean error in input pixels (decoding with the encoding's own inverse map)")
    print(f"{'encode':<10} {'decode':<20} {'mean':>10} {'max':>10}")
    errors = round_trip(n, rng)
    for (enc, dec), e in errors.items():
        print(f"{enc:<10} {dec:<20} {e.mean():>10.5f} {e.max():>10.5f}")
    # Rounding a uniform sub-pixel position to the nearest of a grid of step s leaves a
    # uniform error over an s x s square: mean distance s (sqrt 2 + ln(1 + sqrt 2)) / 6.
    expected = s * (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6
    print(
        f"msra rounding, theory: mean {expected:.4f}, max {s / math.sqrt(2):.4f} "
        f"(uniform error over a {s:g} x {s:g} px square)"
    )
    q, a = errors[("unbiased", "quarter")].mean(), errors[("unbiased", "argmax")].mean()
    print(f"quarter / argmax mean error on unbiased targets: {q / a:.3f}")

    print("\nFlip check (DARK): max |decode(flip(h)) - (w - 1 - decode(h))| in input px")
    for enc, r in flip_residual(200 if args.quick else 1000, rng).items():
        print(f"  {enc:<10} {r:.6f}")
    print(f"  (msra is off by s - 1 = {s - 1:g} px: its heatmap pixel i sits at input i*s)")

    batch, k = (8, 17) if args.quick else (64, 17)
    print(
        f"\nSpeed: {batch} x {k} heatmaps of {HEATMAP_SIZE[1]}x{HEATMAP_SIZE[0]} (H x W), "
        f"best of {repeats}, torch threads {args.threads}"
    )
    print(f"{'operation':<22} {'numpy maps/s':>14} {'torch maps/s':>14}")
    for name, r_np, r_th in speed(batch, k, repeats, rng):
        th = "" if math.isnan(r_th) else f"{r_th:>14,.0f}"
        print(f"{name:<22} {r_np:>14,.0f} {th}")


if __name__ == "__main__":
    main()
