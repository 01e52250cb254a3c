"""Grade student submissions against the instructor notebook.

How a submission is graded (:func:`grade_submission`):

1. The **graded notebook** is the student's notebook in the student's order,
   except that every test cell is replaced by the instructor's full test cell
   (visible and hidden checks), matched by grade id. A test cell the student
   deleted, or whose grade id they changed, is put back where the instructor
   had it: after the student's cell that corresponds to the instructor cell
   before it (matched by grade id, exercise id, cell id or identical source).
   The ``parameters`` cell is reset to the lesson's. Solution cells are always
   the student's; nothing of the instructor's solutions is ever used.
2. It runs in a fresh kernel (:class:`~kplearn.assignments.kernel.KernelSession`)
   in the lesson's folder, cell by cell, with a time limit per cell and one
   for the whole notebook. Errors in the student's own cells do not stop the
   run. A cell that runs too long is interrupted; a kernel that dies or does
   not stop is restarted and the cells that had run without error are run
   again (test cells excepted), so that one broken exercise costs only its
   own points.
3. A test cell earns its points when it runs to its end without an error: the
   grader appends a line displaying a random token to each test cell and
   accepts the cell only when the token comes back and the kernel reports
   success.
4. A **written answer** (a markdown cell, :class:`~kplearn.assignments.markup.WrittenAnswer`)
   is never scored: its result has status ``manual``, 0 points of its
   ``max_points`` and the student's text in ``answer``; it is neither credited
   nor a failure. :attr:`GradeReport.total` counts the points scored so far,
   :attr:`GradeReport.max_total` all points of the lesson (as nbgrader's
   ``score`` and ``max_score`` after ``autograde``) and
   :attr:`GradeReport.pending` the points left to the instructor. The
   student's answer is the submission's markdown cell with that grade id in
   its ``kplearn`` metadata (kept by the release), else the cell with the
   instructor cell's id.

Submission metadata (lesson name, checksum) is only used to find the lesson
and to warn when the submission came from another version of it.

The grader executes the submission's code with the grader's permissions:
grade untrusted work in a container or an account that can read nothing else.

Examples
--------
>>> report = grade_submission("alice/04_metrics.ipynb", "notebooks/04_metrics.ipynb")  # doctest: +SKIP
>>> print(report.table())  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from kplearn.assignments import isolation
from kplearn.assignments.isolation import LibrarySnapshot
from kplearn.assignments.kernel import KernelSession, KernelStartError, sentinel_line
from kplearn.assignments.markup import (
    Assignment,
    MarkupError,
    parse_test_header,
    read_assignment,
    read_notebook,
)
from kplearn.assignments.protected import Reference, capture_reference, plan_checks, run_checks
from kplearn.assignments.release import METADATA_KEY
from kplearn.assignments.signing import verify
from kplearn.progress import progress_bar

__all__ = [
    "STATUSES",
    "MANUAL",
    "ExerciseResult",
    "GradeReport",
    "GradingPlan",
    "build_graded_notebook",
    "grade_submission",
    "grade_submissions",
    "find_answers",
    "find_source",
    "format_table",
]

#: Status of a written answer: to be marked by the instructor (neither passed nor failed).
MANUAL = "manual"
#: Exercise statuses: those of test cells from best to worst, then :data:`MANUAL`.
STATUSES = ("passed", "failed", "error", "timeout", "kernel_died", "not_run", MANUAL)
#: Message of a written answer's result.
MANUAL_MESSAGE = "to be marked by the instructor"

_KERNEL_ENV = {
    "TQDM_DISABLE": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "KPLEARN_GRADING": "1",
}
#: Default address-space limit of a kernel (bytes); ``--memory`` on the command line.
DEFAULT_MEMORY = 8 * 1024**3

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ARROW = re.compile(r"^-+>\s*(\d+)\s?(.*)$")
_MESSAGE_CHARS = 300


@dataclass
class ExerciseResult:
    """Points and status of one graded test cell or written answer.

    ``answer`` is the student's text of a written answer (status ``manual``),
    ``None`` for a test cell.
    """

    grade_id: str
    points: int
    max_points: int
    status: str = "not_run"
    message: str = ""
    answer: str | None = None

    @property
    def pending(self) -> bool:
        """True for a written answer waiting for the instructor's mark."""
        return self.status == MANUAL


@dataclass
class GradeReport:
    """The grade of one submission.

    ``exercises`` maps grade id to :class:`ExerciseResult` in the lesson's
    order; ``error`` is set when the submission could not be graded at all
    (unreadable file, kernel that would not start) and then every exercise
    scores 0; ``warnings`` lists what the instructor may want to know
    (re-inserted test cells, a submission from another lesson version, ...).
    ``total`` counts the points scored by the grader, ``max_total`` all the
    lesson's points, written answers included (:attr:`pending`: theirs).
    """

    notebook: str
    source: str
    lesson: str
    total: int
    max_total: int
    exercises: dict[str, ExerciseResult]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict:
        """A JSON-ready dict (``exercises`` keyed by grade id)."""
        out = asdict(self)
        out["exercises"] = {
            gid: {
                key: value
                for key, value in res.items()
                if key != "grade_id" and not (key == "answer" and value is None)
            }
            for gid, res in out["exercises"].items()
        }
        out["seconds"] = round(self.seconds, 2)
        out["pending"] = self.pending
        return out

    @property
    def pending(self) -> int:
        """Points of the written answers, left to the instructor to mark."""
        return sum(res.max_points for res in self.exercises.values() if res.pending)

    def table(self) -> str:
        """A readable table: one line per exercise, then the total."""
        return format_table(self)


