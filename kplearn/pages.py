"""Offline HTML pages of executed lessons: a small static site.

``kplearn lessons run`` executes lessons into a folder; this module turns the
executed notebooks there into pages that work with no network:

- the mathematics is typeset by a local copy of MathJax (the one that
  ``jupyter-server-mathjax`` ships), referenced by a relative path;
- nothing is loaded from a CDN (no require.js, no widget or mermaid loaders);
- each page is titled with its lesson and links to the previous and next
  lesson pages that exist in the folder and to ``index.html``, which lists the
  lessons with their learning goals;
- grading plumbing is not shown: ``# NBVAL_...`` lines and the solution and
  hidden-test marker lines are removed. For ``audience="student"`` the
  solution regions show the stub a student receives and hidden tests are
  left out, while the figures of the instructor run are kept.

Examples
--------
>>> from kplearn.assignments.markup import example_notebook
>>> nb = example_notebook()  # a solution cell and its test cell
>>> print(page_notebook(nb, audience="instructor").cells[0].source)
def double(x):
    return 2 * x
>>> "return 2 * x" in page_notebook(nb, audience="student").cells[0].source
False
"""

from __future__ import annotations

import copy
import html
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AUDIENCES",
    "MATHJAX_DIR",
    "PageLink",
    "copy_mathjax",
    "lesson_goals",
    "page_notebook",
    "render_page",
    "write_index",
    "write_site",
]

AUDIENCES = ("instructor", "student")
#: Where the local MathJax goes, relative to the site folder.
MATHJAX_DIR = "_static/mathjax"
_MATHJAX_CONFIG = "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
_LESSON_FILE = re.compile(r"^(\d{2})_(.+)\.ipynb$")
_PLUMBING_LINE = re.compile(
    r"^[ \t]*#+[ \t]*(NBVAL_[A-Z_]+|(BEGIN|END)[ \t]+(SOLUTION|HIDDEN[ \t]+TESTS))[ \t]*$"
)

# The lab template without its CDN loaders, with a navigation bar and the
# local MathJax. nbconvert fills ``resources.mathjax_url``. The MathJax that
# jupyter-server-mathjax ships has only the STIX-Web fonts, so say so.
_TEMPLATE = r"""
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]],
            processEscapes: true, processEnvironments: true},
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null},
  SVG: {font: "STIX-Web"},
  displayAlign: "center",
  messageStyle: "none"
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}
<style>
nav.kplearn-nav { display: flex; gap: 1.5em; padding: 0.6em 1em; border-bottom: 1px solid #ccc;
  font-family: sans-serif; font-size: 0.95em; background: #f6f6f6; }
nav.kplearn-nav a { text-decoration: none; }
p.kplearn-run { font-family: sans-serif; font-size: 0.85em; color: #555; padding: 0 1em; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.kplearn_nav }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.kplearn_nav }}
{{ super() }}
{% endblock body_footer %}
"""


@dataclass(frozen=True)
class PageLink:
    """A link in a page's navigation bar: its target (relative) and its text."""

    href: str
    text: str


def copy_mathjax(site_dir: str | Path) -> Path:
    """Copy the local MathJax into ``site_dir/_static/mathjax`` (once); return that folder.

    Raises
    ------
    ModuleNotFoundError
        When ``jupyter-server-mathjax`` (a kplearn dependency) is not installed.
    """
    try:
        import jupyter_server_mathjax
    except ModuleNotFoundError as err:  # pragma: no cover - it is a dependency
        raise ModuleNotFoundError(
            "offline pages need MathJax from the 'jupyter-server-mathjax' package: "
            "pip install jupyter-server-mathjax"
        ) from err
    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    target = Path(site_dir) / MATHJAX_DIR
    if not (target / "MathJax.js").is_file():
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target)
    return target


def lesson_goals(nb) -> tuple[str, list[str]]:
    """The title and the numbered learning goals of a lesson (from its first Markdown cell).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.cells = [nbformat.v4.new_markdown_cell(
    ...     "# Lesson 9 - Demo\\n\\nText.\\n\\n**Learning goals.** You can\\n\\n"
    ...     "1. do one thing;\\n2. do another,\\n   on two lines.\\n\\nMore.")]
    >>> lesson_goals(nb)
    ('Lesson 9 - Demo', ['do one thing;', 'do another, on two lines.'])
    """
    title, goals = "", []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        title = next((line.lstrip("#").strip() for line in lines if line.startswith("#")), "")
        in_goals = False
        for line in lines:
            if "learning goals" in line.lower():
                in_goals = True
                continue
            if not in_goals:
                continue
            item = re.match(r"^\s*\d+\.\s+(.*)$", line)
            if item:
                goals.append(item[1].strip())
            elif goals and line.startswith((" ", "\t")) and line.strip():
                goals[-1] = f"{goals[-1]} {line.strip()}"
            elif goals and not line.strip():
                break
        break
    return title, goals


def _strip_plumbing(source: str) -> str:
    lines = [line for line in source.splitlines() if not _PLUMBING_LINE.match(line)]
    return "\n".join(lines)


