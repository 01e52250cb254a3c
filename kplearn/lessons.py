"""Find and execute the course's lesson notebooks headless.

Lessons are the notebooks ``NN_name.ipynb`` in the course folder (``notebooks/``
beside the package in a source checkout, or any folder given explicitly). Each
lesson has a cell tagged ``parameters`` (papermill's convention); running a
lesson inserts a cell after it that overrides those values, executes the
notebook in a fresh kernel and writes the executed notebook and an HTML copy.

The lesson cells' own conveniences live here too: :func:`sample_path` (the
sample files in ``datasets/``) and :func:`interactive` (whether widgets can be shown).

Examples
--------
>>> from kplearn.lessons import find_lessons
>>> [lesson.number for lesson in find_lessons()][:2]  # the notebooks/ of a source checkout
[1, 2]
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
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
    "section_headings",
    "sample_path",
    "interactive",
    "INTERACTIVE_ENV",
    "coco_people_spec",
    "real_people",
    "COCO_ENV",
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


def section_headings(nb) -> list[str]:
    """For each cell of ``nb``, the text of the last Markdown heading at or before it.

    Cells before the first heading get ``""``.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("1"),
    ...     nbformat.v4.new_markdown_cell("## 2. Heatmaps\\n\\nSome prose."),
    ...     nbformat.v4.new_code_cell("2")])
    >>> section_headings(nb)
    ['', '2. Heatmaps', '2. Heatmaps']
    """
    current, out = "", []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    current = line.lstrip("#").strip()
                    break
        out.append(current)
    return out


def _kernel_transport(socket_dir: str):
    """Kernel settings: IPC sockets in ``socket_dir`` where the OS has them.

    A kernel on TCP without encryption logs a warning on every start (ipykernel
    7); local IPC sockets are private to the user and need none. Windows has no
    IPC transport, so there the kernel keeps TCP and only its warnings are muted.
    """
    from traitlets.config import Config

    config = Config()
    if os.name == "posix":
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(socket_dir, "kernel")
    else:  # pragma: no cover - Windows
        config.NotebookClient.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
    return config


def run_lesson(
    lesson: Lesson,
    out_dir: str | Path,
    *,
    parameters: dict | None = None,
    real_data: str | Path | None = None,
    real_people: str | Path | None = None,
    timeout: int = 900,
    kernel_name: str = "python3",
    audience: str = "instructor",
    on_cell: Callable[[int, int, str], None] | None = None,
) -> LessonRun:
    """Execute ``lesson`` in a fresh kernel; write ``NN_name.ipynb`` and ``.html`` to ``out_dir``.

    Parameters
    ----------
    lesson : Lesson
    out_dir : path
        Created if needed.
    parameters : dict, optional
        Values that override the lesson's ``parameters`` cell (e.g. ``{"QUICK": False}``).
    real_data : path, optional
        A faces68 folder, passed to the kernel as ``KPLEARN_FACES68``.
    real_people : path, optional
        A folder of people in COCO format (:func:`coco_people_spec`), passed to
        the kernel as ``KPLEARN_COCO``.
    timeout : int
        Seconds allowed per cell.
    audience : {"instructor", "student"}
        Who the HTML page is for (:func:`kplearn.pages.page_notebook`); the
        executed notebook is the instructor's either way.
    on_cell : callable, optional
        Called as ``on_cell(done, total, section)`` after each code cell: code
        cells executed so far, code cells in all, and the heading of the section
        the cell is in (see :func:`section_headings`).
    """
    import nbformat
    from nbclient import NotebookClient

    from kplearn.pages import AUDIENCES, write_site

    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
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
    if real_people is not None:
        coco_people_spec(real_people)  # a clear error before any kernel starts
        env[COCO_ENV] = str(Path(real_people).expanduser().resolve())
    hooks = {}
    if on_cell is not None:
        sections = section_headings(nb)
        code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
        position = {index: n for n, index in enumerate(code, start=1)}

        def executed(cell, cell_index, **_):
            on_cell(position.get(cell_index, 0), len(code), sections[cell_index])

        hooks["on_cell_executed"] = executed
    with tempfile.TemporaryDirectory(prefix="kplearn-kernel-") as sockets:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=kernel_name,
            resources={"metadata": {"path": str(lesson.path.parent)}},
            config=_kernel_transport(sockets),
            **hooks,
        )
        start = time.perf_counter()
        with _environment(env):
            client.execute()
    seconds = time.perf_counter() - start
    notebook_path = out / lesson.path.name
    nbformat.write(nb, notebook_path)
    # Offline page, index and local MathJax; `kplearn lessons run` re-renders
    # the whole folder at the end so that every page links to its neighbours.
    (html_path,) = write_site(out, audience=audience, only=[notebook_path])
    figures = sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    )
    return LessonRun(lesson, notebook_path, html_path, seconds, figures)


# ------------------------------------------------- conveniences for the lessons' cells

#: Environment variable that forces interactive widgets on ("1") or off ("0").
INTERACTIVE_ENV = "KPLEARN_INTERACTIVE"


def sample_path(*parts: str) -> Path:
    """Path of a file or folder in the repository's ``datasets/`` sample folder.

    The folder sits beside the ``kplearn`` package in a source checkout; the
    current directory's ``datasets/`` and ``../datasets/`` (a notebook run from
    ``notebooks/``) are tried too.

    Parameters
    ----------
    *parts : str
        Path components below ``datasets/``, e.g. ``"coco", "person_keypoints_tiny.json"``.

    Raises
    ------
    FileNotFoundError
        When no candidate exists; the message lists the places tried.

    Examples
    --------
    >>> sample_path("coco", "person_keypoints_tiny.json").name
    'person_keypoints_tiny.json'
    """
    candidates = [
        Path(__file__).resolve().parents[1] / "datasets",
        Path.cwd() / "datasets",
        Path.cwd().parent / "datasets",
    ]
    for root in candidates:
        path = root.joinpath(*parts)
        if path.exists():
            return path
    tried = ", ".join(str(root.joinpath(*parts)) for root in candidates)
    raise FileNotFoundError(
        f"sample file {'/'.join(parts)!r} not found (tried {tried}); "
        "the samples ship with the kplearn source checkout"
    )


#: Environment variable naming a folder of real people in COCO keypoints format.
COCO_ENV = "KPLEARN_COCO"


def coco_people_spec(folder: str | os.PathLike) -> str:
    """The data spec of a folder of people in COCO keypoints format.

    The folder holds one ``person_keypoints_*.json`` and the ``images/`` it names,
    as ``kplearn data download coco-val2017-person`` prepares it
    (``person_keypoints_val2017.json``) and as the sample ``datasets/coco`` is.

    Raises
    ------
    FileNotFoundError
        When the folder, its annotation file or its ``images/`` is missing.
    ValueError
        When the folder holds several annotation files.

    Examples
    --------
    >>> coco_people_spec(sample_path("coco")).startswith("coco:")
    True
    """
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder (a COCO people folder, e.g. from "
                                "`kplearn data download coco-val2017-person`)")  # fmt: skip
    found = sorted(root.glob("person_keypoints_*.json"))
    if not found:
        raise FileNotFoundError(f"{root}: no person_keypoints_*.json in it (not a COCO people folder)")
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ValueError(f"{root}: several annotation files ({names}); keep one")
    if not (root / "images").is_dir():
        raise FileNotFoundError(f"{root}: no images/ folder beside {found[0].name}")
    return f"coco:{found[0]}:{root / 'images'}"


def real_people(n: int | None = None, seed: int = 0, *, progress: bool = False):
    """The real people of ``$KPLEARN_COCO`` as a dataset, or ``None`` when it is not set.

    Lessons whose people sections run on synthetic scenes call this to run them
    on real photographs too (``kplearn lessons run --real-people FOLDER`` sets
    the variable; see :func:`coco_people_spec` for the folder).

    Parameters
    ----------
    n : int, optional
        A seeded random subset of ``n`` images (default: all).
    seed : int
        Seed of the subset.
    progress : bool
        Progress bar while the images are read.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {COCO_ENV: str(sample_path("coco"))}):
    ...     people = real_people()
    >>> len(people), people.skeleton.name
    (3, 'coco17')
    >>> with mock.patch.dict(os.environ, {COCO_ENV: ""}):
    ...     print(real_people())
    None
    """
    folder = os.environ.get(COCO_ENV, "").strip()
    if not folder:
        return None
    from kplearn.data import load_data

    return load_data(coco_people_spec(folder), n=n, seed=seed, progress=progress)


def interactive() -> bool:
    """Whether widgets can be shown: ipywidgets is installed and a person is at the front end.

    Batch runners (nbval, nbclient, ``kplearn lessons run``) execute cells with
    ``allow_stdin=False``, while Jupyter front ends allow input, so the kernel's
    current ``allow_stdin`` tells the two apart. ``KPLEARN_INTERACTIVE=0`` or ``1``
    overrides the guess (``1`` still needs ipywidgets and an IPython kernel).

    Examples
    --------
    >>> interactive()  # a plain Python process has no front end
    False
    """
    forced = os.environ.get(INTERACTIVE_ENV, "").strip()
    if forced == "0":
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None:
        return False
    if forced == "1":
        return True
    return bool(getattr(kernel, "_allow_stdin", False))