@dataclass
class GradingPlan:
    """The notebook to execute, which of its cells are tests, and notes for the report."""

    nb: object
    tests: dict[int, str]
    hidden_lines: dict[str, set[int]]
    warnings: list[str]
    counts: dict[int, int] = field(default_factory=dict)


def _kplearn_meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("kplearn")
    return meta if isinstance(meta, dict) else {}


def _test_cell(assignment: Assignment, grade_id: str, token: str | None):
    test = assignment.test(grade_id)
    source = assignment.nb.cells[test.index].source.rstrip("\n")
    if token is not None:
        source += "\n" + sentinel_line(token)
    return nbformat.v4.new_code_cell(
        source, metadata={"kplearn": {"grade_id": grade_id, "points": test.points}}
    )


def build_graded_notebook(
    submission_nb,
    assignment: Assignment,
    *,
    token: str | None = None,
    parameters: dict | None = None,
) -> GradingPlan:
    """The notebook to execute for a submission (see the module docstring).

    Parameters
    ----------
    submission_nb : nbformat.NotebookNode
        The student's notebook; not modified.
    assignment : Assignment
        The instructor notebook's markup.
    token : str, optional
        Appended to each test cell as a sentinel display (:func:`sentinel_line`).
    parameters : dict, optional
        Values assigned in a cell inserted after the parameters cell.

    Returns
    -------
    GradingPlan
        ``tests`` maps cell positions of the graded notebook to grade ids.
    """
    if parameters and assignment.parameters_index is None:
        raise ValueError(f"{assignment.name} has no cell tagged 'parameters' to override")
    src = assignment.nb
    student = [copy.deepcopy(cell) for cell in submission_nb.cells]
    warnings: list[str] = []
    known = set(assignment.grade_ids)

    # Cells numbered as in the submission; those holding injected parameters are left out.
    dropped = set()
    for j, cell in enumerate(student):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            warnings.append(f"cell {j + 1} holds injected parameters; it was left out")
            dropped.add(j)

    # Student cells that claim a test: by metadata grade id, or by a first line naming it
    # ("# Test ex2 (2 points)"). The one that counts is picked with the grader's own copy
    # of the test's source (a pasted copy elsewhere in the notebook is an ordinary cell):
    # an unchanged copy after the exercise's solution cell, else any unchanged copy, else
    # the first claimant after the solution, else the first.
    from kplearn.assignments.markup import test_source

    claims: dict[str, list[int]] = {}
    for j, cell in enumerate(student):
        if j in dropped or cell.cell_type != "code":
            continue
        gid = _kplearn_meta(cell).get("grade_id")
        if gid is not None:
            if not isinstance(gid, str) or gid not in known:
                warnings.append(
                    f"cell {j + 1} has grade id {gid!r}, which the lesson does not have; "
                    "it runs as an ordinary cell"
                )
                continue
            claims.setdefault(gid, []).append(j)
            continue
        try:
            header = parse_test_header(cell.source)
        except MarkupError:
            header = None
        if header is not None and header[0] in known:
            claims.setdefault(header[0], []).append(j)
    placed: dict[str, int] = {}
    for gid, js in claims.items():
        test = assignment.test(gid)
        full = src.cells[test.index].source
        sources = {full.strip(), test_source(full, test).strip()}
        solution_at = [
            j for j, cell in enumerate(student)
            if _kplearn_meta(cell).get("exercise") == gid and _kplearn_meta(cell).get("solution")
        ]
        after = [j for j in js if not solution_at or j > solution_at[0]]
        same = [j for j in js if student[j].source.strip() in sources]
        ranked = [j for j in after if j in same] or same or after or js
        placed[gid] = ranked[0]
        for j in js:
            if j != ranked[0]:
                warnings.append(f"cell {j + 1} repeats test {gid!r}; it runs as an ordinary cell")
                student[j].metadata["kplearn"] = {
                    k: v for k, v in _kplearn_meta(student[j]).items()
                    if k not in ("grade_id", "points")
                }

    param_j = next(
        (
            j
            for j, cell in enumerate(student)
            if cell.cell_type == "code"
            and j not in dropped
            and "parameters" in cell.get("metadata", {}).get("tags", [])
        ),
        None,
    )
    solution_exercise = {s.index: s.exercise for s in assignment.solutions}
    test_index = {t.index: t.grade_id for t in assignment.tests}

    def student_match(i: int) -> int | None:
        """The student cell that corresponds to instructor cell ``i``, if any."""
        if i in test_index:
            return placed.get(test_index[i])
        if i == assignment.parameters_index:
            return param_j
        cell = src.cells[i]
        if i in solution_exercise:
            for j, other in enumerate(student):
                if (
                    j not in dropped
                    and _kplearn_meta(other).get("exercise") == solution_exercise[i]
                ):
                    return j
        cell_id = cell.get("id")
        if cell_id:
            for j, other in enumerate(student):
                if j not in dropped and other.get("id") == cell_id:
                    return j
        if i not in solution_exercise:
            for j, other in enumerate(student):
                if j not in dropped and (other.cell_type, other.source) == (
                    cell.cell_type,
                    cell.source,
                ):
                    return j
        return None

    def anchor(i: int) -> int:
        """Student position after which instructor cell ``i`` goes back (-1: at the start)."""
        for k in range(i - 1, -1, -1):
            j = student_match(k)
            if j is not None:
                return j
        return min(i, len(student)) - 1

    inserts: dict[int, list] = {}
    if assignment.parameters_index is not None and param_j is None:
        where = anchor(assignment.parameters_index)
        params = copy.deepcopy(src.cells[assignment.parameters_index])
        params.outputs, params.execution_count = [], None
        inserts.setdefault(where, []).append(("parameters", params))
        warnings.append(
            f"the parameters cell was missing; the lesson's was put back after cell {where + 1}"
        )
    for test in assignment.tests:
        if test.grade_id in placed:
            continue
        where = anchor(test.index)
        inserts.setdefault(where, []).append(("test", test.grade_id))
        warnings.append(
            f"test cell {test.grade_id!r} was missing or renamed; it was put back after cell {where + 1}"
        )

    cells: list = []
    tests: dict[int, str] = {}

    def emit(kind, payload) -> None:
        if kind == "test":
            tests[len(cells)] = payload
            cells.append(_test_cell(assignment, payload, token))
        elif kind == "parameters":
            cells.append(payload)
            if parameters:
                cells.append(_parameter_cell(parameters))
        else:
            cells.append(payload)

    for kind, payload in inserts.get(-1, []):
        emit(kind, payload)
    placed_at = {j: gid for gid, j in placed.items()}
    for j, cell in enumerate(student):
        if j in dropped:
            pass
        elif j in placed_at:
            emit("test", placed_at[j])
        elif j == param_j and assignment.parameters_index is not None:
            lesson_params = src.cells[assignment.parameters_index].source
            if cell.source != lesson_params:
                warnings.append("the parameters cell was edited; the lesson's values were used")
            cell.source = lesson_params
            cell.outputs, cell.execution_count = [], None
            emit("parameters", cell)
        else:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            emit("cell", cell)
        for kind, payload in inserts.get(j, []):
            emit(kind, payload)

    nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(submission_nb.metadata))
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    hidden_lines = {
        t.grade_id: {line + 1 for r in t.hidden for line in range(r.begin, r.end + 1)}
        for t in assignment.tests
    }
    return GradingPlan(nb, tests, hidden_lines, warnings)


