"""What training shows while it runs: budget used, epoch, loss, last validation, time.

:func:`~kplearn.train.fit` reports through a :class:`TrainingProgress`: one bar
over the whole budget (epochs or minutes) on a terminal or in Jupyter, and a
plain line now and then when the output is a log (see :mod:`kplearn.progress`).
Its text reads, for a time budget::

    epoch 3, loss 0.0123, val nme 0.0554 (epoch 2), 1:05 / 2:00

and for an epoch budget ``epoch 3/10, ..., 1:05, about 2:10 left``.

Examples
--------
>>> import io
>>> log = io.StringIO()
>>> p = TrainingProgress(True, minutes=2.0, metric="nme", mode="log", file=log, start=0.0)
>>> p.update(0.5, epoch=3, loss=0.01234, now=65.0)
>>> p.end_epoch(3, val=0.05536, now=66.0)
>>> p.status(now=66.0)
'epoch 3, loss 0.0123, val nme 0.0554 (epoch 3), 1:06 / 2:00'
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from kplearn.progress import LOG_INTERVAL, format_seconds, progress_bar, progress_mode

__all__ = ["progress_bar", "progress_mode", "TrainingProgress", "format_value"]


def format_value(value: float | None) -> str:
    """A metric or loss for people to read: 4 decimals, or 3 significant digits when tiny.

    >>> format_value(0.05535739888594869), format_value(2.345678), format_value(1.2e-05)
    ('0.0554', '2.3457', '1.2e-05')
    """
    if value is None:
        return "-"
    v = float(value)
    if v != v:  # nan
        return "nan"
    return f"{v:.4f}" if v == 0 or abs(v) >= 1e-3 else f"{v:.3g}"


class TrainingProgress:
    """Progress of one training run (used by :func:`~kplearn.train.fit`).

    Parameters
    ----------
    progress : bool
        Show anything at all.
    epochs, minutes : optional
        The budget, as :func:`~kplearn.train.fit` takes it.
    metric : str
        Name of the validation metric.
    mode : str, optional
        ``"bar"``, ``"notebook"``, ``"log"`` or ``"off"``; by default from where
        standard error goes (:func:`kplearn.progress.progress_mode`).
    interval : float, optional
        Seconds between two lines in ``"log"`` mode (default ``LOG_INTERVAL``, 30).
    file : stream, optional
        Where ``"log"`` lines go (standard error by default).
    start : float, optional
        ``time.perf_counter()`` at the start of the budget (now by default).
    """

    def __init__(self, progress: bool = True, *, epochs: int | None = None,
                 minutes: float | None = None, metric: str = "loss", mode: str | None = None,
                 interval: float | None = None, file: TextIO | None = None,
                 start: float | None = None) -> None:  # fmt: skip
        self.mode = progress_mode(progress) if mode is None else mode
        self.epochs = epochs
        self.seconds = None if minutes is None else 60.0 * float(minutes)
        self.metric = metric
        self.interval = LOG_INTERVAL if interval is None else float(interval)
        self.file = file
        self.start = time.perf_counter() if start is None else float(start)
        self.epoch = 0
        self.loss: float | None = None
        self.val: float | None = None
        self.val_epoch: int | None = None
        self.fraction = 0.0
        self._last_line = self.start
        self._printed = False
        self._bar = None
        if self.mode in ("bar", "notebook"):
            self._bar = progress_bar(
                total=100, progress=True, desc="training", leave=False,
                bar_format="{desc} {percentage:3.0f}%|{bar:20}| {postfix}",
            )  # fmt: skip

    def _now(self, now: float | None) -> float:
        return time.perf_counter() if now is None else now

    def status(self, now: float | None = None) -> str:
        """The progress text: epoch, running loss, last validation, elapsed / budget."""
        elapsed = self._now(now) - self.start
        parts = [f"epoch {self.epoch}" + (f"/{self.epochs}" if self.epochs else "")]
        if self.loss is not None:
            parts.append(f"loss {format_value(self.loss)}")
        if self.val is not None:
            parts.append(f"val {self.metric} {format_value(self.val)} (epoch {self.val_epoch})")
        if self.seconds is not None:
            parts.append(f"{format_seconds(elapsed)} / {format_seconds(self.seconds)}")
        else:
            text = format_seconds(elapsed)
            if 0.02 < self.fraction < 1.0:
                left = elapsed * (1.0 - self.fraction) / self.fraction
                text += f", about {format_seconds(left)} left"
            parts.append(text)
        return ", ".join(parts)

    def update(self, fraction: float, *, epoch: int, loss: float | None = None,
               now: float | None = None) -> None:  # fmt: skip
        """After a training step: ``fraction`` of the budget used, the epoch's running loss."""
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        self.epoch = epoch
        if loss is not None:
            self.loss = float(loss)
        self._show(now)

    def end_epoch(self, epoch: int, val: float | None = None, now: float | None = None) -> None:
        """After an epoch's validation (``val`` is its metric, ``None`` without validation)."""
        self.epoch = epoch
        if val is not None:
            self.val, self.val_epoch = float(val), epoch
        self._show(now)

    def _show(self, now: float | None) -> None:
        if self._bar is not None:
            self._bar.n = round(100 * self.fraction)
            self._bar.set_postfix_str(self.status(now), refresh=False)
            self._bar.update(0)  # redraws at tqdm's own pace
        elif self.mode == "log":
            t = self._now(now)
            if t - self._last_line >= self.interval:
                self._print(t)

    def _print(self, now: float) -> None:
        print(f"training: {self.status(now)}", file=self.file or sys.stderr, flush=True)
        self._last_line = now
        self._printed = True

    def close(self) -> None:
        """Remove the bar; in a log, a last line when earlier lines were printed."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.mode == "log" and self._printed:
            self._print(time.perf_counter())
