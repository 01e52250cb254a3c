"""The grading worker: one process per submission, watched by the grader.

:func:`kplearn.assignments.grade.grade_submissions` starts ``python -m
kplearn.assignments.worker`` for each submission and sends it the job (the
submission and instructor notebooks as read before any student code ran, the
reference run, the limits) on stdin. The worker makes itself a child
subreaper, grades with :func:`~kplearn.assignments.grade.grade_submission` —
so the kernel is the *worker's* child, not the grader's — and writes
HMAC-signed JSON lines to stdout: a heartbeat every second and, at the end,
the report. Lines that do not carry the job's signature (written into the
pipe by anything else) are ignored by the grader.

When the kernel kills or stops the worker, the grader notices (no report, a
dead or stopped process, no heartbeat), kills what is left of that
submission, scores it as failed and goes on.
"""

from __future__ import annotations

import pickle
import sys
import threading

from kplearn.assignments.signing import sign

__all__ = ["main"]


def main() -> None:
    job = pickle.load(sys.stdin.buffer)  # from the grader (trusted)
    sys.stdin.close()
    key = job["key"]
    out = sys.stdout
    lock = threading.Lock()

    def emit(message: dict) -> None:
        with lock:
            out.write(sign(key, message) + "\n")
            out.flush()

    from kplearn.assignments import isolation

    isolation.become_subreaper()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(1.0):
            emit({"type": "alive"})

    threading.Thread(target=beat, daemon=True).start()
    import nbformat

    from kplearn.assignments.grade import feedback_cells, grade_submission
    from kplearn.assignments.markup import parse_assignment

    assignment = parse_assignment(
        nbformat.reads(job["source_text"], as_version=4), name=job["lesson"], path=job["source_path"]
    )
    try:
        submission_nb = nbformat.reads(job["submission_text"], as_version=4)
    except Exception as err:  # the grader read it already; this is a last guard
        emit({"type": "error", "error": f"not a readable notebook: {err}"})
        return
    report = grade_submission(
        job["name"], assignment, submission_nb=submission_nb, **job["options"]
    )
    cells = feedback_cells(report, assignment) if job.get("feedback") else None
    stop.set()
    emit({"type": "report", "report": report.to_dict(), "cells": cells})
    for pid in isolation.children(__import__("os").getpid()):
        isolation.kill_tree(pid)
    isolation.reap_orphans()


if __name__ == "__main__":
    main()