def _parameter_cell(parameters: dict):
    source = "# Parameters set by the grader\n" + "\n".join(
        f"{key} = {value!r}" for key, value in parameters.items()
    )
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})


def _failing_line(traceback: list[str]) -> tuple[int, str] | None:
    """``(line number, code)`` of the test cell's line that raised, from an IPython traceback."""
    for entry in traceback:
        for line in _ANSI.sub("", entry).splitlines():
            match = _ARROW.match(line.strip())
            if match:
                return int(match[1]), match[2].strip()
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"


def _score(result: ExerciseResult, outcome, limit: float, hidden: set[int], kernel) -> None:
    if outcome.status == "ok" and outcome.sentinel:
        result.status, result.points = "passed", result.max_points
        return
    result.points = 0
    if outcome.status == "ok":
        result.status = "error"
        result.message = "the test cell did not run to its end (its checks were skipped)"
    elif outcome.status == "error":
        result.status = "failed" if outcome.ename == "AssertionError" else "error"
        # The first lines of the error say what went wrong; numpy's array dumps follow.
        evalue = " ".join([line for line in outcome.evalue.splitlines() if line.strip()][:2])
        message = f"{outcome.ename}: {evalue}" if evalue else outcome.ename
        where = _failing_line(outcome.traceback)
        if where is not None:
            number, code = where
            if number in hidden:
                message += f" (in a hidden check, line {number})"
            elif code:
                message += f" (line {number}: {code})"
        result.message = _short(message)
    elif outcome.status == "timeout":
        result.status = "timeout"
        result.message = f"ran longer than its time limit ({limit:.0f} s)"
    else:
        result.status = "kernel_died"
        how = kernel.exit_description()
        result.message = "the kernel died" + (f" ({how})" if how else "")


def _empty_report(submission, assignment, seconds, error=None, warnings=None) -> GradeReport:
    items = [(t.index, t.grade_id, t.points) for t in assignment.tests]
    items += [(w.index, w.grade_id, w.points) for w in assignment.written]
    exercises = {
        gid: ExerciseResult(gid, 0, points, "not_run", error or "")
        for _, gid, points in sorted(items)
    }
    return GradeReport(
        notebook=str(submission),
        source=str(assignment.path) if assignment.path else assignment.name,
        lesson=assignment.name,
        total=0,
        max_total=assignment.max_points,
        exercises=exercises,
        seconds=seconds,
        warnings=list(warnings or []),
        error=error,
    )


