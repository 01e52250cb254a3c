"""Image geometry: boxes, affine maps and homographies, and the one crop pipeline.

kplearn's pixel convention, used throughout: integer coordinates are pixel
*centres*, so a ``W × H`` image spans ``[-0.5, W - 0.5] × [-0.5, H - 0.5]`` and
its box ``[x, y, w, h]`` is :func:`image_box`, ``[-0.5, -0.5, W, H]``. It is also
OpenCV's convention, so ``cv2.warpAffine`` and the same matrix applied to points
(:func:`apply_affine`) move content and keypoints together, with no half-pixel
offset.

Affine maps are 2×3 matrices ``A`` from image to output pixels,
``[x', y'] = A @ [x, y, 1]``: :func:`box_to_matrix` crops a box to an output size,
keeping the output's aspect ratio (top-down crops: nothing is squashed) or
stretching each axis (``keep_aspect=False``: the classical localisers' square
working frame). :func:`uncrop` maps crop-pixel predictions back to the image and
refuses a mirrored map (whose left/right keypoints must be swapped first).

Homographies are 3×3 matrices with ``[x', y', w] = H @ [x, y, 1]``. **Points at
infinity:** a point with ``w <= 1e-12`` lands on or behind the line at infinity,
has no image and maps to ``NaN`` (never to a huge or sign-flipped coordinate).
``H`` is taken with the sign that gives ``w > 0`` in front of the camera, as
:func:`cv2.findHomography` and the synthetic generator return it (``H[2, 2] = 1``).

**Cropping** (:func:`crop_image`): bilinear warping of a shrunk image aliases, so
when the map shrinks (scale ``s < 0.9``, ``s = sqrt|det A|``) the image is first
blurred with a Gaussian of standard deviation ``0.5 * sqrt(1 / s**2 - 1)`` — the
rule every crop for training and prediction uses. (The classical localisers'
grey working images, :func:`kplearn.classical.localiser.crop_to_work`, shrink by
area averaging instead; their matrices come from here.)

Examples
--------
>>> import numpy as np
>>> m = box_to_matrix([20, 30, 40, 40], (64, 64), padding=1.0)
>>> apply_affine([[40.0, 50.0]], m).tolist()  # the box centre goes to the crop centre
[[31.5, 31.5]]
>>> uncrop(apply_affine([[[40.0, 50.0]]], m), m[None]).tolist()
[[[40.0, 50.0]]]
>>> apply_homography(np.array([[1.0, 0, 0], [0, 1, 0], [1, 0, 1]]), [[-1.0, 0.0], [1.0, 2.0]])
array([[nan, nan],
       [0.5, 1. ]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from kplearn._checks import (
    as_rgb,
    check_affine,
    check_box,
    check_homography,
    check_image,
    check_points,
    check_size,
)

__all__ = [
    "image_box",
    "affine_matrix",
    "box_to_matrix",
    "invert_matrix",
    "compose_matrices",
    "is_mirrored",
    "apply_affine",
    "apply_homography",
    "invert_homography",
    "centred_similarity",
    "warp_homography",
    "warp_image",
    "crop_matrix",
    "crop_image",
    "crop_batch",
    "uncrop",
]


# --- boxes and affine maps ----------------------------------------------------------------------


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
        w, h = check_size(image_or_size, "image size")
    return np.array([-0.5, -0.5, float(w), float(h)])


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
        a mirrored matrix must also swap left and right; see
        :func:`kplearn.data.transforms.transform_keypoints`.

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
    w_out, h_out = check_size(output_size, "output_size")
    sc = np.asarray(scale, dtype=np.float64).reshape(-1)
    if sc.size == 1:
        sc = np.array([sc[0], sc[0] * h_out / w_out])
    if sc.size != 2 or not np.all(np.isfinite(sc)) or np.any(sc <= 0):
        raise ValueError(f"scale: expected a positive region size (w, h), got {scale!r}")
    return _region_matrix(center, (min(w_out / sc[0], h_out / sc[1]),) * 2, rotation_deg,
                          (w_out, h_out), flip)  # fmt: skip


def _region_matrix(center, scales, rotation_deg, output_size, flip) -> np.ndarray:
    """Rotate about ``center`` by ``rotation_deg``, scale by ``(sx, sy)``, centre in the output."""
    w_out, h_out = output_size
    cx, cy = (float(c) for c in np.asarray(center, dtype=np.float64).reshape(2))
    if not (math.isfinite(cx) and math.isfinite(cy) and math.isfinite(float(rotation_deg))):
        raise ValueError(f"center and rotation must be finite, got {center!r}, {rotation_deg!r}")
    sx, sy = scales
    t = math.radians(float(rotation_deg))
    cos, sin = math.cos(t), math.sin(t)
    # With y pointing down, [[cos, sin], [-sin, cos]] turns content counter-clockwise on screen.
    ox, oy = (w_out - 1) / 2.0, (h_out - 1) / 2.0
    m = np.array(
        [
            [sx * cos, sx * sin, ox - sx * cos * cx - sx * sin * cy],
            [-sy * sin, sy * cos, oy + sy * sin * cx - sy * cos * cy],
        ]
    )
    if flip:
        m = compose_matrices(m, np.array([[-1.0, 0.0, w_out - 1.0], [0.0, 1.0, 0.0]]))
    return m


def box_to_matrix(
    box: Sequence[float],
    output_size: int | tuple[int, int],
    padding: float = 1.25,
    rotation: float = 0.0,
    scale: float = 1.0,
    shift: Sequence[float] = (0.0, 0.0),
    flip: bool = False,
    *,
    keep_aspect: bool = True,
) -> np.ndarray:
    """Affine map that crops a padded box to the output size (top-down crop).

    The box ``[x, y, w, h]`` is enlarged by ``padding`` about its centre. With
    ``keep_aspect`` (the default) its shorter side (relative to the output aspect
    ratio) is then expanded so that the crop keeps the output's aspect ratio:
    nothing in the box is squashed or cut. With ``keep_aspect=False`` each axis is
    scaled on its own, so the box edges land exactly on the output edges.

    Parameters
    ----------
    box : [x, y, w, h]
        In image pixels. ``w`` or ``h`` (not both) may be 0 when ``keep_aspect``.
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
        skeleton to :func:`kplearn.data.transforms.transform_keypoints`).
    keep_aspect : bool
        Keep the output's aspect ratio (True) or stretch each axis (False).

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
    >>> m = box_to_matrix([10, 20, 40, 20], 80, padding=1.0, keep_aspect=False)
    >>> apply_affine([[10.0, 20.0], [50.0, 40.0]], m).tolist()  # box edges -> frame edges
    [[-0.5, -0.5], [79.5, 79.5]]
    """
    b = check_box(box)
    w_out, h_out = check_size(output_size, "output_size")
    if not (padding > 0 and scale > 0):
        raise ValueError(f"padding and scale must be positive, got {padding}, {scale}")
    shift = np.asarray(shift, dtype=np.float64).reshape(2)
    w, h = b[2] * padding, b[3] * padding
    if keep_aspect:
        aspect = w_out / h_out
        if w > h * aspect:
            h = w / aspect
        else:
            w = h * aspect
    elif w <= 0 or h <= 0:
        raise ValueError(f"box: a stretched crop needs a positive width and height, got {b.tolist()}")
    center = (b[0] + b[2] / 2.0 + shift[0] * w, b[1] + b[3] / 2.0 + shift[1] * h)
    if keep_aspect:
        return affine_matrix(center, (w / scale, h / scale), rotation, (w_out, h_out), flip=flip)
    return _region_matrix(center, (w_out * scale / w, h_out * scale / h), rotation,
                          (w_out, h_out), flip)  # fmt: skip


def invert_matrix(matrix) -> np.ndarray:
    """Inverse of a 2×3 affine map (output -> image).

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[2.0, 0.0, 5.0], [0.0, 2.0, -1.0]])
    >>> invert_matrix(m).tolist()
    [[0.5, 0.0, -2.5], [0.0, 0.5, 0.5]]
    """
    m = check_affine(matrix)
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
    a, b = check_affine(first, "first"), check_affine(then, "then")
    return b[:, :2] @ a + np.hstack([np.zeros((2, 2)), b[:, 2:]])


def is_mirrored(matrix) -> bool:
    """Whether an affine map mirrors (negative determinant), so left and right must swap.

    Examples
    --------
    >>> is_mirrored([[-1.0, 0.0, 9.0], [0.0, 1.0, 0.0]])
    True
    """
    a = check_affine(matrix)[:, :2]
    return bool(a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0] < 0)


def apply_affine(points, matrix) -> np.ndarray:
    """Apply a 2×3 affine map to points ``(..., 2)`` (no visibility handling).

    Examples
    --------
    >>> apply_affine([[1.0, 2.0]], [[1.0, 0.0, 10.0], [0.0, 1.0, 20.0]]).tolist()
    [[11.0, 22.0]]
    """
    pts = check_points(points, finite=False)
    m = check_affine(matrix)
    return pts @ m[:, :2].T + m[:, 2]


# --- homographies -------------------------------------------------------------------------------


def apply_homography(H, points) -> np.ndarray:
    """Map points ``(..., 2)`` through a homography; points at infinity become ``NaN``.

    ``[x', y', w] = H @ [x, y, 1]`` and the result is ``(x' / w, y' / w)``. A point
    with ``w <= 1e-12`` (on or behind the line at infinity) has no image: ``NaN``.
    Input points may be NaN (they stay NaN).

    Examples
    --------
    >>> apply_homography(np.diag([2.0, 2.0, 1.0]), np.array([[1.0, 3.0]])).tolist()
    [[2.0, 6.0]]
    """
    m = check_homography(H)
    pts = check_points(points, finite=False)
    q = pts @ m[:, :2].T + m[:, 2]
    w = q[..., 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = q[..., :2] / w
    out[~(w[..., 0] > 1e-12)] = np.nan
    return out


def invert_homography(H) -> np.ndarray:
    """Inverse of a homography, scaled so that ``H[2, 2] = 1`` where that entry is not ~0.

    Examples
    --------
    >>> invert_homography(np.diag([2.0, 4.0, 1.0])).tolist()
    [[0.5, 0.0, 0.0], [0.0, 0.25, 0.0], [0.0, 0.0, 1.0]]
    """
    inv = np.linalg.inv(check_homography(H, invertible=True))
    return inv / inv[2, 2] if abs(inv[2, 2]) > 1e-12 else inv


# --- cropping -----------------------------------------------------------------------------------

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
    """Warp an image with a 2×3 image->output affine map (``cv2.warpAffine``, no pre-blur).

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
    img = check_image(image)
    m = check_affine(matrix)
    size = check_size(output_size, "output_size")
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


