"""Keypoint codecs: heatmap targets and decoders, coordinate normalisation, SimCC labels, PAFs.

One concept per module, each with a symmetric ``encode`` / ``decode``: Gaussian
heatmaps (:mod:`~kplearn.codecs.heatmap`, refined by :mod:`~kplearn.codecs.refine`,
and the codec object :class:`HeatmapCodec` the heatmap networks delegate to),
coordinate normalisation (:mod:`~kplearn.codecs.coordinates`), SimCC labels
(:mod:`~kplearn.codecs.simcc`, :class:`SimCCCodec`) and part affinity fields with
their greedy grouping (:mod:`~kplearn.codecs.paf`). Numpy is canonical; the torch
twins in :mod:`~kplearn.codecs.torch_ops` and :func:`soft_argmax` serve training and
batched inference. Sizes are ``(width, height)``; coordinates follow kplearn's
pixel-centre convention (an image spans ``[-0.5, w - 0.5]``, a flip is ``x -> w - 1 - x``).

Keypoint arrays
---------------
This is the one statement of what the columns of a keypoint array mean; the rest
of kplearn refers here.

* Keypoints are ``(..., K, 3)`` arrays ``x, y, v`` (or ``(..., K, 2)`` without ``v``),
  ground truth and predictions alike. ``v`` is COCO's visibility flag: ``0`` not
  labelled / not predicted, ``1`` labelled but hidden, ``2`` labelled and visible.
* **The third column of a prediction is that flag, never a confidence**: ``2``
  where the model predicted the keypoint, ``0`` where it did not. Confidences are
  returned on their own, as ``scores (..., K)`` (``decode``,
  ``predict(..., return_scores=True)``) or one score per person
  (:func:`~kplearn.codecs.paf.group_people`).
* **Not predicted** (a heatmap with no positive value, a SimCC label with no
  peak): ``x, y`` are NaN and the score is 0. The metrics count NaN as a miss
  (:mod:`kplearn.metrics.distances`), and they ignore the third column of a
  prediction. The one exception is a multi-person result
  (:func:`~kplearn.codecs.paf.group_people`), which writes a keypoint a person
  lacks as ``0, 0, 0``, COCO's form for a missing keypoint (JSON has no NaN).

Examples
--------
>>> import numpy as np
>>> from kplearn.codecs import HeatmapCodec
>>> codec = HeatmapCodec((128, 128), (32, 32))
>>> hm, w = codec.encode(np.array([[50.2, 60.7, 2.0], [0.0, 0.0, 0.0]]))
>>> xy, score = codec.decode(hm)
>>> np.round(xy[0], 2).tolist(), bool(np.isnan(xy[1]).all()), score[1].item(), w.tolist()
([50.2, 60.7], True, 0.0, [1.0, 0.0])
"""

from kplearn.codecs import coordinates as _coordinates
from kplearn.codecs._checks import DECODE_METHODS, ENCODINGS

# The coordinate module's public names come in through its own __all__ (listed once, there).
from kplearn.codecs.coordinates import *  # noqa: F403
from kplearn.codecs.heatmap import decode_heatmaps, encode_heatmaps, heatmap_maximum
from kplearn.codecs.heatmap_codec import HeatmapCodec
from kplearn.codecs.paf import (
    encode_targets,
    find_peaks,
    group_people,
    limb_agreement,
    paf_flip_map,
    paf_targets,
)
from kplearn.codecs.refine import (
    blur_kernel_for,
    blur_sigma,
    gaussian_blur,
    refine_dark,
    refine_quarter,
)
from kplearn.codecs.simcc import SimCCCodec, decode_simcc, encode_simcc, simcc_bins
from kplearn.codecs.torch_ops import decode_heatmaps_torch, encode_heatmaps_torch

__all__ = [
    "HeatmapCodec",
    "SimCCCodec",
    "ENCODINGS",
    "DECODE_METHODS",
    "encode_heatmaps",
    "decode_heatmaps",
    "heatmap_maximum",
    "refine_quarter",
    "refine_dark",
    "gaussian_blur",
    "blur_sigma",
    "blur_kernel_for",
    *_coordinates.__all__,  # the coordinate module's list, so the two cannot drift apart
    "encode_simcc",
    "decode_simcc",
    "simcc_bins",
    "encode_heatmaps_torch",
    "decode_heatmaps_torch",
    "paf_targets",
    "encode_targets",
    "find_peaks",
    "limb_agreement",
    "group_people",
    "paf_flip_map",
]
