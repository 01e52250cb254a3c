"""A small HRNet-style network: parallel resolutions with repeated fusion (Sun et al., CVPR 2019).

Instead of going down and back up, HRNet keeps a high-resolution branch all the
way through and adds lower-resolution branches stage by stage; after every
module each branch receives the sum of all branches resampled to its size
(upsampled through a 1×1 convolution, or downsampled by strided 3×3
convolutions). The head (as HRNetV2, used for faces) upsamples every branch to
the highest resolution, concatenates them and predicts the heatmaps there.

Examples
--------
>>> import torch
>>> from kplearn.models.registry import build_model
>>> net = build_model("hrnet", "faces68", input_size=(64, 64))
>>> net(torch.zeros(1, 3, 64, 64))["heatmaps"].shape
torch.Size([1, 68, 16, 16])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kplearn.models.blocks import BasicBlock, conv_bn_relu, init_weights
from kplearn.models.simple_baseline import HeatmapNet

__all__ = ["TinyHRNet", "FuseModule"]


class FuseModule(nn.Module):
    """Basic blocks on every branch, then every branch gets the sum of all (resampled)."""

    def __init__(self, widths: tuple[int, ...], blocks: int = 1) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(*[BasicBlock(w, w) for _ in range(blocks)]) for w in widths
        )
        n = len(widths)
        fuse = []
        for i in range(n):  # target branch
            row = nn.ModuleList()
            for j in range(n):  # source branch
                if j == i:
                    row.append(nn.Identity())
                elif j > i:  # lower resolution -> 1×1 conv, then upsample in forward
                    row.append(conv_bn_relu(widths[j], widths[i], kernel_size=1, relu=False))
                else:  # higher resolution -> (i - j) strided 3×3 convs
                    steps: list[nn.Module] = []
                    for s in range(i - j):
                        last = s == i - j - 1
                        out_c = widths[i] if last else widths[j]
                        steps.append(conv_bn_relu(widths[j], out_c, stride=2, relu=not last))
                    row.append(nn.Sequential(*steps))
            fuse.append(row)
        self.fuse = nn.ModuleList(fuse)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs, strict=True)]
        out = []
        for i, row in enumerate(self.fuse):
            total = xs[i]
            for j, op in enumerate(row):
                if j == i:
                    continue
                y = op(xs[j])
                if j > i:
                    y = F.interpolate(
                        y, size=xs[i].shape[-2:], mode="bilinear", align_corners=False
                    )
                total = total + y
            out.append(torch.relu(total))
        return out


class TinyHRNet(HeatmapNet):
    """Stem to stride 4, then stages with 1, 2, 3, ... parallel branches and fusion.

    Config: ``width`` (channels of the stride-4 branch; branch ``b`` has
    ``width * 2**b``), ``branches`` (the number of branches of the last stage, 3 by
    default), ``modules`` (fuse modules per stage), ``blocks`` (basic blocks per
    branch per module), ``stride`` (4, or 2: the head upsamples and joins the
    stride-2 stem features), ``sigma``, ``decoder``, ``loss``.
    """

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        c = int(config.get("width", 32))
        n_branches = int(config.get("branches", 3))
        n_modules = int(config.get("modules", 1))
        blocks = int(config.get("blocks", 1))
        stride = self._checked_stride((2, 4), "hrnet")
        _ = self.heatmap_size
        self.stem1 = conv_bn_relu(3, c, stride=2)
        self.stem = nn.Sequential(conv_bn_relu(c, c, stride=2), BasicBlock(c, c))
        widths = [c * 2**b for b in range(n_branches)]
        self.transitions = nn.ModuleList()
        self.stages = nn.ModuleList()
        for b in range(1, n_branches):
            # A new, lower-resolution branch made from the current lowest one.
            self.transitions.append(conv_bn_relu(widths[b - 1], widths[b], stride=2))
            self.stages.append(
                nn.Sequential(
                    *[FuseModule(tuple(widths[: b + 1]), blocks) for _ in range(n_modules)]
                )
            )
        total = sum(widths)
        self.stride = stride
        if stride == 2:
            # Back to stride 2: reduce, upsample, join the stride-2 stem features, one 3×3 conv.
            self.head = conv_bn_relu(total, c, kernel_size=1)
            self.fine = conv_bn_relu(2 * c, c)
            total = c
        else:
            self.head = conv_bn_relu(total, total, kernel_size=1)
        self.final = nn.Conv2d(total, self.num_keypoints, 1)
        self.apply(init_weights)
        nn.init.normal_(self.final.weight, std=1e-3)
        nn.init.zeros_(self.final.bias)

    def forward(self, x: torch.Tensor) -> dict:
        s2 = self.stem1(x)
        xs = [self.stem(s2)]
        for transition, stage in zip(self.transitions, self.stages, strict=True):
            xs = xs + [transition(xs[-1])]
            for module in stage:
                xs = module(xs)
        size = xs[0].shape[-2:]
        ups = [xs[0]] + [
            F.interpolate(y, size=size, mode="bilinear", align_corners=False) for y in xs[1:]
        ]
        y = self.head(torch.cat(ups, 1))
        if self.stride == 2:
            y = F.interpolate(y, size=s2.shape[-2:], mode="bilinear", align_corners=False)
            y = self.fine(torch.cat([y, s2], 1))
        return {"heatmaps": self.final(y)}
