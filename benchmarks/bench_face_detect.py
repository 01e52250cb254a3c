"""Measure how OpenCV's Haar face box relates to the landmark box on faces68.

    python benchmarks/bench_face_detect.py [--root PATH] [--n N]

For every faces68 crop, runs :func:`kplearn.face_detect.detect_faces`, keeps the
detection whose centre is nearest the landmarks' centre (when it lies inside the
landmark box), and records the landmark box relative to the detector box:
``(landmark centre - detector centre) / detector side`` and ``landmark longer side /
detector side``. Prints the detection rate, the medians (the constant
:data:`kplearn.face_detect.HAAR_TO_LANDMARK_BOX`), their quartiles, and how far the
crop rebuilt from the detector box alone lands from the crop built from the
landmarks (centre error and side ratio). The folder comes from ``--root``,
``$KPLEARN_FACES68`` or ``../shared/data/faces68``; without it the script says so
and exits 0. Output of a full run: ``benchmarks/results/face_detect.txt``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from kplearn.face_detect import detect_faces, landmark_box


def faces68_root(arg: str | None) -> Path | None:
    root = (
        arg
        or os.environ.get("KPLEARN_FACES68")
        or str(Path(__file__).resolve().parents[2] / "shared" / "data" / "faces68")
    )
    return Path(root) if (Path(root) / "keypoints.csv").is_file() else None


def measure(data) -> dict:
    """Per-face relations and counts for a faces68 dataset."""
    rel, missed, multiple = [], 0, 0
    for s in data:
        kp = s.keypoints[0]
        lx, ly, lw, lh = landmark_box(kp)
        lc = np.array([lx + lw / 2, ly + lh / 2])
        boxes, _ = detect_faces(s.image)
        centres = boxes[:, :2] + boxes[:, 2:] / 2
        inside = (
            (np.abs(centres - lc) <= [lw / 2, lh / 2]).all(1) if len(boxes) else np.zeros(0, bool)
        )
        if not inside.any():
            missed += 1
            continue
        multiple += int(len(boxes) > 1)
        j = np.flatnonzero(inside)[np.argmin(np.linalg.norm(centres[inside] - lc, axis=1))]
        side = boxes[j, 2]
        rel.append([*(lc - centres[j]) / side, max(lw, lh) / side])
    return {"rel": np.asarray(rel), "missed": missed, "multiple": multiple, "n": len(data)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="the faces68 folder")
    parser.add_argument("--n", type=int, default=None, help="only the first N faces")
    args = parser.parse_args(argv)
    root = faces68_root(args.root)
    if root is None:
        print("faces68 folder not found (use --root or set KPLEARN_FACES68): nothing to measure")
        return 0
    from kplearn.data import load_faces68

    data = load_faces68(root, progress=False, n=args.n)
    t0 = time.perf_counter()
    m = measure(data)
    seconds = time.perf_counter() - t0
    rel = m["rel"]
    found = len(rel)
    print(f"faces68 at {root}: {m['n']} crops of 160x160")
    print(f"  face found on the landmarks: {found} ({100 * found / m['n']:.1f} %), missed {m['missed']}, "
          f"with extra detections {m['multiple']}; {1000 * seconds / m['n']:.1f} ms per crop")  # fmt: skip
    names = ("centre dx / side", "centre dy / side", "landmark side / side")
    med = np.median(rel, axis=0)
    q1, q3 = np.percentile(rel, [25, 75], axis=0)
    for name, a, b, c in zip(names, med, q1, q3, strict=True):
        print(f"  {name:22s} median {a:+.4f}   quartiles [{b:+.4f}, {c:+.4f}]")
    # The crop from the detector alone vs the crop from the landmarks (both 1.5 x landmark side).
    pred_c = rel[:, :2] - med[:2]  # centre error in detector sides
    err = np.linalg.norm(pred_c, axis=1) / rel[:, 2]  # in landmark sides
    ratio = med[2] / rel[:, 2]
    print(f"  with the medians: crop centre error median {np.median(err):.3f}, 90th pct "
          f"{np.percentile(err, 90):.3f} landmark sides; crop side ratio quartiles "
          f"[{np.percentile(ratio, 25):.3f}, {np.percentile(ratio, 75):.3f}]")  # fmt: skip
    print(
        f"HAAR_TO_LANDMARK_BOX = {{'centre': ({med[0]:.4f}, {med[1]:.4f}), 'side': {med[2]:.4f}}}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
