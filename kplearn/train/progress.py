"""tqdm progress bars that stay quiet when asked, off a terminal, or with ``TQDM_DISABLE`` set."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm

__all__ = ["progress_enabled", "progress_bar"]


def progress_enabled(progress: bool) -> bool:
    """Whether to draw a bar: ``progress`` is on, stderr is a terminal and ``TQDM_DISABLE`` is unset."""
    if not progress:
        return False
    if os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def progress_bar(iterable=None, progress: bool = True, **kwargs) -> tqdm:
    """``tqdm(iterable, **kwargs)``, disabled unless :func:`progress_enabled`."""
    return tqdm(iterable, disable=not progress_enabled(progress), leave=False, **kwargs)
