"""nbgrader-native instructor notebooks (issue #17 item 1).

Every test works on copies of notebooks/*.ipynb with ``kplearn assignments sync``
applied (the lessons are edited by others; the real files are only read). nbgrader's
preprocessors are used as a library for the release comparison (no kernel); the slow
acceptance test runs the nbgrader command line on a course built in a temporary folder.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kplearn.assignments import read_assignment, release_notebook
from kplearn.assignments.nbgrader_sync import check_nbgrader, nbgrader_metadata, sync_nbgrader
from kplearn.cli import main

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
nbgrader = pytest.importorskip("nbgrader")


def synced_copy(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    shutil.copyfile(path, target)
    before = read_assignment(target).checksum
    assert main(["assignments", "sync", str(target)]) == 0
    # Syncing does not change kplearn's view of the lesson.
    assert read_assignment(target).checksum == before
    return target


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_sync_then_check_agrees_and_check_catches_drift(lesson, tmp_path, capsys):
    path = synced_copy(lesson, tmp_path)
    assert main(["assignments", "check", str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    a = read_assignment(path)
    # Written exactly as nbgrader wants it, for each solution and test cell.
    for test in a.tests:
        meta = nb.cells[test.index].metadata["nbgrader"]
        assert meta == {
            "grade": True, "grade_id": test.grade_id, "locked": True, "points": test.points,
            "schema_version": 3, "solution": False, "task": False,
        }
    for solution in a.solutions:
        meta = nb.cells[solution.index].metadata["nbgrader"]
        assert meta["solution"] is True and meta["grade"] is False and meta["locked"] is False
    for answer in a.written:  # nbgrader's "manually graded answer"
        meta = nb.cells[answer.index].metadata["nbgrader"]
        assert nb.cells[answer.index].cell_type == "markdown"
        assert meta == {
            "grade": True, "grade_id": answer.grade_id, "locked": False, "points": answer.points,
            "schema_version": 3, "solution": True, "task": False,
        }
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)) == len(a.tests) + len(a.solutions) + len(a.written)
    # Drift: points changed on nbgrader's side only, metadata on a plain cell.
    nb.cells[a.tests[0].index].metadata["nbgrader"]["points"] = 99
    plain = next(i for i, c in enumerate(nb.cells) if "nbgrader" not in c.metadata)
    nb.cells[plain].metadata["nbgrader"] = {"solution": True}
    nbformat.write(nb, path)
    capsys.readouterr()
    assert main(["assignments", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"cell {a.tests[0].index + 1}: nbgrader metadata disagrees: points=99 (want" in out
    assert f"cell {plain + 1}: has nbgrader metadata" in out


def test_check_fails_on_the_unsynced_fixture(tmp_path):
    nb = nbformat.read(REPO / "tests/fixtures/assignments/01_tiny.ipynb", as_version=4)
    problems = check_nbgrader(nb, name="01_tiny")
    assert len(problems) == 6 and all("nbgrader metadata missing" in p for p in problems)
    assert sync_nbgrader(nb, name="01_tiny") == 6
    assert check_nbgrader(nb, name="01_tiny") == []
    assert sync_nbgrader(nb, name="01_tiny") == 0
    assert set(nbgrader_metadata(read_assignment(REPO / "tests/fixtures/assignments/01_tiny.ipynb"))) == {
        4, 5, 7, 8, 10, 11
    }


OUR_STUB = re.compile(r'^(\s*)(raise NotImplementedError\(".*"\)|[A-Za-z_]\w* = \.\.\.  # YOUR CODE HERE)$')


def normalise(source: str) -> list[str]:
    """Lines with each stub (ours: one line; nbgrader's: two) replaced by '<indent>STUB'."""
    out = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        ours = OUR_STUB.match(line)
        if line.strip() == "# YOUR CODE HERE" and i + 1 < len(lines) and lines[i + 1].strip() == "raise NotImplementedError()":
            out.append(line[: len(line) - len(line.lstrip())] + "STUB")
            i += 2
            continue
        if ours:
            out.append(ours[1] + "STUB")
        else:
            out.append(line)
        i += 1
    return out


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_release_equals_nbgrader_generate(lesson, tmp_path):
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions

    path = synced_copy(lesson, tmp_path)
    ours = release_notebook(read_assignment(path))
    theirs = nbformat.read(path, as_version=4)
    for pre in (ClearSolutions(), ClearHiddenTests(), ClearOutput()):  # enforce_metadata=True
        theirs, _ = pre.preprocess(theirs, {})
    assert len(ours.cells) == len(theirs.cells)
    stubs = 0
    for i, (mine, nbg) in enumerate(zip(ours.cells, theirs.cells, strict=True)):
        assert mine.cell_type == nbg.cell_type, i
        assert normalise(mine.source) == normalise(nbg.source), f"cell {i + 1}"
        stubs += sum(line.strip() == "STUB" for line in normalise(mine.source))
    assert stubs >= len(read_assignment(path).solutions)


def _run(args, cwd):
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=cwd, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_nbgrader_course_scores_equal_kplearn(tmp_path):
    """generate_assignment, autograde and export for lessons 1 and 4; scores equal ours."""
    from kplearn.assignments import grade_submissions

    course = tmp_path / "course"
    names = {"lesson01": LESSONS[0], "lesson04": next(p for p in LESSONS if p.name.startswith("04_"))}
    students = ("instructor", "untouched")
    (course).mkdir()
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.CourseDirectory.course_id = 'kplearn'\n"
        "c.ExecutePreprocessor.timeout = 900\n"
        "c.Execute.timeout = 900\n"
    )
    for assignment, lesson in names.items():
        synced_copy(lesson, course / "source" / assignment)
    for student in students:
        _run(["db", "student", "add", student], course)
    for assignment, lesson in names.items():
        _run(["db", "assignment", "add", assignment], course)
        _run(["generate_assignment", assignment, "--force"], course)
        released = course / "release" / assignment / lesson.name
        assert released.is_file()
        for student, origin in (("instructor", course / "source" / assignment / lesson.name), ("untouched", released)):
            target = course / "submitted" / student / assignment
            target.mkdir(parents=True)
            shutil.copyfile(origin, target / lesson.name)
        _run(["autograde", assignment, "--force"], course)
    _run(["export", "--to", str(tmp_path / "nbgrader.csv")], course)
    theirs = {}
    with open(tmp_path / "nbgrader.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            theirs[(row["assignment"], row["student_id"])] = (float(row["score"]), float(row["max_score"]))
    ours = {}
    for assignment, lesson in names.items():
        source = course / "source" / assignment / lesson.name
        subs = [course / "submitted" / s / assignment / lesson.name for s in students]
        for report in grade_submissions(subs, source=source, cell_timeout=900, progress=False):
            student = Path(report.notebook).parts[-3]
            ours[(assignment, student)] = (float(report.total), float(report.max_total))
    # nbgrader's score counts what autograde scored (manually graded answers wait, score 0);
    # max_score counts every point; so do kplearn's total and max_total.
    assert theirs == ours
    for assignment, lesson in names.items():
        a = read_assignment(course / "source" / assignment / lesson.name)
        total = float(a.max_points)
        assert ours[(assignment, "instructor")] == (float(a.auto_points), total)
        assert ours[(assignment, "untouched")] == (0.0, total)
    # autograde left the instructor's written answers for the instructor to mark, and gave
    # the untouched ones ("YOUR ANSWER HERE") nbgrader's automatic 0 for no response.
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment, lesson in names.items():
            a = read_assignment(course / "source" / assignment / lesson.name)
            for student in students:
                for answer in a.written:
                    grade = gb.find_grade(answer.grade_id, lesson.stem, assignment, student)
                    if student == "instructor":
                        assert grade.needs_manual_grade and grade.auto_score is None
                    else:
                        assert grade.auto_score == 0
                    assert grade.max_score == answer.points


def test_the_course_notebooks_are_in_step_with_nbgrader(capsys):
    """The committed lessons carry nbgrader's metadata (`kplearn assignments sync` was run)."""
    assert main(["assignments", "check"]) == 0, capsys.readouterr().out
