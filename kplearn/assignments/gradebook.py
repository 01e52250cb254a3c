"""The gradebook: one CSV row per student, as learning-management systems import it.

Columns: ``student``, then ``<lesson>:<grade id>`` for every exercise and
written question of the lessons graded, in notebook order (points earned; a
written question's cell is left empty for the instructor's mark),
``<lesson>:total`` per lesson (points scored by the grader), ``total``,
``max_total`` (all points, written questions included), ``to_mark`` (points of
written answers not marked yet) and ``status`` (``graded``, ``graded; to mark
by hand: <lesson>:<grade id>, ...``, or ``error: ...`` naming what went
wrong). Plain UTF-8 CSV with a header row: Moodle ("Import grades from CSV",
map ``student`` to the user field), Canvas (with an id column added) and
spreadsheets read it.

The student id comes from the file name (``alice_04_measuring_accuracy.ipynb``
→ ``alice``; ``alice/04_measuring_accuracy.ipynb`` → ``alice``, the folder;
``submitted/alice/<assignment>/...`` → ``alice``, nbgrader's layout), else from the
notebook metadata ``kplearn_assignment.student``, else the file's stem.

Examples
--------
>>> student_id("submitted/alice/lesson04/04_measuring_accuracy.ipynb", "04_measuring_accuracy")
'alice'
>>> student_id("bob/04_measuring_accuracy.ipynb", "04_measuring_accuracy")
'bob'
>>> student_id("alice_04_measuring_accuracy.ipynb", "04_measuring_accuracy")
'alice'
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

__all__ = ["student_id", "gradebook_rows", "write_gradebook"]


def student_id(path, lesson: str, metadata: dict | None = None) -> str:
    """The student a submission file belongs to (module docstring)."""
    path = Path(path)
    stem = path.stem
    parts = path.parts
    if "submitted" in parts[:-1] and parts.index("submitted") + 2 < len(parts):
        return parts[parts.index("submitted") + 1]  # nbgrader: submitted/<student>/<assignment>/
    if stem == lesson:
        parent = path.parent.name
        if parent and parent not in (".", ""):
            return parent
    elif lesson in stem:
        prefix = stem.split(lesson)[0].strip("_- .")
        if prefix:
            return prefix
    meta = (metadata or {}).get("student") if isinstance(metadata, dict) else None
    if isinstance(meta, str) and meta.strip():
        return meta.strip()
    return stem


def gradebook_rows(reports, assignments) -> tuple[list[str], list[list]]:
    """(header, rows) of the gradebook for ``reports`` of the lessons ``assignments``."""
    columns = []
    for assignment in assignments:
        columns += [f"{assignment.name}:{gid}" for gid in assignment.all_ids]
        columns.append(f"{assignment.name}:total")
    header = ["student", *columns, "total", "max_total", "to_mark", "status"]
    students: dict[str, dict] = {}
    max_total = sum(a.max_points for a in assignments)
    for report in reports:
        sid = student_id(report.notebook, report.lesson)
        row = students.setdefault(sid, {"status": [], "cells": {}, "manual": {}})
        for gid, result in report.exercises.items():
            if result.status == "manual":
                row["manual"][f"{report.lesson}:{gid}"] = result.max_points
                continue
            row["cells"][f"{report.lesson}:{gid}"] = result.points
        row["cells"][f"{report.lesson}:total"] = report.total
        if report.error:
            row["status"].append(f"error: {report.lesson}: {report.error}")
    rows = []
    for sid in sorted(students):
        cells = students[sid]["cells"]
        total = sum(cells.get(f"{a.name}:total", 0) for a in assignments)
        manual = students[sid]["manual"]
        status = "; ".join(students[sid]["status"]) or "graded"
        if manual and not students[sid]["status"]:
            status += "; to mark by hand: " + ", ".join(manual)
        row = [sid, *[cells.get(c, "") for c in columns], total, max_total, sum(manual.values())]
        rows.append([*row, status])
    return header, rows


def write_gradebook(path, reports, assignments) -> Path:
    """Write the gradebook CSV to ``path`` (atomically); returns the path."""
    import os

    header, rows = gradebook_rows(reports, assignments)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)
    return path
