"""Find and execute the course's lesson notebooks headless.

Lessons are the notebooks ``NN_name.ipynb`` in the course folder (``notebooks/``
beside the package in a source checkout, or any folder given explicitly). Each
lesson has a cell tagged ``parameters`` (papermill's convention); running a
lesson inserts a cell after it that overrides those values, executes the
notebook in a fresh kernel and writes the executed notebook and an HTML copy.

Examples
--------
>>> from kplearn.lessons import find_lessons
>>> [lesson.number for lesson in find_lessons()][:2]  # doctest: +SKIP
[1, 2]
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Lesson",
    "LessonRun",
    "default_lesson_dir",
    "find_lessons",
    "select_lessons",
    "run_lesson",
    "is_checked_cell",
    "strip_outputs",
    "refresh_lesson",
]

_LESSON_NAME = re.compile(r"^(\d{2})_(.+)\.ipynb$")


@dataclass(frozen=True)
class Lesson:
    """A lesson notebook: its number, short name, title and path."""

    number: int
    name: str
    title: str
    path: Path


@dataclass(frozen=True)
class LessonRun:
    """The outcome of executing one lesson."""

    lesson: Lesson
    notebook: Path
    html: Path
    seconds: float
    figures: int


def default_lesson_dir() -> Path:
    """The ``notebooks/`` folder of the source checkout kplearn is installed from."""
    return Path(__file__).resolve().parents[1] / "notebooks"


def _title(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def find_lessons(directory: str | Path | None = None) -> list[Lesson]:
    """All lessons in ``directory`` (default :func:`default_lesson_dir`), by number."""
    folder = Path(directory) if directory is not None else default_lesson_dir()
    if not folder.is_dir():
        raise FileNotFoundError(f"lesson folder {folder} does not exist (pass --dir)")
    lessons = []
    for path in sorted(folder.glob("*.ipynb")):
        match = _LESSON_NAME.match(path.name)
        if match:
            lessons.append(Lesson(int(match[1]), match[2], _title(path), path))
    return lessons


def select_lessons(lessons: Sequence[Lesson], names: Iterable[str]) -> list[Lesson]:
    """Lessons matching each of ``names`` by number (``"6"``, ``"06"``) or by part of the name."""
    names = list(names)
    if not names:
        return list(lessons)
    chosen: list[Lesson] = []
    for query in names:
        hits = [
            lesson
            for lesson in lessons
            if (query.isdigit() and int(query) == lesson.number)
            or query.lower() in lesson.path.stem.lower()
        ]
        if not hits:
            known = ", ".join(lesson.path.stem for lesson in lessons)
            raise ValueError(f"no lesson matches {query!r}; lessons are: {known}")
        chosen.extend(hit for hit in hits if hit not in chosen)
    return chosen


@contextmanager
def _environment(overrides: dict[str, str]):
    old = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _inject_parameters(nb, parameters: dict) -> None:
    import nbformat

    if not parameters:
        return
    source = "# Parameters injected by `kplearn lessons run`\n" + "\n".join(
        f"{key} = {value!r}" for key, value in parameters.items()
    )
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    for i, existing in enumerate(nb.cells):
        if "parameters" in existing.get("metadata", {}).get("tags", []):
            nb.cells.insert(i + 1, cell)
            return
    raise ValueError("the notebook has no cell tagged 'parameters' to override")


def is_checked_cell(cell) -> bool:
    """Whether nbval compares this cell's output under ``--nbval-lax``."""
    tags = cell.get("metadata", {}).get("tags", [])
    first_lines = cell.source.lstrip().splitlines()[:3]
    return "nbval-check-output" in tags or any("NBVAL_CHECK_OUTPUT" in line for line in first_lines)


def strip_outputs(nb):
    """Keep outputs and execution counts only on checked cells (the repository's notebook policy).

    Every other code cell gets no outputs and ``execution_count = None``, which
    nbval never compares; checked cells keep the reference output that
    ``--nbval-lax`` compares against. Injected-parameter cells are dropped.
    """
    nb.cells = [
        c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if not is_checked_cell(cell):
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    return nb


def refresh_lesson(lesson: Lesson, *, timeout: int = 900) -> LessonRun:
    """Execute ``lesson`` with its own defaults and write it back in the repository's policy.

    The reference outputs of checked cells are refreshed; all other outputs are
    removed (:func:`strip_outputs`).
    """
    import tempfile

    import nbformat

    with tempfile.TemporaryDirectory() as tmp:
        result = run_lesson(lesson, tmp, timeout=timeout)
        nb = nbformat.read(result.notebook, as_version=4)
    nbformat.write(strip_outputs(nb), lesson.path)
    return result


def run_lesson(
    lesson: Lesson,
    out_dir: str | Path,
    *,
    parameters: dict | None = None,
    real_data: str | Path | None = None,
    timeout: int = 900,
    kernel_name: str = "python3",
) -> LessonRun:
    """Execute ``lesson`` in a fresh kernel; write ``NN_name.ipynb`` and ``.html`` to ``out_dir``.

    Parameters
    ----------
    lesson : Lesson
    out_dir : path
        Created if needed.
    parameters : dict, optional
        Values that override the lesson's ``parameters`` cell (e.g. ``{"FAST": False}``).
    real_data : path, optional
        A faces68 folder, passed to the kernel as ``KPLEARN_FACES68``.
    timeout : int
        Seconds allowed per cell.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(lesson.path, as_version=4)
    _inject_parameters(nb, dict(parameters or {}))
    env = {"TQDM_DISABLE": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    if real_data is not None:
        root = Path(real_data).resolve()
        if not (root / "keypoints.csv").is_file():
            raise FileNotFoundError(f"{root} is not a faces68 folder (no keypoints.csv)")
        env["KPLEARN_FACES68"] = str(root)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(lesson.path.parent)}},
    )
    start = time.perf_counter()
    with _environment(env):
        client.execute()
    seconds = time.perf_counter() - start
    notebook_path = out / lesson.path.name
    nbformat.write(nb, notebook_path)
    html, _ = HTMLExporter().from_notebook_node(nb)
    html_path = notebook_path.with_suffix(".html")
    html_path.write_text(html, encoding="utf-8")
    figures = sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    )
    return LessonRun(lesson, notebook_path, html_path, seconds, figures)
