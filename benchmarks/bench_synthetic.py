"""Images per second of each synthetic generator, on one core.

Each generator is run once to warm up (scikit-image's sample images are read
once per process and cached), then timed on ``n`` images at its default
settings. Reported: wall-clock images per second and images per CPU-second of
this process (the latter is what one free core would give when the machine is
shared). OpenCV is limited to one thread.

Run: ``python benchmarks/bench_synthetic.py`` (``--quick`` for a smoke run).
Goal: at least 300 faces per second at 96 px on one core.
"""

from __future__ import annotations

import argparse
import time

import cv2

from kplearn.data.synthetic import (
    make_faces,
    make_homography_pairs,
    make_people,
    make_people_scenes,
    make_shapes,
)

GENERATORS = {
    "faces": (lambda n, s: make_faces(n, seed=s), 400, "96x96"),
    "people": (lambda n, s: make_people(n, seed=s), 200, "96x96"),
    "people_scenes": (lambda n, s: make_people_scenes(n, seed=s), 60, "192x192"),
    "shapes": (lambda n, s: make_shapes(n, seed=s, kind="star"), 400, "96x96"),
    "homography_pairs": (lambda n, s: make_homography_pairs(n, seed=s), 30, "320x240 pairs"),
}


def time_generator(make, n: int, repeat: int) -> tuple[float, float]:
    """Best wall and CPU seconds per image over ``repeat`` runs of ``n`` images."""
    make(2, 99)  # warm-up: load and cache the texture images
    walls, cpus = [], []
    for r in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        make(n, r)
        walls.append((time.perf_counter() - w0) / n)
        cpus.append((time.process_time() - c0) / n)
    return min(walls), min(cpus)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a few images per generator (smoke run)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per generator (best is kept)"
    )
    parser.add_argument(
        "--only", choices=sorted(GENERATORS), nargs="*", help="time these generators only"
    )
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    names = args.only or list(GENERATORS)
    print(f"{'generator':<18} {'size':<14} {'n':>5} {'images/s (wall)':>16} {'images/CPU-s':>13}")
    for name in names:
        make, n, size = GENERATORS[name]
        n = 4 if args.quick else n
        wall, cpu = time_generator(make, n, 1 if args.quick else args.repeat)
        print(f"{name:<18} {size:<14} {n:>5} {1 / wall:>16.1f} {1 / cpu:>13.1f}")


if __name__ == "__main__":
    main()
