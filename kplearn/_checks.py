"""Argument checks shared by every kplearn module (private; one rule for each kind of input).

Every public function of kplearn checks what it is given with these helpers, so a
bad argument gets the same message wherever it is passed. They return the value
in the form the caller works with (a float64 copy of keypoints, ``(w, h)`` ints,
an RGB image) and raise with a message that starts with ``where`` (the argument,
record or file the value came from).

**TypeError or ValueError.** ``TypeError`` means the argument is a Python object of
a kind that cannot hold the value: a string, dict or ``None`` where a number or an
array is needed, a ``bool`` where an integer is needed. ``ValueError`` means the
object is of an accepted kind but its value is wrong: an array's dtype, shape or
entries (a float image where ``uint8`` is needed, a NaN coordinate, a negative
width), a number out of range. Problems found inside a *file* are always values:
the readers of :mod:`kplearn.data.formats` raise
:class:`~kplearn.data.formats.KplearnFormatError` (a ``ValueError``) for them,
even when a field of the file holds a string where a number belongs.

**Image limits.** An image file is refused before it is decoded when it is larger
than :data:`MAX_IMAGE_BYTES` on disk or its header declares more than
:data:`MAX_IMAGE_PIXELS` pixels (a few-kilobyte PNG can declare 20000 × 20000
pixels, 1.2 GB once decoded). Both limits are read from the environment variables
``KPLEARN_MAX_IMAGE_PIXELS`` and ``KPLEARN_MAX_IMAGE_BYTES`` at import, and can be
changed at run time with :func:`kplearn.data.formats.set_image_limits`.

Examples
--------
>>> import numpy as np
>>> check_size(64), check_size((80, 64))
((64, 64), (80, 64))
>>> check_int(True, "epochs")
Traceback (most recent call last):
...
TypeError: epochs: expected an integer, got bool
>>> as_rgb(np.zeros((4, 5), np.uint8)).shape
(4, 5, 3)
"""

from __future__ import annotations

import math
import numbers
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_BYTES",
    "MAX_COORDINATE",
    "kind",
    "check_int",
    "check_number",
    "check_size",
    "check_image",
    "as_rgb",
    "check_grey_float",
    "check_keypoints",
    "check_points",
    "check_box",
    "check_boxes",
    "check_affine",
    "check_homography",
    "image_file_size",
    "check_image_file",
]


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"environment variable {name}={text!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"environment variable {name}={text!r} must be positive")
    return value


#: Largest image (width × height, from the file header) the readers decode: 100 megapixels.
MAX_IMAGE_PIXELS: int = _env_int("KPLEARN_MAX_IMAGE_PIXELS", 100_000_000)
#: Largest image file (bytes on disk) the readers open: 512 MiB.
MAX_IMAGE_BYTES: int = _env_int("KPLEARN_MAX_IMAGE_BYTES", 512 * 2**20)
#: Largest coordinate magnitude (pixels) an annotation may hold. No image is that large,
#: and squares of larger values (areas, OKS denominators) lose all precision or overflow.
MAX_COORDINATE: float = 1e6


def kind(value: Any) -> str:
    """A short description of a value's type for messages (``"the string '6'"``, ``"list"``)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the string {value[:30]!r}"
    return type(value).__name__


# --- numbers and sizes ------------------------------------------------------------------------


def check_int(value: Any, where: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (an integral float such as ``3.0`` is accepted) within the bounds.

    ``TypeError`` for a bool, a string or any non-number; ``ValueError`` for a
    fractional number or one out of ``[minimum, maximum]``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: expected an integer, got {kind(value)}")
    if not isinstance(value, numbers.Integral):
        if not (math.isfinite(float(value)) and float(value).is_integer()):
            raise ValueError(f"{where}: expected a whole number, got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValueError(f"{where}: must be at least {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{where}: must be at most {maximum}, got {v}")
    return v


def check_plain_int(
    value: Any,
    name: str,
    minimum: int = 0,
    *,
    type_error: type[Exception] = TypeError,
    expected: str = "an int",
    hint: str = "",
) -> int:
    """A Python or numpy integer (not a bool, not an integral float) of at least ``minimum``.

    The strict counterpart of :func:`check_int`, for counts, seeds and limits where a float
    is more likely a mistake than a whole number.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        Its name, which every message starts with.
    minimum : int
        Smallest value accepted.
    type_error : type of Exception
        Raised for a value that is not an integer (``TypeError``; some callers have long
        raised ``ValueError`` and keep doing so).
    expected : str
        What the type message says was expected.
    hint : str
        Appended to the bound in the message, such as ``" (or None for no limit)"``.

    Returns
    -------
    int

    Examples
    --------
    >>> check_plain_int(np.int64(3), "n")
    3
    >>> check_plain_int(-1, "n")
    Traceback (most recent call last):
    ...
    ValueError: n must be >= 0, got -1
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise type_error(f"{name} must be {expected}, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}{hint}, got {value}")
    return int(value)


