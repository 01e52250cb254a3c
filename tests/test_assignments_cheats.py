"""Cheats score nothing (issue #17): hostile submissions of real lessons and of the fixture.

The lesson submissions are generated here from the *current* instructor notebooks (copied
to a temporary folder, so grading never touches notebooks/): the released student version,
with the instructor's solution put back for the honest exercises and a hand-written cheat
for the targeted ones. Expected scores are worked out by hand: a cheat scores 0 for the
exercise it targets, honest exercises score full.

Cheat kinds (the issue's list): (a) calls the library reference the exercise re-implements;
(b) replaces the checking functions or the reference data in the kernel; (c) reads the
instructor notebook (working folder, ``default_lesson_dir()``, next to ``kplearn``); (d)
edits the test cell's metadata / source and duplicates it; (e) prints the "ok" line; plus an
input transformer that rewrites later test cells down to the grader's sentinel.

Kernel-heavy: each lesson test grades its submissions in one batch (one reference run), two at
a time; cheats share submissions (each would still earn its exercise's points if the defence
against it failed) so that a batch is two rounds at most. Run one of these files at a time.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from kplearn.assignments import grade_submissions, read_assignment, release_notebook

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "assignments"
TINY = FIXTURES / "01_tiny.ipynb"


def _solution_source(assignment, gid: str) -> str:
    """The instructor's solution cell of ``gid`` (markers are comments, they stay)."""
    (solution,) = [s for s in assignment.solutions if s.exercise == gid]
    return assignment.nb.cells[solution.index].source


def build(assignment, answers: dict[str, str], *, edit=None):
    """The released notebook with each exercise answered: 'honest', 'stub' or a cheat source."""
    nb = release_notebook(assignment)
    for solution in assignment.solutions:
        answer = answers.get(solution.exercise, "honest")
        if answer == "honest":
            nb.cells[solution.index].source = _solution_source(assignment, solution.exercise)
        elif answer != "stub":
            nb.cells[solution.index].source = textwrap.dedent(answer).strip()
    if edit is not None:
        edit(nb)
    return nb


def _test_index(nb, gid: str) -> int:
    return next(
        i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("kplearn", {}).get("grade_id") == gid
    )


def edit_test_cell(gid: str):
    """(d): the test cell says it is worth 100 points and only prints; a copy claiming the
    same grade id goes first."""

    def edit(nb):
        i = _test_index(nb, gid)
        nb.cells[i].source = f'# Test {gid} (100 points)\nprint("{gid} ok")'
        nb.cells[i].metadata["kplearn"]["points"] = 100
        nb.cells.insert(2, new_code_cell("pass", metadata={"kplearn": {"grade_id": gid, "points": 100}}))

    return edit


def paste_test_copy(gid: str):
    """Honest: a copy of the test cell pasted near the top (metadata and all)."""

    def edit(nb):
        copy_cell = copy.deepcopy(nb.cells[_test_index(nb, gid)])
        nb.cells.insert(3, copy_cell)

    return edit


def combine(*edits):
    def edit(nb):
        for e in edits:
            e(nb)

    return edit


READ_INSTRUCTOR = '''
import glob, json, os, pathlib
import kplearn, kplearn.lessons

def _instructor_cells():
    places = [os.getcwd(), os.path.join(os.getcwd(), ".."), str(kplearn.lessons.default_lesson_dir()),
              str(pathlib.Path(kplearn.__file__).resolve().parents[1] / "notebooks")]
    for place in places:
        for path in glob.glob(os.path.join(place, "{pattern}")):
            for cell in json.load(open(path))["cells"]:
                yield "".join(cell["source"])

def {name}(*args, **kwargs):
    for source in _instructor_cells():
        if source.startswith("def {name}"):
            namespace = dict(globals())
            exec(source, namespace)
            return namespace["{name}"](*args, **kwargs)
    raise FileNotFoundError("no instructor notebook found")
'''

TRANSFORMER = '''
{stub}

def _keep_only_the_sentinel(lines):
    if lines and lines[0].startswith("# Test"):
        return [lines[-1]]
    return lines

get_ipython().input_transformers_cleanup.append(_keep_only_the_sentinel)
'''


