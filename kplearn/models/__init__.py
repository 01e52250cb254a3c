"""Deep keypoint networks (torch, no torchvision), small enough to train on a laptop CPU.

- :class:`RegressionNet` and :class:`CascadeNet` — direct coordinate regression (DeepPose);
- :class:`SimpleBaseline`, :class:`StackedHourglass`, :class:`TinyHRNet` — heatmap networks;
- :class:`IntegralNet` — soft-argmax (integral regression) over heatmap logits;
- :class:`SimCCNet` — RTMPose-style 1-D coordinate classification (SimCC head, CSP encoder);
- :class:`PAFNet` with :func:`group_people` — bottom-up multi-person keypoints (OpenPose idea);
- :func:`build_model` / :data:`DEEP_MODELS` — names and default settings;
- :func:`model_profile` — parameters, MACs and CPU milliseconds per image;
- :func:`model_summary` — a table of the layers, their output shapes and parameters.

Examples
--------
>>> from kplearn.models import build_model, count_parameters
>>> count_parameters(build_model("heatmap", "faces68")) > 100_000
True
"""

from kplearn.models.base import KeypointNet, gaussian_targets
from kplearn.models.complexity import (
    count_macs,
    count_parameters,
    model_profile,
    model_summary,
    time_per_image,
)
from kplearn.models.hourglass import StackedHourglass
from kplearn.models.hrnet import TinyHRNet
from kplearn.models.integral import IntegralNet
from kplearn.models.paf import PAFNet, encode_targets, group_people, paf_targets
from kplearn.models.registry import (
    DEEP_MODELS,
    build_model,
    data_kind,
    default_settings,
    model_from_config,
)
from kplearn.models.regression import CascadeNet, RegressionNet
from kplearn.models.simcc import SimCCNet
from kplearn.models.simple_baseline import HeatmapNet, SimpleBaseline

__all__ = [
    "KeypointNet",
    "HeatmapNet",
    "RegressionNet",
    "CascadeNet",
    "SimpleBaseline",
    "StackedHourglass",
    "TinyHRNet",
    "IntegralNet",
    "PAFNet",
    "SimCCNet",
    "DEEP_MODELS",
    "build_model",
    "model_from_config",
    "default_settings",
    "data_kind",
    "gaussian_targets",
    "paf_targets",
    "encode_targets",
    "group_people",
    "model_profile",
    "count_parameters",
    "model_summary",
    "count_macs",
    "time_per_image",
]
