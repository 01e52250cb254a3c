"""Classical interest points: detectors, descriptors, matching and RANSAC homographies.

Every detector is one call that takes an image in the package's conventions (``uint8``,
``H×W`` grey or ``H×W×3`` **RGB**) and returns :class:`Keypoints`: positions ``xy``,
``scale``, ``angle`` (degrees) and ``response``, ordered by decreasing response.

=============  ==========================  ========================  ===========================
method         detector (OpenCV)           ``scale`` (px)            descriptor (``describe``)
=============  ==========================  ========================  ===========================
harris         ``goodFeaturesToTrack``     ``block_size``            SIFT at a fixed size
               with the Harris measure
shi-tomasi     ``goodFeaturesToTrack``     ``block_size``            SIFT at a fixed size
               (minimum eigenvalue)
fast           ``FastFeatureDetector``     7 (the circle)            SIFT at a fixed size
sift           ``SIFT_create`` (main       region diameter           SIFT, 128 floats, L2
               module, no non-free code)
orb            ``ORB_create``              patch size × level scale  rBRIEF, 32 bytes, Hamming
akaze          ``AKAZE_create``            region diameter           M-LDB, 61 bytes, Hamming
=============  ==========================  ========================  ===========================

Conventions
-----------
Coordinates
    ``x`` is the column and ``y`` the row, and integer coordinates are pixel **centres**
    (an image spans ``[-0.5, W - 0.5]``), as everywhere in kplearn. OpenCV's FAST, Harris,
    Shi-Tomasi and AKAZE already report positions that way. Two detectors do not, and are
    corrected here:

    * SIFT doubles the image before its first octave; with OpenCV's default up-sampling
      its positions are 0.25 px off, so SIFT is always created with
      ``enable_precise_upscale=True``, which removes the shift.
    * ORB multiplies a position found on pyramid level ``l`` by ``scale_factor ** l``,
      which treats pixel *corners* as the origin and ignores that level sizes are rounded;
      points on coarse levels end up more than 1 px off. Positions are mapped back with
      the exact ratio ``W / round(W / scale_factor ** l)`` in the pixel-centre convention.

    The check: a detector that respects the convention finds, in the image flipped left to
    right, each point at ``x' = W - 1 - x``. ``tests/test_interest.py`` checks this for
    every method.
Angle
    Degrees in ``[0, 360)`` measured from the +x axis towards +y (clockwise on screen,
    because y points down) — OpenCV's convention, shared by SIFT, ORB and AKAZE. Detectors
    without an orientation (Harris, Shi-Tomasi, FAST) report ``NaN``.
Scale
    OpenCV's ``KeyPoint.size``: the diameter in pixels of the neighbourhood the detector
    used (see the table).
Response
    The detector's own strength measure (Harris measure, minimum eigenvalue, FAST score,
    DoG contrast, ORB's Harris score, AKAZE's Hessian response); comparable only within one
    method.

Bad input
---------
Images must be ``uint8`` numpy arrays, ``H×W`` or ``H×W×3`` (RGB); anything else raises
``ValueError`` (``TypeError`` for something that is not an array). Images with a side
shorter than :data:`MIN_IMAGE_SIDE` (16 px, the side of SIFT's 4×4-cell descriptor
patch at its smallest) raise ``ValueError``. A constant image has no interest points: every detector returns
zero points, not an error. Above the minimum size a detector may still find nothing: ORB
ignores a border of ``edge_threshold`` (31) px, so it finds no points in images smaller
than 63 px.

Examples
--------
>>> import skimage.data
>>> image = skimage.data.astronaut()
>>> keypoints, descriptors = detect_and_describe(image, "orb", max_points=200)
>>> keypoints.xy.shape, descriptors.shape
((200, 2), (200, 32))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from kplearn._checks import check_plain_int, check_points
from kplearn.geometry import apply_homography

__all__ = [
    "METHODS",
    "MIN_IMAGE_SIDE",
    "DEFAULT_DESCRIPTOR",
    "Keypoints",
    "detect",
    "detect_harris",
    "detect_shi_tomasi",
    "detect_fast",
    "detect_sift",
    "detect_orb",
    "detect_akaze",
    "describe",
    "detect_and_describe",
    "descriptor_norm",
    "match_descriptors",
    "estimate_homography",
    "warp_points",
]

METHODS = ("harris", "shi-tomasi", "fast", "sift", "orb", "akaze")
"""Detector names accepted by :func:`detect` (``shi_tomasi`` is accepted too)."""

MIN_IMAGE_SIDE = 16
"""Smallest image side (px) accepted: about one SIFT descriptor patch (4×4 cells)."""

DEFAULT_DESCRIPTOR = {
    "harris": "sift",
    "shi-tomasi": "sift",
    "fast": "sift",
    "sift": "sift",
    "orb": "orb",
    "akaze": "akaze",
}
"""The descriptor :func:`describe` uses for each detector unless told otherwise."""

FIXED_DESCRIPTOR_SIZE = 3.2
"""Keypoint size (px) at which points without a scale of their own (Harris, Shi-Tomasi,
FAST, or points described by another detector's descriptor) get SIFT descriptors: the
size SIFT gives a point at its base scale (2σ, σ = 1.6). The descriptor then covers a 4×4
grid of 3σ = 4.8 px cells, about 19×19 px; larger fixed sizes match worse under viewpoint
change (measured: matching score of Harris points 0.67 at 3 px, 0.34 at 12 px)."""

_ORB_PATCH_SIZE = 31
_DESCRIPTOR_WIDTH = {"sift": 128, "orb": 32, "akaze": 61}
_DESCRIPTOR_DTYPE = {"sift": np.float32, "orb": np.uint8, "akaze": np.uint8}


# --------------------------------------------------------------------------------------
# The result type
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Keypoints:
    """Interest points of one image, as parallel arrays.

    Parameters
    ----------
    xy : ndarray, shape (N, 2)
        ``x`` (column), ``y`` (row) in pixels; integer values are pixel centres.
    scale : ndarray, shape (N,)
        Diameter (px) of the neighbourhood the detector used (OpenCV ``KeyPoint.size``).
    angle : ndarray, shape (N,)
        Orientation in degrees, ``[0, 360)``, from +x towards +y; ``NaN`` when the detector
        assigns none.
    response : ndarray, shape (N,)
        Detector strength (comparable within one method only).
    method : str
        The detector that produced the points (one of :data:`METHODS`), or ``""``.
    octave, class_id : ndarray, shape (N,), int
        OpenCV's bookkeeping (packed octave and layer; AKAZE's evolution level), kept so that
        OpenCV can describe the same points later. Not meaningful otherwise; default 0 / -1.

    Examples
    --------
    >>> kp = Keypoints(xy=np.array([[3.0, 4.0]]), scale=np.array([7.0]),
    ...                angle=np.array([np.nan]), response=np.array([1.0]))
    >>> len(kp), kp.to_array().shape
    (1, (1, 5))
    """

    xy: np.ndarray
    scale: np.ndarray
    angle: np.ndarray
    response: np.ndarray
    method: str = ""
    octave: np.ndarray | None = field(default=None, repr=False)
    class_id: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        xy = (
            np.asarray(self.xy, dtype=np.float64).reshape(-1, 2)
            if np.size(self.xy) == 0
            else np.asarray(self.xy, dtype=np.float64)
        )
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"Keypoints.xy must have shape (N, 2), got {xy.shape}")
        n = len(xy)
        arrays = {}
        for name in ("scale", "angle", "response"):
            value = np.asarray(getattr(self, name), dtype=np.float64).reshape(-1)
            if value.shape != (n,):
                raise ValueError(f"Keypoints.{name} must have shape ({n},), got {value.shape}")
            arrays[name] = value
        for name, default in (("octave", 0), ("class_id", -1)):
            value = getattr(self, name)
            value = np.full(n, default, np.int64) if value is None else np.asarray(value, np.int64)
            if value.shape != (n,):
                raise ValueError(f"Keypoints.{name} must have shape ({n},), got {value.shape}")
            arrays[name] = value
        object.__setattr__(self, "xy", xy)
        for name, value in arrays.items():
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return len(self.xy)

    def __getitem__(self, index) -> Keypoints:
        """Select points by slice, integer array or boolean mask (an int keeps one point)."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Keypoints(
            xy=self.xy[index],
            scale=self.scale[index],
            angle=self.angle[index],
            response=self.response[index],
            method=self.method,
            octave=self.octave[index],
            class_id=self.class_id[index],
        )

    def __repr__(self) -> str:
        return f"Keypoints(n={len(self)}, method={self.method!r})"

    @classmethod
    def empty(cls, method: str = "") -> Keypoints:
        """Zero points (what every detector returns for a constant image)."""
        zeros = np.zeros(0)
        return cls(np.zeros((0, 2)), zeros, zeros, zeros, method=method)

    def to_array(self) -> np.ndarray:
        """Return an ``(N, 5)`` float array of ``x, y, scale, angle, response``."""
        return np.column_stack([self.xy, self.scale, self.angle, self.response])


