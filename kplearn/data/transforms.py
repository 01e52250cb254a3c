"""Keypoint-aware transforms: affine crops, flips with left/right swaps, photometric changes.

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


def _check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"{what}: expected a uint8 image, got dtype {img.dtype}")
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"{what}: expected shape H×W (grey) or H×W×3 (RGB), got {img.shape}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"{what}: image is empty, shape {img.shape}")
    return img


def _check_size(size, what: str = "output_size") -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        size = (int(size), int(size))
    try:
        w, h = size
    except (TypeError, ValueError):
        raise ValueError(
            f"{what}: expected an int or a (width, height) pair, got {size!r}"
        ) from None
    if int(w) != w or int(h) != h or w <= 0 or h <= 0:
        raise ValueError(f"{what}: width and height must be positive integers, got {size!r}")
    return int(w), int(h)


def _check_matrix(matrix, what: str = "matrix") -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape == (3, 3):
        if not np.allclose(m[2], (0.0, 0.0, 1.0)):
            raise ValueError(f"{what}: a 3×3 matrix must be affine (last row 0, 0, 1)")
        m = m[:2]
    if m.shape != (2, 3):
        raise ValueError(f"{what}: expected a 2×3 affine matrix, got shape {np.shape(matrix)}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{what}: matrix has NaN or infinite entries")
    return m


def _check_keypoints(
    keypoints, what: str = "keypoints", need_visibility: bool = True
) -> np.ndarray:
    kp = np.array(keypoints, dtype=np.float64)  # a copy: callers may write into it
    ncol = (3,) if need_visibility else (2, 3)
    if kp.ndim < 2 or kp.shape[-1] not in ncol:
        want = "(..., K, 3) with x, y, v" if need_visibility else "(..., K, 2) or (..., K, 3)"
        raise ValueError(f"{what}: expected shape {want}, got {kp.shape}")
    if kp.shape[-1] == 3:
        v = kp[..., 2]
        bad = ~np.isin(v, (0, 1, 2))
        if bad.any():
            raise ValueError(
                f"{what}: visibility must be 0, 1 or 2, found {np.unique(v[bad])[:5].tolist()}"
            )
        labelled = v > 0
    else:
        labelled = np.ones(kp.shape[:-1], bool)
    nonfinite = labelled & ~np.isfinite(kp[..., :2]).all(-1)
    if nonfinite.any():
        where = tuple(int(i) for i in np.argwhere(nonfinite)[0])
        raise ValueError(
            f"{what}: labelled keypoint at index {where} has a NaN or infinite coordinate"
        )
    return kp


def _check_skeleton_k(skeleton: Skeleton, kp: np.ndarray, what: str) -> None:
    if kp.shape[-2] != skeleton.num_keypoints:
        raise ValueError(
            f"{what}: {kp.shape[-2]} keypoints but layout {skeleton.name!r} has "
            f"{skeleton.num_keypoints}"
        )


def _check_box(box, what: str = "box") -> np.ndarray:
    b = np.asarray(box, dtype=np.float64).reshape(-1)
    if b.shape != (4,):
        raise ValueError(f"{what}: expected [x, y, w, h], got {box!r}")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"{what}: box has NaN or infinite entries: {b.tolist()}")
    if b[2] < 0 or b[3] < 0:
        raise ValueError(f"{what}: negative width or height: {b.tolist()}")
    if b[2] <= 0 and b[3] <= 0:
        raise ValueError(f"{what}: box has zero size: {b.tolist()}")
    return b


# --- affine matrices ----------------------------------------------------------------------------


def affine_matrix(
    center: Sequence[float],
    scale: float | Sequence[float],
    rotation_deg: float,
    output_size: int | tuple[int, int],
    flip: bool = False,
) -> np.ndarray:
    """Affine map that crops a rotated region of an image into the output frame.

    The region is centred on ``center`` and ``scale`` pixels wide (and high). Its
    centre goes to the output centre ``((W-1)/2, (H-1)/2)``, and the scaling is the
    same along x and y (no shear): the region is fitted *inside* the output, so a
    region whose aspect ratio differs from the output's gets extra context along one
    axis. Region extents map to the output extent ``[-0.5, W-0.5]``, in keeping with
    the pixel-centre convention (a region ``W`` pixels wide is copied at scale 1).

    Parameters
    ----------
    center : (float, float)
        ``(x, y)`` of the region centre, in image pixels.
    scale : float or (float, float)
        Region size ``(width, height)`` in image pixels ("bbox scale" in mmpose). A
        single number is the width; the height follows the output aspect ratio.
    rotation_deg : float
        Rotation of the image content in degrees, counter-clockwise as displayed
        (the same sense as ``cv2.getRotationMatrix2D``).
    output_size : int or (int, int)
        ``(width, height)`` of the output.
    flip : bool
        Mirror the output horizontally (``x' -> W - 1 - x'``). Keypoints warped with
        a mirrored matrix must also swap left and right; see :func:`transform_keypoints`.

    Returns
    -------
    ndarray, shape (2, 3)
        float64 matrix mapping image coordinates to output coordinates.

    Examples
    --------
    >>> m = affine_matrix((50.0, 40.0), 20.0, 0.0, (40, 40))
    >>> (m @ [50.0, 40.0, 1.0]).tolist()  # the centre goes to the output centre
    [19.5, 19.5]
    >>> float(m[0, 0])  # 20 image pixels span 40 output pixels
    2.0
    """
    w_out, h_out = _check_size(output_size)
    cx, cy = (float(c) for c in np.asarray(center, dtype=np.float64).reshape(2))
    sc = np.asarray(scale, dtype=np.float64).reshape(-1)
    if sc.size == 1:
        sc = np.array([sc[0], sc[0] * h_out / w_out])
    if sc.size != 2 or not np.all(np.isfinite(sc)) or np.any(sc <= 0):
        raise ValueError(f"scale: expected a positive region size (w, h), got {scale!r}")
    if not (math.isfinite(cx) and math.isfinite(cy) and math.isfinite(float(rotation_deg))):
        raise ValueError(f"center and rotation must be finite, got {center!r}, {rotation_deg!r}")
    s = min(w_out / sc[0], h_out / sc[1])
    t = math.radians(float(rotation_deg))
    cos, sin = s * math.cos(t), s * math.sin(t)
    # With y pointing down, [[cos, sin], [-sin, cos]] turns content counter-clockwise on screen.
    ox, oy = (w_out - 1) / 2.0, (h_out - 1) / 2.0
    m = np.array(
        [
            [cos, sin, ox - cos * cx - sin * cy],
            [-sin, cos, oy + sin * cx - cos * cy],
        ]
    )
    if flip:
        m = compose_matrices(m, np.array([[-1.0, 0.0, w_out - 1.0], [0.0, 1.0, 0.0]]))
    return m


def image_box(image_or_size) -> np.ndarray:
    """The box ``[x, y, w, h]`` covering a whole image, ``[-0.5, -0.5, W, H]``.

    Accepts an image array or a ``(width, height)`` pair.

    Examples
    --------
    >>> image_box((64, 48)).tolist()
    [-0.5, -0.5, 64.0, 48.0]
    """
    if isinstance(image_or_size, np.ndarray) and image_or_size.ndim >= 2:
        w, h = image_or_size.shape[1], image_or_size.shape[0]
    else:
        w, h = _check_size(image_or_size, "image size")
    return np.array([-0.5, -0.5, float(w), float(h)])


def box_to_matrix(
    box: Sequence[float],
    output_size: int | tuple[int, int],
    padding: float = 1.25,
    rotation: float = 0.0,
    scale: float = 1.0,
    shift: Sequence[float] = (0.0, 0.0),
    flip: bool = False,
) -> np.ndarray:
    """Affine map that crops a padded box to the output size (top-down crop).

    The box ``[x, y, w, h]`` is enlarged by ``padding`` about its centre, then its
    shorter side (relative to the output aspect ratio) is expanded so that the crop
    keeps the output's aspect ratio; nothing in the box is squashed or cut.

    Parameters
    ----------
    box : [x, y, w, h]
        In image pixels. ``w`` or ``h`` (not both) may be 0.
    output_size : int or (int, int)
        ``(width, height)`` of the crop.
    padding : float
        Enlargement of the box (1.25 leaves 12.5 % margin on each side).
    rotation : float
        Content rotation in degrees, counter-clockwise as displayed, about the box centre.
    scale : float
        Zoom: ``scale > 1`` makes the content larger (the cropped region shrinks by
        this factor); ``scale < 1`` shows more context.
    shift : (float, float)
        Moves the crop centre by this fraction of the padded box size, so the
        content moves the opposite way.
    flip : bool
        Mirror the crop; keypoints then need their left/right swapped (pass the
        skeleton to :func:`transform_keypoints`).

    Returns
    -------
    ndarray, shape (2, 3)

    Examples
    --------
    >>> m = box_to_matrix([10, 20, 40, 20], (64, 64), padding=1.0)
    >>> (m @ [30.0, 30.0, 1.0]).tolist()  # box centre -> crop centre
    [31.5, 31.5]
    >>> (m @ [10.0, 10.0, 1.0]).tolist()  # 40×20 box widened to 40×40 and scaled by 1.6
    [-0.5, -0.5]
    """
    b = _check_box(box)
    w_out, h_out = _check_size(output_size)
    if not (padding > 0 and scale > 0):
        raise ValueError(f"padding and scale must be positive, got {padding}, {scale}")
    shift = np.asarray(shift, dtype=np.float64).reshape(2)
    w, h = b[2] * padding, b[3] * padding
    aspect = w_out / h_out
    if w > h * aspect:
        h = w / aspect
    else:
        w = h * aspect
    center = (b[0] + b[2] / 2.0 + shift[0] * w, b[1] + b[3] / 2.0 + shift[1] * h)
    return affine_matrix(center, (w / scale, h / scale), rotation, (w_out, h_out), flip=flip)


def invert_matrix(matrix) -> np.ndarray:
    """Inverse of a 2×3 affine map (output -> image).

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[2.0, 0.0, 5.0], [0.0, 2.0, -1.0]])
    >>> invert_matrix(m).tolist()
    [[0.5, 0.0, -2.5], [0.0, 0.5, 0.5]]
    """
    m = _check_matrix(matrix)
    a = m[:, :2]
    det = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
    if abs(det) < 1e-12 * max(1.0, float(np.abs(a).max()) ** 2):
        raise ValueError("matrix is singular (determinant ~0); it cannot be inverted")
    inv = np.linalg.inv(a)
    return np.hstack([inv, -inv @ m[:, 2:]])


def compose_matrices(first, then) -> np.ndarray:
    """The single affine map that applies ``first`` and then ``then``.

    Examples
    --------
    >>> shift = [[1.0, 0.0, 3.0], [0.0, 1.0, 0.0]]
    >>> double = [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    >>> (compose_matrices(shift, double) @ [1.0, 1.0, 1.0]).tolist()
    [8.0, 2.0]
    """
    a, b = _check_matrix(first, "first"), _check_matrix(then, "then")
    return b[:, :2] @ a + np.hstack([np.zeros((2, 2)), b[:, 2:]])


def is_mirrored(matrix) -> bool:
    """Whether an affine map mirrors (negative determinant), so left and right must swap."""
    a = _check_matrix(matrix)[:, :2]
    return bool(a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0] < 0)


def apply_affine(points, matrix) -> np.ndarray:
    """Apply a 2×3 affine map to points ``(..., 2)`` (no visibility handling).

    Examples
    --------
    >>> apply_affine([[1.0, 2.0]], [[1.0, 0.0, 10.0], [0.0, 1.0, 20.0]]).tolist()
    [[11.0, 22.0]]
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim < 1 or pts.shape[-1] != 2:
        raise ValueError(f"points: expected shape (..., 2), got {pts.shape}")
    m = _check_matrix(matrix)
    return pts @ m[:, :2].T + m[:, 2]


# --- applying transforms ------------------------------------------------------------------------

_INTERPOLATION = {
    "nearest": cv2.INTER_NEAREST,
    "linear": cv2.INTER_LINEAR,
    "cubic": cv2.INTER_CUBIC,
}
_BORDER = {"constant": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE,
           "reflect": cv2.BORDER_REFLECT_101}  # fmt: skip


def warp_image(
    image: np.ndarray,
    matrix,
    output_size: int | tuple[int, int],
    interpolation: str = "linear",
    border: str = "constant",
    border_value: int | Sequence[int] = 0,
) -> np.ndarray:
    """Warp an image with a 2×3 image->output affine map (``cv2.warpAffine``).

    Parameters
    ----------
    image : ndarray
        uint8, ``H×W`` or ``H×W×3``.
    matrix : array, shape (2, 3)
        Image -> output map, as from :func:`box_to_matrix`.
    output_size : int or (int, int)
        ``(width, height)`` of the result.
    interpolation : {"linear", "nearest", "cubic"}
    border : {"constant", "replicate", "reflect"}
        How pixels from outside the image are filled.
    border_value : int or (int, int, int)
        Fill value for ``border="constant"``.

    Returns
    -------
    ndarray
        uint8, ``(height, width)`` or ``(height, width, 3)``.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> m = [[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]  # move content one pixel left
    >>> warp_image(img, m, (4, 3))[0].tolist()
    [1, 2, 3, 0]
    """
    img = _check_image(image)
    m = _check_matrix(matrix)
    size = _check_size(output_size)
    if interpolation not in _INTERPOLATION:
        raise ValueError(
            f"interpolation must be one of {sorted(_INTERPOLATION)}, got {interpolation!r}"
        )
    if border not in _BORDER:
        raise ValueError(f"border must be one of {sorted(_BORDER)}, got {border!r}")
    value = border_value if np.ndim(border_value) else (border_value,) * 3
    return cv2.warpAffine(
        img, m, size, flags=_INTERPOLATION[interpolation], borderMode=_BORDER[border],
        borderValue=tuple(float(c) for c in value),
    )  # fmt: skip


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
    kp = _check_keypoints(keypoints)
    m = _check_matrix(matrix)
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
        w, h = _check_size(output_size)
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
    kp = _check_keypoints(keypoints, need_visibility=False)
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
    img = _check_image(image)
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
    img = _check_image(image)
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
    img = _check_image(image)
    if not sigma >= 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    if sigma == 0:
        return img.copy()
    return cv2.GaussianBlur(img, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REFLECT_101)


def add_noise(image: np.ndarray, rng: np.random.Generator, std: float) -> np.ndarray:
    """Add Gaussian noise of ``std`` grey levels (0–255 scale), clipped to uint8."""
    img = _check_image(image)
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
    img = _check_image(image).copy()
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
    kp = _check_keypoints(keypoints)
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
    img = _check_image(image)
    sk = get_skeleton(skeleton)
    kp = _check_keypoints(keypoints)
    _check_skeleton_k(sk, kp, "keypoints")
    size = (img.shape[1], img.shape[0]) if output_size is None else _check_size(output_size)
    the_box = image_box(img) if box is None else box

    params = sample_affine_params(rng, cfg)
    matrix = box_to_matrix(the_box, size, padding=padding, **params)
    out = warp_image(img, matrix, size)
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
    img = _check_image(image)
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


def crop_batch(
    images,
    boxes=None,
    input_size: int | tuple[int, int] = (64, 64),
    padding: float = 1.25,
) -> tuple[np.ndarray, np.ndarray]:
    """Crop each image's box to the network input size, for prediction.

    Parameters
    ----------
    images : sequence of ndarray or ndarray (N, H, W[, 3])
        uint8; sizes may differ.
    boxes : array (N, 4), optional
        ``[x, y, w, h]`` per image, enlarged by ``padding``. ``None`` (or a ``None``
        entry) crops the whole image without padding, as :class:`TopDownDataset`
        does for face crops.
    input_size : int or (int, int)
        ``(width, height)`` of the crops.
    padding : float

    Returns
    -------
    crops : ndarray, shape (N, h, w, 3)
        uint8 RGB (grey images are repeated to three channels).
    matrices : ndarray, shape (N, 2, 3)
        Image -> crop maps; :func:`uncrop_keypoints` maps predictions back.

    Examples
    --------
    >>> import numpy as np
    >>> crops, ms = crop_batch([np.zeros((40, 30), np.uint8)], None, (16, 16))
    >>> crops.shape, ms.shape
    ((1, 16, 16, 3), (1, 2, 3))
    """
    size = _check_size(input_size, "input_size")
    imgs = list(images)
    if not imgs:
        raise ValueError("crop_batch: no images")
    if boxes is not None and len(boxes) != len(imgs):
        raise ValueError(f"crop_batch: {len(imgs)} images but {len(boxes)} boxes")
    crops = np.empty((len(imgs), size[1], size[0], 3), np.uint8)
    matrices = np.empty((len(imgs), 2, 3))
    for i, image in enumerate(imgs):
        img = to_rgb(_check_image(image, f"image {i}"))
        box = None if boxes is None else boxes[i]
        if box is None:
            m = box_to_matrix(image_box(img), size, padding=1.0)
        else:
            m = box_to_matrix(_check_box(box, f"box {i}"), size, padding=padding)
        crops[i] = warp_image(img, m, size)
        matrices[i] = m
    return crops, matrices


def uncrop_keypoints(keypoints, matrices) -> np.ndarray:
    """Map keypoints predicted in crop pixels back to image pixels.

    Parameters
    ----------
    keypoints : array, shape (N, K, C) with C >= 2
        ``x, y`` in crop pixels, then any extra columns (visibility, scores), which
        are copied unchanged.
    matrices : array, shape (N, 2, 3)
        The image -> crop maps used for cropping (e.g. from :func:`crop_batch`).

    Returns
    -------
    ndarray, shape (N, K, C), float64

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[[2.0, 0.0, 1.0], [0.0, 2.0, 1.0]]])
    >>> uncrop_keypoints(np.array([[[5.0, 7.0, 0.9]]]), m).tolist()
    [[[2.0, 3.0, 0.9]]]
    """
    kp = np.array(keypoints, dtype=np.float64)
    ms = np.asarray(matrices, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] < 2:
        raise ValueError(f"keypoints: expected shape (N, K, C>=2), got {kp.shape}")
    if ms.shape != (kp.shape[0], 2, 3):
        raise ValueError(f"matrices: expected shape ({kp.shape[0]}, 2, 3), got {ms.shape}")
    for i in range(len(kp)):
        if is_mirrored(ms[i]):
            raise ValueError(f"matrix {i} mirrors; un-flip the keypoints (flip_keypoints) first")
        kp[i, :, :2] = apply_affine(kp[i, :, :2], invert_matrix(ms[i]))
    return kp
