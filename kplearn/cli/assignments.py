"""``kplearn assignments``: check exercise markup, release student notebooks, grade submissions.

Examples
--------
    kplearn assignments list
    kplearn assignments release --out build/student
    kplearn assignments release 04 06 --out build/student
    kplearn assignments grade alice/04_metrics.ipynb bob/04_metrics.ipynb --json
    kplearn assignments grade work.ipynb --source notebooks/04_metrics.ipynb --cell-timeout 120
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


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "assignments",
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
        help="validate the markup and list exercises and points",
        description="Validate each instructor notebook's markup; list its exercises and points.",
    )
    p_list.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help=notebooks_help)
    p_list.add_argument("--dir", help="lesson folder (default: notebooks/ of the checkout)")
    p_list.set_defaults(func=_list)

    p_release = sub.add_parser(
        "release",
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
        "--workdir", metavar="DIR", help="kernel working directory (default: the lesson's folder)"
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

    reports = grade_submissions(
        args.submissions,
        source=args.source,
        source_dir=args.source_dir,
        progress=not args.quiet,
        cell_timeout=args.cell_timeout,
        timeout=args.timeout,
        workdir=args.workdir,
        executed_dir=args.executed,
    )
    data = [report.to_dict() for report in reports]
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print("\n\n".join(report.table() for report in reports))
    return 0
