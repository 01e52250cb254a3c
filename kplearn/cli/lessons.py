"""``kplearn lessons``: list the course's lessons and run them headless."""

from __future__ import annotations

import argparse
from pathlib import Path

from kplearn.cli import plural
from kplearn.cli._common import add_command, add_lesson_dir
from kplearn.lessons import find_lessons, refresh_lesson, run_lesson, select_lessons
from kplearn.pages import write_site
from kplearn.progress import progress_bar, progress_mode

# Each command's help as it prints: summary line, description, examples (_common.add_command).
_HELP = {
    "lessons": """\
list and run the course's lesson notebooks

List the lessons, or execute them headless into notebooks and HTML.

examples:
  kplearn lessons list
  kplearn lessons run 01
  kplearn lessons run --out build/lessons
""",
    "list": """\
list the lessons

List the lessons: number, file name, title.

example:
  kplearn lessons list
""",
    "run": """\
execute lessons and write executed notebooks and HTML

Execute lessons in fresh kernels; write NN_name.ipynb and NN_name.html.
Progress shows the code cells done in the current lesson and its section.

examples:
  kplearn lessons run 01                          # lesson 1 into build/lessons/
  kplearn lessons run --out build/lessons         # every lesson
  kplearn lessons run 06 --real /path/to/faces68  # lesson 6 on real faces
  kplearn lessons run 04 --real-people ~/.cache/kplearn/coco-val2017-person
""",
    "refresh": """\
re-execute lessons in place, keeping only checked-cell outputs

For lesson authors: execute each lesson with its defaults and write it back with outputs only on cells marked NBVAL_CHECK_OUTPUT (the references nbval compares).

example:
  kplearn lessons refresh 04
""",
}


def register(subparsers) -> None:
    parser = add_command(subparsers, "lessons", None, _HELP["lessons"])
    sub = parser.add_subparsers(dest="lessons_command", metavar="ACTION", required=True)

    p_list = add_command(sub, "list", _list, _HELP["list"])
    add_lesson_dir(p_list)

    p_run = add_command(sub, "run", _run, _HELP["run"])
    p_run.add_argument(
        "names", nargs="*", metavar="NAME", help="lesson numbers or names (default: all)"
    )
    p_run.add_argument(
        "--out", default="build/lessons", help="output folder (default: build/lessons)"
    )
    p_run.add_argument(
        "--real", metavar="PATH", help="a faces68 folder: run the real-data lessons on it"
    )
    p_run.add_argument(
        "--real-people",
        metavar="PATH",
        help="a folder of people in COCO format (kplearn data download coco-val2017-person), "
        "passed to the lessons as KPLEARN_COCO (read by kplearn.lessons.real_people)",
    )
    p_run.add_argument(
        "--full", action="store_true", help="run with QUICK = False (more data, longer training)"
    )
    p_run.add_argument("--seed", type=int, help="override each lesson's SEED")
    p_run.add_argument(
        "--audience",
        choices=("instructor", "student"),
        default="instructor",
        help="instructor pages show the solutions; student pages show the stubs (default: instructor)",
    )
    p_run.add_argument(
        "--timeout", type=int, default=900, help="seconds allowed per cell (default 900)"
    )
    add_lesson_dir(p_run)
    p_run.add_argument("--quiet", action="store_true", help="no progress display")

    p_refresh = add_command(sub, "refresh", _refresh, _HELP["refresh"])
    p_refresh.add_argument("names", nargs="+", metavar="NAME", help="lesson numbers or names")
    p_refresh.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    add_lesson_dir(p_refresh)


def _list(args: argparse.Namespace) -> int:
    for lesson in find_lessons(args.dir):
        print(f"{lesson.number:02d}  {lesson.path.stem:<32s} {lesson.title}")
    return 0


class CellProgress:
    """Progress within one lesson: code cells done / total and the current section.

    Called by :func:`kplearn.lessons.run_lesson` after each cell; a bar on a
    terminal, a line now and then in a log (:func:`kplearn.progress.progress_bar`).
    """

    def __init__(self, desc: str, progress: bool = True) -> None:
        self.desc = desc
        # Decided now: while a lesson runs, TQDM_DISABLE is set for its kernel.
        self.mode = progress_mode(progress)
        self.bar = None

    def __call__(self, done: int, total: int, section: str) -> None:
        if self.bar is None:
            self.bar = progress_bar(total=total, mode=self.mode, desc=self.desc, unit="cell")
        self.bar.set_postfix_str(section[:40], refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run(args: argparse.Namespace) -> int:
    lessons = select_lessons(find_lessons(args.dir), args.names)
    parameters: dict = {}
    if args.full:
        parameters["QUICK"] = False
    if args.seed is not None:
        parameters["SEED"] = args.seed
    for number, lesson in enumerate(lessons, start=1):
        shown = CellProgress(f"lesson {number}/{len(lessons)} {lesson.path.stem}", not args.quiet)
        try:
            result = run_lesson(
                lesson,
                args.out,
                parameters=parameters,
                real_data=args.real,
                real_people=args.real_people,
                timeout=args.timeout,
                audience=args.audience,
                on_cell=shown,
            )
        finally:
            shown.close()
        print(
            f"{lesson.path.stem}: {result.seconds:.1f} s, "
            f"{plural(result.figures, 'figure')} -> {result.html}",
            flush=True,
        )
    # Every page in the folder again, so that each links to its neighbours.
    write_site(args.out, audience=args.audience)
    print(f"index: {Path(args.out) / 'index.html'}")
    return 0


def _refresh(args: argparse.Namespace) -> int:
    for lesson in select_lessons(find_lessons(args.dir), args.names):
        result = refresh_lesson(lesson, timeout=args.timeout)
        print(f"{lesson.path.name}: refreshed in {result.seconds:.1f} s ({result.figures} figures)")
    return 0