# --------------------------------------------------------------------------------------
# Input checks and conversions
# --------------------------------------------------------------------------------------
def _to_grey(image: np.ndarray) -> np.ndarray:
    """Validate an image in the package's conventions and return it as contiguous grey."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(
            f"image must be uint8 (got {image.dtype}); convert with skimage.util.img_as_ubyte"
        )
    if image.ndim == 3 and image.shape[2] == 3:
        if min(image.shape[:2]) == 0:
            raise ValueError(f"image is empty (shape {image.shape})")
        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    elif image.ndim == 2:
        grey = np.ascontiguousarray(image)
    else:
        raise ValueError(f"image must be H×W (grey) or H×W×3 (RGB), got shape {image.shape}")
    h, w = grey.shape
    if h == 0 or w == 0:
        raise ValueError(f"image is empty (shape {image.shape})")
    if min(h, w) < MIN_IMAGE_SIDE:
        raise ValueError(
            f"image of {w}×{h} px is smaller than the {MIN_IMAGE_SIDE}×{MIN_IMAGE_SIDE} px "
            "descriptor patch; upsample it or use a larger crop"
        )
    return grey


def _check_max_points(max_points: int | None) -> int | None:
    if max_points is None:
        return None
    # ValueError for a non-integer too, as the detectors have always raised.
    return check_plain_int(
        max_points,
        "max_points",
        1,
        type_error=ValueError,
        expected="a positive int or None",
        hint=" (or None for no limit)",
    )


def _normalise_method(method: str) -> str:
    name = str(method).lower().replace("_", "-")
    if name not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return name


def _strongest(keypoints: Keypoints, max_points: int | None) -> np.ndarray:
    """Indices of the strongest points, by decreasing response (stable on ties)."""
    order = np.argsort(-keypoints.response, kind="stable")
    return order if max_points is None else order[:max_points]


def _orb_level_ratio(level: np.ndarray, size: int, scale_factor: float) -> np.ndarray:
    """Exact size ratio between the image and ORB pyramid level ``level`` along one axis."""
    level_size = np.rint(size / scale_factor ** level.astype(np.float64))
    return size / level_size


def _from_cv(
    cv_keypoints, method: str, orb_geometry: tuple[int, int, float] | None = None
) -> Keypoints:
    """Convert OpenCV keypoints to :class:`Keypoints` in the pixel-centre convention."""
    n = len(cv_keypoints)
    if n == 0:
        return Keypoints.empty(method)
    xy = np.array([kp.pt for kp in cv_keypoints], dtype=np.float64)
    scale = np.array([kp.size for kp in cv_keypoints], dtype=np.float64)
    angle = np.array([kp.angle for kp in cv_keypoints], dtype=np.float64)
    angle[angle < 0] = np.nan  # OpenCV writes -1 for "no orientation"
    response = np.array([kp.response for kp in cv_keypoints], dtype=np.float64)
    octave = np.array([kp.octave for kp in cv_keypoints], dtype=np.int64)
    class_id = np.array([kp.class_id for kp in cv_keypoints], dtype=np.int64)
    if orb_geometry is not None:
        # ORB reports level coordinates times scale_factor**level; map them back exactly.
        width, height, scale_factor = orb_geometry
        nominal = scale_factor ** octave.astype(np.float64)
        for axis, size in ((0, width), (1, height)):
            ratio = _orb_level_ratio(octave, size, scale_factor)
            xy[:, axis] = (xy[:, axis] / nominal + 0.5) * ratio - 0.5
    return Keypoints(xy, scale, angle, response, method=method, octave=octave, class_id=class_id)


def _orb_scale_factor(keypoints: Keypoints) -> float:
    """Recover ORB's ``scale_factor`` from its points (``size = 31 × factor ** level``)."""
    coarse = keypoints.octave > 0
    if not coarse.any():
        return 1.2
    factors = (keypoints.scale[coarse] / _ORB_PATCH_SIZE) ** (1.0 / keypoints.octave[coarse])
    return round(float(np.median(factors)), 6)  # size is stored in float32


