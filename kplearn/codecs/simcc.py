"""SimCC-style 1-D coordinate labels (Li et al., ECCV 2022) and their decoding.

Each keypoint gets two 1-D label vectors, one over ``Wx = round(w k)`` x-bins and one
over ``Wy = round(h k)`` y-bins, where ``k`` is the split ratio (bins per input pixel).
Bins follow the heatmap convention with stride ``s = w / Wx``: bin ``i`` is centred on
input pixel ``(i + 0.5) s - 0.5`` and the label centre is the exact sub-bin position
``mu = (x + 0.5) / s - 0.5`` (MMPose rounds ``mu`` to a bin, costing up to half a bin).

Labels are ``exp(-(i - mu)^2 / 2 sigma^2)`` (sigma in bins); with ``normalize=True`` each
vector is divided by its sum, so it is a probability vector as the KL loss
(:func:`kplearn.losses.kl_1d`) expects (MMPose divides by ``sigma sqrt(2 pi)``, which
sums to ~1 only away from the ends). Weights follow :func:`~kplearn.codecs.encode_heatmaps`:
0 for unlabelled keypoints and for keypoints whose 3-sigma window misses every bin.

Examples
--------
>>> import numpy as np
>>> from kplearn.codecs.simcc import encode_simcc, decode_simcc
>>> kp = np.array([[[60.3, 40.8, 2.0]]])
>>> tx, ty, w = encode_simcc(kp, (128, 96), sigma=4.0, split_ratio=2.0)
>>> tx.shape, ty.shape, w.tolist()
((1, 1, 256), (1, 1, 192), [[1.0]])
>>> xy, score = decode_simcc(tx, ty, (128, 96), method="expectation")
>>> np.abs(xy - kp[..., :2]).max() < 1e-3
np.True_
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kplearn.codecs._checks import (
    check_choice,
    check_codec_config,
    check_keypoints,
    check_positive,
    check_sigma,
    check_size,
)

__all__ = ["encode_simcc", "decode_simcc", "simcc_bins", "SimCCCodec", "SIMCC_DECODERS"]

#: The :func:`decode_simcc` methods.
SIMCC_DECODERS = ("argmax", "expectation")


def simcc_bins(input_size: tuple[int, int], split_ratio: float = 2.0) -> tuple[int, int]:
    """Bin counts ``(Wx, Wy) = (round(w k), round(h k))``.

    >>> simcc_bins((192, 256), 2.0)
    (384, 512)
    """
    w, h = check_size(input_size, "input_size")
    if not np.isfinite(split_ratio) or split_ratio <= 0:
        raise ValueError(f"split_ratio must be positive and finite, got {split_ratio!r}")
    return max(1, int(round(w * split_ratio))), max(1, int(round(h * split_ratio)))


def _labels(mu: np.ndarray, sig: np.ndarray, bins: int, normalize: bool) -> np.ndarray:
    with np.errstate(over="ignore"):
        t = np.exp(-((np.arange(bins) - mu[..., None]) ** 2) / (2.0 * sig[:, None] ** 2))
    if normalize:
        total = t.sum(axis=-1, keepdims=True)
        t = np.divide(t, total, out=np.zeros_like(t), where=total > 0)
    return t


def encode_simcc(
    keypoints,
    input_size: tuple[int, int],
    sigma=6.0,
    split_ratio: float = 2.0,
    normalize: bool = True,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-D Gaussian labels per axis.

    Parameters
    ----------
    keypoints : array_like, shape (..., K, 3) or (..., K, 2)
        In input pixels.
    input_size : (int, int)
        ``(width, height)``.
    sigma : float or array_like (K,)
        In bins (MMPose's SimCC default is 6 at split ratio 2).
    split_ratio : float
        Bins per input pixel.
    normalize : bool
        Divide each label vector by its sum (a distribution over bins).

    Returns
    -------
    target_x : ndarray (..., K, Wx)
    target_y : ndarray (..., K, Wy)
    weights : ndarray (..., K)
    """
    xy, labelled = check_keypoints(keypoints)
    if xy.ndim < 2:
        raise ValueError(f"keypoints must have shape (..., K, 3), got {np.shape(keypoints)}")
    w, h = check_size(input_size, "input_size")
    wx, wy = simcc_bins((w, h), split_ratio)
    sig = check_sigma(sigma, xy.shape[-2])
    stride = np.array([w / wx, h / wy])
    mu = (xy + 0.5) / stride - 0.5
    radius = 3.0 * sig
    ok = labelled.copy()
    for axis, bins in ((0, wx), (1, wy)):
        with np.errstate(invalid="ignore", over="ignore"):
            lo = np.maximum(np.ceil(mu[..., axis] - radius), 0)
            hi = np.minimum(np.floor(mu[..., axis] + radius), bins - 1)
        ok &= lo <= hi
    tx = _labels(mu[..., 0], sig, wx, normalize) * ok[..., None]
    ty = _labels(mu[..., 1], sig, wy, normalize) * ok[..., None]
    return tx.astype(dtype), ty.astype(dtype), ok.astype(dtype)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def decode_simcc(
    simcc_x,
    simcc_y,
    input_size: tuple[int, int],
    method: str = "argmax",
    beta: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints in input pixels from 1-D labels or logits.

    Parameters
    ----------
    simcc_x, simcc_y : array_like, shape (..., K, Wx) and (..., K, Wy)
    input_size : (int, int)
        ``(width, height)``; the stride is ``w / Wx`` per axis.
    method : {"argmax", "expectation"}
        ``"argmax"``: the first maximal bin (error up to half a bin). ``"expectation"``:
        mean bin under the vector clipped at 0 and normalised, or under
        ``softmax(beta z)`` when ``beta`` is given (then every keypoint decodes).

    Returns
    -------
    keypoints : ndarray (..., K, 2)
        NaN where ``min(max_x, max_y) <= 0`` (without ``beta``): no peak.
    scores : ndarray (..., K)
        ``min(max_x, max_y)`` as MMPose, 0 where there is no peak; with ``beta`` the
        smaller peak probability.
    """
    check_choice(method, SIMCC_DECODERS, "method")
    w, h = check_size(input_size, "input_size")
    sx = np.asarray(simcc_x, dtype=np.float64)
    sy = np.asarray(simcc_y, dtype=np.float64)
    if sx.ndim < 1 or sy.ndim < 1 or sx.shape[:-1] != sy.shape[:-1]:
        raise ValueError(
            f"simcc_x and simcc_y must share leading axes, got {sx.shape} and {sy.shape}"
        )
    if sx.shape[-1] < 1 or sy.shape[-1] < 1:
        raise ValueError("simcc_x and simcc_y must have at least one bin")
    if not (np.all(np.isfinite(sx)) and np.all(np.isfinite(sy))):
        raise ValueError("simcc_x or simcc_y contain NaN or inf values")
    if beta is not None and (not np.isfinite(beta) or beta <= 0):
        raise ValueError(f"beta must be positive and finite, got {beta!r}")
    coords, peaks = [], []
    for v in (sx, sy):
        idx = np.argmax(v, axis=-1)
        peak = np.take_along_axis(v, idx[..., None], axis=-1)[..., 0]
        if method == "argmax":
            c = idx.astype(np.float64)
        else:
            if beta is None:
                p = np.clip(v, 0.0, None)
                total = p.sum(axis=-1, keepdims=True)
                p = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
            else:
                p = _softmax(beta * v)
            c = p @ np.arange(v.shape[-1], dtype=np.float64)
        if beta is not None:
            peak = 1.0 / np.exp(beta * (v - peak[..., None])).sum(axis=-1)
        coords.append(c)
        peaks.append(peak)
    scores = np.minimum(peaks[0], peaks[1])
    stride = np.array([w / sx.shape[-1], h / sy.shape[-1]])
    xy = (np.stack(coords, axis=-1) + 0.5) * stride - 0.5
    if beta is None:
        invalid = scores <= 0
        xy[invalid] = np.nan
        scores = np.where(invalid, 0.0, scores)
    return xy, scores


_SIMCC_FIELDS = ("input_size", "sigma", "split_ratio", "normalize", "decoder", "beta")


@dataclass(frozen=True)
class SimCCCodec:
    """SimCC labels and their decoding with every setting in one place (numpy).

    The SimCC counterpart of :class:`~kplearn.codecs.HeatmapCodec`: ``encode`` gives
    :func:`encode_simcc`'s ``(target_x, target_y, weights)``, ``decode`` gives
    :func:`decode_simcc`'s ``(keypoints, scores)``; :meth:`to_config` /
    :meth:`from_config` store it in a run's config.

    Parameters
    ----------
    input_size : (int, int)
        ``(width, height)``.
    sigma : float
        Label width in bins.
    split_ratio : float
        Bins per input pixel.
    normalize : bool
        Labels sum to 1 per keypoint and axis.
    decoder : {"argmax", "expectation"}
    beta : float, optional
        Decode ``softmax(beta z)`` (the outputs taken as logits); see :func:`decode_simcc`.

    Examples
    --------
    >>> import numpy as np
    >>> codec = SimCCCodec((128, 96), sigma=4.0, decoder="expectation")
    >>> codec.bins
    (256, 192)
    >>> tx, ty, w = codec.encode(np.array([[[60.3, 40.8, 2.0]]]))
    >>> xy, score = codec.decode(tx, ty)
    >>> np.round(xy, 2).tolist()
    [[[60.3, 40.8]]]
    >>> SimCCCodec.from_config(codec.to_config()) == codec
    True
    """

    input_size: tuple[int, int]
    sigma: float = 6.0
    split_ratio: float = 2.0
    normalize: bool = True
    decoder: str = "argmax"
    beta: float | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "input_size", check_size(self.input_size, "input_size"))
        set_(self, "sigma", check_positive(self.sigma, "sigma"))
        set_(self, "split_ratio", check_positive(self.split_ratio, "split_ratio"))
        if not isinstance(self.normalize, (bool, np.bool_)):
            raise ValueError(f"normalize must be True or False, got {self.normalize!r}")
        set_(self, "normalize", bool(self.normalize))
        check_choice(self.decoder, SIMCC_DECODERS, "decoder")
        set_(self, "beta", check_positive(self.beta, "beta", allow_none=True))

    @property
    def bins(self) -> tuple[int, int]:
        """``(Wx, Wy)``, the label lengths (:func:`simcc_bins`)."""
        return simcc_bins(self.input_size, self.split_ratio)

    def encode(self, keypoints, dtype=np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(target_x (..., K, Wx), target_y (..., K, Wy), weights (..., K))`` for input-pixel keypoints."""
        return encode_simcc(
            keypoints, self.input_size, self.sigma, self.split_ratio, self.normalize, dtype
        )

    def decode(self, simcc_x, simcc_y) -> tuple[np.ndarray, np.ndarray]:
        """Keypoints ``(..., K, 2)`` in input pixels and scores ``(..., K)``; NaN with score 0 where no peak."""
        sx, sy = _as_numpy(simcc_x), _as_numpy(simcc_y)
        if np.shape(sx)[-1:] != (self.bins[0],) or np.shape(sy)[-1:] != (self.bins[1],):
            raise ValueError(
                f"SimCC outputs with {np.shape(sx)[-1:]} x-bins and {np.shape(sy)[-1:]} y-bins do "
                f"not match the codec's {self.bins}"
            )
        return decode_simcc(sx, sy, self.input_size, self.decoder, self.beta)

    def to_config(self) -> dict:
        """A JSON-ready dict; :meth:`from_config` rebuilds the same codec."""
        return {"type": "simcc", "input_size": list(self.input_size), "sigma": self.sigma,
                "split_ratio": self.split_ratio, "normalize": self.normalize,
                "decoder": self.decoder, "beta": self.beta}  # fmt: skip

    @classmethod
    def from_config(cls, config: dict) -> SimCCCodec:
        """The codec a :meth:`to_config` dict describes; unknown keys are an error."""
        return cls(**check_codec_config(config, "simcc", "SimCC", _SIMCC_FIELDS, ("input_size",)))


def _as_numpy(values):
    try:  # torch tensors, without importing torch here
        return values.detach().cpu().numpy()
    except AttributeError:
        return values
