"""Texture crops from scikit-image's bundled sample images (offline, loaded once).

The generators paint skin, backgrounds, clothes and occluders with random
crops of these photographs, so that a model cannot solve the task from flat
colours alone. Each image is read once per process (``functools.lru_cache``);
a crop is one ``cv2.warpAffine`` with a random scale, rotation and offset.
"""

from __future__ import annotations

import math
from functools import cache

import cv2
import numpy as np

__all__ = [
    "BACKGROUND_IMAGES",
    "GREY_TEXTURES",
    "PHOTO_IMAGES",
    "load_image",
    "random_crop",
    "grey_texture",
]

#: Sample images used as backgrounds (varied content, no faces or people).
BACKGROUND_IMAGES = (
    "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
    "brick", "grass", "gravel", "coins", "moon", "page", "text", "clock", "camera",
)  # fmt: skip

#: Grey, fairly stationary textures used to modulate skin, cloth and occluders.
GREY_TEXTURES = ("gravel", "grass", "brick", "moon")

#: Photographs offered as homography sources (``source="skimage"``).
PHOTO_IMAGES = (
    "astronaut",
    "camera",
    "coffee",
    "chelsea",
    "rocket",
    "brick",
    "coins",
    "clock",
    "page",
    "text",
)


@cache
def load_image(name: str) -> np.ndarray:
    """A scikit-image sample image as ``uint8`` RGB ``H x W x 3`` (read-only, cached)."""
    from skimage import data

    try:
        img = getattr(data, name)()
    except AttributeError:
        raise KeyError(f"unknown scikit-image sample image {name!r}") from None
    img = np.asarray(img)
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    elif img.shape[2] == 4:
        img = img[..., :3]
    img = np.ascontiguousarray(img)
    img.setflags(write=False)
    return img


@cache
def _grey_normalised(name: str) -> np.ndarray:
    g = cv2.cvtColor(load_image(name), cv2.COLOR_RGB2GRAY).astype(np.float32)
    g = (g - g.mean()) / max(float(g.std()), 1e-3)
    g.setflags(write=False)
    return g


def random_crop(
    rng: np.random.Generator,
    name: str,
    width: int,
    height: int,
    zoom: tuple[float, float] = (0.5, 2.0),
    rotate: bool = True,
) -> np.ndarray:
    """A ``height x width x 3`` float32 RGB crop of sample image ``name`` at a random pose.

    ``zoom`` is the range of output pixels per source pixel (drawn log-uniformly).
    """
    src = load_image(name)
    return _warp_crop(rng, src, width, height, zoom, rotate).astype(np.float32)


def grey_texture(
    rng: np.random.Generator,
    name: str,
    width: int,
    height: int,
    zoom: tuple[float, float] = (0.5, 1.5),
) -> np.ndarray:
    """A zero-mean, unit-variance float32 ``height x width`` crop of a grey texture."""
    return _warp_crop(rng, _grey_normalised(name), width, height, zoom, True)


def _warp_crop(
    rng: np.random.Generator,
    src: np.ndarray,
    width: int,
    height: int,
    zoom: tuple[float, float],
    rotate: bool,
) -> np.ndarray:
    sh, sw = src.shape[:2]
    z = math.exp(rng.uniform(math.log(zoom[0]), math.log(zoom[1])))
    ang = rng.uniform(-math.pi, math.pi) if rotate else 0.0
    c, s = math.cos(ang) * z, math.sin(ang) * z
    # Source centre chosen so that the crop lies inside the source where it can.
    half = (
        0.5 * (abs(c) * width + abs(s) * height) / (z * z),
        0.5 * (abs(s) * width + abs(c) * height) / (z * z),
    )
    cx = rng.uniform(min(half[0], sw / 2), max(sw - half[0], sw / 2))
    cy = rng.uniform(min(half[1], sh / 2), max(sh - half[1], sh / 2))
    # Affine map source -> output: rotate/scale about (cx, cy), then put it at the output centre.
    m = np.array(
        [[c, s, (width - 1) / 2 - c * cx - s * cy], [-s, c, (height - 1) / 2 + s * cx - c * cy]],
        dtype=np.float64,
    )
    return cv2.warpAffine(
        src, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )
