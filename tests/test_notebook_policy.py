"""The committed lessons follow the repository's notebook policy (see kplearn.lessons.strip_outputs)."""

from pathlib import Path

import nbformat
import pytest

from kplearn.lessons import find_lessons, is_checked_cell

LESSONS = find_lessons(Path(__file__).resolve().parents[1] / "notebooks")


def test_there_are_lessons():
    assert LESSONS, "no lesson notebooks found in notebooks/"
    numbers = [lesson.number for lesson in LESSONS]
    assert numbers == sorted(set(numbers))


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.path.stem)
def test_lesson_follows_the_policy(lesson):
    assert lesson.path.stat().st_size < 300_000, "notebook too large: strip outputs"
    nb = nbformat.read(lesson.path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        if not is_checked_cell(cell):
            assert cell.outputs == [] and cell.execution_count is None, f"stale output in: {cell.source[:60]!r}"
        for output in cell.get("outputs", []):
            assert "image/png" not in output.get("data", {}), "checked cells should print text, not figures"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    for name in ("QUICK", "SEED"):
        assert f"{name} =" in params[0].source
    tests = [c for c in code if "grade_id" in c.metadata.get("kplearn", {})]
    solutions = [c for c in code if "### BEGIN SOLUTION" in c.source]
    assert len(tests) >= 2 and len(solutions) >= 2, "each lesson has at least two exercises"
    for cell in tests:
        assert 1 <= int(cell.metadata["kplearn"]["points"]) <= 5
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
    assert "learning goals" in markdown and "summary" in markdown