def check_number(
    value: Any, where: str, *, minimum: float | None = None, maximum: float | None = None,
    positive: bool = False,
) -> float:  # fmt: skip
    """A finite real number within the bounds (``TypeError`` for bools and non-numbers)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: expected a number, got {kind(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{where}: must be finite, got {v}")
    if positive and v <= 0:
        raise ValueError(f"{where}: must be positive, got {v:g}")
    if minimum is not None and v < minimum:
        raise ValueError(f"{where}: must be at least {minimum:g}, got {v:g}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{where}: must be at most {maximum:g}, got {v:g}")
    return v


def check_size(size: Any, where: str = "size", *, maximum: int | None = None) -> tuple[int, int]:
    """``(width, height)`` as two positive ints; a single int means a square.

    A string is refused with ``TypeError`` (``"64x64"`` is not a size, and
    ``"64"`` must not be read as ``(6, 4)``).

    Examples
    --------
    >>> check_size([32, 48.0])
    (32, 48)
    >>> check_size("64")
    Traceback (most recent call last):
    ...
    TypeError: size: expected an int or a (width, height) pair, got the string '64'
    """
    if isinstance(size, (numbers.Integral, np.integer)) and not isinstance(size, (bool, np.bool_)):
        size = (size, size)
    if isinstance(size, (str, bytes, dict)) or not hasattr(size, "__len__"):
        raise TypeError(f"{where}: expected an int or a (width, height) pair, got {kind(size)}")
    if len(size) != 2:
        raise ValueError(f"{where}: expected a (width, height) pair, got {len(size)} values")
    w, h = (check_int(v, f"{where}[{i}]", minimum=1, maximum=maximum) for i, v in enumerate(size))
    return w, h


# --- images -----------------------------------------------------------------------------------

_SIXTEEN_BIT_HINT = "convert it to 8 bits first, e.g. (image >> 8).astype(np.uint8)"


def _as_array(image: Any, where: str) -> np.ndarray:
    if isinstance(image, np.ndarray):
        return image
    if hasattr(image, "__array__") or isinstance(image, (list, tuple)):
        arr = np.asarray(image)
        if arr.dtype == object or arr.dtype.kind in "USV":
            raise TypeError(f"{where}: expected an image array, got {kind(image)} of {arr.dtype}")
        return arr
    raise TypeError(f"{where}: expected an image array, got {kind(image)}")


def check_image(image: Any, where: str = "image") -> np.ndarray:
    """A ``uint8`` image, ``H×W`` grey or ``H×W×3`` RGB, non-empty; returned unchanged.

    16-bit and float images are refused (with how to convert a 16-bit one), as are
    other channel counts; :func:`as_rgb` also accepts ``H×W×1`` and RGBA.
    """
    img = _as_array(image, where)
    if img.dtype == np.uint16:
        raise ValueError(f"{where}: 16-bit image; kplearn takes 8-bit images, {_SIXTEEN_BIT_HINT}")
    if img.dtype != np.uint8:
        raise ValueError(f"{where}: expected uint8, got dtype {img.dtype}")
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f"{where}: expected H×W grey or H×W×3 RGB, got shape {img.shape}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"{where}: empty image of shape {img.shape}")
    return img


def as_rgb(image: Any, where: str = "image") -> np.ndarray:
    """An image as contiguous ``H×W×3`` uint8 RGB.

    Accepted: grey ``H×W`` or ``H×W×1`` (repeated to three channels), RGB, and RGBA
    ``H×W×4`` (the alpha channel is dropped: the networks see colour only). Refused
    as :func:`check_image` refuses: 16-bit, float, other channel counts, empty.
    """
    img = _as_array(image, where)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    img = check_image(img, where)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return np.ascontiguousarray(img)


def check_grey_float(image: Any, where: str = "image") -> np.ndarray:
    """A 2-D grey image of finite values, as a float array (floats kept, integers as float64)."""
    img = _as_array(image, where)
    if img.ndim != 2:
        raise ValueError(f"{where}: expected a 2-D grey image, got shape {img.shape}")
    if not np.issubdtype(img.dtype, np.floating):
        img = img.astype(np.float64)
    if not np.all(np.isfinite(img)):
        raise ValueError(f"{where}: contains NaN or infinite values")
    return img


# --- keypoints, points, boxes -----------------------------------------------------------------


def _float_array(value: Any, where: str, copy: bool = False) -> np.ndarray:
    """``value`` as float64; strings, booleans and other non-numbers are a ``TypeError``."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise TypeError(f"{where}: expected an array of numbers, got {kind(value)}")
    try:
        arr = np.asarray(value)
    except ValueError:  # ragged nesting
        raise ValueError(f"{where}: rows of different lengths") from None
    if arr.dtype.kind in "USVb" or arr.dtype.kind == "O":
        try:
            if arr.dtype.kind in "USVb":
                raise TypeError
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{where}: expected numbers, got an array of {arr.dtype} ({kind(value)})"
            ) from None
    return np.array(arr, dtype=np.float64, copy=True) if copy else arr.astype(np.float64, copy=False)


