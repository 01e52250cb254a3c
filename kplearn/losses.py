"""Training losses for keypoint models (torch), each a function and an ``nn.Module``.

:data:`LOSSES` is the one registry of loss names: a model config's ``"loss"``
(``"l1"``, ``"mse"``, ``"ce"`` ...) is looked up there, by :func:`get_loss`,
:func:`coordinate_loss` and :func:`heatmap_loss`, with the settings kplearn's
networks use.

Published implementations differ by factors of 2 and in what they average, so every
reduction is stated. Notation: ``d = pred - target``; ``w`` the keypoint weights from
the codecs (``v > 0`` and inside the map), shape ``(N, K)``; ``w = 1`` when omitted.
The weight multiplies the *per-element loss* (``w d^2``), as in MMPose 1.x; HRNet
weights the inputs (``(w p - w g)^2 = w^2 d^2``); the two agree for 0/1 weights.
Means run over *all* elements, masked ones included (a batch with half the keypoints
masked gives half the loss), except where stated.

=====================  =========================  ============================================
loss                   shapes                     reduction
=====================  =========================  ============================================
coordinate_mse         (N, K, D)                  mean over N, K, D of ``w d^2`` -- **no 1/2**
l1                     (N, K, D)                  mean over N, K, D of ``w |d|``
smooth_l1 (beta=1)     (N, K, D)                  mean over N, K, D; ``d^2 / 2 beta`` or ``|d| - beta / 2``
wing_loss              (N, K, D)                  **sum over K and D, mean over N** (Feng et al.)
adaptive_wing_loss     (N, K, H, W)               mean over N, K, H, W
heatmap_mse            (N, K, H, W)               mean over N, K, H, W of ``w d^2``; no 1/2 unless ``half=True``
ohkm_mse (topk=8)      (N, K, H, W)               per (n, k) mean over H, W; mean of the top-k per n; mean over N
spatial_softmax_ce     (N, K, H, W)               per (n, k) sum over pixels; mean over N, K
kl_1d                  (N, K, B)                  per (n, k) mean over bins; mean over N, K
=====================  =========================  ============================================

Relations to published code, for reproducing numbers:

* ``heatmap_mse`` equals MMPose 1.x ``KeypointMSELoss``; ``half=True`` equals HRNet's
  ``JointsMSELoss`` (for 0/1 weights), which is exactly half of MMPose's.
* ``ohkm_mse`` equals MMPose's ``KeypointOHKMMSELoss``; HRNet's has an extra 1/2.
* ``coordinate_mse``, ``l1``, ``smooth_l1`` equal ``torch.nn.functional``'s ``mse_loss``,
  ``l1_loss``, ``smooth_l1_loss`` (mean) when no weights are given.
* ``kl_1d``: MMPose's ``KLDiscretLoss`` sums over N and K and divides by K, i.e. it is
  ``N`` times ``kl_1d``, and it sums the two SimCC axes (use :func:`simcc_kl`).
* ``spatial_softmax_ce``: the target channel is clipped at 0 and normalised to sum 1; a
  channel with no positive value contributes 0 (give it weight 0 anyway).

Examples
--------
>>> import torch
>>> from kplearn.losses import wing_loss, WingLoss
>>> pred, target = torch.tensor([[[1.0]]]), torch.zeros(1, 1, 1)
>>> round(float(wing_loss(pred, target)), 4), round(float(WingLoss()(pred, target)), 4)
(4.0547, 4.0547)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "coordinate_mse",
    "l1",
    "smooth_l1",
    "wing_loss",
    "adaptive_wing_loss",
    "heatmap_mse",
    "ohkm_mse",
    "spatial_softmax_ce",
    "kl_1d",
    "simcc_kl",
    "CoordinateMSELoss",
    "CoordinateL1Loss",
    "CoordinateSmoothL1Loss",
    "WingLoss",
    "AdaptiveWingLoss",
    "HeatmapMSELoss",
    "OHKMMSELoss",
    "SpatialSoftmaxCELoss",
    "KL1DLoss",
    "LossSpec",
    "LOSSES",
    "get_loss",
    "coordinate_loss",
    "heatmap_loss",
]


# --------------------------------------------------------------------------- checks


def _check(
    pred: Tensor, target: Tensor, weights: Tensor | None, name: str, ndim: int, spatial: int
):
    """Validate shapes; return the weights broadcast to ``pred`` (or None).

    ``spatial`` is the number of trailing axes the weights do not cover (1 for
    coordinates ``(..., D)`` and 1-D labels, 2 for heatmaps).
    """
    if not isinstance(pred, Tensor) or not isinstance(target, Tensor):
        raise ValueError(f"{name}: pred and target must be torch tensors")
    if pred.shape != target.shape:
        raise ValueError(
            f"{name}: pred {tuple(pred.shape)} and target {tuple(target.shape)} differ in shape"
        )
    if pred.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim}-D inputs, got shape {tuple(pred.shape)}")
    if not pred.is_floating_point():
        raise ValueError(f"{name}: pred must be floating point, got {pred.dtype}")
    if not bool(torch.isfinite(target).all()):
        raise ValueError(f"{name}: target contains NaN or inf")
    if weights is None:
        return None
    if not isinstance(weights, Tensor):
        weights = torch.as_tensor(weights, dtype=pred.dtype, device=pred.device)
    lead = pred.shape[: pred.ndim - spatial]
    if weights.shape != lead:
        raise ValueError(
            f"{name}: weights must have shape {tuple(lead)}, got {tuple(weights.shape)}"
        )
    if not bool(torch.isfinite(weights).all()) or bool((weights < 0).any()):
        raise ValueError(f"{name}: weights must be finite and >= 0")
    return weights.to(pred.dtype).reshape(*lead, *([1] * spatial))


def _weighted(loss: Tensor, w: Tensor | None) -> Tensor:
    return loss if w is None else loss * w


# ------------------------------------------------------------------ coordinate losses


def coordinate_mse(pred: Tensor, target: Tensor, weights: Tensor | None = None) -> Tensor:
    """Squared error of coordinates ``(N, K, D)``: ``mean_{N,K,D}(w d^2)``, no 1/2.

    Examples
    --------
    >>> import torch
    >>> float(coordinate_mse(torch.tensor([[[3.0, 4.0]]]), torch.zeros(1, 1, 2)))
    12.5
    """
    w = _check(pred, target, weights, "coordinate_mse", 3, 1)
    return _weighted((pred - target) ** 2, w).mean()


def l1(pred: Tensor, target: Tensor, weights: Tensor | None = None) -> Tensor:
    """Absolute error of coordinates ``(N, K, D)``: ``mean_{N,K,D}(w |d|)``.

    Examples
    --------
    >>> import torch
    >>> float(l1(torch.tensor([[[3.0, -4.0]]]), torch.zeros(1, 1, 2)))
    3.5
    """
    w = _check(pred, target, weights, "l1", 3, 1)
    return _weighted((pred - target).abs(), w).mean()


def smooth_l1(
    pred: Tensor, target: Tensor, weights: Tensor | None = None, beta: float = 1.0
) -> Tensor:
    """Huber-style loss ``d^2 / (2 beta)`` for ``|d| < beta``, else ``|d| - beta / 2``; mean over N, K, D.

    Examples
    --------
    >>> import torch
    >>> float(smooth_l1(torch.tensor([[[0.5, 2.0]]]), torch.zeros(1, 1, 2)))
    0.8125
    """
    if not beta > 0:
        raise ValueError(f"smooth_l1: beta must be positive, got {beta!r}")
    w = _check(pred, target, weights, "smooth_l1", 3, 1)
    return _weighted(F.smooth_l1_loss(pred, target, reduction="none", beta=beta), w).mean()


def wing_loss(
    pred: Tensor,
    target: Tensor,
    weights: Tensor | None = None,
    omega: float = 10.0,
    epsilon: float = 2.0,
    keypoint_mean: bool = False,
) -> Tensor:
    """Wing loss (Feng et al., CVPR 2018): log-shaped for small errors, L1 for large.

    ``omega ln(1 + |d| / epsilon)`` for ``|d| < omega``, else ``|d| - C`` with
    ``C = omega - omega ln(1 + omega / epsilon)``, so the two pieces meet at
    ``|d| = omega``. Sum over K and D, mean over N; ``keypoint_mean=True`` divides by
    K as well, so the scale does not depend on the layout (what the kplearn networks
    use). ``omega`` is in the units of the coordinates: with coordinates in ``[-1, 1]``
    or ``[0, 1]`` every error is in the log part (as MMPose's face configs), with
    pixels the large errors are L1.

    Examples
    --------
    >>> import torch
    >>> round(float(wing_loss(torch.tensor([[[10.0]]]), torch.zeros(1, 1, 1))), 4)
    17.9176
    """
    if not (omega > 0 and epsilon > 0):
        raise ValueError(
            f"wing_loss: omega and epsilon must be positive, got {omega!r}, {epsilon!r}"
        )
    w = _check(pred, target, weights, "wing_loss", 3, 1)
    delta = (pred - target).abs()
    c = omega - omega * math.log1p(omega / epsilon)
    loss = torch.where(delta < omega, omega * torch.log1p(delta / epsilon), delta - c)
    out = _weighted(loss, w).sum(dim=(1, 2)).mean()
    return out / pred.shape[1] if keypoint_mean else out


# ------------------------------------------------------------------- heatmap losses


def adaptive_wing_loss(
    pred: Tensor,
    target: Tensor,
    weights: Tensor | None = None,
    alpha: float = 2.1,
    omega: float = 14.0,
    epsilon: float = 1.0,
    theta: float = 0.5,
) -> Tensor:
    """Adaptive Wing loss (Wang et al., ICCV 2019) on heatmaps ``(N, K, H, W)``, mean over all pixels.

    With ``delta = |target - pred|`` and ``y = target``: ``omega ln(1 + (delta/epsilon)^(alpha-y))``
    for ``delta < theta``, else ``A delta - C`` with
    ``A = omega (alpha - y) (theta/epsilon)^(alpha-y-1) / (epsilon (1 + (theta/epsilon)^(alpha-y)))``
    and ``C = theta A - omega ln(1 + (theta/epsilon)^(alpha-y))`` (continuous at ``theta``).
    The exponent adapts to the target: near-quadratic on the background (``y = 0``),
    sharper near the peak. Targets should lie in ``[0, 1]``. The paper's weighted
    loss map is not included.

    Examples
    --------
    >>> import torch
    >>> round(float(adaptive_wing_loss(torch.ones(1, 1, 1, 1), torch.zeros(1, 1, 1, 1))), 4)
    8.4959
    """
    w = _check(pred, target, weights, "adaptive_wing_loss", 4, 2)
    delta = (target - pred).abs()
    power = alpha - target
    ratio = theta / epsilon
    a = omega * (1.0 / (1.0 + ratio**power)) * power * ratio ** (power - 1.0) / epsilon
    c = theta * a - omega * torch.log1p(ratio**power)
    small = omega * torch.log1p((delta / epsilon) ** power)
    loss = torch.where(delta < theta, small, a * delta - c)
    return _weighted(loss, w).mean()


def heatmap_mse(
    pred: Tensor, target: Tensor, weights: Tensor | None = None, half: bool = False
) -> Tensor:
    """Heatmap MSE ``mean_{N,K,H,W}(w d^2)`` (MMPose 1.x); ``half=True`` multiplies by 1/2 (HRNet).

    Examples
    --------
    >>> import torch
    >>> p, t = torch.ones(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)
    >>> float(heatmap_mse(p, t)), float(heatmap_mse(p, t, half=True))
    (1.0, 0.5)
    """
    w = _check(pred, target, weights, "heatmap_mse", 4, 2)
    loss = _weighted((pred - target) ** 2, w).mean()
    return 0.5 * loss if half else loss


def ohkm_mse(pred: Tensor, target: Tensor, weights: Tensor | None = None, topk: int = 8) -> Tensor:
    """Online hard keypoint mining: the mean of each sample's ``topk`` largest per-keypoint MSEs.

    Per ``(n, k)``: ``mean_{H,W}(w d^2)``; keep the ``topk`` largest per sample;
    average them, then over N. Raises when ``K < topk``.

    Examples
    --------
    >>> import torch
    >>> p = torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1)
    >>> float(ohkm_mse(p, torch.zeros(1, 3, 1, 1), topk=2))
    6.5
    """
    w = _check(pred, target, weights, "ohkm_mse", 4, 2)
    if isinstance(topk, bool) or int(topk) != topk or topk < 1:
        raise ValueError(f"ohkm_mse: topk must be a positive integer, got {topk!r}")
    if pred.shape[1] < topk:
        raise ValueError(
            f"ohkm_mse: topk={topk} is larger than the number of keypoints K={pred.shape[1]}"
        )
    per_kp = _weighted((pred - target) ** 2, w).mean(dim=(2, 3))
    return torch.topk(per_kp, int(topk), dim=1).values.mean()


def spatial_softmax_ce(logits: Tensor, target: Tensor, weights: Tensor | None = None) -> Tensor:
    """Cross-entropy between ``softmax`` over the pixels of each channel and the target map as a distribution.

    ``t = max(target, 0) / sum(max(target, 0))`` per channel, then
    ``CE = -sum_pixels t log_softmax(logits)``; mean over N and K (weighted). The
    minimum is the entropy of ``t``, not 0: for a one-hot target over ``P`` pixels and
    uniform logits it is ``ln P``.

    Examples
    --------
    >>> import torch
    >>> t = torch.zeros(1, 1, 2, 4); t[0, 0, 1, 2] = 1.0
    >>> round(float(spatial_softmax_ce(torch.zeros(1, 1, 2, 4), t)), 4)  # ln 8
    2.0794
    """
    w = _check(logits, target, weights, "spatial_softmax_ce", 4, 2)
    t = target.clamp(min=0).flatten(2)
    total = t.sum(dim=-1, keepdim=True)
    t = torch.where(total > 0, t / total.clamp(min=torch.finfo(t.dtype).tiny), torch.zeros_like(t))
    ce = -(t * F.log_softmax(logits.flatten(2), dim=-1)).sum(dim=-1)
    if w is not None:
        ce = ce * w[..., 0, 0]
    return ce.mean()


def kl_1d(
    pred: Tensor,
    target: Tensor,
    weights: Tensor | None = None,
    beta: float = 1.0,
    label_softmax: bool = False,
    label_beta: float = 10.0,
) -> Tensor:
    """KL divergence for 1-D labels (SimCC): ``KL(t || softmax(beta pred))`` per ``(n, k)``, averaged over bins.

    ``mean_bins[t (log t - log_softmax(beta pred))]`` with ``0 log 0 = 0``, times ``w``,
    mean over N and K. ``label_softmax=True`` uses ``t = softmax(label_beta target)``
    (RTMPose). Inputs ``(N, K, B)``.

    Examples
    --------
    >>> import torch, math
    >>> t = torch.zeros(1, 1, 8); t[0, 0, 3] = 1.0
    >>> abs(float(kl_1d(torch.zeros(1, 1, 8), t)) - math.log(8) / 8) < 1e-6
    True
    """
    w = _check(pred, target, weights, "kl_1d", 3, 1)
    t = F.softmax(label_beta * target, dim=-1) if label_softmax else target
    loss = (torch.xlogy(t, t) - t * F.log_softmax(beta * pred, dim=-1)).mean(dim=-1)
    if w is not None:
        loss = loss * w[..., 0]
    return loss.mean()


def simcc_kl(
    pred_x: Tensor,
    pred_y: Tensor,
    target_x: Tensor,
    target_y: Tensor,
    weights: Tensor | None = None,
    **kwargs,
) -> Tensor:
    """``kl_1d`` on the x labels plus ``kl_1d`` on the y labels (the SimCC loss, MMPose / N)."""
    return kl_1d(pred_x, target_x, weights, **kwargs) + kl_1d(pred_y, target_y, weights, **kwargs)


# -------------------------------------------------------------------------- modules


class _Loss(nn.Module):
    """Wraps a loss function with fixed keyword arguments.

    A subclass names its function in the class statement, ``class L(_Loss, fn=f)``, and
    spells out the settings it accepts in its own ``__init__`` (so that a misspelt setting
    is a ``TypeError`` at construction, not at the first forward pass).
    """

    _fn: Callable[..., Tensor]

    def __init_subclass__(cls, fn: Callable[..., Tensor] | None = None, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if fn is not None:
            cls._fn = staticmethod(fn)

    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs

    def forward(self, pred: Tensor, target: Tensor, weights: Tensor | None = None) -> Tensor:
        return type(self)._fn(pred, target, weights, **self.kwargs)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())


class _PlainLoss(_Loss):
    """A :class:`_Loss` whose function takes no settings."""

    def __init__(self) -> None:
        super().__init__()


class CoordinateMSELoss(_PlainLoss, fn=coordinate_mse):
    """:func:`coordinate_mse` as a module."""


class CoordinateL1Loss(_PlainLoss, fn=l1):
    """:func:`l1` as a module."""


class CoordinateSmoothL1Loss(_Loss, fn=smooth_l1):
    """:func:`smooth_l1` as a module."""

    def __init__(self, beta: float = 1.0):
        super().__init__(beta=beta)


class WingLoss(_Loss, fn=wing_loss):
    """:func:`wing_loss` as a module (omega = 10, epsilon = 2)."""

    def __init__(self, omega: float = 10.0, epsilon: float = 2.0, keypoint_mean: bool = False):
        super().__init__(omega=omega, epsilon=epsilon, keypoint_mean=keypoint_mean)


class AdaptiveWingLoss(_Loss, fn=adaptive_wing_loss):
    """:func:`adaptive_wing_loss` as a module (alpha 2.1, omega 14, epsilon 1, theta 0.5)."""

    def __init__(
        self, alpha: float = 2.1, omega: float = 14.0, epsilon: float = 1.0, theta: float = 0.5
    ):
        super().__init__(alpha=alpha, omega=omega, epsilon=epsilon, theta=theta)


class HeatmapMSELoss(_Loss, fn=heatmap_mse):
    """:func:`heatmap_mse` as a module."""

    def __init__(self, half: bool = False):
        super().__init__(half=half)


class OHKMMSELoss(_Loss, fn=ohkm_mse):
    """:func:`ohkm_mse` as a module."""

    def __init__(self, topk: int = 8):
        super().__init__(topk=topk)


class SpatialSoftmaxCELoss(_PlainLoss, fn=spatial_softmax_ce):
    """:func:`spatial_softmax_ce` as a module."""


class KL1DLoss(_Loss, fn=kl_1d):
    """:func:`kl_1d` as a module."""

    def __init__(self, beta: float = 1.0, label_softmax: bool = False, label_beta: float = 10.0):
        super().__init__(beta=beta, label_softmax=label_softmax, label_beta=label_beta)


# ------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class LossSpec:
    """One entry of :data:`LOSSES`: what the loss compares and how the networks set it.

    ``kind`` is ``"coords"`` (``(N, K, D)`` coordinates in ``[-1, 1]`` input units),
    ``"heatmaps"`` (``(N, K, H, W)``) or ``"simcc"`` (``(N, K, B)`` 1-D labels);
    ``module`` the loss module; ``kwargs`` the settings :func:`get_loss` passes it.
    """

    kind: str
    module: type[nn.Module]
    kwargs: dict = field(default_factory=dict)


#: The one loss registry: the names a model config's ``"loss"`` takes (and
#: :func:`get_loss` accepts), with the settings used for kplearn's coordinates in
#: ``[-1, 1]`` of the input, rescaled from the papers' pixels.
LOSSES: dict[str, LossSpec] = {
    "l2": LossSpec("coords", CoordinateMSELoss),  # DeepPose's squared error
    "l1": LossSpec("coords", CoordinateL1Loss),
    # beta 0.02: ~1 px of a 100 px input
    "smooth_l1": LossSpec("coords", CoordinateSmoothL1Loss, {"beta": 0.02}),
    "wing": LossSpec("coords", WingLoss, {"omega": 0.1, "epsilon": 0.02, "keypoint_mean": True}),
    "mse": LossSpec("heatmaps", HeatmapMSELoss),  # MMPose's KeypointMSELoss
    "ohkm": LossSpec("heatmaps", OHKMMSELoss),
    "adaptive_wing": LossSpec("heatmaps", AdaptiveWingLoss),
    "ce": LossSpec("heatmaps", SpatialSoftmaxCELoss),  # on heatmap logits
    "kl_1d": LossSpec("simcc", KL1DLoss),
}


def get_loss(name: str, **kwargs) -> nn.Module:
    """The loss module of :data:`LOSSES` by name, with its settings (``kwargs`` override them).

    Examples
    --------
    >>> get_loss("wing")
    WingLoss(omega=0.1, epsilon=0.02, keypoint_mean=True)
    >>> get_loss("ohkm", topk=4)
    OHKMMSELoss(topk=4)
    """
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}")
    spec = LOSSES[name]
    return spec.module(**{**spec.kwargs, **kwargs})


def _names(kind: str) -> str:
    return ", ".join(n for n, spec in LOSSES.items() if spec.kind == kind)


def _by_kind(name: str, kind: str) -> nn.Module:
    if name not in LOSSES:
        raise ValueError(f"unknown {kind} loss {name!r}; choose from {_names(kind)}")
    if LOSSES[name].kind != kind:
        raise ValueError(
            f"loss {name!r} compares {LOSSES[name].kind}, not {kind}; choose from {_names(kind)}"
        )
    return get_loss(name)


def coordinate_loss(name: str, pred: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    """The coordinate loss ``name`` of :data:`LOSSES` on ``(N, K, 2)`` normalised coordinates.

    Examples
    --------
    >>> import torch
    >>> pred = torch.zeros(2, 3, 2); target = torch.ones(2, 3, 2); w = torch.ones(2, 3)
    >>> float(coordinate_loss("l1", pred, target, w))
    1.0
    >>> coordinate_loss("mse", pred, target, w)
    Traceback (most recent call last):
    ...
    ValueError: loss 'mse' compares heatmaps, not coords; choose from l2, l1, smooth_l1, wing
    """
    return _by_kind(name, "coords")(pred, target, weights)


def heatmap_loss(name: str, pred: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    """The heatmap loss ``name`` of :data:`LOSSES` on ``(N, K, H, W)`` maps, weights ``(N, K)``."""
    return _by_kind(name, "heatmaps")(pred, target, weights)