def grade_submission(
    submission: str | Path,
    source: str | Path | Assignment,
    *,
    cell_timeout: float = 300.0,
    timeout: float = 1800.0,
    parameters: dict | None = None,
    workdir: str | Path | None = None,
    kernel_name: str = "python3",
    interrupt_grace: float = 5.0,
    max_restarts: int = 3,
    executed_path: str | Path | None = None,
    memory: int | None = DEFAULT_MEMORY,
    reference: Reference | None = None,
    threads: int = 1,
    scratch_base: str | Path | None = None,
    snapshot: LibrarySnapshot | None = None,
    submission_nb=None,
    job_token: str | None = None,
) -> GradeReport:
    """Execute one submission with the instructor's tests and score it.

    This runs the kernel as a child of the calling process; to grade work you
    do not trust, use :func:`grade_submissions`, which grades each submission in
    a worker process it watches (and survives).

    Parameters
    ----------
    submission : path
        The student's ``.ipynb``. A file that is not a notebook gets a report
        with ``error`` set and zero points (it does not raise).
    source : path or Assignment
        The instructor notebook.
    cell_timeout : float
        Seconds allowed per cell.
    timeout : float
        Seconds allowed for running the whole notebook, from its first cell
        (restarts included; starting the kernel has its own 60 s limit). Test
        cells not reached by then score 0 with status ``not_run``.
    parameters : dict, optional
        Overrides of the lesson's parameters cell (default: the lesson's own values).
    workdir : path, optional
        A folder of files the lesson needs: copied into the submission's
        scratch working folder (default: nothing; the kernel never runs in the
        instructor's folder).
    kernel_name : str
        Kernel spec to run the submission in.
    interrupt_grace : float
        Seconds a timed-out cell has to stop after an interrupt before the
        kernel is restarted.
    max_restarts : int
        Kernel restarts allowed; after that the remaining tests are not run.
    executed_path : path, optional
        Where to write the executed graded notebook (it shows the hidden tests).
    memory : int, optional
        Address-space limit of the kernel and of the student process, in bytes
        (``None``: no limit).
    reference : Reference, optional
        The reference run of the lesson (:func:`~kplearn.assignments.protected.capture_reference`);
        made here when not given (it costs one run of the instructor notebook).
    threads : int
        ``OMP_NUM_THREADS`` of the kernel.
    scratch_base : path, optional
        Where the submission's scratch folder is made (default: the system's temp folder).
    snapshot : LibrarySnapshot, optional
        The library copied into the scratch folder (default: the installed kplearn, read now).
    submission_nb : nbformat.NotebookNode, optional
        The submission already read (``submission`` then only names it).
    job_token : str, optional
        The environment token of this submission's processes
        (:data:`~kplearn.assignments.isolation.TOKEN_VARIABLE`; default: a new one).

    Returns
    -------
    GradeReport
    """
    start = time.perf_counter()
    submission = Path(submission)
    assignment = source if isinstance(source, Assignment) else read_assignment(source)
    if submission_nb is None and not submission.is_file():
        raise FileNotFoundError(f"submission {submission} does not exist")
    if cell_timeout <= 0 or timeout <= 0:
        raise ValueError(
            f"time limits must be positive, got cell {cell_timeout}, notebook {timeout}"
        )
    if submission_nb is None:
        try:
            submission_nb = read_notebook(submission)
        except ValueError as err:
            return _empty_report(submission, assignment, time.perf_counter() - start, str(err))

    warnings = _metadata_warnings(submission_nb, assignment)
    token = secrets.token_hex(16)
    try:
        plan = build_graded_notebook(submission_nb, assignment, token=token, parameters=parameters)
    except (
        AttributeError,
        TypeError,
        KeyError,
    ) as err:  # a malformed notebook the reader let through
        return _empty_report(
            submission, assignment, time.perf_counter() - start, f"cannot read the cells: {err}"
        )
    warnings.extend(plan.warnings)
    results = {
        t.grade_id: ExerciseResult(t.grade_id, 0, t.points, "not_run") for t in assignment.tests
    }
    snapshot = snapshot or LibrarySnapshot()
    if reference is None:
        reference = capture_reference(
            assignment, parameters=parameters, cell_timeout=cell_timeout,
            scratch_base=scratch_base, snapshot=snapshot, memory=memory, kernel_name=kernel_name,
        )
    base = Path(scratch_base) if scratch_base is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    scratch = isolation.make_scratch(base, snapshot)
    if workdir is not None:
        shutil.copytree(workdir, scratch / "work", dirs_exist_ok=True)
    job_token = job_token or secrets.token_hex(16)
    env = isolation.scrubbed_env(
        scratch, token=job_token, extra={**_KERNEL_ENV, "OMP_NUM_THREADS": str(max(1, threads))}
    )
    kernel = KernelSession(
        scratch / "work", env, kernel_name=kernel_name, interrupt_grace=interrupt_grace,
        replace_env=True, preexec_fn=isolation.limit_process(memory),
    )
    try:
        try:
            kernel.start()
        except KernelStartError as err:
            return _empty_report(
                submission, assignment, time.perf_counter() - start, str(err), warnings
            )
        deadline = time.monotonic() + timeout  # start-up has its own limit (startup_timeout)
        try:
            stop_reason = _execute(
                plan, kernel, results, deadline, cell_timeout, token, max_restarts
            )
            _check_executed_sources(plan, kernel, results)
        finally:
            kernel.stop()
            isolation.kill_marked(job_token)
        for result in results.values():
            if result.status == "not_run":
                result.message = stop_reason or "not reached"
        student_sources = [
            cell.source
            for i, cell in enumerate(plan.nb.cells)
            if cell.cell_type == "code" and i not in plan.tests
        ]
        # The protected checks get the same limits as the notebook: a cell's time per
        # call, and no more than the notebook's time for one test.
        checks = run_checks(
            plan_checks(assignment), reference, student_sources,
            scratch=scratch, env=env, memory=memory, call_timeout=min(cell_timeout, timeout),
            test_timeout=min(cell_timeout, timeout),
        )
        isolation.kill_marked(job_token)
    finally:
        isolation.remove(scratch)
    _combine(results, checks, warnings)
    results = _with_written(results, assignment, plan.nb)
    if executed_path is not None:
        Path(executed_path).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(plan.nb, executed_path)
    report = GradeReport(
        notebook=str(submission),
        source=str(assignment.path) if assignment.path else assignment.name,
        lesson=assignment.name,
        total=sum(r.points for r in results.values()),
        max_total=assignment.max_points,
        exercises=results,
        seconds=time.perf_counter() - start,
        warnings=warnings,
    )
    report._executed = plan  # for feedback pages (not part of to_dict)
    return report