def check_keypoints(
    keypoints: Any,
    where: str = "keypoints",
    *,
    columns: tuple[int, ...] = (3,),
    num_keypoints: int | None = None,
    visibility: str = "labels",
) -> np.ndarray:
    """Keypoints ``(..., K, C)`` as a float64 copy (callers may write into it).

    Parameters
    ----------
    keypoints : array-like
    where : str
    columns : tuple of int
        Accepted last-axis sizes: 3 (``x, y, v``), 2 (``x, y``, all labelled), or both.
    num_keypoints : int, optional
        Required ``K``.
    visibility : {"labels", "nonnegative"}
        ``"labels"``: ``v`` is a COCO label, 0, 1 or 2 (annotations). ``"nonnegative"``:
        any finite ``v >= 0`` (a score or weight column).

    Labelled keypoints (``v > 0``, or all of them without a third column) must have
    finite coordinates; unlabelled ones may hold anything.
    """
    kp = _float_array(keypoints, where, copy=True)
    if kp.ndim < 2 or kp.shape[-1] not in columns:
        want = " or ".join(f"(..., K, {c})" for c in columns)
        raise ValueError(f"{where}: expected shape {want}, got {kp.shape}")
    if num_keypoints is not None and kp.shape[-2] != num_keypoints:
        raise ValueError(f"{where}: {kp.shape[-2]} keypoints, expected {num_keypoints}")
    if kp.shape[-1] == 3:
        v = kp[..., 2]
        if visibility == "labels":
            bad = ~np.isin(v, (0, 1, 2))
            if bad.any():
                raise ValueError(
                    f"{where}: visibility must be 0, 1 or 2, found {np.unique(v[bad])[:5].tolist()}"
                )
        elif visibility == "nonnegative":
            if not np.all(np.isfinite(v)) or np.any(v < 0):
                raise ValueError(f"{where}: visibility must be finite and >= 0 (COCO 0, 1, 2)")
        else:
            raise ValueError(f"visibility must be 'labels' or 'nonnegative', got {visibility!r}")
        labelled = v > 0
    else:
        labelled = np.ones(kp.shape[:-1], bool)
    nonfinite = labelled & ~np.isfinite(kp[..., :2]).all(-1)
    if nonfinite.any():
        idx = tuple(int(i) for i in np.argwhere(nonfinite)[0])
        raise ValueError(f"{where}: labelled keypoint at index {idx} has a NaN or infinite coordinate")
    return kp


def check_points(points: Any, where: str = "points", *, flat: bool = False, finite: bool = True) -> np.ndarray:
    """Points ``(..., 2)`` as float64 (``flat=True``: exactly ``(N, 2)``); finite unless told."""
    p = _float_array(points, where)
    if (flat and p.ndim != 2) or p.ndim < 1 or p.shape[-1] != 2:
        raise ValueError(f"{where}: expected shape {'(N, 2)' if flat else '(..., 2)'}, got {p.shape}")
    if finite and not np.all(np.isfinite(p)):
        raise ValueError(f"{where}: contains NaN or infinite coordinates")
    return p


def check_box(box: Any, where: str = "box") -> np.ndarray:
    """A box ``[x, y, w, h]``: four finite numbers, ``w, h >= 0`` and not both 0."""
    b = _float_array(box, where).reshape(-1)
    if b.shape != (4,):
        raise ValueError(f"{where}: expected [x, y, w, h], got {box!r}")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"{where}: box has NaN or infinite entries: {b.tolist()}")
    if b[2] < 0 or b[3] < 0:
        raise ValueError(f"{where}: negative width or height (width and height must be >= 0): {b.tolist()}")
    if b[2] <= 0 and b[3] <= 0:
        raise ValueError(f"{where}: box has zero size (width and height both 0): {b.tolist()}")
    return b


