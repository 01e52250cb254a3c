"""SimCC / RTMPose-style coordinate classification: two 1-D distributions per keypoint.

Li et al. (ECCV 2022, "SimCC") and Jiang et al. (2023, "RTMPose") predict, for each
keypoint, one distribution over ``Wx = round(w k)`` x-bins and one over
``Wy = round(h k)`` y-bins, where ``k`` is the *split ratio* (bins per input pixel, 2 by
default): the spatial resolution of the output no longer depends on a heatmap stride,
and the head is a handful of linear layers instead of an upsampling decoder.

The network here follows RTMPose at a CPU scale:

- **backbone**: a small CSPNeXt-style encoder -- a stride-2 stem, then per stage a
  strided 3×3 convolution and a cross-stage-partial (CSP) layer whose blocks are a
  3×3 convolution followed by a depthwise-separable 5×5 one, with SiLU activations and
  a channel attention (squeeze) at the end of each stage;
- **head**: a ``final_kernel``×``final_kernel`` convolution to one map per keypoint,
  flattened into one token per keypoint, ScaleNorm + a linear layer to ``hidden``
  features, an optional gated attention unit across keypoints (RTMPose's GAU, which
  lets the keypoints see each other), and two linear classifiers to the x and y bins.

Training targets are Gaussian-smoothed 1-D labels from :func:`kplearn.codecs.encode_simcc`
(``sigma`` in bins, the label centre at the exact sub-bin position, not rounded); the loss
is :func:`kplearn.losses.simcc_kl` with RTMPose's label softmax
(``KL(softmax(label_beta t) || softmax(logits))``). The outputs ``out["simcc_x"]`` and
``out["simcc_y"]`` are logits (already multiplied by ``beta``, RTMPose's 10).

Decoding (:func:`decode_simcc_logits`) takes the argmax bin of each distribution with
:func:`kplearn.codecs.decode_simcc` and refines it by the vertex of the parabola through
the log-probabilities of the peak bin and its two neighbours (the 1-D Taylor step of DARK;
exact for a Gaussian-shaped distribution). Bins follow the heatmap convention (bin ``i``
is centred on input pixel ``(i + 0.5) s - 0.5`` with ``s = w / Wx``), so a mirrored
input is exactly a reversed x-distribution: flip test reverses ``simcc_x``, swaps the
left/right keypoints of both axes and averages the logits.

Examples
--------
>>> import torch
>>> from kplearn.models.registry import build_model
>>> net = build_model("simcc", "faces68", preset="fast", input_size=(64, 64))
>>> out = net.eval()(torch.zeros(2, 3, 64, 64))
>>> out["simcc_x"].shape, out["simcc_y"].shape
(torch.Size([2, 68, 128]), torch.Size([2, 68, 128]))
>>> xy, scores = net.decode(out)
>>> xy.shape, scores.shape
((2, 68, 2), (2, 68))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kplearn.codecs.simcc import SimCCCodec, decode_simcc, simcc_bins
from kplearn.losses import simcc_kl
from kplearn.models.base import KeypointNet

__all__ = [
    "SimCCNet",
    "CSPEncoder",
    "CSPLayer",
    "GatedAttentionUnit",
    "ScaleNorm",
    "decode_simcc_logits",
    "refine_simcc_parabola",
    "flip_simcc",
]


# --------------------------------------------------------------------------------- blocks
def conv_bn_act(
    c_in: int, c_out: int, kernel: int = 3, stride: int = 1, groups: int = 1
) -> nn.Sequential:
    """``Conv2d -> BatchNorm2d -> SiLU`` with "same" padding and no conv bias."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
        nn.SiLU(inplace=True),
    )


