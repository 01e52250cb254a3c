"""Keypoint-aware transforms: affine crops, flips with left/right swaps, photometric changes.

The matrices, boxes and crops themselves live in :mod:`kplearn.geometry` (and are
re-exported here); this module adds what keypoints and pixels need on top of them.

Every geometric transform is a 2×3 affine matrix ``A`` that maps image
coordinates to output coordinates, ``[x', y'] = A @ [x, y, 1]``. kplearn's pixel
convention (integer coordinates are pixel *centres*, an image spans
``[-0.5, W-0.5]``) is also OpenCV's, so :func:`warp_image` (``cv2.warpAffine``)
and :func:`transform_keypoints` (the same matrix applied to the points) move
image content and keypoints together exactly, with no half-pixel offset.

Keypoints that a transform moves out of the output frame
``[-0.5, W-0.5] × [-0.5, H-0.5]`` get ``v = 0``: they become *unlabelled* in the
output, so heatmap targets, losses and metrics (which all skip ``v == 0``)
ignore them. Their transformed ``x, y`` are kept for debugging only; like every
``v == 0`` coordinate they carry no meaning and nothing may use them.

A mirrored matrix (negative determinant, e.g. ``flip=True``) must also swap
left and right keypoints, or the subject's left eye would be labelled as the
right one; :func:`transform_keypoints` therefore asks for the skeleton whenever
the matrix mirrors.

Examples
--------
>>> import numpy as np
>>> from kplearn.data.transforms import box_to_matrix, transform_keypoints, warp_image
>>> image = np.zeros((100, 120, 3), np.uint8)
>>> kp = np.array([[30.0, 40.0, 2], [110.0, 5.0, 2]])
>>> m = box_to_matrix([20, 30, 40, 40], (64, 64), padding=1.0)  # crop the box to 64×64
>>> crop = warp_image(image, m, (64, 64))
>>> crop.shape
(64, 64, 3)
>>> transform_keypoints(kp, m, (64, 64))[:, 2].tolist()  # the second point left the crop
[2.0, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from kplearn._checks import check_affine, check_image, check_keypoints, check_size
from kplearn.geometry import (
    affine_matrix,
    apply_affine,
    box_to_matrix,
    compose_matrices,
    crop_batch,
    crop_image,
    image_box,
    invert_matrix,
    is_mirrored,
    warp_image,
)
from kplearn.geometry import uncrop as uncrop_keypoints
from kplearn.skeletons import Skeleton, get_skeleton

if TYPE_CHECKING:  # torch is imported lazily: the numpy transforms do not need it
    import torch

__all__ = [
    "MEAN",
    "STD",
    "AugmentConfig",
    "affine_matrix",
    "box_to_matrix",
    "image_box",
    "invert_matrix",
    "compose_matrices",
    "is_mirrored",
    "apply_affine",
    "warp_image",
    "transform_keypoints",
    "flip_keypoints",
    "flip_horizontal",
    "photometric",
    "gaussian_blur",
    "add_noise",
    "random_erase",
    "sample_affine_params",
    "random_augment",
    "to_rgb",
    "to_tensor",
    "from_tensor",
    "crop_batch",
    "uncrop_keypoints",
]

#: Per-channel mean of RGB images scaled to [0, 1] (the usual ImageNet statistics).
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
#: Per-channel standard deviation matching :data:`MEAN`.
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


# --- input checks -------------------------------------------------------------------------------


def _check_skeleton_k(skeleton: Skeleton, kp: np.ndarray, what: str) -> None:
    if kp.shape[-2] != skeleton.num_keypoints:
        raise ValueError(
            f"{what}: {kp.shape[-2]} keypoints but layout {skeleton.name!r} has "
            f"{skeleton.num_keypoints}"
        )


# --- applying transforms ------------------------------------------------------------------------

def transform_keypoints(
    keypoints,
    matrix,
    output_size: int | tuple[int, int] | None,
    skeleton: Skeleton | str | None = None,
) -> np.ndarray:
    """Move keypoints with the same affine map as :func:`warp_image`.

    Keypoints that land outside the output frame ``[-0.5, W-0.5] × [-0.5, H-0.5]``
    get ``v = 0``: they are unlabelled in the output, so targets, losses and metrics
    ignore them. Their transformed coordinates are kept for debugging only and must
    not be used. A mirrored matrix also swaps left and right through the skeleton's
    flip pairs (``skeleton`` is then required).

    Parameters
    ----------
    keypoints : array, shape (..., K, 3)
        ``x, y, v`` (COCO visibility).
    matrix : array, shape (2, 3)
    output_size : int or (int, int) or None
        Output ``(width, height)``; ``None`` skips the out-of-frame marking.
    skeleton : Skeleton or str, optional
        The layout, needed when the matrix mirrors.

    Returns
    -------
    ndarray, shape (..., K, 3), float64

    Examples
    --------
    >>> import numpy as np
    >>> kp = np.array([[10.0, 10.0, 2], [50.0, 10.0, 1], [7.0, 7.0, 0]])
    >>> m = [[1.0, 0.0, -5.0], [0.0, 1.0, 0.0]]
    >>> transform_keypoints(kp, m, (40, 40)).tolist()
    [[5.0, 10.0, 2.0], [45.0, 10.0, 0.0], [2.0, 7.0, 0.0]]
    """
    kp = check_keypoints(keypoints)
    m = check_affine(matrix)
    sk = None if skeleton is None else get_skeleton(skeleton)
    if sk is not None:
        _check_skeleton_k(sk, kp, "keypoints")
    mirrored = is_mirrored(m)
    if mirrored and sk is None:
        raise ValueError(
            "the matrix mirrors the image, so left and right keypoints must swap: pass the skeleton "
            "(or use apply_affine for points without a layout)"
        )
    out = kp.copy()
    out[..., :2] = apply_affine(kp[..., :2], m)
    if output_size is not None:
        w, h = check_size(output_size)
        x, y = out[..., 0], out[..., 1]
        with np.errstate(invalid="ignore"):  # NaN coordinates of v == 0 points compare False
            inside = (x >= -0.5) & (x <= w - 0.5) & (y >= -0.5) & (y <= h - 0.5)
        out[..., 2] = np.where(inside, out[..., 2], 0.0)
    if mirrored:
        out = out[..., sk.flip_index, :]
    return out


def flip_keypoints(keypoints, width: int, skeleton: Skeleton | str) -> np.ndarray:
    """Horizontally flip keypoints of an image ``width`` pixels wide.

    ``x -> width - 1 - x``, and each left/right pair swaps places, so that the
    subject's left eye is still called ``left_eye`` after the flip.

    Parameters
    ----------
    keypoints : array, shape (..., K, 2 or 3)
    width : int
    skeleton : Skeleton or str

    Examples
    --------
    >>> import numpy as np
    >>> kp = np.array([[10.0, 5.0, 2], [30.0, 5.0, 2], [20.0, 9.0, 2], [12.0, 20.0, 2],
    ...                [28.0, 20.0, 2]])  # faces5: right eye, left eye, nose, mouth corners
    >>> flip_keypoints(kp, 40, "faces5")[:2, :2].tolist()
    [[9.0, 5.0], [29.0, 5.0]]
    """
    sk = get_skeleton(skeleton)
    kp = check_keypoints(keypoints, columns=(2, 3))
    _check_skeleton_k(sk, kp, "keypoints")
    if int(width) != width or width <= 0:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    kp[..., 0] = width - 1 - kp[..., 0]
    return kp[..., sk.flip_index, :]


def flip_horizontal(
    image: np.ndarray, keypoints, skeleton: Skeleton | str
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror an image and its keypoints, swapping left and right keypoints.

    Parameters
    ----------
    image : ndarray
        uint8, ``H×W`` or ``H×W×3``.
    keypoints : array, shape (..., K, 2 or 3)
    skeleton : Skeleton or str

    Returns
    -------
    (image, keypoints)

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((4, 6), np.uint8); img[1, 0] = 255
    >>> kp = np.zeros((5, 3)); kp[:, 2] = 2
    >>> out, _ = flip_horizontal(img, kp, "faces5")
    >>> int(out[1, 5])
    255
    """
    img = check_image(image)
    return np.ascontiguousarray(img[:, ::-1]), flip_keypoints(keypoints, img.shape[1], skeleton)