def check_boxes(boxes: Any, image_sizes: list[tuple[int, int]]) -> list[np.ndarray | None]:
    """One box (or ``None``: the whole image) per image, each overlapping its image.

    ``boxes=None`` gives ``None`` for every image. A box is checked by
    :func:`check_box` and must overlap ``[-0.5, W-0.5] × [-0.5, H-0.5]``.
    """
    if boxes is None:
        return [None] * len(image_sizes)
    boxes = list(boxes)
    if len(boxes) != len(image_sizes):
        raise ValueError(f"got {len(image_sizes)} images but {len(boxes)} boxes")
    out: list[np.ndarray | None] = []
    for i, (box, (w, h)) in enumerate(zip(boxes, image_sizes, strict=True)):
        if box is None:
            out.append(None)
            continue
        b = check_box(box, f"box {i}")
        if b[0] + b[2] < -0.5 or b[1] + b[3] < -0.5 or b[0] > w - 0.5 or b[1] > h - 0.5:
            raise ValueError(f"box {i} {b.tolist()} lies outside its {w}×{h} image")
        out.append(b)
    return out


# --- matrices ---------------------------------------------------------------------------------


def check_affine(matrix: Any, where: str = "matrix") -> np.ndarray:
    """A finite 2×3 affine map (a 3×3 one with last row ``0, 0, 1`` is cut to 2×3)."""
    m = _float_array(matrix, where)
    if m.shape == (3, 3):
        if not np.allclose(m[2], (0.0, 0.0, 1.0)):
            raise ValueError(f"{where}: a 3×3 matrix must be affine (last row 0, 0, 1)")
        m = m[:2]
    if m.shape != (2, 3):
        raise ValueError(f"{where}: expected a 2×3 affine matrix, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{where}: matrix has NaN or infinite entries")
    return m


def check_homography(H: Any, where: str = "H", *, invertible: bool = False) -> np.ndarray:
    """A finite 3×3 matrix; with ``invertible``, also not singular."""
    m = _float_array(H, where)
    if m.shape != (3, 3):
        raise ValueError(f"{where} must be a 3×3 matrix, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{where} contains NaN or inf")
    if invertible and abs(np.linalg.det(m)) < 1e-12:
        raise ValueError(f"{where} is singular")
    return m


# --- image files ------------------------------------------------------------------------------


def image_file_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """``(width, height)`` an image file declares in its header, without decoding it.

    PNG, JPEG, BMP, GIF and WebP headers are read here; other formats through
    Pillow's lazy ``Image.open``. ``None`` when the header cannot be read (the
    decoder will then say what is wrong).
    """
    with open(path, "rb") as f:
        head = f.read(32)
        if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if head[:2] == b"BM" and len(head) >= 26:
            w, h = struct.unpack("<ii", head[18:26])
            return abs(w), abs(h)
        if head[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", head[6:10])
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return _webp_size(head)
        if head[:2] == b"\xff\xd8":
            f.seek(2)
            return _jpeg_size(f)
    try:
        import warnings

        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                return tuple(int(v) for v in im.size)  # type: ignore[return-value]
    except Exception:  # noqa: BLE001 - any failure: leave it to the decoder
        return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X":
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # pragma: no cover - rare in kplearn
        return None
    return None


def _jpeg_size(f) -> tuple[int, int] | None:
    while True:
        byte = f.read(1)
        while byte and byte != b"\xff":
            byte = f.read(1)
        while byte == b"\xff":
            byte = f.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            continue  # markers without a length
        length_bytes = f.read(2)
        if len(length_bytes) < 2:
            return None
        length = struct.unpack(">H", length_bytes)[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            data = f.read(5)
            if len(data) < 5:
                return None
            h, w = struct.unpack(">HH", data[1:5])
            return w, h
        f.seek(length - 2, os.SEEK_CUR)


def check_image_file(
    path: str | os.PathLike, *, max_pixels: int | None = None, max_bytes: int | None = None
) -> tuple[int, int] | None:
    """Refuse an image file that is too large to decode; return its declared ``(w, h)``.

    The size on disk is checked first (``os.stat``; nothing is read), then the
    header's width × height against ``max_pixels``. Limits default to
    :data:`MAX_IMAGE_BYTES` and :data:`MAX_IMAGE_PIXELS`. Raises ``ValueError``
    naming the file and the limit (and how to raise it).
    """
    max_bytes = MAX_IMAGE_BYTES if max_bytes is None else max_bytes
    max_pixels = MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    p = Path(path)
    n_bytes = p.stat().st_size
    if n_bytes > max_bytes:
        raise ValueError(
            f"{p}: file is {n_bytes / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit for "
            "an image (set_image_limits(max_bytes=...) or KPLEARN_MAX_IMAGE_BYTES raises it)"
        )
    size = image_file_size(p)
    if size is not None and size[0] * size[1] > max_pixels:
        raise ValueError(
            f"{p}: header declares {size[0]} × {size[1]} pixels, over the limit of "
            f"{max_pixels:,} pixels (set_image_limits(max_pixels=...) or "
            "KPLEARN_MAX_IMAGE_PIXELS raises it); not decoded"
        )
    return size
