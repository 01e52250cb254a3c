"""Read the exercise markup of an instructor notebook.

An instructor notebook marks each exercise with nbgrader's comment markers
(see ``exercise_convention`` in the course's contributor notes):

- a **solution cell** is a code cell whose answer lines sit between a
  ``### BEGIN SOLUTION`` and a ``### END SOLUTION`` line (each marker alone on
  its line, indented like the code it encloses). Optional cell metadata
  ``{"kplearn": {"solution": true, "exercise": "ex1", "stub": "value", "hint": "..."}}``;
  without ``exercise`` the cell belongs to the next test cell's exercise.
- a **test cell** is a code cell that checks one exercise. It carries its
  grade id and points in the cell metadata ``{"kplearn": {"grade_id": "ex1",
  "points": 2}}`` or in its first line ``# Test ex1 (2 points)`` (or both, then
  they must agree). Checks between ``### BEGIN HIDDEN TESTS`` and
  ``### END HIDDEN TESTS`` are left out of the student version and put back
  at grading time.
- a **written answer** is a markdown cell holding the instructor's model
  answer to a question asked in the cells before it, with cell metadata
  ``{"kplearn": {"written": true, "grade_id": "q1", "points": 2}}``. The
  student version replaces the whole cell by :data:`ANSWER_STUB` (``YOUR
  ANSWER HERE``, as nbgrader does); the grader never scores it: the report
  lists it as ``manual`` (to be marked by the instructor) with the student's
  text. Grade ids are unique across test cells and written answers.

:func:`parse_assignment` validates all of this and returns an
:class:`Assignment`; any mistake raises :class:`MarkupError` naming the
notebook and the cell.

Examples
--------
>>> import nbformat
>>> nb = nbformat.v4.new_notebook()
>>> nb.cells = [
...     nbformat.v4.new_code_cell(
...         "def double(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION"
...     ),
...     nbformat.v4.new_code_cell("# Test ex1 (2 points)\\nassert double(2) == 4"),
... ]
>>> assignment = parse_assignment(nb, name="demo")
>>> [(t.grade_id, t.points) for t in assignment.tests], assignment.solutions[0].exercise
([('ex1', 2)], 'ex1')

A written question, marked by the instructor:

>>> nb.cells += [
...     nbformat.v4.new_markdown_cell("**Question q1 (1 point).** Why is `double` linear?"),
...     nbformat.v4.new_markdown_cell(
...         "Because 2(a + b) = 2a + 2b.",
...         metadata={"kplearn": {"written": True, "grade_id": "q1", "points": 1}},
...     ),
... ]
>>> assignment = parse_assignment(nb, name="demo")
>>> [(w.grade_id, w.points, w.index) for w in assignment.written], assignment.max_points
([('q1', 1, 3)], 3)
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "BEGIN_HIDDEN",
    "END_HIDDEN",
    "MarkupError",
    "Region",
    "SolutionCell",
    "TestCell",
    "WrittenAnswer",
    "ANSWER_STUB",
    "Assignment",
    "read_notebook",
    "parse_assignment",
    "read_assignment",
    "find_regions",
    "source_checksum",
    "parse_test_header",
    "compile_cell",
    "stub_line",
    "student_source",
    "test_source",
    "EXAMPLE_SOURCES",
    "example_notebook",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
#: What a written answer's cell holds in the student version (nbgrader's ``text_stub``).
ANSWER_STUB = "YOUR ANSWER HERE"

# Any mention of a marker, well-formed or not; a mention that is not a marker
# line is an error rather than something to guess about.
_MARKER_WORDS = re.compile(r"(BEGIN|END)\s+(SOLUTION|HIDDEN\s+TESTS)")
_MARKER_LINE = re.compile(
    r"^(?P<indent>[ \t]*)###[ \t]*(?P<word>BEGIN|END)[ \t]+(?P<what>SOLUTION|HIDDEN TESTS)[ \t]*$"
)
_TEST_HEADER = re.compile(
    r"^#\s*Test\s+(?P<id>[A-Za-z0-9_.\-]+)(?:\s*\(\s*(?P<points>[^)]*?)\s*points?\s*\))?\s*$",
)
_EXERCISE_HEADING = re.compile(
    r"^#+\s*Exercise\s+(?P<label>[^\s—–:-]+)\s*(?:[—–:-]+\s*(?P<title>.*?))?\s*(?:\(\s*\d+\s*points?\s*\))?\s*$",
    re.IGNORECASE,
)


class MarkupError(ValueError):
    """An instructor notebook's exercise markup is wrong (the message names notebook and cell)."""


