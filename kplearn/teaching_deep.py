"""Small measurements and generators used by the deep-learning lessons (5–8).

The lesson notebooks keep their cells short by calling these; each one is an
ordinary, tested function that a student can read in one sitting.

- :func:`spread_ratio` — how far a regressor's predictions collapse towards the mean shape;
- :func:`stage_predictions` — the keypoints after each stage of a DeepPose cascade;
- :func:`heatmap_predictions` — a heatmap network's maps, decoded with several methods;
- :func:`decoding_errors` — quantisation error of heatmap encoding + decoding on exact targets;
- :func:`degrade` — a copy of a dataset at a set level of occlusion, rotation, blur or noise;
- :func:`time_per_image` — CPU milliseconds per image of any ``predict(images)`` function;
- :func:`canonical_faces5`, :func:`align_face` — similarity alignment of a face to fixed
  eye / nose / mouth positions;
- :func:`make_sequence`, :func:`track_lucas_kanade` — a smoothly moving image and pyramidal
  Lucas–Kanade point tracking through it;
- :func:`oracle_grouping`, :func:`coco_detections` — part-affinity grouping on exact target
  maps, and people as COCO results for :func:`kplearn.metrics.coco_keypoint_eval`;
- :func:`make_poses_3d`, :func:`project_poses`, :func:`mpjpe` — synthetic 3D skeletons
  (``coco17`` order), their 2D projections, and the 3D error used when lifting 2D to 3D;
- :func:`make_xrays` — X-ray-like knee images with six anatomical landmarks (layout ``"knee6"``).

Example
-------
>>> import numpy as np
>>> from kplearn.teaching_deep import decoding_errors
>>> err = decoding_errors(200, sigma=2.0, methods=("argmax", "dark"), seed=0)
>>> bool(err["dark"].mean() < 0.05 < err["argmax"].mean())
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.skeletons import Skeleton, faces68_to_faces5, register_skeleton

__all__ = [
    "spread_ratio",
    "stage_predictions",
    "heatmap_predictions",
    "decoding_errors",
    "DEGRADATIONS",
    "degrade",
    "time_per_image",
    "canonical_faces5",
    "align_face",
    "make_sequence",
    "track_lucas_kanade",
    "oracle_grouping",
    "coco_detections",
    "make_poses_3d",
    "project_poses",
    "mpjpe",
    "KNEE6",
    "make_xrays",
]


def _as_keypoints(arr, what: str) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim != 3 or a.shape[-1] not in (2, 3):
        raise ValueError(f"{what}: expected shape (N, K, 2|3), got {a.shape}")
    return a


# ---------------------------------------------------------------------------- lesson 5


def spread_ratio(pred, gt, mean_shape) -> float:
    """How much of the true shape variation the predictions keep (0: all collapsed to the mean).

    ``mean ‖pred − mean_shape‖ / mean ‖gt − mean_shape‖`` over the labelled keypoints
    (``v > 0`` in ``gt``). A regressor that has learnt nothing but the average face
    predicts the mean shape for every image and scores 0; predictions that vary as
    much as the truth score about 1.

    Parameters
    ----------
    pred : ndarray (N, K, 2|3)
        Predicted keypoints (a third column is ignored).
    gt : ndarray (N, K, 3)
        Ground truth with visibility.
    mean_shape : ndarray (K, 2)
        The shape to measure the spread from (e.g. the mean training shape).

    Example
    -------
    >>> import numpy as np
    >>> gt = np.zeros((2, 1, 3)); gt[..., 2] = 2; gt[1, 0, 0] = 4.0
    >>> mean = np.array([[2.0, 0.0]])
    >>> spread_ratio(np.array([[[1.0, 0.0]], [[3.0, 0.0]]]), gt, mean)
    0.5
    """
    p = _as_keypoints(pred, "pred")[..., :2]
    g = _as_keypoints(gt, "gt")
    m = np.asarray(mean_shape, dtype=np.float64)
    if p.shape != g[..., :2].shape or m.shape != g.shape[1:2] + (2,):
        raise ValueError(f"shapes differ: pred {p.shape}, gt {g.shape}, mean_shape {m.shape}")
    vis = g[..., 2] > 0 if g.shape[-1] == 3 else np.ones(g.shape[:2], bool)
    if not vis.any():
        raise ValueError("gt has no labelled keypoint")
    if not np.all(np.isfinite(p[vis])):
        raise ValueError("pred has NaN or infinite coordinates at labelled keypoints")
    d_pred = np.linalg.norm(p - m, axis=-1)[vis].mean()
    d_gt = np.linalg.norm(g[..., :2] - m, axis=-1)[vis].mean()
    if d_gt == 0:
        raise ValueError("every ground-truth shape equals mean_shape; the spread is undefined")
    return float(d_pred / d_gt)


def _network_outputs(model, images) -> tuple[dict, np.ndarray]:
    """Run a network on whole-image crops (no flip test): its output dict and the image -> crop maps."""
    import torch

    from kplearn.train.augment import normalize_images
    from kplearn.train.crops import check_image, crop_image, crop_matrix

    imgs = [check_image(im, f"image {i}") for i, im in enumerate(images)]
    if not imgs:
        raise ValueError("no images")
    w, h = model.input_size
    mats = np.stack([crop_matrix((im.shape[1], im.shape[0]), None, (w, h)) for im in imgs])
    crops = np.stack([crop_image(im, m, (w, h)) for im, m in zip(imgs, mats, strict=True)])
    x = normalize_images(torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous())
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x.to(next(model.parameters()).device))
    finally:
        model.train(was_training)
    return out, mats


def stage_predictions(model, images) -> list[np.ndarray]:
    """Keypoints ``(N, K, 2)`` in image pixels after each stage of a cascade (no flip test).

    Works for any coordinate network: a :class:`~kplearn.models.CascadeNet` reports
    one array per stage (``out["stages"]``), a plain regressor one array.
    Each image is cropped whole to the network input, as :func:`kplearn.train.predict` does.

    Example
    -------
    >>> import numpy as np
    >>> from kplearn.models import build_model
    >>> net = build_model("cascade", "faces68", preset="fast")
    >>> [p.shape for p in stage_predictions(net, [np.zeros((80, 80, 3), np.uint8)])]
    [(1, 68, 2), (1, 68, 2)]
    """
    from kplearn.train.predict import uncrop

    if getattr(model, "output_kind", None) != "coords":
        raise ValueError("stage_predictions needs a coordinate network (regression or cascade)")
    out, mats = _network_outputs(model, images)
    stages = out.get("stages", [out["coords"]])
    return [uncrop(model.to_pixels(c.float().cpu()).double().numpy(), mats) for c in stages]


def heatmap_predictions(
    model, images, methods: Sequence[str] = ("argmax", "quarter", "dark", "softargmax")
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A heatmap network's maps for whole images, decoded with each of ``methods`` (no flip test).

    Returns
    -------
    keypoints : dict
        method -> ``(N, K, 2)`` in image pixels (NaN where a map has no positive value).
    heatmaps : ndarray (N, K, H', W')
        The network's raw output maps (float64).

    Example
    -------
    >>> import numpy as np
    >>> from kplearn.models import build_model
    >>> net = build_model("heatmap", "faces68", preset="fast")
    >>> kp, maps = heatmap_predictions(net, [np.zeros((64, 64, 3), np.uint8)], ("argmax",))
    >>> kp["argmax"].shape, maps.shape
    ((1, 68, 2), (1, 68, 16, 16))
    """
    from kplearn.codecs import decode_heatmaps
    from kplearn.models.base import blur_kernel_for
    from kplearn.train.predict import uncrop

    if getattr(model, "output_kind", None) != "heatmaps":
        raise ValueError("heatmap_predictions needs a heatmap network")
    out, mats = _network_outputs(model, images)
    maps = out["heatmaps"].double().cpu().numpy()
    kernel = blur_kernel_for(float(model.config.get("sigma", 2.0)))
    result = {}
    for method in methods:
        xy, _ = decode_heatmaps(maps, model.input_size, method=method, blur_kernel=kernel)
        result[method] = uncrop(xy, mats)
    return result, maps


