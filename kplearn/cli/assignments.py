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

from kplearn.cli._common import add_command, add_lesson_dir, options, positive
from kplearn.lessons import find_lessons, select_lessons

__all__ = ["register"]


_seconds = positive(float, "a positive number of seconds", unreadable="a number of seconds")


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


_NOTEBOOKS_HELP = "lesson numbers, names or .ipynb paths (default: every lesson)"


def _add_notebooks(parser: argparse.ArgumentParser, folders: bool = False) -> None:
    """Add the NOTEBOOK arguments; with ``folders``, as :func:`_sync_paths` reads them."""
    more = "; a folder means its lessons" if folders else ""
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help=_NOTEBOOKS_HELP + more)


# Each command's help as it prints: summary line, description, examples (_common.add_command).
_HELP = {
    "assignments": """\
release student notebooks and grade submissions

Instructor notebooks mark solutions with ### BEGIN/END SOLUTION and hidden checks with ### BEGIN/END HIDDEN TESTS; test cells carry a grade id and points.

examples:
  kplearn assignments check
  kplearn assignments release --out build/student
  kplearn assignments grade class/*.ipynb --jobs 2 --gradebook grades.csv
""",
    "list": """\
validate the markup and list exercises and points

Validate each instructor notebook's markup; list its exercises and points, then its
written questions (marked by the instructor, not by `grade`).

examples:
  kplearn assignments list
  kplearn assignments list 04 06
""",
    "sync": """\
write nbgrader cell metadata derived from kplearn's markup

Write nbgrader's cell metadata (schema 3: solution, grade, locked, grade_id, points) into each instructor notebook, derived from kplearn's markup, so that nbgrader accepts the notebooks unchanged. Files already in step are left alone.

examples:
  kplearn assignments sync notebooks/
  kplearn assignments sync notebooks/04_measuring_accuracy.ipynb
""",
    "check": """\
fail when nbgrader's cell metadata disagrees with kplearn's markup

Exit 1, listing each cell, when nbgrader metadata and kplearn markup disagree.

examples:
  kplearn assignments check
  kplearn assignments check notebooks/
""",
    "release": """\
write student versions: solutions stubbed, hidden tests removed, outputs cleared

Write the student version of each instructor notebook: every solution region becomes a stub that raises NotImplementedError (or `name = ...  # YOUR CODE HERE`), hidden tests are removed, outputs cleared.

examples:
  kplearn assignments release --out build/student
  kplearn assignments release 04 06 --out build/student
""",
    "grade": """\
execute submissions with the hidden tests and report points

Run each submission in a fresh kernel with the instructor's test cells put back (hidden checks included) and report points per exercise. A submission is matched to its lesson by file name or by the metadata written at release.

examples:
  kplearn assignments grade alice/04_measuring_accuracy.ipynb --json
  kplearn assignments grade submitted/*/lesson04/*.ipynb --source notebooks/04_measuring_accuracy.ipynb --jobs 2 --gradebook grades.csv --feedback feedback/
""",
}


def register(subparsers) -> None:
    parser = add_command(subparsers, "assignments", None, _HELP["assignments"], examples_last=True)
    sub = parser.add_subparsers(dest="assignments_command", metavar="ACTION", required=True)

    p_list = add_command(sub, "list", _list, _HELP["list"], examples_last=True)
    _add_notebooks(p_list)
    add_lesson_dir(p_list)

    # sync and check read the same notebooks; check only reports what sync would write.
    for name, func in (("sync", _sync), ("check", _check)):
        p = add_command(sub, name, func, _HELP[name], examples_last=True)
        _add_notebooks(p, folders=True)
        add_lesson_dir(p)

    p_release = add_command(sub, "release", _release, _HELP["release"], examples_last=True)
    _add_notebooks(p_release)
    p_release.add_argument(
        "--out", default="build/student", help="output folder (default: build/student)"
    )
    add_lesson_dir(p_release)
    p_release.add_argument("--quiet", action="store_true", help="no progress bar")

    p_grade = add_command(sub, "grade", _grade, _HELP["grade"], examples_last=True)
    p_grade.add_argument(
        "submissions", nargs="+", metavar="SUBMISSION", help="student .ipynb files"
    )
    source = p_grade.add_mutually_exclusive_group()
    source.add_argument("--source", metavar="NOTEBOOK", help="the instructor notebook for all")
    source.add_argument(
        "--source-dir", metavar="DIR", help="instructor notebooks (default: notebooks/)"
    )
    p_grade.add_argument("--json", action="store_true", help="print a JSON list of reports")
    p_grade.add_argument(
        "--report",
        metavar="PATH",
        dest="report_path",
        help="also write the JSON reports to PATH",
    )
    for flag, default, what in (
        ("--cell-timeout", 300.0, "cell"),
        ("--timeout", 1800.0, "notebook"),
    ):
        p_grade.add_argument(
            flag,
            type=_seconds,
            default=default,
            metavar="S",
            help=f"seconds allowed per {what} (default {default:g})",
        )
    p_grade.add_argument(
        "--workdir",
        metavar="DIR",
        help="files the lesson needs, copied into each submission's scratch folder (default: none)",
    )
    p_grade.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="submissions graded at once, one kernel each (default 1)",
    )
    p_grade.add_argument(
        "--memory",
        type=_memory,
        default="8G",
        metavar="SIZE",
        help="address-space limit per kernel, e.g. 4G, 500M; 0 for none (default 8G)",
    )
    # What grade writes besides its report, each only when asked (dest: grade_submissions' name).
    for flag, metavar, dest, help_text in (
        ("--gradebook", "CSV", "gradebook", "write one row per student (LMS-importable CSV)"),
        ("--feedback", "DIR", "feedback_dir", "write one HTML feedback page per submission"),
        (
            "--executed",
            "DIR",
            "executed_dir",
            "write the executed graded notebooks here (they show the hidden tests)",
        ),
    ):
        p_grade.add_argument(flag, metavar=metavar, dest=dest, help=help_text)
    p_grade.add_argument("--quiet", action="store_true", help="no progress bar")


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
        line = f"{path.stem:<32s} {assignment.max_points:3d} points: {exercises}"
        if assignment.written:
            written = ", ".join(f"{w.grade_id} ({w.points})" for w in assignment.written)
            line += f"; written, marked by the instructor: {written}"
        print(line)
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


# The options of `grade` that grade_submissions takes under the same names (their dests).
_GRADE_OPTIONS = (
    "source",
    "source_dir",
    "cell_timeout",
    "timeout",
    "workdir",
    "executed_dir",
    "jobs",
    "memory",
    "report_path",
    "gradebook",
    "feedback_dir",
)


def _grade(args: argparse.Namespace) -> int:
    from kplearn.assignments import grade_submissions

    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    reports = grade_submissions(
        args.submissions,
        progress=not args.quiet,
        **options(args, *_GRADE_OPTIONS),
    )
    data = [report.to_dict() for report in reports]
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print("\n\n".join(report.table() for report in reports))
    return 0
