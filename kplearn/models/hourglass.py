"""A small stacked Hourglass network (Newell et al., ECCV 2016): two stacks, intermediate supervision.

Each hourglass pools the features down ``depth`` times and upsamples them back,
adding a skip branch at every scale, so the output at each pixel has seen the
whole input. A second hourglass refines the first one's heatmaps; both are
supervised (intermediate supervision), and the last one is the prediction.

Examples
--------
The last stack's heatmaps are the prediction; the earlier stacks' are kept for the loss:

>>> import torch
>>> from kplearn.models.registry import build_model
>>> net = build_model("hourglass", "faces68", input_size=(64, 64))
>>> out = net(torch.zeros(1, 3, 64, 64))
>>> out["heatmaps"].shape, len(out["intermediate"])
(torch.Size([1, 68, 16, 16]), 1)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kplearn.models.blocks import conv_bn_relu, init_weights
from kplearn.models.simple_baseline import HeatmapNet

__all__ = ["StackedHourglass", "Residual", "Hourglass"]


class Residual(nn.Module):
    """The hourglass residual module: 1×1 -> 3×3 -> 1×1 bottleneck with a shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        mid = max(out_channels // 2, 8)
        self.body = nn.Sequential(
            conv_bn_relu(in_channels, mid, kernel_size=1),
            conv_bn_relu(mid, mid),
            conv_bn_relu(mid, out_channels, kernel_size=1, relu=False),
        )
        self.skip = (
            nn.Identity()
            if in_channels == out_channels
            else conv_bn_relu(in_channels, out_channels, kernel_size=1, relu=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class Hourglass(nn.Module):
    """One hourglass of the given ``depth`` (number of ×2 poolings)."""

    def __init__(self, depth: int, channels: int) -> None:
        super().__init__()
        self.skip = Residual(channels, channels)
        self.down = Residual(channels, channels)
        self.inner = Hourglass(depth - 1, channels) if depth > 1 else Residual(channels, channels)
        self.up = Residual(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.up(self.inner(self.down(F.max_pool2d(x, 2))))
        return self.skip(x) + F.interpolate(low, size=x.shape[-2:], mode="nearest")


class StackedHourglass(HeatmapNet):
    """Stem to the output stride, then ``stacks`` hourglasses, each predicting heatmaps.

    Config: ``channels`` (width of every hourglass), ``depth`` (poolings per
    hourglass), ``stacks`` (2), ``stride`` (1, 2 or 4), ``sigma``, ``decoder``, ``loss``.
    """

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        c = int(config.get("channels", 64))
        depth = int(config.get("depth", 3))
        stacks = int(config.get("stacks", 2))
        stride = self._checked_stride((1, 2, 4), "hourglass")
        hw = self.heatmap_size
        if min(hw) % 2**depth:
            raise ValueError(f"heatmap size {hw} must be divisible by 2**depth = {2**depth}")
        stem: list[nn.Module] = [conv_bn_relu(3, c // 2, stride=2 if stride >= 2 else 1)]
        if stride == 4:
            stem.append(nn.MaxPool2d(2))
        stem.append(Residual(c // 2, c))
        self.stem = nn.Sequential(*stem)
        k = self.num_keypoints
        self.hourglasses = nn.ModuleList(Hourglass(depth, c) for _ in range(stacks))
        self.features = nn.ModuleList(
            nn.Sequential(Residual(c, c), conv_bn_relu(c, c, kernel_size=1)) for _ in range(stacks)
        )
        self.heads = nn.ModuleList(nn.Conv2d(c, k, 1) for _ in range(stacks))
        # Re-injection of each stack's features and heatmaps into the next stack's input.
        self.merge_features = nn.ModuleList(nn.Conv2d(c, c, 1) for _ in range(stacks - 1))
        self.merge_heatmaps = nn.ModuleList(nn.Conv2d(k, c, 1) for _ in range(stacks - 1))
        self.apply(init_weights)
        for head in self.heads:
            nn.init.normal_(head.weight, std=1e-3)
            nn.init.zeros_(head.bias)

    def forward(self, x: torch.Tensor) -> dict:
        x = self.stem(x)
        outputs = []
        for i, (hg, feat, head) in enumerate(
            zip(self.hourglasses, self.features, self.heads, strict=True)
        ):
            f = feat(hg(x))
            hm = head(f)
            outputs.append(hm)
            if i < len(self.merge_features):
                x = x + self.merge_features[i](f) + self.merge_heatmaps[i](hm)
        return {"heatmaps": outputs[-1], "intermediate": outputs[:-1]}
