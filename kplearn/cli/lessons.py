"""``kplearn lessons``: list the course's lessons and run them headless."""

from __future__ import annotations

import argparse
import sys

from tqdm.auto import tqdm

from kplearn.lessons import find_lessons, refresh_lesson, run_lesson, select_lessons


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "lessons",
        help="list and run the course's lesson notebooks",
        description="List the lessons, or execute them headless into notebooks and HTML.",
    )
    sub = parser.add_subparsers(dest="lessons_command", metavar="ACTION", required=True)

    p_list = sub.add_parser("list", help="list the lessons", description="List the lessons.")
    p_list.add_argument("--dir", help="lesson folder (default: notebooks/ of the checkout)")
    p_list.set_defaults(func=_list)

    p_run = sub.add_parser(
        "run",
        help="execute lessons and write executed notebooks and HTML",
        description="Execute lessons in fresh kernels; write NN_name.ipynb and NN_name.html.",
    )
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
        "--full", action="store_true", help="run with FAST = False (more data, longer training)"
    )
    p_run.add_argument("--seed", type=int, help="override each lesson's SEED")
    p_run.add_argument(
        "--timeout", type=int, default=900, help="seconds allowed per cell (default 900)"
    )
    p_run.add_argument("--dir", help="lesson folder (default: notebooks/ of the checkout)")
    p_run.add_argument("--quiet", action="store_true", help="no progress bar")
    p_run.set_defaults(func=_run)

    p_refresh = sub.add_parser(
        "refresh",
        help="re-execute lessons in place, keeping only checked-cell outputs",
        description=(
            "For lesson authors: execute each lesson with its defaults and write it back with "
            "outputs only on cells marked NBVAL_CHECK_OUTPUT (the references nbval compares)."
        ),
    )
    p_refresh.add_argument("names", nargs="+", metavar="NAME", help="lesson numbers or names")
    p_refresh.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell")
    p_refresh.add_argument("--dir", help="lesson folder (default: notebooks/ of the checkout)")
    p_refresh.set_defaults(func=_refresh)


def _list(args: argparse.Namespace) -> int:
    for lesson in find_lessons(args.dir):
        print(f"{lesson.number:02d}  {lesson.path.stem:<32s} {lesson.title}")
    return 0


def _run(args: argparse.Namespace) -> int:
    lessons = select_lessons(find_lessons(args.dir), args.names)
    parameters: dict = {}
    if args.full:
        parameters["FAST"] = False
    if args.seed is not None:
        parameters["SEED"] = args.seed
    bar = tqdm(lessons, desc="lessons", unit="lesson", disable=args.quiet or None)
    for lesson in bar:
        bar.set_postfix_str(lesson.path.stem)
        result = run_lesson(
            lesson, args.out, parameters=parameters, real_data=args.real, timeout=args.timeout
        )
        tqdm.write(
            f"{lesson.path.stem}: {result.seconds:.1f} s, {result.figures} figures -> {result.html}",
            file=sys.stdout,
        )
    return 0


def _refresh(args: argparse.Namespace) -> int:
    for lesson in select_lessons(find_lessons(args.dir), args.names):
        result = refresh_lesson(lesson, timeout=args.timeout)
        print(f"{lesson.path.name}: refreshed in {result.seconds:.1f} s ({result.figures} figures)")
    return 0
