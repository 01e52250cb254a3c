"""Integral regression: heatmap logits read out by a soft-argmax, trained on coordinates.

Sun et al. (ECCV 2018, "Integral Human Pose Regression") and Nibali et al.
(DSNT) replace the argmax of a heatmap by its expectation under a spatial
softmax, which is differentiable, so a heatmap network can be trained with a
coordinate loss and predicts sub-pixel positions without a decoder. The
backbone here is the SimpleBaseline one; :func:`kplearn.codecs.soft_argmax`
does the read-out on the unbiased grid.

Examples
--------
The coordinates are read out of the heatmap logits, which the output keeps too:

>>> import torch
>>> from kplearn.models.registry import build_model
>>> net = build_model("integral", "faces68", input_size=(64, 64))
>>> out = net(torch.zeros(1, 3, 64, 64))
>>> out["coords"].shape, out["heatmaps"].shape
(torch.Size([1, 68, 2]), torch.Size([1, 68, 16, 16]))
"""

from __future__ import annotations

import torch

from kplearn.codecs.coordinates import soft_argmax
from kplearn.losses import coordinate_loss, heatmap_loss
from kplearn.models.simple_baseline import SimpleBaseline

__all__ = ["IntegralNet"]


class IntegralNet(SimpleBaseline):
    """SimpleBaseline backbone + soft-argmax head -> normalised coordinates.

    Config: those of :class:`~kplearn.models.simple_baseline.SimpleBaseline` plus
    ``beta`` (softmax inverse temperature), ``loss`` (a coordinate loss, ``"l1"`` by
    default) and ``heatmap_weight`` (weight of an optional auxiliary
    cross-entropy loss on the softmax maps, 0 by default: pure coordinate training).
    ``out["scores"]`` is the largest softmax probability of each map.
    """

    output_kind = "coords"

    def forward(self, x: torch.Tensor) -> dict:
        logits = super().forward(x)["heatmaps"]
        beta = float(self.config.get("beta", 1.0))
        xy = soft_argmax(logits, beta=beta, input_size=self.input_size, encoding="unbiased")
        probs = torch.softmax(beta * logits.flatten(2), -1)
        return {"coords": self.to_normalized(xy), "heatmaps": logits, "scores": probs.amax(-1)}

    def loss(self, out: dict, keypoints: torch.Tensor) -> tuple[torch.Tensor, dict]:
        kp = keypoints[:, 0]
        weights = (kp[..., 2] > 0).to(kp.dtype)
        value = coordinate_loss(
            self.config.get("loss", "l1"), out["coords"], self.to_normalized(kp), weights
        )
        parts = {"coords": float(value.detach())}
        hw = float(self.config.get("heatmap_weight", 0.0))
        if hw > 0:
            target, w = self.heatmap_targets(keypoints)
            aux = heatmap_loss(
                "ce", out["heatmaps"] * float(self.config.get("beta", 1.0)), target, w
            )
            parts["heatmap"] = float(aux.detach())
            value = value + hw * aux
        return value, parts