def crop_matrix(
    image_size: tuple[int, int], box, input_size: tuple[int, int], padding: float = 1.25
) -> np.ndarray:
    """Image -> crop map: the whole image (``box=None``, no padding) or the padded box.

    Examples
    --------
    >>> crop_matrix((32, 32), None, (16, 16)) + 0.0  # (+ 0.0 turns -0.0 into 0.0)
    array([[ 0.5 ,  0.  , -0.25],
           [ 0.  ,  0.5 , -0.25]])
    """
    if box is None:
        return box_to_matrix(image_box(image_size), input_size, padding=1.0)
    return box_to_matrix(box, input_size, padding=padding)


def crop_image(image: np.ndarray, matrix, output_size: int | tuple[int, int]) -> np.ndarray:
    """Warp ``image`` with ``matrix`` to ``output_size``, blurring first when it shrinks.

    The anti-aliasing rule of every kplearn crop: for a scale ``s < 0.9``
    (``s = sqrt|det A|``) a Gaussian of standard deviation ``0.5 * sqrt(1 / s**2 - 1)``
    (border replicated) removes what the smaller grid cannot hold, then
    :func:`warp_image` resamples bilinearly.

    Examples
    --------
    >>> img = np.zeros((64, 64), np.uint8); img[::2] = 255  # one-pixel stripes
    >>> m = box_to_matrix(image_box(img), 16, padding=1.0)
    >>> int(np.ptp(crop_image(img, m, 16)[2:-2, 2:-2])) < 10  # blurred away, no moiré
    True
    """
    img = check_image(image)
    m = check_affine(matrix)
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if scale < 0.9:
        sigma = 0.5 * np.sqrt(1.0 / scale**2 - 1.0)
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma,
                               borderType=cv2.BORDER_REPLICATE)  # fmt: skip
    return warp_image(img, m, output_size)