# --- photometric changes ------------------------------------------------------------------------


def photometric(
    image: np.ndarray,
    rng: np.random.Generator,
    brightness: float = 0.2,
    contrast: float = 0.2,
    saturation: float = 0.2,
    hue: float = 0.02,
    gamma: tuple[float, float] = (0.8, 1.25),
) -> np.ndarray:
    """Random colour changes; keypoints are unaffected.

    Applied in this order, each factor drawn uniformly: brightness (multiply by
    ``1 ± brightness``), contrast (stretch about the mean grey by ``1 ± contrast``),
    saturation (blend with the grey image by ``1 ± saturation``), hue (rotate by up
    to ``± hue`` of a full turn) and gamma (``x ** g`` with ``log g`` uniform in
    ``log gamma``). Saturation and hue are skipped for grey images. Every draw is
    made even when its amount is 0, so results depend only on ``rng``'s state.

    Parameters
    ----------
    image : ndarray
        uint8, ``H×W`` or ``H×W×3`` RGB.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray
        uint8, same shape.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((4, 4, 3), 100, np.uint8)
    >>> photometric(img, np.random.default_rng(0)).dtype
    dtype('uint8')
    """
    img = check_image(image)
    for name, value in (("brightness", brightness), ("contrast", contrast),
                        ("saturation", saturation)):  # fmt: skip
        if not 0 <= value < 1:
            raise ValueError(f"{name} must be in [0, 1), got {value}")
    if not 0 <= hue <= 0.5:
        raise ValueError(f"hue must be in [0, 0.5], got {hue}")
    g_lo, g_hi = gamma
    if not 0 < g_lo <= g_hi:
        raise ValueError(f"gamma must be a range (lo, hi) with 0 < lo <= hi, got {gamma}")
    b = rng.uniform(1 - brightness, 1 + brightness)
    c = rng.uniform(1 - contrast, 1 + contrast)
    s = rng.uniform(1 - saturation, 1 + saturation)
    dh = rng.uniform(-hue, hue)
    g = math.exp(rng.uniform(math.log(g_lo), math.log(g_hi)))

    x = img.astype(np.float32) / 255.0
    x = x * b
    grey = x if x.ndim == 2 else x @ np.array([0.299, 0.587, 0.114], np.float32)
    x = (x - grey.mean()) * c + grey.mean()
    if x.ndim == 3:
        x = np.clip(x, 0.0, 1.0)
        grey = x @ np.array([0.299, 0.587, 0.114], np.float32)
        x = (x - grey[..., None]) * s + grey[..., None]
        if dh != 0.0:
            hsv = cv2.cvtColor(np.clip(x, 0.0, 1.0), cv2.COLOR_RGB2HSV)  # float: hue in degrees
            hsv[..., 0] = np.mod(hsv[..., 0] + 360.0 * dh, 360.0)
            x = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    out = np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
    if g != 1.0:  # a lookup table is several times faster than a float power
        table = np.rint(255.0 * (np.arange(256) / 255.0) ** g).astype(np.uint8)
        out = cv2.LUT(out, table)
    return out


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (``sigma = 0`` returns a copy)."""
    img = check_image(image)
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    if sigma == 0:
        return img.copy()
    return cv2.GaussianBlur(img, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REFLECT_101)


def add_noise(image: np.ndarray, rng: np.random.Generator, std: float) -> np.ndarray:
    """Add Gaussian noise of ``std`` grey levels (0–255 scale), clipped to uint8."""
    img = check_image(image)
    if not std >= 0:
        raise ValueError(f"std must be >= 0, got {std}")
    noisy = img.astype(np.float32) + rng.normal(0.0, std, img.shape).astype(np.float32)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def random_erase(
    image: np.ndarray,
    rng: np.random.Generator,
    size: tuple[float, float] = (0.1, 0.4),
    keypoints=None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Paint a random flat-coloured rectangle over the image (a synthetic occluder).

    Each side of the rectangle is a uniform fraction in ``size`` of the image side.
    Visible keypoints (``v = 2``) under the rectangle become labelled-but-hidden
    (``v = 1``): they are still training targets, as an annotator would still
    have labelled them.

    Returns
    -------
    (image, keypoints)
        ``keypoints`` is ``None`` when none were given.
    """
    img = check_image(image).copy()
    lo, hi = size
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"size must be a range (lo, hi) with 0 < lo <= hi <= 1, got {size}")
    h, w = img.shape[:2]
    rw = max(1, int(round(rng.uniform(lo, hi) * w)))
    rh = max(1, int(round(rng.uniform(lo, hi) * h)))
    x0 = int(rng.integers(0, w - rw + 1))
    y0 = int(rng.integers(0, h - rh + 1))
    colour = rng.integers(0, 256, size=3 if img.ndim == 3 else 1).astype(np.uint8)
    img[y0 : y0 + rh, x0 : x0 + rw] = colour if img.ndim == 3 else colour[0]
    if keypoints is None:
        return img, None
    kp = check_keypoints(keypoints)
    # Pixel columns x0 .. x0+rw-1 cover [x0 - 0.5, x0 + rw - 0.5).
    under = (
        (kp[..., 0] >= x0 - 0.5) & (kp[..., 0] < x0 + rw - 0.5)
        & (kp[..., 1] >= y0 - 0.5) & (kp[..., 1] < y0 + rh - 0.5)
    )  # fmt: skip
    kp[..., 2] = np.where(under & (kp[..., 2] == 2), 1.0, kp[..., 2])
    return img, kp


