"""Hand lessons out as graded assignments: validate markup, release student notebooks, grade.

Instructor notebooks mark exercises with nbgrader's comment markers
(``### BEGIN SOLUTION`` / ``### END SOLUTION`` in solution cells,
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` in test cells) and give
each test cell a grade id and points (:mod:`kplearn.assignments.markup`).
:func:`release` writes student versions (:mod:`kplearn.assignments.release`);
:func:`grade_submission` runs a submission with the instructor's tests in a
fresh kernel under time limits and scores it (:mod:`kplearn.assignments.grade`).

Command line: ``kplearn assignments list|release|grade``.

Example
-------
>>> from kplearn.assignments import read_assignment, release, grade_submission
>>> release(["notebooks/04_metrics.ipynb"], "build/student")  # doctest: +SKIP
>>> grade_submission("build/student/04_metrics.ipynb", "notebooks/04_metrics.ipynb").total  # doctest: +SKIP
0
"""

from kplearn.assignments.grade import (
    STATUSES,
    ExerciseResult,
    GradeReport,
    build_graded_notebook,
    find_source,
    format_table,
    grade_submission,
    grade_submissions,
)
from kplearn.assignments.markup import (
    Assignment,
    MarkupError,
    SolutionCell,
    TestCell,
    parse_assignment,
    read_assignment,
)
from kplearn.assignments.release import release, release_notebook, student_source, test_source

__all__ = [
    "STATUSES",
    "Assignment",
    "ExerciseResult",
    "GradeReport",
    "MarkupError",
    "SolutionCell",
    "TestCell",
    "build_graded_notebook",
    "find_source",
    "format_table",
    "grade_submission",
    "grade_submissions",
    "parse_assignment",
    "read_assignment",
    "release",
    "release_notebook",
    "student_source",
    "test_source",
]
