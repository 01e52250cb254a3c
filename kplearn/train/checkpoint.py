"""Checkpoints: a state dict (``model.pt``) and a JSON config (``config.json``), never a pickle.

A run directory of a deep model holds

``config.json``
    ``{"family": "deep", "model": name, "skeleton": {...layout...}, "input_size": [w, h],
    "codec": {...}, "box_mode": ..., "padding": ..., "model_config": {...}, ...}``
``model.pt``
    ``torch.save(model.state_dict())``, read back with ``torch.load(..., weights_only=True)``,
    which refuses anything but tensors and plain containers.

The layout itself (names, flip pairs, edges, sigmas) is stored, so a run trained
on a layout that is not registered in a fresh session (a synthetic object, say)
still loads.

Example
-------
>>> import tempfile
>>> from kplearn.models import build_model
>>> net = build_model("regression", "faces68")
>>> d = tempfile.mkdtemp()
>>> _ = save_checkpoint(net, d)
>>> load_checkpoint(d)[0].config["name"]
'regression'
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from kplearn.models.base import KeypointNet
from kplearn.models.registry import model_from_config
from kplearn.skeletons import Skeleton, get_skeleton, register_skeleton

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "read_config",
    "skeleton_to_dict",
    "skeleton_from_dict",
]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.pt"
FORMAT_VERSION = 1


def skeleton_to_dict(skeleton: Skeleton | str) -> dict:
    """A layout as plain JSON data."""
    sk = get_skeleton(skeleton)
    return {
        "name": sk.name,
        "keypoint_names": list(sk.keypoint_names),
        "edges": [list(e) for e in sk.edges],
        "flip_pairs": [list(p) for p in sk.flip_pairs],
        "sigmas": None if sk.sigmas is None else list(sk.sigmas),
        "parts": None if sk.parts is None else list(sk.parts),
    }


def skeleton_from_dict(data: dict) -> Skeleton:
    """The registered layout of that name, or the stored one (registered) if none is.

    A registered layout with the same name but other keypoints is an error: the
    run was trained for a different layout.
    """
    stored = Skeleton(
        name=data["name"],
        keypoint_names=tuple(data["keypoint_names"]),
        edges=tuple(tuple(e) for e in data.get("edges", ())),
        flip_pairs=tuple(tuple(p) for p in data.get("flip_pairs", ())),
        sigmas=None if data.get("sigmas") is None else tuple(data["sigmas"]),
        parts=None if data.get("parts") is None else tuple(data["parts"]),
    )
    try:
        known = get_skeleton(stored.name)
    except KeyError:
        return register_skeleton(stored)
    if known.keypoint_names != stored.keypoint_names or known.flip_pairs != stored.flip_pairs:
        raise ValueError(
            f"the run's layout {stored.name!r} differs from the registered layout of that name "
            f"({stored.num_keypoints} vs {known.num_keypoints} keypoints or other flip pairs)"
        )
    return known


def save_checkpoint(
    model: KeypointNet,
    run_dir: str | Path,
    *,
    box_mode: str = "image",
    padding: float = 1.25,
    extra: dict | None = None,
) -> Path:
    """Write ``config.json`` and ``model.pt`` for ``model`` into ``run_dir`` (created if needed).

    ``extra`` is merged into the config (training settings, data spec, history ...).
    Returns the run directory.
    """
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    cfg = model.config
    codec = {"kind": model.output_kind}
    if model.output_kind in ("heatmaps", "paf") or cfg.get("name") == "integral":
        codec.update(encoding="unbiased", stride=cfg.get("stride"), sigma=cfg.get("sigma"))
    if model.output_kind == "heatmaps":
        codec["decoder"] = cfg.get("decoder", "dark")
    if model.output_kind == "coords":
        codec["normalisation"] = (
            "[-1, 1] of the input, pixel-centre (kplearn.codecs.normalize_keypoints)"
        )
    config = {
        "family": "deep",
        "format": FORMAT_VERSION,
        "model": cfg["name"],
        "skeleton": skeleton_to_dict(cfg["skeleton"]),
        "input_size": list(model.input_size),
        "codec": codec,
        "box_mode": box_mode,
        "padding": float(padding),
        "model_config": cfg,
    }
    if extra:
        config.update({k: v for k, v in extra.items() if k not in config})
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = run / (WEIGHTS_FILE + ".tmp")
    torch.save(state, tmp)
    tmp.replace(run / WEIGHTS_FILE)
    (run / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=_json_default))
    return run


def _json_default(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in config.json")


def read_config(run_dir: str | Path) -> dict:
    """The ``config.json`` of a run directory, with clear errors when it is missing or broken."""
    run = Path(run_dir)
    if not run.is_dir():
        raise FileNotFoundError(f"run directory {str(run)!r} does not exist")
    path = run / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{str(path)!r} not found: {str(run)!r} is not a kplearn run directory"
        )
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r} is not valid JSON: {err}") from None
    if not isinstance(config, dict) or "family" not in config:
        raise ValueError(f"{str(path)!r} has no 'family' entry; it was not written by kplearn")
    return config


def load_checkpoint(
    run_dir: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[KeypointNet, dict]:
    """Rebuild a deep model from a run directory; returns ``(model in eval mode, config)``.

    The weights are read with ``torch.load(..., weights_only=True)``. A state dict
    that does not fit the config (another layout, another architecture) raises
    ``ValueError`` naming the file.
    """
    run = Path(run_dir)
    config = read_config(run)
    if config["family"] != "deep":
        raise ValueError(f"{str(run)!r} holds a {config['family']!r} model, not a deep one")
    for key in ("model_config", "skeleton"):
        if key not in config:
            raise ValueError(f"{str(run / CONFIG_FILE)!r} is missing {key!r}")
    sk = skeleton_from_dict(config["skeleton"])
    mcfg = dict(config["model_config"])
    if int(mcfg.get("num_keypoints", -1)) != sk.num_keypoints:
        raise ValueError(
            f"{str(run / CONFIG_FILE)!r}: model has {mcfg.get('num_keypoints')} keypoints but layout "
            f"{sk.name!r} has {sk.num_keypoints}"
        )
    model = model_from_config(mcfg)
    path = run / WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # unpickling refusals and corrupt files alike
        raise ValueError(
            f"{str(path)!r} could not be read as a weights-only state dict: {err}"
        ) from None
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        raise ValueError(
            f"{str(path)!r} does not match the model in its config.json (another layout or "
            f"architecture?): {' '.join(first[:3])}"
        ) from None
    model.to(map_location).eval()
    return model, config
