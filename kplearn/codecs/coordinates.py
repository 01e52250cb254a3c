"""Coordinate maps: input pixels <-> heatmap pixels, normalised coordinates, soft-argmax.

kplearn's pixel convention: integer coordinates are pixel centres, so an image of
width ``w`` spans ``[-0.5, w - 0.5]`` and a horizontal flip is ``x -> w - 1 - x``.
A heatmap of width ``W'`` covers the same extent, so with stride ``s = w / W'``

=========  ===========================================  ==============================
encoding   input -> heatmap (per axis)                  flip-consistent?
=========  ===========================================  ==============================
unbiased   ``x' = (x + 0.5) / s - 0.5``                 yes: ``x -> w-1-x`` is ``x' -> W'-1-x'``
msra       ``x' = x / s`` (centre then *rounded*)       no: off by ``(s - 1) / s`` heatmap px
udp        ``x' = x (W' - 1) / (w - 1)``                yes (corners aligned)
=========  ===========================================  ==============================

``msra`` is the SimpleBaseline/HRNet convention (heatmap pixel ``i`` is input pixel
``i * s``); ``udp`` is the Unbiased Data Processing convention (Huang et al., CVPR 2020).
Decoding must use the inverse of the map the targets were encoded with.

Normalised coordinates for regression use the same pixel-centre convention: the box
edges ``-0.5`` and ``w - 0.5`` map to the ends of ``bounds`` (``(-1, 1)`` by default,
which is also ``torch.nn.functional.grid_sample``'s ``align_corners=False``).

Examples
--------
>>> import numpy as np
>>> from kplearn.codecs.coordinates import input_to_heatmap, normalize_keypoints
>>> input_to_heatmap(np.array([[101.5, 1.5]]), (192, 256), (48, 64))
array([[25.,  0.]])
>>> normalize_keypoints(np.array([[-0.5, 255.5]]), (192, 256))
array([[-1.,  1.]])
"""

from __future__ import annotations

import numpy as np
import torch

from kplearn.codecs._checks import ENCODINGS, check_choice, check_heatmaps, check_size

__all__ = [
    "input_to_heatmap",
    "heatmap_to_input",
    "normalize_keypoints",
    "denormalize_keypoints",
    "heatmap_expectation",
    "soft_argmax",
]


