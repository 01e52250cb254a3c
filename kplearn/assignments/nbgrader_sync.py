"""Keep nbgrader's cell metadata in step with kplearn's exercise markup.

nbgrader (``generate_assignment``, ``autograde``) reads its own cell metadata
(schema version 3) and refuses a solution region in a cell without it. The one
source of truth is kplearn's markup (:mod:`kplearn.assignments.markup`);
:func:`nbgrader_metadata` derives nbgrader's from it:

- a solution cell: ``solution: true, grade: false, locked: false`` and grade id
  ``<exercise>_solution`` (``_solution_2``, ... for further cells of the same exercise);
- a test cell: ``grade: true, solution: false, locked: true``, the same grade id
  and points as kplearn's;
- a written answer (a markdown cell): ``grade: true, solution: true, locked:
  false``, kplearn's grade id and points: nbgrader's "manually graded answer",
  whose text ``generate_assignment`` replaces by ``YOUR ANSWER HERE`` and which
  ``autograde`` leaves for the instructor to mark in the Formgrader;
- any other cell: no nbgrader metadata.

:func:`sync_nbgrader` writes it (``kplearn assignments sync``),
:func:`check_nbgrader` lists every disagreement (``kplearn assignments check``,
run by CI), so the instructor notebooks can go unchanged into an nbgrader
course's ``source/<assignment>/`` folder (docs/nbgrader.md).

Examples
--------
>>> from kplearn.assignments.markup import example_notebook, parse_assignment
>>> nb = example_notebook()  # a solution cell and its test cell "# Test ex1 (2 points)"
>>> check_nbgrader(nb, name="demo")[0]
'demo, cell 1: nbgrader metadata missing (kplearn marks it a solution of ex1)'
>>> sync_nbgrader(nb, name="demo")
2
>>> nb.cells[1].metadata["nbgrader"]["points"], check_nbgrader(nb, name="demo")
(2, [])
"""

from __future__ import annotations

from pathlib import Path

from kplearn.assignments.markup import Assignment, parse_assignment, read_notebook

__all__ = ["SCHEMA_VERSION", "nbgrader_metadata", "check_nbgrader", "sync_nbgrader", "sync_files"]

#: nbgrader's cell-metadata schema version written.
SCHEMA_VERSION = 3
_KEYS = ("grade", "grade_id", "locked", "points", "schema_version", "solution", "task")


def _cell_metadata(grade_id: str, *, grade: bool, solution: bool, locked: bool, points=None) -> dict:
    """One cell's nbgrader metadata (schema 3); ``points`` only for graded cells."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked}
    if points is not None:
        meta["points"] = points
    return {**meta, "schema_version": SCHEMA_VERSION, "solution": solution, "task": False}


def nbgrader_metadata(assignment: Assignment) -> dict[int, dict]:
    """nbgrader cell metadata by cell position, derived from kplearn's markup."""
    out: dict[int, dict] = {}
    seen: dict[str, int] = {}
    for solution in assignment.solutions:
        seen[solution.exercise] = seen.get(solution.exercise, 0) + 1
        suffix = "" if seen[solution.exercise] == 1 else f"_{seen[solution.exercise]}"
        out[solution.index] = _cell_metadata(
            f"{solution.exercise}_solution{suffix}", grade=False, solution=True, locked=False
        )
    for test in assignment.tests:  # autograded tests: locked, never edited by the student
        out[test.index] = _cell_metadata(
            test.grade_id, grade=True, solution=False, locked=True, points=test.points
        )
    for answer in assignment.written:  # nbgrader's "manually graded answer"
        out[answer.index] = _cell_metadata(
            answer.grade_id, grade=True, solution=True, locked=False, points=answer.points
        )
    return out


def _what(assignment: Assignment, index: int) -> str:
    for solution in assignment.solutions:
        if solution.index == index:
            return f"a solution of {solution.exercise}"
    for test in assignment.tests:
        if test.index == index:
            return f"test {test.grade_id} ({test.points} points)"
    for answer in assignment.written:
        if answer.index == index:
            return f"written answer {answer.grade_id} ({answer.points} points, marked by hand)"
    return "no exercise cell"


def check_nbgrader(nb, *, name: str = "notebook") -> list[str]:
    """Every cell whose nbgrader metadata disagrees with kplearn's markup (empty: in step)."""
    assignment = parse_assignment(nb, name=name)
    expected = nbgrader_metadata(assignment)
    problems = []
    for index, cell in enumerate(nb.cells):
        have = cell.get("metadata", {}).get("nbgrader")
        want = expected.get(index)
        where = f"{name}, cell {index + 1}"
        if want is None:
            if have:
                problems.append(f"{where}: has nbgrader metadata but kplearn marks {_what(assignment, index)}")
            continue
        if not isinstance(have, dict):
            problems.append(
                f"{where}: nbgrader metadata missing (kplearn marks it {_what(assignment, index)})"
            )
            continue
        wrong = [
            f"{key}={have.get(key)!r} (want {want.get(key)!r})"
            for key in _KEYS
            if have.get(key) != want.get(key)
        ]
        if wrong:
            problems.append(f"{where}: nbgrader metadata disagrees: " + ", ".join(wrong))
    return problems


def sync_nbgrader(nb, *, name: str = "notebook") -> int:
    """Write nbgrader metadata derived from kplearn's markup into ``nb``; cells changed."""
    assignment = parse_assignment(nb, name=name)
    expected = nbgrader_metadata(assignment)
    changed = 0
    for index, cell in enumerate(nb.cells):
        meta = cell.setdefault("metadata", {})
        want = expected.get(index)
        have = meta.get("nbgrader")
        if want is None:
            if "nbgrader" in meta:
                del meta["nbgrader"]
                changed += 1
            continue
        if not isinstance(have, dict) or any(have.get(k) != want.get(k) for k in _KEYS):
            kept = {k: v for k, v in (have or {}).items() if k not in _KEYS}
            meta["nbgrader"] = {**kept, **want}
            changed += 1
    return changed


def sync_files(paths, *, write: bool = True) -> dict[Path, list[str]]:
    """Check (and with ``write``, sync) each notebook file; problems found per file.

    With ``write`` a file is rewritten only when something changed.
    """
    import nbformat

    found: dict[Path, list[str]] = {}
    for path in map(Path, paths):
        nb = read_notebook(path)
        problems = check_nbgrader(nb, name=path.stem)
        found[path] = problems
        if write and problems:
            sync_nbgrader(nb, name=path.stem)
            nbformat.write(nb, path)
    return found
