"""The run directory's ``config.json``: reading, writing, and the box-mode rule.

``kplearn train`` writes a run directory; every model family keeps its settings in
one JSON file, ``config.json``, next to its weights (``model.pt`` for deep models,
``weights.npz`` for classical ones). This module is the only one that reads or
writes that file, so its checks and messages are the same for every family.
Every config has ``"family"`` (``"deep"`` or ``"classical"``) and ``"model"``;
a face model also records ``"face_crop"``, how a face detector's box becomes the
crop the model was trained on (see :mod:`kplearn.face_detect`).

The *box mode* says what a top-down model crops: ``"image"``, the whole image
(face crops, single-person crops, and bottom-up models that see whole scenes), or
``"box"``, each instance's box, padded (people in scenes). :func:`box_mode_for`
is the one rule that decides it from the training data.

This module imports neither torch nor OpenCV.

Examples
--------
>>> import tempfile
>>> run = tempfile.mkdtemp()
>>> _ = write_config(run, {"family": "classical", "model": "mean-shape"})
>>> read_config(run, family="classical")["model"]
'mean-shape'
>>> box_mode_for(single_instance=True), box_mode_for(single_instance=False)
('image', 'box')
>>> box_mode_for(single_instance=False, bottom_up=True)
'image'
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = [
    "CONFIG_FILE",
    "FAMILIES",
    "BOX_MODES",
    "config_path",
    "read_config",
    "write_config",
    "update_config",
    "box_mode_for",
]

#: Name of the settings file inside a run directory.
CONFIG_FILE = "config.json"
#: The model families a run directory can hold.
FAMILIES = ("deep", "classical")
#: ``"image"``: the whole image is the crop; ``"box"``: each instance's padded box.
BOX_MODES = ("image", "box")


def config_path(run_dir: str | Path) -> Path:
    """``run_dir / "config.json"``."""
    return Path(run_dir) / CONFIG_FILE


def read_config(run_dir: str | Path, family: str | None = None) -> dict:
    """The ``config.json`` of a run directory, checked.

    Parameters
    ----------
    run_dir : str or Path
    family : {"deep", "classical"}, optional
        Refuse a run of another family.

    Returns
    -------
    dict

    Raises
    ------
    FileNotFoundError
        The directory or its ``config.json`` does not exist.
    ValueError
        The file is not JSON, not an object, has no known ``"family"``, or the
        family is not the one asked for; the message names the file.

    Examples
    --------
    >>> import tempfile
    >>> read_config(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: '.../config.json' not found: '...' is not a kplearn run directory
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise FileNotFoundError(
            f"run directory {str(run)!r} does not exist (no {CONFIG_FILE} to read)"
        )
    path = run / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{str(path)!r} not found: {str(run)!r} is not a kplearn run directory"
        )
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(path)!r}: invalid JSON ({err})") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{str(path)!r}: invalid JSON (not UTF-8 text: {err})") from None
    if not isinstance(config, dict) or "family" not in config:
        raise ValueError(f"{str(path)!r} has no 'family' entry; it was not written by kplearn")
    if config["family"] not in FAMILIES:
        raise ValueError(
            f"{str(path)!r}: unknown model family {config['family']!r}; known: {', '.join(FAMILIES)}"
        )
    if family is not None and config["family"] != family:
        raise ValueError(f"{str(path)!r}: family is {config['family']!r}, not {family!r}")
    return config


def _json_default(obj):
    if hasattr(obj, "tolist"):  # numpy arrays and scalars, torch tensors
        return obj.tolist()
    if isinstance(obj, (tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in {CONFIG_FILE}")


def write_config(run_dir: str | Path, config: dict) -> Path:
    """Write ``config`` as ``run_dir/config.json`` (directory created; written atomically).

    The config must have a known ``"family"``. Numpy arrays and tuples are stored
    as lists. Returns the path written.
    """
    if not isinstance(config, dict):
        raise TypeError(f"a run config is a dict, got {type(config).__name__}")
    if config.get("family") not in FAMILIES:
        raise ValueError(f"a run config needs 'family' in {FAMILIES}, got {config.get('family')!r}")
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    path = run / CONFIG_FILE
    text = json.dumps(config, indent=2, default=_json_default) + "\n"
    tmp = run / (CONFIG_FILE + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def update_config(run_dir: str | Path, extra: dict, *, overwrite: bool = False) -> dict:
    """Add the entries of ``extra`` to a run's config (keeping existing keys unless ``overwrite``)."""
    config = read_config(run_dir)
    config.update({k: v for k, v in extra.items() if overwrite or k not in config})
    write_config(run_dir, config)
    return config


def box_mode_for(*, single_instance: bool, bottom_up: bool = False) -> str:
    """The box mode a model trains and predicts with.

    ``"image"`` when every image holds one instance (the image is the crop) or the
    model is bottom-up (it sees whole images and finds the people itself);
    ``"box"`` otherwise (each instance is cropped from its padded box).
    """
    return "image" if (bottom_up or single_instance) else "box"
