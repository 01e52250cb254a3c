"""Written questions marked by the instructor (issue #15 section 5).

A written answer is a markdown cell with metadata ``kplearn: {written: true, grade_id, points}``
holding the instructor's model answer. The tests build one onto the tiny fixture
(tests/fixtures/assignments/01_tiny.ipynb) and check each piece that can go wrong: the markup
errors name the cell, the student version and the student page hold no model answer, nbgrader's
metadata is written and checked, grading reports the question as pending (neither credited nor
failed) with the student's answer, and the gradebook and feedback page show it as such.
"""

from __future__ import annotations

import copy
import csv
import functools
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from kplearn.assignments import MarkupError, parse_assignment, release_notebook
from kplearn.assignments.grade import MANUAL, ExerciseResult, GradeReport, format_table
from kplearn.assignments.gradebook import gradebook_rows
from kplearn.assignments.markup import ANSWER_STUB
from kplearn.assignments.nbgrader_sync import check_nbgrader, nbgrader_metadata, sync_nbgrader
from kplearn.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "fixtures" / "assignments" / "01_tiny.ipynb"
MODEL = "The mean minimises the sum of squared distances: its gradient vanishes there."
LIMITS = {"cell_timeout": 20.0, "timeout": 120.0, "interrupt_grace": 2.0}


def written_meta(grade_id="q1", points=2, **extra):
    return {"kplearn": {"written": True, "grade_id": grade_id, "points": points, **extra}}


def with_question(nb=None, *, source=MODEL, meta=None, cell_type="markdown"):
    """The tiny fixture with a written question and its model answer appended."""
    nb = copy.deepcopy(nb) if nb is not None else nbformat.read(TINY, as_version=4)
    nb.cells.append(new_markdown_cell("**Question q1 (2 points).** Why the mean?"))
    make = new_markdown_cell if cell_type == "markdown" else new_code_cell
    nb.cells.append(make(source, metadata=written_meta() if meta is None else meta))
    return nb


# --- markup ---------------------------------------------------------------------------------
def test_markup_of_a_written_question():
    a = parse_assignment(with_question(), name="01_tiny")
    (answer,) = a.written
    assert (answer.index, answer.grade_id, answer.points) == (len(a.nb.cells) - 1, "q1", 2)
    assert (a.auto_points, a.manual_points, a.max_points) == (6, 2, 8)
    assert a.grade_ids == ("ex1", "ex2", "ex3") and a.all_ids == ("ex1", "ex2", "ex3", "q1")
    assert a.answer("q1") is answer
    with pytest.raises(KeyError, match="no written answer 'q9'"):
        a.answer("q9")


N = 16  # the answer cell's number (1-based) once appended to the fixture's cells


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cell_type": "code"}, f"cell {N}: a written answer must be a markdown cell"),
        ({"source": ""}, f"cell {N}: written answer 'q1' holds no model answer"),
        ({"source": ANSWER_STUB}, f"cell {N}: written answer 'q1' holds no model answer"),
        ({"source": "### BEGIN SOLUTION\nx\n### END SOLUTION"}, f"cell {N}: a written answer holds no"),
        ({"meta": written_meta(points=0)}, f"cell {N}: points must be at least 1"),
        ({"meta": written_meta(points=1.5)}, f"cell {N}: points must be a whole number"),
        ({"meta": {"kplearn": {"written": True, "grade_id": "q1"}}}, f"cell {N}: written answer 'q1' has no"),
        ({"meta": {"kplearn": {"written": True, "points": 1}}}, f"cell {N}: a written answer needs kplearn.grade_id"),
        ({"meta": written_meta(grade_id="q 1")}, f"cell {N}: a written answer needs kplearn.grade_id"),
        ({"meta": written_meta(grade_id="ex2")}, f"cell {N}: grade id 'ex2' is already used by cell"),
        ({"meta": written_meta(grade_id="ex1_solution")}, f"cell {N}: grade id 'ex1_solution' ends in"),
        ({"meta": written_meta(stub="value")}, f"cell {N}: a written answer takes no kplearn metadata"),
        ({"meta": {"kplearn": {"written": "yes", "grade_id": "q1", "points": 1}}}, f"cell {N}: kplearn.written must be true"),
        ({"meta": {"kplearn": {"grade_id": "q1", "points": 1}}}, f"cell {N}: a markdown cell carries exercise markup"),
    ],
)  # fmt: skip
def test_markup_errors_name_the_cell(change, message):
    nb = with_question(**change)
    assert len(nb.cells) == N
    with pytest.raises(MarkupError, match=message.replace("(", r"\(")):
        parse_assignment(nb, name="01_tiny")


