"""Image pairs related by known homographies, for interest-point repeatability and matching.

Each pair is a view of a larger scene (the *canvas*) and a second view of the
same scene through a random homography ``H``: the second image is
``warped(H @ x) = image(x)`` for every scene point ``x`` given in the first
image's pixel coordinates (pixel-centre convention, so ``H`` maps pixel
centres to pixel centres). Because both views are cut from the canvas, the
warped image has scene content where the first image has none (no black
borders), unless the view leaves the canvas; ``valid`` marks the warped pixels
that see the canvas.

Sources: ``"synthetic"`` paints random polygons, stars, ellipses, bars and
small checkerboards over a texture crop (many corners and blobs);
``"skimage"`` uses scikit-image's sample photographs; or pass your own
images (each is its own canvas, so large views leave it and ``valid`` shrinks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from kplearn.data.synthetic import _render as R
from kplearn.data.synthetic.textures import (
    BACKGROUND_IMAGES,
    GREY_TEXTURES,
    PHOTO_IMAGES,
    grey_texture,
    load_image,
    random_crop,
)
from kplearn.geometry import apply_homography, warp_homography

__all__ = ["HomographyPair", "make_homography_pairs", "apply_homography"]

_STREAM = 401
MIN_IMAGE_SIZE = 32


@dataclass
class HomographyPair:
    """Two views of one scene and the homography between them.

    Attributes
    ----------
    image : ndarray
        First view, ``uint8`` ``H x W x 3`` RGB (or ``H x W`` grey).
    warped : ndarray
        Second view, same size and type.
    homography : ndarray, shape (3, 3)
        Maps pixel coordinates of ``image`` to pixel coordinates of ``warped``
        (homogeneous, float64, ``H[2, 2] == 1``).
    name : str
        Identifier.
    valid : ndarray of bool, optional
        Pixels of ``warped`` that show the scene (all True unless the view left the canvas).
    meta : dict
        Drawn parameters (viewpoint corners, rotation, scale, photometric change, source).
    """

    image: np.ndarray
    warped: np.ndarray
    homography: np.ndarray
    name: str = ""
    valid: np.ndarray | None = None
    meta: dict = field(default_factory=dict)


def _synthetic_canvas(rng: np.random.Generator, cw: int, ch: int) -> np.ndarray:
    """A textured scene with many shapes (float32 RGB)."""
    img = random_crop(
        rng, BACKGROUND_IMAGES[rng.integers(len(BACKGROUND_IMAGES))], cw, ch, zoom=(0.5, 2.0)
    )
    img = 0.5 * img + 0.5 * float(
        rng.uniform(40, 200)
    )  # a calmer background, so that shapes stand out
    tex = grey_texture(
        rng, GREY_TEXTURES[rng.integers(len(GREY_TEXTURES))], cw, ch, zoom=(0.5, 2.0)
    )
    cv = R.Canvas(img)
    unit = min(cw, ch)
    n_shapes = int(rng.integers(25, 45) * cw * ch / (640 * 480))
    for _ in range(max(n_shapes, 4)):
        c = rng.uniform(0, 1, 2) * (cw, ch)
        r = unit * rng.uniform(0.02, 0.09)
        kind = rng.integers(5)
        color = rng.uniform(0, 255, 3)
        if kind == 0:  # random convex-ish polygon
            k = int(rng.integers(3, 7))
            ang = np.sort(rng.uniform(0, 2 * math.pi, k))
            rad = r * rng.uniform(0.6, 1.2, k)
            poly = c + np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
        elif kind == 1:  # star
            ang = np.arange(10) * math.pi / 5 + rng.uniform(0, math.pi)
            rad = np.where(np.arange(10) % 2 == 0, r, r * rng.uniform(0.35, 0.6))
            poly = c + np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)
        elif kind == 2:  # ellipse
            poly = R.ellipse(c, (r, r * rng.uniform(0.3, 1.0)), rng.uniform(0, 180), 0.05)
        elif kind == 3:  # bar
            box = np.array([(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)]) * (
                2.5 * r,
                r * rng.uniform(0.15, 0.4),
            )
            poly = R.similarity(box, 1.0, rng.uniform(0, 180), c)
        else:  # small checkerboard
            sq = r * 0.6
            th = rng.uniform(0, 180)
            dark, light = [], []
            for i in range(3):
                for j in range(3):
                    q = (
                        np.array([(0, 0), (1, 0), (1, 1), (0, 1)], float) + (i - 1.5, j - 1.5)
                    ) * sq
                    (dark if (i + j) % 2 else light).append(R.similarity(q, 1.0, th, c))
            cv.add(light, np.full(3, rng.uniform(180, 255)))
            cv.add(dark, np.full(3, rng.uniform(0, 60)))
            continue
        cv.add([poly], color, texture=tex, texture_amp=float(rng.uniform(0.0, 0.3)))
    cv.render()
    return img


def _photo_canvas(rng: np.random.Generator, w: int, h: int) -> tuple[np.ndarray, str]:
    name = PHOTO_IMAGES[rng.integers(len(PHOTO_IMAGES))]
    photo = load_image(name)
    ph, pw = photo.shape[:2]
    # Scale so that the canvas is at least 1.6 times the view in both directions.
    z = max(1.6 * w / pw, 1.6 * h / ph)
    canvas = cv2.resize(
        photo,
        (max(w + 2, round(pw * z)), max(h + 2, round(ph * z))),
        interpolation=cv2.INTER_AREA if z < 1 else cv2.INTER_LINEAR,
    )
    return canvas.astype(np.float32), name


def _sample_homography(
    rng: np.random.Generator, w: int, h: int, cfg: dict
) -> tuple[np.ndarray, dict]:
    """Random homography about the image centre: corner jitter (viewpoint), rotation, scale, shift."""
    c = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    corners = np.array([(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)], np.float64)
    v = cfg["viewpoint"]
    jitter = rng.uniform(-1, 1, (4, 2)) * v * 0.5 * np.array([w, h])
    angle = R.uniform(rng, cfg["rotation"])
    scale = math.exp(R.uniform(rng, (math.log(cfg["scale"][0]), math.log(cfg["scale"][1]))))
    shift = rng.uniform(-1, 1, 2) * cfg["translation"] * np.array([w, h])
    dst = R.similarity(corners - c + jitter, scale, angle, c + shift)
    hmat = cv2.getPerspectiveTransform(corners.astype(np.float32), dst.astype(np.float32)).astype(
        np.float64
    )
    hmat /= hmat[2, 2]
    return hmat, {
        "corners_warped": dst.tolist(),
        "rotation": angle,
        "scale": scale,
        "shift": shift.tolist(),
    }


def _is_reasonable(hmat: np.ndarray, w: int, h: int) -> bool:
    """Orientation kept, corners in convex position, and local scale within [1/4, 4] over the image."""
    corners = np.array([(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)], np.float64)
    q = apply_homography(hmat, corners)
    d = np.roll(q, -1, axis=0) - q
    cross = d[:, 0] * np.roll(d[:, 1], -1) - d[:, 1] * np.roll(d[:, 0], -1)
    if not (np.all(cross > 0) or np.all(cross < 0)):
        return False
    # Jacobian determinant of a homography at x is det(H) / (h3 . x)^3.
    den = np.concatenate([corners, np.ones((4, 1))], axis=1) @ hmat[2]
    if np.any(den <= 0):
        return False
    jac = np.linalg.det(hmat) / den**3
    return bool(np.all((jac > 0.25) & (jac < 4.0)))


def _to_uint8(a: np.ndarray) -> np.ndarray:
    return np.clip(a + 0.5, 0, 255).astype(np.uint8)


def _photometric(rng: np.random.Generator, img: np.ndarray, p: float) -> tuple[np.ndarray, dict]:
    """Brightness, contrast, gamma and noise change of strength ``p`` (0: none)."""
    if p <= 0:
        return img, {}
    brightness = float(rng.uniform(-1, 1)) * 60 * p
    contrast = math.exp(float(rng.uniform(-1, 1)) * 0.7 * p)
    gamma = math.exp(float(rng.uniform(-1, 1)) * 0.7 * p)
    noise_std = 8.0 * p
    out = np.clip(contrast * (img - 128.0) + 128.0 + brightness, 0, 255)
    out = 255.0 * (out / 255.0) ** gamma
    out = out + rng.standard_normal(out.shape, dtype=np.float32) * np.float32(noise_std)
    return out.astype(np.float32), {
        "brightness": brightness,
        "contrast": contrast,
        "gamma": gamma,
        "noise_std": noise_std,
    }


def make_homography_pairs(
    n: int = 8,
    image_size: int | tuple[int, int] = (320, 240),
    seed: int = 0,
    source: str | Sequence[np.ndarray] = "synthetic",
    *,
    viewpoint: float = 0.2,
    rotation: float | tuple[float, float] = 15.0,
    scale: float | tuple[float, float] = (0.8, 1.25),
    translation: float = 0.05,
    photometric: float = 0.0,
    grayscale: bool = False,
    progress: bool = False,
) -> list[HomographyPair]:
    """Pairs of views related by known, seeded homographies.

    Parameters
    ----------
    n : int
        Number of pairs.
    image_size : int or (int, int)
        Square size or ``(width, height)`` of both views (ignored for your own
        images, which keep their size).
    seed : int
        Seed of everything random; pair ``i`` depends only on ``seed`` and ``i``.
    source : {"synthetic", "skimage"} or sequence of ndarray
        Scene: painted shapes over a texture, scikit-image photographs, or your
        own ``uint8`` images (grey or RGB), used in turn.
    viewpoint : float
        Perspective strength in ``[0, 1)``: each image corner moves by up to
        ``viewpoint / 2`` of the image size before rotation and scaling.
    rotation : float or (lo, hi)
        In-plane rotation in degrees (``a``: ``[-a, a]``).
    scale : float or (lo, hi)
        Zoom range (drawn log-uniformly); a number ``a`` means ``(1/a, a)``.
    translation : float
        Shift of the centre, up to this fraction of the image size.
    photometric : float
        Strength in ``[0, 1]`` of a brightness, contrast, gamma and noise
        change applied to the warped view (0: none).
    grayscale : bool
        Return grey views.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of HomographyPair

    Examples
    --------
    >>> pairs = make_homography_pairs(1, image_size=(64, 48), seed=0)
    >>> pairs[0].image.shape, pairs[0].homography.shape
    ((48, 64, 3), (3, 3))
    """
    n = R.check_count(n)
    seed = R.check_seed(seed)
    w, h = R.check_image_size(image_size, MIN_IMAGE_SIZE)
    custom: list[np.ndarray] | None = None
    if isinstance(source, str):
        if source not in ("synthetic", "skimage"):
            raise ValueError(
                f"source must be 'synthetic', 'skimage' or a sequence of images, got {source!r}"
            )
    else:
        custom = [np.asarray(im) for im in source]
        if not custom:
            raise ValueError("source: empty sequence of images")
        for j, im in enumerate(custom):
            if im.dtype != np.uint8 or im.ndim not in (2, 3) or (im.ndim == 3 and im.shape[2] != 3):
                raise ValueError(
                    f"source image {j}: expected uint8 H x W or H x W x 3, got {im.dtype} {im.shape}"
                )
            if min(im.shape[:2]) < MIN_IMAGE_SIZE:
                raise ValueError(
                    f"source image {j}: {im.shape[1]}x{im.shape[0]} is smaller than {MIN_IMAGE_SIZE}"
                )
    if not 0.0 <= float(viewpoint) < 1.0:
        raise ValueError(f"viewpoint must be in [0, 1), got {viewpoint}")
    if isinstance(scale, (int, float)) and not isinstance(scale, bool):
        if scale < 1:
            raise ValueError(f"scale as a number must be >= 1 (it means (1/a, a)), got {scale}")
        scale = (1.0 / scale, float(scale))
    cfg = {
        "viewpoint": float(viewpoint),
        "rotation": R.check_range(rotation, "rotation", low=-180.0, high=180.0, scalar="symmetric"),
        "scale": R.check_range(scale, "scale", low=0.1, high=10.0, scalar="fixed"),
        "translation": R.check_level(translation, "translation", 0.0, 0.5),
    }
    photometric = R.check_level(photometric, "photometric", 0.0, 1.0)
    pairs = []
    for i in R.progress_bar(range(n), progress, "homography pairs"):
        rng = R.sample_rng(seed, _STREAM, i)
        if custom is not None:
            canvas = custom[i % len(custom)].astype(np.float32)
            if canvas.ndim == 2:
                canvas = np.repeat(canvas[..., None], 3, axis=2)
            vh, vw = canvas.shape[:2]
            origin = (0, 0)
            src_name = f"image{i % len(custom)}"
        else:
            vw, vh = w, h
            if source == "synthetic":
                canvas = _synthetic_canvas(rng, 2 * w, 2 * h)
                src_name = "synthetic"
            else:
                canvas, src_name = _photo_canvas(rng, w, h)
            ch_, cw_ = canvas.shape[:2]
            origin = (int(rng.integers(0, cw_ - w + 1)), int(rng.integers(0, ch_ - h + 1)))
        ch_, cw_ = canvas.shape[:2]
        ox, oy = origin
        view = np.array([(0, 0), (vw - 1, 0), (vw - 1, vh - 1), (0, vh - 1)], np.float64)
        for _ in range(200):
            hmat, hmeta = _sample_homography(rng, vw, vh, cfg)
            if not _is_reasonable(hmat, vw, vh):
                continue
            # Every warped pixel should see the canvas: the view's corners pulled back must lie on it.
            back = apply_homography(np.linalg.inv(hmat), view) + (ox, oy)
            if custom is not None or (np.all(back >= 0) and np.all(back <= (cw_ - 1, ch_ - 1))):
                break
        # Canvas coordinates -> warped view: first into the first view's frame, then through H.
        to_view = np.array([[1.0, 0.0, -ox], [0.0, 1.0, -oy], [0.0, 0.0, 1.0]])
        m = hmat @ to_view
        warped = warp_homography(canvas, m, (vw, vh))
        image = canvas[oy : oy + vh, ox : ox + vw]
        ys, xs = np.mgrid[0:vh, 0:vw]
        pre = apply_homography(np.linalg.inv(m), np.stack([xs.ravel(), ys.ravel()], axis=1))
        valid = (
            (pre[:, 0] >= 0) & (pre[:, 0] <= cw_ - 1) & (pre[:, 1] >= 0) & (pre[:, 1] <= ch_ - 1)
        ).reshape(vh, vw)
        warped, pmeta = _photometric(rng, warped, photometric)
        gray_in = custom is not None and custom[i % len(custom)].ndim == 2
        if grayscale or gray_in:
            image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
            warped = cv2.cvtColor(warped, cv2.COLOR_RGB2GRAY)
        meta = {
            "source": src_name,
            "origin": [ox, oy],
            "viewpoint": cfg["viewpoint"],
            **hmeta,
            "photometric": pmeta,
        }
        pairs.append(
            HomographyPair(
                _to_uint8(image),
                _to_uint8(warped),
                hmat,
                name=f"pair{i:05d}",
                valid=valid,
                meta=meta,
            )
        )
    return pairs
