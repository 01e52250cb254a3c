"""Where a dataset's labels put the mirror line: a check that flipping is consistent with the labels.

A horizontal flip maps ``x -> W - 1 - x`` and swaps left and right: that is only
right if the labels follow the image content symmetrically. If a dataset's
labels sit a constant ``dx`` pixels to one side of the content (a pixel-convention
slip somewhere upstream), every flipped training image teaches the network the
opposite offset, and flip test-time augmentation averages ``+dx`` with ``-dx``.

:func:`estimate_label_offset` measures ``dx`` on a set of aligned crops (faces):
the mirror axis of the *labels* (mean midpoint of left/right pairs and of the
points on the midline) minus the mirror axis of the *mean image* (the shift that
best aligns the mean crop with its own mirror image). Crops whose content is not
roughly aligned (people in scenes) give no meaningful estimate.

On the real faces68 crops this finds the labels about 1.4 px (of 160) to the right of
the content; on the synthetic faces, whose labels are exact, it finds ~0.

Examples
--------
>>> import numpy as np
>>> x = np.arange(32.0)
>>> img = np.exp(-((x - 15.5) ** 2) / 20)[None].repeat(32, 0)  # symmetric about x = 15.5
>>> kp = np.array([[[[12.5, 5, 2], [18.5, 5, 2]]]])  # one left/right pair, centred 15.5
>>> round(estimate_label_offset(img[None], kp + [0.8, 0, 0], np.array([1, 0])), 2)
0.8
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import shift as nd_shift

__all__ = ["estimate_label_offset", "mirror_axis"]


def mirror_axis(image: np.ndarray, max_shift: float = 6.0, step: float = 0.05) -> float:
    """The vertical line ``x = a`` about which a (mean) grey image is most symmetric.

    The image is compared with its mirror image shifted by ``s`` (cubic spline,
    ``s`` in steps of ``step`` up to ``max_shift``); the best ``s`` gives
    ``a = (W - 1 + s) / 2``. A border of ``max_shift`` columns is left out.
    """
    img = np.asarray(image, np.float64)
    if img.ndim != 2 or min(img.shape) < 8:
        raise ValueError(f"mirror_axis needs a 2-D image of at least 8×8, got {img.shape}")
    w = img.shape[1]
    m = int(np.ceil(max_shift)) + 1
    if w <= 2 * m + 2:
        raise ValueError(f"image too narrow ({w} px) for shifts of {max_shift} px")
    core = img[:, m : w - m].ravel()
    core = core - core.mean()
    best_s, best_c = 0.0, -np.inf
    for s in np.arange(-max_shift, max_shift + step / 2, step):
        mir = nd_shift(img[:, ::-1], (0.0, s), order=3, mode="nearest")[:, m : w - m].ravel()
        mir = mir - mir.mean()
        c = float(core @ mir) / (np.linalg.norm(core) * np.linalg.norm(mir) + 1e-12)
        if c > best_c:
            best_s, best_c = float(s), c
    return (w - 1 + best_s) / 2.0


def estimate_label_offset(images, keypoints, flip_index, max_shift: float = 6.0) -> float:
    """Horizontal offset (pixels) of the labels' mirror line from the content's mirror line.

    Parameters
    ----------
    images : array (N, H, W) grey or (N, 3, H, W) / (N, H, W, 3), uint8 or float
        Aligned crops (all the same size).
    keypoints : array (N, M, K, 3) or (N, K, 3)
        Their labels in the same pixels.
    flip_index : array (K,)
        The layout's left/right permutation.
    max_shift : float
        Largest shift searched, in pixels.

    Returns
    -------
    float
        ``dx`` such that the labels are, on average, the content's symmetric
        positions moved by ``dx`` along x. 0 when no pair is labelled.
    """
    imgs = np.asarray(images, np.float64)
    if imgs.ndim == 4:
        channel_axis = 1 if imgs.shape[1] == 3 else 3
        imgs = imgs.mean(axis=channel_axis)
    if imgs.ndim != 3 or len(imgs) == 0:
        raise ValueError(f"images: expected a non-empty (N, H, W[, 3]) stack, got {np.shape(images)}")
    kp = np.asarray(keypoints, np.float64)
    if kp.ndim == 3:
        kp = kp[:, None]
    fi = np.asarray(flip_index)
    pair = kp[..., fi, :]
    both = (kp[..., 2] > 0) & (pair[..., 2] > 0)
    if not both.any():
        return 0.0
    midline = float(((kp[..., 0] + pair[..., 0]) / 2)[both].mean())
    return midline - mirror_axis(imgs.mean(0), max_shift)
