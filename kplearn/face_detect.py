"""Faces in whole photographs: OpenCV's Haar detector, and detector box -> model crop.

A face landmark model is trained on crops built around the landmarks (for
faces68: a square of 1.5 × the longer side of the landmarks' box, centred on
it, with a little jitter). On a new photograph there are no landmarks yet, so
the crop is built around a face detector's box instead, in two steps:

1. detector box -> landmark box. OpenCV's bundled frontal-face cascade
   (``haarcascade_frontalface_default.xml``, inside the ``opencv-python`` wheel:
   nothing to download) returns a square that sits higher and is smaller than the
   landmarks' box (it leaves out most of the jaw). :data:`HAAR_TO_LANDMARK_BOX`
   is that relation, measured on the faces68 crops by
   ``benchmarks/bench_face_detect.py`` (output in ``benchmarks/results/face_detect.txt``):
   the landmark box's centre is the detector box's centre plus ``centre`` × its
   side, and its longer side is ``side`` × the detector's side.
2. landmark box -> crop. How a model's training crops frame the landmarks is
   measured on its own training data by :func:`crop_framing` (``side``: crop side
   over the landmarks' longer side, 1.5 for faces68; ``centre``: the crop centre's
   offset from the landmarks' centre, in crop sides) and stored in the run's
   ``config.json`` as ``"face_crop"`` (:func:`face_crop_config`).

Boxes are ``[x, y, w, h]`` in kplearn's pixel frame (integer coordinates are pixel
centres; a box spans ``[x, x + w] × [y, y + h]``), so the whole ``W × H`` image is
``[-0.5, -0.5, W, H]``.

Examples
--------
>>> import numpy as np
>>> boxes, scores = detect_faces(np.full((120, 120), 128, np.uint8))
>>> boxes.shape, scores.shape
((0, 4), (0,))
>>> crop_boxes([[176.5, 65.5, 95.0, 95.0]]).round(1).tolist()  # the astronaut's face box
[[154.2, 59.2, 140.7, 140.7]]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "CASCADE_FILE",
    "DETECTOR",
    "HAAR_TO_LANDMARK_BOX",
    "FACES68_CROP_FRAMING",
    "NoFaceFound",
    "detect_faces",
    "landmark_box",
    "landmark_box_from_detector",
    "crop_framing",
    "face_crop_for",
    "face_crop_config",
    "crop_boxes",
]

#: The cascade file, from ``cv2.data.haarcascades``.
CASCADE_FILE = "haarcascade_frontalface_default.xml"
#: How runs name this detector in ``config.json``.
DETECTOR = "opencv-haar-frontalface-default"

#: Detector box -> landmark box, in units of the detector box's side (medians over
#: the faces68 crops; see ``benchmarks/results/face_detect.txt``).
HAAR_TO_LANDMARK_BOX: dict[str, tuple[float, float] | float] = {
    "centre": (0.0052, 0.1744),
    "side": 0.9871,
}

#: The faces68 crop recipe: crop side = 1.5 × the landmarks' longer side, centred.
FACES68_CROP_FRAMING: dict[str, tuple[float, float] | float] = {"side": 1.5, "centre": (0.0, 0.0)}

_CASCADE = None


class NoFaceFound(ValueError):
    """No face was found in an image (a ``ValueError``, so the CLI reports it plainly)."""


def _cascade():
    global _CASCADE
    if _CASCADE is None:
        import cv2

        path = Path(cv2.data.haarcascades) / CASCADE_FILE
        cascade = cv2.CascadeClassifier(str(path))
        if cascade.empty():
            raise FileNotFoundError(f"OpenCV face cascade {str(path)!r} could not be loaded")
        _CASCADE = cascade
    return _CASCADE


def detect_faces(
    image: np.ndarray,
    *,
    scale_factor: float = 1.1,
    min_neighbors: int = 5,
    min_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Frontal faces in an image with OpenCV's Haar cascade.

    Parameters
    ----------
    image : ndarray
        uint8 grey ``H×W``, RGB ``H×W×3`` or RGBA ``H×W×4``.
    scale_factor, min_neighbors : float, int
        OpenCV's ``detectMultiScale`` settings (its defaults).
    min_size : int, optional
        Smallest face side in pixels; default 1/20 of the shorter image side (at least 24).

    Returns
    -------
    boxes : ndarray (M, 4)
        ``[x, y, w, h]`` in kplearn's pixel frame, best score first.
    scores : ndarray (M,)
        The cascade's confidence (the last stage's weighted vote; higher is surer,
        about 2 to 8 for clear faces). ``M = 0`` when no face is found.

    Examples
    --------
    >>> from skimage.data import astronaut
    >>> boxes, scores = detect_faces(astronaut())
    >>> len(boxes), boxes[0].tolist()
    (1, [176.5, 65.5, 95.0, 95.0])
    """
    import cv2

    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"detect_faces: expected a uint8 image, got dtype {img.dtype}")
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    if img.ndim == 3 and img.shape[2] == 3:
        grey = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
    elif img.ndim == 2:
        grey = np.ascontiguousarray(img)
    else:
        raise ValueError(f"detect_faces: expected H×W grey, RGB or RGBA, got shape {img.shape}")
    if min(grey.shape) < 24:
        return np.zeros((0, 4)), np.zeros(0)
    side = max(24, min(grey.shape) // 20) if min_size is None else int(min_size)
    rects, _, weights = _cascade().detectMultiScale3(
        grey, scaleFactor=scale_factor, minNeighbors=min_neighbors, minSize=(side, side),
        outputRejectLevels=True,
    )  # fmt: skip
    if len(rects) == 0:
        return np.zeros((0, 4)), np.zeros(0)
    boxes = np.asarray(rects, np.float64).reshape(-1, 4)
    boxes[:, :2] -= 0.5  # OpenCV's box starts at a pixel's index; its left edge is at -0.5
    scores = np.asarray(weights, np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    return boxes[order], scores[order]


def landmark_box(keypoints: np.ndarray) -> np.ndarray:
    """``[x, y, w, h]`` spanned by the labelled points of ``(K, 2|3)`` keypoints.

    >>> landmark_box(np.array([[10.0, 20.0], [30.0, 25.0]])).tolist()
    [10.0, 20.0, 20.0, 5.0]
    """
    kp = np.asarray(keypoints, np.float64)
    xy = kp[kp[:, 2] > 0, :2] if kp.shape[1] > 2 else kp[:, :2]
    if len(xy) == 0:
        raise ValueError("landmark_box: no labelled keypoint")
    lo, hi = xy.min(0), xy.max(0)
    return np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])