def find_answers(nb, assignment: Assignment) -> dict[str, int]:
    """Position in ``nb`` of the student's cell answering each written question.

    The markdown cell whose ``kplearn`` metadata has ``written`` and the
    question's grade id (the release writes it), else the markdown cell with
    the instructor cell's id; a question with neither is left out.

    Examples
    --------
    >>> from nbformat.v4 import new_markdown_cell, new_notebook
    >>> from kplearn.assignments.markup import example_notebook, parse_assignment
    >>> source = example_notebook()
    >>> source.cells.append(new_markdown_cell(
    ...     "Model answer.", metadata={"kplearn": {"written": True, "grade_id": "q1", "points": 1}}))
    >>> student = new_notebook(cells=[new_markdown_cell(
    ...     "Mine.", metadata={"kplearn": {"written": True, "grade_id": "q1", "points": 1}})])
    >>> find_answers(student, parse_assignment(source, name="demo"))
    {'q1': 0}
    """
    found: dict[str, int] = {}
    for answer in assignment.written:
        cell_id = assignment.nb.cells[answer.index].get("id")
        by_meta = [
            j for j, cell in enumerate(nb.cells)
            if cell.cell_type == "markdown"
            and _kplearn_meta(cell).get("written")
            and _kplearn_meta(cell).get("grade_id") == answer.grade_id
        ]
        by_id = [
            j for j, cell in enumerate(nb.cells)
            if cell_id and cell.cell_type == "markdown" and cell.get("id") == cell_id
        ]
        if by_meta or by_id:
            found[answer.grade_id] = (by_meta or by_id)[0]
    return found


def _with_written(results: dict, assignment: Assignment, nb) -> dict:
    """``results`` with a ``manual`` result per written answer, all in notebook order."""
    from kplearn.assignments.markup import ANSWER_STUB

    where = find_answers(nb, assignment)
    order = {gid: i for i, gid in enumerate(assignment.all_ids)}
    out = dict(results)
    for answer in assignment.written:
        j = where.get(answer.grade_id)
        text = str(nb.cells[j].source).strip() if j is not None else ""
        if j is None:
            message = f"{MANUAL_MESSAGE} (the submission has no answer cell for it)"
        elif not text or text == ANSWER_STUB:
            message = f"{MANUAL_MESSAGE} (left unanswered)"
        else:
            message = MANUAL_MESSAGE
        out[answer.grade_id] = ExerciseResult(
            answer.grade_id, 0, answer.points, MANUAL, message, text[:20000]
        )
    return dict(sorted(out.items(), key=lambda item: order.get(item[0], len(order))))


def _check_executed_sources(plan, kernel, results) -> None:
    """Fail test cells the kernel did not execute as the grader sent them."""
    counts = getattr(plan, "counts", {})
    if not counts:
        return
    executed = kernel.executed_sources()
    if not executed:
        return
    for index, gid in plan.tests.items():
        count = counts.get(index)
        if count is None or results[gid].status != "passed":
            continue
        sent = _python_source(plan.nb.cells[index].source)
        if executed.get(count, "").rstrip() != sent.rstrip():
            result = results[gid]
            result.points, result.status = 0, "error"
            result.message = "the test cell was rewritten before it ran (an input transformer?)"


