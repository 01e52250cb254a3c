"""X-ray-like knee radiographs with six anatomical landmarks (layout ``"knee6"``).

The bones are drawn as outlines (femur with two condyles, tibia, fibula,
patella), so the landmarks on them are exact.
"""

from __future__ import annotations

import cv2
import numpy as np

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.skeletons import KNEE6

__all__ = ["make_xrays"]


def _ellipse_poly(cx, cy, rx, ry, n=48):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], -1)


def _knee_parts(rng) -> tuple[dict, np.ndarray]:
    """Bone outlines (canonical units: image height 1, joint at the origin, y down) and landmarks."""
    j = lambda lo, hi: rng.uniform(lo, hi)  # noqa: E731
    shaft_f, shaft_t = j(0.14, 0.17), j(0.12, 0.15)
    width = j(0.30, 0.36)  # condyle / plateau width
    gap = j(0.025, 0.06)  # joint space
    r_lat = (j(0.070, 0.080), j(0.050, 0.060))
    r_med = (j(0.080, 0.092), j(0.058, 0.068))  # the medial condyle is the larger one
    cy = -0.055
    lat_c, med_c = (-width / 4, cy), (width / 4, cy)
    femur = np.array([[-shaft_f / 2, -0.8], [shaft_f / 2, -0.8], [shaft_f / 2, -0.22],
                      [width / 2, cy], [-width / 2, cy], [-shaft_f / 2, -0.22]])  # fmt: skip
    top = r_med[1] + cy + gap  # tibial plateau line
    tibia = np.array([[-width / 2 - 0.01, top], [width / 2 + 0.01, top], [width / 2 - 0.03, top + 0.1],
                      [shaft_t / 2, top + 0.2], [shaft_t / 2, 0.8], [-shaft_t / 2, 0.8],
                      [-shaft_t / 2, top + 0.2], [-width / 2 + 0.03, top + 0.1]])  # fmt: skip
    fib_x = -width / 2 + 0.035
    fibula = np.array([[fib_x - 0.03, top + 0.06], [fib_x + 0.03, top + 0.05],
                       [fib_x + 0.015, 0.8], [fib_x - 0.02, 0.8]])  # fmt: skip
    parts = {
        "femur": [femur, _ellipse_poly(*lat_c, *r_lat), _ellipse_poly(*med_c, *r_med)],
        "tibia": [tibia],
        "fibula": [fibula],
        "patella": [_ellipse_poly(j(-0.02, 0.02), j(-0.16, -0.1), j(0.06, 0.075), j(0.08, 0.095))],
    }
    landmarks = np.array([
        [0.0, -0.33],
        [lat_c[0], cy + r_lat[1]],
        [med_c[0], cy + r_med[1]],
        [-width / 2 - 0.01, top],
        [width / 2 + 0.01, top],
        [0.0, top + 0.30],
    ])  # fmt: skip
    return parts, landmarks


def _fill(polys, transform, size, supersample: int) -> np.ndarray:
    s = supersample
    canvas = np.zeros((size[1] * s, size[0] * s), np.uint8)
    for p in polys:
        q = transform(p)
        # Pixel-centre convention: image point x -> supersampled (x + 0.5) s - 0.5.
        q = np.round(((q + 0.5) * s - 0.5) * 16).astype(np.int32)
        cv2.fillPoly(canvas, [q], 255, lineType=cv2.LINE_AA, shift=4)
    return cv2.resize(canvas, size, interpolation=cv2.INTER_AREA).astype(np.float64) / 255.0


def make_xrays(n: int = 200, image_size: int = 64, seed: int = 0) -> KeypointDataset:
    """X-ray-like knee radiographs with six landmarks (layout ``"knee6"``, :data:`kplearn.skeletons.KNEE6`).

    Bones are drawn as polygons and ellipses (femur with two condyles, tibia, fibula,
    patella) whose sizes, joint space, position, scale and in-plane rotation vary per
    image; the picture is the exponential attenuation of soft tissue plus bone, with a
    brighter cortical rim, blur and noise, bright bone on a dark background. The
    landmarks are defined on the drawn outlines, so they are exact.

    Parameters
    ----------
    n : int
        Number of images.
    image_size : int
        Side of the square grey images (at least 32).
    seed : int
        Image ``i`` depends only on ``seed`` and ``i``.

    Examples
    --------
    >>> ds = make_xrays(2, image_size=64, seed=0)
    >>> ds.skeleton.name, ds[0].image.shape, ds[0].keypoints.shape
    ('knee6', (64, 64), (1, 6, 3))
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if image_size < 32:
        raise ValueError(f"image_size must be at least 32, got {image_size}")
    size = (int(image_size), int(image_size))
    samples = []
    for i in range(n):
        rng = np.random.default_rng([seed, 7, i])
        parts, landmarks = _knee_parts(rng)
        scale = rng.uniform(0.7, 0.9) * image_size
        angle = np.deg2rad(rng.uniform(-12, 12))
        shift = rng.uniform(-0.06, 0.06, 2) * image_size
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        centre = np.array(size) / 2 - 0.5 + shift

        def transform(p, rot=rot, scale=scale, centre=centre):
            return p @ rot.T * scale + centre

        bone = {k: _fill(v, transform, size, 4) for k, v in parts.items()}
        density = bone["femur"] + bone["tibia"] + 0.7 * bone["fibula"] + 0.45 * bone["patella"]
        # Cortical bone: denser rim (where the blurred mask is still below 1 inside a bone).
        rim = np.clip(density - cv2.GaussianBlur(density, (0, 0), 1.2), 0, None)
        tissue = _fill([_ellipse_poly(0, 0, 0.42, 0.9)], transform, size, 2)
        tissue = cv2.GaussianBlur(tissue, (0, 0), 0.08 * image_size)
        attenuation = 0.4 * tissue + rng.uniform(1.0, 1.4) * density + 1.5 * rim
        picture = 1.0 - np.exp(-attenuation)
        picture = cv2.GaussianBlur(picture, (0, 0), rng.uniform(0.4, 1.0))
        picture = picture * rng.uniform(200, 250) + rng.uniform(5, 25)
        picture += rng.normal(0.0, rng.uniform(2, 6), picture.shape)
        image = np.clip(np.rint(picture), 0, 255).astype(np.uint8)
        kp = np.concatenate([transform(landmarks), np.full((6, 1), 2.0)], axis=1)
        meta = {
            "rotation": float(np.rad2deg(angle)),
            "scale": float(scale),
            "centre": centre.tolist(),
        }
        samples.append(
            Sample(image, kp[None], name=f"knee{i:05d}", group=f"knee{i:05d}", meta=meta)
        )
    return KeypointDataset(samples, KNEE6, "synthetic knee X-rays")
