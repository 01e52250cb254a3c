"""Progress display: a bar on a terminal or in Jupyter, a line now and then in a log.

Every long loop in kplearn reports progress through :func:`progress_bar`. What
it shows depends on where the output goes (:func:`progress_mode`):

- ``"bar"``: standard error is a terminal, so a tqdm bar redraws in place;
- ``"notebook"``: running in a Jupyter kernel, so a tqdm notebook widget;
- ``"log"``: standard error is a file or a pipe (CI logs, ``nohup``, ``2> log``),
  so a plain line at most every ``interval`` seconds and one at the end, never
  the ``\\r`` frames of a bar;
- ``"off"``: ``progress=False`` or ``TQDM_DISABLE`` is set.

Examples
--------
>>> for _ in progress_bar(range(3), progress=False, desc="nothing shown"):
...     pass
>>> progress_mode(False)
'off'
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

__all__ = ["progress_mode", "progress_bar", "LogProgress", "format_seconds"]

#: Seconds between two lines of progress in a log.
LOG_INTERVAL = 30.0


def format_seconds(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) of a duration in seconds.

    >>> format_seconds(65.4), format_seconds(3725)
    ('1:05', '1:02:05')
    """
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _tqdm_disabled() -> bool:
    return os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no")


def _in_jupyter() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def progress_mode(progress: bool = True, stream: TextIO | None = None) -> str:
    """How to show progress: ``"off"``, ``"bar"``, ``"notebook"`` or ``"log"`` (see the module)."""
    if not progress or _tqdm_disabled():
        return "off"
    if _in_jupyter():
        return "notebook"
    stream = sys.stderr if stream is None else stream
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        tty = False
    return "bar" if tty else "log"


class LogProgress:
    """A tqdm-like counter that prints a plain line at most every ``interval`` seconds.

    It has the part of tqdm's interface kplearn uses (iteration, ``update``,
    ``set_postfix``, ``set_postfix_str``, ``set_description``, ``write``,
    ``close``), so it stands in for a bar when the output is a log.

    Examples
    --------
    >>> import io
    >>> log = io.StringIO()
    >>> for _ in LogProgress(range(4), desc="cropping", interval=0.0, file=log):
    ...     pass
    >>> log.getvalue().splitlines()[-1].startswith("cropping: 4/4 (100%)")
    True
    """

    def __init__(self, iterable: Iterable | None = None, desc: str = "", total: int | None = None,
                 interval: float | None = None, file: TextIO | None = None,
                 unit: str = "it", **_: Any) -> None:  # fmt: skip
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = 0
        self.postfix = ""
        self.interval = LOG_INTERVAL if interval is None else float(interval)
        self.file = file
        self.start = time.perf_counter()
        self._last = self.start
        self._printed = False
        self._closed = False

    # --- tqdm's interface ------------------------------------------------------------------
    def __iter__(self) -> Iterator:
        for item in self.iterable or ():
            yield item
            self.update(1)
        self.close()

    def __len__(self) -> int:
        return int(self.total or 0)

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._print(now)

    def set_postfix(self, ordered_dict=None, refresh: bool = True, **kwargs) -> None:
        items = dict(ordered_dict or {}, **kwargs)
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = str(s)

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc or ""

    def refresh(self) -> None:
        pass

    def write(self, s: str, file: TextIO | None = None, end: str = "\n") -> None:
        print(s, file=file or sys.stdout, end=end, flush=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._printed:  # a log that showed the start also shows the end
            self._print(time.perf_counter())

    # --- the line ---------------------------------------------------------------------------
    def line(self, now: float | None = None) -> str:
        """The text of one progress line."""
        now = time.perf_counter() if now is None else now
        count = f"{self.n}/{self.total}" if self.total else f"{self.n} {self.unit}"
        if self.total:
            count += f" ({100 * self.n / self.total:.0f}%)"
        text = f"{self.desc}: {count}, {format_seconds(now - self.start)}"
        return text + (f", {self.postfix}" if self.postfix else "")

    def _print(self, now: float) -> None:
        print(self.line(now), file=self.file or sys.stderr, flush=True)
        self._last = now
        self._printed = True


def progress_bar(iterable: Iterable | None = None, progress: bool = True, *,
                 mode: str | None = None, **kwargs):  # fmt: skip
    """A progress display over ``iterable`` fit for where the output goes.

    A tqdm bar (terminal), a tqdm notebook bar (Jupyter), a :class:`LogProgress`
    (log), or a disabled tqdm (``progress=False`` or ``TQDM_DISABLE``);
    ``kwargs`` go to tqdm (``desc``, ``total``, ``unit``, ...). Terminal bars are
    removed when done unless ``leave=True`` is passed. ``mode`` imposes one of
    :func:`progress_mode`'s answers (e.g. one decided earlier).
    """
    mode = progress_mode(progress) if mode is None else mode
    if mode == "log":
        return LogProgress(iterable, **kwargs)
    if mode == "notebook":
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    kwargs.setdefault("leave", False)
    return tqdm(iterable, disable=mode == "off", **kwargs)
