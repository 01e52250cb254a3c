"""Progress over submissions: a bar on a terminal or in Jupyter, a line now and then in logs.

Examples
--------
>>> lines = []
>>> bar = Progress(3, desc="grading", enabled=True, log=lines.append, tty=False, every=0.0)
>>> bar.update("a.ipynb"); bar.update("b.ipynb"); bar.close()
>>> lines[0]
'grading: 1/3 done (a.ipynb)'
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress", "interactive"]


def interactive() -> bool:
    """Whether stderr is a terminal or this runs in a Jupyter kernel."""
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """``total`` steps: a tqdm bar when interactive, else a log line at most every ``every`` s.

    ``log`` receives the lines (default: print to stderr); the last step is always logged.
    """

    def __init__(self, total, *, desc="", enabled=True, log=None, tty=None, every=30.0) -> None:
        self.total, self.desc, self.enabled = int(total), desc, bool(enabled)
        self.done = 0
        self.every = float(every)
        self.last = time.monotonic()
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.bar = None
        if self.enabled and (interactive() if tty is None else tty):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=desc, unit="notebook")

    def update(self, what: str = "") -> None:
        self.done += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(what)
            self.bar.update(1)
            return
        now = time.monotonic()
        if now - self.last >= self.every or self.done == self.total:
            self.last = now
            self.log(f"{self.desc}: {self.done}/{self.total} done" + (f" ({what})" if what else ""))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
