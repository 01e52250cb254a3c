"""Degraded copies of a dataset: occlusion, rotation, blur or sensor noise at a set level.

:func:`degrade` measures robustness: the same held-out faces, each degraded by
one kind of corruption at one level (:data:`DEGRADATIONS` lists the kinds and
the unit of their level), with keypoints that follow the image.
"""

from __future__ import annotations

import numpy as np

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.transforms import add_noise, gaussian_blur, transform_keypoints
from kplearn.geometry import affine_matrix, warp_image

__all__ = ["DEGRADATIONS", "degrade"]

#: The degradations :func:`degrade` knows, with the unit of their level.
DEGRADATIONS = {
    "occlusion": "occluder side as a fraction of the face box's larger side",
    "rotation": "in-plane rotation in degrees (about the image centre)",
    "blur": "Gaussian blur sigma in pixels",
    "noise": "std of additive Gaussian noise in grey levels",
}


def _occlude(image: np.ndarray, kp: np.ndarray, box: np.ndarray, level: float, rng) -> tuple:
    img = image.copy()
    h, w = img.shape[:2]
    side = level * max(box[2], box[3])
    labelled = np.flatnonzero(kp[:, 2] > 0)
    centre = kp[rng.choice(labelled), :2] if len(labelled) else np.array([w, h]) / 2 - 0.5
    x0, y0 = centre - side / 2
    x1, y1 = x0 + side, y0 + side
    # Pixel (i, j) is covered when its centre lies in the square.
    cols = np.arange(w)
    rows = np.arange(h)
    cx = (cols >= x0) & (cols < x1)
    cy = (rows >= y0) & (rows < y1)
    colour = rng.integers(0, 256, 3 if img.ndim == 3 else 1).astype(np.uint8)
    img[np.ix_(cy, cx)] = colour if img.ndim == 3 else colour[0]
    under = (kp[:, 0] >= x0) & (kp[:, 0] < x1) & (kp[:, 1] >= y0) & (kp[:, 1] < y1)
    kp = kp.copy()
    kp[:, 2] = np.where(under & (kp[:, 2] == 2), 1.0, kp[:, 2])
    return img, kp


def degrade(data: KeypointDataset, kind: str, level: float, seed: int = 0) -> KeypointDataset:
    """A copy of a single-instance dataset with every image degraded at one level.

    Parameters
    ----------
    data : KeypointDataset
        One instance per image (e.g. face crops).
    kind : {"occlusion", "rotation", "blur", "noise"}
        See :data:`DEGRADATIONS`. ``"occlusion"`` paints a flat square of random colour
        centred on a random labelled keypoint (keypoints under it become ``v = 1``,
        still labelled: the truth has not moved); ``"rotation"`` turns the image and its
        keypoints about the image centre, reflecting at the border (points that leave
        the frame become ``v = 0``); ``"blur"`` and ``"noise"`` leave keypoints unchanged.
    level : float
        0 returns an unchanged copy.
    seed : int
        Seeds the occluder placement and the noise.

    Examples
    --------
    >>> from kplearn.data.synthetic import make_faces
    >>> faces = make_faces(2, image_size=64, seed=0)
    >>> turned = degrade(faces, "rotation", 90.0)
    >>> x, y = faces[0].keypoints[0, 36, :2]  # 90 degrees counter-clockwise on screen:
    >>> np.allclose(turned[0].keypoints[0, 36, :2], [y, 63 - x])
    True
    """
    if kind not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {kind!r}; choose from {', '.join(DEGRADATIONS)}")
    if not (np.isfinite(level) and level >= 0):
        raise ValueError(f"level must be a finite number >= 0, got {level!r}")
    if kind == "occlusion" and level > 2:
        raise ValueError(f"occlusion level is a fraction of the face box (0..2), got {level}")
    if not isinstance(data, KeypointDataset) or not data.is_single_instance:
        raise ValueError("degrade needs a KeypointDataset with one instance per image")
    rng = np.random.default_rng(seed)
    samples = []
    for s in data:
        img, kp = s.image, s.keypoints[0]
        if level > 0:
            if kind == "occlusion":
                img, kp = _occlude(img, kp, s.boxes[0], level, rng)
            elif kind == "rotation":
                h, w = img.shape[:2]
                m = affine_matrix(((w - 1) / 2, (h - 1) / 2), (w, h), level, (w, h))
                img = warp_image(img, m, (w, h), border="reflect")
                kp = transform_keypoints(kp, m, (w, h))
            elif kind == "blur":
                img = gaussian_blur(img, level)
            else:
                img = add_noise(img, rng, level)
        meta = dict(s.meta, degradation=(kind, float(level)))
        samples.append(Sample(img, kp[None], name=s.name, group=s.group, meta=meta))
    return KeypointDataset(samples, data.skeleton, f"{data.name} {kind}={level:g}")
