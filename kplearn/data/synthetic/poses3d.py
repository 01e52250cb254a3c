"""Random 3D body poses (``coco17`` order) and their 2D projections, for lifting 2D to 3D.

:func:`make_poses_3d` draws stick figures with fixed bone lengths and natural joint
ranges; :func:`project_poses` is an orthographic camera (depth is what is lost).
The 3D error is :func:`kplearn.metrics.mpjpe`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_poses_3d", "project_poses"]

# Bone lengths in metres (a 1.75 m adult, rounded).
_BONES = {"hip": 0.10, "spine": 0.50, "shoulder": 0.18, "upper_arm": 0.29, "forearm": 0.26,
          "thigh": 0.44, "shin": 0.42, "neck": 0.20}  # fmt: skip


def _rot_x(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2
    )


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2
    )


def _rot_z(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2
    )


def _apply(r, v):
    return np.einsum("nij,nj->ni", r, v)


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _limb(parent, direction, length):
    return parent + length * _unit(direction)


def _bent(upper_dir, forward, angle):
    """Rotate a limb direction towards ``forward`` (projected perpendicular to it) by ``angle``."""
    perp = forward - np.sum(forward * upper_dir, -1, keepdims=True) * upper_dir
    perp = _unit(perp + 1e-9)
    return np.cos(angle)[:, None] * upper_dir + np.sin(angle)[:, None] * perp


def make_poses_3d(n: int = 1000, seed: int = 0) -> np.ndarray:
    """Random 3D body poses ``(n, 17, 3)`` in COCO keypoint order, in metres.

    A stick figure with fixed bone lengths: random torso lean and twist, head turn,
    shoulder and hip swing, elbow and knee bend (elbows and knees only bend one way),
    then a random turn of the whole body about the vertical axis. Camera frame: ``x`` to
    the image's right, ``y`` *up*, ``z`` towards the camera; the mid-hip point is the
    origin. At turn 0 the person faces the camera (their left on the image's right).

    Examples
    --------
    >>> poses = make_poses_3d(3, seed=0)
    >>> poses.shape, bool(np.allclose(poses[:, [11, 12]].mean(1), 0))
    ((3, 17, 3), True)
    >>> thigh = np.linalg.norm(poses[:, 13] - poses[:, 11], axis=-1)
    >>> bool(np.allclose(thigh, 0.44))
    True
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    rng = np.random.default_rng(seed)
    b = _BONES
    d = np.deg2rad

    def u(lo, hi):
        return rng.uniform(d(lo), d(hi), n)

    up = np.tile([0.0, 1.0, 0.0], (n, 1))
    left = np.tile([1.0, 0.0, 0.0], (n, 1))  # the subject's left, facing +z
    fwd = np.tile([0.0, 0.0, 1.0], (n, 1))
    torso = _rot_y(u(-30, 30)) @ _rot_z(u(-15, 15)) @ _rot_x(u(-10, 45))  # twist, side bend, lean
    t_up, t_left, t_fwd = _apply(torso, up), _apply(torso, left), _apply(torso, fwd)
    kp = np.zeros((n, 17, 3))
    kp[:, 11] = b["hip"] * left[0]
    kp[:, 12] = -b["hip"] * left[0]
    neck = b["spine"] * t_up
    kp[:, 5] = neck + b["shoulder"] * t_left
    kp[:, 6] = neck - b["shoulder"] * t_left
    head = _rot_y(u(-50, 50)) @ _rot_x(u(-20, 30))  # turn, nod (relative to the torso)
    h_fwd = _apply(torso @ head, fwd)
    h_up = _apply(torso @ head, up)
    h_left = _apply(torso @ head, left)
    centre = neck + b["neck"] * t_up
    kp[:, 0] = centre + 0.10 * h_fwd
    kp[:, 1] = centre + 0.08 * h_fwd + 0.03 * h_up + 0.035 * h_left
    kp[:, 2] = centre + 0.08 * h_fwd + 0.03 * h_up - 0.035 * h_left
    kp[:, 3] = centre + 0.08 * h_left
    kp[:, 4] = centre - 0.08 * h_left
    for side, (sh, el, wr) in ((1.0, (5, 7, 9)), (-1.0, (6, 8, 10))):
        # Upper arm: hanging down, swung forward (flexion) and out (abduction), in the torso frame.
        swing = torso @ _rot_z(side * u(0, 80)) @ _rot_x(-u(-40, 110))  # -: flexion is forward
        upper = _apply(swing, -up)
        kp[:, el] = _limb(kp[:, sh], upper, b["upper_arm"])
        fore = _bent(upper, t_fwd, u(0, 130))
        kp[:, wr] = _limb(kp[:, el], fore, b["forearm"])
    for side, (hp, kn, an) in ((1.0, (11, 13, 15)), (-1.0, (12, 14, 16))):
        swing = _rot_z(side * u(-5, 30)) @ _rot_x(-u(-20, 70))
        thigh = _apply(swing, -up)
        kp[:, kn] = _limb(kp[:, hp], thigh, b["thigh"])
        shin = _bent(thigh, -fwd, u(0, 100))  # knees bend backwards
        kp[:, an] = _limb(kp[:, kn], shin, b["shin"])
    turn = _rot_y(rng.uniform(-np.pi, np.pi, n))
    return np.einsum("nij,nkj->nki", turn, kp)


def project_poses(poses_3d, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Orthographic camera: ``(N, K, 3)`` camera-frame poses -> ``(N, K, 2)`` image-like points.

    ``u = x``, ``v = -y`` (image ``y`` points down), in the poses' units, plus optional
    Gaussian noise of std ``noise`` (a 2D detector's error). Depth ``z`` is what is lost.

    Examples
    --------
    >>> project_poses(np.array([[[0.1, 0.5, -0.3]]])).tolist()
    [[[0.1, -0.5]]]
    """
    p = np.asarray(poses_3d, dtype=np.float64)
    if p.ndim != 3 or p.shape[-1] != 3:
        raise ValueError(f"poses_3d must be (N, K, 3), got {p.shape}")
    uv = np.stack([p[..., 0], -p[..., 1]], axis=-1)
    if noise > 0:
        uv = uv + np.random.default_rng(seed).normal(0.0, noise, uv.shape)
    return uv
