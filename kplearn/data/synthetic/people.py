"""Articulated figures with the 17 COCO body keypoints (``coco17``).

A figure is a set of parts (head, neck, torso, and upper arm, forearm, hand,
thigh, shin and foot per side), each a tapered capsule or an ellipse with a
thin dark rim, painted back to front. The pose comes from joint angles drawn
within human limits (torso lean, shoulder abduction, elbow flexion, hip
abduction, knee flexion, head tilt and turn) plus a body turn that narrows the
shoulders and hips. Keypoints are the joint centres the parts are built on;
eyes, nose and ears sit on the head at fixed angles around it, so a turned
head moves them and hides those on its far side.

Visibility (COCO practice):

- ``v = 0`` (not labelled) when the keypoint lies outside the image, i.e.
  ``x`` outside ``[-0.5, W - 0.5]`` or ``y`` outside ``[-0.5, H - 0.5]``
  (its true position is kept in ``meta["true_keypoints"]``);
- ``v = 1`` when it is inside the image but hidden: inside a part painted in
  front of the keypoint's own parts (an arm across the body, another person
  in front, an occluder), or a face point on the far side of a turned head;
- ``v = 2`` otherwise.

Boxes and areas describe the visible part of each person, as COCO's
segmentations do: ``area`` is the sum of the person's visible pixel coverage
(anti-aliased, so fractional) and ``box`` the pixel-edge box of the pixels at
least half covered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.synthetic import _render as R
from kplearn.data.synthetic.textures import (
    BACKGROUND_IMAGES,
    GREY_TEXTURES,
    grey_texture,
    random_crop,
)

__all__ = ["make_people", "make_people_scenes"]

MIN_IMAGE_SIZE = 32
_STREAM_CROP, _STREAM_SCENE = 201, 202
_MIN_VISIBLE_AREA = 24.0  # px^2; scene people with less visible area are left out of the scene

_SKIN_TONES = np.array([
    (255, 224, 196), (241, 194, 160), (224, 172, 130), (198, 134, 96), (161, 102, 68), (120, 74, 50), (89, 56, 40),
], dtype=np.float64)  # fmt: skip
_HAIR = np.array(
    [(30, 25, 22), (70, 45, 30), (110, 75, 45), (200, 170, 110), (165, 160, 155)], dtype=np.float64
)

# Keypoint index -> the parts it belongs to (covered by one of these it is still "on" its part).
_K = {name: i for i, name in enumerate((
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
))}  # fmt: skip
_OWN_PARTS = {
    _K["nose"]: ("head",), _K["left_eye"]: ("head",), _K["right_eye"]: ("head",),
    _K["left_ear"]: ("head",), _K["right_ear"]: ("head",),
    _K["left_shoulder"]: ("torso", "upper_arm_l"), _K["right_shoulder"]: ("torso", "upper_arm_r"),
    _K["left_elbow"]: ("upper_arm_l", "forearm_l"), _K["right_elbow"]: ("upper_arm_r", "forearm_r"),
    _K["left_wrist"]: ("forearm_l", "hand_l"), _K["right_wrist"]: ("forearm_r", "hand_r"),
    _K["left_hip"]: ("torso", "thigh_l"), _K["right_hip"]: ("torso", "thigh_r"),
    _K["left_knee"]: ("thigh_l", "shin_l"), _K["right_knee"]: ("thigh_r", "shin_r"),
    _K["left_ankle"]: ("shin_l", "foot_l"), _K["right_ankle"]: ("shin_r", "foot_r"),
}  # fmt: skip


def _dir(phi: float) -> np.ndarray:
    """Unit vector at angle ``phi`` (radians) from straight down, positive towards the image's right."""
    return np.array([math.sin(phi), math.cos(phi)])


@dataclass
class _Part:
    name: str
    poly: np.ndarray  # in figure units until placed, then pixels
    rim: np.ndarray  # the part grown by a thin dark outline
    color: np.ndarray
    texture_amp: float = 0.0


_RIM = 0.012  # outline width in figure units (about a pixel for a figure 80 px tall)