def crop_batch(
    images,
    boxes=None,
    input_size: int | tuple[int, int] = (64, 64),
    padding: float = 1.25,
) -> tuple[np.ndarray, np.ndarray]:
    """Crop each image's box to the network input size, as training and prediction do.

    Parameters
    ----------
    images : sequence of ndarray or ndarray (N, H, W[, 3])
        uint8 grey, RGB or RGBA; sizes may differ.
    boxes : array (N, 4), optional
        ``[x, y, w, h]`` per image, enlarged by ``padding``. ``None`` (or a ``None``
        entry) crops the whole image without padding. A box must overlap its image.
    input_size : int or (int, int)
        ``(width, height)`` of the crops.
    padding : float

    Returns
    -------
    crops : ndarray, shape (N, h, w, 3)
        uint8 RGB (grey images are repeated to three channels).
    matrices : ndarray, shape (N, 2, 3)
        Image -> crop maps; :func:`uncrop` maps predictions back.

    Examples
    --------
    >>> import numpy as np
    >>> crops, ms = crop_batch([np.zeros((40, 30), np.uint8)], None, (16, 16))
    >>> crops.shape, ms.shape
    ((1, 16, 16, 3), (1, 2, 3))
    """
    from kplearn._checks import check_boxes

    size = check_size(input_size, "input_size")
    imgs = [as_rgb(img, f"image {i}") for i, img in enumerate(images)]
    if not imgs:
        raise ValueError("crop_batch: no images")
    box_list = check_boxes(boxes, [(im.shape[1], im.shape[0]) for im in imgs])
    crops = np.empty((len(imgs), size[1], size[0], 3), np.uint8)
    matrices = np.empty((len(imgs), 2, 3))
    for i, (img, box) in enumerate(zip(imgs, box_list, strict=True)):
        matrices[i] = crop_matrix((img.shape[1], img.shape[0]), box, size, padding)
        crops[i] = crop_image(img, matrices[i], size)
    return crops, matrices


