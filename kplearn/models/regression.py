"""Direct coordinate regression: an encoder and a fully connected head (DeepPose), and its cascade.

:class:`RegressionNet` maps an image to ``2K`` numbers, the keypoints in
normalised units (``[-1, 1]`` of the input, see
:func:`kplearn.codecs.normalize_keypoints`), trained with a coordinate loss
(L2 in DeepPose). The head flattens the last feature map rather than pooling it,
so the fully connected layers still see *where* things are.

:class:`CascadeNet` is the DeepPose cascade (Toshev & Szegedy, CVPR 2014): a first
regressor sees the whole (downsampled) input; each later stage sees, for every
keypoint, a small crop of the full-resolution input around the current estimate
and predicts a correction. During training the crops are centred on the previous
stage's estimates (detached) plus random jitter, so a stage learns to correct
the errors that the stage before it makes.

Examples
--------
>>> import torch
>>> from kplearn.models.registry import build_model
>>> net = build_model("cascade", "faces68", input_size=(64, 64))
>>> out = net(torch.zeros(2, 3, 64, 64))
>>> out["coords"].shape, len(out["stages"])
(torch.Size([2, 68, 2]), 2)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kplearn.losses import coordinate_loss
from kplearn.models.base import KeypointNet
from kplearn.models.blocks import ResNetEncoder, conv_bn_relu, init_weights

__all__ = ["RegressionNet", "CascadeNet", "RegressionHead", "PatchRefiner"]


class RegressionHead(nn.Module):
    """1×1 channel reduction, flatten, two fully connected layers -> ``2K`` values."""

    def __init__(self, in_channels: int, feature_size: tuple[int, int], num_keypoints: int,
                 reduce: int = 64, hidden: int = 256, dropout: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        fw, fh = feature_size
        self.reduce = conv_bn_relu(in_channels, reduce, kernel_size=1)
        self.fc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(reduce * fw * fh, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, 2 * num_keypoints),
        )
        self.num_keypoints = num_keypoints
        # Start at the centre of the input: a small last layer keeps early steps sane.
        nn.init.normal_(self.fc[-1].weight, std=1e-3)
        nn.init.zeros_(self.fc[-1].bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.reduce(features)).view(-1, self.num_keypoints, 2)


def _coordinate_weights(
    net: KeypointNet, keypoints: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised targets ``(N, K, 2)`` and weights ``(N, K)`` of the first instance."""
    kp = keypoints[:, 0]
    return net.to_normalized(kp), (kp[..., 2] > 0).to(kp.dtype)


