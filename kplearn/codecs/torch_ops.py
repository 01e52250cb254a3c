"""Torch twins of the numpy codecs, for batches on the training device.

:func:`decode_heatmaps_torch` and :func:`encode_heatmaps_torch` follow
:func:`~kplearn.codecs.decode_heatmaps` and :func:`~kplearn.codecs.encode_heatmaps`
rule for rule (ties, invalid maps, borders, DARK's blur and skips); the tests hold
them equal within 1e-5. Decoding is post-processing: it runs without gradients,
in float64 internally (float32 on Apple ``mps``, which has no float64), and returns
the input's floating dtype. For a differentiable decoder use
:func:`~kplearn.codecs.soft_argmax`.

Examples
--------
>>> import torch
>>> from kplearn.codecs.torch_ops import encode_heatmaps_torch, decode_heatmaps_torch
>>> kp = torch.tensor([[[100.3, 120.7, 2.0]]])
>>> hm, w = encode_heatmaps_torch(kp, (192, 256), (48, 64))
>>> xy, score = decode_heatmaps_torch(hm, (192, 256), "dark")
>>> bool((xy - kp[..., :2]).abs().max() < 0.01)
True
"""

from __future__ import annotations

import numpy as np
import torch

from kplearn.codecs._checks import (
    DECODE_METHODS,
    ENCODINGS,
    check_choice,
    check_sigma,
    check_size,
)
from kplearn.codecs.coordinates import heatmap_to_input, input_to_heatmap
from kplearn.codecs.refine import _LOG_FLOOR, _dark_offsets, _gaussian_kernel, _quarter_offsets

__all__ = ["decode_heatmaps_torch", "encode_heatmaps_torch"]


def _work_dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64


def _out_dtype(t: torch.Tensor) -> torch.dtype:
    return t.dtype if t.is_floating_point() else torch.float32