def _python_source(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _combine(results, checks, warnings) -> None:
    """An exercise keeps its points only when its protected check passed too."""
    kernel_only = []
    for gid, result in results.items():
        check = checks.get(gid)
        if check is None:
            continue
        if not check.checked:
            kernel_only.append(f"{gid} ({check.message.removeprefix('checked in the kernel only: ')})")
            continue
        if check.passed or result.status != "passed":
            continue
        result.points, result.status = 0, "failed"
        result.message = _short(f"protected check: {check.message}")
    if kernel_only:
        warnings.append("checked in the kernel only: " + "; ".join(kernel_only))


def _execute(plan, kernel, results, deadline, cell_timeout, token, max_restarts) -> str:
    """Run the graded notebook; fill ``results``; return why it stopped early ('' if it did not)."""
    ran_ok: list[int] = []  # non-test cells that ran cleanly: replayed after a restart
    count = 0
    for index, cell in enumerate(plan.nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "the notebook's time limit was reached before this test"
        limit = min(cell_timeout, remaining)
        grade_id = plan.tests.get(index)
        outcome = kernel.run(cell.source, limit, token=token if grade_id else None)
        if grade_id is not None and outcome.execution_count is not None:
            plan.counts[index] = outcome.execution_count
        count += 1
        cell.outputs, cell.execution_count = outcome.outputs, count
        if grade_id is not None:
            _score(results[grade_id], outcome, limit, plan.hidden_lines[grade_id], kernel)
        elif outcome.status == "ok":
            ran_ok.append(index)
        if outcome.kernel_ok:
            continue
        what = "died" if outcome.status == "dead" else "did not stop after an interrupt"
        if kernel.restarts >= max_restarts:
            return f"the kernel {what} in cell {index + 1} and was restarted too often"
        reason = _restart_and_replay(plan, kernel, ran_ok, deadline, cell_timeout)
        if reason:
            return f"the kernel {what} in cell {index + 1}; {reason}"
    return ""


def _restart_and_replay(plan, kernel, ran_ok, deadline, cell_timeout) -> str:
    """Fresh kernel, then re-run the cells that had run cleanly; '' on success, else why not."""
    try:
        kernel.restart()
    except KernelStartError as err:
        return f"it could not be restarted ({err})"
    for index in ran_ok:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "the notebook's time limit was reached while re-running earlier cells"
        outcome = kernel.run(plan.nb.cells[index].source, min(cell_timeout, remaining))
        if not outcome.kernel_ok:
            return f"re-running cell {index + 1} after the restart failed ({outcome.status})"
    return ""


def _metadata_warnings(submission_nb, assignment: Assignment) -> list[str]:
    meta = submission_nb.get("metadata", {}).get(METADATA_KEY)
    if not isinstance(meta, dict):
        return ["the submission carries no kplearn_assignment metadata (not a released notebook?)"]
    warnings = []
    if meta.get("lesson") not in (None, assignment.name):
        warnings.append(
            f"the submission says it is lesson {meta.get('lesson')!r}; graded as {assignment.name!r}"
        )
    elif meta.get("source_checksum") not in (None, assignment.checksum):
        warnings.append("the submission was released from another version of the lesson")
    return warnings


def find_source(submission: str | Path, source_dir: str | Path) -> Path:
    """The instructor notebook in ``source_dir`` that ``submission`` answers.

    Tried in order: the same file name (``04_metrics.ipynb``); a lesson stem
    contained in the submission's file name (``alice_04_metrics.ipynb``); the
    lesson named in the submission's ``kplearn_assignment`` metadata.

    Raises
    ------
    ValueError
        When none of these identifies a notebook in ``source_dir``.
    """
    submission = Path(submission)
    folder = Path(source_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"instructor folder {folder} does not exist")
    same = folder / submission.name
    if same.is_file():
        return same
    stems = sorted((p.stem for p in folder.glob("*.ipynb")), key=len, reverse=True)
    for stem in stems:
        if re.match(r"^\d{2}_", stem) and stem in submission.stem:
            return folder / f"{stem}.ipynb"
    try:
        meta = read_notebook(submission).get("metadata", {}).get(METADATA_KEY, {})
    except ValueError:
        meta = {}
    lesson = meta.get("lesson") if isinstance(meta, dict) else None
    if isinstance(lesson, str) and lesson in stems:
        return folder / f"{lesson}.ipynb"
    raise ValueError(
        f"cannot tell which notebook of {folder} {submission} answers "
        "(name it like the lesson, e.g. 04_metrics.ipynb, or pass --source)"
    )


def feedback_cells(report: GradeReport, assignment: Assignment) -> list[dict]:
    """The executed cells as the student may see them: for :mod:`kplearn.assignments.feedback`.

    Each item has ``kind`` (``markdown``/``code``/``test``/``answer``: the
    student's written answer, with its ``grade_id``), ``source`` (a test
    cell shows only its visible checks) and ``outputs``: text and images of the
    student's cells; for test cells their printed text and the error's first
    line, never a traceback (it would quote hidden checks).
    """
    from kplearn.assignments.markup import test_source

    plan = getattr(report, "_executed", None)
    if plan is None:
        return []
    answers = {j: gid for gid, j in find_answers(plan.nb, assignment).items()}
    cells = []
    for index, cell in enumerate(plan.nb.cells):
        if index in answers:
            cells.append({
                "kind": "answer", "grade_id": answers[index], "source": cell.source, "outputs": [],
            })
            continue
        gid = plan.tests.get(index)
        if gid is not None:
            test = assignment.test(gid)
            source = test_source(assignment.nb.cells[test.index].source, test)
        else:
            source = cell.source
        outputs = []
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            kind = output.get("output_type")
            if kind == "stream":
                outputs.append({"text": str(output.get("text", ""))[:20000]})
            elif kind == "error":
                outputs.append({"error": f"{output.get('ename', '')}: {output.get('evalue', '')}"[:2000]})
            elif kind in ("display_data", "execute_result") and gid is None:
                data = output.get("data", {})
                for mime in ("image/png", "image/jpeg"):
                    if mime in data:
                        outputs.append({"image": mime, "data": str(data[mime]).replace("\n", "")})
                        break
                else:
                    if "text/plain" in data:
                        outputs.append({"text": str(data["text/plain"])[:20000]})
        kind = "test" if gid is not None else cell.cell_type
        cells.append({"kind": kind, "grade_id": gid, "source": source, "outputs": outputs})
    return cells


def grade_submissions(
    submissions: Sequence[str | Path],
    *,
    source: str | Path | None = None,
    source_dir: str | Path | None = None,
    progress: bool = True,
    executed_dir: str | Path | None = None,
    jobs: int = 1,
    report_path: str | Path | None = None,
    gradebook: str | Path | None = None,
    feedback_dir: str | Path | None = None,
    heartbeat_timeout: float = 30.0,
    log=None,
    **kwargs,
) -> list[GradeReport]:
    """Grade several submissions, ``jobs`` at a time, each in a watched worker process.

    Each submission is matched to ``source`` when given, else to a notebook of
    ``source_dir`` (default: the course's ``notebooks/``) by :func:`find_source`.
    All matching, and reading every submission and instructor notebook, happens
    before any student code runs; then each lesson is run once as the
    reference (:func:`~kplearn.assignments.protected.capture_reference`).

    Every submission is graded by a worker (:mod:`kplearn.assignments.worker`)
    whose child is the kernel. A worker killed or stopped by the submission, or
    silent for ``heartbeat_timeout`` seconds, is killed with everything it
    started; its submission is reported with an error and zero points. After
    each submission the instructor notebooks are compared with their state
    before grading and restored, and the installed ``kplearn`` is compared with
    it (the grader's processes import a private copy; a change is reported);
    the JSON report (``report_path``), the gradebook CSV
    (``gradebook``, :mod:`kplearn.assignments.gradebook`) and the feedback
    pages (``feedback_dir``, :mod:`kplearn.assignments.feedback`) are written
    by this process after each submission, so what is graded survives a crash.
    Keyword arguments go to :func:`grade_submission`.

    Returns
    -------
    list of GradeReport
        In the order of ``submissions``.
    """
    import nbformat as _nbf

    from kplearn.assignments import feedback
    from kplearn.assignments import gradebook as gradebook_mod
    from kplearn.lessons import default_lesson_dir

    paths = [Path(p) for p in submissions]
    if not paths:
        raise ValueError("no submissions to grade")
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"submission {path} does not exist")
    if source is not None and source_dir is not None:
        raise ValueError("give an instructor notebook or an instructor folder, not both")
    if source is not None:
        sources = [Path(source)] * len(paths)
    else:
        folder = Path(source_dir) if source_dir is not None else default_lesson_dir()
        sources = [find_source(path, folder) for path in paths]
    assignments = {s: read_assignment(s) for s in dict.fromkeys(sources)}
    source_bytes = {s: s.read_bytes() for s in assignments}
    texts = [path.read_bytes() for path in paths]
    snapshot = LibrarySnapshot()
    options = {k: v for k, v in kwargs.items() if k not in ("executed_path",)}
    threads = max(1, (os.cpu_count() or 1) // jobs)
    references = {}
    for src, assignment in assignments.items():
        if log:
            log(f"reference run of {assignment.name}")
        references[src] = capture_reference(
            assignment,
            parameters=options.get("parameters"),
            cell_timeout=options.get("cell_timeout", 300.0),
            snapshot=snapshot,
            memory=options.get("memory", DEFAULT_MEMORY),
            kernel_name=options.get("kernel_name", "python3"),
        )
    # The grader's own processes (workers, checkers) import this copy, written before
    # any student code ran, not the installed package a submission might edit.
    batch_dir = Path(tempfile.mkdtemp(prefix="kplearn-grading-"))
    private_lib = batch_dir / "lib"
    snapshot.write(private_lib)
    seen_changes: set[str] = set()
    reports: list[GradeReport | None] = [None] * len(paths)
    cells: dict[int, list] = {}
    queue = list(range(len(paths)))
    running: dict[int, _Worker] = {}
    bar = progress_bar(total=len(paths), desc="grading", unit="notebook", progress=progress)

    def finished(number: int, report: GradeReport, worker_cells) -> None:
        changed = sorted(set(snapshot.changed()) - seen_changes)
        if changed:
            seen_changes.update(changed)
            report.warnings.append(
                "kplearn's installed files changed while this submission ran (grading used "
                "a private copy; reinstall before the next run): " + ", ".join(changed[:5])
            )
        for src, data in source_bytes.items():
            if not isolation.holds(src, data):
                src.write_bytes(data)
                report.warnings.append(f"the instructor notebook {src.name} changed; restored")
        reports[number] = report
        if worker_cells is not None:
            cells[number] = worker_cells
        done = [r for r in reports if r is not None]
        if report_path is not None:
            _write_atomic(report_path, json.dumps([r.to_dict() for r in done], indent=2) + "\n")
        if gradebook is not None:
            gradebook_mod.write_gradebook(
                gradebook, done, [assignments[s] for s in assignments]
            )
        if feedback_dir is not None:
            feedback.write_feedback(
                Path(feedback_dir) / f"{_stem(paths[number], number)}.html",
                report, cells.get(number, []),
            )
        bar.set_postfix_str(paths[number].name)
        bar.update(1)

    try:
        while queue or running:
            while queue and len(running) < jobs:
                number = queue.pop(0)
                src = sources[number]
                executed = None
                if executed_dir is not None:
                    executed = str(Path(executed_dir) / f"{number:03d}_{paths[number].name}")
                try:
                    nb = _nbf.reads(texts[number].decode("utf-8"), as_version=4)
                    if not isinstance(nb.get("cells"), list):
                        raise ValueError("it has no list of cells")
                except Exception as err:
                    finished(
                        number,
                        _empty_report(
                            paths[number], assignments[src], 0.0,
                            f"{paths[number]} is not a readable notebook: {err}",
                        ),
                        None,
                    )
                    continue
                running[number] = _Worker.start(
                    number,
                    paths[number],
                    texts[number].decode("utf-8"),
                    assignments[src],
                    source_bytes[src].decode("utf-8"),
                    references[src],
                    {**options, "threads": threads, "executed_path": executed},
                    feedback=feedback_dir is not None,
                    private_lib=private_lib,
                )
            time.sleep(0.05)
            for number, worker in list(running.items()):
                outcome = worker.poll(heartbeat_timeout)
                if outcome is None:
                    continue
                del running[number]
                report, worker_cells = outcome
                finished(number, report, worker_cells)
    finally:
        for worker in running.values():
            worker.kill()
        bar.close()
        isolation.remove(batch_dir)
    return [r for r in reports if r is not None]


def _stem(path: Path, number: int) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{path.parent.name}_{path.stem}").strip("_.")
    return f"{number:03d}_{stem or 'submission'}"


def _write_atomic(path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class _Worker:
    """One grading worker process and what the grader knows about it."""

    def __init__(self, number, path, assignment, proc, key, token) -> None:
        self.number, self.path, self.assignment = number, path, assignment
        self.proc, self.key, self.token = proc, key, token
        self.last = time.monotonic()
        self.buffer = b""
        self.started = time.monotonic()

    @classmethod
    def start(
        cls, number, path, text, assignment, source_text, reference, options, *, feedback,
        private_lib,
    ):
        import pickle
        import subprocess

        key = secrets.token_hex(16)
        token = secrets.token_hex(16)
        options = {**options, "job_token": token}
        job = {
            "key": key,
            "name": str(path),
            "submission_text": text,
            "source_text": source_text,
            "source_path": str(assignment.path) if assignment.path else None,
            "lesson": assignment.name,
            "options": {**options, "reference": reference},
            "feedback": feedback,
        }
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(private_lib), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        proc = isolation.start_helper(
            "kplearn.assignments.worker",
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=str(private_lib.parent),
        )
        proc.stdin.write(pickle.dumps(job))
        proc.stdin.close()
        os.set_blocking(proc.stdout.fileno(), False)
        return cls(number, path, assignment, proc, key, token)

    def poll(self, heartbeat_timeout: float):
        """``(report, cells)`` once the worker is done (or failed); None while it runs."""
        try:
            while True:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                if not chunk:
                    break
                self.buffer += chunk
                if len(self.buffer) > 512 * 1024 * 1024:
                    return self._fail("the worker wrote too much")
        except BlockingIOError:
            pass
        except OSError:
            pass
        while b"\n" in self.buffer:
            line, _, self.buffer = self.buffer.partition(b"\n")
            message = verify(self.key, line.decode("utf-8", "replace"))
            if message is None:
                continue  # not signed by the worker: written into its pipe by something else
            self.last = time.monotonic()
            if message.get("type") == "report":
                self.kill()
                return _report_from_dict(message["report"]), message.get("cells")
            if message.get("type") == "error":
                self.kill()
                return self._report(str(message.get("error"))), None
        code = self.proc.poll()
        if code is not None:
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            return self._fail(f"the grading worker ended ({how}) before reporting")
        if isolation.is_stopped(self.proc.pid):
            return self._fail("the grading worker was stopped (SIGSTOP) by the submission")
        if time.monotonic() - self.last > heartbeat_timeout:
            return self._fail(f"the grading worker was silent for {heartbeat_timeout:.0f} s")
        return None

    def _report(self, error: str) -> GradeReport:
        return _empty_report(
            self.path, self.assignment, time.monotonic() - self.started, error
        )

    def _fail(self, error: str):
        self.kill()
        return self._report(error), None

    def kill(self) -> None:
        isolation.kill_tree(self.proc.pid)
        isolation.kill_marked(self.token)  # what left the worker's tree (an orphaned kernel)
        try:
            self.proc.wait(timeout=10)
        except Exception:
            pass
        try:
            self.proc.stdout.close()
        except OSError:
            pass


def _report_from_dict(data: dict) -> GradeReport:
    exercises = {
        gid: ExerciseResult(
            gid, int(e["points"]), int(e["max_points"]), str(e["status"]), str(e["message"]),
            None if e.get("answer") is None else str(e["answer"]),
        )
        for gid, e in data["exercises"].items()
    }
    return GradeReport(
        notebook=str(data["notebook"]),
        source=str(data["source"]),
        lesson=str(data["lesson"]),
        total=int(data["total"]),
        max_total=int(data["max_total"]),
        exercises=exercises,
        seconds=float(data["seconds"]),
        warnings=[str(w) for w in data.get("warnings", [])],
        error=data.get("error"),
    )


def format_table(report: GradeReport) -> str:
    """The report as lines of text: header, one row per exercise, total, warnings."""
    lines = [f"{report.notebook}  (lesson {report.lesson}, {report.seconds:.1f} s)"]
    if report.error:
        lines.append(f"  not graded: {report.error}")
    width = max([len("exercise")] + [len(gid) for gid in report.exercises])
    lines.append(f"  {'exercise':<{width}}  {'points':>7}  {'status':<11}  message")
    for gid, res in report.exercises.items():
        points = f"-/{res.max_points}" if res.pending else f"{res.points}/{res.max_points}"
        lines.append(f"  {gid:<{width}}  {points:>7}  {res.status:<11}  {res.message}".rstrip())
    total = f"  {'total':<{width}}  {f'{report.total}/{report.max_total}':>7}"
    if report.pending:
        total += f"  ({report.pending} points of written answers to be marked by the instructor)"
    lines.append(total)
    for warning in report.warnings:
        lines.append(f"  note: {warning}")
    return "\n".join(lines)