class DepthwiseSeparable(nn.Module):
    """A depthwise ``k×k`` convolution then a pointwise 1×1 one, each with BN + SiLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 5) -> None:
        super().__init__()
        self.depthwise = conv_bn_act(c_in, c_in, kernel, groups=c_in)
        self.pointwise = conv_bn_act(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


class CSPNeXtBlock(nn.Module):
    """3×3 convolution then a depthwise-separable 5×5 one, with a residual connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = conv_bn_act(channels, channels, 3)
        self.dw = DepthwiseSeparable(channels, channels, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.dw(self.conv(x))


class ChannelAttention(nn.Module):
    """Squeeze-style channel gate: global average, 1×1 convolution, hard sigmoid."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * F.hardsigmoid(self.fc(x.mean((2, 3), keepdim=True)))


class CSPLayer(nn.Module):
    """Cross-stage partial layer: half the channels go through ``blocks``, then both halves merge.

    ``main`` and ``short`` 1×1 convolutions each give ``c_out / 2`` channels; the main
    path runs the :class:`CSPNeXtBlock` stack; the concatenation is fused by a 1×1
    convolution and gated by :class:`ChannelAttention`.
    """

    def __init__(self, c_in: int, c_out: int, blocks: int = 1, attention: bool = True) -> None:
        super().__init__()
        mid = max(1, c_out // 2)
        self.main = conv_bn_act(c_in, mid, 1)
        self.short = conv_bn_act(c_in, mid, 1)
        self.blocks = nn.Sequential(*[CSPNeXtBlock(mid) for _ in range(blocks)])
        self.fuse = conv_bn_act(2 * mid, c_out, 1)
        self.attention: nn.Module = ChannelAttention(c_out) if attention else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([self.blocks(self.main(x)), self.short(x)], dim=1)
        return self.attention(self.fuse(y))


class CSPEncoder(nn.Module):
    """CSPNeXt-style encoder: stem at stride 2, then one stage per further width, each halving the size.

    Parameters
    ----------
    widths : sequence of int
        Channels of the stem and of each stage; the output stride is ``2 ** len(widths)``.
    blocks : int
        :class:`CSPNeXtBlock` s per stage.
    """

    def __init__(self, widths: Sequence[int] = (24, 48, 96, 192), blocks: int = 1) -> None:
        super().__init__()
        if len(widths) < 2:
            raise ValueError("CSPEncoder needs at least a stem width and one stage width")
        w0 = int(widths[0])
        self.stem = nn.Sequential(conv_bn_act(3, w0, 3, 2), conv_bn_act(w0, w0, 3))
        stages = []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            stages.append(nn.Sequential(conv_bn_act(int(c_in), int(c_out), 3, 2),
                                        CSPLayer(int(c_out), int(c_out), blocks)))  # fmt: skip
        self.stages = nn.Sequential(*stages)
        self.out_channels = int(widths[-1])
        self.stride = 2 ** len(widths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(self.stem(x))


class ScaleNorm(nn.Module):
    """``x / ||x|| * sqrt(d) * g`` over the last axis, with one learnt scale ``g`` (RTMPose)."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.scale = dim**-0.5
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True) * self.scale
        return x / norm.clamp(min=self.eps) * self.g


class GatedAttentionUnit(nn.Module):
    """RTMPose's gated attention unit over the keypoint tokens (self-attention, residual).

    ``u, v, z = SiLU(W x)``; queries and keys are per-dimension affine maps of ``z``;
    the attention kernel is ``relu(q k^T / sqrt(s))^2``; the output is ``W_o(u * (A v))``
    added to ``x`` scaled per channel.
    """

    def __init__(self, dim: int, expansion: int = 2, s: int = 64) -> None:
        super().__init__()
        self.e = int(dim * expansion)
        self.s = int(s)
        self.norm = ScaleNorm(dim)
        self.uv = nn.Linear(dim, 2 * self.e + self.s, bias=False)
        self.gamma = nn.Parameter(torch.empty(2, self.s))
        self.beta = nn.Parameter(torch.zeros(2, self.s))
        self.out = nn.Linear(self.e, dim, bias=False)
        self.res_scale = nn.Parameter(torch.ones(dim))
        nn.init.xavier_uniform_(self.gamma)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u, v, z = torch.split(F.silu(self.uv(self.norm(x))), [self.e, self.e, self.s], dim=-1)
        q = z * self.gamma[0] + self.beta[0]
        k = z * self.gamma[1] + self.beta[1]
        kernel = torch.square(torch.relu(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.s)))
        return x * self.res_scale + self.out(u * torch.matmul(kernel, v))

    def extra_macs(self, inputs, output) -> int:
        """Products of the two token-by-token matrix products (the linear layers count themselves)."""
        n, k = inputs[0].shape[0], inputs[0].shape[-2]
        return int(n * k * k * (self.s + self.e))


