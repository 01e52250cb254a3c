"""Lesson 4's people section on real people in COCO format (the KPLEARN_COCO path).

The package's three-image COCO sample stands in for `kplearn data download
coco-val2017-person`: the path through the lesson is the same.
"""

from __future__ import annotations

import nbformat
import pytest

from kplearn.lessons import find_lessons, run_lesson, sample_path

pytestmark = pytest.mark.slow


def test_lesson_4_scores_the_real_people_it_is_given(tmp_path):
    (lesson,) = [item for item in find_lessons() if item.path.stem.startswith("04_")]
    run = run_lesson(lesson, tmp_path, real_people=sample_path("coco"), timeout=300)
    text = "\n".join(
        out.get("text", "")
        for cell in nbformat.read(run.notebook, as_version=4).cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    assert "KPLEARN_COCO is not set" not in text
    assert "real people: 3 images" in text
