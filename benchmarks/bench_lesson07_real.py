"""Lesson 7 at full size on the real faces: the classical-vs-deep table.

Runs ``notebooks/07_classical_vs_deep.ipynb`` with ``QUICK = False`` on a faces68
folder (as ``kplearn lessons run 07 --real PATH --full`` does), then prints what
the lesson printed — the accuracy table, the size curve, the robustness
numbers, the scorecard — and one closing line: the best deep and best classical
NME of that run and their ratio.

Usage::

    python benchmarks/bench_lesson07_real.py                       # ~1 h on 2 cores
    python benchmarks/bench_lesson07_real.py --executed build/lessons/07_classical_vs_deep.ipynb

``--executed`` reads a notebook that was already run that way instead of
running it again. faces68 is read from ``--faces68 PATH``, ``$KPLEARN_FACES68``
or ``../shared/data/faces68``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat
from bench_classical_faces import faces68_root  # the same faces68 lookup as the classical benchmark

REPO = Path(__file__).resolve().parents[1]


def printed_text(nb) -> str:
    """The stdout text of every code cell of an executed notebook, in order."""
    chunks = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                chunks.append(output["text"])
            elif output.get("output_type") == "error":
                raise RuntimeError(f"the notebook has a failed cell: {output.get('ename')}: {output.get('evalue')}")
    return "".join(chunks)


def parameters_of(nb) -> str:
    """The injected parameter cell's source (shows QUICK and the data path of that run)."""
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            return "".join(cell.source)
    return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faces68", help="faces68 folder (default: $KPLEARN_FACES68 or ../shared/data/faces68)")
    ap.add_argument("--executed", type=Path, help="an executed lesson 7 notebook to read instead of running")
    ap.add_argument("--out", type=Path, default=REPO / "build" / "lesson07_real", help="where the run is written")
    ap.add_argument("--timeout", type=int, default=5400, help="seconds allowed per cell")
    args = ap.parse_args(argv)

    if args.executed is None:
        from kplearn.lessons import find_lessons, run_lesson, select_lessons

        root = faces68_root(args.faces68)
        if root is None:
            print("no faces68 folder: set --faces68 or KPLEARN_FACES68", file=sys.stderr)
            return 2
        (lesson,) = select_lessons(find_lessons(REPO / "notebooks"), ["07"])
        run = run_lesson(lesson, args.out, parameters={"QUICK": False}, real_data=root, timeout=args.timeout)
        notebook = run.notebook
        print(f"lesson 7, QUICK = False, on {root}: {run.seconds / 60:.1f} min on {os.cpu_count()} CPUs\n")
    else:
        notebook = args.executed
    nb = nbformat.read(notebook, as_version=4)
    parameters = parameters_of(nb)
    if args.executed is not None:
        print(f"lesson 7 as executed in {notebook}\n{parameters}\n")

    text = printed_text(nb)
    print(text)
    if "QUICK = False" not in parameters:
        print("warning: this notebook was not run with QUICK = False", file=sys.stderr)
    verdict = re.search(r"best deep \((\S+), NME ([\d.]+)\) vs best classical \((\S+), NME ([\d.]+)\)", text)
    if verdict is None:
        print("the lesson printed no best-deep / best-classical line", file=sys.stderr)
        return 1
    deep, deep_nme, classical, classical_nme = verdict.groups()
    ratio = float(deep_nme) / float(classical_nme)
    print(f"best deep {deep} NME {float(deep_nme):.4f} / best classical {classical} NME "
          f"{float(classical_nme):.4f} = {ratio:.3f} ({'deep' if ratio < 1 else 'classical'} is better)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
