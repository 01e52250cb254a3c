"""A smoothly moving image: video frames with the exact keypoints of each frame.

For point tracking (:func:`kplearn.tracking.track_lucas_kanade`): the truth of
every frame is known, so drift can be measured.
"""

from __future__ import annotations

import numpy as np

from kplearn.data.transforms import add_noise, transform_keypoints
from kplearn.geometry import affine_matrix, warp_image

__all__ = ["make_sequence"]


def make_sequence(
    image: np.ndarray,
    keypoints,
    n_frames: int = 40,
    seed: int = 0,
    *,
    shift: float = 0.08,
    rotation: float = 10.0,
    zoom: float = 0.08,
    noise: float = 2.0,
) -> tuple[list[np.ndarray], np.ndarray]:
    """A smooth random motion of one image: frames and the exact keypoints in each.

    Frame ``t`` is the image moved by a similarity about its centre whose parameters
    follow slow sinusoids (random frequency and phase per parameter): a shift of up
    to ``shift`` of the image size, a rotation of up to ``rotation`` degrees and a zoom of
    up to ``±zoom``. The border is reflected and each frame gets Gaussian sensor noise
    of std ``noise`` grey levels. Frame 0 is the image itself (plus noise).

    Returns
    -------
    frames : list of ndarray
        ``n_frames`` uint8 images of the input's size.
    keypoints : ndarray (n_frames, K, 3)
        The keypoints moved with each frame (``v = 0`` where they leave it).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).integers(0, 255, (32, 32), dtype=np.uint8)
    >>> frames, kp = make_sequence(img, np.array([[10.0, 12.0, 2]]), 5, noise=0.0)
    >>> len(frames), kp.shape, kp[0, 0].tolist()
    (5, (5, 1, 3), [10.0, 12.0, 2.0])
    """
    if n_frames < 1:
        raise ValueError(f"n_frames must be positive, got {n_frames}")
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 2 or kp.shape[1] != 3:
        raise ValueError(f"keypoints must be (K, 3), got {kp.shape}")
    img = np.asarray(image)
    h, w = img.shape[:2]
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.5, 1.5, 4)  # cycles over the sequence
    phase = rng.uniform(0, 2 * np.pi, 4)
    t = np.arange(n_frames) / max(n_frames, 1)
    # sin(2 pi f t + phase) - sin(phase): every parameter starts at 0 (frame 0 = the image).
    wave = np.sin(2 * np.pi * freq[:, None] * t + phase[:, None]) - np.sin(phase)[:, None]
    wave /= 2.0  # within [-1, 1]
    frames, moved = [], []
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    for i in range(n_frames):
        dx, dy = shift * w * wave[0, i], shift * h * wave[1, i]
        z = 1.0 + zoom * wave[3, i]
        m = affine_matrix(centre - (dx, dy), (w / z, h / z), rotation * wave[2, i], (w, h))
        frame = warp_image(img, m, (w, h), border="reflect")
        if noise > 0:
            frame = add_noise(frame, rng, noise)
        frames.append(frame)
        moved.append(transform_keypoints(kp, m, (w, h)))
    return frames, np.stack(moved)