def _copy_lesson(tmp_path, number: int) -> Path:
    (path,) = sorted((REPO / "notebooks").glob(f"{number:02d}_*.ipynb"))
    folder = tmp_path / "source"
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    target.write_bytes(path.read_bytes())
    return target


def grade_matrix(tmp_path, source: Path, matrix: dict) -> dict:
    assignment = read_assignment(source)
    paths = []
    for name, (answers, edit, _) in matrix.items():
        folder = tmp_path / "submitted" / name
        folder.mkdir(parents=True)
        nbformat.write(build(assignment, answers, edit=edit), folder / source.name)
        paths.append(folder / source.name)
    reports = grade_submissions(
        paths, source=source, cell_timeout=300, progress=False, report_path=tmp_path / "r.json",
        jobs=2,  # two at a time: the batch path a class is graded with, and half the wait
    )
    by_name = {Path(r.notebook).parent.name: r for r in reports}
    assert set(by_name) == set(matrix)
    return by_name


def check(by_name, matrix):
    problems = []
    for name, (_, _, expected) in matrix.items():
        # Written answers wait for the instructor (status "manual"): no points either way.
        got = {gid: res.points for gid, res in by_name[name].exercises.items() if not res.pending}
        if got != expected or by_name[name].error:
            problems.append(f"{name}: expected {expected}\n{by_name[name].table()}")
    assert not problems, "\n\n".join(problems)


# --- lesson 4: measuring accuracy (2, 3, 3, 3 points) -----------------------------------
L4 = {
    # (a) on ex1, (b) metrics.pck replaced in the kernel on ex3.
    "l4_reference_and_patched_metric": (
        {
            "ex1": "def my_epe(pred, gt):\n    return metrics.epe(pred, gt)",
            "ex3": """
                def my_pck(pred, gt, normalizer, threshold):
                    return 0.5
                metrics.pck = lambda *args, **kwargs: 0.5
            """,
        },
        None,
        {"ex1": 0, "ex2": 3, "ex3": 0, "ex4": 3},
    ),
    # (b) numpy.testing silenced on ex2, (c) the instructor notebook read on ex4.
    "l4_silenced_and_instructor_read": (
        {
            "ex2": """
                def my_nme(pred, gt, normalize="interocular"):
                    return 0.0
                np.testing.assert_allclose = lambda *args, **kwargs: None
            """,
            "ex4": READ_INSTRUCTOR.format(pattern="04_*.ipynb", name="my_oks"),
        },
        None,
        {"ex1": 2, "ex2": 0, "ex3": 3, "ex4": 0},
    ),
    # (d) ex1's test cell edited (100 points, only a print) and duplicated; (e) ex2 prints ok;
    # the sentinel forged: ex4's cell rewrites every later test cell to the sentinel line.
    "l4_metadata_fake_ok_and_sentinel": (
        {
            "ex1": "stub",
            "ex2": 'def my_nme(pred, gt, normalize="interocular"):\n    return 0.0\n\nprint("ex2 ok")',
            "ex4": TRANSFORMER.format(stub="def my_oks(pred, gt, area, sigmas):\n    return 1.0"),
        },
        edit_test_cell("ex1"),
        {"ex1": 0, "ex2": 0, "ex3": 3, "ex4": 0},
    ),
    # Honest, with a pasted copy of ex3's test cell near the top.
    "l4_honest_pasted_test": ({}, paste_test_copy("ex3"), {"ex1": 2, "ex2": 3, "ex3": 3, "ex4": 3}),
}


