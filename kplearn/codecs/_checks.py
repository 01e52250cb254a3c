"""Argument checks shared by the codec modules (private)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from kplearn._checks import check_size as _check_size

#: Image <-> heatmap coordinate conventions; see :mod:`kplearn.codecs.coordinates`.
ENCODINGS = ("unbiased", "msra", "udp")
#: Heatmap decoders; see :mod:`kplearn.codecs.heatmap`.
DECODE_METHODS = ("argmax", "quarter", "dark", "softargmax")


def check_size(size, name: str) -> tuple[int, int]:
    """Return ``(width, height)`` as two positive ints (:func:`kplearn._checks.check_size`, as ``ValueError``)."""
    try:
        return _check_size(size, name)
    except TypeError as err:  # codecs report every bad size as a value error
        raise ValueError(str(err)) from None


def check_choice(value: str, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_sigma(sigma, num_keypoints: int, name: str = "sigma") -> np.ndarray:
    """A positive scalar or one value per keypoint, returned as a ``(K,)`` float64 array."""
    s = np.asarray(sigma, dtype=np.float64)
    if s.ndim == 0:
        s = np.full(num_keypoints, float(s))
    if s.shape != (num_keypoints,):
        raise ValueError(f"{name} must be a scalar or have shape ({num_keypoints},), got {s.shape}")
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"{name} must be positive and finite, got {s[:5].tolist()}")
    return s


def check_keypoints(keypoints, name: str = "keypoints") -> tuple[np.ndarray, np.ndarray]:
    """Split ``(..., 2|3)`` keypoints into float64 ``xy (..., 2)`` and a labelled mask ``(...)``.

    Two columns mean every keypoint is labelled. Labelled keypoints (``v > 0``) must have
    finite coordinates; the coordinates of unlabelled ones are ignored (set to 0).
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim < 1 or kp.shape[-1] not in (2, 3):
        raise ValueError(f"{name} must have shape (..., K, 3) or (..., K, 2), got {kp.shape}")
    if kp.shape[-1] == 3:
        v = kp[..., 2]
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"{name}: visibility must be finite and >= 0 (COCO 0, 1, 2)")
        labelled = v > 0
    else:
        labelled = np.ones(kp.shape[:-1], dtype=bool)
    xy = kp[..., :2].copy()
    bad = labelled & ~np.all(np.isfinite(xy), axis=-1)
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name}: keypoint at index {idx} is labelled but has a NaN or inf coordinate"
        )
    xy[~labelled] = 0.0
    return xy, labelled


def check_heatmaps(heatmaps, name: str = "heatmaps", min_ndim: int = 2) -> np.ndarray:
    """Return ``(..., H, W)`` float64 maps, rejecting NaN/inf and empty spatial axes."""
    try:  # accept torch tensors too, without importing torch here
        heatmaps = heatmaps.detach().cpu().numpy()
    except AttributeError:
        pass
    hm = np.asarray(heatmaps, dtype=np.float64)
    if hm.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions (..., H, W), got {hm.shape}"
        )
    if hm.shape[-1] < 1 or hm.shape[-2] < 1:
        raise ValueError(f"{name} must have non-empty spatial axes, got {hm.shape}")
    if not np.all(np.isfinite(hm)):
        raise ValueError(f"{name} contain NaN or inf values")
    return hm


def check_positive(value, name: str, allow_none: bool = False) -> float | None:
    """A positive finite real (not a bool) as a float; ``None`` passes when ``allow_none``."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_codec_config(
    config, kind: str, label: str, fields: Sequence[str], required: Sequence[str]
) -> dict:
    """The keyword arguments of a codec's ``to_config`` dict, checked: the codec's ``from_config``.

    ``kind`` is the ``"type"`` entry (optional, but must match), ``label`` names the
    codec in messages; keys outside ``fields`` and a missing ``required`` key are errors.
    """
    if not isinstance(config, dict):
        raise ValueError(f"{label} codec config must be a dict, got {type(config).__name__}")
    cfg = dict(config)
    found = cfg.pop("type", kind)
    if found != kind:
        raise ValueError(f"codec config has type {found!r}, not {kind!r}")
    unknown = sorted(set(cfg) - set(fields))
    if unknown:
        raise ValueError(
            f"{label} codec config has unknown keys {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(fields)}"
        )
    for key in required:
        if key not in cfg:
            raise ValueError(f"{label} codec config is missing {key!r}")
    return cfg