def _axis_maps(input_size, heatmap_size, encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """Scale ``a`` and offset ``b`` (each ``(2,)``, x then y) of ``x' = a x + b``."""
    w, h = check_size(input_size, "input_size")
    wh, hh = check_size(heatmap_size, "heatmap_size")
    check_choice(encoding, ENCODINGS, "encoding")
    n = np.array([w, h], dtype=np.float64)
    m = np.array([wh, hh], dtype=np.float64)
    if encoding == "unbiased":
        a = m / n
        return a, 0.5 * a - 0.5
    if encoding == "msra":
        return m / n, np.zeros(2)
    if np.any(n < 2) or np.any(m < 2):
        raise ValueError(
            f"encoding='udp' needs sizes of at least 2, got {input_size} and {heatmap_size}"
        )
    return (m - 1) / (n - 1), np.zeros(2)


def _like(values: np.ndarray, ref):
    """``values`` as an array/tensor that broadcasts against ``ref``'s kind, dtype and device."""
    if isinstance(ref, torch.Tensor):
        dtype = ref.dtype if ref.is_floating_point() else torch.float32
        return torch.as_tensor(values, dtype=dtype, device=ref.device)
    return values


def _as_float(xy):
    if isinstance(xy, torch.Tensor):
        return xy if xy.is_floating_point() else xy.float()
    return np.asarray(xy, dtype=np.float64)


def input_to_heatmap(xy, input_size, heatmap_size, encoding: str = "unbiased"):
    """Map input-pixel coordinates ``(..., 2)`` to heatmap pixels (no rounding).

    Works on numpy arrays and torch tensors (differentiably). See the module table
    for the three ``encoding`` conventions; ``msra`` encoding additionally rounds the
    centre, which :func:`~kplearn.codecs.encode_heatmaps` does, not this map.

    Examples
    --------
    >>> import numpy as np
    >>> input_to_heatmap(np.array([100.0, 100.0]), (192, 256), (48, 64), "msra")
    array([25., 25.])
    """
    xy = _as_float(xy)
    a, b = _axis_maps(input_size, heatmap_size, encoding)
    return xy * _like(a, xy) + _like(b, xy)


def heatmap_to_input(xy, input_size, heatmap_size, encoding: str = "unbiased"):
    """Inverse of :func:`input_to_heatmap`: heatmap pixels ``(..., 2)`` -> input pixels.

    Examples
    --------
    >>> import numpy as np
    >>> heatmap_to_input(np.array([0.0, 0.0]), (192, 256), (48, 64))
    array([1.5, 1.5])
    """
    xy = _as_float(xy)
    a, b = _axis_maps(input_size, heatmap_size, encoding)
    return (xy - _like(b, xy)) / _like(a, xy)


def _check_bounds(bounds) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be a (low, high) pair, got {bounds!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"bounds must be finite with low < high, got {bounds!r}")
    return lo, hi


def _split_xy(keypoints):
    kp = _as_float(keypoints)
    if kp.ndim < 1 or kp.shape[-1] < 2:
        raise ValueError(f"keypoints must have shape (..., 2) or (..., 3), got {tuple(kp.shape)}")
    return kp


def _rejoin(kp, xy):
    if kp.shape[-1] == 2:
        return xy
    if isinstance(kp, torch.Tensor):
        return torch.cat([xy, kp[..., 2:]], dim=-1)
    return np.concatenate([xy, kp[..., 2:]], axis=-1)


def normalize_keypoints(keypoints, input_size, bounds: tuple[float, float] = (-1.0, 1.0)):
    """Input pixels -> normalised coordinates of the input box, for regression targets.

    ``u = low + (high - low) * (x + 0.5) / w`` (and likewise ``y`` with ``h``): the box
    edges ``-0.5`` and ``w - 0.5`` go to ``low`` and ``high``, the centre to the
    midpoint, and a horizontal flip ``x -> w - 1 - x`` is ``u -> low + high - u``.
    (MMPose's ``RegressionLabel`` uses ``x / w`` instead, half a pixel away.)

    Parameters
    ----------
    keypoints : ndarray or Tensor, shape (..., 2) or (..., 3)
        Columns beyond the first two (visibility) are passed through unchanged.
    input_size : (int, int)
        ``(width, height)`` of the input box.
    bounds : (float, float)
        ``(-1, 1)`` (default) or ``(0, 1)``; any ``low < high`` works.

    Returns
    -------
    ndarray (float64) or Tensor (differentiable, same dtype/device)

    Examples
    --------
    >>> import numpy as np
    >>> normalize_keypoints(np.array([[95.5, 127.5, 2.0]]), (192, 256), bounds=(0, 1))
    array([[0.5, 0.5, 2. ]])
    """
    kp = _split_xy(keypoints)
    w, h = check_size(input_size, "input_size")
    lo, hi = _check_bounds(bounds)
    scale = _like(np.array([(hi - lo) / w, (hi - lo) / h]), kp)
    xy = lo + (kp[..., :2] + 0.5) * scale
    return _rejoin(kp, xy)


def denormalize_keypoints(keypoints, input_size, bounds: tuple[float, float] = (-1.0, 1.0)):
    """Inverse of :func:`normalize_keypoints`: normalised coordinates -> input pixels.

    Examples
    --------
    >>> import numpy as np
    >>> denormalize_keypoints(np.array([[0.0, 0.0]]), (192, 256))
    array([[ 95.5, 127.5]])
    """
    kp = _split_xy(keypoints)
    w, h = check_size(input_size, "input_size")
    lo, hi = _check_bounds(bounds)
    scale = _like(np.array([w / (hi - lo), h / (hi - lo)]), kp)
    xy = (kp[..., :2] - lo) * scale - 0.5
    return _rejoin(kp, xy)


def _softmax_maps(hm: np.ndarray, beta: float) -> np.ndarray:
    z = beta * hm.reshape(*hm.shape[:-2], -1)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return (z / z.sum(axis=-1, keepdims=True)).reshape(hm.shape)


def heatmap_expectation(heatmaps, beta: float | None = None) -> np.ndarray:
    """Expected pixel position ``(..., 2)`` (x, y in heatmap pixels) of each map.

    With ``beta=None`` the map, negatives clipped to 0, is normalised to sum 1 and
    its mean position returned: exact for an untruncated Gaussian target, so on
    targets away from the border it recovers the centre to ~1e-4 px; where the border
    cuts the Gaussian (closer than ~4 sigma) the estimate is pulled towards the map
    centre (0.1 heatmap px at 2.7 sigma). A map with no
    positive value has no distribution and gives NaN. With a ``beta`` the map is
    treated as logits: ``softmax(beta * h)`` over all pixels (the numpy twin of
    :func:`soft_argmax`).

    Examples
    --------
    >>> import numpy as np
    >>> hm = np.zeros((1, 5, 5)); hm[0, 2, 1] = hm[0, 2, 2] = 1.0
    >>> heatmap_expectation(hm)
    array([[1.5, 2. ]])
    """
    hm = check_heatmaps(heatmaps)
    if beta is None:
        p = np.clip(hm, 0.0, None)
        total = p.sum(axis=(-2, -1), keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = p / total
    else:
        if not np.isfinite(beta) or beta <= 0:
            raise ValueError(f"beta must be positive and finite, got {beta!r}")
        p = _softmax_maps(hm, float(beta))
    xs = np.arange(hm.shape[-1], dtype=np.float64)
    ys = np.arange(hm.shape[-2], dtype=np.float64)
    x = p.sum(axis=-2) @ xs
    y = p.sum(axis=-1) @ ys
    return np.stack([x, y], axis=-1)


def soft_argmax(
    logits: torch.Tensor,
    beta: float = 1.0,
    input_size: tuple[int, int] | None = None,
    encoding: str = "unbiased",
) -> torch.Tensor:
    """Differentiable soft-argmax (integral regression): expected position under ``softmax(beta * logits)``.

    ``P = softmax(beta * F)`` over the ``H' * W'`` pixels of each channel and
    ``x' = sum P * i``, ``y' = sum P * j`` on the pixel-centre grid. Larger ``beta``
    sharpens the distribution towards the argmax; with ``beta`` small the estimate is
    pulled towards the map centre, which is why integral heads are trained end to end
    on the coordinates (the network learns peaked logits).

    Parameters
    ----------
    logits : Tensor, shape (..., H', W')
    beta : float
        Inverse temperature (> 0).
    input_size : (int, int), optional
        When given, the result is mapped to input pixels with
        :func:`heatmap_to_input` and ``encoding``; otherwise it is in heatmap pixels.
        Use :func:`normalize_keypoints` on the result for ``[-1, 1]`` units.

    Returns
    -------
    Tensor, shape (..., 2)
        ``x, y``, same dtype and device as ``logits``; gradients flow to ``logits``.

    Examples
    --------
    >>> import torch
    >>> f = torch.full((1, 1, 4, 4), -20.0); f[0, 0, 1, 2] = 20.0
    >>> soft_argmax(f).round(decimals=4)
    tensor([[[2., 1.]]])
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim < 2:
        raise ValueError("logits must be a torch.Tensor of shape (..., H, W)")
    if not logits.is_floating_point():
        raise ValueError(f"logits must be floating point, got {logits.dtype}")
    if not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be positive and finite, got {beta!r}")
    hh, wh = logits.shape[-2:]
    if hh < 1 or wh < 1:
        raise ValueError(f"logits must have non-empty spatial axes, got {tuple(logits.shape)}")
    p = torch.softmax(beta * logits.flatten(-2), dim=-1).unflatten(-1, (hh, wh))
    xs = torch.arange(wh, dtype=logits.dtype, device=logits.device)
    ys = torch.arange(hh, dtype=logits.dtype, device=logits.device)
    xy = torch.stack([(p.sum(-2) * xs).sum(-1), (p.sum(-1) * ys).sum(-1)], dim=-1)
    if input_size is not None:
        xy = heatmap_to_input(xy, input_size, (wh, hh), encoding)
    return xy
