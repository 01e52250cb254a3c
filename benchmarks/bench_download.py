"""`kplearn data download faces68` end to end against a local copy of upstream files.

    python benchmarks/bench_download.py [--source DIR] [--reference DIR] [--out results.txt]

Serves ``--source`` (default ``../shared/data/faces68-source/sample``: 20 upstream
files in the upstream layout) with http.server on 127.0.0.1, runs the command
line ``kplearn data download faces68 --root TMP --base-url http://127.0.0.1:PORT/
--manifest M`` in a subprocess, and compares every prepared face with the same
face of ``--reference`` (default ``../shared/data/faces68``): largest landmark
difference and mean grey-level difference. Then runs the command a second time
and counts the requests (expected: none).

The manifest ``M`` is the packaged one cut to the files that ``--source`` holds;
the hashes of the two CSVs are taken from ``--source`` itself, because the sample's
CSVs are cut to its rows (see its README). With a full local copy of upstream
(4,234 files) pass ``--source COPY --full`` to use the packaged manifest as is.
Without the folders the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

from kplearn.data.fetch import DATASETS, read_manifest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def serve(folder: Path):
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, requests


def restricted_manifest(source: Path, out: Path) -> int:
    packaged = read_manifest(DATASETS["faces68"].manifest)
    rows = []
    for path, (size, h) in packaged.items():
        f = source / path
        if not f.is_file():
            continue
        if path.endswith(".csv"):  # cut to the sample's rows: its own hash
            size, h = f.stat().st_size, "sha256:" + hashlib.sha256(f.read_bytes()).hexdigest()
        rows.append([path, size, h.split(":")[1]])
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "bytes", "sha256"])
        w.writerows(rows)
    return len(rows)


def compare(prepared: Path, reference: Path) -> tuple[int, float, float, int]:
    def rows(p):
        with open(p / "keypoints.csv") as fh:
            return {r[0]: np.array(r[1:], float).reshape(68, 2) for r in list(csv.reader(fh))[1:]}

    mine, ref = rows(prepared), rows(reference)
    common = sorted(set(mine) & set(ref))
    max_px, max_grey = 0.0, 0.0
    for name in common:
        max_px = max(max_px, float(np.abs(mine[name] - ref[name]).max()))
        a = np.asarray(Image.open(prepared / "images" / name).convert("L"), float)
        b = np.asarray(Image.open(reference / "images" / name).convert("L"), float)
        max_grey = max(max_grey, float(np.abs(a - b).mean()))
    return len(common), max_px, max_grey, len(mine)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=SHARED / "faces68-source" / "sample")
    ap.add_argument("--reference", type=Path, default=SHARED / "faces68")
    ap.add_argument("--full", action="store_true", help="use the packaged manifest unchanged")
    ap.add_argument("--out", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    if not (args.source / "data").is_dir() or not (args.reference / "keypoints.csv").is_file():
        print(f"skipped: needs {args.source}/data and {args.reference}/keypoints.csv")
        return 0
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        manifest = tmp / "manifest.csv"
        if args.full:
            manifest = DATASETS["faces68"].manifest
            n_files = len(read_manifest(manifest))
        else:
            n_files = restricted_manifest(args.source, manifest)
        httpd, requests = serve(args.source)
        url = f"http://127.0.0.1:{httpd.server_address[1]}/"
        cmd = [
            sys.executable, "-m", "kplearn.cli.data", "download", "faces68",
            "--root", str(tmp / "root"), "--base-url", url, "--manifest", str(manifest),
        ]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        first = len(requests)
        if proc.returncode != 0:
            print(proc.stderr)
            return proc.returncode
        proc2 = subprocess.run(cmd + ["--force"], capture_output=True, text=True)
        second = len(requests) - first
        httpd.shutdown()
        httpd.server_close()
        common, max_px, max_grey, n_prepared = compare(tmp / "root" / "faces68", args.reference)
        lines += [
            f"command: kplearn data download faces68 --base-url {url} --manifest M (M: {n_files} files)",
            f"first run: exit {proc.returncode}, {first} requests, {seconds:.1f} s "
            "(subprocess start and imports included)",
            f"prepared faces: {n_prepared}; also in {args.reference}: {common}",
            f"largest landmark difference: {max_px:.3f} px (limit 0.05)",
            f"largest mean grey-level difference of one face: {max_grey:.3f} (limit 1)",
            f"second run (--force, prepared again from the raw files): exit {proc2.returncode}, "
            f"{second} requests",
            "stderr of the first run:",
            *("  " + ln for ln in proc.stderr.strip().splitlines()),
        ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    ok = max_px <= 0.05 and max_grey <= 1 and second == 0 and common == n_prepared
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