def uncrop(points, matrices) -> np.ndarray:
    """Map points predicted in crop pixels back to image pixels.

    Parameters
    ----------
    points : array, shape (N, ..., C) with C >= 2
        ``x, y`` in crop pixels, then any extra columns (visibility, scores), which
        are copied unchanged.
    matrices : array, shape (N, 2, 3)
        The image -> crop maps used for cropping (e.g. from :func:`crop_batch`). A
        mirrored map is refused: un-flip the keypoints (swap left and right) first.

    Returns
    -------
    ndarray, shape (N, ..., C), float64

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[[2.0, 0.0, 1.0], [0.0, 2.0, 1.0]]])
    >>> uncrop(np.array([[[5.0, 7.0, 0.9]]]), m).tolist()
    [[[2.0, 3.0, 0.9]]]
    """
    kp = np.array(points, dtype=np.float64)
    ms = np.asarray(matrices, dtype=np.float64)
    if kp.ndim < 2 or kp.shape[-1] < 2:
        raise ValueError(f"points: expected shape (N, ..., C>=2), got {kp.shape}")
    if ms.shape != (kp.shape[0], 2, 3):
        raise ValueError(f"matrices: expected shape ({kp.shape[0]}, 2, 3), got {ms.shape}")
    for i in range(len(kp)):
        if is_mirrored(ms[i]):
            raise ValueError(f"matrix {i} mirrors; un-flip the keypoints (flip_keypoints) first")
        kp[i, ..., :2] = apply_affine(kp[i, ..., :2], invert_matrix(ms[i]))
    return kp


# --- known homographies ------------------------------------------------------------------------


def centred_similarity(
    size: tuple[int, int], scale: float = 1.0, angle_deg: float = 0.0
) -> np.ndarray:
    """3×3 homography that zooms by ``scale`` and turns by ``angle_deg`` about the image centre.

    The centre is ``((W - 1) / 2, (H - 1) / 2)`` in the pixel-centre convention;
    a positive angle turns the content counter-clockwise on screen.

    Examples
    --------
    >>> H = centred_similarity((11, 11), angle_deg=90.0)
    >>> np.round(H @ [10.0, 5.0, 1.0], 6).tolist()  # the right edge's middle goes to the top
    [5.0, 0.0, 1.0]
    """
    w, h = (int(s) for s in size)
    if w < 1 or h < 1:
        raise ValueError(f"size must be positive (width, height), got {size!r}")
    if not (np.isfinite(scale) and scale > 0 and np.isfinite(angle_deg)):
        raise ValueError(f"scale must be finite and > 0 and the angle finite, got {scale}, {angle_deg}")
    c = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    t = np.deg2rad(angle_deg)
    # y points down, so [[cos, sin], [-sin, cos]] turns the content counter-clockwise on screen.
    rot = scale * np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]])
    H = np.eye(3)
    H[:2, :2] = rot
    H[:2, 2] = c - rot @ c
    return H


def warp_homography(image: np.ndarray, H: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Warp ``image`` so that pixel ``x`` moves to ``H x`` (pixel centres to pixel centres).

    ``cv2.warpPerspective`` with bilinear interpolation; pixels that see nothing are 0.
    ``image`` is ``uint8`` or ``float32``, grey or RGB; ``size`` is the output
    ``(width, height)`` (default: the input's).

    Examples
    --------
    >>> img = np.zeros((5, 5), np.uint8); img[1, 1] = 255
    >>> shift = np.array([[1.0, 0, 2], [0, 1, 1], [0, 0, 1]])
    >>> int(warp_homography(img, shift)[2, 3])
    255
    """
    img = np.asarray(image)
    if img.dtype not in (np.uint8, np.float32) or img.ndim not in (2, 3):
        raise ValueError(f"image: expected uint8 or float32 H×W or H×W×3, got {img.dtype} {img.shape}")
    H = np.asarray(H, dtype=np.float64)
    if H.shape != (3, 3) or not np.all(np.isfinite(H)):
        raise ValueError(f"H: expected a finite 3×3 matrix, got shape {H.shape}")
    out_size = (img.shape[1], img.shape[0]) if size is None else tuple(int(s) for s in size)
    return cv2.warpPerspective(img, H, out_size, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