def _to_cv(keypoints: Keypoints, orb_geometry: tuple[int, int, float] | None = None) -> list:
    """Convert :class:`Keypoints` back to OpenCV keypoints (inverse of :func:`_from_cv`)."""
    xy = keypoints.xy.copy()
    if orb_geometry is not None:
        width, height, scale_factor = orb_geometry
        nominal = scale_factor ** keypoints.octave.astype(np.float64)
        for axis, size in ((0, width), (1, height)):
            ratio = _orb_level_ratio(keypoints.octave, size, scale_factor)
            xy[:, axis] = ((xy[:, axis] + 0.5) / ratio - 0.5) * nominal
    angle = np.where(np.isfinite(keypoints.angle), keypoints.angle, -1.0)
    return [
        cv2.KeyPoint(
            float(xy[i, 0]),
            float(xy[i, 1]),
            float(keypoints.scale[i]),
            float(angle[i]),
            float(keypoints.response[i]),
            int(keypoints.octave[i]),
            int(keypoints.class_id[i]),
        )
        for i in range(len(keypoints))
    ]


def _points_from_corners(
    grey: np.ndarray,
    corners: np.ndarray | None,
    response_map: np.ndarray,
    scale: float,
    method: str,
) -> Keypoints:
    if corners is None or len(corners) == 0:
        return Keypoints.empty(method)
    xy = corners.reshape(-1, 2).astype(np.float64)
    cols = np.clip(np.rint(xy[:, 0]).astype(int), 0, grey.shape[1] - 1)
    rows = np.clip(np.rint(xy[:, 1]).astype(int), 0, grey.shape[0] - 1)
    n = len(xy)
    return Keypoints(
        xy,
        np.full(n, float(scale)),
        np.full(n, np.nan),
        response_map[rows, cols].astype(np.float64),
        method=method,
    )


def _refine_subpixel(grey: np.ndarray, corners: np.ndarray | None, window: int) -> np.ndarray:
    if corners is None or len(corners) == 0:
        return corners
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 40, 0.001)
    return cv2.cornerSubPix(grey, corners.astype(np.float32), (window, window), (-1, -1), criteria)


# --------------------------------------------------------------------------------------
# Detectors
# --------------------------------------------------------------------------------------
def _good_features(
    image: np.ndarray,
    max_points: int | None,
    block_size: int,
    quality: float,
    min_distance: float,
    subpixel: bool,
    harris_k: float | None,
) -> Keypoints:
    """Harris (``harris_k`` given) or Shi-Tomasi corners via ``cv2.goodFeaturesToTrack``.

    Both rank corners of the same structure tensor and differ only in its measure, so
    they share selection, refinement and the response read back at each corner.
    """
    grey = _to_grey(image)
    max_points = _check_max_points(max_points)
    harris = harris_k is not None
    corners = cv2.goodFeaturesToTrack(
        grey,
        maxCorners=0 if max_points is None else max_points,
        qualityLevel=quality,
        minDistance=min_distance,
        blockSize=block_size,
        useHarrisDetector=harris,
        k=harris_k if harris else 0.04,  # OpenCV's default; Shi-Tomasi ignores it
    )
    if subpixel:
        corners = _refine_subpixel(grey, corners, max(2, block_size))
    if harris:
        response = cv2.cornerHarris(grey, block_size, 3, harris_k)
    else:
        response = cv2.cornerMinEigenVal(grey, block_size, 3)
    method = "harris" if harris else "shi-tomasi"
    keypoints = _points_from_corners(grey, corners, response, block_size, method)
    return keypoints[_strongest(keypoints, max_points)]