def test_an_exercise_cannot_point_at_a_written_answer():
    nb = with_question()
    nb.cells[4].metadata.setdefault("kplearn", {})["exercise"] = "q1"
    nb.cells[4].metadata["kplearn"]["solution"] = True
    with pytest.raises(MarkupError, match="exercise 'q1' has no test cell"):
        parse_assignment(nb, name="01_tiny")


# --- release, pages and nbgrader's metadata -------------------------------------------------
def test_the_student_version_holds_no_model_answer():
    a = parse_assignment(with_question(), name="01_tiny")
    student = release_notebook(a)
    cell = student.cells[a.written[0].index]
    assert cell.cell_type == "markdown" and cell.source == ANSWER_STUB
    assert cell.metadata["kplearn"] == {"written": True, "grade_id": "q1", "points": 2}
    assert student.metadata["kplearn_assignment"]["written"] == {"q1": 2}
    assert MODEL not in json.dumps(student)
    # The question itself stays.
    assert "Why the mean?" in student.cells[a.written[0].index - 1].source


def test_the_student_page_holds_no_model_answer():
    from kplearn.pages import page_notebook

    page = page_notebook(with_question(), audience="student")
    assert MODEL not in json.dumps(page)
    assert MODEL in json.dumps(page_notebook(with_question(), audience="instructor"))


def test_nbgrader_metadata_of_a_written_answer():
    nb = with_question()
    index = len(nb.cells) - 1
    assert f"01_tiny, cell {N}: nbgrader metadata missing (kplearn marks it written answer q1 (2 points, marked by hand))" in check_nbgrader(nb, name="01_tiny")
    sync_nbgrader(nb, name="01_tiny")
    assert check_nbgrader(nb, name="01_tiny") == []
    assert nb.cells[index].metadata["nbgrader"] == {
        "grade": True, "grade_id": "q1", "locked": False, "points": 2,
        "schema_version": 3, "solution": True, "task": False,
    }
    assert nbgrader_metadata(parse_assignment(nb, name="01_tiny"))[index]["solution"] is True
    nb.cells[index].metadata["nbgrader"]["points"] = 5
    assert check_nbgrader(nb, name="01_tiny") == [
        f"01_tiny, cell {N}: nbgrader metadata disagrees: points=5 (want 2)"
    ]


def test_nbgrader_releases_the_written_answer_as_kplearn_does():
    pytest.importorskip("nbgrader")
    from nbgrader.preprocessors import ClearSolutions

    nb = with_question()
    sync_nbgrader(nb, name="01_tiny")
    theirs, _ = ClearSolutions().preprocess(copy.deepcopy(nb), {})
    ours = release_notebook(parse_assignment(nb, name="01_tiny"))
    assert theirs.cells[-1].source == ours.cells[-1].source == ANSWER_STUB


def test_cli_list_shows_written_questions(tmp_path, capsys):
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(with_question(), path)
    assert main(["assignments", "list", str(path)]) == 0
    out = capsys.readouterr().out
    assert "8 points: ex1 (1), ex2 (2), ex3 (3); written, marked by the instructor: q1 (2)" in out


# --- grading: pending, never credited, never failed -----------------------------------------
def report_with(statuses) -> GradeReport:
    """A hand-made report of the tiny lesson with a written question q1 (2 points)."""
    results = {
        "ex1": ExerciseResult("ex1", 1, 1, statuses.get("ex1", "passed")),
        "ex2": ExerciseResult("ex2", 0, 2, statuses.get("ex2", "failed"), "AssertionError"),
        "ex3": ExerciseResult("ex3", 3, 3, statuses.get("ex3", "passed")),
        "q1": ExerciseResult("q1", 0, 2, MANUAL, "to be marked by the instructor", "My answer."),
    }
    return GradeReport("alice/01_tiny.ipynb", "01_tiny.ipynb", "01_tiny", 4, 8, results, 1.0)


def test_report_table_and_json_show_the_pending_question():
    report = report_with({})
    assert report.pending == 2
    table = format_table(report)
    assert "  q1            -/2  manual       to be marked by the instructor" in table
    assert "  total         4/8  (2 points of written answers to be marked by the instructor)" in table
    data = report.to_dict()
    assert data["pending"] == 2 and data["exercises"]["q1"]["answer"] == "My answer."
    assert "answer" not in data["exercises"]["ex1"]


