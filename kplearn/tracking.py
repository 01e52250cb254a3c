"""Point tracking through a video: pyramidal Lucas–Kanade optical flow.

:func:`track_lucas_kanade` follows points from frame to frame (OpenCV's
``calcOpticalFlowPyrLK``); errors add up, so the tracks drift. A moving test
sequence with exact keypoints is :func:`kplearn.data.synthetic.make_sequence`.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

__all__ = ["track_lucas_kanade"]


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def track_lucas_kanade(
    frames: Sequence[np.ndarray], points, win_size: int = 15, levels: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Track points from frame to frame with pyramidal Lucas–Kanade optical flow (OpenCV).

    Each frame's points are found from the previous frame's (not from the first
    frame's), so small errors add up: the tracks *drift*. A point OpenCV loses keeps
    its last position and is marked lost from then on.

    Parameters
    ----------
    frames : sequence of ndarray
        uint8 frames (RGB or grey), all the same size.
    points : ndarray (K, 2)
        Positions in the first frame.
    win_size : int
        Side of the matching window in pixels.
    levels : int
        Pyramid levels above the full image.

    Returns
    -------
    tracks : ndarray (T, K, 2)
        Positions in every frame (``tracks[0] = points``).
    tracked : ndarray of bool (T, K)
        False from the frame where a point was lost.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((40, 40), np.uint8); img[15:25, 15:25] = 255
    >>> moved = np.roll(img, 2, axis=1)
    >>> tracks, ok = track_lucas_kanade([img, moved], np.array([[15.0, 15.0]]), win_size=9)
    >>> np.round(tracks[1, 0], 1).tolist(), bool(ok[1, 0])
    ([17.0, 15.0], True)
    """
    if len(frames) < 1:
        raise ValueError("no frames")
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.all(np.isfinite(pts)):
        raise ValueError(f"points must be a finite (K, 2) array, got shape {pts.shape}")
    if win_size < 3 or levels < 0:
        raise ValueError(f"need win_size >= 3 and levels >= 0, got {win_size}, {levels}")
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
    tracks = np.zeros((len(frames), len(pts), 2))
    tracked = np.zeros((len(frames), len(pts)), bool)
    tracks[0], tracked[0] = pts, True
    prev = _grey(np.asarray(frames[0]))
    for t in range(1, len(frames)):
        cur = _grey(np.asarray(frames[t]))
        if cur.shape != prev.shape:
            raise ValueError(f"frame {t} has shape {cur.shape}, frame 0 has {prev.shape}")
        p0 = tracks[t - 1].astype(np.float32).reshape(-1, 1, 2)
        p1, status, _ = cv2.calcOpticalFlowPyrLK(
            prev, cur, p0, None, winSize=(win_size, win_size), maxLevel=levels, criteria=criteria
        )
        ok = status.reshape(-1).astype(bool) & tracked[t - 1]
        tracks[t] = np.where(ok[:, None], p1.reshape(-1, 2), tracks[t - 1])
        tracked[t] = ok
        prev = cur
    return tracks, tracked