def detect_harris(
    image: np.ndarray,
    max_points: int | None = 500,
    *,
    block_size: int = 3,
    k: float = 0.04,
    quality: float = 0.01,
    min_distance: float = 5.0,
    subpixel: bool = False,
) -> Keypoints:
    """Harris corners (``det M - k trace(M)^2`` of the structure tensor ``M``).

    Parameters
    ----------
    image : ndarray
        ``uint8`` grey ``H×W`` or RGB ``H×W×3``.
    max_points : int or None
        Keep the strongest ``max_points`` corners (``None``: all).
    block_size : int
        Side of the window summing the structure tensor; also reported as ``scale``.
    k : float
        Harris sensitivity.
    quality : float
        Reject corners weaker than ``quality`` × the strongest corner.
    min_distance : float
        Minimum distance (px) between corners (stronger ones win).
    subpixel : bool
        Refine positions with ``cv2.cornerSubPix`` (otherwise positions are integer pixel
        centres).

    Returns
    -------
    Keypoints
        ``angle`` is ``NaN``; ``response`` is the Harris measure at the (rounded) position.

    Examples
    --------
    >>> image = np.zeros((64, 64), np.uint8); image[20:44, 20:44] = 255
    >>> sorted(detect_harris(image).xy.tolist())  # the square's corner pixels
    [[20.0, 20.0], [20.0, 43.0], [43.0, 20.0], [43.0, 43.0]]
    """
    return _good_features(image, max_points, block_size, quality, min_distance, subpixel, k)


def detect_shi_tomasi(
    image: np.ndarray,
    max_points: int | None = 500,
    *,
    block_size: int = 3,
    quality: float = 0.01,
    min_distance: float = 5.0,
    subpixel: bool = False,
) -> Keypoints:
    """Shi-Tomasi "good features to track" (the smaller eigenvalue of the structure tensor).

    Parameters are those of :func:`detect_harris` without ``k``; ``response`` is the minimum
    eigenvalue (``cv2.cornerMinEigenVal``) at the point.

    Examples
    --------
    >>> image = np.zeros((64, 64), np.uint8); image[20:44, 20:44] = 255
    >>> len(detect_shi_tomasi(image))
    4
    """
    return _good_features(image, max_points, block_size, quality, min_distance, subpixel, None)


def detect_fast(
    image: np.ndarray,
    max_points: int | None = 500,
    *,
    threshold: int = 20,
    nonmax_suppression: bool = True,
) -> Keypoints:
    """FAST-9/16 corners: 9 contiguous pixels of the radius-3 circle all brighter or darker.

    Parameters
    ----------
    image : ndarray
        ``uint8`` grey or RGB.
    max_points : int or None
        Keep the ``max_points`` highest FAST scores (``None``: all).
    threshold : int
        Intensity difference (grey levels) a circle pixel needs to count.
    nonmax_suppression : bool
        Keep only local maxima of the FAST score.

    Returns
    -------
    Keypoints
        ``scale`` is 7 (the circle's diameter), ``angle`` ``NaN``.

    Examples
    --------
    >>> import skimage.data
    >>> len(detect_fast(skimage.data.camera(), max_points=100))
    100
    """
    grey = _to_grey(image)
    max_points = _check_max_points(max_points)
    detector = cv2.FastFeatureDetector_create(
        threshold=int(threshold), nonmaxSuppression=bool(nonmax_suppression)
    )
    keypoints = _from_cv(detector.detect(grey, None), "fast")
    return keypoints[_strongest(keypoints, max_points)]


def _sift(max_points: int | None, n_octave_layers, contrast_threshold, edge_threshold, sigma):
    return cv2.SIFT_create(
        nfeatures=0 if max_points is None else max_points,
        nOctaveLayers=n_octave_layers,
        contrastThreshold=contrast_threshold,
        edgeThreshold=edge_threshold,
        sigma=sigma,
        enable_precise_upscale=True,  # default up-sampling shifts points by 0.25 px
    )


