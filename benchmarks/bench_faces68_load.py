"""How fast the real faces load: threaded vs one-thread image decoding.

    python benchmarks/bench_faces68_load.py [--quick] [--root PATH] [--repeats 3]

Prints faces per second for ``load_faces68`` with its default thread pool and
with a single decoding thread, and their ratio. The folder comes from
``--root``, ``$KPLEARN_FACES68`` or ``../shared/data/faces68``; without it the
script says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from kplearn.data import load_faces68


def find_root(arg: str | None) -> Path | None:
    repo = Path(__file__).resolve().parents[1]
    for cand in (
        arg,
        os.environ.get("KPLEARN_FACES68"),
        repo.parent / "shared" / "data" / "faces68",
    ):
        if cand and (Path(cand) / "keypoints.csv").is_file():
            return Path(cand)
    return None


def best_time(root: Path, n: int | None, workers: int | None, repeats: int) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeats):
        start = time.perf_counter()
        ds = load_faces68(root, progress=False, n=n, workers=workers)
        best = min(best, time.perf_counter() - start)
        count = len(ds)
    return best, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 faces, one repeat (smoke run)")
    parser.add_argument("--root", default=None, help="the faces68 folder")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    args = parser.parse_args(argv)
    root = find_root(args.root)
    if root is None:
        print("faces68 folder not found (use --root or set KPLEARN_FACES68): nothing to measure")
        return 0
    n = 300 if args.quick else None
    repeats = 1 if args.quick else args.repeats
    threaded, count = best_time(root, n, None, repeats)
    serial, _ = best_time(root, n, 1, repeats)
    print(f"faces68 at {root}: {count} faces, {os.cpu_count()} CPUs, best of {repeats}")
    print(f"  threaded (default pool): {threaded:6.2f} s  {count / threaded:8.0f} faces/s")
    print(f"  one decoding thread:     {serial:6.2f} s  {count / serial:8.0f} faces/s")
    print(f"  speed-up threaded / one thread: {serial / threaded:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