@torch.no_grad()
def encode_heatmaps_torch(
    keypoints: torch.Tensor,
    input_size: tuple[int, int],
    heatmap_size: tuple[int, int],
    sigma=2.0,
    method: str = "unbiased",
    dtype: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`~kplearn.codecs.encode_heatmaps` on a tensor ``(..., K, 3|2)``, on its device.

    Returns ``(heatmaps (..., K, H', W'), weights (..., K))`` of ``dtype``.
    """
    check_choice(method, ENCODINGS, "method")
    if not isinstance(keypoints, torch.Tensor):
        raise ValueError("keypoints must be a torch.Tensor; use encode_heatmaps for numpy")
    if keypoints.ndim < 2 or keypoints.shape[-1] not in (2, 3):
        raise ValueError(
            f"keypoints must have shape (..., K, 3) or (..., K, 2), got {tuple(keypoints.shape)}"
        )
    w_hm, h_hm = check_size(heatmap_size, "heatmap_size")
    check_size(input_size, "input_size")
    device = keypoints.device
    work = _work_dtype(device)
    kp = keypoints.detach().to(work)
    if kp.shape[-1] == 3:
        v = kp[..., 2]
        if not bool(torch.isfinite(v).all()) or bool((v < 0).any()):
            raise ValueError("keypoints: visibility must be finite and >= 0 (COCO 0, 1, 2)")
        labelled = v > 0
    else:
        labelled = torch.ones(kp.shape[:-1], dtype=torch.bool, device=device)
    xy = kp[..., :2]
    if bool((labelled & ~torch.isfinite(xy).all(-1)).any()):
        raise ValueError("keypoints: a labelled keypoint has a NaN or inf coordinate")
    xy = torch.where(labelled[..., None], xy, torch.zeros_like(xy))
    sig = torch.as_tensor(check_sigma(sigma, kp.shape[-2]), dtype=work, device=device)
    mu = input_to_heatmap(xy, input_size, heatmap_size, method)
    if method == "msra":
        mu = torch.floor(mu + 0.5)
    radius = 3.0 * sig
    weights = labelled.clone()
    for axis, size in ((0, w_hm), (1, h_hm)):
        lo = torch.clamp(torch.ceil(mu[..., axis] - radius), min=0)
        hi = torch.clamp(torch.floor(mu[..., axis] + radius), max=size - 1)
        weights &= lo <= hi
    s2 = (2.0 * sig**2)[:, None]
    dx = torch.arange(w_hm, dtype=work, device=device) - mu[..., 0, None]
    dy = torch.arange(h_hm, dtype=work, device=device) - mu[..., 1, None]
    gx = torch.exp(-(dx**2) / s2)
    gy = torch.exp(-(dy**2) / s2)
    if method == "msra":
        gx = torch.where(dx.abs() > radius[:, None], torch.zeros_like(gx), gx)
        gy = torch.where(dy.abs() > radius[:, None], torch.zeros_like(gy), gy)
    gx = gx * weights[..., None]
    heatmaps = gy[..., :, None] * gx[..., None, :]
    return heatmaps.to(dtype), weights.to(dtype)


def _band(size: int, g: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """``size x size`` matrix ``B`` with ``(B v)[i] = sum_j g[j - i + r] v[j]``: zero-padded correlation."""
    r = (g.size - 1) // 2
    i = np.arange(size)
    off = i[None, :] - i[:, None] + r
    band = np.where((off >= 0) & (off < g.size), g[np.clip(off, 0, g.size - 1)], 0.0)
    return torch.as_tensor(band, dtype=like.dtype, device=like.device)


def _blur(flat: torch.Tensor, kernel_size: int) -> torch.Tensor:
    # Separable zero-padded blur as two banded matrix products: faster than a float64
    # conv2d on CPU, and exact.
    g = _gaussian_kernel(kernel_size)
    if g.size == 1:
        return flat
    height, width = flat.shape[-2:]
    return _band(height, g, flat) @ flat @ _band(width, g, flat).T


@torch.no_grad()
def decode_heatmaps_torch(
    heatmaps: torch.Tensor,
    input_size: tuple[int, int],
    method: str = "dark",
    encoding: str = "unbiased",
    *,
    blur_kernel: int = 11,
    beta: float | None = None,
    max_offset: float | None = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`~kplearn.codecs.decode_heatmaps` on a tensor ``(..., K, H', W')``, on its device.

    Same arguments and rules; returns ``(keypoints (..., K, 2), scores (..., K))``
    as tensors of the input's floating dtype: NaN keypoints and score 0 for invalid maps.
    """
    check_choice(method, DECODE_METHODS, "method")
    check_choice(encoding, ENCODINGS, "encoding")
    if not isinstance(heatmaps, torch.Tensor):
        raise ValueError("heatmaps must be a torch.Tensor; use decode_heatmaps for numpy")
    if heatmaps.ndim < 2 or heatmaps.shape[-1] < 1 or heatmaps.shape[-2] < 1:
        raise ValueError(
            f"heatmaps must have shape (..., H, W) with H, W >= 1, got {tuple(heatmaps.shape)}"
        )
    if beta is not None and (not np.isfinite(beta) or beta <= 0):
        raise ValueError(f"beta must be positive and finite, got {beta!r}")
    out_dtype = _out_dtype(heatmaps)
    height, width = heatmaps.shape[-2:]
    lead = heatmaps.shape[:-2]
    flat = heatmaps.detach().to(_work_dtype(heatmaps.device)).reshape(-1, height, width)
    if not bool(torch.isfinite(flat).all()):
        raise ValueError("heatmaps contain NaN or inf values")
    n = flat.shape[0]
    dev = flat.device
    if n == 0:
        empty = torch.zeros((*lead, 2), dtype=out_dtype, device=dev)
        return empty, torch.zeros(lead, dtype=out_dtype, device=dev)
    scores, idx = flat.reshape(n, -1).max(dim=1)
    ix, iy = idx % width, idx // width
    xy = torch.stack([ix, iy], dim=-1).to(flat.dtype)
    invalid = scores <= 0
    m = torch.arange(n, device=dev)
    if method == "quarter":
        xy += torch.stack(_quarter_offsets(flat, m, ix, iy, None, torch), dim=-1)
    elif method == "dark":
        _gaussian_kernel(blur_kernel)  # validate even when the maps are too small to refine
        if width >= 5 and height >= 5:
            logh = torch.log(torch.clamp(_blur(flat, blur_kernel), min=_LOG_FLOOR))
            xy += torch.stack(_dark_offsets(logh, m, ix, iy, None, max_offset, torch), dim=-1)
    elif method == "softargmax":
        z = flat.reshape(n, -1)
        if beta is None:
            p = z.clamp(min=0)
            p = p / p.sum(dim=1, keepdim=True)  # invalid maps give NaN, masked below
        else:
            p = torch.softmax(beta * z, dim=1)
            scores = p.max(dim=1).values
            invalid = torch.zeros_like(invalid)
        p = p.reshape(n, height, width)
        xs = torch.arange(width, dtype=flat.dtype, device=dev)
        ys = torch.arange(height, dtype=flat.dtype, device=dev)
        xy = torch.stack([(p.sum(1) * xs).sum(-1), (p.sum(2) * ys).sum(-1)], dim=-1)
    xy[invalid] = float("nan")
    scores = torch.where(invalid, torch.zeros_like(scores), scores)
    xy = heatmap_to_input(xy, input_size, (width, height), encoding)
    return xy.reshape(*lead, 2).to(out_dtype), scores.reshape(lead).to(out_dtype)
