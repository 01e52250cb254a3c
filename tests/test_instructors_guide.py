"""notebooks/INSTRUCTORS.md has a section for every lesson notebook (issue #15 section 5)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kplearn.assignments import read_assignment
from kplearn.lessons import find_lessons

REPO = Path(__file__).resolve().parents[1]
GUIDE = REPO / "notebooks" / "INSTRUCTORS.md"
LESSONS = find_lessons(REPO / "notebooks")


def sections() -> dict[int, str]:
    """Text under each '## Lesson N' heading of the guide, by lesson number."""
    text = GUIDE.read_text(encoding="utf-8")
    parts = re.split(r"^## Lesson (\d+)\s*$", text, flags=re.MULTILINE)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_the_guide_exists_and_explains_grading():
    text = GUIDE.read_text(encoding="utf-8")
    assert "## How grading works" in text and "## Timings" in text
    assert "marked by the instructor" in text and "hidden" in text


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.path.stem)
def test_every_lesson_has_a_section(lesson):
    found = sections()
    assert lesson.number in found, f"INSTRUCTORS.md has no '## Lesson {lesson.number}' heading"
    body = found[lesson.number]
    assert "<!--" not in body and "TODO" not in body, f"Lesson {lesson.number}: a placeholder is left"
    assert lesson.path.name in body, f"the Lesson {lesson.number} section does not name its notebook"
    for heading in ("Prerequisites", "Expected numbers", "Exercises"):
        assert f"**{heading}" in body, f"Lesson {lesson.number}: no '{heading}'"
    # Every written question of the lesson is answered in its section.
    for answer in read_assignment(lesson.path).written:
        assert f"*{answer.grade_id} ({answer.points} point" in body, (
            f"Lesson {lesson.number}: written question {answer.grade_id} has no answer in the guide"
        )


def test_no_section_for_a_lesson_that_does_not_exist():
    numbers = {lesson.number for lesson in LESSONS}
    assert set(sections()) <= numbers, sorted(set(sections()) - numbers)