# --- random augmentation ------------------------------------------------------------------------


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges for :func:`random_augment`; the defaults suit face crops.

    Geometric (one affine warp, so the image is interpolated once)

    rotation : float
        Maximum rotation in degrees; drawn uniformly in ``[-rotation, rotation]``.
    scale : (float, float)
        Zoom range (``> 1`` enlarges the content), drawn log-uniformly.
    shift : float
        Maximum shift of the crop centre as a fraction of the crop size, per axis.
    flip_prob : float
        Probability of a horizontal flip (left/right keypoints swap).

    Photometric (see :func:`photometric`)

    brightness, contrast, saturation, hue : float
    gamma : (float, float)

    Degradations

    blur_prob : float
        Probability of a Gaussian blur with sigma uniform in ``blur_sigma``.
    blur_sigma : (float, float)
    noise_prob : float
        Probability of Gaussian noise with std uniform in ``[0, noise_std]`` grey levels.
    noise_std : float
    occlusion_prob : float
        Probability of a random flat rectangle (random erasing); visible keypoints under
        it become ``v = 1``.
    occlusion_size : (float, float)
        Side of the rectangle as a fraction of the image side.

    Examples
    --------
    >>> AugmentConfig(rotation=0.0, flip_prob=0.0).scale
    (0.9, 1.1)
    """

    rotation: float = 15.0
    scale: tuple[float, float] = (0.9, 1.1)
    shift: float = 0.05
    flip_prob: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.02
    gamma: tuple[float, float] = (0.8, 1.25)
    blur_prob: float = 0.2
    blur_sigma: tuple[float, float] = (0.5, 1.5)
    noise_prob: float = 0.2
    noise_std: float = 6.0
    occlusion_prob: float = 0.2
    occlusion_size: tuple[float, float] = (0.15, 0.4)

    def __post_init__(self) -> None:
        def _range(name, lo_min, strict=True):
            lo, hi = getattr(self, name)
            if not (lo > lo_min if strict else lo >= lo_min) or not lo <= hi:
                raise ValueError(f"AugmentConfig.{name} must be a range (lo, hi), got {(lo, hi)}")

        if not 0 <= self.rotation <= 180:
            raise ValueError(f"AugmentConfig.rotation must be in [0, 180], got {self.rotation}")
        _range("scale", 0.0)
        _range("gamma", 0.0)
        _range("blur_sigma", 0.0, strict=False)
        _range("occlusion_size", 0.0)
        if self.occlusion_size[1] > 1:
            raise ValueError("AugmentConfig.occlusion_size must be at most 1")
        if not 0 <= self.shift < 1:
            raise ValueError(f"AugmentConfig.shift must be in [0, 1), got {self.shift}")
        for name in ("flip_prob", "blur_prob", "noise_prob", "occlusion_prob"):
            p = getattr(self, name)
            if not 0 <= p <= 1:
                raise ValueError(f"AugmentConfig.{name} must be a probability, got {p}")
        if self.noise_std < 0:
            raise ValueError(f"AugmentConfig.noise_std must be >= 0, got {self.noise_std}")


def sample_affine_params(rng: np.random.Generator, config: AugmentConfig | None = None) -> dict:
    """Draw ``rotation``, ``scale``, ``shift`` and ``flip`` for :func:`box_to_matrix`.

    Examples
    --------
    >>> import numpy as np
    >>> sorted(sample_affine_params(np.random.default_rng(0)))
    ['flip', 'rotation', 'scale', 'shift']
    """
    cfg = AugmentConfig() if config is None else config
    rotation = rng.uniform(-cfg.rotation, cfg.rotation)
    scale = math.exp(rng.uniform(math.log(cfg.scale[0]), math.log(cfg.scale[1])))
    shift = rng.uniform(-cfg.shift, cfg.shift, size=2)
    flip = rng.random() < cfg.flip_prob
    return {"rotation": float(rotation), "scale": float(scale),
            "shift": (float(shift[0]), float(shift[1])), "flip": bool(flip)}  # fmt: skip


def random_augment(
    image: np.ndarray,
    keypoints,
    skeleton: Skeleton | str,
    rng: np.random.Generator,
    config: AugmentConfig | None = None,
    *,
    box: Sequence[float] | None = None,
    output_size: int | tuple[int, int] | None = None,
    padding: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random geometric and photometric augmentation of an image and its keypoints.

    A random rotation, zoom, shift and flip are folded into the crop of ``box``
    (default: the whole image) to ``output_size`` (default: the image size), so the
    image is interpolated once. Then photometric changes, blur, noise and random
    erasing follow, each with its probability. Every random number comes from
    ``rng``; the same ``rng`` state gives the same result.

    Parameters
    ----------
    image : ndarray
        uint8, ``H×W`` or ``H×W×3``.
    keypoints : array, shape (K, 3) or (M, K, 3)
    skeleton : Skeleton or str
        Layout; its flip pairs swap left and right on a flip.
    rng : numpy.random.Generator
    config : AugmentConfig, optional
    box : [x, y, w, h], optional
        Region to crop; the whole image by default.
    output_size : int or (int, int), optional
    padding : float
        Enlargement of ``box`` (see :func:`box_to_matrix`).

    Returns
    -------
    image : ndarray
        uint8 of size ``output_size``.
    keypoints : ndarray
        Same shape as the input, in output pixels; points that left the frame have ``v = 0``.
    matrix : ndarray, shape (2, 3)
        The image -> output map (mirrored when flipped).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((32, 32, 3), np.uint8)
    >>> kp = np.full((5, 3), 16.0); kp[:, 2] = 2
    >>> out, kp2, m = random_augment(img, kp, "faces5", np.random.default_rng(0))
    >>> out.shape, kp2.shape, m.shape
    ((32, 32, 3), (5, 3), (2, 3))
    """
    cfg = AugmentConfig() if config is None else config
    if not isinstance(cfg, AugmentConfig):
        raise TypeError(f"config must be an AugmentConfig, got {type(cfg).__name__}")
    img = check_image(image)
    sk = get_skeleton(skeleton)
    kp = check_keypoints(keypoints)
    _check_skeleton_k(sk, kp, "keypoints")
    size = (img.shape[1], img.shape[0]) if output_size is None else check_size(output_size)
    the_box = image_box(img) if box is None else box

    params = sample_affine_params(rng, cfg)
    matrix = box_to_matrix(the_box, size, padding=padding, **params)
    out = crop_image(img, matrix, size)  # anti-aliased when it shrinks, as every crop
    kp_out = transform_keypoints(kp, matrix, size, sk)

    # Draw every random number whether or not its step runs, so that turning one
    # step off does not change the others.
    out = photometric(out, rng, cfg.brightness, cfg.contrast, cfg.saturation, cfg.hue, cfg.gamma)
    do_blur, sigma = rng.random() < cfg.blur_prob, rng.uniform(*cfg.blur_sigma)
    do_noise, std = rng.random() < cfg.noise_prob, rng.uniform(0.0, cfg.noise_std)
    do_erase = rng.random() < cfg.occlusion_prob
    erase_rng = np.random.default_rng(rng.integers(2**63))
    noise_rng = np.random.default_rng(rng.integers(2**63))
    if do_blur:
        out = gaussian_blur(out, sigma)
    if do_noise:
        out = add_noise(out, noise_rng, std)
    if do_erase:
        out, kp_out = random_erase(out, erase_rng, cfg.occlusion_size, kp_out)
    return out, kp_out, matrix


