"""Small convolutional building blocks shared by the kplearn networks.

Everything here is plain ``torch.nn``: convolution + batch norm + ReLU units, the
ResNet basic block, a ResNet-style encoder that keeps its intermediate feature
maps (so heatmap heads and HRNet-style nets can tap them), and an upsampling
unit. The sizes are chosen for laptop CPUs: a default encoder has about a
million parameters.

Examples
--------
>>> import torch
>>> enc = ResNetEncoder(widths=(16, 32, 64, 128))
>>> [f.shape[-1] for f in enc(torch.zeros(1, 3, 64, 64))]
[32, 16, 8, 4]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["conv_bn_relu", "BasicBlock", "ResNetEncoder", "UpBlock", "init_weights"]


def conv_bn_relu(
    in_channels: int, out_channels: int, stride: int = 1, kernel_size: int = 3, relu: bool = True
) -> nn.Sequential:
    """``Conv2d -> BatchNorm2d [-> ReLU]`` with "same" padding and no conv bias."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """The ResNet basic block: two 3×3 convolutions and a shortcut.

    The shortcut is a strided 1×1 convolution when the shape changes.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv_bn_relu(in_channels, out_channels, stride)
        self.conv2 = conv_bn_relu(out_channels, out_channels, relu=False)
        if stride == 1 and in_channels == out_channels:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = conv_bn_relu(
                in_channels, out_channels, stride, kernel_size=1, relu=False
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


class ResNetEncoder(nn.Module):
    """A small ResNet: a stride-2 stem, then one stage per width, each halving the size.

    Parameters
    ----------
    widths : sequence of int
        Channels of the stem and of each stage; stage ``i`` has stride ``2 ** (i + 1)``.
    blocks : int
        Basic blocks per stage.

    The forward pass returns the list of feature maps ``[stem, stage1, ...]`` at
    strides ``2, 4, 8, ...``; ``out_channels`` lists their widths.
    """

    def __init__(self, widths: Sequence[int] = (24, 48, 96, 192), blocks: int = 2) -> None:
        super().__init__()
        if len(widths) < 2:
            raise ValueError("ResNetEncoder needs at least a stem width and one stage width")
        self.stem = conv_bn_relu(3, widths[0], stride=2)
        stages = []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers = [BasicBlock(c_in, c_out, stride=2)]
            layers += [BasicBlock(c_out, c_out) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.out_channels = tuple(int(w) for w in widths)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.stem(x)]
        for stage in self.stages:
            feats.append(stage(feats[-1]))
        return feats


class UpBlock(nn.Module):
    """×2 upsampling: a 4×4 transposed convolution (as SimpleBaseline) + BN + ReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.Sequential(
            nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(x)


def init_weights(module: nn.Module) -> None:
    """Kaiming-normal convolutions, unit batch norm, small final layers.

    Apply with ``model.apply(init_weights)``; torch's default initialisation also
    works, this one just trains a little faster from scratch.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
