"""Batched, seeded augmentation of cached crops in torch.

:func:`augment_batch` applies the augmentation of
:class:`kplearn.data.transforms.AugmentConfig` to a whole batch of ``uint8``
crops at once: one random affine warp per image (rotation, zoom, shift,
horizontal flip with left/right swapped), drawn exactly as
:func:`kplearn.data.transforms.sample_affine_params` draws it and built by
:func:`kplearn.data.transforms.box_to_matrix`, then applied with
``grid_sample`` (bilinear, black outside, pixel-centre convention), and the
photometric changes (brightness, contrast, saturation, gamma), blur, noise and
random erasing. Hue shifts are not applied. Every random number comes from the
``numpy`` generator passed in.

Examples
--------
>>> import numpy as np, torch
>>> from kplearn.data.transforms import AugmentConfig
>>> imgs = torch.zeros(2, 3, 16, 16, dtype=torch.uint8)
>>> kp = torch.full((2, 1, 5, 3), 8.0); kp[..., 2] = 2
>>> x, kp2 = augment_batch(imgs, kp, AugmentConfig(), np.random.default_rng(0), np.arange(5))
>>> tuple(x.shape), tuple(kp2.shape)
((2, 3, 16, 16), (2, 1, 5, 3))
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from kplearn.data.transforms import (
    MEAN,
    STD,
    AugmentConfig,
    box_to_matrix,
    image_box,
    sample_affine_params,
)

__all__ = ["normalize_images", "augment_batch", "affine_grid_theta", "augment_config"]


def augment_config(augment) -> AugmentConfig | None:
    """``True`` -> default :class:`AugmentConfig`; ``False``/``None`` -> no augmentation; a dict -> its kwargs."""
    if augment is None or augment is False:
        return None
    if augment is True:
        return AugmentConfig()
    if isinstance(augment, AugmentConfig):
        return augment
    if isinstance(augment, dict):
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in augment.items()}
        return AugmentConfig(**kw)
    raise ValueError(
        f"augment must be a bool, a dict or an AugmentConfig, got {type(augment).__name__}"
    )


def normalize_images(images: torch.Tensor) -> torch.Tensor:
    """``uint8`` (or [0, 1] float) ``(N, 3, H, W)`` -> float32 normalised with MEAN and STD."""
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    mean = torch.as_tensor(MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.as_tensor(STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


def affine_grid_theta(
    matrices: np.ndarray, input_size: tuple[int, int], output_size: tuple[int, int]
) -> np.ndarray:
    """``affine_grid`` thetas ``(N, 2, 3)`` that warp with the image -> output maps ``matrices``.

    ``grid_sample`` with ``align_corners=False`` uses normalised coordinates
    ``u = (2x + 1) / W - 1``, the pixel-centre convention; theta maps output ``u`` to
    input ``u``: ``N_in @ inverse(matrix) @ inverse(N_out)``.
    """

    def norm(size):
        w, h = size
        return np.array([[2.0 / w, 0, 1.0 / w - 1], [0, 2.0 / h, 1.0 / h - 1], [0, 0, 1]])

    m = np.asarray(matrices, np.float64)
    full = np.zeros((len(m), 3, 3))
    full[:, :2] = m
    full[:, 2, 2] = 1.0
    theta = norm(input_size) @ np.linalg.inv(full) @ np.linalg.inv(norm(output_size))
    return theta[:, :2]


def _gaussian_blur(x: torch.Tensor, sigmas: np.ndarray) -> torch.Tensor:
    """Blur each image of ``x`` (N, 3, H, W) with its own sigma (0 = unchanged), separable, reflect-padded."""
    r = int(np.ceil(3 * max(float(sigmas.max()), 1e-3)))
    t = torch.arange(-r, r + 1, dtype=x.dtype, device=x.device)
    s = torch.as_tensor(np.maximum(sigmas, 1e-3), dtype=x.dtype, device=x.device)
    g = torch.exp(-(t[None] ** 2) / (2 * s[:, None] ** 2))
    g = g / g.sum(1, keepdim=True)
    n, c, h, w = x.shape
    kx = g.repeat_interleave(c, 0)[:, None, None, :]
    ky = g.repeat_interleave(c, 0)[:, None, :, None]
    y = x.reshape(1, n * c, h, w)
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="reflect" if w > r else "replicate"), kx, groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect" if h > r else "replicate"), ky, groups=n * c)
    return y.reshape(n, c, h, w)


def augment_batch(
    images: torch.Tensor,
    keypoints: torch.Tensor,
    config: AugmentConfig | None,
    rng: np.random.Generator,
    flip_index: np.ndarray,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment a batch of crops and their keypoints; return normalised float images.

    Parameters
    ----------
    images : Tensor, uint8 (N, 3, H, W)
    keypoints : Tensor, float (N, M, K, 3)
        In crop pixels.
    config : AugmentConfig or None
        ``None``: no augmentation, the images are only normalised.
    rng : numpy.random.Generator
    flip_index : array (K,)
        The layout's left/right permutation (:attr:`Skeleton.flip_index`).

    Returns
    -------
    images : Tensor, float32 (N, 3, H, W), normalised
    keypoints : Tensor (N, M, K, 3)
        Moved with the images; points that left the frame get ``v = 0``, points
        under an erased rectangle go from ``v = 2`` to ``v = 1``.
    """
    if config is None:
        return normalize_images(images), keypoints
    n, _, h, w = images.shape
    device = images.device
    matrices = np.zeros((n, 2, 3))
    flips = np.zeros(n, bool)
    for i in range(n):
        params = sample_affine_params(rng, config)
        matrices[i] = box_to_matrix(image_box((w, h)), (w, h), padding=1.0, **params)
        flips[i] = params["flip"]
    # Photometric and degradation draws, all made whatever the probabilities (reproducible).
    bright = 1.0 + rng.uniform(-config.brightness, config.brightness, n)
    contrast = 1.0 + rng.uniform(-config.contrast, config.contrast, n)
    sat = 1.0 + rng.uniform(-config.saturation, config.saturation, n)
    gamma = np.exp(rng.uniform(np.log(config.gamma[0]), np.log(config.gamma[1]), n))
    do_blur = rng.random(n) < config.blur_prob
    blur_sigma = rng.uniform(config.blur_sigma[0], config.blur_sigma[1], n)
    do_noise = rng.random(n) < config.noise_prob
    noise_std = rng.uniform(0.0, config.noise_std, n) / 255.0
    noise_seed = int(rng.integers(2**62))
    do_erase = rng.random(n) < config.occlusion_prob
    erase_size = rng.uniform(config.occlusion_size[0], config.occlusion_size[1], (n, 2))
    erase_pos = rng.random((n, 2))
    erase_grey = rng.random(n)

    # Geometry: one bilinear warp per image.
    theta = torch.as_tensor(
        affine_grid_theta(matrices, (w, h), (w, h)), dtype=torch.float32, device=device
    )
    grid = F.affine_grid(theta, [n, 3, h, w], align_corners=False)
    x = F.grid_sample(
        images.float() / 255.0, grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    mat = torch.as_tensor(matrices, dtype=keypoints.dtype, device=device)
    kp = keypoints.clone()
    kp[..., :2] = (
        torch.einsum("nij,nmkj->nmki", mat[:, :, :2], keypoints[..., :2]) + mat[:, None, None, :, 2]
    )
    inside = (
        (kp[..., 0] >= -0.5)
        & (kp[..., 0] <= w - 0.5)
        & (kp[..., 1] >= -0.5)
        & (kp[..., 1] <= h - 0.5)
    )
    kp[..., 2] = torch.where(inside, kp[..., 2], torch.zeros_like(kp[..., 2]))
    if flips.any():
        fi = torch.as_tensor(np.array(flip_index), dtype=torch.long, device=device)
        sel = torch.as_tensor(flips, device=device)
        kp[sel] = kp[sel][:, :, fi]

    # Photometric changes on [0, 1] RGB.
    def per(v):
        return torch.as_tensor(v, dtype=x.dtype, device=device).view(n, 1, 1, 1)

    x = x * per(bright)
    grey = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    x = (x - grey.mean((2, 3), keepdim=True)) * per(contrast) + grey.mean((2, 3), keepdim=True)
    grey = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
    x = (grey + (x - grey) * per(sat)).clamp(0.0, 1.0) ** per(gamma)
    if do_blur.any():
        x = _gaussian_blur(x, np.where(do_blur, blur_sigma, 0.0))
    if do_noise.any():
        gen = torch.Generator(device="cpu").manual_seed(noise_seed)
        noise = torch.randn(x.shape, generator=gen).to(device)
        x = x + noise * per(np.where(do_noise, noise_std, 0.0))
    if do_erase.any():
        ys = torch.arange(h, device=device, dtype=x.dtype)[None, :, None]
        xs = torch.arange(w, device=device, dtype=x.dtype)[None, None, :]
        ew, eh = erase_size[:, 0] * w, erase_size[:, 1] * h
        x0 = erase_pos[:, 0] * (w - ew) - 0.5
        y0 = erase_pos[:, 1] * (h - eh) - 0.5
        x0t, y0t = per(x0)[:, 0], per(y0)[:, 0]
        box = (xs >= x0t) & (xs < x0t + per(ew)[:, 0]) & (ys >= y0t) & (ys < y0t + per(eh)[:, 0])
        box = box & torch.as_tensor(do_erase, device=device)[:, None, None]
        x = torch.where(box[:, None], per(erase_grey), x)
        # Visible keypoints under the rectangle become labelled-but-hidden.
        inside = (
            (kp[..., 0] >= per(x0)[:, :, 0, 0, None] - 0.0)
            & (kp[..., 0] < per(x0 + ew)[:, :, 0, 0, None])
            & (kp[..., 1] >= per(y0)[:, :, 0, 0, None])
            & (kp[..., 1] < per(y0 + eh)[:, :, 0, 0, None])
            & torch.as_tensor(do_erase, device=device)[:, None, None]
        )
        kp[..., 2] = torch.where(
            inside & (kp[..., 2] == 2), torch.ones_like(kp[..., 2]), kp[..., 2]
        )
    return normalize_images(x.clamp(0.0, 1.0)), kp