def _capsule_part(name: str, p0, p1, r0: float, r1: float, color, amp: float = 0.0) -> _Part:
    return _Part(
        name, R.capsule(p0, p1, r0, r1), R.capsule(p0, p1, r0 + _RIM, r1 + _RIM), color, amp
    )


def _ellipse_part(name: str, c, axes, angle: float, color, amp: float = 0.0) -> _Part:
    poly = R.ellipse(c, axes, angle, 0.002)
    rim = R.ellipse(c, (axes[0] + _RIM, axes[1] + _RIM), angle, 0.002)
    return _Part(name, poly, rim, color, amp)


@dataclass
class _Figure:
    """One posed person in figure units (height ~1, pelvis at the origin, y down)."""

    keypoints: np.ndarray  # (17, 2)
    hidden: np.ndarray  # (17,) bool: face points on the far side of the head
    parts: list[_Part]  # back to front
    params: dict = field(default_factory=dict)

    def placed(self, scale: float, angle: float, offset: np.ndarray) -> _Figure:
        kp = R.similarity(self.keypoints, scale, angle, offset)
        parts = [
            _Part(
                p.name,
                R.similarity(p.poly, scale, angle, offset),
                R.similarity(p.rim, scale, angle, offset),
                p.color,
                p.texture_amp,
            )
            for p in self.parts
        ]
        return _Figure(kp, self.hidden, parts, self.params)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        allp = np.concatenate([p.rim for p in self.parts])
        return allp.min(0), allp.max(0)