# --- lesson 3: HOG + SVM (2, 2, 3, 3 points) ----------------------------------------------
L3 = {
    # (b) the reference data replaced on ex1, (a) on ex3 and ex4.
    "l3_data_and_reference": (
        {
            "ex1": """
                NEG_MIN, NEG_MAX, WORK = 0.0, 1e6, 10**6

                def my_negative_centres(keypoint, n, min_dist, max_dist, rng, work_size):
                    return np.asarray(keypoint, float) + rng.uniform(0, 1, (n, 2))
            """,
            "ex3": "def my_similarity(source, target):\n    return similarity_transform(source, target)",
            "ex4": "def fit_descent_step(features, updates, alpha):\n    return ridge_fit(features, updates, alpha)",
        },
        None,
        {"ex1": 0, "ex2": 2, "ex3": 0, "ex4": 0},
    ),
    # (c) on ex2; the sentinel forged from ex3's cell on (rewrites ex3's and ex4's tests).
    "l3_instructor_read_and_sentinel": (
        {
            "ex2": READ_INSTRUCTOR.format(pattern="03_*.ipynb", name="peak_in_window"),
            "ex3": TRANSFORMER.format(stub="def my_similarity(source, target):\n    return np.eye(2), np.zeros(2)"),
        },
        None,
        {"ex1": 2, "ex2": 0, "ex3": 0, "ex4": 0},
    ),
    # (d) on ex1, (e) on ex2.
    "l3_metadata_and_fake_ok": (
        {"ex1": "stub", "ex2": 'def peak_in_window(score, lo, hi):\n    return tuple(lo)\n\nprint("ex2 ok")'},
        edit_test_cell("ex1"),
        {"ex1": 0, "ex2": 0, "ex3": 3, "ex4": 3},
    ),
    "l3_honest_pasted_test": ({}, paste_test_copy("ex2"), {"ex1": 2, "ex2": 2, "ex3": 3, "ex4": 3}),
}


