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

Example
-------
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

import numpy as np

from kplearn.codecs._checks import check_choice, check_keypoints, check_sigma, check_size

__all__ = ["encode_simcc", "decode_simcc", "simcc_bins"]


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
        NaN where ``score <= 0`` (without ``beta``).
    scores : ndarray (..., K)
        ``min(max_x, max_y)`` as MMPose; with ``beta`` the smaller peak probability.
    """
    check_choice(method, ("argmax", "expectation"), "method")
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
        xy[scores <= 0] = np.nan
    return xy, scores