def _figure(rng: np.random.Generator) -> _Figure:
    """Sample body proportions, appearance and a pose; build parts and keypoints."""
    u = rng.uniform
    turn = math.cos(math.radians(u(-55, 55)))  # body turn narrows shoulders and hips
    sw, hw = u(0.2, 0.25) * turn, u(0.15, 0.19) * turn
    torso_len, neck_len = u(0.27, 0.31), u(0.04, 0.06)
    rx = u(0.05, 0.06)
    ry = rx * u(1.15, 1.3)
    l_ua, l_fa, l_th, l_sh = u(0.16, 0.19), u(0.14, 0.16), u(0.22, 0.26), u(0.22, 0.26)
    r_ua, r_fa, r_th, r_sh = u(0.024, 0.032), u(0.018, 0.025), u(0.036, 0.05), u(0.027, 0.036)
    lean = math.radians(float(np.clip(rng.normal(0, 8), -25, 25)))
    tilt = math.radians(u(-20, 20))
    head_yaw = math.radians(u(-50, 50))

    up = _dir(lean + math.pi)  # pelvis -> shoulders
    across = np.array([-up[1], up[0]])  # towards the image's right (the subject's left)
    pelvis = np.zeros(2)
    neck_base = pelvis + torso_len * up
    shoulder = {1: neck_base + 0.5 * sw * across, -1: neck_base - 0.5 * sw * across}
    hip = {1: pelvis + 0.5 * hw * across, -1: pelvis - 0.5 * hw * across}
    head_c = neck_base + (neck_len + ry) * _dir(lean + math.pi + tilt)
    head_up = _dir(lean + math.pi + tilt)
    head_right = np.array([-head_up[1], head_up[0]])

    kp = np.zeros((17, 2))
    hidden = np.zeros(17, bool)
    # Face points at an azimuth around the head (0: facing the camera, + towards the subject's left).
    for name, az, height, limit in (
        ("nose", 0.0, -0.1, 0.3),
        ("left_eye", 0.45, 0.18, 0.15),
        ("right_eye", -0.45, 0.18, 0.15),
        ("left_ear", 1.5, 0.0, -0.35),
        ("right_ear", -1.5, 0.0, -0.35),
    ):
        a = az + head_yaw
        reach = 0.92 if "ear" in name else 0.85
        kp[_K[name]] = head_c + head_right * rx * reach * math.sin(a) + head_up * ry * height
        hidden[_K[name]] = math.cos(a) < limit

    skin = _SKIN_TONES[rng.integers(len(_SKIN_TONES))] * u(0.92, 1.05, 3)
    shirt, pants = u(15, 240, 3), u(15, 200, 3)
    shoes = u(10, 120) * np.ones(3)
    sleeves = shirt if rng.random() < 0.5 else skin
    hair = _HAIR[rng.integers(len(_HAIR))]

    arm_front = {s: rng.random() > 0.2 for s in (1, -1)}
    limbs: dict[int, list[_Part]] = {}
    legs: dict[int, list[_Part]] = {}
    for s, tag in ((1, "l"), (-1, "r")):
        # Arm: abduction from hanging down (0) to raised (180 deg), elbow bent either way.
        phi_ua = lean + s * math.radians(u(-20, 170))
        bend = math.radians(u(0, 150)) * (1 if rng.random() < 0.35 else -1)
        phi_fa = phi_ua + s * bend
        fore = u(0.6, 1.0) if rng.random() < 0.3 else 1.0  # foreshortened towards the camera
        elbow = shoulder[s] + l_ua * fore * _dir(phi_ua)
        wrist = elbow + l_fa * _dir(phi_fa)
        hand_c = wrist + 0.035 * _dir(phi_fa)
        kp[_K[f"{'left' if s > 0 else 'right'}_elbow"]] = elbow
        kp[_K[f"{'left' if s > 0 else 'right'}_wrist"]] = wrist
        hand_angle = math.degrees(math.atan2(*_dir(phi_fa)[::-1]))
        limbs[s] = [
            _capsule_part(f"upper_arm_{tag}", shoulder[s], elbow, r_ua, 0.85 * r_ua, shirt, 0.2),
            _capsule_part(f"forearm_{tag}", elbow, wrist, r_fa, 0.8 * r_fa, sleeves, 0.2),
            _ellipse_part(f"hand_{tag}", hand_c, (0.032, 0.022), hand_angle, skin),
        ]
        # Leg: hip abduction, knee bent mostly a little, sometimes a lot; thigh foreshortened when sitting.
        phi_th = lean + s * math.radians(u(-12, 45))
        knee_bend = math.radians(u(0, 100) if rng.random() < 0.4 else u(0, 15))
        phi_sh = phi_th - s * knee_bend * (1 if rng.random() < 0.6 else -1)
        th = u(0.55, 1.0) if rng.random() < 0.2 else 1.0
        knee = hip[s] + l_th * th * _dir(phi_th)
        ankle = knee + l_sh * _dir(phi_sh)
        toe = ankle + 0.07 * _dir(phi_sh + s * math.radians(u(60, 100)))
        kp[_K[f"{'left' if s > 0 else 'right'}_knee"]] = knee
        kp[_K[f"{'left' if s > 0 else 'right'}_ankle"]] = ankle
        legs[s] = [
            _capsule_part(f"thigh_{tag}", hip[s], knee, r_th, 0.8 * r_th, pants, 0.2),
            _capsule_part(f"shin_{tag}", knee, ankle, r_sh, 0.75 * r_sh, pants, 0.2),
            _capsule_part(f"foot_{tag}", ankle, toe, 0.6 * r_sh, 0.45 * r_sh, shoes),
        ]
        kp[_K[f"{'left' if s > 0 else 'right'}_shoulder"]] = shoulder[s]
        kp[_K[f"{'left' if s > 0 else 'right'}_hip"]] = hip[s]

    def hull(radius_extra: float) -> np.ndarray:
        pts = np.concatenate(
            [
                R.ellipse(c, (r + radius_extra,) * 2, tol=0.002)
                for c, r in (
                    (shoulder[1], 0.04),
                    (shoulder[-1], 0.04),
                    (hip[1], 0.045),
                    (hip[-1], 0.045),
                )
            ]
        )
        return cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2).astype(np.float64)

    head_angle = math.degrees(math.atan2(head_right[1], head_right[0]))
    head = _ellipse_part("head", head_c, (rx, ry), head_angle, skin)
    # Hair: the top of the head, cut by a chord a little above the head's centre.
    up_side = (head.poly - head_c) @ head_up > 0.25 * ry
    first_leg = 1 if rng.random() < 0.5 else -1
    order = [p for s in (1, -1) if not arm_front[s] for p in limbs[s]]
    order += legs[first_leg] + legs[-first_leg]
    order += [
        _Part("torso", hull(0.0), hull(_RIM), shirt, 0.2),
        _capsule_part("neck", neck_base, head_c, 0.025, 0.025, skin * 0.9),
        head,
    ]
    if up_side.sum() >= 3:
        cap = head.poly[up_side]
        order.append(_Part("hair", cap, cap, hair, 0.2))
    # Eyes, nose and ears where they face the camera (drawn on the head; they are the head's points).
    for name, axes, color in (
        ("left_eye", (0.011, 0.008), np.array((25.0, 20.0, 20.0))),
        ("right_eye", (0.011, 0.008), np.array((25.0, 20.0, 20.0))),
        ("nose", (0.009, 0.012), skin * 0.6),
        ("left_ear", (0.012, 0.02), skin * 0.8),
        ("right_ear", (0.012, 0.02), skin * 0.8),
    ):
        k = _K[name]
        if not hidden[k]:
            order.append(_ellipse_part("face", kp[k], axes, head_angle, color))
    order += [p for s in (1, -1) if arm_front[s] for p in limbs[s]]
    params = {
        "lean": math.degrees(lean),
        "head_tilt": math.degrees(tilt),
        "head_yaw": math.degrees(head_yaw),
        "body_turn_width": turn,
        "arms_in_front": [arm_front[1], arm_front[-1]],
    }
    return _Figure(kp, hidden, order, params)