class RegressionNet(KeypointNet):
    """Encoder + flattened fully connected head -> ``K`` normalised ``(x, y)``.

    Config keys (besides the :class:`~kplearn.models.base.KeypointNet` ones):
    ``widths`` (encoder widths, stem first), ``blocks`` (per stage), ``reduce``,
    ``hidden``, ``dropout`` and ``loss`` (``"l2"``, ``"l1"``, ``"smooth_l1"``, ``"wing"``).
    """

    output_kind = "coords"

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        widths = tuple(config.get("widths", (24, 48, 96, 192)))
        self.encoder = ResNetEncoder(widths, int(config.get("blocks", 2)))
        stride = 2 ** len(widths)
        w, h = self.input_size
        if w % stride or h % stride:
            raise ValueError(
                f"input size {self.input_size} must be a multiple of {stride} for this encoder"
            )
        self.head = RegressionHead(
            widths[-1], (w // stride, h // stride), self.num_keypoints,
            reduce=int(config.get("reduce", 64)), hidden=int(config.get("hidden", 256)),
            dropout=float(config.get("dropout", 0.0)),
        )  # fmt: skip
        self.encoder.apply(init_weights)

    def forward(self, x: torch.Tensor) -> dict:
        return {"coords": self.head(self.encoder(x)[-1])}

    @torch.no_grad()
    def init_from_keypoints(self, keypoints: torch.Tensor) -> None:
        """Start from the mean shape: set the output bias to the mean labelled position.

        ``keypoints`` are ``(N, M, K, 3)`` input-pixel training targets. Called by
        :func:`kplearn.train.fit` before training; a regressor that has learnt nothing
        then predicts the mean shape rather than a point at the centre.
        """
        kp = keypoints[:, 0].double()
        vis = (kp[..., 2] > 0).double()
        norm = self.to_normalized(kp)
        mean = (norm * vis[..., None]).sum(0) / vis.sum(0).clamp_min(1.0)[..., None]
        self.head.fc[-1].bias.copy_(mean.reshape(-1).float())

    def loss(self, out: dict, keypoints: torch.Tensor) -> tuple[torch.Tensor, dict]:
        target, weights = _coordinate_weights(self, keypoints)
        value = coordinate_loss(self.config.get("loss", "l1"), out["coords"], target, weights)
        return value, {"coords": float(value.detach())}


class PatchRefiner(nn.Module):
    """One cascade stage: a small CNN over per-keypoint crops -> a correction per keypoint.

    The crops of all keypoints go through the same convolutions; the last, linear
    layer has its own weights per keypoint (as DeepPose trains one regressor per
    joint), so a jaw point and an eye corner can learn different corrections.
    """

    def __init__(
        self, num_keypoints: int, patch: int = 16, widths: tuple[int, ...] = (16, 32, 48)
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn_relu(3, widths[0])]
        c = widths[0]
        for w in widths[1:]:
            layers.append(conv_bn_relu(c, w, stride=2))
            c = w
        self.features = nn.Sequential(*layers)
        side = patch // 2 ** (len(widths) - 1)
        self.dim = c * side * side
        self.weight = nn.Parameter(torch.randn(num_keypoints, self.dim, 2) * 1e-3)
        self.bias = nn.Parameter(torch.zeros(num_keypoints, 2))
        self.features.apply(init_weights)

    def extra_macs(self, inputs, output) -> int:
        """The per-keypoint linear maps (for :func:`kplearn.models.complexity.count_macs`)."""
        return output.numel() * self.dim

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """``patches`` ``(N, K, 3, P, P)`` -> corrections ``(N, K, 2)`` in patch half-widths."""
        n, k = patches.shape[:2]
        f = self.features(patches.flatten(0, 1)).reshape(n, k, self.dim)
        return torch.einsum("nkd,kde->nke", f, self.weight) + self.bias


def extract_patches(
    images: torch.Tensor, centers: torch.Tensor, half_size: float, patch: int
) -> torch.Tensor:
    """Bilinear crops ``(N, K, C, patch, patch)`` of side ``2 * half_size`` (normalised units) around ``centers``.

    ``centers`` are ``(N, K, 2)`` in ``[-1, 1]`` units (``grid_sample``'s
    ``align_corners=False`` frame); pixels outside the image are zero.
    """
    n, k = centers.shape[:2]
    t = (torch.arange(patch, dtype=images.dtype, device=images.device) + 0.5) / patch * 2 - 1
    gy, gx = torch.meshgrid(t, t, indexing="ij")
    offsets = torch.stack([gx, gy], -1) * half_size  # (P, P, 2)
    grid = centers[:, :, None, None, :] + offsets  # (N, K, P, P, 2)
    out = F.grid_sample(images, grid.reshape(n, k * patch, patch, 2), align_corners=False)
    return out.reshape(n, -1, k, patch, patch).permute(0, 2, 1, 3, 4)


class CascadeNet(KeypointNet):
    """DeepPose cascade: a regressor on the downsampled input, then patch refiners.

    Config keys: those of :class:`RegressionNet` for the first stage, plus
    ``stages`` (total number of stages, >= 1), ``downsample`` (the first stage
    sees the input average-pooled by this factor), ``patch`` (crop side in
    pixels after resampling), ``patch_frac`` (crop side as a fraction of the input
    width at stage 2; it halves at each later stage), ``jitter`` (std of the
    training jitter, as a fraction of the crop half-side) and ``refiner_widths``.
    """

    output_kind = "coords"

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.downsample = int(config.get("downsample", 1))
        w, h = self.input_size
        if w % self.downsample or h % self.downsample:
            raise ValueError(
                f"input size {self.input_size} is not a multiple of downsample {self.downsample}"
            )
        first = dict(config, input_size=[w // self.downsample, h // self.downsample])
        self.first = RegressionNet(first)
        self.num_stages = int(config.get("stages", 2))
        if self.num_stages < 1:
            raise ValueError("a cascade needs at least one stage")
        self.patch = int(config.get("patch", 16))
        self.patch_frac = float(config.get("patch_frac", 0.25))
        self.jitter = float(config.get("jitter", 0.3))
        widths = tuple(config.get("refiner_widths", (16, 32, 48)))
        self.refiners = nn.ModuleList(
            PatchRefiner(self.num_keypoints, self.patch, widths) for _ in range(self.num_stages - 1)
        )

    @torch.no_grad()
    def init_from_keypoints(self, keypoints: torch.Tensor) -> None:
        """Start the first stage from the mean shape (see :meth:`RegressionNet.init_from_keypoints`)."""
        kp = keypoints.clone()
        kp[..., :2] = (kp[..., :2] + 0.5) / self.downsample - 0.5  # into the first stage's input
        self.first.init_from_keypoints(kp)

    def half_sizes(self) -> list[float]:
        """Crop half-side in normalised units at each refining stage."""
        return [self.patch_frac * 0.5**i for i in range(self.num_stages - 1)]

    def forward(self, x: torch.Tensor) -> dict:
        small = F.avg_pool2d(x, self.downsample) if self.downsample > 1 else x
        coords = self.first(small)["coords"]
        stages = [coords]
        for refiner, half in zip(self.refiners, self.half_sizes(), strict=True):
            centers = coords.detach()
            if self.training and self.jitter > 0:
                centers = centers + torch.randn_like(centers) * self.jitter * half
            patches = extract_patches(x, centers, half, self.patch)
            coords = centers + refiner(patches) * half
            stages.append(coords)
        return {"coords": coords, "stages": stages}

    def loss(self, out: dict, keypoints: torch.Tensor) -> tuple[torch.Tensor, dict]:
        target, weights = _coordinate_weights(self, keypoints)
        name = self.config.get("loss", "l1")
        parts = [coordinate_loss(name, c, target, weights) for c in out["stages"]]
        return sum(parts), {f"stage{i + 1}": float(p.detach()) for i, p in enumerate(parts)}
