"""Gaussian heatmap targets and their decoding (numpy, canonical).

Sizes are ``(width, height)`` everywhere; heatmaps are ``(..., K, H', W')``.

Encoding (:func:`encode_heatmaps`), with ``mu`` the centre in heatmap pixels
(see :mod:`kplearn.codecs.coordinates` for the three maps):

* ``"unbiased"`` (default): ``mu = (x + 0.5) / s - 0.5`` exactly (sub-pixel), and
  ``exp(-d^2 / 2 sigma^2)`` evaluated over the whole map (as DARK's encoder). Peak <= 1.
* ``"msra"``: SimpleBaseline/HRNet. ``mu = floor(x / s + 0.5)`` (the centre is rounded to
  a heatmap pixel, round-half-up), and the Gaussian is cut to the square window
  ``|i - mu| <= 3 sigma`` (13 x 13 = 169 pixels at sigma = 2). Peak exactly 1. The
  rounding costs up to ``s / 2`` input pixels per axis, and the map is not
  flip-consistent: a flipped map decodes ``s - 1`` input pixels off.
* ``"udp"``: ``mu = x (W' - 1) / (w - 1)`` exactly, whole map, as ``"unbiased"``.

Weights: 1 for a labelled keypoint (``v > 0``) whose 3-sigma window reaches the map,
i.e. some pixel centre ``i`` in ``0 .. W'-1`` has ``|i - mu_x| <= 3 sigma`` and likewise
in ``y``; otherwise 0 and the channel is all zero. (This avoids MMPose's quirk where
a window whose right edge lands exactly on 0 keeps weight 1 with an empty channel.)

Decoding (:func:`decode_heatmaps`), all vectorised over every map at once:

* ``"argmax"``: the first maximum in row-major order (``np.argmax`` on the flattened
  map), so ties go to the smallest ``y`` and then the smallest ``x``.
* ``"quarter"``: argmax + 0.25 px towards the larger neighbour (:func:`~kplearn.codecs.refine.refine_quarter`).
* ``"dark"``: argmax + DARK's Taylor step (:func:`~kplearn.codecs.refine.refine_dark`).
* ``"softargmax"``: expectation of the map normalised to sum 1 after clipping negatives
  (:func:`~kplearn.codecs.coordinates.heatmap_expectation`), or of ``softmax(beta h)``.

Invalid maps: a map whose maximum is ``<= 0`` (all zero, all negative) has no peak.
Its keypoint is ``(NaN, NaN)`` and its score 0 -- the one rule for "not predicted"
in kplearn (see "Keypoint arrays" in :mod:`kplearn.codecs`); kplearn's metrics
count NaN predictions as misses. (MMPose returns ``(-1, -1)`` heatmap px, which its
codec scales to ``(-s, -s)``; HRNet returns ``(0, 0)``: both look like real points.)
With ``method="softargmax"`` and a ``beta`` the map is taken as logits and always
decodes, with score = the peak probability of ``softmax(beta h)``.

Examples
--------
>>> import numpy as np
>>> from kplearn.codecs import encode_heatmaps, decode_heatmaps
>>> kp = np.array([[[100.3, 120.7, 2.0]]])
>>> hm, w = encode_heatmaps(kp, (192, 256), (48, 64), sigma=2.0)
>>> hm.shape, w.tolist()
((1, 1, 64, 48), [[1.0]])
>>> xy, score = decode_heatmaps(hm, (192, 256), method="dark")
>>> np.abs(xy - kp[..., :2]).max() < 0.01
np.True_
"""

from __future__ import annotations

import numpy as np

from kplearn.codecs._checks import (
    DECODE_METHODS,
    ENCODINGS,
    check_choice,
    check_heatmaps,
    check_keypoints,
    check_sigma,
    check_size,
)
from kplearn.codecs.coordinates import heatmap_expectation, heatmap_to_input, input_to_heatmap
from kplearn.codecs.refine import refine_dark, refine_quarter

__all__ = ["encode_heatmaps", "decode_heatmaps", "heatmap_maximum", "DECODE_METHODS"]


def _window_reaches_map(mu: np.ndarray, radius: np.ndarray, size: int) -> np.ndarray:
    """True where some pixel centre 0..size-1 lies within ``radius`` of ``mu``."""
    with np.errstate(invalid="ignore", over="ignore"):
        lo = np.maximum(np.ceil(mu - radius), 0)
        hi = np.minimum(np.floor(mu + radius), size - 1)
    return lo <= hi