@dataclass(frozen=True)
class Region:
    """Lines ``begin``..``end`` (the two marker lines, 0-based, inclusive) of a cell's source."""

    begin: int
    end: int
    indent: str


@dataclass(frozen=True)
class SolutionCell:
    """A code cell with solution regions.

    ``index`` is the cell's position in the notebook, ``stub`` is ``"raise"``
    (``raise NotImplementedError(message)``) or ``"value"`` (``name = ...``),
    ``label`` the exercise's number as the student reads it ("1").
    """

    index: int
    exercise: str
    regions: tuple[Region, ...]
    stub: str
    label: str
    hint: str


@dataclass(frozen=True)
class TestCell:
    """A graded test cell: grade id, points and hidden-test regions."""

    __test__ = False  # not a pytest test class

    index: int
    grade_id: str
    points: int
    hidden: tuple[Region, ...]


@dataclass(frozen=True)
class WrittenAnswer:
    """A markdown cell holding the model answer to a written question (marked by hand).

    ``index`` is the cell's position in the notebook; ``grade_id`` and
    ``points`` come from its ``kplearn`` metadata.
    """

    index: int
    grade_id: str
    points: int


@dataclass(frozen=True)
class Assignment:
    """The validated exercise markup of one instructor notebook.

    ``nb`` is the instructor notebook itself (an ``nbformat`` node), ``name``
    its stem (``"04_metrics"``), ``checksum`` a digest of its cells' sources
    (:func:`source_checksum`), ``parameters_index`` the position of the cell
    tagged ``parameters`` (or ``None``), ``written`` the written answers
    (marked by the instructor, never by the grader).
    """

    name: str
    path: Path | None
    nb: object
    checksum: str
    solutions: tuple[SolutionCell, ...]
    tests: tuple[TestCell, ...]
    parameters_index: int | None
    written: tuple[WrittenAnswer, ...] = ()

    @property
    def auto_points(self) -> int:
        """Sum of the points of all test cells (scored by the grader)."""
        return sum(test.points for test in self.tests)

    @property
    def manual_points(self) -> int:
        """Sum of the points of all written answers (marked by the instructor)."""
        return sum(answer.points for answer in self.written)

    @property
    def max_points(self) -> int:
        """All points of the lesson: test cells and written answers (nbgrader's max score)."""
        return self.auto_points + self.manual_points

    @property
    def grade_ids(self) -> tuple[str, ...]:
        """Grade ids of the test cells, in notebook order."""
        return tuple(test.grade_id for test in self.tests)

    @property
    def written_ids(self) -> tuple[str, ...]:
        """Grade ids of the written answers, in notebook order."""
        return tuple(answer.grade_id for answer in self.written)

    @property
    def all_ids(self) -> tuple[str, ...]:
        """Grade ids of test cells and written answers together, in notebook order."""
        items = [(t.index, t.grade_id) for t in self.tests]
        items += [(w.index, w.grade_id) for w in self.written]
        return tuple(gid for _, gid in sorted(items))

    def answer(self, grade_id: str) -> WrittenAnswer:
        """The written answer with ``grade_id`` (``KeyError`` if there is none)."""
        for answer in self.written:
            if answer.grade_id == grade_id:
                return answer
        raise KeyError(
            f"{self.name} has no written answer {grade_id!r}; it has {list(self.written_ids)}"
        )

    def test(self, grade_id: str) -> TestCell:
        """The test cell with ``grade_id`` (``KeyError`` if there is none)."""
        for test in self.tests:
            if test.grade_id == grade_id:
                return test
        raise KeyError(f"{self.name} has no test cell {grade_id!r}; it has {list(self.grade_ids)}")


def read_notebook(path: str | Path):
    """Read an ``.ipynb`` file as an nbformat v4 node, with a clear error if it is not one."""
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook {path} does not exist")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises several types for bad JSON / bad schema
        raise ValueError(f"{path} is not a readable notebook: {err}") from None
    if not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path} is not a notebook: it has no list of cells")
    return nb


def _where(name: str, index: int) -> str:
    return f"{name}, cell {index + 1}"


