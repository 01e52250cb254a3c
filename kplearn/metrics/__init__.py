"""Keypoint metrics: PCK, PCKh, AUC, EPE, NME, OKS and COCO keypoint AP/AR.

All functions take numpy arrays in image pixels, in the kplearn conventions
(keypoints ``(N, K, 3)`` with COCO visibility ``v``; boxes ``[x, y, w, h]``).

- :mod:`kplearn.metrics.distances` — :func:`pck`, :func:`pckh`, :func:`pck_curve`,
  :func:`epe`, :func:`nme`, :func:`failure_rate`, :func:`ced_auc`, and the two table
  summaries :func:`face_metrics` and :func:`body_metrics`. Its module docstring lists
  every convention decided (strict ``<``, macro averaging, zero normalisers, exact AUC,
  NaN predictions). Also :func:`face_normalizer` (the inter-ocular distance NME uses),
  :func:`spread_ratio` (collapse towards a mean shape) and :func:`mpjpe` (3D joint error).
- :mod:`kplearn.metrics.oks` — :func:`oks`, object keypoint similarity.
- :mod:`kplearn.metrics.coco_eval` — :func:`coco_keypoint_eval`, pycocotools' ten
  keypoint statistics (identical values, several times faster).
- :mod:`kplearn.metrics.bootstrap` — :func:`bootstrap_interval`, a paired percentile-bootstrap
  interval over test images: is a difference between two methods more than the luck of the test set?
- :mod:`kplearn.metrics.simulate` — :func:`simulate_predictions`, :func:`simulate_detections`:
  predictions with errors of a known size, to see what each metric measures.
"""

from kplearn.metrics.bootstrap import bootstrap_interval
from kplearn.metrics.coco_eval import (
    AREA_RANGES,
    OKS_THRESHOLDS,
    RECALL_THRESHOLDS,
    STAT_NAMES,
    coco_keypoint_eval,
)
from kplearn.metrics.distances import (
    body_metrics,
    ced_auc,
    epe,
    face_metrics,
    face_normalizer,
    failure_rate,
    keypoint_errors,
    mpjpe,
    nme,
    pck,
    pck_curve,
    pckh,
    spread_ratio,
)
from kplearn.metrics.oks import COCO_SIGMAS, oks, resolve_sigmas
from kplearn.metrics.simulate import simulate_detections, simulate_predictions

__all__ = [
    "AREA_RANGES",
    "COCO_SIGMAS",
    "OKS_THRESHOLDS",
    "RECALL_THRESHOLDS",
    "STAT_NAMES",
    "body_metrics",
    "bootstrap_interval",
    "ced_auc",
    "coco_keypoint_eval",
    "epe",
    "face_metrics",
    "face_normalizer",
    "failure_rate",
    "keypoint_errors",
    "mpjpe",
    "nme",
    "oks",
    "pck",
    "pck_curve",
    "pckh",
    "resolve_sigmas",
    "simulate_detections",
    "simulate_predictions",
    "spread_ratio",
]
