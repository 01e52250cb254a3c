"""Train several deep localisers side by side: one process, one CPU thread each.

The small networks of the lessons keep two CPU threads poorly busy: a forward and
backward pass on a batch of 64-pixel crops is too short to split well across threads.
Several trainings that are independent of one another (the seeds of one model, or
different models on the same data) then finish sooner when each runs in a process of
its own with one thread than when they run one after the other on all threads.
``benchmarks/bench_train_parallel.py`` measures the ratio on this machine.

The processes are started with ``spawn`` (a fresh interpreter: safe beside OpenMP thread
pools and inside Jupyter kernels); the training data are sent to each worker once, and
each trained localiser comes back to the caller. With ``workers=1`` everything runs in
the calling process, on its threads, one after the other.

Examples
--------
>>> from kplearn.data.synthetic import make_faces
>>> from kplearn.train import DeepLocaliser
>>> faces = make_faces(24, image_size=64, seed=0)
>>> locs = [DeepLocaliser("regression", "faces68", preset="fast", seed=s) for s in (0, 1)]
>>> fitted = fit_parallel(locs, faces[:16], faces[16:], workers=1, epochs=1)
>>> [loc.seed for loc in fitted], fitted[0].history.epochs[0]["epoch"]
([0, 1], 1)
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor

import torch

from kplearn.data.datasets import KeypointDataset
from kplearn.progress import progress_bar
from kplearn.train.runs import DeepLocaliser

__all__ = ["fit_parallel", "default_workers"]

# What a worker process holds: the data it trains on, sent once by the pool's initializer.
_WORKER_DATA: dict = {}


def default_workers() -> int:
    """The number of worker processes :func:`fit_parallel` uses by default.

    One per thread torch may use here (``torch.get_num_threads()``, which follows
    ``OMP_NUM_THREADS``): a grader that gives each notebook one thread gets one worker,
    so nothing runs in parallel behind its back.

    >>> default_workers() == max(1, torch.get_num_threads())
    True
    """
    return max(1, torch.get_num_threads())


def _init_worker(train: KeypointDataset, val: KeypointDataset | None) -> None:
    torch.set_num_threads(1)
    _WORKER_DATA["train"], _WORKER_DATA["val"] = train, val


def _fit_in_worker(loc: DeepLocaliser, fit_kwargs: dict) -> tuple[DeepLocaliser, float]:
    start = time.perf_counter()
    loc.fit(_WORKER_DATA["train"], _WORKER_DATA["val"], progress=False, **fit_kwargs)
    return loc, time.perf_counter() - start


def fit_parallel(localisers: Iterable[DeepLocaliser], train: KeypointDataset,
                 val: KeypointDataset | None = None, *, workers: int | None = None,
                 progress: bool = False, **fit_kwargs) -> list[DeepLocaliser]:  # fmt: skip
    """Fit each localiser on ``train`` (validating on ``val``), ``workers`` at a time.

    Parameters
    ----------
    localisers : iterable of DeepLocaliser
        Untrained localisers, each with its own settings and seed (training uses
        ``loc.seed``, so seeds given here are not overridden).
    train, val : KeypointDataset
        The data every localiser trains and validates on.
    workers : int, optional
        Processes training at once, one CPU thread each; default :func:`default_workers`.
        ``1`` trains in this process, one localiser after the other.
    progress : bool
        A progress bar over the localisers (one step per finished training).
    **fit_kwargs
        Passed to :meth:`DeepLocaliser.fit` (``epochs``, ``minutes``, ...).

    Returns
    -------
    list of DeepLocaliser
        The trained localisers, in the order given. Each has
        ``fit_seconds``, the wall-clock seconds its own training took.

    Raises
    ------
    ValueError
        If a localiser is not a :class:`DeepLocaliser`, is already trained, or if
        ``workers`` is not a positive integer, or ``fit_kwargs`` sets ``seed``.
    """
    locs = list(localisers)
    for i, loc in enumerate(locs):
        if not isinstance(loc, DeepLocaliser):
            raise ValueError(f"localiser {i} is a {type(loc).__name__}, not a DeepLocaliser")
        if loc.model is not None and loc.history is not None:
            raise ValueError(f"localiser {i} ({loc.name}) is already trained")
    if "seed" in fit_kwargs:
        raise ValueError("'seed' is not a fit_parallel argument: each localiser trains with its own seed")
    if workers is None:
        workers = default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    workers = min(workers, len(locs)) if locs else 1
    done: list[tuple[DeepLocaliser, float]] = []
    bar = progress_bar(total=len(locs), progress=progress, desc="trainings", unit="model")
    if workers == 1:
        for loc in locs:
            start = time.perf_counter()
            loc.fit(train, val, progress=False, **fit_kwargs)
            done.append((loc, time.perf_counter() - start))
            bar.update(1)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(train, val)) as pool:  # fmt: skip
            futures = [pool.submit(_fit_in_worker, loc, fit_kwargs) for loc in locs]
            for future in futures:
                done.append(future.result())
                bar.update(1)
    bar.close()
    for loc, seconds in done:
        loc.fit_seconds = seconds
    return [loc for loc, _ in done]
