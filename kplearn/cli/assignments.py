"""``kplearn assignments``: check exercise markup, release student notebooks, grade submissions.

Examples
--------
    kplearn assignments list
    kplearn assignments check                     # nbgrader metadata in step (CI)
    kplearn assignments sync notebooks/           # write nbgrader metadata from kplearn's markup
    kplearn assignments release --out build/student
    kplearn assignments release 04 06 --out build/student
    kplearn assignments grade alice/04_metrics.ipynb bob/04_metrics.ipynb --json
    kplearn assignments grade work.ipynb --source notebooks/04_metrics.ipynb --cell-timeout 120
    kplearn assignments grade class/*.ipynb --jobs 2 --gradebook grades.csv --feedback feedback/
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kplearn.lessons import find_lessons, select_lessons

__all__ = ["register"]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def _memory(text: str) -> int | None:
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
    value = text.strip().upper().removesuffix("B")
    unit = value[-1:] if value[-1:] in "KMG" else ""
    try:
        number = float(value[: len(value) - len(unit)])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a size like 4G or 500M, got {text!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative size, got {text!r}")
    return int(number * units[unit]) or None


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "assignments",
        epilog="examples:\n  kplearn assignments check\n  kplearn assignments release --out build/student\n  kplearn assignments grade class/*.ipynb --jobs 2 --gradebook grades.csv\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="release student notebooks and grade submissions",
        description=(
            "Instructor notebooks mark solutions with ### BEGIN/END SOLUTION and hidden checks "
            "with ### BEGIN/END HIDDEN TESTS; test cells carry a grade id and points."
        ),
    )
    sub = parser.add_subparsers(dest="assignments_command", metavar="ACTION", required=True)

    notebooks_help = "lesson numbers, names or .ipynb paths (default: every lesson)"
    p_list = sub.add_parser(
        "list",
        epilog="examples:\n  kplearn assignments list\n  kplearn assignments list 04 06\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="validate the markup and list exercises and points",
        description="Validate each instructor notebook's markup; list its exercises and points.",
    )
    p_list.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help=notebooks_help)
    p_list.add_argument("--dir", help="lesson folder (default: notebooks/ of the checkout)")
    p_list.set_defaults(func=_list)

    p_sync = sub.add_parser(
        "sync",
        epilog="examples:\n  kplearn assignments sync notebooks/\n  kplearn assignments sync notebooks/04_measuring_accuracy.ipynb\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write nbgrader cell metadata derived from kplearn's markup",
        description=(
            "Write nbgrader's cell metadata (schema 3: solution, grade, locked, grade_id, points) "
            "into each instructor notebook, derived from kplearn's markup, so that nbgrader "
            "accepts the notebooks unchanged. Files already in step are left alone."
        ),
    )
    p_sync.add_argument(
        "notebooks", nargs="*", metavar="NOTEBOOK",
        help=notebooks_help + "; a folder means its lessons",
    )
    p_sync.add_argument("--dir", help="lesson folder (default: notebooks/ of the checkout)")
    p_sync.set_defaults(func=_sync)

    p_check = sub.add_parser(
        "check",
        epilog="examples:\n  kplearn assignments check\n  kplearn assignments check notebooks/\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="fail when nbgrader's cell metadata disagrees with kplearn's markup",
        description="Exit 1, listing each cell, when nbgrader metadata and kplearn markup disagree.",
    )
    p_check.add_argument(
        "notebooks", nargs="*", metavar="NOTEBOOK",
        help=notebooks_help + "; a folder means its lessons",
    )
    p_check.add_argument("--dir", help="lesson folder (default: notebooks/ of the checkout)")
    p_check.set_defaults(func=_check)

    p_release = sub.add_parser(
        "release",
        epilog="examples:\n  kplearn assignments release --out build/student\n  kplearn assignments release 04 06 --out build/student\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="write student versions: solutions stubbed, hidden tests removed, outputs cleared",
        description=(
            "Write the student version of each instructor notebook: every solution region "
            "becomes a stub that raises NotImplementedError (or `name = ...  # YOUR CODE HERE`), "
            "hidden tests are removed, outputs cleared."
        ),
    )
    p_release.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help=notebooks_help)
    p_release.add_argument(
        "--out", default="build/student", help="output folder (default: build/student)"
    )
    p_release.add_argument("--dir", help="lesson folder (default: notebooks/ of the checkout)")
    p_release.add_argument("--quiet", action="store_true", help="no progress bar")
    p_release.set_defaults(func=_release)

    p_grade = sub.add_parser(
        "grade",
        epilog="examples:\n  kplearn assignments grade alice/04_measuring_accuracy.ipynb --json\n  kplearn assignments grade submitted/*/lesson04/*.ipynb --source notebooks/04_measuring_accuracy.ipynb --jobs 2 --gradebook grades.csv --feedback feedback/\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="execute submissions with the hidden tests and report points",
        description=(
            "Run each submission in a fresh kernel with the instructor's test cells put back "
            "(hidden checks included) and report points per exercise. A submission is matched "
            "to its lesson by file name or by the metadata written at release."
        ),
    )
    p_grade.add_argument(
        "submissions", nargs="+", metavar="SUBMISSION", help="student .ipynb files"
    )
    source = p_grade.add_mutually_exclusive_group()
    source.add_argument("--source", metavar="NOTEBOOK", help="the instructor notebook for all")
    source.add_argument(
        "--source-dir", metavar="DIR", help="instructor notebooks (default: notebooks/)"
    )
    p_grade.add_argument("--json", action="store_true", help="print a JSON list of reports")
    p_grade.add_argument("--report", metavar="PATH", help="also write the JSON reports to PATH")
    p_grade.add_argument(
        "--cell-timeout",
        type=_positive_float,
        default=300.0,
        metavar="S",
        help="seconds allowed per cell (default 300)",
    )
    p_grade.add_argument(
        "--timeout",
        type=_positive_float,
        default=1800.0,
        metavar="S",
        help="seconds allowed per notebook (default 1800)",
    )
    p_grade.add_argument(
        "--workdir",
        metavar="DIR",
        help="files the lesson needs, copied into each submission's scratch folder (default: none)",
    )
    p_grade.add_argument(
        "--jobs", type=int, default=1, metavar="N",
        help="submissions graded at once, one kernel each (default 1)",
    )
    p_grade.add_argument(
        "--memory", type=_memory, default="8G", metavar="SIZE",
        help="address-space limit per kernel, e.g. 4G, 500M; 0 for none (default 8G)",
    )
    p_grade.add_argument(
        "--gradebook", metavar="CSV", help="write one row per student (LMS-importable CSV)"
    )
    p_grade.add_argument(
        "--feedback", metavar="DIR", help="write one HTML feedback page per submission"
    )
    p_grade.add_argument(
        "--executed",
        metavar="DIR",
        help="write the executed graded notebooks here (they show the hidden tests)",
    )
    p_grade.add_argument("--quiet", action="store_true", help="no progress bar")
    p_grade.set_defaults(func=_grade)


def _instructor_notebooks(names: list[str], directory: str | None) -> list[Path]:
    """Paths for NOTEBOOK arguments: ``.ipynb`` paths as given, others as lesson names."""
    paths = [Path(name) for name in names if name.endswith(".ipynb")]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"notebook {path} does not exist")
    queries = [name for name in names if not name.endswith(".ipynb")]
    if queries or not names:
        lessons = find_lessons(directory)
        if not lessons:
            raise ValueError("no lessons found (pass notebooks or --dir)")
        paths.extend(lesson.path for lesson in select_lessons(lessons, queries))
    return paths


# kplearn.assignments is imported inside the commands: it loads nbformat and jupyter_client,
# which every other `kplearn` command would otherwise pay for at start-up.


def _list(args: argparse.Namespace) -> int:
    from kplearn.assignments import read_assignment

    for path in _instructor_notebooks(args.notebooks, args.dir):
        assignment = read_assignment(path)
        exercises = ", ".join(f"{t.grade_id} ({t.points})" for t in assignment.tests)
        print(f"{path.stem:<32s} {assignment.max_points:3d} points: {exercises}")
    return 0


def _sync_paths(names: list[str], directory: str | None) -> list[Path]:
    folders = [Path(n) for n in names if Path(n).is_dir()]
    rest = [n for n in names if not Path(n).is_dir()]
    paths = [lesson.path for folder in folders for lesson in find_lessons(folder)]
    if rest or not names:
        paths += _instructor_notebooks(rest, directory)
    return paths


def _sync(args: argparse.Namespace) -> int:
    from kplearn.assignments.nbgrader_sync import sync_files

    for path, problems in sync_files(_sync_paths(args.notebooks, args.dir), write=True).items():
        print(f"{path}: {'synced ' + str(len(problems)) + ' cell(s)' if problems else 'in step'}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from kplearn.assignments.nbgrader_sync import sync_files

    found = sync_files(_sync_paths(args.notebooks, args.dir), write=False)
    bad = [problem for problems in found.values() for problem in problems]
    for problem in bad:
        print(problem)
    if bad:
        print(f"{len(bad)} cell(s) out of step; run `kplearn assignments sync`")
        return 1
    print(f"{len(found)} notebook(s): nbgrader metadata in step with kplearn's markup")
    return 0


def _release(args: argparse.Namespace) -> int:
    from kplearn.assignments import release

    written = release(
        _instructor_notebooks(args.notebooks, args.dir), args.out, progress=not args.quiet
    )
    for path in written:
        print(path)
    return 0


def _grade(args: argparse.Namespace) -> int:
    from kplearn.assignments import grade_submissions

    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    reports = grade_submissions(
        args.submissions,
        source=args.source,
        source_dir=args.source_dir,
        progress=not args.quiet,
        cell_timeout=args.cell_timeout,
        timeout=args.timeout,
        workdir=args.workdir,
        executed_dir=args.executed,
        jobs=args.jobs,
        memory=args.memory,
        report_path=args.report,
        gradebook=args.gradebook,
        feedback_dir=args.feedback,
    )
    data = [report.to_dict() for report in reports]
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print("\n\n".join(report.table() for report in reports))
    return 0