# --- tensors and batches ------------------------------------------------------------------------


def to_rgb(image: np.ndarray) -> np.ndarray:
    """A grey ``H×W`` image as ``H×W×3`` (RGB images are returned unchanged)."""
    img = check_image(image)
    return np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 image(s) to a normalised float32 tensor for a network.

    ``H×W[×3]`` gives ``(3, H, W)``; a stack ``N×H×W[×3]`` gives ``(N, 3, H, W)``.
    Grey images are repeated to 3 channels; values are scaled to [0, 1] and then
    normalised with :data:`MEAN` and :data:`STD`.

    Examples
    --------
    >>> import numpy as np
    >>> to_tensor(np.zeros((8, 10), np.uint8)).shape
    torch.Size([3, 8, 10])
    """
    import torch

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise ValueError(f"to_tensor: expected uint8 image(s), got dtype {arr.dtype}")
    batched = arr.ndim == 4 or (arr.ndim == 3 and arr.shape[-1] != 3)
    if arr.ndim == 4 and arr.shape[-1] != 3:
        raise ValueError(f"to_tensor: expected N×H×W×3 or N×H×W, got {arr.shape}")
    if arr.ndim not in (2, 3, 4):
        raise ValueError(f"to_tensor: expected H×W, H×W×3, N×H×W or N×H×W×3, got {arr.shape}")
    if arr.ndim == 2 or (arr.ndim == 3 and batched):
        arr = np.repeat(arr[..., None], 3, axis=-1)
    x = (arr.astype(np.float32) / 255.0 - MEAN) / STD
    x = np.moveaxis(x, -1, -3)
    return torch.from_numpy(np.ascontiguousarray(x))


def from_tensor(tensor) -> np.ndarray:
    """Undo :func:`to_tensor` for display: ``(3, H, W)`` -> ``H×W×3`` uint8 (or a batch).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    >>> bool((from_tensor(to_tensor(img)) == img).all())
    True
    """
    x = tensor.detach().cpu().numpy() if hasattr(tensor, "detach") else np.asarray(tensor)
    if x.ndim not in (3, 4) or x.shape[-3] != 3:
        raise ValueError(f"from_tensor: expected (3, H, W) or (N, 3, H, W), got {x.shape}")
    x = np.moveaxis(x.astype(np.float32), -3, -1) * STD + MEAN
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