def _owner(part: str) -> str:
    """The part a decoration belongs to (hair, eyes, nose and ears are the head's)."""
    return "head" if part in ("hair", "face") else part


def _visibility(
    figs: list[_Figure], occluders: list[np.ndarray], width: int, height: int
) -> list[np.ndarray]:
    """COCO visibility of every figure's keypoints; ``figs`` are back to front, occluders in front."""
    if not figs:
        return []
    kp = np.concatenate([f.keypoints for f in figs])  # (F * 17, 2)
    polys, fig_of, name_of = [], [], []
    for i, f in enumerate(figs):
        for p in f.parts:
            polys.append(p.poly)
            fig_of.append(i)
            name_of.append(_owner(p.name))
    polys += list(occluders)
    fig_of += [len(figs)] * len(occluders)
    name_of += ["occluder"] * len(occluders)
    fig_of = np.asarray(fig_of)
    inside = np.stack([R.point_in_polygon(kp, poly) for poly in polys], axis=1)  # (F * 17, P)
    order = np.arange(len(polys))
    out = []
    for i, f in enumerate(figs):
        v = np.full(17, 2.0)
        v[f.hidden] = 1.0
        for k in range(17):
            own = (fig_of == i) & np.isin(name_of, _OWN_PARTS[k])
            in_front = (order > order[own].max()) & ~own
            if np.any(inside[i * 17 + k] & in_front):
                v[k] = 1.0
        pts = f.keypoints
        in_frame = (
            (pts[:, 0] >= -0.5)
            & (pts[:, 0] <= width - 0.5)
            & (pts[:, 1] >= -0.5)
            & (pts[:, 1] <= height - 0.5)
        )
        v[~in_frame] = 0.0
        out.append(v)
    return out


