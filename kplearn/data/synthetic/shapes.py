"""Objects with corner and centre keypoints: polygons, stars and checkerboards.

Each kind has its own layout (defined in :data:`kplearn.skeletons.SHAPE_LAYOUTS`):

============  ==============  ==========================================================
kind          layout          keypoints
============  ==============  ==========================================================
triangle      ``triangle3c``  ``corner_0..2``, ``centre``
quad          ``quad4c``      ``corner_0..3``, ``centre``
pentagon      ``pentagon5c``  ``corner_0..4``, ``centre``
star          ``star10c``     ``tip_0..4``, ``inner_0..4`` (``inner_i`` between tips ``i`` and ``i+1``), ``centre``
checkerboard  ``checker3x3``  the 3 x 3 inner corners of a 4 x 4 board, ``corner_r{row}c{col}``
============  ==============  ==========================================================

Corners are the exact vertices of the painted polygon. They are numbered
clockwise on screen starting from the one that points up before the shape is
rotated, so their names stay unambiguous while the rotation stays below half
the shape's symmetry angle (the default, 25 degrees, is safe for all kinds).
The centre is the area centroid of the polygon. A checkerboard's corners are
the images of the board's inner grid points under the (known) homography that
draws it.

Visibility follows COCO practice: ``v = 1`` for a keypoint under an
occluder, ``v = 0`` outside the image (which the default framing avoids),
else ``v = 2``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.synthetic import _render as R
from kplearn.data.synthetic.textures import (
    BACKGROUND_IMAGES,
    GREY_TEXTURES,
    grey_texture,
    random_crop,
)
from kplearn.skeletons import SHAPE_LAYOUTS, get_skeleton

__all__ = ["make_shapes", "SHAPE_KINDS", "polygon_centroid"]

MIN_IMAGE_SIZE = 24
_STREAM = 301


#: Shape kinds and the name of the layout each one emits.
SHAPE_KINDS = {kind: sk.name for kind, sk in SHAPE_LAYOUTS.items()}

_SIDES = {"triangle": 3, "quad": 4, "pentagon": 5}


def polygon_centroid(poly: np.ndarray) -> np.ndarray:
    """Area centroid of a simple polygon (shoelace formula).

    Examples
    --------
    >>> polygon_centroid(np.array([(0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (0.0, 2.0)])).tolist()
    [2.0, 1.0]
    """
    p = np.asarray(poly, dtype=np.float64)
    q = np.roll(p, -1, axis=0)
    cross = p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]
    area = cross.sum() / 2.0
    if abs(area) < 1e-12:
        return p.mean(0)
    return np.array([((p[:, 0] + q[:, 0]) * cross).sum(), ((p[:, 1] + q[:, 1]) * cross).sum()]) / (
        6.0 * area
    )


def _outline(rng: np.random.Generator, kind: str) -> np.ndarray:
    """Canonical outline (unit radius, corner 0 up, clockwise on screen) of a polygon or star."""
    if kind == "star":
        n = 5
        tip = np.arange(n) * (2 * math.pi / n) - math.pi / 2
        inner_r = rng.uniform(0.38, 0.55)
        ang = np.empty(2 * n)
        ang[0::2] = tip + rng.uniform(-0.08, 0.08, n)
        ang[1::2] = tip + math.pi / n + rng.uniform(-0.08, 0.08, n)
        rad = np.empty(2 * n)
        rad[0::2] = rng.uniform(0.9, 1.1, n)
        rad[1::2] = inner_r * rng.uniform(0.9, 1.1, n)
    else:
        n = _SIDES[kind]
        step = 2 * math.pi / n
        ang = np.arange(n) * step - math.pi / 2 + rng.uniform(-0.15, 0.15, n) * step
        rad = rng.uniform(0.8, 1.15, n)
    return np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)


def _checker(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Homography drawing a unit 4 x 4 board (grid points -2..2) with a mild perspective, and its quads."""
    src = np.array([(-2, -2), (2, -2), (2, 2), (-2, 2)], np.float32)
    dst = src + rng.uniform(-0.3, 0.3, (4, 2)).astype(np.float32)
    hmat = cv2.getPerspectiveTransform(src, dst).astype(np.float64)
    return hmat, src.astype(np.float64)


def _apply_h(hmat: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ hmat.T
    return p[:, :2] / p[:, 2:3]


def _render_shape(rng: np.random.Generator, kind: str, size: tuple[int, int], cfg: dict) -> tuple:
    w, h = size
    angle = R.uniform(rng, cfg["rotation"])
    aspect = math.exp(rng.uniform(-0.2, 0.2))
    shear = rng.uniform(-0.15, 0.15)
    # Canonical geometry -> affine (aspect, shear, rotation); scale and position come after.
    a = math.radians(angle)
    rot = np.array(
        [[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]
    )  # counter-clockwise on screen
    lin = rot @ np.array([[aspect, shear], [0.0, 1.0 / aspect]])
    if kind == "checkerboard":
        hmat, _ = _checker(rng)
        grid = np.stack(
            np.meshgrid(np.arange(-2.0, 3.0), np.arange(-2.0, 3.0)), axis=-1
        )  # (5, 5, 2) x, y
        pts5 = _apply_h(hmat, grid.reshape(-1, 2)) @ lin.T
        outline = pts5.reshape(5, 5, 2)[[0, 0, 4, 4], [0, 4, 4, 0]]
    else:
        outline = _outline(rng, kind) @ lin.T
    lo, hi = outline.min(0), outline.max(0)
    extent = max((hi - lo)[0] / w, (hi - lo)[1] / h)
    scale = R.uniform(rng, cfg["size"]) / extent
    free = np.array([w, h]) - scale * (hi - lo)
    # Keep the shape inside the image, with the centre of its box somewhere in the free room.
    offset = np.array(
        [rng.uniform(0.5, max(0.5, free[0] - 0.5)), rng.uniform(0.5, max(0.5, free[1] - 0.5))]
    )
    origin = offset - 0.5 - scale * lo

    def place(p: np.ndarray) -> np.ndarray:
        return p * scale + origin

    background = BACKGROUND_IMAGES[rng.integers(len(BACKGROUND_IMAGES))]
    img = random_crop(rng, background, w, h, zoom=(0.3, 1.5))
    tex = grey_texture(rng, GREY_TEXTURES[rng.integers(len(GREY_TEXTURES))], w, h, zoom=(0.5, 2.0))
    cv = R.Canvas(img)
    # Distractors behind the object: blobs with no keypoints.
    for _ in range(cfg["distractors"]):
        c = rng.uniform(0, 1, 2) * (w, h)
        r = rng.uniform(0.05, 0.15) * min(w, h)
        cv.add(
            [R.ellipse(c, (r, r * rng.uniform(0.4, 1.0)), rng.uniform(0, 180), 0.05)],
            rng.uniform(0, 255, 3),
        )
    l_bg = float(R.luminance(cv2.mean(img)[:3]))
    # A fill colour at least 60 grey levels from the background's mean luminance.
    fill = rng.uniform(0, 255, 3)
    target = (
        (l_bg + 60 + rng.uniform(0, 255 - (l_bg + 60)))
        if l_bg < 128
        else rng.uniform(0, max(1.0, l_bg - 60))
    )
    fill = np.clip(fill + (target - float(R.luminance(fill))), 0, 255)
    amp = float(rng.uniform(0.0, 0.2))
    if kind == "checkerboard":
        cells = pts5.reshape(5, 5, 2)
        pixels = place(cells.reshape(-1, 2)).reshape(5, 5, 2)
        dark = fill * 0.25
        light = np.clip(fill * 1.0 + 60, 0, 255)
        quads = {0: [], 1: []}
        for r in range(4):
            for c in range(4):
                quads[(r + c) % 2].append(pixels[[r, r, r + 1, r + 1], [c, c + 1, c + 1, c]])
        cv.add(quads[0], light, texture=tex, texture_amp=amp)
        cv.add(quads[1], dark, texture=tex, texture_amp=amp)
        keypoints = pixels[1:4, 1:4].reshape(-1, 2)
        drawn = pixels[[0, 0, 4, 4], [0, 4, 4, 0]]
    else:
        poly = place(outline)
        cv.add([poly], fill, texture=tex, texture_amp=amp)
        corners = (
            np.concatenate([poly[0::2], poly[1::2]]) if kind == "star" else poly
        )  # tips, then inner
        keypoints = np.concatenate([corners, polygon_centroid(poly)[None]])
        drawn = poly
    vis = np.full(len(keypoints), 2.0)
    occ_meta = []
    if rng.random() < cfg["occlusion"]:
        span = float(np.max(drawn.max(0) - drawn.min(0)))
        major = R.uniform(rng, cfg["occluder_size"]) * span
        minor = major * float(rng.uniform(0.4, 1.0))
        c = keypoints[rng.integers(len(keypoints))] + rng.normal(0, 0.1 * span, 2)
        opoly, ofill, m = R.textured_occluder(rng, c, major, minor, w, h, brightness=None)
        cv.add([opoly], ofill)
        vis[R.point_in_polygon(keypoints, opoly)] = 1.0
        occ_meta.append(m)
    cv.render()
    in_frame = (keypoints[:, 0] >= -0.5) & (keypoints[:, 0] <= w - 0.5)
    in_frame &= (keypoints[:, 1] >= -0.5) & (keypoints[:, 1] <= h - 0.5)
    vis[~in_frame] = 0.0
    blur_sigma = R.uniform(rng, cfg["blur"])
    noise_std = R.uniform(rng, cfg["noise"])
    image = R.finish(img, blur_sigma, noise_std, rng, cfg["grayscale"], cfg["noise_bank"])
    kp = np.concatenate([np.where(vis[:, None] > 0, keypoints, 0.0), vis[:, None]], axis=1)
    meta = {
        "generator": "shapes",
        "kind": kind,
        "rotation": angle,
        "aspect": aspect,
        "shear": shear,
        "scale": scale,
        "outline": drawn.tolist(),
        "background": background,
        "blur_sigma": blur_sigma,
        "noise_std": noise_std,
        "occluders": occ_meta,
        "true_keypoints": keypoints.copy(),
    }
    return image, kp, meta


@R.generator_doc(MIN_IMAGE_SIZE)
def make_shapes(
    n: int = 256,
    image_size: int | tuple[int, int] = 96,
    seed: int = 0,
    kind: str = "quad",
    *,
    size: float | tuple[float, float] = (0.45, 0.85),
    rotation: float | tuple[float, float] = 25.0,
    occlusion: float = 0.0,
    occluder_size: float | tuple[float, float] = (0.2, 0.45),
    distractors: int = 2,
    blur: float | tuple[float, float] = 0.5,
    noise: float | tuple[float, float] = 3.0,
    grayscale: bool = False,
    progress: bool = False,
) -> KeypointDataset:
    """Objects with corner and centre keypoints, one object per image.

    Images are drawn independently, so a larger ``n`` extends a smaller one with the
    same ``seed``.

    Parameters
    ----------
    {sample_parameters}
    kind : str
        One of :data:`SHAPE_KINDS`: ``"triangle"``, ``"quad"``, ``"pentagon"``,
        ``"star"`` or ``"checkerboard"``; the layout is ``SHAPE_KINDS[kind]``.
    size : float or (lo, hi)
        Extent of the object as a fraction of the image (of its limiting side);
        a number fixes it.
    rotation : float or (lo, hi)
        In-plane rotation in degrees, counter-clockwise on screen (``a``: ``[-a, a]``).
        Keep it below half the symmetry angle (60 for triangles, 45 for quads and
        checkerboards, 36 for pentagons and stars) for unambiguous corner names.
    occlusion : float
        Probability of a textured occluder over part of the object.
    occluder_size : float or (lo, hi)
        Occluder length as a fraction of the object's extent (a number fixes it).
    distractors : int
        Number of unlabelled blobs painted behind the object.
    {finish_parameters}

    Returns
    -------
    KeypointDataset
        Layout ``SHAPE_KINDS[kind]``; ``boxes`` and ``areas`` are the box and
        area of the drawn outline (the whole board for checkerboards); ``meta``
        holds the outline and the parameters of each image.

    Examples
    --------
    >>> ds = make_shapes(3, kind="star", seed=0)
    >>> ds.skeleton.name, ds[0].keypoints.shape
    ('star10c', (1, 11, 3))
    """
    n = R.check_count(n)
    seed = R.check_seed(seed)
    w, h = R.check_image_size(image_size, MIN_IMAGE_SIZE)
    if kind not in SHAPE_LAYOUTS:
        raise ValueError(f"unknown shape kind {kind!r}; use one of {', '.join(SHAPE_LAYOUTS)}")
    cfg = {
        "size": R.check_range(size, "size", low=0.05, high=1.0, scalar="fixed"),
        "rotation": R.check_range(rotation, "rotation", low=-180.0, high=180.0, scalar="symmetric"),
        "occlusion": R.check_probability(occlusion, "occlusion"),
        "occluder_size": R.check_range(
            occluder_size, "occluder_size", low=0.0, high=2.0, scalar="fixed"
        ),
        "distractors": R.check_count(distractors, "distractors"),
        "blur": R.check_range(blur, "blur", low=0.0, high=20.0),
        "noise": R.check_range(noise, "noise", low=0.0, high=128.0),
        "grayscale": bool(grayscale),
        "noise_bank": R.NoiseBank(seed, w, h),
    }
    skeleton = get_skeleton(SHAPE_KINDS[kind])
    samples = []
    for i in R.progress_bar(range(n), progress, f"synthetic {kind}s"):
        rng = R.sample_rng(seed, _STREAM, i)
        image, kp, meta = _render_shape(rng, kind, (w, h), cfg)
        outline = np.asarray(meta["outline"])
        lo, hi = outline.min(0), outline.max(0)
        x = np.abs(
            np.dot(outline[:, 0], np.roll(outline[:, 1], -1))
            - np.dot(np.roll(outline[:, 0], -1), outline[:, 1])
        )
        samples.append(
            Sample(
                image,
                kp[None],
                boxes=np.r_[lo, hi - lo][None],
                areas=np.array([0.5 * x]),
                name=f"{kind}{i:05d}",
                meta=meta,
            )
        )
    return KeypointDataset(samples, skeleton, name=f"synthetic-shapes-{kind}")
