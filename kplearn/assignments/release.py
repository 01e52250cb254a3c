"""Write student versions of instructor notebooks.

The student version of a lesson keeps every cell of the instructor notebook
except that:

- each solution region becomes one stub line at the region's indentation,
  ``raise NotImplementedError("Exercise 1: <hint>")``, or ``name = ...  # YOUR
  CODE HERE`` when the cell's metadata asks for a value stub;
- hidden-test regions are removed (visible checks stay);
- each written answer (a markdown cell with the instructor's model answer)
  becomes :data:`~kplearn.assignments.markup.ANSWER_STUB`, ``YOUR ANSWER HERE``;
- outputs and execution counts are cleared;
- solution and test cells keep small ``kplearn`` metadata (exercise, grade id,
  points) and the notebook records ``kplearn_assignment`` (lesson name and the
  instructor source's checksum) so that the grader can match a submission to
  its lesson. The grader never trusts these for scoring.

Student notebooks import nothing from the grading tool.

Examples
--------
>>> from kplearn.assignments.markup import example_notebook, parse_assignment
>>> nb = example_notebook()  # a solution cell and its test cell "# Test ex1 (2 points)"
>>> student = release_notebook(parse_assignment(nb, name="demo"))
>>> print(student.cells[0].source)
def double(x):
    raise NotImplementedError("Exercise ex1: replace this line with your solution")
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

from kplearn.assignments.markup import (
    ANSWER_STUB,
    Assignment,
    read_assignment,
    stub_line,
    student_source,
    test_source,
)

__all__ = [
    "METADATA_KEY",
    "stub_line",
    "student_source",
    "test_source",
    "release_notebook",
    "release",
]

#: Key of the notebook-level metadata block written into student notebooks.
METADATA_KEY = "kplearn_assignment"


def release_notebook(assignment: Assignment):
    """The student version of a validated instructor notebook (a new nbformat node)."""
    nb = copy.deepcopy(assignment.nb)
    nb.cells = [
        cell
        for cell in nb.cells
        if "injected-parameters" not in cell.get("metadata", {}).get("tags", [])
    ]
    if len(nb.cells) != len(assignment.nb.cells):
        raise ValueError(
            f"{assignment.name}: holds injected-parameter cells; release the lesson source, "
            "not an executed copy"
        )
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("kplearn", None)
        cell.get("metadata", {}).pop("execution", None)
    for solution in assignment.solutions:
        cell = nb.cells[solution.index]
        cell.source = student_source(cell.source, solution)
        meta = {"solution": True, "exercise": solution.exercise}
        if solution.stub == "value":
            meta["stub"] = "value"
        cell.metadata["kplearn"] = meta
    for test in assignment.tests:
        cell = nb.cells[test.index]
        cell.source = test_source(cell.source, test)
        cell.metadata["kplearn"] = {"grade_id": test.grade_id, "points": test.points}
    for answer in assignment.written:
        cell = nb.cells[answer.index]
        cell.source = ANSWER_STUB
        cell.pop("attachments", None)  # pictures of the model answer go with it
        cell.metadata["kplearn"] = {
            "written": True, "grade_id": answer.grade_id, "points": answer.points,
        }
    nb.metadata.pop("widgets", None)
    nb.metadata[METADATA_KEY] = {
        "lesson": assignment.name,
        "source_checksum": assignment.checksum,
        "exercises": {test.grade_id: test.points for test in assignment.tests},
        "written": {answer.grade_id: answer.points for answer in assignment.written},
    }
    return nb


def release(
    notebooks: Iterable[str | Path], out_dir: str | Path, *, progress: bool = True
) -> list[Path]:
    """Validate each instructor notebook and write its student version to ``out_dir``.

    Every notebook is validated before anything is written, so a markup error
    leaves ``out_dir`` untouched. Files keep their names (``04_metrics.ipynb``).

    Returns
    -------
    list of Path
        The written student notebooks, in the order given.
    """
    import nbformat
    from tqdm.auto import tqdm

    paths = [Path(p) for p in notebooks]
    if not paths:
        raise ValueError("no notebooks to release")
    names = [p.name for p in paths]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"two notebooks would be written to the same file: {duplicates}")
    assignments = [read_assignment(p) for p in paths]
    out = Path(out_dir)
    if out.resolve() in {p.resolve().parent for p in paths}:
        raise ValueError(f"--out {out} is the instructor notebooks' folder; choose another")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path, assignment in tqdm(
        list(zip(paths, assignments, strict=True)),
        desc="release",
        unit="notebook",
        disable=not progress or None,
    ):
        target = out / path.name
        nbformat.write(release_notebook(assignment), target)
        written.append(target)
    return written
