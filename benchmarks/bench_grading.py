"""Grading a class in parallel (issue #17): 24 submissions of lesson 4, --jobs 1 against --jobs 2.

Makes 24 submissions of lesson 4 (an honest third, an untouched third, a third with cheats),
grades them with ``grade_submissions(jobs=1)`` and ``(jobs=2)``, and prints for each the
submissions per minute, then the ratio (goal >= 1.7 on 2 cores) and the per-submission
overhead over the lesson's own run time (goal <= 10 s): the lesson is first executed once as
`kplearn lessons run` does, and the overhead is (seconds per submission at --jobs 1) minus that
run time. Exits 1 when a goal is missed or a score is not as expected.

    python benchmarks/bench_grading.py               # 24 submissions (about 2 x 24 lesson runs)
    python benchmarks/bench_grading.py --count 6     # a quicker look

Run it on a quiet machine: the ratio measures the cores it is given.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from kplearn.assignments import grade_submissions, read_assignment, release_notebook
from kplearn.lessons import find_lessons, run_lesson, select_lessons

CHEAT = "def my_epe(pred, gt):\n    return metrics.epe(pred, gt)"


def make_submissions(source: Path, folder: Path, count: int) -> dict[Path, int]:
    """``count`` submissions and the total each should score."""
    assignment = read_assignment(source)
    expected = {}
    for i in range(count):
        nb = release_notebook(assignment)
        kind = ("honest", "untouched", "cheat")[i % 3]
        if kind != "untouched":
            for s in assignment.solutions:
                nb.cells[s.index].source = assignment.nb.cells[s.index].source
        if kind == "cheat":
            (ex1,) = [s for s in assignment.solutions if s.exercise == "ex1"]
            nb.cells[ex1.index].source = CHEAT
        path = folder / f"student{i:02d}" / source.name
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        full = assignment.max_points
        expected[path] = {"honest": full, "untouched": 0, "cheat": full - assignment.test("ex1").points}[kind]
    return expected


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=24, help="submissions (default 24)")
    parser.add_argument("--dir", help="lesson folder (default: notebooks/)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")
    (lesson,) = select_lessons(find_lessons(args.dir), ["04"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "source" / lesson.path.name
        source.parent.mkdir()
        shutil.copyfile(lesson.path, source)  # grading never touches notebooks/
        run = run_lesson(lesson, tmp / "run", timeout=900)
        expected = make_submissions(source, tmp / "submitted", args.count)
        rates, seconds = {}, {}
        wrong = 0
        for jobs in (1, 2):
            start = time.perf_counter()
            reports = grade_submissions(list(expected), source=source, jobs=jobs, progress=False,
                                        cell_timeout=900)
            seconds[jobs] = time.perf_counter() - start
            rates[jobs] = 60 * len(reports) / seconds[jobs]
            for report in reports:
                if report.total != expected[Path(report.notebook)] or report.error:
                    wrong += 1
                    print(report.table(), file=sys.stderr)
            print(f"--jobs {jobs}: {len(reports)} submissions in {seconds[jobs]:.1f} s, "
                  f"{rates[jobs]:.2f} submissions per minute", flush=True)
    ratio = rates[2] / rates[1]
    overhead = seconds[1] / args.count - run.seconds
    print(f"speed-up --jobs 2 / --jobs 1: {ratio:.2f} (goal >= 1.7 on 2 cores, {os.cpu_count()} here)")
    print(f"lesson run {run.seconds:.1f} s; per-submission overhead at --jobs 1: {overhead:+.1f} s "
          f"(goal <= 10 s; includes the one reference run spread over {args.count})")
    print(f"scores not as expected: {wrong}")
    ok = ratio >= 1.7 and overhead <= 10 and wrong == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