def _render(
    rng: np.random.Generator,
    figs: list[_Figure],
    occluders: list[tuple[np.ndarray, np.ndarray]],
    size: tuple[int, int],
    cfg: dict,
) -> tuple[np.ndarray, list[np.ndarray], list[float], dict]:
    """Paint ``figs`` (back to front) and occluders; return image, visible masks, areas and meta."""
    w, h = size
    background = BACKGROUND_IMAGES[rng.integers(len(BACKGROUND_IMAGES))]
    img = random_crop(rng, background, w, h, zoom=(0.3, 1.5))
    tex = grey_texture(rng, GREY_TEXTURES[rng.integers(len(GREY_TEXTURES))], w, h, zoom=(0.7, 2.0))
    cv = R.Canvas(img)
    unions = []
    for f in figs:
        for p in f.parts:
            if p.name not in ("hair", "face"):
                cv.add([p.rim], p.color * 0.35)
            cv.add(
                [p.poly],
                p.color * float(rng.uniform(0.9, 1.1)),
                texture=tex,
                texture_amp=p.texture_amp,
            )
        unions.append(cv.add([p.rim for p in f.parts], None))
    occ_layers = []
    for poly, fill in occluders:
        occ_layers.append(cv.add([poly], fill))
    cv.render()
    masks = [cv.coverage(li) for li in unions]
    in_front = np.zeros((h, w), np.float32)
    for li in occ_layers:
        np.maximum(in_front, cv.coverage(li), out=in_front)
    visible = []
    for m in masks[::-1]:
        visible.append(m * (1.0 - in_front))
        np.maximum(in_front, m, out=in_front)
    visible = visible[::-1]
    areas = [float(m.sum()) for m in visible]
    blur_sigma = R.uniform(rng, cfg["blur"])
    noise_std = R.uniform(rng, cfg["noise"])
    image = R.finish(img, blur_sigma, noise_std, rng, cfg["grayscale"], cfg["noise_bank"])
    return (
        image,
        visible,
        areas,
        {"background": background, "blur_sigma": blur_sigma, "noise_std": noise_std},
    )


def _mask_box(mask: np.ndarray) -> np.ndarray:
    """Pixel-edge ``[x, y, w, h]`` box of the pixels at least half covered (zeros if none)."""
    ys, xs = np.nonzero(mask >= 0.5)
    if len(xs) == 0:
        return np.zeros(4)
    return np.array(
        [xs.min() - 0.5, ys.min() - 0.5, xs.max() - xs.min() + 1.0, ys.max() - ys.min() + 1.0]
    )


def _occluder(
    rng: np.random.Generator, centre: np.ndarray, size: float, w: int, h: int
) -> tuple[np.ndarray, np.ndarray, dict]:
    """A textured occluder of length ``size``, the other side 0.4 to 1 times as long."""
    return R.textured_occluder(rng, centre, size, size * float(rng.uniform(0.4, 1.0)), w, h)


def _common_cfg(
    seed: int, w: int, h: int, occlusion, occluder_size, rotation, blur, noise, grayscale
) -> dict:
    return {
        "occlusion": R.check_probability(occlusion, "occlusion"),
        "occluder_size": R.check_range(
            occluder_size, "occluder_size", low=0.0, high=2.0, scalar="fixed"
        ),
        "rotation": R.check_range(rotation, "rotation", low=-180.0, high=180.0, scalar="symmetric"),
        "blur": R.check_range(blur, "blur", low=0.0, high=20.0),
        "noise": R.check_range(noise, "noise", low=0.0, high=128.0),
        "grayscale": bool(grayscale),
        "noise_bank": R.NoiseBank(seed, w, h),
    }