def encode_heatmaps(
    keypoints,
    input_size: tuple[int, int],
    heatmap_size: tuple[int, int],
    sigma=2.0,
    method: str = "unbiased",
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian heatmap targets for keypoints given in input pixels.

    Parameters
    ----------
    keypoints : array_like, shape (..., K, 3) or (..., K, 2)
        ``x, y, v`` in input pixels; ``v == 0`` (unlabelled) gives an empty channel.
        Two columns mean all labelled.
    input_size, heatmap_size : (int, int)
        ``(width, height)``, e.g. ``(192, 256)`` and ``(48, 64)``.
    sigma : float or array_like (K,)
        Gaussian standard deviation in heatmap pixels.
    method : {"unbiased", "msra", "udp"}
        Centre convention, see the module docstring.
    dtype : numpy dtype
        Of the returned arrays.

    Returns
    -------
    heatmaps : ndarray, shape (..., K, H', W')
    weights : ndarray, shape (..., K)
        1 where the target is usable, 0 for unlabelled or far-outside keypoints.

    Examples
    --------
    >>> import numpy as np
    >>> hm, w = encode_heatmaps(np.array([[101.0, 101.0, 2]]), (192, 256), (48, 64), 2.0, "msra")
    >>> np.unravel_index(hm[0].argmax(), hm[0].shape), int((hm[0] > 0).sum()), float(hm.max())
    ((np.int64(25), np.int64(25)), 169, 1.0)
    """
    check_choice(method, ENCODINGS, "method")
    xy, labelled = check_keypoints(keypoints)
    if xy.ndim < 2:
        raise ValueError(f"keypoints must have shape (..., K, 3), got {np.shape(keypoints)}")
    w_in, h_in = check_size(input_size, "input_size")
    w_hm, h_hm = check_size(heatmap_size, "heatmap_size")
    sig = check_sigma(sigma, xy.shape[-2])
    mu = input_to_heatmap(xy, (w_in, h_in), (w_hm, h_hm), method)
    if method == "msra":
        mu = np.floor(mu + 0.5)
    radius = 3.0 * sig
    weights = (
        labelled
        & _window_reaches_map(mu[..., 0], radius, w_hm)
        & _window_reaches_map(mu[..., 1], radius, h_hm)
    )
    # Separable Gaussian: the map is the outer product of a row and a column profile.
    s2 = (2.0 * sig**2)[:, None]
    with np.errstate(over="ignore"):
        dx = np.arange(w_hm) - mu[..., 0, None]
        dy = np.arange(h_hm) - mu[..., 1, None]
        gx = np.exp(-(dx**2) / s2)
        gy = np.exp(-(dy**2) / s2)
    if method == "msra":
        gx[np.abs(dx) > radius[:, None]] = 0.0
        gy[np.abs(dy) > radius[:, None]] = 0.0
    gx *= weights[..., None]
    heatmaps = (gy[..., :, None] * gx[..., None, :]).astype(dtype, copy=False)
    return heatmaps, weights.astype(dtype)


def heatmap_maximum(heatmaps) -> tuple[np.ndarray, np.ndarray]:
    """Integer argmax ``(..., 2)`` (x, y heatmap px) and maximum ``(...)`` of each map.

    Ties go to the first maximum in row-major order; maps with maximum ``<= 0`` get
    ``(NaN, NaN)``.

    Examples
    --------
    >>> import numpy as np
    >>> heatmap_maximum(np.ones((1, 3, 4)))
    (array([[0., 0.]]), array([1.]))
    """
    hm = check_heatmaps(heatmaps)
    height, width = hm.shape[-2:]
    flat = hm.reshape(*hm.shape[:-2], height * width)
    idx = np.argmax(flat, axis=-1)
    scores = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
    xy = np.stack([idx % width, idx // width], axis=-1).astype(np.float64)
    xy[scores <= 0] = np.nan
    return xy, scores


def decode_heatmaps(
    heatmaps,
    input_size: tuple[int, int],
    method: str = "dark",
    encoding: str = "unbiased",
    *,
    blur_kernel: int = 11,
    beta: float | None = None,
    max_offset: float | None = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints in input pixels from heatmaps, vectorised over all leading axes.

    Parameters
    ----------
    heatmaps : array_like, shape (..., K, H', W')
        Numpy array (a torch tensor is moved to numpy); NaN/inf is an error.
    input_size : (int, int)
        ``(width, height)`` of the network input; the stride is ``w / W'`` per axis.
    method : {"argmax", "quarter", "dark", "softargmax"}
        See the module docstring. Default ``"dark"``.
    encoding : {"unbiased", "msra", "udp"}
        The convention the maps were *encoded* with; its inverse maps heatmap pixels
        back to input pixels. Decoding with another convention than encoding shifts
        every point (by ``(s - 1) / 2`` px between unbiased and msra).
    blur_kernel : int
        DARK's blur width (odd; 11 gives sigma 2, for targets with sigma 2).
    beta : float, optional
        ``softargmax`` only: take ``softmax(beta h)`` instead of the clipped, normalised map.
    max_offset : float or None
        DARK only: steps longer than this (heatmap px, either axis) are not applied.

    Returns
    -------
    keypoints : ndarray, shape (..., K, 2)
        ``x, y`` in input pixels (float64); NaN for invalid maps.
    scores : ndarray, shape (..., K)
        The map maximum (or the peak probability for ``softargmax`` with ``beta``);
        0 for invalid maps.

    Examples
    --------
    >>> import numpy as np
    >>> hm = np.zeros((1, 2, 64, 48)); hm[0, 0, 10, 20] = 1.0
    >>> xy, s = decode_heatmaps(hm, (192, 256), "argmax")
    >>> xy[0, 0].tolist(), bool(np.isnan(xy[0, 1]).all()), s.tolist()
    ([81.5, 41.5], True, [[1.0, 0.0]])
    """
    check_choice(method, DECODE_METHODS, "method")
    check_choice(encoding, ENCODINGS, "encoding")
    hm = check_heatmaps(heatmaps)
    height, width = hm.shape[-2:]
    xy, scores = heatmap_maximum(hm)
    invalid = np.isnan(xy[..., 0])
    if method == "quarter":
        xy = refine_quarter(hm, xy)
    elif method == "dark":
        xy = refine_dark(hm, xy, blur_kernel, max_offset)
    elif method == "softargmax":
        xy = heatmap_expectation(hm, beta)
        if beta is None:
            xy[invalid] = np.nan
        else:
            z = beta * (hm - scores[..., None, None])
            scores = 1.0 / np.exp(z).sum(axis=(-2, -1))
            invalid[...] = False
    scores = np.where(invalid, 0.0, scores)
    return heatmap_to_input(xy, input_size, (width, height), encoding), scores
