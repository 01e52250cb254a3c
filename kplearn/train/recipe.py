"""The numerics of a training step: precision, memory format, compilation and batch feeding.

:func:`kplearn.train.fit` takes four switches, each recorded in the run
(``History.recipe``, hence ``history.json`` and the checkpoint's ``history``):

``precision``
    ``"fp32"`` (default) or ``"bf16"``: the forward pass runs under
    ``torch.autocast(device, dtype=torch.bfloat16)`` where the device supports it
    (CPUs with AVX-512 BF16 / AMX through oneDNN, recent GPUs); elsewhere it falls back to
    fp32 and the run records ``"fp32"``. The loss, the optimiser and the weights stay fp32.
``channels_last``
    ``None`` (default): the device's preferred memory format
    (:func:`kplearn.train.predict.memory_format_for`: channels-last on the CPU);
    ``True`` / ``False`` force it on or off for training.
``compile``
    ``torch.compile`` the training forward pass (validation and prediction stay eager).
    Its compile time counts against the budget.
``prefetch``
    Augment the next batch in a background thread while the network trains on this
    one. The random draws happen in the same order as without it, so a run is the
    same bit for bit with or without prefetching.

Examples
--------
>>> r = resolve_recipe("cpu", precision="fp32")
>>> sorted(r)
['channels_last', 'compile', 'precision', 'prefetch']
>>> resolve_recipe("cpu", precision="fp64")
Traceback (most recent call last):
...
ValueError: precision must be one of fp32, bf16, got 'fp64'
"""

from __future__ import annotations

import contextlib
import queue
import threading
import warnings
from collections.abc import Callable

import numpy as np
import torch

__all__ = [
    "PRECISIONS",
    "bf16_supported",
    "resolve_recipe",
    "autocast",
    "outputs_to_float",
    "BatchSource",
]

PRECISIONS = ("fp32", "bf16")


def bf16_supported(device: str | torch.device = "cpu") -> bool:
    """Whether bf16 autocast runs natively on ``device`` (oneDNN bf16 on CPUs, bf16 GPUs)."""
    dev = torch.device(device)
    if dev.type == "cpu":
        try:
            return bool(
                torch.backends.mkldnn.is_available()
                and torch.ops.mkldnn._is_mkldnn_bf16_supported()
            )
        except (AttributeError, RuntimeError):
            return False
    if dev.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return False


def resolve_recipe(
    device: str | torch.device,
    precision: str = "fp32",
    channels_last: bool | None = None,
    compile: bool = False,
    prefetch: bool = False,
) -> dict:
    """The recipe a run actually uses: ``{"precision", "channels_last", "compile", "prefetch"}``.

    Checks the values; bf16 on a device without support falls back to fp32 with a warning.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    for name, value in (("compile", compile), ("prefetch", prefetch)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}")
    if channels_last is not None and not isinstance(channels_last, (bool, np.bool_)):
        raise ValueError(f"channels_last must be True, False or None, got {channels_last!r}")
    dev = torch.device(device)
    if precision == "bf16" and not bf16_supported(dev):
        warnings.warn(f"bf16 autocast is not supported on {dev}; training in fp32", stacklevel=3)
        precision = "fp32"
    if channels_last is None:
        from kplearn.train.predict import memory_format_for

        channels_last = memory_format_for(dev) == torch.channels_last
    return {"precision": precision, "channels_last": bool(channels_last), "compile": bool(compile),
            "prefetch": bool(prefetch)}  # fmt: skip


def memory_format(recipe: dict) -> torch.memory_format:
    """The training memory format of a resolved recipe."""
    return torch.channels_last if recipe["channels_last"] else torch.contiguous_format


def autocast(recipe: dict, device: str | torch.device):
    """A context manager: bf16 autocast for ``precision="bf16"``, nothing otherwise."""
    if recipe["precision"] == "bf16":
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def outputs_to_float(out):
    """An output dict (tensors, lists of tensors) with floating tensors cast to fp32 for the loss."""
    if isinstance(out, torch.Tensor):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, dict):
        return {k: outputs_to_float(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return type(out)(outputs_to_float(v) for v in out)
    return out


class BatchSource:
    """Training batches in the order of the random draws: per epoch a permutation, then batches.

    ``make_batch(indices, rng)`` builds one batch (augmentation included) from the
    generator; ``start_epoch()`` then ``get(b)`` for ``b = 0, 1, ...`` give the
    batches of an epoch. With ``prefetch=True`` a daemon thread builds the next batch
    while the caller trains on the current one; every random draw is made in the
    thread, in the same sequence, so the batches are identical. Call :meth:`close`.
    """

    def __init__(self, n: int, batch_size: int, steps_per_epoch: int, rng: np.random.Generator,
                 make_batch: Callable, prefetch: bool = False, depth: int = 2) -> None:  # fmt: skip
        self.n, self.bs, self.steps = n, batch_size, steps_per_epoch
        self.rng, self.make_batch = rng, make_batch
        self.order: np.ndarray | None = None
        self._queue: queue.Queue | None = None
        self._stop = threading.Event()
        if prefetch:
            self._queue = queue.Queue(maxsize=depth)
            self._thread = threading.Thread(target=self._work, daemon=True)
            self._thread.start()

    def _batch(self, order: np.ndarray, b: int):
        idx = torch.as_tensor(order[b * self.bs : (b + 1) * self.bs])
        return self.make_batch(idx, self.rng)

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            while not self._stop.is_set():
                order = self.rng.permutation(self.n)
                for b in range(self.steps):
                    if not self._put(("batch", self._batch(order, b))):
                        return
        except BaseException as err:  # handed to the training thread
            self._put(("error", err))

    def start_epoch(self) -> None:
        """Begin an epoch (draws its permutation, unless the thread does)."""
        if self._queue is None:
            self.order = self.rng.permutation(self.n)

    def get(self, b: int):
        """Batch ``b`` of the current epoch."""
        if self._queue is None:
            return self._batch(self.order, b)
        kind, item = self._queue.get()
        if kind == "error":
            raise item
        return item

    def close(self) -> None:
        """Stop the prefetching thread (if any)."""
        self._stop.set()
        if self._queue is not None:
            self._thread.join(timeout=5.0)
