"""What every kplearn network shares: its config, its output kind, flip merging and decoding.

A network is an ``nn.Module`` whose ``forward`` returns a dict and which knows
how to turn that dict into keypoints. There are three output kinds:

``"coords"``
    ``out["coords"]``: ``(N, K, 2)`` coordinates normalised to ``[-1, 1]`` of the
    input (:func:`kplearn.codecs.normalize_keypoints`: pixel-centre convention, so a
    horizontal flip is ``u -> -u``). Regression nets and the integral head.
``"heatmaps"``
    ``out["heatmaps"]``: ``(N, K, H', W')`` at stride ``s = input width / W'``, on the
    *unbiased* grid ``x' = (x + 0.5) / s - 0.5``. On that grid a flip of the input
    is exactly a flip of the heatmap array, so flip test-time augmentation needs no
    one-pixel shift (MSRA's grid ``x' = x / s`` would be off by ``(s - 1) / s``).
    Targets and decoding are the network's :attr:`KeypointNet.codec`, a
    :class:`~kplearn.codecs.HeatmapCodec` built from the config (``input_size``,
    ``stride``, ``sigma``, ``encoding``, ``decoder``, ``blur_kernel``).
``"paf"``
    Bottom-up multi-person maps (see :mod:`kplearn.models.paf`).

``decode`` returns keypoints and scores; a keypoint the network does not
predict (a heatmap with no positive value) is NaN with score 0, the one rule
stated in "Keypoint arrays" of :mod:`kplearn.codecs`.

The config dict is JSON-serialisable; it is what a checkpoint stores next to the
state dict, so :func:`kplearn.models.registry.build_model` can rebuild the net.

Examples
--------
>>> import torch
>>> from kplearn.models.registry import build_model
>>> net = build_model("heatmap", "faces68", input_size=(64, 64))
>>> net.eval().decode(net(torch.zeros(1, 3, 64, 64)))[0].shape
(1, 68, 2)
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from kplearn.codecs.coordinates import denormalize_keypoints, normalize_keypoints
from kplearn.codecs.heatmap_codec import HeatmapCodec
from kplearn.codecs.refine import blur_kernel_for

# blur_kernel_for lives in kplearn.codecs.refine; it stays importable from here.
__all__ = ["KeypointNet", "gaussian_targets", "flip_coords", "flip_heatmaps", "blur_kernel_for"]


def flip_coords(coords: torch.Tensor, flip_index: torch.Tensor) -> torch.Tensor:
    """Normalised coordinates predicted on a mirrored input, mapped back: ``u -> -u``, pairs swapped."""
    out = coords[:, flip_index].clone()
    out[..., 0] = -out[..., 0]
    return out


def flip_heatmaps(heatmaps: torch.Tensor, flip_index: torch.Tensor) -> torch.Tensor:
    """Heatmaps predicted on a mirrored input, mapped back (exact on the unbiased grid)."""
    return heatmaps.flip(-1)[:, flip_index]


def gaussian_targets(
    keypoints: torch.Tensor,
    input_size: tuple[int, int],
    heatmap_size: tuple[int, int],
    sigma: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Unbiased Gaussian heatmap targets for a batch of (possibly several) instances.

    :meth:`HeatmapCodec.encode <kplearn.codecs.HeatmapCodec.encode>` with
    ``encoding="unbiased"`` (:func:`kplearn.codecs.encode_heatmaps_torch`): the peak
    sits at the sub-pixel position ``x' = (x + 0.5) / s - 0.5`` (no rounding) and a
    keypoint gets weight 0 when it is unlabelled or its ``3 sigma`` window misses the
    map. Several instances (``M > 1``) are merged with a pixel-wise maximum, as
    bottom-up models need; a keypoint's weight is 1 if any instance gives it a target.

    Parameters
    ----------
    keypoints : Tensor, shape (N, M, K, 3)
        Input-pixel keypoints with visibility.
    input_size, heatmap_size : (int, int)
        ``(width, height)``.
    sigma : float
        Gaussian standard deviation in heatmap pixels.

    Returns
    -------
    heatmaps : Tensor (N, K, H', W')
    weights : Tensor (N, K)
        1 where at least one instance gives the keypoint a target.
    """
    return _merge_instances(HeatmapCodec(input_size, heatmap_size, sigma).encode(keypoints))