def find_regions(source: str, begin: str, end: str, *, where: str = "cell") -> list[Region]:
    """Regions between ``begin`` and ``end`` marker lines of ``source``.

    Raises :class:`MarkupError` for a marker that is not alone on its line,
    an ``END`` without ``BEGIN``, a ``BEGIN`` inside a region, a region never
    closed, or an empty region.

    Examples
    --------
    >>> find_regions("a\\n  ### BEGIN SOLUTION\\n  x = 1\\n  ### END SOLUTION\\n",
    ...              BEGIN_SOLUTION, END_SOLUTION)
    [Region(begin=1, end=3, indent='  ')]
    """
    lines = source.splitlines()
    regions: list[Region] = []
    open_at: int | None = None
    indent = ""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped == begin:
            if open_at is not None:
                raise MarkupError(
                    f"{where}: {begin!r} on line {i + 1} inside the region opened on line {open_at + 1}"
                )
            open_at, indent = i, line[: len(line) - len(line.lstrip())]
        elif stripped == end:
            if open_at is None:
                raise MarkupError(f"{where}: {end!r} on line {i + 1} without a {begin!r} before it")
            body = [text for text in lines[open_at + 1 : i] if text.strip()]
            if not body:
                raise MarkupError(f"{where}: empty region between lines {open_at + 1} and {i + 1}")
            regions.append(Region(open_at, i, indent))
            open_at = None
    if open_at is not None:
        raise MarkupError(f"{where}: {begin!r} on line {open_at + 1} is never closed by {end!r}")
    return regions


def _check_marker_lines(source: str, where: str) -> tuple[bool, bool]:
    """Reject malformed marker mentions; say whether solution / hidden markers occur."""
    has_solution = has_hidden = False
    for i, line in enumerate(source.splitlines()):
        if not _MARKER_WORDS.search(line):
            continue
        match = _MARKER_LINE.match(line)
        if not match:
            raise MarkupError(
                f"{where}, line {i + 1}: marker text in {line.strip()!r}; a marker must be a line "
                f"of its own, exactly {BEGIN_SOLUTION!r}, {END_SOLUTION!r}, {BEGIN_HIDDEN!r} or "
                f"{END_HIDDEN!r}"
            )
        if match["what"] == "SOLUTION":
            has_solution = True
        else:
            has_hidden = True
    return has_solution, has_hidden


def parse_test_header(source: str) -> tuple[str, int | None] | None:
    """``(grade_id, points)`` from a first line ``# Test ex1 (2 points)``; ``None`` if absent.

    Points are ``None`` when the line gives none (``# Test ex1``); malformed
    points raise :class:`MarkupError`.

    Examples
    --------
    >>> parse_test_header("# Test ex2 (3 points)\\nassert True")
    ('ex2', 3)
    """
    first = source.lstrip("\n").split("\n", 1)[0].strip()
    match = _TEST_HEADER.match(first)
    if not match:
        return None
    points = match["points"]
    if points is None:
        return match["id"], None
    if not points.isdigit():
        raise MarkupError(f"test header {first!r}: points must be a whole number")
    return match["id"], int(points)


