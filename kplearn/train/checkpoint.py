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

Examples
--------
>>> import tempfile
>>> from kplearn.models import build_model
>>> net = build_model("regression", "faces68")
>>> d = tempfile.mkdtemp()
>>> _ = save_checkpoint(net, d)
>>> load_checkpoint(d)[0].config["name"]
'regression'
"""

from __future__ import annotations

from pathlib import Path

import torch

from kplearn.codecs.heatmap_codec import HeatmapCodec
from kplearn.models.base import KeypointNet
from kplearn.models.registry import model_from_config
from kplearn.run_config import CONFIG_FILE, read_config, write_config
from kplearn.skeletons import Skeleton, get_skeleton, register_skeleton

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "check_run_config",
    "skeleton_to_dict",
    "skeleton_from_dict",
]

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
    if model.output_kind == "heatmaps":
        codec.update(model.codec.to_config())  # read back by HeatmapCodec.from_config
    elif model.output_kind == "paf" or cfg.get("name") == "integral":
        codec.update(encoding="unbiased", stride=cfg.get("stride"), sigma=cfg.get("sigma"))
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
    write_config(run, config)
    return run


#: Largest network input side (pixels) a run may ask for.
MAX_INPUT_SIDE = 2048
#: Largest channel count / block count a run's network config may ask for.
MAX_WIDTH = 1024
# Integer (or list-of-integer) network settings that size allocations.
_SIZE_KEYS = ("widths", "refiner_widths", "width", "channels", "head_channels", "hidden", "reduce",
              "blocks", "depth", "stacks", "branches", "modules", "stages", "stride", "downsample",
              "patch")  # fmt: skip


def check_run_config(config: dict, where: str = "config.json") -> dict:
    """Check what a deep run's ``config.json`` gives the network builder; return it unchanged.

    Refused with ``ValueError`` naming the file: a ``model_config`` that is not an
    object; an ``input_size`` that is not two whole numbers in ``[1, MAX_INPUT_SIDE]``
    (a string such as ``"64x64"`` included); channel, block and stride settings
    (:data:`_SIZE_KEYS`) that are not whole numbers in ``[1, MAX_WIDTH]``; a
    ``num_keypoints`` that is not a positive integer; a ``skeleton`` that is not an
    object; ``padding`` that is not a number in ``(0, 10]``. These would otherwise
    end in allocation tracebacks (a width of 65 536, an input of 60000²).

    Examples
    --------
    >>> check_run_config({"skeleton": {}, "model_config": {"input_size": "64x64"}}, "run/config.json")
    Traceback (most recent call last):
    ...
    ValueError: run/config.json: model_config.input_size: expected an int or a (width, height) pair, got the string '64x64'
    """
    from kplearn._checks import check_int, check_number, check_size, kind

    def fail(err: Exception):
        raise ValueError(f"{where}: {err}") from None

    mcfg = config.get("model_config")
    if not isinstance(mcfg, dict):
        raise ValueError(f"{where}: 'model_config' must be an object, got {kind(mcfg)}")
    if not isinstance(config.get("skeleton"), dict):
        raise ValueError(f"{where}: 'skeleton' must be an object, got {kind(config.get('skeleton'))}")
    try:
        for src, key in (("", config), ("model_config.", mcfg)):
            if "input_size" in key:
                check_size(key["input_size"], f"{src}input_size", maximum=MAX_INPUT_SIDE)
        check_int(mcfg.get("num_keypoints"), "model_config.num_keypoints", minimum=1, maximum=10_000)
        for name in _SIZE_KEYS:
            if name in mcfg:
                value = mcfg[name]
                for i, v in enumerate(value if isinstance(value, list) else [value]):
                    at = f"[{i}]" if isinstance(value, list) else ""
                    check_int(v, f"model_config.{name}{at}", minimum=1, maximum=MAX_WIDTH)
        if "padding" in config:
            check_number(config["padding"], "padding", positive=True, maximum=10.0)
    except (TypeError, ValueError) as err:
        fail(err)
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
    config = read_config(run, family="deep")
    for key in ("model_config", "skeleton"):
        if key not in config:
            raise ValueError(f"{str(run / CONFIG_FILE)!r} is missing {key!r}")
    where = repr(str(run / CONFIG_FILE))
    check_run_config(config, where)
    try:
        sk = skeleton_from_dict(config["skeleton"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: 'skeleton' is not a valid layout ({err})") from None
    mcfg = dict(config["model_config"])
    if mcfg.get("num_keypoints", -1) != sk.num_keypoints:
        raise ValueError(
            f"{where}: model has {mcfg.get('num_keypoints')} keypoints but layout "
            f"{sk.name!r} has {sk.num_keypoints}"
        )
    try:
        model = model_from_config(mcfg)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{where}: 'model_config' does not build a network ({err})") from None
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
    stored = config.get("codec")
    if model.output_kind == "heatmaps" and isinstance(stored, dict) and "type" in stored:
        codec = HeatmapCodec.from_config({k: v for k, v in stored.items() if k != "kind"})
        if codec != model.codec:
            raise ValueError(
                f"{str(run / CONFIG_FILE)!r}: its 'codec' {stored} disagrees with the one its "
                f"'model_config' gives, {model.codec.to_config()}"
            )
    model.to(map_location).eval()
    return model, config