@R.generator_doc(MIN_IMAGE_SIZE)
def make_people(
    n: int = 256,
    image_size: int | tuple[int, int] = 96,
    seed: int = 0,
    *,
    fill: float | tuple[float, float] = (0.7, 0.9),
    translation: float | tuple[float, float] = 0.05,
    rotation: float | tuple[float, float] = 10.0,
    occlusion: float = 0.1,
    occluder_size: float | tuple[float, float] = (0.2, 0.45),
    blur: float | tuple[float, float] = 0.6,
    noise: float | tuple[float, float] = 3.0,
    grayscale: bool = False,
    progress: bool = False,
) -> KeypointDataset:
    """Single-person crops with the 17 COCO keypoints (layout ``"coco17"``), one person per image.

    Each image is framed like a top-down pose estimator's input: the person's
    extent fills ``fill`` of the image's limiting side, centred up to
    ``translation`` of the image size away from the middle.

    Parameters
    ----------
    {sample_parameters}
    fill : float or (lo, hi)
        Fraction of the image the figure spans (a number fixes it).
    translation : float or (lo, hi)
        Offset of the figure's centre as a fraction of the image size (``a``: ``[-a, a]``).
    rotation : float or (lo, hi)
        In-plane rotation of the whole figure in degrees, counter-clockwise on
        screen (``a``: ``[-a, a]``; ``(30, 30)`` fixes it).
    occlusion : float
        Probability of a textured rectangle or ellipse over the figure.
    occluder_size : float or (lo, hi)
        Occluder length as a fraction of the figure's height (a number fixes it).
    {finish_parameters}

    Returns
    -------
    KeypointDataset
        One instance per image; ``boxes`` and ``areas`` describe the visible
        person (see the module notes), ``meta`` holds the pose parameters and
        ``true_keypoints`` (exact positions, also of unlabelled points).

    Examples
    --------
    >>> ds = make_people(2, seed=0)
    >>> ds.skeleton.name, ds[0].keypoints.shape
    ('coco17', (1, 17, 3))
    """
    n = R.check_count(n)
    seed = R.check_seed(seed)
    w, h = R.check_image_size(image_size, MIN_IMAGE_SIZE)
    cfg = _common_cfg(seed, w, h, occlusion, occluder_size, rotation, blur, noise, grayscale)
    fill_r = R.check_range(fill, "fill", low=0.05, high=1.5, scalar="fixed")
    trans = R.check_range(translation, "translation", low=-0.5, high=0.5, scalar="symmetric")
    samples = []
    for i in R.progress_bar(range(n), progress, "synthetic people"):
        rng = R.sample_rng(seed, _STREAM_CROP, i)
        fig = _figure(rng)
        angle = R.uniform(rng, cfg["rotation"])
        rotated = fig.placed(1.0, angle, np.zeros(2))
        lo, hi = rotated.bounds()
        scale = R.uniform(rng, fill_r) * min(w / (hi[0] - lo[0]), h / (hi[1] - lo[1]))
        centre = (
            np.array([w, h]) * (0.5 + np.array([R.uniform(rng, trans), R.uniform(rng, trans)]))
            - 0.5
        )
        offset = centre - scale * 0.5 * (lo + hi)
        placed = fig.placed(scale, angle, offset)
        occ, occ_meta = [], []
        if rng.random() < cfg["occlusion"]:
            # Centred near a random keypoint, so that the occluder covers part of the figure.
            c = placed.keypoints[rng.integers(17)] + rng.normal(0, 0.05 * scale, 2)
            poly, fill_tex, m = _occluder(
                rng, c, R.uniform(rng, cfg["occluder_size"]) * scale, w, h
            )
            occ.append((poly, fill_tex))
            occ_meta.append(m)
        (v,) = _visibility([placed], [o[0] for o in occ], w, h)
        image, visible, areas, meta = _render(rng, [placed], occ, (w, h), cfg)
        kp = np.concatenate([placed.keypoints, v[:, None]], axis=1)
        kp[v == 0, :2] = 0.0
        meta.update(
            placed.params,
            generator="people",
            rotation=angle,
            scale=scale,
            occluders=occ_meta,
            true_keypoints=placed.keypoints[None].copy(),
        )
        samples.append(
            Sample(
                image,
                kp[None],
                boxes=_mask_box(visible[0])[None],
                areas=np.array(areas),
                name=f"person{i:05d}",
                meta=meta,
            )
        )
    return KeypointDataset(samples, "coco17", name="synthetic-people")