def landmark_box_from_detector(
    detector_boxes, mapping: dict | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Expected landmark-box centres ``(M, 2)`` and longer sides ``(M,)`` for detector boxes."""
    m = HAAR_TO_LANDMARK_BOX if mapping is None else mapping
    b = np.asarray(detector_boxes, np.float64).reshape(-1, 4)
    side = np.sqrt(b[:, 2] * b[:, 3])  # the cascade's boxes are square; be safe otherwise
    centre = b[:, :2] + b[:, 2:] / 2 + np.asarray(m["centre"], np.float64) * side[:, None]
    return centre, float(m["side"]) * side


def crop_framing(keypoints, image_sizes) -> dict:
    """How training crops frame their landmarks (medians over the crops).

    Parameters
    ----------
    keypoints : sequence of ``(K, 3)`` arrays
        One face per crop, in crop pixels.
    image_sizes : sequence of ``(w, h)``

    Returns
    -------
    dict
        ``"side"``: crop side over the landmarks' longer side; ``"centre"``: the crop
        centre minus the landmarks' centre, in crop sides.

    Examples
    --------
    >>> kp = np.array([[[39.5, 39.5, 2], [119.5, 99.5, 2]]])  # box centre (79.5, 69.5), side 80
    >>> crop_framing(kp, [(160, 160)])  # the crop centre (79.5, 79.5) is 10 px = 1/16 crop lower
    {'side': 2.0, 'centre': [0.0, 0.0625]}
    """
    sides, offsets = [], []
    for kp, (w, h) in zip(keypoints, image_sizes, strict=True):
        x, y, bw, bh = landmark_box(kp)
        longer = max(bw, bh)
        if longer <= 0:
            continue
        crop_side = float(max(w, h))
        sides.append(crop_side / longer)
        # image centre in kplearn's frame is ((w - 1) / 2, (h - 1) / 2)
        offsets.append(
            [((w - 1) / 2 - (x + bw / 2)) / crop_side, ((h - 1) / 2 - (y + bh / 2)) / crop_side]
        )
    if not sides:
        raise ValueError("crop_framing: no crop with a landmark box of positive size")
    off = np.median(np.asarray(offsets), axis=0)
    return {
        "side": round(float(np.median(sides)), 4),
        "centre": [round(float(v), 4) + 0.0 for v in off],
    }


def face_crop_for(data) -> dict | None:
    """The ``"face_crop"`` config entry for a model trained on ``data``, or None.

    Only crops of one real face in the ``faces68`` layout get one: the detector ->
    landmark box relation is measured for the 68-point landmark box of real faces,
    and the Haar cascade does not find kplearn's drawn synthetic faces (datasets
    named ``synthetic-...``). The framing is measured on ``data`` with :func:`crop_framing`.
    """
    if data.skeleton.name != "faces68" or not data.is_single_instance or len(data) == 0:
        return None
    if str(getattr(data, "name", "")).startswith("synthetic"):
        return None
    kps, sizes = [], []
    for s in data:
        if s.num_instances and (s.keypoints[0, :, 2] > 0).sum() >= 2:
            kps.append(s.keypoints[0])
            sizes.append((s.image.shape[1], s.image.shape[0]))
    if not kps:
        return None
    return face_crop_config(crop_framing(kps, sizes))


def face_crop_config(framing: dict | None = None) -> dict:
    """The ``"face_crop"`` entry of a face model's ``config.json``.

    ``framing`` is :func:`crop_framing` of the training data (the faces68 recipe if omitted).
    """
    fr = FACES68_CROP_FRAMING if framing is None else framing
    return {
        "detector": DETECTOR,
        "landmark_box": {
            "centre": list(HAAR_TO_LANDMARK_BOX["centre"]),
            "side": float(HAAR_TO_LANDMARK_BOX["side"]),
        },  # fmt: skip
        "crop": {"side": float(fr["side"]), "centre": [float(v) for v in fr["centre"]]},
    }


def crop_boxes(detector_boxes, face_crop: dict | None = None) -> np.ndarray:
    """Square crop boxes ``(M, 4)`` ``[x, y, w, h]`` for detector boxes, as the model was trained.

    ``face_crop`` is a run's ``"face_crop"`` config entry (:func:`face_crop_config` by default).
    """
    fc = face_crop_config() if face_crop is None else face_crop
    if fc.get("detector", DETECTOR) != DETECTOR:
        raise ValueError(
            f"the run's face crop is for detector {fc.get('detector')!r}, not {DETECTOR!r}"
        )
    centre, lm_side = landmark_box_from_detector(detector_boxes, fc["landmark_box"])
    side = float(fc["crop"]["side"]) * lm_side
    centre = centre + np.asarray(fc["crop"]["centre"], np.float64) * side[:, None]
    # a box [x, y, w, h] spans [x, x + w]: its centre is x + w / 2
    return np.column_stack([centre - side[:, None] / 2, side, side])
