"""Helpers shared by the benchmark scripts (imported as ``_common``: the scripts' own folder
is on ``sys.path`` when one is run as ``python benchmarks/bench_X.py``)."""

from __future__ import annotations

import os
from pathlib import Path


def load_average() -> float:
    """The 1-minute load average, NaN where the platform has none (a busy machine skews timings)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


class ResultTable:
    """A text table printed line by line as results come, and optionally saved at the end.

    Parameters
    ----------
    head : list of str
        The heading lines (comments and column titles), printed at once.

    Examples
    --------
    >>> table = ResultTable(["# demo", "name  value"])
    # demo
    name  value
    >>> table.add("a     1")
    a     1
    >>> table.lines
    ['# demo', 'name  value', 'a     1']
    """

    def __init__(self, head: list[str]) -> None:
        self.lines = list(head)
        print("\n".join(self.lines), flush=True)

    def add(self, line: str) -> None:
        """Print one row now (flushed: long runs show progress) and keep it for :meth:`save`."""
        print(line, flush=True)
        self.lines.append(line)

    def save(self, out: str | Path | None) -> None:
        """Write every line to ``out`` (its folder created); nothing when ``out`` is None."""
        if out:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text("\n".join(self.lines) + "\n")
