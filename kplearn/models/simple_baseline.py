"""SimpleBaseline-style heatmap network: a ResNet encoder and a transposed-convolution head.

Xiao et al. (ECCV 2018) showed that a plain encoder followed by a few ×2
upsampling layers and a 1×1 convolution predicts keypoint heatmaps as well as far
more elaborate designs. Here the encoder is a small ResNet (stride 16 with the
default four widths) and the head upsamples back to the configured ``stride``
(4 by default, 2 for finer maps).

:class:`HeatmapNet` holds what every heatmap network shares: Gaussian targets
from keypoints and decoding, both by the network's
:class:`~kplearn.codecs.HeatmapCodec`, and the heatmap loss (intermediate outputs
included).

Examples
--------
>>> import torch
>>> from kplearn.models.registry import build_model
>>> net = build_model("heatmap", "faces68", input_size=(64, 64), stride=2)
>>> net(torch.zeros(1, 3, 64, 64))["heatmaps"].shape
torch.Size([1, 68, 32, 32])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from kplearn.losses import heatmap_loss
from kplearn.models.base import KeypointNet
from kplearn.models.blocks import ResNetEncoder, UpBlock, init_weights

__all__ = ["HeatmapNet", "SimpleBaseline"]


class HeatmapNet(KeypointNet):
    """Base of the heatmap networks: targets, loss over all outputs, decoding.

    ``forward`` returns ``{"heatmaps": final, "intermediate": [earlier, ...]}``;
    the loss is the heatmap loss (config ``loss``: ``"mse"`` or ``"ce"``) summed over
    the final and intermediate outputs (intermediate supervision).
    Config: ``stride``, ``sigma`` (target Gaussian std in heatmap pixels),
    ``decoder`` (a :func:`kplearn.codecs.decode_heatmaps` method, ``"dark"`` by default).
    """

    output_kind = "heatmaps"

    def targets(self, keypoints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Gaussian heatmaps ``(N, K, H', W')`` and weights ``(N, K)`` for input-pixel keypoints.

        The :attr:`~kplearn.models.base.KeypointNet.codec`'s targets, instances merged
        (:meth:`~kplearn.models.base.KeypointNet.heatmap_targets`).
        """
        return self.heatmap_targets(keypoints)

    def loss(self, out: dict, keypoints: torch.Tensor) -> tuple[torch.Tensor, dict]:
        target, weights = self.targets(keypoints)
        name = self.config.get("loss", "mse")
        outputs = list(out.get("intermediate", [])) + [out["heatmaps"]]
        parts = [heatmap_loss(name, hm, target, weights) for hm in outputs]
        # MSE on peaked maps is tiny; scale it so that learning rates are comparable across losses.
        scale = 1000.0 if name == "mse" else 1.0
        total = scale * sum(parts)
        return total, {f"out{i + 1}": float(p.detach()) * scale for i, p in enumerate(parts)}


class SimpleBaseline(HeatmapNet):
    """ResNet encoder + ``log2(16 / stride)`` ×2 transposed convolutions + 1×1 conv -> K heatmaps.

    Config: ``widths``, ``blocks`` (encoder), ``head_channels``, ``stride``, ``sigma``, ``decoder``, ``loss``.
    """

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        widths = tuple(config.get("widths", (24, 48, 96, 192)))
        self.encoder = ResNetEncoder(widths, int(config.get("blocks", 2)))
        enc_stride = 2 ** len(widths)
        stride = int(config.get("stride", 4))
        n_up = int(round(math.log2(enc_stride / stride)))
        if stride < 1 or 2**n_up * stride != enc_stride:
            raise ValueError(f"stride {stride} must be a power of two at most {enc_stride}")
        _ = self.heatmap_size  # checks that the input is a multiple of the stride
        c = widths[-1]
        up = []
        hc = int(config.get("head_channels", 64))
        for _ in range(n_up):
            up.append(UpBlock(c, hc))
            c = hc
        self.up = nn.Sequential(*up)
        self.final = nn.Conv2d(c, self.num_keypoints, 1)
        self.apply(init_weights)
        nn.init.normal_(self.final.weight, std=1e-3)
        nn.init.zeros_(self.final.bias)

    def forward(self, x: torch.Tensor) -> dict:
        return {"heatmaps": self.final(self.up(self.encoder(x)[-1]))}