def _points(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise MarkupError(f"{where}: points must be a whole number, got {value!r}")
    if value < 1:
        raise MarkupError(f"{where}: points must be at least 1, got {value!r}")
    return int(value)


def compile_cell(source: str, where: str = "cell") -> None:
    """Compile a code cell's source as IPython would (magics allowed); ``SyntaxError`` names ``where``."""
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(source)
    try:
        compile(python, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as err:
        raise SyntaxError(f"{where}: line {err.lineno}: {err.msg}") from None


def _single_assignment(lines: list[str], where: str) -> str:
    """The target name of a region that is exactly one ``name = <expr>`` statement."""
    import textwrap

    code = textwrap.dedent("\n".join(lines))
    try:
        tree = ast.parse(code)
    except SyntaxError as err:
        raise MarkupError(f"{where}: the solution region does not parse ({err.msg})") from None
    if (
        len(tree.body) != 1
        or not isinstance(tree.body[0], ast.Assign | ast.AnnAssign)
        or isinstance(tree.body[0], ast.Assign)
        and (len(tree.body[0].targets) != 1 or not isinstance(tree.body[0].targets[0], ast.Name))
        or isinstance(tree.body[0], ast.AnnAssign)
        and not isinstance(tree.body[0].target, ast.Name)
    ):
        raise MarkupError(
            f'{where}: "stub": "value" needs a region that is one assignment `name = <expr>`'
        )
    node = tree.body[0]
    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
    return target.id


def source_checksum(nb) -> str:
    """``sha256:<hex>`` of the cells' types, sources and ``kplearn`` metadata (outputs ignored).

    Refreshing outputs leaves it unchanged; editing any cell changes it.
    """
    content = [
        [cell.get("cell_type"), cell.get("source", ""), cell.get("metadata", {}).get("kplearn", {})]
        for cell in nb.cells
    ]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8"))
    return "sha256:" + digest.hexdigest()


def _exercise_heading(nb, index: int) -> tuple[str, str] | None:
    """``(label, title)`` from the nearest markdown "Exercise N — title" before cell ``index``."""
    for j in range(index - 1, -1, -1):
        cell = nb.cells[j]
        if cell.cell_type == "code":
            return None
        if cell.cell_type != "markdown":
            continue
        for line in reversed(cell.source.splitlines()):
            match = _EXERCISE_HEADING.match(line.strip())
            if match:
                return match["label"], (match["title"] or "").strip()
    return None


def _claim_grade_id(seen_ids: dict[str, int], grade_id: str, index: int, where: str) -> None:
    """Record that cell ``index`` uses ``grade_id``; a grade id used twice is a :class:`MarkupError`."""
    if grade_id in seen_ids:
        raise MarkupError(f"{where}: grade id {grade_id!r} is already used by cell {seen_ids[grade_id] + 1}")
    seen_ids[grade_id] = index


def parse_assignment(nb, *, name: str = "notebook", path: str | Path | None = None) -> Assignment:
    """Validate the exercise markup of an instructor notebook and describe it.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The instructor notebook (version 4).
    name : str
        Used in error messages and as :attr:`Assignment.name`.
    path : path, optional
        Where the notebook was read from.

    Raises
    ------
    MarkupError
        Unbalanced or malformed markers, solution markers outside code cells or
        inside test cells, hidden-test markers outside test cells, duplicate
        grade ids, missing or bad points, a header and metadata that disagree,
        an exercise without a test cell, or a cell that no longer compiles once
        released.
    """
    if not nb.cells:
        raise MarkupError(f"{name}: the notebook has no cells")
    tests: list[TestCell] = []
    written: list[WrittenAnswer] = []
    raw_solutions: list[tuple[int, str | None, tuple[Region, ...], str, str | None]] = []
    parameters_index = None
    seen_ids: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        where = _where(name, index)
        source = cell.get("source", "")
        meta = cell.get("metadata", {}).get("kplearn", {})
        if not isinstance(meta, dict):
            raise MarkupError(f"{where}: metadata 'kplearn' must be a mapping, got {meta!r}")
        has_solution, has_hidden = _check_marker_lines(source, where)
        if "written" in meta:
            answer = _parse_written(cell, index, meta, has_solution or has_hidden, where)
            _claim_grade_id(seen_ids, answer.grade_id, index, where)
            written.append(answer)
            continue
        if cell.cell_type != "code":
            if has_solution or has_hidden or meta.get("grade_id") or meta.get("solution"):
                raise MarkupError(
                    f"{where}: a {cell.cell_type} cell carries exercise markup; "
                    "solutions and tests must be code cells (a written answer is a markdown "
                    'cell with metadata kplearn.written: true)'
                )
            continue
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            if has_solution or has_hidden:
                raise MarkupError(f"{where}: the parameters cell must not hold exercise markers")
            parameters_index = index
        header = parse_test_header(source)
        if header is not None and header[1] is None and "grade_id" not in meta:
            header = None  # a comment like "# Test it" is no test header without points
        if header is not None or "grade_id" in meta or "points" in meta:
            test = _parse_test(cell, index, header, meta, has_solution, where)
            _claim_grade_id(seen_ids, test.grade_id, index, where)
            tests.append(test)
            continue
        if has_hidden:
            raise MarkupError(
                f"{where}: {BEGIN_HIDDEN!r} outside a test cell (a test cell has "
                "metadata kplearn.grade_id/points or a first line '# Test ex1 (2 points)')"
            )
        if not has_solution:
            if meta.get("solution"):
                raise MarkupError(
                    f"{where}: marked as a solution cell but has no {BEGIN_SOLUTION!r}"
                )
            continue
        regions = tuple(find_regions(source, BEGIN_SOLUTION, END_SOLUTION, where=where))
        stub = meta.get("stub", "raise")
        if stub not in ("raise", "value"):
            raise MarkupError(f"{where}: kplearn.stub must be 'raise' or 'value', got {stub!r}")
        if stub == "value":
            lines = source.splitlines()
            for region in regions:
                _single_assignment(lines[region.begin + 1 : region.end], where)
        exercise = meta.get("exercise")
        if exercise is not None and (not isinstance(exercise, str) or not exercise):
            raise MarkupError(f"{where}: kplearn.exercise must be a non-empty string")
        raw_solutions.append((index, exercise, regions, stub, meta.get("hint")))

    if not tests:
        raise MarkupError(
            f"{name}: no test cells (metadata kplearn.grade_id or '# Test ex1 (2 points)')"
        )
    solutions = []
    for index, exercise, regions, stub, hint in raw_solutions:
        where = _where(name, index)
        if exercise is None:
            following = [test for test in tests if test.index > index]
            if not following:
                raise MarkupError(
                    f"{where}: a solution cell with no test cell after it "
                    "(set metadata kplearn.exercise to the grade id it belongs to)"
                )
            exercise = following[0].grade_id
        elif exercise not in seen_ids or exercise not in {t.grade_id for t in tests}:
            raise MarkupError(f"{where}: exercise {exercise!r} has no test cell with that grade id")
        heading = _exercise_heading(nb, index)
        label = heading[0] if heading else exercise
        if not isinstance(hint, str) or not hint.strip():
            hint = heading[1] if heading and heading[1] else "replace this line with your solution"
        solutions.append(SolutionCell(index, exercise, regions, stub, label, hint.strip()))

    assignment = Assignment(
        name=name,
        path=Path(path) if path is not None else None,
        nb=nb,
        checksum=source_checksum(nb),
        solutions=tuple(solutions),
        tests=tuple(tests),
        parameters_index=parameters_index,
        written=tuple(written),
    )
    _check_solution_ids(assignment)
    _check_released_cells_compile(assignment)
    return assignment


def _parse_written(cell, index: int, meta: dict, has_markers: bool, where: str) -> WrittenAnswer:
    """Validate a written answer's cell (module docstring) and describe it."""
    if meta.get("written") is not True:
        raise MarkupError(f"{where}: kplearn.written must be true, got {meta.get('written')!r}")
    if cell.cell_type != "markdown":
        raise MarkupError(
            f"{where}: a written answer must be a markdown cell, not a {cell.cell_type} cell"
        )
    if has_markers:
        raise MarkupError(
            f"{where}: a written answer holds no solution or hidden-test markers "
            "(the whole cell is the model answer)"
        )
    extra = sorted(set(meta) - {"written", "grade_id", "points"})
    if extra:
        raise MarkupError(f"{where}: a written answer takes no kplearn metadata {extra}")
    grade_id = meta.get("grade_id")
    if not isinstance(grade_id, str) or not re.fullmatch(r"[A-Za-z0-9_.\-]+", grade_id):
        raise MarkupError(
            f"{where}: a written answer needs kplearn.grade_id (letters, digits, '_.-'), "
            f"got {grade_id!r}"
        )
    if "points" not in meta:
        raise MarkupError(f"{where}: written answer {grade_id!r} has no kplearn.points")
    points = _points(meta["points"], where)
    text = cell.get("source", "").strip()
    if not text or text == ANSWER_STUB:
        raise MarkupError(
            f"{where}: written answer {grade_id!r} holds no model answer for the instructor"
        )
    return WrittenAnswer(index, grade_id, points)


def _check_solution_ids(assignment: Assignment) -> None:
    """nbgrader names solution cells ``<exercise>_solution``: no written answer may take such a name."""
    solution_ids = {f"{s.exercise}_solution" for s in assignment.solutions}
    for answer in assignment.written:
        if answer.grade_id in solution_ids or re.fullmatch(r".+_solution(_\d+)?", answer.grade_id):
            raise MarkupError(
                f"{_where(assignment.name, answer.index)}: grade id {answer.grade_id!r} ends in "
                "'_solution', which names solution cells in nbgrader's metadata"
            )


def _parse_test(cell, index, header, meta, has_solution, where) -> TestCell:
    if has_solution:
        raise MarkupError(f"{where}: a test cell must not hold {BEGIN_SOLUTION!r} (it only checks)")
    grade_id = meta.get("grade_id")
    points = meta.get("points")
    if grade_id is not None and (not isinstance(grade_id, str) or not grade_id.strip()):
        raise MarkupError(f"{where}: kplearn.grade_id must be a non-empty string, got {grade_id!r}")
    if header is not None:
        head_id, head_points = header
        if grade_id is not None and grade_id != head_id:
            raise MarkupError(
                f"{where}: first line says test {head_id!r} but metadata grade_id is {grade_id!r}"
            )
        if points is not None and head_points is not None and _points(points, where) != head_points:
            raise MarkupError(
                f"{where}: first line says {head_points} points but metadata says {points}"
            )
        grade_id = grade_id or head_id
        points = points if points is not None else head_points
    if grade_id is None:
        raise MarkupError(f"{where}: metadata kplearn.points without kplearn.grade_id")
    if points is None:
        raise MarkupError(
            f"{where}: test {grade_id!r} has no points (metadata kplearn.points or "
            f"first line '# Test {grade_id} (2 points)')"
        )
    hidden = tuple(find_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, where=where))
    return TestCell(index, grade_id, _points(points, where), hidden)


def stub_line(solution: SolutionCell, region_lines: list[str], indent: str) -> str:
    """The line that replaces one solution region (without a newline)."""
    if solution.stub == "value":
        name = _single_assignment(region_lines, f"exercise {solution.exercise}")
        return f"{indent}{name} = ...  # YOUR CODE HERE"
    message = f"Exercise {solution.label}: {solution.hint}"
    # A double-quoted literal, as a person would write it.
    return f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"


def student_source(source: str, solution: SolutionCell) -> str:
    """``source`` with each solution region (markers included) replaced by its stub line."""
    lines = source.splitlines()
    out: list[str] = []
    position = 0
    for region in solution.regions:
        out.extend(lines[position : region.begin])
        out.append(stub_line(solution, lines[region.begin + 1 : region.end], region.indent))
        position = region.end + 1
    out.extend(lines[position:])
    return "\n".join(out)


def test_source(source: str, test: TestCell) -> str:
    """``source`` without its hidden-test regions (markers included)."""
    lines = source.splitlines()
    hidden = {i for region in test.hidden for i in range(region.begin, region.end + 1)}
    return "\n".join(line for i, line in enumerate(lines) if i not in hidden)


test_source.__test__ = False  # not a pytest test function


def _check_released_cells_compile(assignment: Assignment) -> None:
    # Solution cells first, then test cells, each with the function that releases it.
    released = [(cell, student_source) for cell in assignment.solutions]
    released += [(cell, test_source) for cell in assignment.tests]
    for cell, release in released:
        where = _where(assignment.name, cell.index)
        source = assignment.nb.cells[cell.index].source
        for text, what in ((source, "instructor"), (release(source, cell), "student")):
            try:
                compile_cell(text, where)
            except SyntaxError as err:
                raise MarkupError(f"{err} (in the {what} version)") from None


#: Cell sources of the one-exercise instructor notebook of the documentation's
#: examples: a solution cell and its test cell (2 points).
EXAMPLE_SOURCES = (
    "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
    "# Test ex1 (2 points)\nassert double(2) == 4",
)


def example_notebook(*sources: str):
    """A new nbformat v4 notebook of code cells with ``sources`` (default :data:`EXAMPLE_SOURCES`).

    The examples of :mod:`kplearn.assignments` and :mod:`kplearn.pages` build
    their instructor notebook with it.

    Examples
    --------
    >>> nb = example_notebook()
    >>> print(nb.cells[0].source)
    def double(x):
        ### BEGIN SOLUTION
        return 2 * x
        ### END SOLUTION
    >>> [cell.source for cell in example_notebook("x = 1").cells]
    ['x = 1']
    """
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources or EXAMPLE_SOURCES]
    return nb


def read_assignment(path: str | Path) -> Assignment:
    """Read and validate an instructor notebook (:func:`parse_assignment`)."""
    path = Path(path)
    return parse_assignment(read_notebook(path), name=path.stem, path=path)