def test_gradebook_column_layout():
    a = parse_assignment(with_question(), name="01_tiny")
    header, rows = gradebook_rows([report_with({})], [a])
    assert header == [
        "student", "01_tiny:ex1", "01_tiny:ex2", "01_tiny:ex3", "01_tiny:q1", "01_tiny:total",
        "total", "max_total", "to_mark", "status",
    ]
    # The written question's cell waits for the instructor's mark.
    assert rows == [["alice", 1, 0, 3, "", 4, 4, 8, 2, "graded; to mark by hand: 01_tiny:q1"]]


def test_feedback_page_shows_the_answer_as_pending():
    from kplearn.assignments.feedback import render_feedback

    cells = [{"kind": "answer", "grade_id": "q1", "source": "<i>My</i> answer.", "outputs": []}]
    page = render_feedback(report_with({}), cells)
    assert "<b>4/8</b> points; 2 of them for written answers, to be marked by the instructor" in page
    assert "<tr class='manual'><td>q1</td><td>-/2</td><td>to be marked</td>" in page
    assert "Your written answer q1 (to be marked by the instructor)" in page
    assert "&lt;i&gt;My&lt;/i&gt; answer." in page and "<i>My</i>" not in page


@functools.cache
def graded(tmp: str):
    """Grade the instructor's notebook and a student answer of the tiny lesson with q1 (one batch)."""
    from kplearn.assignments import grade_submissions

    folder = Path(tmp)
    source = folder / "source" / "01_tiny.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(with_question(), source)
    a = parse_assignment(with_question(), name="01_tiny")
    student = release_notebook(a)
    for s in a.solutions:  # right answers everywhere
        student.cells[s.index].source = a.nb.cells[s.index].source
    student.cells[a.written[0].index].source = "Because its gradient is zero there."
    blank = release_notebook(a)
    paths = []
    for name, nb in (("alice", student), ("bob", blank)):
        path = folder / "submitted" / name / "01_tiny.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        paths.append(path)
    reports = grade_submissions(
        paths, source=source, progress=False, gradebook=folder / "grades.csv",
        feedback_dir=folder / "feedback", report_path=folder / "report.json", **LIMITS,
    )
    return reports, folder


def test_a_graded_submission_marks_the_question_pending(tmp_path_factory):
    (alice, bob), folder = graded(str(tmp_path_factory.mktemp("written")))
    assert alice.error is None and bob.error is None
    assert (alice.total, alice.max_total, alice.pending) == (6, 8, 2), alice.table()
    q1 = alice.exercises["q1"]
    assert (q1.status, q1.points, q1.max_points) == ("manual", 0, 2)
    assert q1.message == "to be marked by the instructor"
    assert q1.answer == "Because its gradient is zero there."
    assert list(alice.exercises) == ["ex1", "ex2", "ex3", "q1"]
    assert (bob.total, bob.pending) == (0, 2)
    assert bob.exercises["q1"].message == "to be marked by the instructor (left unanswered)"
    assert bob.exercises["q1"].status == "manual"  # not a failure
    # Gradebook: the question's column empty, its points to mark.
    with open(folder / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert rows["alice"]["01_tiny:q1"] == "" and rows["alice"]["01_tiny:total"] == "6"
    assert rows["alice"]["to_mark"] == "2" and rows["alice"]["max_total"] == "8"
    assert rows["alice"]["status"] == "graded; to mark by hand: 01_tiny:q1"
    # Feedback: the student's answer, shown as pending.
    (page,) = [p for p in (folder / "feedback").glob("*.html") if "alice" in p.name]
    text = page.read_text()
    assert "Because its gradient is zero there." in text and MODEL not in text
    assert "to be marked by the instructor" in text
    saved = json.loads((folder / "report.json").read_text())
    assert saved[0]["exercises"]["q1"]["answer"] == "Because its gradient is zero there."


def test_a_deleted_answer_cell_is_reported(tmp_path):
    from kplearn.assignments.grade import _with_written

    a = parse_assignment(with_question(), name="01_tiny")
    student = release_notebook(a)
    del student.cells[a.written[0].index]
    out = _with_written({}, a, student)
    assert out["q1"].status == MANUAL and out["q1"].answer == ""
    assert "has no answer cell" in out["q1"].message
