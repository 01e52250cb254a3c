"""kplearn.assignments: exercise markup, student release, grading (issue #8).

The grading matrix runs on tests/fixtures/assignments/01_tiny.ipynb (three pure-numpy
exercises worth 1, 2 and 3 points) and hand-made submissions (see make_fixtures.py there);
every expected score below is worked out by hand from what each submission does. The real
lessons are released and checked line by line; one of them is graded end to end (slow).
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import json
import re
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kplearn.assignments import (
    MarkupError,
    build_graded_notebook,
    find_source,
    grade_submission,
    parse_assignment,
    read_assignment,
    release,
    release_notebook,
)
from kplearn.cli import main
from kplearn.lessons import find_lessons

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "assignments"
TINY = FIXTURES / "01_tiny.ipynb"
SUBMISSIONS = FIXTURES / "submissions"
LESSONS = find_lessons(REPO / "notebooks") if (REPO / "notebooks").is_dir() else []

# Every fixture cell takes milliseconds; the limits only cost time where a cell loops, so
# those submissions get a short one (5 s is still ample for `import numpy` on a busy machine).
LIMITS = {"cell_timeout": 20.0, "timeout": 120.0, "interrupt_grace": 2.0}
LOOP_LIMITS = {"cell_timeout": 5.0, "timeout": 120.0, "interrupt_grace": 1.0}


@functools.cache
def tiny_reference():
    """The reference run of the tiny fixture, made once (one kernel) for all tests here."""
    from kplearn.assignments.protected import capture_reference

    return capture_reference(read_assignment(TINY))


# --- an independent reading of the markers (not kplearn's) ----------------------------
def marked_lines(source: str) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """(lines outside any region, solution regions, hidden regions) of a cell's source."""
    outside, solutions, hidden = [], [], []
    current = None
    for line in source.splitlines():
        text = line.strip()
        if text in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
            current = []
            (solutions if "SOLUTION" in text else hidden).append(current)
            outside.append("<SOLUTION>" if "SOLUTION" in text else "<HIDDEN>")
        elif text in ("### END SOLUTION", "### END HIDDEN TESTS"):
            current = None
        elif current is not None:
            current.append(line)
        else:
            outside.append(line)
    return outside, solutions, hidden


STUB_RAISE = re.compile(r'^\s*raise NotImplementedError\("Exercise [^"]+: [^"]+"\)$')
STUB_VALUE = re.compile(r"^\s*[A-Za-z_]\w* = \.\.\.  # YOUR CODE HERE$")


def check_student_version(instructor, student) -> int:
    """Every student cell is its instructor cell with solution regions stubbed and hidden
    regions removed, no solution or hidden line survives anywhere; returns the stub count."""
    assert len(student.cells) == len(instructor.cells)
    secret, public = set(), set()
    stubs = 0
    def written(cell) -> bool:
        return bool(cell.get("metadata", {}).get("kplearn", {}).get("written"))

    for cell in instructor.cells:
        if written(cell):  # a model answer: all of it is the instructor's
            secret.update(line.strip() for line in cell.source.splitlines())
            continue
        outside, solutions, hidden = marked_lines(cell.source)
        public.update(line.strip() for line in outside)
        secret.update(line.strip() for region in solutions + hidden for line in region)
    secret = {line for line in secret if line and line not in public}
    for icell, scell in zip(instructor.cells, student.cells, strict=True):
        assert scell.cell_type == icell.cell_type
        if written(icell):
            assert scell.cell_type == "markdown" and scell.source == "YOUR ANSWER HERE"
            continue
        outside, _, _ = marked_lines(icell.source)
        expected = [line for line in outside if line != "<HIDDEN>"]
        got = scell.source.splitlines()
        assert len(got) == len(expected), f"cell changed shape:\n{scell.source}"
        for want, line in zip(expected, got, strict=True):
            if want == "<SOLUTION>":
                assert STUB_RAISE.match(line) or STUB_VALUE.match(line), line
                stubs += 1
            else:
                assert line == want
        if scell.cell_type == "code":
            assert scell.outputs == [] and scell.execution_count is None
        for line in got:
            assert line.strip() not in secret, f"solution/hidden line leaked: {line!r}"
    text = json.dumps(student)
    for word in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS"):
        assert word not in text
    for line in secret:
        if len(line) >= 12:
            assert json.dumps(line)[1:-1] not in text, f"leaked into the file: {line!r}"
    return stubs


