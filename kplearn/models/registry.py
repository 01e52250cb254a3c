"""Deep model names -> builders, and the default settings for each kind of data.

``kplearn train --model NAME`` and :func:`build_model` look names up here. Each
model has default settings per *data kind* (``"faces"``, ``"people"``,
``"scenes"`` for multi-person images, ``"objects"`` for anything else): the
network config (input size, stride, sigma, decoder, loss, widths) and the
training settings (batch size, learning rate, augmentation), chosen so that
``kplearn train --data D --model M --minutes N`` gives that model's best result
on a 2-core CPU. ``preset="fast"`` gives smaller settings that train on the
synthetic data in under a minute (used by the lessons).

Examples
--------
>>> net = build_model("regression", "faces68", input_size=(64, 64))
>>> type(net).__name__, net.input_size
('RegressionNet', (64, 64))
>>> sorted(DEEP_MODELS)
['cascade', 'heatmap', 'hourglass', 'hrnet', 'integral', 'paf', 'regression', 'simcc']
"""

from __future__ import annotations

import copy

import torch

from kplearn.models.base import KeypointNet
from kplearn.models.hourglass import StackedHourglass
from kplearn.models.hrnet import TinyHRNet
from kplearn.models.integral import IntegralNet
from kplearn.models.paf import PAFNet
from kplearn.models.regression import CascadeNet, RegressionNet
from kplearn.models.simcc import SimCCNet
from kplearn.models.simple_baseline import SimpleBaseline
from kplearn.skeletons import Skeleton, get_skeleton

__all__ = ["DEEP_MODELS", "DATA_KINDS", "build_model", "default_settings", "data_kind"]

#: Registry name -> network class.
DEEP_MODELS: dict[str, type[KeypointNet]] = {
    "regression": RegressionNet,
    "cascade": CascadeNet,
    "heatmap": SimpleBaseline,
    "hourglass": StackedHourglass,
    "hrnet": TinyHRNet,
    "integral": IntegralNet,
    "paf": PAFNet,
    "simcc": SimCCNet,
}

DATA_KINDS = ("faces", "people", "scenes", "objects")

# Augmentation as keyword arguments of kplearn.data.transforms.AugmentConfig.
_FACE_AUGMENT = {"rotation": 12.0, "scale": (0.93, 1.07), "shift": 0.04, "flip_prob": 0.5,
                 "brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.0,
                 "gamma": (0.85, 1.18), "blur_prob": 0.05, "blur_sigma": (0.5, 1.0),
                 "noise_prob": 0.05, "noise_std": 4.0, "occlusion_prob": 0.05,
                 "occlusion_size": (0.1, 0.25)}  # fmt: skip
_BODY_AUGMENT = dict(_FACE_AUGMENT, rotation=25.0, scale=(0.8, 1.2), shift=0.08)

# Network settings shared by every data kind, then per-kind overrides.
_MODEL_DEFAULTS: dict[str, dict] = {
    "regression": {"widths": [24, 48, 96, 192], "blocks": 2, "reduce": 64, "hidden": 256,
                   "dropout": 0.0, "loss": "l1"},
    "cascade": {"widths": [24, 48, 96, 192], "blocks": 2, "reduce": 64, "hidden": 256,
                "dropout": 0.0, "loss": "l1", "stages": 2, "downsample": 2, "patch": 16,
                "patch_frac": 0.15, "jitter": 0.3, "refiner_widths": [16, 32, 48]},
    "heatmap": {"widths": [24, 48, 96, 192], "blocks": 2, "head_channels": 64, "stride": 4,
                "sigma": 1.5, "decoder": "dark", "loss": "mse"},
    "hourglass": {"channels": 64, "depth": 2, "stacks": 2, "stride": 4, "sigma": 1.5,
                  "decoder": "dark", "loss": "mse"},
    "hrnet": {"width": 24, "branches": 3, "modules": 1, "blocks": 1, "stride": 4, "sigma": 1.5,
              "decoder": "dark", "loss": "mse"},
    "integral": {"widths": [24, 48, 96, 192], "blocks": 2, "head_channels": 64, "stride": 4,
                 "sigma": 1.5, "beta": 1.0, "loss": "l1", "heatmap_weight": 0.0},
    "paf": {"width": 32, "stride": 4, "sigma": 1.5, "paf_width": 1.0, "loss": "mse"},
    # RTMPose's head (split ratio 2, logit scale 10, label softmax 10) on a CSPNeXt-style encoder
    # at stride 16; sigma in bins (RTMPose: 4.9-5.66 at 192-256 px inputs; the label softmax
    # sharpens it to an effective ~sigma / sqrt(10)).
    "simcc": {"widths": [24, 48, 96, 192], "blocks": 1, "final_kernel": 5, "hidden": 128,
              "gau": True, "gau_s": 64, "split_ratio": 2.0, "sigma": 4.0, "beta": 10.0,
              "label_softmax": True, "label_beta": 10.0, "refine": True, "loss": "kl"},
}  # fmt: skip

_INPUT_SIZE = {"faces": [64, 64], "people": [64, 64], "objects": [64, 64], "scenes": [128, 128]}
# Heatmap-family models on faces gain more from resolution than from epochs: at 80 px a
# 6-minute faces68 run got 13 epochs and 4.80 % validation NME against 19 epochs and 4.96 %
# at 64 px (stride-4 maps quantise 68 close-set points). The regressors keep 64 px.
_HEATMAP_FACE_INPUT = [80, 80]
_HEATMAP_FAMILY = ("heatmap", "hourglass", "hrnet", "integral", "simcc")