def detect_sift(
    image: np.ndarray,
    max_points: int | None = 500,
    *,
    n_octave_layers: int = 3,
    contrast_threshold: float = 0.04,
    edge_threshold: float = 10.0,
    sigma: float = 1.6,
) -> Keypoints:
    """SIFT: extrema of the difference of Gaussians over scale space (Lowe 2004).

    Uses ``cv2.SIFT_create`` from OpenCV's main module (the patent expired in 2020; no
    non-free build needed) with ``enable_precise_upscale=True`` for unbiased positions.

    Parameters
    ----------
    image : ndarray
        ``uint8`` grey or RGB.
    max_points : int or None
        Keep the ``max_points`` highest-contrast points (``None``: all).
    n_octave_layers, contrast_threshold, edge_threshold, sigma
        OpenCV's SIFT parameters (Lowe's values by default).

    Returns
    -------
    Keypoints
        A location with several dominant orientations appears once per orientation.

    Examples
    --------
    >>> import skimage.data
    >>> kp = detect_sift(skimage.data.astronaut(), max_points=50)
    >>> len(kp), bool(np.all((kp.angle >= 0) & (kp.angle < 360)))
    (50, True)
    """
    params = {
        "n_octave_layers": n_octave_layers,
        "contrast_threshold": contrast_threshold,
        "edge_threshold": edge_threshold,
        "sigma": sigma,
    }
    return _run_opencv(image, "sift", max_points, params, with_descriptors=False)[0]


def _orb(max_points, scale_factor, n_levels, edge_threshold, fast_threshold):
    return cv2.ORB_create(
        nfeatures=100_000 if max_points is None else max_points,
        scaleFactor=scale_factor,
        nlevels=n_levels,
        edgeThreshold=edge_threshold,
        firstLevel=0,
        WTA_K=2,
        scoreType=cv2.ORB_HARRIS_SCORE,
        patchSize=_ORB_PATCH_SIZE,
        fastThreshold=fast_threshold,
    )


def detect_orb(
    image: np.ndarray,
    max_points: int | None = 500,
    *,
    scale_factor: float = 1.2,
    n_levels: int = 8,
    edge_threshold: int = 31,
    fast_threshold: int = 20,
) -> Keypoints:
    """ORB: FAST corners on an image pyramid, ranked by the Harris measure, oriented by the
    intensity centroid (Rublee et al. 2011).

    Positions found on coarse pyramid levels are mapped back in the pixel-centre convention
    (see the module notes); ``scale`` is ``31 × scale_factor ** level``.

    Examples
    --------
    >>> import skimage.data
    >>> len(detect_orb(skimage.data.astronaut(), max_points=100))
    100
    """
    params = {
        "scale_factor": scale_factor,
        "n_levels": n_levels,
        "edge_threshold": edge_threshold,
        "fast_threshold": fast_threshold,
    }
    return _run_opencv(image, "orb", max_points, params, with_descriptors=False)[0]


def _akaze(max_points, threshold, n_octaves, n_octave_layers):
    # OpenCV 5 moved AKAZE to the contrib module xfeatures2d; 4.x had it in the main module.
    create = getattr(cv2, "AKAZE_create", None) or cv2.xfeatures2d.AKAZE_create
    return create(
        threshold=threshold,
        nOctaves=n_octaves,
        nOctaveLayers=n_octave_layers,
        max_points=-1 if max_points is None else max_points,
    )


def detect_akaze(
    image: np.ndarray,
    max_points: int | None = 500,
    *,
    threshold: float = 0.001,
    n_octaves: int = 4,
    n_octave_layers: int = 4,
) -> Keypoints:
    """AKAZE: Hessian extrema in a nonlinear (edge-preserving) scale space (Alcantarilla 2013).

    From ``cv2.xfeatures2d`` in OpenCV 5 (the main module in OpenCV 4).

    Examples
    --------
    >>> import skimage.data
    >>> len(detect_akaze(skimage.data.astronaut(), max_points=100))
    100
    """
    params = {"threshold": threshold, "n_octaves": n_octaves, "n_octave_layers": n_octave_layers}
    return _run_opencv(image, "akaze", max_points, params, with_descriptors=False)[0]


_DETECTORS = {
    "harris": detect_harris,
    "shi-tomasi": detect_shi_tomasi,
    "fast": detect_fast,
    "sift": detect_sift,
    "orb": detect_orb,
    "akaze": detect_akaze,
}


def detect(
    image: np.ndarray, method: str = "sift", max_points: int | None = 500, **params
) -> Keypoints:
    """Detect interest points with one of :data:`METHODS`.

    Parameters
    ----------
    image : ndarray
        ``uint8`` grey ``H×W`` or RGB ``H×W×3``.
    method : str
        ``"harris"``, ``"shi-tomasi"``, ``"fast"``, ``"sift"``, ``"orb"`` or ``"akaze"``.
    max_points : int or None
        Keep the strongest ``max_points`` (``None``: all).
    **params
        Keyword arguments of the method's function (``detect_<method>``).

    Returns
    -------
    Keypoints
        Ordered by decreasing response.

    Examples
    --------
    >>> import skimage.data
    >>> kp = detect(skimage.data.astronaut(), "fast", max_points=10, threshold=30)
    >>> kp.xy.shape, kp.method
    ((10, 2), 'fast')
    """
    return _DETECTORS[_normalise_method(method)](image, max_points, **params)


# --------------------------------------------------------------------------------------
# Descriptors
# --------------------------------------------------------------------------------------
def _kept_indices(sent: list, returned: list, by_class_id: bool) -> np.ndarray:
    """Which of the keypoints sent to OpenCV's ``compute`` came back, in the order returned.

    ``compute`` may drop points (ORB: too close to the border) and reorder them (ORB groups
    them by pyramid level). SIFT and ORB ignore ``class_id``, so it carries the index; AKAZE
    reads its scale level from ``class_id`` but keeps order, so its points are followed by
    position.
    """
    if by_class_id:
        return np.array([kp.class_id for kp in returned], dtype=np.int64)
    kept = []
    j = 0
    for kp in returned:
        while j < len(sent) and sent[j].pt != kp.pt:
            j += 1
        if j == len(sent):
            raise RuntimeError("OpenCV reordered keypoints while describing them")
        kept.append(j)
        j += 1
    return np.asarray(kept, dtype=np.int64)