# ---------------------------------------------------------------------------- lesson 6


def decoding_errors(
    n: int = 500,
    input_size: tuple[int, int] = (128, 128),
    stride: int = 4,
    sigma: float = 2.0,
    methods: Sequence[str] = ("argmax", "quarter", "dark", "softargmax"),
    encoding: str = "unbiased",
    noise: float = 0.0,
    seed: int = 0,
    decode_encoding: str | None = None,
) -> dict[str, np.ndarray]:
    """Pixel error of encoding exact keypoints as heatmaps and decoding them back.

    ``n`` keypoints are drawn uniformly (sub-pixel) at least ``4 sigma`` heatmap pixels
    from the map border, so no Gaussian is cut by the border; each is encoded with
    :func:`kplearn.codecs.encode_heatmaps` (``encoding``), optionally corrupted with
    Gaussian noise of std ``noise`` (the target's peak is 1), and decoded with each of
    ``methods`` by :func:`kplearn.codecs.decode_heatmaps`, mapping heatmap pixels back
    with the inverse of ``decode_encoding`` (default: ``encoding``; give another to see
    what a mismatched convention costs). DARK's blur matches ``sigma``.

    Returns
    -------
    dict
        method -> ``(n,)`` Euclidean errors in input pixels.

    Example
    -------
    >>> err = decoding_errors(100, sigma=1.0, methods=("softargmax",), seed=1)
    >>> bool(err["softargmax"].max() < 0.01)
    True
    """
    from kplearn.codecs import decode_heatmaps, encode_heatmaps
    from kplearn.models.base import blur_kernel_for

    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    if not (sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be positive, got {sigma}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    w, h = int(input_size[0]), int(input_size[1])
    if w % stride or h % stride:
        raise ValueError(f"input size {input_size} is not a multiple of stride {stride}")
    hw, hh = w // stride, h // stride
    margin = 4.0 * sigma  # heatmap pixels
    if 2 * margin >= min(hw, hh) - 1:
        raise ValueError(
            f"sigma {sigma} is too large for a {hw}x{hh} heatmap (needs 4 sigma from each border)"
        )
    rng = np.random.default_rng(seed)
    # Uniform in heatmap pixels, then to input pixels with the unbiased map x = (x' + 0.5) s - 0.5.
    xy_hm = rng.uniform(margin, np.array([hw, hh]) - 1 - margin, size=(n, 2))
    xy = (xy_hm + 0.5) * stride - 0.5
    kp = np.concatenate([xy, np.full((n, 1), 2.0)], axis=1)[:, None, :]  # (n, 1, 3)
    maps, _ = encode_heatmaps(kp, (w, h), (hw, hh), sigma=sigma, method=encoding, dtype=np.float64)
    if noise > 0:
        maps = maps + rng.normal(0.0, noise, maps.shape)
    decode_as = encoding if decode_encoding is None else decode_encoding
    out = {}
    for method in methods:
        pred, _ = decode_heatmaps(maps, (w, h), method=method, encoding=decode_as,
                                  blur_kernel=blur_kernel_for(sigma))  # fmt: skip
        out[method] = np.linalg.norm(pred[:, 0] - xy, axis=-1)
    return out


# ---------------------------------------------------------------------------- lesson 7

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

    Example
    -------
    >>> import numpy as np
    >>> from kplearn.data.synthetic import make_faces
    >>> faces = make_faces(2, image_size=64, seed=0)
    >>> turned = degrade(faces, "rotation", 90.0)
    >>> x, y = faces[0].keypoints[0, 36, :2]  # 90 degrees counter-clockwise on screen:
    >>> np.allclose(turned[0].keypoints[0, 36, :2], [y, 63 - x])
    True
    """
    from kplearn.data.transforms import (
        add_noise,
        affine_matrix,
        gaussian_blur,
        transform_keypoints,
        warp_image,
    )

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


def time_per_image(predict: Callable, images, repeats: int = 3, warmup: int = 2) -> float:
    """Median wall-clock milliseconds per image of ``predict(images)`` on this machine.

    ``predict`` is called once on the first ``warmup`` images (so one-off setup is not
    timed), then ``repeats`` times on all of ``images``; the median call is divided by
    the number of images.

    Example
    -------
    >>> import numpy as np
    >>> ms = time_per_image(lambda ims: [im.mean() for im in ims], [np.zeros((8, 8))] * 4)
    >>> ms >= 0
    True
    """
    imgs = list(images)
    if not imgs:
        raise ValueError("no images to time")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if warmup > 0:
        predict(imgs[:warmup])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(imgs)
        times.append(time.perf_counter() - t0)
    return 1000.0 * float(np.median(times)) / len(imgs)


# ---------------------------------------------------------------------------- lesson 8: faces

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

    Example
    -------
    >>> p = canonical_faces5((100, 100))
    >>> bool(abs(p[0, 1] - p[1, 1]) < 1e-9)  # the eyes are level
    True
    """
    from kplearn.data.synthetic import FACE_TEMPLATE

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

    Example
    -------
    >>> from kplearn.data.synthetic import make_faces
    >>> face = make_faces(1, image_size=96, seed=3, rotation=(25, 25))[0]
    >>> crop, kp, m = align_face(face.image, face.keypoints[0], (64, 64))
    >>> eyes = kp[[36, 45], 1]
    >>> bool(abs(eyes[0] - eyes[1]) < 2.0)  # the eye line is level again
    True
    """
    from kplearn.classical.shape_model import similarity_transform
    from kplearn.data.transforms import transform_keypoints, warp_image

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


# ---------------------------------------------------------------------------- lesson 8: tracking


def make_sequence(
    image: np.ndarray,
    keypoints,
    n_frames: int = 40,
    seed: int = 0,
    *,
    shift: float = 0.08,
    rotation: float = 10.0,
    zoom: float = 0.08,
    noise: float = 2.0,
) -> tuple[list[np.ndarray], np.ndarray]:
    """A smooth random motion of one image: frames and the exact keypoints in each.

    Frame ``t`` is the image moved by a similarity about its centre whose parameters
    follow slow sinusoids (random frequency and phase per parameter): a shift of up
    to ``shift`` of the image size, a rotation of up to ``rotation`` degrees and a zoom of
    up to ``±zoom``. The border is reflected and each frame gets Gaussian sensor noise
    of std ``noise`` grey levels. Frame 0 is the image itself (plus noise).

    Returns
    -------
    frames : list of ndarray
        ``n_frames`` uint8 images of the input's size.
    keypoints : ndarray (n_frames, K, 3)
        The keypoints moved with each frame (``v = 0`` where they leave it).

    Example
    -------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).integers(0, 255, (32, 32), dtype=np.uint8)
    >>> frames, kp = make_sequence(img, np.array([[10.0, 12.0, 2]]), 5, noise=0.0)
    >>> len(frames), kp.shape, kp[0, 0].tolist()
    (5, (5, 1, 3), [10.0, 12.0, 2.0])
    """
    from kplearn.data.transforms import add_noise, affine_matrix, transform_keypoints, warp_image

    if n_frames < 1:
        raise ValueError(f"n_frames must be positive, got {n_frames}")
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 2 or kp.shape[1] != 3:
        raise ValueError(f"keypoints must be (K, 3), got {kp.shape}")
    img = np.asarray(image)
    h, w = img.shape[:2]
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.5, 1.5, 4)  # cycles over the sequence
    phase = rng.uniform(0, 2 * np.pi, 4)
    t = np.arange(n_frames) / max(n_frames, 1)
    # sin(2 pi f t + phase) - sin(phase): every parameter starts at 0 (frame 0 = the image).
    wave = np.sin(2 * np.pi * freq[:, None] * t + phase[:, None]) - np.sin(phase)[:, None]
    wave /= 2.0  # within [-1, 1]
    frames, moved = [], []
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    for i in range(n_frames):
        dx, dy = shift * w * wave[0, i], shift * h * wave[1, i]
        z = 1.0 + zoom * wave[3, i]
        m = affine_matrix(centre - (dx, dy), (w / z, h / z), rotation * wave[2, i], (w, h))
        frame = warp_image(img, m, (w, h), border="reflect")
        if noise > 0:
            frame = add_noise(frame, rng, noise)
        frames.append(frame)
        moved.append(transform_keypoints(kp, m, (w, h)))
    return frames, np.stack(moved)


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def track_lucas_kanade(
    frames: Sequence[np.ndarray], points, win_size: int = 15, levels: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Track points from frame to frame with pyramidal Lucas–Kanade optical flow (OpenCV).

    Each frame's points are found from the previous frame's (not from the first
    frame's), so small errors add up: the tracks *drift*. A point OpenCV loses keeps
    its last position and is marked lost from then on.

    Parameters
    ----------
    frames : sequence of ndarray
        uint8 frames (RGB or grey), all the same size.
    points : ndarray (K, 2)
        Positions in the first frame.
    win_size : int
        Side of the matching window in pixels.
    levels : int
        Pyramid levels above the full image.

    Returns
    -------
    tracks : ndarray (T, K, 2)
        Positions in every frame (``tracks[0] = points``).
    tracked : ndarray of bool (T, K)
        False from the frame where a point was lost.

    Example
    -------
    >>> import numpy as np
    >>> img = np.zeros((40, 40), np.uint8); img[15:25, 15:25] = 255
    >>> moved = np.roll(img, 2, axis=1)
    >>> tracks, ok = track_lucas_kanade([img, moved], np.array([[15.0, 15.0]]), win_size=9)
    >>> np.round(tracks[1, 0], 1).tolist(), bool(ok[1, 0])
    ([17.0, 15.0], True)
    """
    if len(frames) < 1:
        raise ValueError("no frames")
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.all(np.isfinite(pts)):
        raise ValueError(f"points must be a finite (K, 2) array, got shape {pts.shape}")
    if win_size < 3 or levels < 0:
        raise ValueError(f"need win_size >= 3 and levels >= 0, got {win_size}, {levels}")
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
    tracks = np.zeros((len(frames), len(pts), 2))
    tracked = np.zeros((len(frames), len(pts)), bool)
    tracks[0], tracked[0] = pts, True
    prev = _grey(np.asarray(frames[0]))
    for t in range(1, len(frames)):
        cur = _grey(np.asarray(frames[t]))
        if cur.shape != prev.shape:
            raise ValueError(f"frame {t} has shape {cur.shape}, frame 0 has {prev.shape}")
        p0 = tracks[t - 1].astype(np.float32).reshape(-1, 1, 2)
        p1, status, _ = cv2.calcOpticalFlowPyrLK(
            prev, cur, p0, None, winSize=(win_size, win_size), maxLevel=levels, criteria=criteria
        )
        ok = status.reshape(-1).astype(bool) & tracked[t - 1]
        tracks[t] = np.where(ok[:, None], p1.reshape(-1, 2), tracks[t - 1])
        tracked[t] = ok
        prev = cur
    return tracks, tracked


