"""Hand lessons out as graded assignments: markup, nbgrader metadata, release, grading.

Instructor notebooks mark exercises with nbgrader's comment markers
(``### BEGIN SOLUTION`` / ``### END SOLUTION`` in solution cells,
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` in test cells) and give
each test cell a grade id and points (:mod:`~kplearn.assignments.markup`).
nbgrader's own cell metadata is derived from that markup and kept in step by
``kplearn assignments sync`` / ``check`` (:mod:`~kplearn.assignments.nbgrader_sync`,
docs/nbgrader.md). :func:`release` writes student versions.

Written questions
-----------------
A question the grader cannot check (why the mean shape minimises L2 and not
L1) is asked in a markdown cell and answered in the next one: a markdown cell
holding the instructor's **model answer**, with metadata ``{"kplearn":
{"written": true, "grade_id": "q1", "points": 2}}``
(:class:`~kplearn.assignments.markup.WrittenAnswer`). ``sync``/``check`` derive
nbgrader's "manually graded answer" metadata from it (``solution``, ``grade``,
unlocked); :func:`release` replaces the model answer by ``YOUR ANSWER HERE``
(so do nbgrader and the student pages); :func:`grade_submissions` never scores
it: the report lists it with status ``manual`` ("to be marked by the
instructor", neither credited nor a failure) and the student's answer, its
points are counted in ``max_total`` and in :attr:`GradeReport.pending`, the
gradebook leaves its column empty for the instructor's mark (``to_mark``
column), and the feedback page shows the student's answer as pending.
``kplearn assignments list`` lists the written questions after the exercises.

How grading resists cheating
----------------------------
:func:`grade_submissions` (``kplearn assignments grade``) scores an exercise
only when its test cell passes twice:

1. **In the student's kernel**, with the grader's own copy of the test cell
   (visible and hidden checks) in place of whatever the submission holds: the
   cell that counts is picked by comparing sources with the instructor's (a
   pasted copy elsewhere is an ordinary cell); edited metadata, points or
   printed "ok" lines count for nothing; a cell the kernel rewrote before
   running it (an input transformer) fails (:mod:`~kplearn.assignments.grade`).
2. **Outside the kernel** (:mod:`~kplearn.assignments.protected`): the test
   cell runs again in a fresh checker process, on the values of the grader's
   own run of the instructor notebook, with ``numpy.testing``, the metrics and
   every reference freshly imported; the student's functions are called in a
   separate student process that holds only the submission's definitions,
   with pickled inputs and plain-data results compared by the checker. While
   the student's function runs, **the references the exercise re-implements
   are traps**: every function the test cell calls outside numpy, torch, scipy
   and the standard library (``metrics.epe``, ``similarity_transform``,
   ``codecs.encode_heatmaps``, ``cv2.cornerHarris``, ...) and the names listed
   in the test cell's metadata ``kplearn.references``. So a graded cell that
   merely calls the library's reference earns nothing, and replacing
   ``numpy.testing``, the metrics or the data inside the kernel changes nothing.
   A test that cannot be checked this way (it reads a value the notebook
   computes with the student's code, differentiates through the student's
   function, or the exercise defines a class) counts in the kernel only, and
   the report says so; :func:`~kplearn.assignments.protected.plan_checks`
   lists them, and the course's tests insist that every exercise has hidden
   tests and none is kernel-only.

Around both, each submission (:mod:`~kplearn.assignments.isolation`,
:mod:`~kplearn.assignments.worker`): is read into memory before any student
code runs; is graded by its own worker process (the kernel's parent), watched
by the grader, which survives the worker being killed or stopped, kills it
with all descendants and reports that submission as failed; runs in a scratch
folder with its own copy of ``kplearn`` (``default_lesson_dir()`` leads into
the scratch folder, not to the solutions) and a scrubbed environment, in its
own session, with an address-space limit (``--memory``) and a process limit;
every descendant is killed at the end, even one that left the session. The
report, gradebook and feedback pages are written by the grader after each
submission.

**Limits.** This is not a sandbox: code running under the grader's user can
read that user's files if it knows where they are, signal or trace the
grader's processes, and patch the library inside its own process in ways the
traps do not see. Grade work you do not trust in a container per submission
(nbgrader on JupyterHub with a container spawner, or ``docker run --network
none --read-only`` per submission), see docs/nbgrader.md.

Examples
--------
>>> from kplearn.assignments import read_assignment, release, grade_submissions
>>> release(["notebooks/04_measuring_accuracy.ipynb"], "build/student")  # doctest: +SKIP
>>> grade_submissions(["build/student/04_measuring_accuracy.ipynb"])[0].total  # doctest: +SKIP
0
"""

import importlib

# Light modules, imported now; `release` is also a submodule's name, so it must be bound here.
from kplearn.assignments.markup import (
    Assignment,
    MarkupError,
    SolutionCell,
    TestCell,
    WrittenAnswer,
    parse_assignment,
    read_assignment,
)
from kplearn.assignments.release import release, release_notebook, student_source, test_source

# Names resolve on first use, so that the grader's helper processes (which import
# kplearn.assignments.protected or .worker) do not pay for nbformat and jupyter_client.
_HOMES = {
    "grade": (
        "STATUSES MANUAL ExerciseResult GradeReport build_graded_notebook find_answers find_source "
        "format_table "
        "grade_submission grade_submissions"
    ),
    "nbgrader_sync": "sync_nbgrader check_nbgrader nbgrader_metadata",
    "protected": "plan_checks capture_reference",
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names.split()}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'kplearn.assignments' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"kplearn.assignments.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_WHERE))


__all__ = [  # noqa: F822 - resolved lazily by __getattr__
    "MANUAL",
    "STATUSES",
    "Assignment",
    "ExerciseResult",
    "GradeReport",
    "MarkupError",
    "SolutionCell",
    "TestCell",
    "WrittenAnswer",
    "build_graded_notebook",
    "capture_reference",
    "check_nbgrader",
    "find_answers",
    "find_source",
    "format_table",
    "grade_submission",
    "grade_submissions",
    "nbgrader_metadata",
    "plan_checks",
    "parse_assignment",
    "read_assignment",
    "release",
    "release_notebook",
    "student_source",
    "sync_nbgrader",
    "test_source",
]
