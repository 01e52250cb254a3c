"""Keypoint codecs: heatmap targets and decoders, coordinate normalisation, SimCC labels.

Numpy is canonical (:mod:`~kplearn.codecs.heatmap`, :mod:`~kplearn.codecs.refine`,
:mod:`~kplearn.codecs.coordinates`, :mod:`~kplearn.codecs.simcc`); the torch twins in
:mod:`~kplearn.codecs.torch_ops` and :func:`soft_argmax` serve training and batched
inference. Sizes are ``(width, height)``; coordinates follow kplearn's pixel-centre
convention (an image spans ``[-0.5, w - 0.5]``, a flip is ``x -> w - 1 - x``).

Example
-------
>>> import numpy as np
>>> from kplearn.codecs import encode_heatmaps, decode_heatmaps
>>> kp = np.array([[50.2, 60.7, 2.0], [0.0, 0.0, 0.0]])
>>> hm, w = encode_heatmaps(kp, (128, 128), (32, 32))
>>> xy, score = decode_heatmaps(hm, (128, 128), method="dark")
>>> np.round(xy[0], 2).tolist(), bool(np.isnan(xy[1]).all()), w.tolist()
([50.2, 60.7], True, [1.0, 0.0])
"""

from kplearn.codecs._checks import ENCODINGS
from kplearn.codecs.coordinates import (
    denormalize_keypoints,
    heatmap_expectation,
    heatmap_to_input,
    input_to_heatmap,
    normalize_keypoints,
    soft_argmax,
)
from kplearn.codecs.heatmap import DECODE_METHODS, decode_heatmaps, encode_heatmaps, heatmap_maximum
from kplearn.codecs.refine import blur_sigma, gaussian_blur, refine_dark, refine_quarter
from kplearn.codecs.simcc import decode_simcc, encode_simcc, simcc_bins
from kplearn.codecs.torch_ops import decode_heatmaps_torch, encode_heatmaps_torch

__all__ = [
    "ENCODINGS",
    "DECODE_METHODS",
    "encode_heatmaps",
    "decode_heatmaps",
    "heatmap_maximum",
    "refine_quarter",
    "refine_dark",
    "gaussian_blur",
    "blur_sigma",
    "input_to_heatmap",
    "heatmap_to_input",
    "normalize_keypoints",
    "denormalize_keypoints",
    "heatmap_expectation",
    "soft_argmax",
    "encode_simcc",
    "decode_simcc",
    "simcc_bins",
    "encode_heatmaps_torch",
    "decode_heatmaps_torch",
]
