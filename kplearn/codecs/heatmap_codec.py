"""The heatmap codec: one object holding every choice that links keypoints and heatmaps.

A :class:`HeatmapCodec` fixes the input size, the heatmap size, the target width
``sigma``, the centre convention (``encoding``), the decoder and DARK's blur width.
``encode`` turns input-pixel keypoints into Gaussian targets and ``decode`` turns
heatmaps back into input-pixel keypoints and scores; both take numpy arrays
(:func:`~kplearn.codecs.encode_heatmaps`, :func:`~kplearn.codecs.decode_heatmaps`) or
torch tensors (their twins in :mod:`kplearn.codecs.torch_ops`, on the tensor's
device) and return the same kind. The heatmap networks delegate to the codec of
their config (:attr:`kplearn.models.base.KeypointNet.codec`), and a run directory
stores :meth:`HeatmapCodec.to_config` in its ``config.json``.

A map with no positive value decodes to ``(NaN, NaN)`` with score 0 (see
"Keypoint arrays" in :mod:`kplearn.codecs`).

Examples
--------
>>> import numpy as np
>>> codec = HeatmapCodec((64, 64), (16, 16), sigma=1.5)
>>> codec.blur_kernel, codec.stride
(7, (4.0, 4.0))
>>> maps, weights = codec.encode(np.array([[[20.3, 30.6, 2.0], [0.0, 0.0, 0.0]]]))
>>> maps.shape, weights.tolist()
((1, 2, 16, 16), [[1.0, 0.0]])
>>> xy, scores = codec.decode(maps)
>>> np.round(xy[0, 0], 1).tolist(), bool(np.isnan(xy[0, 1]).all()), float(scores[0, 1])
([20.3, 30.6], True, 0.0)
>>> HeatmapCodec.from_config(codec.to_config()) == codec
True
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

from kplearn.codecs._checks import (
    DECODE_METHODS,
    ENCODINGS,
    check_choice,
    check_codec_config,
    check_positive,
    check_size,
)
from kplearn.codecs.heatmap import decode_heatmaps, encode_heatmaps
from kplearn.codecs.refine import _gaussian_kernel, blur_kernel_for
from kplearn.codecs.torch_ops import decode_heatmaps_torch, encode_heatmaps_torch

__all__ = ["HeatmapCodec"]

_FIELDS = ("input_size", "heatmap_size", "sigma", "encoding", "decoder", "blur_kernel")


@dataclass(frozen=True)
class HeatmapCodec:
    """Gaussian heatmap targets and their decoding, with every setting in one place.

    Parameters
    ----------
    input_size, heatmap_size : (int, int)
        ``(width, height)`` of the network input and of its heatmaps.
    sigma : float
        Target Gaussian standard deviation in heatmap pixels.
    encoding : {"unbiased", "msra", "udp"}
        Centre convention (:mod:`kplearn.codecs.heatmap`); decoding uses its inverse.
        The kplearn networks use ``"unbiased"``, on which a mirrored input is exactly
        a mirrored heatmap.
    decoder : {"argmax", "quarter", "dark", "softargmax"}
    blur_kernel : int, optional
        DARK's blur width (odd); by default the one matching ``sigma``
        (:func:`~kplearn.codecs.refine.blur_kernel_for`). Stored resolved, so a saved
        codec decodes the same way whatever the default rule becomes.

    Examples
    --------
    >>> import torch
    >>> codec = HeatmapCodec((192, 256), (48, 64))
    >>> kp = torch.tensor([[[100.3, 120.7, 2.0]]])
    >>> maps, _ = codec.encode(kp)
    >>> xy, _ = codec.decode(maps)
    >>> type(xy).__name__, bool((xy - kp[..., :2]).abs().max() < 0.01)
    ('Tensor', True)
    """

    input_size: tuple[int, int]
    heatmap_size: tuple[int, int]
    sigma: float = 2.0
    encoding: str = "unbiased"
    decoder: str = "dark"
    blur_kernel: int | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "input_size", check_size(self.input_size, "input_size"))
        set_(self, "heatmap_size", check_size(self.heatmap_size, "heatmap_size"))
        set_(self, "sigma", check_positive(self.sigma, "sigma"))
        check_choice(self.encoding, ENCODINGS, "encoding")
        check_choice(self.decoder, DECODE_METHODS, "decoder")
        k = blur_kernel_for(self.sigma) if self.blur_kernel is None else self.blur_kernel
        _gaussian_kernel(k)  # positive and odd, or a clear error
        set_(self, "blur_kernel", int(k))

    @classmethod
    def from_stride(cls, input_size: tuple[int, int], stride: int, **kwargs) -> HeatmapCodec:
        """The codec whose heatmaps are ``input_size / stride``; the input must be a multiple.

        Examples
        --------
        >>> HeatmapCodec.from_stride((64, 48), 4).heatmap_size
        (16, 12)
        """
        w, h = check_size(input_size, "input_size")
        if isinstance(stride, bool) or not isinstance(stride, numbers.Integral) or stride < 1:
            raise ValueError(f"stride must be a positive integer, got {stride!r}")
        if w % stride or h % stride:
            raise ValueError(f"input size {(w, h)} is not a multiple of stride {stride}")
        return cls((w, h), (w // stride, h // stride), **kwargs)

    @property
    def stride(self) -> tuple[float, float]:
        """Input pixels per heatmap pixel, ``(w / W', h / H')``."""
        return (
            self.input_size[0] / self.heatmap_size[0],
            self.input_size[1] / self.heatmap_size[1],
        )

    def encode(self, keypoints):
        """Targets ``(..., K, H', W')`` and weights ``(..., K)`` for keypoints ``(..., K, 3|2)``.

        A numpy array (or list) gives float32 numpy arrays; a tensor gives tensors of
        its floating dtype (float32 otherwise) on its device. See
        :func:`~kplearn.codecs.encode_heatmaps` for the weights.
        """
        if isinstance(keypoints, torch.Tensor):
            dtype = keypoints.dtype if keypoints.is_floating_point() else torch.float32
            return encode_heatmaps_torch(
                keypoints, self.input_size, self.heatmap_size, self.sigma, self.encoding, dtype
            )
        return encode_heatmaps(
            keypoints, self.input_size, self.heatmap_size, self.sigma, self.encoding
        )

    def decode(self, heatmaps):
        """Keypoints ``(..., K, 2)`` in input pixels and scores ``(..., K)`` from heatmaps.

        Tensors in, tensors out (:func:`~kplearn.codecs.decode_heatmaps_torch`); anything
        else is decoded in numpy, float64. Invalid maps give NaN with score 0. The
        heatmaps must be ``heatmap_size``.
        """
        shape = tuple(np.shape(heatmaps))
        if len(shape) < 2 or shape[-2:] != self.heatmap_size[::-1]:
            raise ValueError(
                f"heatmaps of shape {shape} do not match the codec's heatmap size "
                f"{self.heatmap_size} (width, height)"
            )
        kwargs = {"blur_kernel": self.blur_kernel}
        if isinstance(heatmaps, torch.Tensor):
            return decode_heatmaps_torch(
                heatmaps, self.input_size, self.decoder, self.encoding, **kwargs
            )
        return decode_heatmaps(heatmaps, self.input_size, self.decoder, self.encoding, **kwargs)

    def to_config(self) -> dict:
        """A JSON-ready dict; :meth:`from_config` rebuilds the same codec."""
        return {
            "type": "heatmap",
            "input_size": list(self.input_size),
            "heatmap_size": list(self.heatmap_size),
            "sigma": self.sigma,
            "encoding": self.encoding,
            "decoder": self.decoder,
            "blur_kernel": self.blur_kernel,
        }

    @classmethod
    def from_config(cls, config: dict) -> HeatmapCodec:
        """The codec a :meth:`to_config` dict describes; unknown keys are an error.

        Examples
        --------
        >>> HeatmapCodec.from_config({"input_size": [64, 64], "heatmap_size": [16, 16],
        ...                           "decodr": "dark"})
        Traceback (most recent call last):
        ...
        ValueError: heatmap codec config has unknown keys 'decodr'; known: input_size, heatmap_size, sigma, encoding, decoder, blur_kernel
        """
        required = ("input_size", "heatmap_size")
        return cls(**check_codec_config(config, "heatmap", "heatmap", _FIELDS, required))
