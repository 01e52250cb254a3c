"""How big and how fast a network is: its layers, parameters, multiply-accumulates and CPU time per image.

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

__all__ = ["count_parameters", "model_summary", "count_macs", "time_per_image", "model_profile"]


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all of them by default)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


def _shape_text(output) -> str:
    """Shape of one image's share of a module output: tensors, lists/tuples of them, dicts of them."""
    if isinstance(output, torch.Tensor):
        return str(tuple(output.shape[1:]))
    if isinstance(output, (list, tuple)):
        return "[" + ", ".join(_shape_text(o) for o in output) + "]"
    if isinstance(output, dict):
        return ", ".join(f"{k} {_shape_text(v)}" for k, v in output.items())
    return type(output).__name__


def model_summary(model: nn.Module, input_size: tuple[int, int] | None = None, depth: int = 2) -> str:
    """A table of a network's layers: each module's type, output shape and parameter count.

    One forward pass (eval mode, no gradient) of a batch of one zero image through
    ``model`` records, with forward hooks, the output of every sub-module down to
    ``depth`` levels of nesting; children are indented under their parent. Shapes
    are per image (the batch dimension is left out); a module's parameters include
    those of its children, so the rows of one level add up to their parent's.

    Parameters
    ----------
    model : nn.Module
        Takes ``(N, 3, H, W)`` images.
    input_size : (int, int), optional
        ``(width, height)``; by default the model's own ``input_size``.
    depth : int
        How many levels of sub-modules to list (1: only the direct children).

    Returns
    -------
    str
        One line per module, then a ``total`` line with the parameter count
        (and the trainable count when some parameters are frozen).

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(128, 2))
    >>> print(model_summary(net, (8, 8)))
    layer  type     output (per image)  parameters
    0      Conv2d   (8, 4, 4)                  224
    1      ReLU     (8, 4, 4)                    0
    2      Flatten  (128,)                       0
    3      Linear   (2,)                       258
    total                                      482
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    if input_size is None:
        input_size = getattr(model, "input_size", None)
        if input_size is None:
            raise ValueError("input_size is needed for a model that does not define one")
    listed = [(name, m) for name, m in model.named_modules() if name and name.count(".") < depth]
    shapes: dict[str, str] = {}

    def recorder(name: str):
        def hook(module, inputs, output):
            shapes[name] = _shape_text(output)

        return hook

    _hooked_forward(model, input_size, [(m, recorder(name)) for name, m in listed])
    rows = [("layer", "type", "output (per image)", "parameters")]
    for name, m in listed:
        indent = "  " * name.count(".")
        rows.append((indent + name, type(m).__name__, shapes.get(name, "-"), f"{count_parameters(m):,}"))
    total, trainable = count_parameters(model), count_parameters(model, trainable_only=True)
    rows.append(("total", "", "", f"{total:,}" + ("" if trainable == total else f" ({trainable:,} trainable)")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        f"{r[0]:{widths[0]}s}  {r[1]:{widths[1]}s}  {r[2]:{widths[2]}s}  {r[3]:>{widths[3]}s}" for r in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def _input(input_size: tuple[int, int], batch: int = 1) -> torch.Tensor:
    w, h = (int(input_size[0]), int(input_size[1]))
    return torch.zeros(batch, 3, h, w)


def _hooked_forward(model: nn.Module, input_size: tuple[int, int], hooks: list) -> None:
    """Run one eval-mode, no-grad forward pass on a blank image with forward hooks attached.

    Parameters
    ----------
    model : nn.Module
        The network; its training mode is restored afterwards, even when the pass fails.
    input_size : (int, int)
        ``(width, height)`` of the blank image.
    hooks : list of (nn.Module, callable)
        Each module's forward hook, removed again after the pass.
    """
    handles = [module.register_forward_hook(hook) for module, hook in hooks]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(_input(input_size).to(_device(model)))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)


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

    _hooked_forward(model, input_size, [(m, hook) for m in model.modules()])
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
