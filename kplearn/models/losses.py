"""The training losses the networks use, picked by name from :mod:`kplearn.losses`.

Coordinates are in ``[-1, 1]`` units of the input (see
:func:`kplearn.codecs.normalize_keypoints`), so the loss parameters given in
pixels by the papers are rescaled here:

========== ========================================== ==========================================
name       :mod:`kplearn.losses` function             parameters here
========== ========================================== ==========================================
l2         :func:`~kplearn.losses.coordinate_mse`     (DeepPose's squared error)
l1         :func:`~kplearn.losses.l1`
smooth_l1  :func:`~kplearn.losses.smooth_l1`          ``beta = 0.02`` (~1 px of a 100 px input)
wing       :func:`~kplearn.losses.wing_loss`          ``omega = 0.1``, ``epsilon = 0.02``
mse        :func:`~kplearn.losses.heatmap_mse`        (heatmaps; MMPose ``KeypointMSELoss``)
ce         :func:`~kplearn.losses.spatial_softmax_ce` (heatmap logits)
========== ========================================== ==========================================

Example
-------
>>> import torch
>>> pred = torch.zeros(2, 3, 2); target = torch.ones(2, 3, 2); w = torch.ones(2, 3)
>>> float(coordinate_loss("l1", pred, target, w))
1.0
"""

from __future__ import annotations

import torch

from kplearn import losses

__all__ = ["COORDINATE_LOSSES", "HEATMAP_LOSSES", "coordinate_loss", "heatmap_loss"]

COORDINATE_LOSSES = ("l2", "l1", "smooth_l1", "wing")
HEATMAP_LOSSES = ("mse", "ce")


def coordinate_loss(
    name: str, pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Weighted coordinate loss on ``(N, K, 2)`` normalised coordinates, weights ``(N, K)``."""
    if name == "l2":
        return losses.coordinate_mse(pred, target, weights)
    if name == "l1":
        return losses.l1(pred, target, weights)
    if name == "smooth_l1":
        return losses.smooth_l1(pred, target, weights, beta=0.02)
    if name == "wing":
        # Wing sums over K and D; divide by K so the scale does not depend on the layout.
        return losses.wing_loss(pred, target, weights, omega=0.1, epsilon=0.02) / pred.shape[1]
    raise ValueError(
        f"unknown coordinate loss {name!r}; choose from {', '.join(COORDINATE_LOSSES)}"
    )


def heatmap_loss(
    name: str, pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Weighted heatmap loss on ``(N, K, H, W)`` maps, weights ``(N, K)``."""
    if name == "mse":
        return losses.heatmap_mse(pred, target, weights)
    if name == "ce":
        return losses.spatial_softmax_ce(pred, target, weights)
    raise ValueError(f"unknown heatmap loss {name!r}; choose from {', '.join(HEATMAP_LOSSES)}")