def describe(
    image: np.ndarray,
    keypoints: Keypoints,
    method: str | None = None,
    *,
    descriptor_size: float = FIXED_DESCRIPTOR_SIZE,
) -> tuple[Keypoints, np.ndarray]:
    """Compute descriptors for given interest points.

    Parameters
    ----------
    image : ndarray
        The image the points were detected in (``uint8`` grey or RGB).
    keypoints : Keypoints
        Points to describe.
    method : {"sift", "orb", "akaze"} or None
        Descriptor; ``None`` takes :data:`DEFAULT_DESCRIPTOR` of ``keypoints.method``:
        Harris, Shi-Tomasi and FAST have no descriptor of their own and get **SIFT
        descriptors at the fixed size** ``descriptor_size`` (orientation 0, i.e. upright).
        Points described by another method's descriptor keep their own angle and are
        described on the base level: at ``descriptor_size`` by SIFT (say ORB points), with
        the 31 px patch by ORB (say FAST points). AKAZE descriptors need AKAZE points.
    descriptor_size : float
        SIFT keypoint size (px, :data:`FIXED_DESCRIPTOR_SIZE`) for points that are not
        SIFT's own.

    Returns
    -------
    keypoints : Keypoints
        The points OpenCV could describe, in their original order: ORB drops points
        closer than its ``edge_threshold`` to the border; SIFT keeps all.
    descriptors : ndarray
        One row per returned point: SIFT ``(N, 128) float32`` (L2),
        ORB ``(N, 32) uint8`` and AKAZE ``(N, 61) uint8`` (bit strings, Hamming).

    Examples
    --------
    >>> import skimage.data
    >>> image = skimage.data.camera()
    >>> kp, d = describe(image, detect_harris(image, max_points=20))
    >>> d.shape, d.dtype
    ((20, 128), dtype('float32'))
    """
    grey = _to_grey(image)
    if not isinstance(keypoints, Keypoints):
        raise TypeError(f"keypoints must be Keypoints, got {type(keypoints).__name__}")
    source = keypoints.method
    if method is None:
        if source not in DEFAULT_DESCRIPTOR:
            raise ValueError(
                f"keypoints.method is {source!r}; pass method='sift', 'orb' or 'akaze'"
            )
        method = DEFAULT_DESCRIPTOR[source]
    method = _normalise_method(method)
    if method not in ("sift", "orb", "akaze"):
        raise ValueError(f"{method} has no descriptor; use 'sift', 'orb' or 'akaze'")
    finite = np.isfinite(keypoints.xy).all(axis=1)
    if not finite.all():
        raise ValueError(f"{int((~finite).sum())} keypoints have non-finite coordinates")
    height, width = grey.shape
    if len(keypoints) == 0:
        return keypoints, np.zeros((0, _DESCRIPTOR_WIDTH[method]), _DESCRIPTOR_DTYPE[method])

    if method == source:
        native = keypoints
    elif method == "akaze":
        raise ValueError(
            "AKAZE descriptors need AKAZE keypoints (OpenCV stores the scale-space level in "
            f"them); got {source or 'unlabelled'} points"
        )
    else:
        # Another detector's points: fixed size, base level, own angle (upright when none).
        n = len(keypoints)
        native = Keypoints(
            keypoints.xy,
            np.full(n, float(descriptor_size) if method == "sift" else float(_ORB_PATCH_SIZE)),
            np.where(np.isfinite(keypoints.angle), keypoints.angle, 0.0),
            keypoints.response,
            method=method,
        )

    if method == "sift":
        extractor = _sift(None, 3, 0.04, 10.0, 1.6)
        sent = _to_cv(native)
    elif method == "orb":
        scale_factor = _orb_scale_factor(native)
        n_levels = max(8, int(native.octave.max()) + 1)
        extractor = _orb(None, scale_factor, n_levels, 31, 20)
        sent = _to_cv(native, orb_geometry=(width, height, scale_factor))
    else:
        extractor = _akaze(None, 0.001, 4, 4)
        sent = _to_cv(native)
    if method != "akaze":
        for index, kp in enumerate(sent):
            kp.class_id = index  # carries the index through compute (see _kept_indices)
    returned, descriptors = extractor.compute(grey, sent)
    kept = _kept_indices(sent, returned, by_class_id=method != "akaze")
    if descriptors is None or len(kept) == 0:
        return keypoints[kept], np.zeros((0, _DESCRIPTOR_WIDTH[method]), _DESCRIPTOR_DTYPE[method])
    order = np.argsort(kept, kind="stable")  # back to the caller's order
    return keypoints[kept[order]], descriptors[order]


