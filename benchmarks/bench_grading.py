"""Grading time against a lesson's own run time (issue #8: grading <= run time + 30 s).

For each lesson: execute it as `kplearn lessons run` does (its default parameters), then
grade the instructor notebook as a submission (full marks expected) and the untouched
student version (zero expected, each raising stub reported as NotImplementedError).
Prints the seconds of each, the differences to the lesson's run time, and the scores;
exits with status 1 when a difference exceeds the allowance or a score is not as expected.

The lesson runs first, so it pays for cold file caches; the gradings follow it.

    python benchmarks/bench_grading.py              # every lesson (minutes)
    python benchmarks/bench_grading.py 04 06        # some lessons
    python benchmarks/bench_grading.py --quick      # the tiny test fixture only (seconds)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from kplearn.assignments import grade_submission, read_assignment, release
from kplearn.lessons import Lesson, find_lessons, run_lesson, select_lessons

FIXTURE = (
    Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "assignments" / "01_tiny.ipynb"
)


def measure(lesson: Lesson, cell_timeout: float) -> dict:
    assignment = read_assignment(lesson.path)
    with tempfile.TemporaryDirectory() as tmp:
        run = run_lesson(lesson, Path(tmp) / "run", timeout=int(cell_timeout))
        instructor = grade_submission(lesson.path, assignment, cell_timeout=cell_timeout)
        (student_path,) = release([lesson.path], Path(tmp) / "student", progress=False)
        student = grade_submission(student_path, assignment, cell_timeout=cell_timeout)
    raising = [s.exercise for s in assignment.solutions if s.stub == "raise"]
    stubs_reported = all("NotImplementedError" in student.exercises[gid].message for gid in raising)
    return {
        "lesson": lesson.path.stem,
        "run": run.seconds,
        "instructor": instructor,
        "student": student,
        "scores_ok": instructor.total == instructor.max_total
        and instructor.error is None
        and student.total == 0
        and student.error is None
        and stubs_reported,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="lesson numbers or names (default: all)")
    parser.add_argument("--dir", help="lesson folder (default: notebooks/)")
    parser.add_argument("--quick", action="store_true", help="grade the tiny test fixture only")
    parser.add_argument("--cell-timeout", type=float, default=900.0, help="seconds per cell")
    parser.add_argument(
        "--allowance", type=float, default=30.0, help="seconds grading may exceed the run"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")
    if args.quick:
        lessons = [Lesson(1, "tiny", "Tiny assignment (test fixture)", FIXTURE)]
    else:
        lessons = select_lessons(find_lessons(args.dir), args.names)
        if not lessons:
            print("no lessons found", file=sys.stderr)
            return 1
    header = (
        f"{'lesson':<30s} {'run s':>7s} {'grade instr s':>13s} {'diff':>7s} {'score':>7s} "
        f"{'grade student s':>15s} {'diff':>7s} {'score':>6s}  ok"
    )
    print(header)
    print("-" * len(header))
    failures = 0
    worst = float("-inf")
    for lesson in lessons:
        m = measure(lesson, args.cell_timeout)
        ins, stu = m["instructor"], m["student"]
        d_ins, d_stu = ins.seconds - m["run"], stu.seconds - m["run"]
        worst = max(worst, d_ins, d_stu)
        ok = m["scores_ok"] and max(d_ins, d_stu) <= args.allowance
        failures += not ok
        print(
            f"{m['lesson']:<30s} {m['run']:7.1f} {ins.seconds:13.1f} {d_ins:+7.1f} "
            f"{f'{ins.total}/{ins.max_total}':>7s} {stu.seconds:15.1f} {d_stu:+7.1f} "
            f"{f'{stu.total}/{stu.max_total}':>6s}  {'yes' if ok else 'NO'}",
            flush=True,
        )
        if not m["scores_ok"]:
            print(ins.table(), stu.table(), sep="\n", file=sys.stderr)
    print(
        f"\nlargest grading time minus lesson run time: {worst:+.1f} s "
        f"(allowed: +{args.allowance:.0f} s); {failures} lesson(s) failing"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