def _merge_instances(
    encoded: tuple[torch.Tensor, torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, M, K, H', W')`` maps and ``(N, M, K)`` weights -> their maximum over the M instances."""
    maps, weights = encoded
    return maps.amax(dim=1), weights.amax(dim=1)


class KeypointNet(nn.Module):
    """Base class of the kplearn networks.

    Subclasses set ``output_kind`` and implement ``forward`` (returning a dict)
    and ``loss``. The config must hold ``num_keypoints``, ``input_size``
    (``[w, h]``) and ``flip_index``; heatmap nets also ``stride``, ``sigma`` and
    ``decoder`` (and optionally ``encoding``, ``blur_kernel``), which make
    :attr:`codec`.
    """

    output_kind = "coords"
    #: Target sigma (heatmap pixels) when the config gives none.
    default_sigma = 2.0

    def __init__(self, config: dict) -> None:
        super().__init__()
        for key in ("num_keypoints", "input_size", "flip_index"):
            if key not in config:
                raise ValueError(f"model config is missing {key!r}")
        self.config = dict(config)
        self.num_keypoints = int(config["num_keypoints"])
        self.input_size = (int(config["input_size"][0]), int(config["input_size"][1]))
        flip = torch.as_tensor(config["flip_index"], dtype=torch.long)
        if flip.shape != (self.num_keypoints,):
            raise ValueError(
                f"flip_index has {flip.numel()} entries for {self.num_keypoints} keypoints"
            )
        self.register_buffer("flip_index", flip, persistent=False)

    # --- sizes -------------------------------------------------------------------------------
    @property
    def heatmap_size(self) -> tuple[int, int]:
        """``(width, height)`` of the output heatmaps (input size over the stride)."""
        s = int(self.config.get("stride", 4))
        w, h = self.input_size
        if w % s or h % s:
            raise ValueError(f"input size {self.input_size} is not a multiple of stride {s}")
        return w // s, h // s

    def _checked_stride(self, allowed: tuple[int, ...], name: str) -> int:
        """The config's ``stride`` (default 4), checked against those ``name`` can build.

        Parameters
        ----------
        allowed : tuple of int
            The strides the architecture supports, in increasing order.
        name : str
            The architecture, for the message.

        Returns
        -------
        int
        """
        stride = int(self.config.get("stride", 4))
        if stride not in allowed:
            choices = ", ".join(map(str, allowed[:-1])) + f" or {allowed[-1]}"
            raise ValueError(f"{name} stride must be {choices}, got {stride}")
        return stride

    @property
    def codec(self) -> HeatmapCodec:
        """The :class:`~kplearn.codecs.HeatmapCodec` of the config, for targets and decoding.

        Built from the config on every access, so editing ``config["decoder"]``
        changes how the network decodes.
        """
        cfg = self.config
        return HeatmapCodec.from_stride(
            self.input_size,
            int(cfg.get("stride", 4)),
            sigma=float(cfg.get("sigma", self.default_sigma)),
            encoding=cfg.get("encoding", "unbiased"),
            decoder=cfg.get("decoder", "dark"),
            blur_kernel=cfg.get("blur_kernel"),
        )

    def heatmap_targets(self, keypoints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The codec's targets for input-pixel keypoints ``(N, M, K, 3)``, instances merged.

        Returns maps ``(N, K, H', W')`` (pixel-wise maximum over the ``M`` instances)
        and weights ``(N, K)`` (1 where any instance gives the keypoint a target).
        """
        return _merge_instances(self.codec.encode(keypoints))

    # --- coordinates -------------------------------------------------------------------------
    def to_normalized(self, keypoints: torch.Tensor) -> torch.Tensor:
        """Input pixels -> ``[-1, 1]`` units (the regression target space)."""
        return normalize_keypoints(keypoints[..., :2], self.input_size)

    def to_pixels(self, coords: torch.Tensor) -> torch.Tensor:
        """``[-1, 1]`` units -> input pixels."""
        return denormalize_keypoints(coords, self.input_size)

    # --- flip test and decoding --------------------------------------------------------------
    def merge_flip(self, out: dict, out_flipped: dict) -> dict:
        """Average an output with the output on the mirrored input (mapped back)."""
        merged = dict(out)
        if "heatmaps" in out and self.output_kind == "heatmaps":
            merged["heatmaps"] = 0.5 * (
                out["heatmaps"] + flip_heatmaps(out_flipped["heatmaps"], self.flip_index)
            )
        if "coords" in out:
            merged["coords"] = 0.5 * (
                out["coords"] + flip_coords(out_flipped["coords"], self.flip_index)
            )
        return merged

    @property
    def label_offset(self) -> np.ndarray:
        """``(dx, dy)`` in input pixels added to every decoded keypoint (config ``label_offset``).

        The network works in a frame where the labels are mirror-consistent with the
        image content; a dataset whose labels sit a constant offset away from that
        (see :func:`kplearn.train.mirror.estimate_label_offset`) gets the offset back here.
        """
        return np.asarray(self.config.get("label_offset", (0.0, 0.0)), np.float64).reshape(2)

    def decode(self, out: dict) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints ``(N, K, 2)`` in input pixels and scores ``(N, K)`` from an output dict.

        A keypoint not predicted is NaN with score 0.
        """
        xy, scores = self._decode(out)
        return xy + self.label_offset, scores

    def _decode(self, out: dict) -> tuple[np.ndarray, np.ndarray]:
        if self.output_kind == "heatmaps":
            # No positive value in a map: NaN with score 0 (the codec's rule).
            xy, scores = self.codec.decode(out["heatmaps"].detach().float())
            return xy.double().cpu().numpy(), scores.double().cpu().numpy()
        coords = out["coords"].detach().float().cpu()
        xy = self.to_pixels(coords).double().numpy()
        scores = out.get("scores")
        if scores is None:
            sc = np.ones(xy.shape[:2])
        else:
            sc = scores.detach().double().cpu().numpy()
        return xy, sc

    def loss(self, out: dict, keypoints: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Training loss from an output dict and input-pixel keypoints ``(N, M, K, 3)``."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, num_keypoints={self.num_keypoints}"