def page_notebook(nb, *, audience: str = "instructor"):
    """A copy of ``nb`` as a page shows it (see the module docstring).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An instructor notebook, executed or not. Cells injected by
        ``kplearn lessons run`` are dropped.
    audience : {"instructor", "student"}
        ``"student"`` replaces each solution region by its stub and removes
        hidden tests (the exercise markup is validated by
        :func:`kplearn.assignments.markup.parse_assignment`).
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    page = copy.deepcopy(nb)
    page.cells = [
        cell
        for cell in page.cells
        if "injected-parameters" not in cell.get("metadata", {}).get("tags", [])
    ]
    if audience == "student":
        from kplearn.assignments.markup import ANSWER_STUB, parse_assignment
        from kplearn.assignments.release import student_source, test_source

        assignment = parse_assignment(page, name="page")
        for solution in assignment.solutions:
            cell = page.cells[solution.index]
            cell.source = student_source(cell.source, solution)
        for test in assignment.tests:
            cell = page.cells[test.index]
            cell.source = test_source(cell.source, test)
        for answer in assignment.written:  # the model answers are the instructor's
            page.cells[answer.index].source = ANSWER_STUB
    for cell in page.cells:
        if cell.cell_type == "code":
            cell.source = _strip_plumbing(cell.source)
    return page


def _nav(links: Sequence[PageLink]) -> str:
    items = " ".join(
        f'<a href="{html.escape(link.href)}">{html.escape(link.text)}</a>' for link in links
    )
    return f'<nav class="kplearn-nav">{items}</nav>'


def render_page(
    nb,
    *,
    title: str,
    links: Sequence[PageLink] = (),
    audience: str = "instructor",
    mathjax_url: str = f"{MATHJAX_DIR}/{_MATHJAX_CONFIG}",
    note: str | None = None,
) -> str:
    """The HTML of one lesson page.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed lesson.
    title : str
        The page title (the lesson's heading).
    links : sequence of PageLink
        The navigation bar, shown at the top and the bottom of the page.
    audience : {"instructor", "student"}
        See :func:`page_notebook`.
    mathjax_url : str
        Where the page loads MathJax from, relative to the page.
    note : str, optional
        A line shown under the navigation bar (e.g. the run's parameters).
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    page = page_notebook(nb, audience=audience)
    page.metadata["title"] = title
    page.metadata.pop("widgets", None)
    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"kplearn_page.html.j2": _TEMPLATE})],
        template_file="kplearn_page.html.j2",
    )
    exporter.mathjax_url = mathjax_url
    banner = _nav(links)
    if note:
        banner += f'\n<p class="kplearn-run">{html.escape(note)}</p>'
    body, _ = exporter.from_notebook_node(page, resources={"kplearn_nav": banner})
    return body


def _executed_lessons(site_dir: Path) -> list[Path]:
    return sorted(p for p in site_dir.glob("*.ipynb") if _LESSON_FILE.match(p.name))


def write_index(site_dir: str | Path, lessons: Sequence[Path] | None = None) -> Path:
    """Write ``index.html``: every executed lesson in ``site_dir`` with its goals and a link."""
    import nbformat

    site = Path(site_dir)
    lessons = _executed_lessons(site) if lessons is None else list(lessons)
    items = []
    for path in lessons:
        title, goals = lesson_goals(nbformat.read(path, as_version=4))
        goal_items = "".join(f"<li>{html.escape(goal)}</li>" for goal in goals)
        items.append(
            f'<li><a href="{html.escape(path.with_suffix(".html").name)}">'
            f"{html.escape(title or path.stem)}</a><ol>{goal_items}</ol></li>"
        )
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        "<title>kplearn — the course</title>\n"
        "<style>body { font-family: sans-serif; max-width: 50em; margin: 2em auto; }"
        " li { margin-bottom: 0.6em; } ol ol { font-size: 0.9em; color: #333; }</style>\n"
        "</head>\n<body>\n<h1>kplearn — the course</h1>\n"
        f"<p>{len(lessons)} lesson{'s' if len(lessons) != 1 else ''} in this folder, "
        "each executed by <code>kplearn lessons run</code>.</p>\n"
        f"<ol>\n{chr(10).join(items)}\n</ol>\n</body>\n</html>\n"
    )
    target = site / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


def write_site(
    site_dir: str | Path,
    *,
    audience: str = "instructor",
    only: Sequence[Path] | None = None,
    notes: dict[str, str] | None = None,
) -> list[Path]:
    """Render every executed lesson in ``site_dir`` as a page, plus the index and MathJax.

    Parameters
    ----------
    site_dir : path
        A folder of executed lessons ``NN_name.ipynb`` (``kplearn lessons run --out``).
    audience : {"instructor", "student"}
        See :func:`page_notebook`.
    only : sequence of paths, optional
        Render only these notebooks' pages (the navigation still spans every
        lesson in the folder).
    notes : dict, optional
        A line to show on a page, by notebook file name.

    Returns
    -------
    list of Path
        The pages written.
    """
    import nbformat

    site = Path(site_dir)
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    lessons = _executed_lessons(site)
    if not lessons:
        raise FileNotFoundError(f"{site} holds no executed lesson (NN_name.ipynb)")
    copy_mathjax(site)
    wanted = {Path(p).name for p in only} if only is not None else None
    written = []
    for i, path in enumerate(lessons):
        if wanted is not None and path.name not in wanted:
            continue
        nb = nbformat.read(path, as_version=4)
        title, _ = lesson_goals(nb)
        links = [PageLink("index.html", "All lessons")]
        if i > 0:
            links.append(PageLink(lessons[i - 1].with_suffix(".html").name, "← previous"))
        if i + 1 < len(lessons):
            links.append(PageLink(lessons[i + 1].with_suffix(".html").name, "next →"))
        page = render_page(
            nb,
            title=title or path.stem,
            links=links,
            audience=audience,
            note=(notes or {}).get(path.name),
        )
        target = path.with_suffix(".html")
        target.write_text(page, encoding="utf-8")
        written.append(target)
    write_index(site, lessons)
    return written
