"""Face alignment: a similarity that puts the eyes, nose tip and mouth corners in fixed places.

:func:`canonical_faces5` gives the five target positions in an aligned crop (the
framing of the synthetic and faces68 crops); :func:`align_face` warps a face onto
them with the least-squares similarity (rotation, uniform scale, translation), so
the face is turned upright and scaled without being distorted.
"""

from __future__ import annotations

import numpy as np

from kplearn.classical.shape_model import similarity_transform
from kplearn.data.transforms import transform_keypoints
from kplearn.geometry import warp_image
from kplearn.skeletons import faces68_to_faces5

__all__ = ["canonical_faces5", "align_face"]

# Framing of the canonical face: inter-ocular distance (outer eye corners) 0.375 of the
# width and the face centre (template (0, 0.55)) at (0.5, 0.516) of the frame, as the
# synthetic faces and the faces68 crops.
_IO_FRACTION = 0.375
_FACE_CENTRE = np.array([0.0, 0.55])
_FRAME_CENTRE = np.array([0.5, 0.516])


def canonical_faces5(output_size: tuple[int, int] = (64, 64)) -> np.ndarray:
    """Target positions ``(5, 2)`` of eye centres, nose tip and mouth corners in an aligned crop.

    The ``faces5`` points of the synthetic mean face
    (:data:`kplearn.data.synthetic.FACE_TEMPLATE`), placed with the framing of the
    synthetic and faces68 crops (inter-ocular distance 0.375 of the width).

    Examples
    --------
    >>> p = canonical_faces5((100, 100))
    >>> bool(abs(p[0, 1] - p[1, 1]) < 1e-9)  # the eyes are level
    True
    """
    from kplearn.data.synthetic.faces import FACE_TEMPLATE

    w, h = int(output_size[0]), int(output_size[1])
    if w < 8 or h < 8:
        raise ValueError(f"output_size must be at least 8x8, got {output_size}")
    tmpl = np.concatenate([FACE_TEMPLATE, np.full((68, 1), 2.0)], axis=1)
    five = faces68_to_faces5(tmpl)[:, :2]
    scale = _IO_FRACTION * min(w, h)
    centre = _FRAME_CENTRE * np.array([w, h]) - 0.5
    return centre + (five - _FACE_CENTRE) * scale


def align_face(
    image: np.ndarray, keypoints, output_size: tuple[int, int] = (64, 64)
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Warp a face so that its eyes, nose tip and mouth corners land on :func:`canonical_faces5`.

    The least-squares similarity (rotation, uniform scale, translation — no shear, so
    the face is not distorted) from the face's five points to the canonical ones is
    applied to the image and to all its keypoints.

    Parameters
    ----------
    image : ndarray
        uint8 image.
    keypoints : ndarray (68, 3) or (5, 3)
        ``faces68`` (the five points are derived) or ``faces5`` landmarks with visibility.
    output_size : (int, int)
        ``(width, height)`` of the aligned crop.

    Returns
    -------
    aligned : ndarray
        The aligned crop.
    keypoints : ndarray (K, 3)
        The input keypoints moved into it (``v = 0`` where they left the crop).
    matrix : ndarray (2, 3)
        The image -> crop similarity.

    Examples
    --------
    >>> from kplearn.data.synthetic import make_faces
    >>> face = make_faces(1, image_size=96, seed=3, rotation=(25, 25))[0]
    >>> crop, kp, m = align_face(face.image, face.keypoints[0], (64, 64))
    >>> eyes = kp[[36, 45], 1]
    >>> bool(abs(eyes[0] - eyes[1]) < 2.0)  # the eye line is level again
    True
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 2 or kp.shape[0] not in (68, 5) or kp.shape[1] != 3:
        raise ValueError(f"keypoints must be faces68 (68, 3) or faces5 (5, 3), got {kp.shape}")
    five = faces68_to_faces5(kp) if kp.shape[0] == 68 else kp
    weights = (five[:, 2] > 0).astype(np.float64)
    if weights.sum() < 2:
        raise ValueError("need at least two labelled points among the eyes, nose and mouth corners")
    src = np.where(weights[:, None] > 0, five[:, :2], 0.0)
    a, t = similarity_transform(src, canonical_faces5(output_size), weights)
    matrix = np.concatenate([a, t[:, None]], axis=1)
    size = (int(output_size[0]), int(output_size[1]))
    aligned = warp_image(image, matrix, size, border="replicate")
    return aligned, transform_keypoints(kp, matrix, size), matrix