# ---------------------------------------------------------------------------- lesson 8: PAF


def oracle_grouping(
    data: KeypointDataset,
    stride: int = 4,
    sigma: float = 1.5,
    paf_width: float = 1.0,
    noise: float = 0.0,
    seed: int = 0,
    **group_kwargs,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Part-affinity grouping run on the *exact* target maps of each image (an upper bound).

    For every image the heatmaps and fields a perfect network would predict
    (:func:`kplearn.models.encode_targets`, at ``stride``) are optionally corrupted with
    Gaussian noise of std ``noise`` and grouped with :func:`kplearn.models.group_people`.
    What is lost here is lost by the grouping step alone.

    Returns
    -------
    list of (people (M, K, 3), scores (M,))
        Per image, in image pixels (third column: the peak value, 0 where not found).
    """
    from kplearn.models.paf import encode_targets, group_people

    rng = np.random.default_rng(seed)
    edges = data.skeleton.edges
    results = []
    for s in data:
        w, h = s.image_size
        if w % stride or h % stride:
            raise ValueError(f"image size {(w, h)} is not a multiple of stride {stride}")
        hm, paf = encode_targets(
            s.keypoints, (w, h), (w // stride, h // stride), edges, sigma, paf_width
        )
        if noise > 0:
            hm = hm + rng.normal(0.0, noise, hm.shape)
            paf = paf + rng.normal(0.0, noise, paf.shape)
        results.append(group_people(hm, paf, edges, (w, h), **group_kwargs))
    return results


def coco_detections(
    results: Sequence[tuple[np.ndarray, np.ndarray]], category_id: int = 1
) -> list[dict]:
    """People found per image -> COCO keypoint results (image ids ``1, 2, ...`` in order).

    The ids match :func:`kplearn.train.evaluate.coco_ground_truth`, so the pair goes
    straight into :func:`kplearn.metrics.coco_keypoint_eval`.

    Example
    -------
    >>> import numpy as np
    >>> dt = coco_detections([(np.ones((1, 2, 3)), np.array([0.9]))])
    >>> dt[0]["image_id"], len(dt[0]["keypoints"]), dt[0]["score"]
    (1, 6, 0.9)
    """
    dets = []
    for i, (people, scores) in enumerate(results):
        people = np.asarray(people, dtype=np.float64)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if people.ndim != 3 or people.shape[0] != len(scores) or people.shape[-1] != 3:
            raise ValueError(
                f"image {i}: expected people (M, K, 3) and M scores, got {people.shape}, {scores.shape}"
            )
        for person, score in zip(people, scores, strict=True):
            dets.append({"image_id": i + 1, "category_id": category_id,
                         "keypoints": person.reshape(-1).tolist(), "score": float(score)})  # fmt: skip
    return dets


# ---------------------------------------------------------------------------- lesson 8: lifting

# Bone lengths in metres (a 1.75 m adult, rounded).
_BONES = {"hip": 0.10, "spine": 0.50, "shoulder": 0.18, "upper_arm": 0.29, "forearm": 0.26,
          "thigh": 0.44, "shin": 0.42, "neck": 0.20}  # fmt: skip


def _rot_x(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2
    )


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2
    )


def _rot_z(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2
    )


def _apply(r, v):
    return np.einsum("nij,nj->ni", r, v)


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _limb(parent, direction, length):
    return parent + length * _unit(direction)


def _bent(upper_dir, forward, angle):
    """Rotate a limb direction towards ``forward`` (projected perpendicular to it) by ``angle``."""
    perp = forward - np.sum(forward * upper_dir, -1, keepdims=True) * upper_dir
    perp = _unit(perp + 1e-9)
    return np.cos(angle)[:, None] * upper_dir + np.sin(angle)[:, None] * perp


def make_poses_3d(n: int = 1000, seed: int = 0) -> np.ndarray:
    """Random 3D body poses ``(n, 17, 3)`` in COCO keypoint order, in metres.

    A stick figure with fixed bone lengths: random torso lean and twist, head turn,
    shoulder and hip swing, elbow and knee bend (elbows and knees only bend one way),
    then a random turn of the whole body about the vertical axis. Camera frame: ``x`` to
    the image's right, ``y`` *up*, ``z`` towards the camera; the mid-hip point is the
    origin. At turn 0 the person faces the camera (their left on the image's right).

    Example
    -------
    >>> poses = make_poses_3d(3, seed=0)
    >>> poses.shape, bool(np.allclose(poses[:, [11, 12]].mean(1), 0))
    ((3, 17, 3), True)
    >>> thigh = np.linalg.norm(poses[:, 13] - poses[:, 11], axis=-1)
    >>> bool(np.allclose(thigh, 0.44))
    True
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    rng = np.random.default_rng(seed)
    b = _BONES
    d = np.deg2rad

    def u(lo, hi):
        return rng.uniform(d(lo), d(hi), n)

    up = np.tile([0.0, 1.0, 0.0], (n, 1))
    left = np.tile([1.0, 0.0, 0.0], (n, 1))  # the subject's left, facing +z
    fwd = np.tile([0.0, 0.0, 1.0], (n, 1))
    torso = _rot_y(u(-30, 30)) @ _rot_z(u(-15, 15)) @ _rot_x(u(-10, 45))  # twist, side bend, lean
    t_up, t_left, t_fwd = _apply(torso, up), _apply(torso, left), _apply(torso, fwd)
    kp = np.zeros((n, 17, 3))
    kp[:, 11] = b["hip"] * left[0]
    kp[:, 12] = -b["hip"] * left[0]
    neck = b["spine"] * t_up
    kp[:, 5] = neck + b["shoulder"] * t_left
    kp[:, 6] = neck - b["shoulder"] * t_left
    head = _rot_y(u(-50, 50)) @ _rot_x(u(-20, 30))  # turn, nod (relative to the torso)
    h_fwd = _apply(torso @ head, fwd)
    h_up = _apply(torso @ head, up)
    h_left = _apply(torso @ head, left)
    centre = neck + b["neck"] * t_up
    kp[:, 0] = centre + 0.10 * h_fwd
    kp[:, 1] = centre + 0.08 * h_fwd + 0.03 * h_up + 0.035 * h_left
    kp[:, 2] = centre + 0.08 * h_fwd + 0.03 * h_up - 0.035 * h_left
    kp[:, 3] = centre + 0.08 * h_left
    kp[:, 4] = centre - 0.08 * h_left
    for side, (sh, el, wr) in ((1.0, (5, 7, 9)), (-1.0, (6, 8, 10))):
        # Upper arm: hanging down, swung forward (flexion) and out (abduction), in the torso frame.
        swing = torso @ _rot_z(side * u(0, 80)) @ _rot_x(-u(-40, 110))  # -: flexion is forward
        upper = _apply(swing, -up)
        kp[:, el] = _limb(kp[:, sh], upper, b["upper_arm"])
        fore = _bent(upper, t_fwd, u(0, 130))
        kp[:, wr] = _limb(kp[:, el], fore, b["forearm"])
    for side, (hp, kn, an) in ((1.0, (11, 13, 15)), (-1.0, (12, 14, 16))):
        swing = _rot_z(side * u(-5, 30)) @ _rot_x(-u(-20, 70))
        thigh = _apply(swing, -up)
        kp[:, kn] = _limb(kp[:, hp], thigh, b["thigh"])
        shin = _bent(thigh, -fwd, u(0, 100))  # knees bend backwards
        kp[:, an] = _limb(kp[:, kn], shin, b["shin"])
    turn = _rot_y(rng.uniform(-np.pi, np.pi, n))
    return np.einsum("nij,nkj->nki", turn, kp)


def project_poses(poses_3d, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Orthographic camera: ``(N, K, 3)`` camera-frame poses -> ``(N, K, 2)`` image-like points.

    ``u = x``, ``v = -y`` (image ``y`` points down), in the poses' units, plus optional
    Gaussian noise of std ``noise`` (a 2D detector's error). Depth ``z`` is what is lost.

    Example
    -------
    >>> project_poses(np.array([[[0.1, 0.5, -0.3]]])).tolist()
    [[[0.1, -0.5]]]
    """
    p = np.asarray(poses_3d, dtype=np.float64)
    if p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"poses_3d must be (N, K, 3), got {p.shape}")
    uv = np.stack([p[..., 0], -p[..., 1]], axis=-1)
    if noise > 0:
        uv = uv + np.random.default_rng(seed).normal(0.0, noise, uv.shape)
    return uv


def mpjpe(pred, gt) -> float:
    """Mean per-joint position error: mean Euclidean distance over all joints, in the input units.

    Example
    -------
    >>> mpjpe(np.zeros((1, 2, 3)), np.array([[[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]]]))
    3.0
    """
    p, g = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if p.shape != g.shape or p.shape[-1] != 3:
        raise ValueError(f"pred {p.shape} and gt {g.shape} must both be (N, K, 3)")
    return float(np.linalg.norm(p - g, axis=-1).mean())


# ---------------------------------------------------------------------------- lesson 8: X-rays

#: Six landmarks of a knee on an antero-posterior (AP) radiograph of a right knee (medial on
#: the image's right): a point on the femoral shaft axis, the lowest points of the two femoral
#: condyles, the outer corners of the tibial plateau and a point on the tibial shaft axis.
KNEE6 = register_skeleton(
    Skeleton(
        name="knee6",
        keypoint_names=(
            "femur_shaft",
            "lateral_femoral_condyle",
            "medial_femoral_condyle",
            "lateral_tibial_plateau",
            "medial_tibial_plateau",
            "tibia_shaft",
        ),
        edges=((0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5), (1, 3), (2, 4)),
        parts=("femur", "femur", "femur", "tibia", "tibia", "tibia"),
    )
)


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
    """X-ray-like knee radiographs with six landmarks (layout ``"knee6"``, see :data:`KNEE6`).

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

    Example
    -------
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