# ------------------------------------------------------------------------------ decoding
def flip_simcc(simcc_x: torch.Tensor, simcc_y: torch.Tensor, flip_index: torch.Tensor):
    """Outputs on a mirrored input mapped back: x-distributions reversed, left/right swapped.

    On kplearn's bin grid (bin ``i`` centred on pixel ``(i + 0.5) s - 0.5``) pixel
    ``w - 1 - x`` falls in bin position ``Wx - 1 - mu``, so reversing the bins is exact.
    """
    return simcc_x.flip(-1)[:, flip_index], simcc_y[:, flip_index]


def refine_simcc_parabola(logits: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Sub-bin offsets in ``[-0.5, 0.5]``: the vertex of the parabola through bins ``i - 1, i, i + 1``.

    ``offset = (l[i-1] - l[i+1]) / (2 (l[i-1] - 2 l[i] + l[i+1]))`` on log-probabilities
    (logits: the softmax constant cancels). 0 at the two end bins and where the
    three values are not strictly concave.

    >>> import numpy as np
    >>> mu = 10.3; l = -0.5 * (np.arange(32) - mu) ** 2 / 4.0   # log of a Gaussian, sigma 2
    >>> float(np.round(10 + refine_simcc_parabola(l[None], np.array([10]))[0], 6))
    10.3
    """
    z = np.asarray(logits, np.float64)
    i = np.asarray(index, np.intp)
    bins = z.shape[-1]
    inner = (i >= 1) & (i <= bins - 2)
    ic = np.clip(i, 1, max(bins - 2, 1))
    if bins < 3:
        return np.zeros(i.shape)
    left = np.take_along_axis(z, (ic - 1)[..., None], -1)[..., 0]
    mid = np.take_along_axis(z, ic[..., None], -1)[..., 0]
    right = np.take_along_axis(z, (ic + 1)[..., None], -1)[..., 0]
    curv = left - 2.0 * mid + right
    ok = inner & (curv < 0)
    off = np.divide(left - right, 2.0 * curv, out=np.zeros(i.shape), where=ok)
    return np.clip(off, -0.5, 0.5)


def decode_simcc_logits(
    simcc_x, simcc_y, input_size: tuple[int, int], refine: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``(..., K, 2)`` in input pixels and scores ``(..., K)`` from SimCC logits.

    The argmax bin (first maximum) of each softmax distribution via
    :func:`kplearn.codecs.decode_simcc`, moved by :func:`refine_simcc_parabola` when
    ``refine``; the score is the smaller of the two peak probabilities.

    >>> import numpy as np
    >>> bins = np.arange(128.0)
    >>> lx = -0.5 * (bins - 40.6) ** 2 / 9; ly = -0.5 * (bins - 81.2) ** 2 / 9
    >>> xy, s = decode_simcc_logits(lx[None], ly[None], (64, 64))
    >>> np.round(xy, 3).tolist()   # bin mu -> pixel (mu + 0.5) / 2 - 0.5
    [[20.05, 40.35]]
    """
    sx = np.asarray(simcc_x, np.float64)
    sy = np.asarray(simcc_y, np.float64)
    px = np.exp(sx - sx.max(-1, keepdims=True))
    px /= px.sum(-1, keepdims=True)
    py = np.exp(sy - sy.max(-1, keepdims=True))
    py /= py.sum(-1, keepdims=True)
    xy, scores = decode_simcc(px, py, input_size, method="argmax")
    if refine:
        w, h = input_size
        for axis, (z, size) in enumerate(((sx, w), (sy, h))):
            stride = size / z.shape[-1]
            index = np.rint((xy[..., axis] + 0.5) / stride - 0.5).astype(np.intp)
            xy[..., axis] += refine_simcc_parabola(z, index) * stride
    return xy, scores


# --------------------------------------------------------------------------------- model
class SimCCNet(KeypointNet):
    """CSPNeXt-style encoder + RTMPose-style SimCC head -> x and y logits per keypoint.

    Config: ``widths``, ``blocks`` (encoder), ``final_kernel`` (head convolution),
    ``hidden`` (token features), ``gau`` (gated attention unit on/off), ``gau_s``,
    ``split_ratio`` (bins per input pixel), ``sigma`` (label std in bins),
    ``beta`` (logit scale), ``label_softmax`` and ``label_beta`` (RTMPose's label
    sharpening), ``refine`` (sub-bin refinement at decoding).
    """

    output_kind = "simcc"

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        widths = tuple(int(c) for c in config.get("widths", (24, 48, 96, 192)))
        self.encoder = CSPEncoder(widths, int(config.get("blocks", 1)))
        w, h = self.input_size
        s = self.encoder.stride
        if w % s or h % s:
            raise ValueError(
                f"input size {self.input_size} is not a multiple of the encoder stride {s} "
                f"({len(widths)} widths)"
            )
        fk = int(config.get("final_kernel", 5))
        if fk < 1 or fk % 2 == 0:
            raise ValueError(f"final_kernel must be a positive odd number, got {fk}")
        ratio = float(config.get("split_ratio", 2.0))
        self.bins = simcc_bins(self.input_size, ratio)
        hidden = int(config.get("hidden", 128))
        tokens = (w // s) * (h // s)
        self.final = nn.Conv2d(self.encoder.out_channels, self.num_keypoints, fk, padding=fk // 2)
        self.mlp = nn.Sequential(ScaleNorm(tokens), nn.Linear(tokens, hidden, bias=False))
        self.gau: nn.Module = (
            GatedAttentionUnit(hidden, 2, int(config.get("gau_s", 64)))
            if config.get("gau", True)
            else nn.Identity()
        )
        self.cls_x = nn.Linear(hidden, self.bins[0], bias=False)
        self.cls_y = nn.Linear(hidden, self.bins[1], bias=False)
        self.beta = float(config.get("beta", 10.0))
        for m in self.encoder.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """SimCC has no heatmaps: the numbers of x and y bins instead."""
        return self.bins

    @property
    def codec(self) -> SimCCCodec:
        """The :class:`~kplearn.codecs.SimCCCodec` of the config (labels; argmax decoding).

        The labels are unnormalised Gaussians (peak 1) when ``label_softmax`` is on,
        probability vectors otherwise.
        """
        cfg = self.config
        return SimCCCodec(self.input_size, sigma=float(cfg.get("sigma", 4.0)),
                          split_ratio=float(cfg.get("split_ratio", 2.0)),
                          normalize=not cfg.get("label_softmax", True), decoder="argmax")  # fmt: skip

    def forward(self, x: torch.Tensor) -> dict:
        feats = self.final(self.encoder(x))  # (N, K, h', w')
        tokens = self.gau(self.mlp(feats.flatten(2)))  # (N, K, hidden)
        return {
            "simcc_x": self.beta * self.cls_x(tokens),
            "simcc_y": self.beta * self.cls_y(tokens),
        }

    # --- targets and loss ---------------------------------------------------------------------
    def targets(self, keypoints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """1-D labels ``(N, K, Wx)``, ``(N, K, Wy)`` and weights ``(N, K)`` from ``(N, M, K, 3)`` keypoints.

        :attr:`codec` (:func:`kplearn.codecs.encode_simcc`) on the first instance of each row.
        """
        kp = keypoints[:, 0].detach().cpu().double().numpy()
        tx, ty, w = self.codec.encode(kp)
        dev = keypoints.device
        return (
            torch.from_numpy(tx).to(dev),
            torch.from_numpy(ty).to(dev),
            torch.from_numpy(w).to(dev),
        )

    def loss(self, out: dict, keypoints: torch.Tensor) -> tuple[torch.Tensor, dict]:
        tx, ty, w = self.targets(keypoints)
        soft = bool(self.config.get("label_softmax", True))
        value = simcc_kl(out["simcc_x"].float(), out["simcc_y"].float(), tx, ty, w,
                         label_softmax=soft, label_beta=float(self.config.get("label_beta", 10.0)))  # fmt: skip
        return value, {"kl": float(value.detach())}

    # --- flip test and decoding ---------------------------------------------------------------
    def merge_flip(self, out: dict, out_flipped: dict) -> dict:
        fx, fy = flip_simcc(out_flipped["simcc_x"], out_flipped["simcc_y"], self.flip_index)
        return {"simcc_x": 0.5 * (out["simcc_x"] + fx), "simcc_y": 0.5 * (out["simcc_y"] + fy)}

    def _decode(self, out: dict) -> tuple[np.ndarray, np.ndarray]:
        sx = out["simcc_x"].detach().double().cpu().numpy()
        sy = out["simcc_y"].detach().double().cpu().numpy()
        return decode_simcc_logits(sx, sy, self.input_size, bool(self.config.get("refine", True)))