# --- lesson 6: heatmap models (3, 3, 2 points) --------------------------------------------
# Two submissions, so that the batch is one round at two jobs (lesson 6 trains networks: each
# extra round costs a minute of CI). Every cheat would earn its exercise's points if the
# defence against it failed, whatever else shares the submission.
L6 = {
    # (a) on ex1; (b) the references replaced in the kernel on ex2; ex3 honest, with a pasted
    # copy of its test cell near the top (the grader's own copy is the one that counts).
    "l6_reference_patched_and_pasted": (
        {
            "ex1": """
                def my_gaussian_heatmap(xy, input_size, heatmap_size, sigma):
                    maps, _ = codecs.encode_heatmaps(np.array([[xy[0], xy[1], 2.0]]), input_size,
                                                     heatmap_size, sigma=sigma, dtype=np.float64)
                    return maps[0]
            """,
            "ex2": """
                def my_soft_argmax(heatmaps):
                    return np.zeros(heatmaps.shape[:-2] + (2,))
                codecs.heatmap_expectation = my_soft_argmax
                codecs.decode_heatmaps = lambda maps, size, method=None: ((my_soft_argmax(maps) + 0.5) * 2 - 0.5)[None]
            """,
        },
        paste_test_copy("ex3"),
        # The patched decode_heatmaps takes no blur_kernel: the tests of ex4 and ex6, which call it,
        # fail in the kernel; ex5 (losses only) is honest.
        {"ex1": 0, "ex2": 0, "ex3": 2, "ex4": 0, "ex5": 2, "ex6": 0},
    ),
    # (c) on ex1; (d) ex2's test cell edited and duplicated, and (e) ex2 prints its ok line;
    # the sentinel forged from ex3's cell (rewrites ex3's test).
    "l6_instructor_metadata_fake_ok_sentinel": (
        {
            "ex1": READ_INSTRUCTOR.format(pattern="06_*.ipynb", name="my_gaussian_heatmap"),
            "ex2": 'def my_soft_argmax(heatmaps):\n    return 0\n\nprint("ex2 ok")',
            "ex3": TRANSFORMER.format(stub="def my_quarter(heatmap):\n    return 0.0, 0.0"),
        },
        edit_test_cell("ex2"),
        {"ex1": 0, "ex2": 0, "ex3": 0, "ex4": 0, "ex5": 0, "ex6": 0},  # later tests rewritten too
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "number, matrix", [(4, L4), (3, L3), (6, L6)], ids=["lesson4", "lesson3", "lesson6"]
)
def test_lesson_cheats_score_nothing(tmp_path, number, matrix):
    """Each lesson's submissions, graded in one batch, score exactly the hand-worked points."""
    source = _copy_lesson(tmp_path, number)
    check(grade_matrix(tmp_path, source, matrix), matrix)


# --- attacks on the grader itself (tiny fixture, one batch) --------------------------------
HONEST1 = '''def distances(a, b):
    return np.linalg.norm(np.subtract(a, b), axis=-1)'''

ATTACKS = {
    # The kernel kills its parent (the worker): that submission fails, the batch goes on.
    "kill_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + HONEST1,
    # The kernel stops its parent: detected, killed, reported.
    "stop_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\n" + HONEST1,
    # A detached grandchild that rewrites the report and the other submissions later on.
    "detached": textwrap.dedent(
        """
        import os, subprocess, sys, textwrap
        code = textwrap.dedent('''
            import glob, os, time
            for _ in range(240):  # keeps rewriting for two minutes, unless it is killed
                time.sleep(0.5)
                for path in glob.glob(os.environ.get("ATTACK_GLOB", "/nonexistent")):
                    open(path, "w").write("owned")
        ''')
        subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                         env={**os.environ, "ATTACK_GLOB": __GLOB__})
        """
    )
    + HONEST1,
    # Memory: a 64 GB allocation fails inside the kernel; the grader goes on.
    "memory": HONEST1 + "\n\nimport numpy\n_hog = numpy.ones(8 * 1024**3)",
    # Rewrites the later submission files on disk (a friend gets full marks, a victim zero).
    "friend": "import glob\nfor _p in glob.glob(__GLOB__):\n    open(_p, 'w').write('owned')\n" + HONEST1,
    "victim": HONEST1,
}


@pytest.mark.slow
def test_attacks_on_the_grader(tmp_path):
    assignment = read_assignment(TINY)
    report_path = tmp_path / "out" / "report.json"
    paths = []
    for name, ex1 in ATTACKS.items():
        folder = tmp_path / "submitted" / name
        folder.mkdir(parents=True)
        answer = ex1.replace(
            "__GLOB__", repr(str(tmp_path / "submitted" / "*" / "*.ipynb") if name == "friend"
                                else str(report_path.parent / "*"))
        )
        nb = build(assignment, {"ex1": answer})
        nbformat.write(nb, folder / "01_tiny.ipynb")
        paths.append(folder / "01_tiny.ipynb")
    before = os.getpid()
    reports = grade_submissions(
        paths, source=TINY, cell_timeout=20, timeout=120, progress=False, jobs=2,
        report_path=report_path, gradebook=tmp_path / "out" / "grades.csv",
        heartbeat_timeout=20,
    )
    assert os.getpid() == before
    got = {Path(r.notebook).parent.name: r for r in reports}
    assert list(got) == list(ATTACKS)  # in the order given, none lost
    for name in ("kill_parent", "stop_parent"):
        assert got[name].total == 0 and got[name].error, got[name].table()
        assert "worker" in got[name].error
    # Every answer is honest (ex1 with the attack around it): full marks.
    for name in ("detached", "memory", "friend", "victim"):
        points = {gid: r.points for gid, r in got[name].exercises.items()}
        assert points == {"ex1": 1, "ex2": 2, "ex3": 3}, got[name].table()
    # The detached child was killed with its kernel: the report is the grader's, later too.
    import time

    time.sleep(3)
    data = json.loads(report_path.read_text())
    assert [Path(r["notebook"]).parent.name for r in data] == list(ATTACKS)
    assert "owned" not in (tmp_path / "out" / "grades.csv").read_text()
    # The friend rewrote files on disk, but every submission was read before any kernel ran.
    assert (tmp_path / "submitted" / "victim" / "01_tiny.ipynb").read_text() == "owned"
    assert got["victim"].total == 6


def test_a_stopped_or_killed_grader_child_is_no_zombie():
    # The helpers the grader relies on, on a process of our own.
    import subprocess
    import sys

    from kplearn.assignments import isolation

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.kill(proc.pid, signal.SIGSTOP)
    import time

    for _ in range(50):
        if isolation.is_stopped(proc.pid):
            break
        time.sleep(0.05)
    assert isolation.is_stopped(proc.pid)
    isolation.kill_tree(proc.pid)
    assert proc.wait(timeout=10) == -signal.SIGKILL
