"""Feedback pages: one self-contained HTML file per submission.

A page shows the total, one row per exercise (points, status, message), then
the student's cells with their outputs (text and images). A written answer
(status ``manual``) shows as "to be marked by the instructor" in the table, the
total says how many points wait for that, and the student's answer is shown
where it stands in the notebook, labelled with its grade id. Test cells show only
their visible checks and, for an error, its first line: never the hidden
checks' source nor a traceback quoting it. Everything from the notebook is
HTML-escaped (no student HTML or script reaches the page).

Examples
--------
>>> from kplearn.assignments.grade import ExerciseResult, GradeReport
>>> r = GradeReport("a.ipynb", "src", "04", 2, 3, {"ex1": ExerciseResult("ex1", 2, 3, "passed")}, 1.0)
>>> "<td>ex1</td>" in render_feedback(r, [{"kind": "code", "source": "<b>x</b>", "outputs": []}])
True
"""

from __future__ import annotations

import html
from pathlib import Path

__all__ = ["render_feedback", "write_feedback"]

_STYLE = """
body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
.passed{background:#e6f4e6}.manual{background:#eef2fb}.answer{border-left:3px solid #c90}.failed,.error,.timeout,.kernel_died,.not_run{background:#fbe9e9}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap}
.out{background:#fff;border-left:3px solid #ccc}.err{color:#a00}.test{border-left:3px solid #36c}
"""


def render_feedback(report, cells: list[dict]) -> str:
    """The page for ``report`` and its ``cells`` (:func:`kplearn.assignments.grade.feedback_cells`)."""
    e = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{e(report.lesson)}: {report.total}/{report.max_total}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{e(report.lesson)}</h1><p>{e(Path(report.notebook).name)}: "
        f"<b>{report.total}/{report.max_total}</b> points"
        + (
            f"; {report.pending} of them for written answers, to be marked by the instructor"
            if getattr(report, "pending", 0) else ""
        )
        + "</p>",
    ]
    if report.error:
        parts.append(f"<p class='err'>Not graded: {e(report.error)}</p>")
    parts.append("<table><tr><th>exercise</th><th>points</th><th>status</th><th>message</th></tr>")
    for gid, res in report.exercises.items():
        points = f"-/{res.max_points}" if res.status == "manual" else f"{res.points}/{res.max_points}"
        status = "to be marked" if res.status == "manual" else res.status
        parts.append(
            f"<tr class='{e(res.status)}'><td>{e(gid)}</td><td>{points}</td>"
            f"<td>{e(status)}</td><td>{e(res.message)}</td></tr>"
        )
    parts.append("</table>")
    for warning in report.warnings:
        parts.append(f"<p>Note: {e(warning)}</p>")
    if cells:
        parts.append("<h2>Your notebook as graded</h2>")
    for cell in cells:
        kind = cell.get("kind")
        if kind == "markdown":
            parts.append(f"<pre>{e(cell.get('source', ''))}</pre>")
            continue
        if kind == "answer":
            parts.append(
                f"<p>Your written answer {e(str(cell.get('grade_id')))} "
                "(to be marked by the instructor)</p>"
                f"<pre class='answer'>{e(cell.get('source', ''))}</pre>"
            )
            continue
        if kind not in ("code", "test"):
            continue
        css = " class='test'" if kind == "test" else ""
        label = f"<p>Test {e(str(cell.get('grade_id')))}</p>" if kind == "test" else ""
        parts.append(f"{label}<pre{css}>{e(cell.get('source', ''))}</pre>")
        for output in cell.get("outputs", []):
            if "text" in output:
                parts.append(f"<pre class='out'>{e(output['text'])}</pre>")
            elif "error" in output:
                parts.append(f"<pre class='out err'>{e(output['error'])}</pre>")
            elif "image" in output and output["image"] in ("image/png", "image/jpeg"):
                data = "".join(ch for ch in output.get("data", "") if ch.isalnum() or ch in "+/=")
                parts.append(f"<img alt='figure' src='data:{output['image']};base64,{data}'>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_feedback(path, report, cells: list[dict]) -> Path:
    """Write :func:`render_feedback` to ``path``; returns it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_feedback(report, cells), encoding="utf-8")
    return path
