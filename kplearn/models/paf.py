"""The bottom-up multi-person network: heatmaps and part affinity fields (OpenPose idea, small).

:class:`PAFNet` predicts, at stride ``s``, ``K`` heatmaps with a peak at every
person's keypoint and, per skeleton edge, a 2-channel part affinity field. Its
targets and the grouping of peaks into people are the PAF codec,
:mod:`kplearn.codecs.paf` (:func:`~kplearn.codecs.paf.paf_targets`,
:func:`~kplearn.codecs.paf.encode_targets`, :func:`~kplearn.codecs.paf.group_people`);
those names are importable from here too.

Examples
--------
Two field channels (x and y of the limb direction) per skeleton edge:

>>> import torch
>>> from kplearn.models.registry import build_model
>>> net = build_model("paf", "coco17", preset="fast", input_size=(64, 64))
>>> out = net.eval()(torch.zeros(1, 3, 64, 64))
>>> out["heatmaps"].shape[1], out["pafs"].shape[1] == 2 * len(net.edges)
(17, True)
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kplearn.codecs.paf import encode_targets, find_peaks, group_people, paf_flip_map, paf_targets
from kplearn.losses import heatmap_loss
from kplearn.models.base import KeypointNet, flip_heatmaps
from kplearn.models.blocks import ResNetEncoder, UpBlock, conv_bn_relu, init_weights

__all__ = ["PAFNet", "paf_targets", "encode_targets", "find_peaks", "group_people", "paf_flip_map"]


class PAFNet(KeypointNet):
    """Bottom-up network: ResNet encoder, upsampling, and two 1×1 heads (heatmaps, fields).

    Config: ``width`` (encoder widths ``width * (1, 2, 4, 8)``), ``stride`` (4),
    ``sigma``, ``paf_width`` (limb half-width in heatmap pixels), ``edges``
    (from the skeleton), ``loss`` (``"mse"``). ``forward`` returns
    ``{"heatmaps": (N, K, H', W'), "pafs": (N, 2E, H', W')}``.
    """

    output_kind = "paf"
    default_sigma = 1.5

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        if "edges" not in config or not config["edges"]:
            raise ValueError("a PAF model needs the skeleton's edges in its config")
        self.edges = [tuple(int(v) for v in e) for e in config["edges"]]
        c = int(config.get("width", 32))
        widths = (c, 2 * c, 4 * c, 8 * c)
        self.encoder = ResNetEncoder(widths, 1)
        stride = self._checked_stride((2, 4, 8), "paf")
        _ = self.heatmap_size
        n_up = {8: 1, 4: 2, 2: 3}[stride]
        ups, ch = [], widths[-1]
        # Upsample with skip connections from the encoder (U-Net style) to keep limbs sharp.
        self.lateral = nn.ModuleList()
        for u in range(n_up):
            ups.append(UpBlock(ch, 2 * c))
            self.lateral.append(conv_bn_relu(widths[-2 - u], 2 * c, kernel_size=1))
            ch = 2 * c
        self.ups = nn.ModuleList(ups)
        self.heat_head = nn.Sequential(conv_bn_relu(ch, ch), nn.Conv2d(ch, self.num_keypoints, 1))
        self.paf_head = nn.Sequential(conv_bn_relu(ch, ch), nn.Conv2d(ch, 2 * len(self.edges), 1))
        self.apply(init_weights)
        index, sign = paf_flip_map(self.edges, config["flip_index"])
        self.register_buffer("paf_flip_index", torch.as_tensor(index), persistent=False)
        self.register_buffer(
            "paf_flip_sign", torch.as_tensor(sign, dtype=torch.float32), persistent=False
        )

    def forward(self, x: torch.Tensor) -> dict:
        feats = self.encoder(x)
        y = feats[-1]
        for u, (up, lat) in enumerate(zip(self.ups, self.lateral, strict=True)):
            y = up(y)
            skip = lat(feats[-2 - u])
            if skip.shape[-2:] != y.shape[-2:]:
                y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = y + skip
        return {"heatmaps": self.heat_head(y), "pafs": self.paf_head(y)}

    def loss(self, out: dict, keypoints: torch.Tensor) -> tuple[torch.Tensor, dict]:
        hm_t, _ = self.heatmap_targets(keypoints)
        paf_t = paf_targets(keypoints, self.input_size, self.heatmap_size, self.edges,
                            float(self.config.get("paf_width", 1.0)))  # fmt: skip
        ones_k = torch.ones(hm_t.shape[:2], dtype=hm_t.dtype, device=hm_t.device)
        ones_e = torch.ones(paf_t.shape[:2], dtype=hm_t.dtype, device=hm_t.device)
        lh = 1000.0 * heatmap_loss("mse", out["heatmaps"], hm_t, ones_k)
        lp = 100.0 * heatmap_loss("mse", out["pafs"], paf_t, ones_e)
        return lh + lp, {"heatmaps": float(lh.detach()), "pafs": float(lp.detach())}

    def merge_flip(self, out: dict, out_flipped: dict) -> dict:
        hm = 0.5 * (out["heatmaps"] + flip_heatmaps(out_flipped["heatmaps"], self.flip_index))
        n, _, h, w = out_flipped["pafs"].shape
        pf = out_flipped["pafs"].flip(-1).view(n, -1, 2, h, w)[:, self.paf_flip_index]
        pf = pf * torch.tensor([-1.0, 1.0], dtype=pf.dtype, device=pf.device).view(1, 1, 2, 1, 1)
        pf = pf * self.paf_flip_sign.to(pf.dtype).view(1, -1, 1, 1, 1)
        return {"heatmaps": hm, "pafs": 0.5 * (out["pafs"] + pf.flatten(1, 2))}

    def decode_people(self, out: dict, **kwargs) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per image, ``(people (M, K, 3), scores (M,))`` in input pixels (see :func:`group_people`)."""
        hm = out["heatmaps"].detach().float().cpu().numpy()
        pafs = out["pafs"].detach().float().cpu().numpy()
        return [
            group_people(h, p, self.edges, self.input_size, **kwargs)
            for h, p in zip(hm, pafs, strict=True)
        ]

    def _decode(self, out: dict) -> tuple[np.ndarray, np.ndarray]:
        """The highest-scoring person of each image: ``(N, K, 2)`` keypoints, ``(N, K)`` scores.

        A keypoint that person lacks (or every keypoint, when nobody is found) is NaN
        with score 0; the others get the person's score.
        """
        xy = np.full((out["heatmaps"].shape[0], self.num_keypoints, 2), np.nan)
        sc = np.zeros(xy.shape[:2])
        for n, (people, scores) in enumerate(self.decode_people(out)):
            if len(people):
                found = people[0, :, 2] > 0
                xy[n, found] = people[0, found, :2]
                sc[n, found] = scores[0]
        return xy, sc