def detect_and_describe(
    image: np.ndarray,
    method: str = "sift",
    max_points: int | None = 500,
    *,
    descriptor_size: float = FIXED_DESCRIPTOR_SIZE,
    **params,
) -> tuple[Keypoints, np.ndarray]:
    """Detect points and describe them with the method's default descriptor.

    SIFT, ORB and AKAZE use OpenCV's one-pass ``detectAndCompute``; Harris, Shi-Tomasi and
    FAST are described with SIFT at the fixed size ``descriptor_size`` (see
    :func:`describe`). Parameters as in :func:`detect`.

    Returns
    -------
    keypoints : Keypoints
        Ordered by decreasing response (only points that could be described).
    descriptors : ndarray
        Row ``i`` describes ``keypoints[i]``.

    Examples
    --------
    >>> import skimage.data
    >>> kp, d = detect_and_describe(skimage.data.astronaut(), "sift", max_points=100)
    >>> d.shape
    (100, 128)
    """
    method = _normalise_method(method)
    if method in ("harris", "shi-tomasi", "fast"):
        keypoints = _DETECTORS[method](image, max_points, **params)
        return describe(image, keypoints, "sift", descriptor_size=descriptor_size)
    return _run_opencv(image, method, max_points, params, with_descriptors=True)


def _run_opencv(
    image: np.ndarray,
    method: str,
    max_points: int | None,
    params: dict,
    with_descriptors: bool,
) -> tuple[Keypoints, np.ndarray | None]:
    """SIFT, ORB or AKAZE through OpenCV, in kplearn's conventions, strongest first."""
    grey = _to_grey(image)
    max_points = _check_max_points(max_points)
    params = dict(params)
    orb_geometry = None
    if method == "sift":
        extractor = _sift(
            max_points,
            params.pop("n_octave_layers", 3),
            params.pop("contrast_threshold", 0.04),
            params.pop("edge_threshold", 10.0),
            params.pop("sigma", 1.6),
        )
    elif method == "orb":
        scale_factor = float(params.pop("scale_factor", 1.2))
        if scale_factor <= 1.0:
            raise ValueError(f"scale_factor must be > 1, got {scale_factor}")
        extractor = _orb(
            max_points,
            scale_factor,
            params.pop("n_levels", 8),
            params.pop("edge_threshold", 31),
            params.pop("fast_threshold", 20),
        )
        orb_geometry = (grey.shape[1], grey.shape[0], scale_factor)
    else:
        extractor = _akaze(
            max_points,
            params.pop("threshold", 0.001),
            params.pop("n_octaves", 4),
            params.pop("n_octave_layers", 4),
        )
    if params:
        raise TypeError(f"unexpected parameters for {method}: {', '.join(sorted(params))}")
    if with_descriptors:
        cv_keypoints, descriptors = extractor.detectAndCompute(grey, None)
    else:
        cv_keypoints, descriptors = extractor.detect(grey, None), None
    keypoints = _from_cv(cv_keypoints, method, orb_geometry)
    # SIFT may return more than nfeatures (orientation copies share a response).
    order = _strongest(keypoints, max_points)
    if not with_descriptors:
        return keypoints[order], None
    if descriptors is None:
        descriptors = np.zeros((0, _DESCRIPTOR_WIDTH[method]), _DESCRIPTOR_DTYPE[method])
    else:
        descriptors = descriptors[order]
    return keypoints[order], descriptors


# --------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def descriptor_norm(descriptors: np.ndarray) -> str:
    """``"hamming"`` for ``uint8`` bit-string descriptors (ORB, AKAZE), else ``"l2"``."""
    return "hamming" if np.asarray(descriptors).dtype == np.uint8 else "l2"


def _distances(d1: np.ndarray, d2: np.ndarray, norm: str) -> np.ndarray:
    """All pairwise distances ``(N1, N2)``, computed in row blocks to bound memory."""
    out = np.empty((len(d1), len(d2)), dtype=np.float64)
    if norm == "l2":
        a = d1.astype(np.float64)
        b = d2.astype(np.float64)
        b_sq = (b**2).sum(axis=1)
    block = 256
    for start in range(0, len(d1), block):
        stop = min(start + block, len(d1))
        if norm == "hamming":
            xor = np.bitwise_xor(d1[start:stop, None, :], d2[None, :, :])
            out[start:stop] = _POPCOUNT[xor].sum(axis=2, dtype=np.int64)
        else:
            chunk = a[start:stop]
            sq = (chunk**2).sum(axis=1)[:, None] + b_sq[None, :] - 2.0 * chunk @ b.T
            out[start:stop] = np.sqrt(np.maximum(sq, 0.0))
    return out