class Anything:
    """Stands for every value a cell takes from earlier cells: any use gives another one."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Anything()

    def __call__(self, *args, **kwargs):
        return Anything()

    def __getitem__(self, key):
        return Anything()

    def __setitem__(self, key, value):
        pass

    def __iter__(self):
        return iter((Anything(), Anything()))

    def __len__(self):
        return 2

    def __bool__(self):
        return True

    def __index__(self):
        return 2

    __int__ = __index__

    def __float__(self):
        return 2.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


for _op in (
    "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift "
    "radd rsub rmul rtruediv rfloordiv rmod rpow rmatmul neg pos abs invert "
    "lt le gt ge eq ne"
).split():
    setattr(Anything, f"__{_op}__", lambda self, *args: Anything())
Anything.__hash__ = object.__hash__


def stubs_raise(source: str, where: str) -> int:
    """Run a student solution cell on stand-ins for everything it does not define and call
    every function holding a stub; each stub must raise NotImplementedError. Returns the count."""
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(source)
    python = "\n".join(line for line in python.splitlines() if "get_ipython()" not in line)
    tree = ast.parse(python)

    def is_stub(node) -> bool:
        return (
            isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and getattr(node.exc.func, "id", "") == "NotImplementedError"
        )

    top_level = [node for node in tree.body if is_stub(node)]
    owners = []  # (class name or None, function name) of functions holding stubs
    for node in tree.body:
        methods = [(None, node)] if isinstance(node, ast.FunctionDef) else []
        if isinstance(node, ast.ClassDef):
            methods = [(node.name, m) for m in node.body if isinstance(m, ast.FunctionDef)]
        for owner, fn in methods:
            if any(is_stub(inner) for inner in ast.walk(fn)):
                owners.append((owner, fn))
    found = sum(is_stub(node) for node in ast.walk(tree))
    assert found == len(top_level) + sum(
        sum(is_stub(n) for n in ast.walk(fn)) for _, fn in owners
    ), f"{where}: a stub sits where this check cannot reach it"
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    namespace = {name: Anything() for name in names if not hasattr(builtins, name)}
    namespace["__name__"] = "__student__"
    code = compile(python, where, "exec")
    if top_level:
        with pytest.raises(NotImplementedError):
            exec(code, namespace)
        return found
    exec(code, namespace)
    for owner, fn in owners:
        target = namespace[fn.name] if owner is None else getattr(namespace[owner], fn.name)
        args = fn.args
        n_required = len(args.posonlyargs) + len(args.args) - len(args.defaults)
        kwargs = {
            a.arg: Anything()
            for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
            if d is None
        }
        with pytest.raises(NotImplementedError, match="Exercise"):
            target(*[Anything() for _ in range(n_required)], **kwargs)
    return found


def tiny():
    return nbformat.read(TINY, as_version=4)


# --- markup ---------------------------------------------------------------------------
def test_markup_of_the_fixture():
    a = read_assignment(TINY)
    assert a.name == "01_tiny"
    assert [(t.grade_id, t.points) for t in a.tests] == [("ex1", 1), ("ex2", 2), ("ex3", 3)]
    assert a.max_points == 6
    assert [(s.index, s.exercise, s.stub, s.label) for s in a.solutions] == [
        (4, "ex1", "raise", "1"),
        (7, "ex2", "value", "2"),  # exercise id inferred from the next test cell
        (10, "ex3", "raise", "3"),
    ]
    assert a.solutions[0].hint == "Euclidean distances"
    assert [len(t.hidden) for t in a.tests] == [1, 0, 1]
    assert a.parameters_index == 1


def _nb(*cells):
    nb = new_notebook()
    nb.cells = list(cells)
    return nb


SOLUTION = new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION")
TEST = new_code_cell("# Test ex1 (2 points)\nassert f(1) == 1")


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            [new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x"), TEST],
            r"cell 1: '### BEGIN SOLUTION' on line 2 is never closed",
        ),
        (
            [new_code_cell("x = 1\n### END SOLUTION"), TEST],
            r"cell 1: '### END SOLUTION' on line 2 without",
        ),
        (
            [
                new_code_cell(
                    "### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n"
                    "### END SOLUTION"
                ),
                TEST,
            ],
            r"cell 1: .* inside the region",
        ),
        (
            [new_code_cell("### BEGIN SOLUTION\n\n### END SOLUTION"), TEST],
            r"cell 1: empty region",
        ),
        (
            [new_code_cell("x = 1  ### BEGIN SOLUTION"), TEST],
            r"cell 1, line 1: marker text",
        ),
        (
            [SOLUTION, TEST, copy.deepcopy(TEST)],
            r"cell 3: grade id 'ex1' is already used by cell 2",
        ),
        (
            [
                SOLUTION,
                TEST,
                new_code_cell("### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS"),
            ],
            r"cell 3: '### BEGIN HIDDEN TESTS' outside a test cell",
        ),
        (
            [
                SOLUTION,
                new_code_cell("assert f(1) == 1", metadata={"kplearn": {"grade_id": "ex1"}}),
            ],
            r"cell 2: test 'ex1' has no points",
        ),
        (
            [
                SOLUTION,
                new_code_cell("assert 1", metadata={"kplearn": {"grade_id": "ex1", "points": 0}}),
            ],
            r"cell 2: points must be at least 1",
        ),
        (
            [
                SOLUTION,
                new_code_cell("assert 1", metadata={"kplearn": {"grade_id": "ex1", "points": 1.5}}),
            ],
            r"cell 2: points must be a whole number",
        ),
        (
            [
                SOLUTION,
                new_code_cell(
                    "# Test ex1 (2 points)\nassert 1",
                    metadata={"kplearn": {"grade_id": "ex1", "points": 3}},
                ),
            ],
            r"cell 2: first line says 2 points but metadata says 3",
        ),
        (
            [
                SOLUTION,
                new_code_cell(
                    "# Test ex9 (2 points)\nassert 1", metadata={"kplearn": {"grade_id": "ex1"}}
                ),
            ],
            r"cell 2: first line says test 'ex9' but metadata grade_id is 'ex1'",
        ),
        (
            [
                SOLUTION,
                new_code_cell("# Test ex1 (2 points)\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
            ],
            r"cell 2: a test cell must not hold",
        ),
        (
            [new_markdown_cell("### BEGIN SOLUTION\nanswer\n### END SOLUTION"), TEST],
            r"cell 1: a markdown cell carries exercise markup",
        ),
        (
            [
                new_code_cell(
                    "### BEGIN SOLUTION\nfor i in range(3):\n    print(i)\n### END SOLUTION",
                    metadata={"kplearn": {"stub": "value"}},
                ),
                TEST,
            ],
            r"cell 1: \"stub\": \"value\" needs a region that is one assignment",
        ),
        ([SOLUTION], r"no test cells"),
        ([TEST, SOLUTION], r"cell 2: a solution cell with no test cell after it"),
        (
            [
                new_code_cell(SOLUTION.source, metadata={"kplearn": {"exercise": "ex7"}}),
                TEST,
            ],
            r"cell 1: exercise 'ex7' has no test cell",
        ),
        (
            [
                SOLUTION,
                new_code_cell(
                    "# Test ex1 (2 points)\nif True:\n    ### BEGIN HIDDEN TESTS\n    assert 1\n"
                    "    ### END HIDDEN TESTS"
                ),
            ],
            r"cell 2: line \d+: .* \(in the student version\)",
        ),
        (
            [new_code_cell("x = 1", metadata={"kplearn": {"solution": True}}), TEST],
            r"cell 1: marked as a solution cell but has no",
        ),
    ],
)
def test_markup_errors_name_notebook_and_cell(cells, message):
    with pytest.raises(MarkupError, match=message) as info:
        parse_assignment(_nb(*cells), name="lesson_x")
    assert str(info.value).startswith("lesson_x")


def test_a_comment_starting_with_test_is_no_test_cell():
    nb = _nb(SOLUTION, new_code_cell("# Test it quickly\nprint(f(2))"), TEST)
    assert [t.index for t in parse_assignment(nb).tests] == [2]


# --- release --------------------------------------------------------------------------
def test_release_of_the_fixture_is_exactly_the_student_version():
    student = release_notebook(read_assignment(TINY))
    src = tiny()
    # Hand-written expectations for the changed cells; every other cell is unchanged.
    expected = {
        4: 'def distances(a, b):\n    """Euclidean distance between matching rows of ``a`` and ``b``."""\n'
        '    raise NotImplementedError("Exercise 1: Euclidean distances")',
        5: "# Test ex1 (1 point)\nnp.testing.assert_allclose(distances([[0, 0]], [[3, 4]]), [5.0])\n"
        'print("ex1 ok")',
        7: 'centroid = ...  # YOUR CODE HERE\nprint("centroid:", centroid)',
        10: "def fraction_within(pred, gt, radius):\n"
        '    """Fraction of rows of ``pred`` closer than ``radius`` to the matching row of ``gt``."""\n'
        '    raise NotImplementedError("Exercise 3: Fraction within a radius")',
        11: "# Test ex3 (3 points)\n"
        "assert fraction_within([[0, 0], [3, 4]], [[0, 0], [0, 0]], 1.0) == 0.5\n"
        'print("ex3 ok")',
    }
    for i, (scell, icell) in enumerate(zip(student.cells, src.cells, strict=True)):
        assert scell.source == expected.get(i, icell.source), f"cell {i}"
    assert student.cells[8].metadata["kplearn"] == {"grade_id": "ex2", "points": 2}
    assert student.cells[7].metadata["kplearn"] == {
        "solution": True,
        "exercise": "ex2",
        "stub": "value",
    }
    assert check_student_version(src, student) == 3
    block = student.metadata["kplearn_assignment"]
    assert block["lesson"] == "01_tiny"
    assert block["exercises"] == {"ex1": 1, "ex2": 2, "ex3": 3}
    assert block["source_checksum"].startswith("sha256:")
    assert src.cells[4].source.count("BEGIN SOLUTION") == 1  # the source is left alone


def test_checksum_follows_the_sources_not_the_outputs():
    a = parse_assignment(tiny())
    with_outputs = tiny()
    with_outputs.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x")]
    with_outputs.cells[2].execution_count = 3
    edited = tiny()
    edited.cells[11].source = edited.cells[11].source.replace("1e-9", "1e-8")
    assert parse_assignment(with_outputs).checksum == a.checksum
    assert parse_assignment(edited).checksum != a.checksum


def test_release_clears_outputs_and_writes_files(tmp_path):
    nb = tiny()
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="secret 42")]
    nb.cells[2].execution_count = 7
    nbformat.write(nb, tmp_path / "01_tiny.ipynb")
    written = release([tmp_path / "01_tiny.ipynb"], tmp_path / "out", progress=False)
    assert written == [tmp_path / "out" / "01_tiny.ipynb"]
    student = nbformat.read(written[0], as_version=4)
    assert student.cells[2].outputs == [] and student.cells[2].execution_count is None
    assert "secret 42" not in written[0].read_text()
    with pytest.raises(ValueError, match="instructor notebooks' folder"):
        release([tmp_path / "01_tiny.ipynb"], tmp_path, progress=False)


def test_release_writes_nothing_when_one_notebook_is_wrong(tmp_path):
    bad = tiny()
    bad.cells[4].source = bad.cells[4].source.replace("    ### END SOLUTION", "")
    nbformat.write(tiny(), tmp_path / "01_good.ipynb")
    nbformat.write(bad, tmp_path / "02_bad.ipynb")
    with pytest.raises(MarkupError, match=r"02_bad, cell 5: .* never closed"):
        release([tmp_path / "01_good.ipynb", tmp_path / "02_bad.ipynb"], tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_assignment(tmp_path / "missing.ipynb")
    (tmp_path / "03_junk.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match="not a readable notebook"):
        read_assignment(tmp_path / "03_junk.ipynb")


# --- the graded notebook (no kernel) --------------------------------------------------
def test_graded_notebook_puts_tests_back_and_never_uses_instructor_solutions():
    a = read_assignment(TINY)
    submission = nbformat.read(SUBMISSIONS / "deleted_test.ipynb", as_version=4)
    submission.cells[1].source = "QUICK = False\nSEED = 123"
    plan = build_graded_notebook(submission, a, token="t0k3n")
    sources = [cell.source for cell in plan.nb.cells]
    # The student's cells in order (9 after deleting ex2's test), two tests put back.
    assert len(sources) == len(submission.cells) + 2
    assert sorted(plan.tests.values()) == ["ex1", "ex2", "ex3"]
    position = {gid: i for i, gid in plan.tests.items()}
    # ex2's test right after the student's ex2 solution cell, ex3's after ex3's solution.
    assert sources[position["ex2"] - 1] == "centroid = points.max(axis=0)"
    assert sources[position["ex3"] - 1].endswith("return 1.0")
    for gid, i in position.items():
        full = a.nb.cells[a.test(gid).index].source
        assert sources[i].startswith(full) and "t0k3n" in sources[i]
    # The gutted ex3_mine cell still runs, as an ordinary cell.
    assert '# My test\nprint("ex3 ok")' in sources
    assert sources[1] == "QUICK = True\nSEED = 0"  # parameters reset to the lesson's
    _, solutions, _ = marked_lines("\n".join(c.source for c in a.nb.cells))
    instructor_solution_lines = {line.strip() for region in solutions for line in region}
    for source in sources:
        for line in source.splitlines():
            assert line.strip() not in instructor_solution_lines
    assert any("'ex2' was missing" in w for w in plan.warnings)
    assert any("ex3_mine" in w for w in plan.warnings)
    assert any("parameters cell was edited" in w for w in plan.warnings)


def test_graded_notebook_drops_injected_parameters_and_applies_the_graders():
    a = read_assignment(TINY)
    submission = tiny()
    submission.cells.insert(
        2, new_code_cell("QUICK = False", metadata={"tags": ["injected-parameters"]})
    )
    plan = build_graded_notebook(submission, a, parameters={"SEED": 3})
    sources = [cell.source for cell in plan.nb.cells]
    assert "QUICK = False" not in sources
    assert sources[1] == "QUICK = True\nSEED = 0"
    assert sources[2].endswith("SEED = 3")
    assert len(sources) == len(tiny().cells) + 1
    assert any("cell 3 holds injected parameters" in w for w in plan.warnings)


def test_graded_notebook_with_every_cell_deleted_still_has_every_test():
    a = read_assignment(TINY)
    plan = build_graded_notebook(new_notebook(), a, token="x")
    assert list(plan.tests.values()) == ["ex1", "ex2", "ex3"]
    assert plan.nb.cells[0].source == "QUICK = True\nSEED = 0"


def test_find_source(tmp_path):
    assert find_source(tmp_path / "01_tiny.ipynb", FIXTURES) == TINY
    assert find_source(tmp_path / "alice_01_tiny_v2.ipynb", FIXTURES) == TINY
    assert find_source(SUBMISSIONS / "partial.ipynb", FIXTURES) == TINY  # by metadata
    nbformat.write(new_notebook(), tmp_path / "work.ipynb")
    with pytest.raises(ValueError, match="cannot tell which notebook"):
        find_source(tmp_path / "work.ipynb", FIXTURES)


def test_unreadable_submission_scores_zero_without_raising(tmp_path):
    junk = tmp_path / "01_tiny.ipynb"
    junk.write_text("this is not a notebook")
    report = grade_submission(junk, TINY, **LIMITS, reference=tiny_reference())
    assert report.error and "not a readable notebook" in report.error
    assert report.total == 0 and report.max_total == 6
    assert {r.status for r in report.exercises.values()} == {"not_run"}
    with pytest.raises(FileNotFoundError):
        grade_submission(tmp_path / "missing.ipynb", TINY)
    with pytest.raises(ValueError, match="positive"):
        grade_submission(junk, TINY, cell_timeout=0)


# --- grading in a kernel ----------------------------------------------------------------
def _statuses(report):
    return {gid: r.status for gid, r in report.exercises.items()}


def test_instructor_notebook_gets_full_marks():
    report = grade_submission(TINY, TINY, **LIMITS, reference=tiny_reference())
    assert report.error is None
    assert (report.total, report.max_total) == (6, 6)
    assert set(_statuses(report).values()) == {"passed"}
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) >= {"notebook", "total", "max_total", "exercises", "seconds"}
    assert data["exercises"]["ex3"] == {
        "points": 3,
        "max_points": 3,
        "status": "passed",
        "message": "",
    }
    assert "total         6/6" in report.table()


def test_untouched_student_notebook_gets_zero(tmp_path):
    (path,) = release([TINY], tmp_path, progress=False)
    report = grade_submission(path, TINY, **LIMITS, reference=tiny_reference())
    # ex2 is a value (no function to check outside the kernel): the report says so.
    assert report.error is None and report.warnings == [
        "checked in the kernel only: ex2 (it reads centroid, which the notebook computes with "
        "the student's code)"
    ]
    assert report.total == 0
    assert _statuses(report) == {"ex1": "error", "ex2": "failed", "ex3": "error"}
    assert "NotImplementedError: Exercise 1" in report.exercises["ex1"].message
    assert "NotImplementedError: Exercise 3" in report.exercises["ex3"].message


# Hand-worked: points 1, 2, 3; what each submission does is in make_fixtures.py.
GRADING_MATRIX = {
    # ex1 stub untouched, ex2 right, ex3 hard-codes 0.5 (passes the visible check only).
    "partial": (2, {"ex1": "error", "ex2": "passed", "ex3": "failed"}),
    # ex3's function never returns; ex1, ex2 right.
    "loop": (3, {"ex1": "passed", "ex2": "passed", "ex3": "timeout"}),
    # ex1 ignores the interrupt: the kernel is replaced; ex2, ex3 right.
    "stubborn_loop": (5, {"ex1": "timeout", "ex2": "passed", "ex3": "passed"}),
    # ex1 divides by zero, ex2's cell raises before assigning, ex3 right.
    "raises": (3, {"ex1": "error", "ex2": "error", "ex3": "passed"}),
    # ex1 right; wrong ex2 and ex3 whose tests were deleted / renamed and gutted.
    "deleted_test": (1, {"ex1": "passed", "ex2": "failed", "ex3": "failed"}),
    # ex1 solved under another function name; ex2, ex3 right.
    "renamed": (5, {"ex1": "error", "ex2": "passed", "ex3": "passed"}),
    # ex1's function calls os._exit(1); ex2, ex3 right.
    "kernel_exit": (5, {"ex1": "kernel_died", "ex2": "passed", "ex3": "passed"}),
    # A custom handler hides every error; ex1 wrong, ex2, ex3 right.
    "tamper": (5, {"ex1": "failed", "ex2": "passed", "ex3": "passed"}),
}


SLOW_CASES = ("loop", "stubborn_loop")  # each waits out a time limit


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_CASES else n
     for n in GRADING_MATRIX if n != "partial"],
)  # fmt: skip
def test_grading_matrix(name):
    total, statuses = GRADING_MATRIX[name]
    limits = LOOP_LIMITS if "loop" in name else LIMITS
    report = grade_submission(
        SUBMISSIONS / f"{name}.ipynb", TINY, **limits, reference=tiny_reference()
    )
    assert report.error is None
    assert _statuses(report) == statuses
    assert report.total == total
    # Within the limits: at most one cell limit + grace + a restart beyond normal running.
    assert report.seconds < 60


def test_a_cell_rewriting_later_cells_cannot_fake_a_pass(tmp_path):
    nb = tiny()  # right answers everywhere, but every later cell becomes `pass`
    nb.cells[
        2
    ].source += "\nget_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"
    nbformat.write(nb, tmp_path / "01_tiny.ipynb")
    report = grade_submission(tmp_path / "01_tiny.ipynb", TINY, **LIMITS, reference=tiny_reference())
    assert report.total == 0
    assert set(_statuses(report).values()) == {"error"}
    assert "did not run to its end" in report.exercises["ex2"].message


@pytest.mark.slow
def test_the_notebook_time_limit_stops_a_loop():
    report = grade_submission(
        SUBMISSIONS / "loop.ipynb", TINY, cell_timeout=300, timeout=7, interrupt_grace=1,
        reference=tiny_reference(),
    )
    assert _statuses(report) == {"ex1": "passed", "ex2": "passed", "ex3": "timeout"}
    assert report.total == 3
    assert report.seconds < 60  # 7 s of notebook, then the protected checks


# --- command line -------------------------------------------------------------------------
def test_cli_list_release_grade(tmp_path, capsys):
    assert main(["assignments", "list", str(TINY)]) == 0
    assert "01_tiny" in capsys.readouterr().out
    out = tmp_path / "student"
    assert main(["assignments", "release", str(TINY), "--out", str(out), "--quiet"]) == 0
    assert (out / "01_tiny.ipynb").is_file()
    capsys.readouterr()
    argv = ["assignments", "grade", str(SUBMISSIONS / "partial.ipynb"), "--source-dir"]
    argv += [str(FIXTURES), "--json", "--cell-timeout", "20", "--quiet"]
    argv += ["--report", str(tmp_path / "grades.json")]
    assert main(argv) == 0
    (data,) = json.loads(capsys.readouterr().out)
    total, statuses = GRADING_MATRIX["partial"]
    assert data["total"] == total and data["max_total"] == 6
    assert {gid: e["status"] for gid, e in data["exercises"].items()} == statuses
    assert data["exercises"]["ex3"]["message"].startswith("AssertionError")
    assert "hidden check" in data["exercises"]["ex3"]["message"]
    assert json.loads((tmp_path / "grades.json").read_text()) == [data]


def test_cli_errors(tmp_path, capsys):
    assert main(["assignments", "grade", str(tmp_path / "nope.ipynb"), "--source", str(TINY)]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tiny()
    del bad.cells[5].metadata["kplearn"]["points"]
    bad.cells[5].source = "assert True"
    nbformat.write(bad, tmp_path / "01_bad.ipynb")
    assert main(["assignments", "list", str(tmp_path / "01_bad.ipynb")]) == 2
    assert "01_bad, cell 6: test 'ex1' has no points" in capsys.readouterr().err


# --- the real lessons --------------------------------------------------------------------
@pytest.mark.skipif(not LESSONS, reason="no lessons in notebooks/ yet")
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.path.stem)
def test_release_every_lesson(lesson, tmp_path):
    (path,) = release([lesson.path], tmp_path, progress=False)
    instructor = nbformat.read(lesson.path, as_version=4)
    student = nbformat.read(path, as_version=4)
    stubs = check_student_version(instructor, student)
    assert stubs >= 2, "each lesson has at least two exercises"
    raised = 0
    for i, cell in enumerate(student.cells):
        if cell.cell_type == "code" and cell.metadata.get("kplearn", {}).get("solution"):
            raised += stubs_raise(cell.source, f"{lesson.path.stem} cell {i + 1}")
    values = sum(
        1 for c in student.cells for line in c.source.splitlines() if STUB_VALUE.match(line)
    )
    assert raised + values == stubs


def _shortest_lesson():
    """Lesson 1 (data and layouts): no training, about 20 s to run."""
    return next(lesson for lesson in LESSONS if lesson.number == 1)


@pytest.mark.slow
def test_grade_a_real_lesson(tmp_path):
    from kplearn.assignments import grade_submissions

    lesson = _shortest_lesson()
    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / lesson.path.name
    source.write_bytes(lesson.path.read_bytes())  # a copy: grading never touches notebooks/
    (student,) = release([source], tmp_path / "student", progress=False)
    full, zero = grade_submissions([source, student], source=source, cell_timeout=600, progress=False)
    assert full.error is None
    # Written answers wait for the instructor: every automatic point, none of theirs.
    assert full.total == full.max_total - full.pending, full.table()
    assert all(r.status in ("passed", "manual") for r in full.exercises.values()), full.table()
    assert zero.error is None and zero.total == 0, zero.table()
    assert all(
        r.status in ("failed", "error", "manual") for r in zero.exercises.values()
    ), zero.table()
    a = read_assignment(lesson.path)
    for solution in a.solutions:
        if solution.stub == "raise":
            assert "NotImplementedError" in zero.exercises[solution.exercise].message


def test_stub_check_catches_a_stub_that_does_not_raise():
    # The checker itself must be able to fail.
    with pytest.raises(pytest.fail.Exception):
        stubs_raise(
            textwrap.dedent(
                """
                def f(x):
                    return 1
                    raise NotImplementedError("Exercise 1: f")
                """
            ),
            "demo",
        )


@pytest.mark.parametrize("shape", [(), (1,), (2, 3)])
def test_values_cross_from_the_student_process_with_their_shape(shape):
    # A scalar loss (a 0-d tensor) once came back as shape (1,) and failed an honest answer.
    import numpy as np
    import torch

    from kplearn.assignments.protected import decode
    from kplearn.assignments.student_process import encode

    array = np.asarray(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) + 0.5)
    for value in (array, torch.from_numpy(array.copy()), torch.from_numpy(array.copy()).T):
        back = decode(encode(value))
        assert type(back) is type(value)
        assert tuple(back.shape) == tuple(value.shape)
        np.testing.assert_array_equal(np.asarray(back), np.asarray(value))
