"""What a codec alone loses: encode exact keypoints, decode them back, measure.

A network can be no better than its codec. These run the codecs on *exact*
targets (what a perfect network would output), so every error left is the
codec's own:

- :func:`decoding_errors` — heatmap encoding + decoding of single keypoints
  (:func:`~kplearn.codecs.encode_heatmaps`, :func:`~kplearn.codecs.decode_heatmaps`),
  per decoder, optionally with noise on the maps;
- :func:`oracle_grouping` — part-affinity targets grouped back into people
  (:mod:`kplearn.codecs.paf`); :func:`kplearn.data.formats.predictions_to_coco`
  turns the people found into COCO results for :func:`kplearn.metrics.coco_keypoint_eval`.

Examples
--------
>>> err = decoding_errors(200, sigma=2.0, methods=("argmax", "dark"), seed=0)
>>> bool(err["dark"].mean() < 0.05 < err["argmax"].mean())
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from kplearn.codecs.heatmap import decode_heatmaps, encode_heatmaps
from kplearn.codecs.paf import encode_targets, group_people
from kplearn.codecs.refine import blur_kernel_for

if TYPE_CHECKING:
    from kplearn.data.datasets import KeypointDataset

__all__ = ["decoding_errors", "oracle_grouping"]


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
    signed: bool = False,
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
        method -> ``(n,)`` Euclidean errors in input pixels, or with ``signed=True``
        the ``(n, 2)`` per-axis offsets ``decoded - true`` (their mean shows a
        systematic shift, which the Euclidean error hides).

    Examples
    --------
    >>> err = decoding_errors(100, sigma=1.0, methods=("softargmax",), seed=1)
    >>> bool(err["softargmax"].max() < 0.01)
    True
    >>> off = decoding_errors(100, stride=4, encoding="msra", decode_encoding="unbiased",
    ...                       methods=("argmax",), signed=True, seed=0)["argmax"]
    >>> off.shape, bool(np.allclose(off.mean(axis=0), 1.5, atol=0.25))  # (s - 1) / 2 per axis
    ((100, 2), True)
    """
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
        offset = pred[:, 0] - xy
        out[method] = offset if signed else np.linalg.norm(offset, axis=-1)
    return out


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
    (:func:`~kplearn.codecs.paf.encode_targets`, at ``stride``) are optionally corrupted with
    Gaussian noise of std ``noise`` and grouped with :func:`~kplearn.codecs.paf.group_people`.
    What is lost here is lost by the grouping step alone.

    Returns
    -------
    list of (people (M, K, 3), scores (M,))
        Per image, in image pixels (third column: the peak value, 0 where not found).

    Examples
    --------
    >>> from kplearn.data.synthetic import make_people_scenes
    >>> scenes = make_people_scenes(2, image_size=64, seed=0, max_people=2)
    >>> [people.shape[1:] for people, _ in oracle_grouping(scenes, stride=2)]
    [(17, 3), (17, 3)]
    """
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