def match_descriptors(
    d1: np.ndarray,
    d2: np.ndarray,
    ratio: float | None = 0.8,
    mutual: bool = True,
    norm: str | None = None,
) -> np.ndarray:
    """Match descriptors by nearest neighbour with Lowe's ratio test and a mutual check.

    Row ``i`` of ``d1`` is matched to its nearest row ``j`` of ``d2`` when

    * ratio test: ``dist(i, j) < ratio × dist(i, j2)``, with ``j2`` the second nearest row
      of ``d2`` (skipped when ``ratio`` is ``None`` or ``d2`` has a single row); a
      descriptor with two equally near candidates is therefore rejected as ambiguous;
    * mutual check (``mutual=True``): ``i`` is also the nearest row of ``d1`` to ``j`` (ties
      go to the lowest index), which makes the matches one-to-one.

    Parameters
    ----------
    d1, d2 : ndarray, shape (N1, D), (N2, D)
        Descriptors (same width and dtype kind).
    ratio : float or None
        Lowe's ratio, in ``(0, 1]`` (0.8 in Lowe 2004).
    mutual : bool
        Keep only mutual nearest neighbours.
    norm : {"l2", "hamming"} or None
        Distance; ``None`` picks :func:`descriptor_norm` of ``d1`` (Hamming for ``uint8``).

    Returns
    -------
    ndarray, shape (P, 2), int64
        Index pairs ``(i, j)``, sorted by ``i``.

    Examples
    --------
    >>> d1 = np.array([[0.0, 0.0], [10.0, 0.0]])
    >>> d2 = np.array([[10.0, 1.0], [0.0, 1.0]])
    >>> match_descriptors(d1, d2)
    array([[0, 1],
           [1, 0]])
    """
    d1 = np.asarray(d1)
    d2 = np.asarray(d2)
    for name, d in (("d1", d1), ("d2", d2)):
        if d.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array (N, D), got shape {d.shape}")
    if d1.shape[1] != d2.shape[1]:
        raise ValueError(f"descriptor widths differ: {d1.shape[1]} vs {d2.shape[1]}")
    norm = descriptor_norm(d1) if norm is None else str(norm).lower()
    if norm not in ("l2", "hamming"):
        raise ValueError(f"norm must be 'l2' or 'hamming', got {norm!r}")
    if norm == "hamming" and (d1.dtype != np.uint8 or d2.dtype != np.uint8):
        raise ValueError("Hamming matching needs uint8 bit-string descriptors")
    if norm == "l2" and not (np.isfinite(d1).all() and np.isfinite(d2).all()):
        raise ValueError("descriptors contain NaN or inf")
    if ratio is not None and not 0.0 < ratio <= 1.0:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    if len(d1) == 0 or len(d2) == 0:
        return np.zeros((0, 2), dtype=np.int64)

    dist = _distances(d1, d2, norm)
    rows = np.arange(len(d1))
    nearest = np.argmin(dist, axis=1)
    keep = np.ones(len(d1), dtype=bool)
    if ratio is not None and len(d2) >= 2:
        two = np.partition(dist, 1, axis=1)[:, :2]  # nearest and second-nearest distances
        keep &= two[:, 0] < ratio * two[:, 1]
    if mutual:
        keep &= np.argmin(dist, axis=0)[nearest] == rows
    return np.column_stack([rows[keep], nearest[keep]]).astype(np.int64)


# --------------------------------------------------------------------------------------
# Homographies
# --------------------------------------------------------------------------------------
def _check_points(points, name: str) -> np.ndarray:
    return check_points(points, name, flat=True)


def warp_points(points: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Map points ``(N, 2)`` through a homography: ``[x', y', w]^T = H [x, y, 1]^T``.

    Points that land at or behind the line at infinity (``w <= 1e-12``) have no image and
    come back as ``NaN`` (:func:`kplearn.geometry.apply_homography`, the one rule).

    Examples
    --------
    >>> warp_points(np.array([[1.0, 2.0]]), np.diag([2.0, 2.0, 1.0]))
    array([[2., 4.]])
    """
    return apply_homography(H, _check_points(points, "points"))


def estimate_homography(
    pts1: np.ndarray,
    pts2: np.ndarray,
    ransac_threshold: float = 3.0,
    seed: int = 0,
    *,
    max_iters: int = 2000,
    confidence: float = 0.995,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Fit ``H`` with ``pts2 ≈ warp_points(pts1, H)`` robustly (RANSAC, ``cv2.findHomography``).

    Parameters
    ----------
    pts1, pts2 : ndarray, shape (N, 2)
        Corresponding points (``N >= 4``), pixel-centre coordinates.
    ransac_threshold : float
        Reprojection error (px) below which a correspondence is an inlier.
    seed : int
        Seeds OpenCV's random generator (``cv2.setRNGSeed``) before the fit.
    max_iters, confidence
        RANSAC iteration cap and stopping confidence.

    Returns
    -------
    H : ndarray (3, 3) or None
        Normalised so that ``H[2, 2] == 1``; ``None`` when no homography fits (degenerate
        points, such as all collinear).
    inliers : ndarray (N,) bool
        RANSAC inliers (all ``False`` when ``H`` is ``None``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0, 100, (20, 2))
    >>> H, inliers = estimate_homography(p, p + [5.0, -3.0])
    >>> np.round(H[:2, 2], 6).tolist(), int(inliers.sum())
    ([5.0, -3.0], 20)
    """
    pts1 = _check_points(pts1, "pts1")
    pts2 = _check_points(pts2, "pts2")
    if len(pts1) != len(pts2):
        raise ValueError(f"pts1 and pts2 differ in length: {len(pts1)} vs {len(pts2)}")
    if len(pts1) < 4:
        raise ValueError(f"a homography needs at least 4 correspondences, got {len(pts1)}")
    if not ransac_threshold > 0:
        raise ValueError(f"ransac_threshold must be > 0, got {ransac_threshold}")
    cv2.setRNGSeed(int(seed))
    H, mask = cv2.findHomography(
        pts1.astype(np.float32),
        pts2.astype(np.float32),
        cv2.RANSAC,
        float(ransac_threshold),
        maxIters=int(max_iters),
        confidence=float(confidence),
    )
    if H is None or not np.isfinite(H).all() or abs(H[2, 2]) < 1e-12:
        return None, np.zeros(len(pts1), dtype=bool)
    return H / H[2, 2], mask.reshape(-1).astype(bool)
