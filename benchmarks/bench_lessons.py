"""Wall time of each lesson notebook on this machine, against the course's time limits.

Every lesson found by :func:`kplearn.lessons.find_lessons` is executed headless
in a fresh kernel with its own defaults (``QUICK = True``, synthetic data) by
:func:`kplearn.lessons.run_lesson`. The script prints each lesson's seconds and
figure count, the total, and whether each lesson stays within 3 minutes and
all of them together within 15 minutes; it exits with status 1 when a limit is
exceeded.

Usage::

    python benchmarks/bench_lessons.py              # all lessons
    python benchmarks/bench_lessons.py 5 7          # some lessons
    python benchmarks/bench_lessons.py --quick      # smoke run: the first lesson only
    python benchmarks/bench_lessons.py --real PATH  # real-data lessons on a faces68 folder
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from kplearn.lessons import find_lessons, run_lesson, select_lessons

LESSON_LIMIT_S = 180.0  # each lesson, QUICK mode
TOTAL_LIMIT_S = 600.0  # all eight lessons together (issue #15: at most 10 minutes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="lesson numbers or names (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="run only the first lesson (smoke test)"
    )
    parser.add_argument("--dir", help="lesson folder (default: notebooks/ of the checkout)")
    parser.add_argument(
        "--out", help="where to write the executed notebooks (default: a temporary folder)"
    )
    parser.add_argument("--real", metavar="PATH", help="a faces68 folder for the real-data lessons")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    lessons = select_lessons(find_lessons(args.dir), args.names)
    if args.quick:
        lessons = lessons[:1]
    if not lessons:
        print("no lessons found")
        return 1
    os.environ.setdefault("TQDM_DISABLE", "1")
    print(f"{len(lessons)} lesson(s), {os.cpu_count()} CPU(s); limits: {LESSON_LIMIT_S:.0f} s each, "
          f"{TOTAL_LIMIT_S:.0f} s for all")  # fmt: skip
    total, slow = 0.0, []
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        for lesson in lessons:
            result = run_lesson(lesson, out, real_data=args.real, timeout=args.timeout)
            total += result.seconds
            flag = "ok" if result.seconds <= LESSON_LIMIT_S else "TOO SLOW"
            if flag != "ok":
                slow.append(lesson.path.stem)
            print(f"{lesson.number:02d}  {lesson.path.stem:32s} {result.seconds:7.1f} s  "
                  f"{result.figures:3d} figures  {flag}", flush=True)  # fmt: skip
    print(f"total {total:.1f} s ({total / 60:.1f} min) for {len(lessons)} lesson(s)")
    ok = not slow
    if len(lessons) == len(find_lessons(args.dir)) and total > TOTAL_LIMIT_S:
        print(f"all lessons together exceed {TOTAL_LIMIT_S:.0f} s")
        ok = False
    if slow:
        print("over the per-lesson limit:", ", ".join(slow))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