@R.generator_doc(MIN_IMAGE_SIZE)
def make_people_scenes(
    n: int = 64,
    image_size: int | tuple[int, int] = 192,
    seed: int = 0,
    max_people: int = 4,
    *,
    min_people: int = 1,
    height: float | tuple[float, float] = (0.35, 0.85),
    rotation: float | tuple[float, float] = 10.0,
    occlusion: float = 0.0,
    occluder_size: float | tuple[float, float] = (0.2, 0.45),
    blur: float | tuple[float, float] = 0.6,
    noise: float | tuple[float, float] = 3.0,
    grayscale: bool = False,
    progress: bool = False,
) -> KeypointDataset:
    """Scenes of several people with COCO keypoints, boxes and areas (layout ``"coco17"``).

    Each image holds ``min_people`` to ``max_people`` figures at random places
    and sizes; people lower in the picture stand closer and are painted over
    those behind them. People may leave the frame in part. A person whose
    visible area would be below 24 px² is left out of the scene (not drawn),
    so every drawn person is annotated.

    Parameters
    ----------
    {sample_parameters}
    max_people, min_people : int
        Range of the number of people drawn per image (before any are left out).
    height : float or (lo, hi)
        Standing height of a person as a fraction of the image height (a
        number fixes it).
    rotation : float or (lo, hi)
        In-plane rotation of each figure in degrees (``a``: ``[-a, a]``).
    occlusion : float
        Probability of one textured occluder per image.
    occluder_size : float or (lo, hi)
        Occluder length as a fraction of the image height (a number fixes it).
    {finish_parameters}

    Returns
    -------
    KeypointDataset
        ``M`` instances per image with ``boxes`` and ``areas`` of the visible
        part of each person, ``iscrowd`` all zero; instances are ordered back
        to front.

    Examples
    --------
    >>> ds = make_people_scenes(2, seed=0)
    >>> ds[0].keypoints.shape[1:], len(ds[0].areas) == ds[0].keypoints.shape[0]
    ((17, 3), True)
    """
    n = R.check_count(n)
    seed = R.check_seed(seed)
    w, h = R.check_image_size(image_size, MIN_IMAGE_SIZE)
    max_people = R.check_count(max_people, "max_people")
    min_people = R.check_count(min_people, "min_people")
    if not 1 <= min_people <= max_people:
        raise ValueError(f"need 1 <= min_people <= max_people, got {min_people} and {max_people}")
    cfg = _common_cfg(seed, w, h, occlusion, occluder_size, rotation, blur, noise, grayscale)
    height_r = R.check_range(height, "height", low=0.05, high=2.0, scalar="fixed")
    samples = []
    for i in R.progress_bar(range(n), progress, "synthetic scenes"):
        rng = R.sample_rng(seed, _STREAM_SCENE, i)
        k = int(rng.integers(min_people, max_people + 1))
        figs, feet = [], []
        for _ in range(k):
            fig = _figure(rng)
            angle = R.uniform(rng, cfg["rotation"])
            scale = R.uniform(rng, height_r) * h
            pos = np.array([rng.uniform(0.05, 0.95) * w, rng.uniform(0.3, 0.8) * h])
            placed = fig.placed(scale, angle, pos)
            figs.append(placed)
            feet.append(max(placed.keypoints[15, 1], placed.keypoints[16, 1]))
        figs = [figs[j] for j in np.argsort(feet, kind="stable")]
        occ, occ_meta = [], []
        if rng.random() < cfg["occlusion"]:
            c = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h])
            poly, fill_tex, m = _occluder(rng, c, R.uniform(rng, cfg["occluder_size"]) * h, w, h)
            occ.append((poly, fill_tex))
            occ_meta.append(m)
        # Render; leave out people that end up (almost) invisible or unlabelled, and render again.
        state = rng.bit_generator.state
        while True:
            rng.bit_generator.state = state
            image, visible, areas, meta = _render(rng, figs, occ, (w, h), cfg)
            vis = _visibility(figs, [o[0] for o in occ], w, h)
            bad = [
                j
                for j in range(len(figs))
                if areas[j] < _MIN_VISIBLE_AREA or not np.any(vis[j] > 0)
            ]
            if not bad:
                break
            figs = [f for j, f in enumerate(figs) if j not in bad]
        kps = np.zeros((len(figs), 17, 3))
        for j, (f, v) in enumerate(zip(figs, vis, strict=True)):
            kps[j, :, :2] = np.where(v[:, None] > 0, f.keypoints, 0.0)
            kps[j, :, 2] = v
        boxes = np.array([_mask_box(m) for m in visible]).reshape(-1, 4)
        meta.update(
            generator="people_scenes",
            occluders=occ_meta,
            people=[f.params for f in figs],
            true_keypoints=np.array([f.keypoints for f in figs]).reshape(-1, 17, 2),
        )
        samples.append(
            Sample(
                image,
                kps,
                boxes=boxes,
                areas=np.array(areas),
                iscrowd=np.zeros(len(figs), bool),
                name=f"scene{i:05d}",
                meta=meta,
            )
        )
    return KeypointDataset(samples, "coco17", name="synthetic-people-scenes")