_TRAIN_DEFAULTS = {"batch_size": 32, "lr": 2e-3, "weight_decay": 1e-4, "schedule": "cosine",
                   "warmup": 0.03, "epochs": 30, "patience": None}  # fmt: skip

_FAST = {  # preset="fast": small nets for the lessons (synthetic data, well under a minute)
    "regression": {"widths": [16, 32, 64, 128], "blocks": 1, "hidden": 128},
    "cascade": {"widths": [16, 32, 64, 128], "blocks": 1, "hidden": 128, "downsample": 1},
    "heatmap": {"widths": [16, 32, 64, 128], "blocks": 1, "head_channels": 32},
    "hourglass": {"channels": 32, "depth": 2},
    "hrnet": {"width": 16},
    "integral": {"widths": [16, 32, 64, 128], "blocks": 1, "head_channels": 32},
    "paf": {"width": 16},
    "simcc": {"widths": [16, 32, 64, 128], "hidden": 64, "gau_s": 32},
}


def data_kind(skeleton: str | Skeleton, single_instance: bool = True) -> str:
    """The data kind that selects default settings: faces, people, scenes or objects."""
    sk = get_skeleton(skeleton)
    if not single_instance:
        return "scenes"
    if sk.name.startswith("faces"):
        return "faces"
    if sk.name == "coco17":
        return "people"
    return "objects"


def default_settings(name: str, kind: str = "faces", preset: str = "best") -> dict:
    """Default ``{"model": {...}, "train": {...}}`` settings of a model for a data kind.

    Parameters
    ----------
    name : str
        A key of :data:`DEEP_MODELS`.
    kind : {"faces", "people", "scenes", "objects"}
    preset : {"best", "fast"}
        ``"fast"`` shrinks the network for quick lesson runs.

    Returns
    -------
    dict
        ``"model"``: network config without the layout keys; ``"train"``: keyword
        arguments for :func:`kplearn.train.fit` (``augment`` as AugmentConfig kwargs).
    """
    if name not in DEEP_MODELS:
        raise KeyError(f"unknown deep model {name!r}; known: {', '.join(sorted(DEEP_MODELS))}")
    if kind not in DATA_KINDS:
        raise ValueError(f"unknown data kind {kind!r}; choose from {', '.join(DATA_KINDS)}")
    if preset not in ("best", "fast"):
        raise ValueError(f"preset must be 'best' or 'fast', got {preset!r}")
    model = copy.deepcopy(_MODEL_DEFAULTS[name])
    train = dict(_TRAIN_DEFAULTS)
    train["augment"] = copy.deepcopy(
        _BODY_AUGMENT if kind in ("people", "scenes") else _FACE_AUGMENT
    )
    if kind == "scenes":
        train["batch_size"] = 16
    if kind == "faces":
        # Measure where the labels put the mirror line, so that flipping stays consistent with
        # them (the real faces68 labels sit ~1.5-2 px of 160 right of the content's mirror line).
        train["label_offset"] = "auto"
    if preset == "fast":
        model.update(copy.deepcopy(_FAST[name]))
        train["epochs"] = 8
    model["input_size"] = list(_INPUT_SIZE[kind])
    if kind == "faces" and preset == "best" and name in _HEATMAP_FAMILY:
        model["input_size"] = list(_HEATMAP_FACE_INPUT)
    if name == "cascade":
        # The first stage sees the input downsampled; the refiners crop the full resolution.
        model["input_size"] = [model["downsample"] * v for v in model["input_size"]]
    return {"model": model, "train": train}


def build_model(
    name: str,
    skeleton: str | Skeleton,
    *,
    kind: str | None = None,
    preset: str = "best",
    seed: int = 0,
    **overrides,
) -> KeypointNet:
    """Build a deep model by registry name for a keypoint layout.

    Parameters
    ----------
    name : str
        ``"regression"``, ``"cascade"``, ``"heatmap"``, ``"hourglass"``, ``"hrnet"``,
        ``"integral"``, ``"paf"`` or ``"simcc"``.
    skeleton : str or Skeleton
        The layout (number of keypoints, flip pairs; PAF uses its edges).
    kind : str, optional
        Data kind for the defaults (see :func:`data_kind`); from the layout if omitted.
    preset : {"best", "fast"}
    seed : int
        Seeds the weight initialisation.
    **overrides
        Any network config key, e.g. ``input_size=(96, 96)``, ``stride=2``, ``sigma=2.0``.

    Returns
    -------
    KeypointNet
        Its ``config`` holds everything needed to rebuild it (see :func:`model_from_config`).
    """
    sk = get_skeleton(skeleton)
    if kind is None:
        kind = "scenes" if name == "paf" else data_kind(sk)
    config = default_settings(name, kind, preset)["model"]
    for key, value in overrides.items():
        config[key] = list(value) if isinstance(value, tuple) else value
    config.update(
        name=name,
        skeleton=sk.name,
        num_keypoints=sk.num_keypoints,
        flip_index=[int(i) for i in sk.flip_index],
    )
    if name == "paf":
        config["edges"] = [list(e) for e in sk.edges]
    return model_from_config(config, seed=seed)


def model_from_config(config: dict, seed: int = 0) -> KeypointNet:
    """Rebuild a network from the config dict a checkpoint stores (initial weights seeded)."""
    name = config.get("name")
    if name not in DEEP_MODELS:
        raise ValueError(
            f"model config names unknown model {name!r}; known: {', '.join(sorted(DEEP_MODELS))}"
        )
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        return DEEP_MODELS[name](config)
    finally:
        torch.random.set_rng_state(state)
