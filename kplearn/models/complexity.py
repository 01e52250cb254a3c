"""How big and how fast a network is: parameters, multiply-accumulates and CPU time per image.

Examples
--------
>>> from kplearn.models.registry import build_model
>>> prof = model_profile(build_model("heatmap", "faces68"), (64, 64), repeats=1)
>>> sorted(prof)
['macs', 'ms_per_image', 'params']
"""

from __future__ import annotations

import torch
from torch import nn

from kplearn.timing import median_ms

__all__ = ["count_parameters", "count_macs", "time_per_image", "model_profile"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all of them by default)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


def _input(input_size: tuple[int, int], batch: int = 1) -> torch.Tensor:
    w, h = (int(input_size[0]), int(input_size[1]))
    return torch.zeros(batch, 3, h, w)


def _conv_macs(module: nn.Module, inputs, output) -> int:
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return output.numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.ConvTranspose2d):
        kh, kw = module.kernel_size
        return inputs[0].numel() * (module.out_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return output.numel() * module.in_features
    if hasattr(module, "extra_macs"):  # modules with products of their own (per-keypoint maps)
        return int(module.extra_macs(inputs, output))
    return 0


def count_macs(model: nn.Module, input_size: tuple[int, int]) -> int:
    """Multiply-accumulates of one forward pass on one ``(width, height)`` image.

    Counts the products of convolutions (plain and transposed), linear layers and
    modules that report their own (``extra_macs``), found with forward hooks;
    element-wise operations, normalisation, pooling and resampling are not
    counted, as is usual.
    """
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        total += _conv_macs(module, inputs, output)

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(_input(input_size).to(_device(model)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return int(total)


def _device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def time_per_image(
    model: nn.Module,
    input_size: tuple[int, int],
    batch: int = 1,
    repeats: int = 20,
    warmup: int = 3,
) -> float:
    """Median wall-clock milliseconds per image of an eval-mode forward pass on the CPU.

    Uses the current ``torch.get_num_threads()``; the median of ``repeats`` timed
    calls on a batch of ``batch`` images (:func:`kplearn.timing.median_ms`), divided
    by ``batch``. To time a whole ``predict`` (crop, network, decode) of any
    localiser, use :func:`kplearn.timing.time_per_image`.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    was_training = model.training
    device = next(model.parameters()).device
    model.eval().cpu()
    x = _input(input_size, batch)
    try:
        with torch.no_grad():
            ms = median_ms(lambda: model(x), repeats, warmup)
    finally:
        model.to(device).train(was_training)
    return ms / batch


def model_profile(
    model: nn.Module, input_size: tuple[int, int] | None = None, repeats: int = 20
) -> dict:
    """``{"params", "macs", "ms_per_image"}`` of a model on a ``(width, height)`` input.

    ``input_size`` defaults to the model's own (``model.input_size``). The time is
    that of the network alone (batch of one, eval mode, CPU), without decoding or
    flip test.
    """
    if input_size is None:
        input_size = getattr(model, "input_size", None)
        if input_size is None:
            raise ValueError("input_size is needed for a model that does not define one")
    return {
        "params": count_parameters(model),
        "macs": count_macs(model, input_size),
        "ms_per_image": time_per_image(model, input_size, repeats=repeats),
    }
