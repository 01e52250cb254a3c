"""Drawn faces with the 68 landmarks of the iBUG 300-W layout (``faces68``).

Every landmark is a vertex of the curve that draws its feature, so it sits on
a visible structure of the image with no drawing error to speak of (see
:mod:`kplearn.data.synthetic._render`):

- jaw 0–16: the outline of the face (skin against background, or against the
  darker neck under the chin);
- brows 17–26: the upper edge of each brow;
- nose 27–30: the edge between the lit and the shaded flank of the nose ridge
  (30, the tip, also centres a highlight); 31–35: the lower edge of the nose's
  shadowed underside, with the nostrils just above it;
- eyes 36–47: the outline of the eye opening (white and iris inside, lid line
  outside the upper lid);
- mouth 48–59: the outer outline of the lips; 60–67: the inner outline, which
  bounds the dark mouth when it is open and is the dark line between the lips
  when it is closed (then 61/67, 62/66 and 63/65 coincide, as in 300-W).

Shapes come from a mean face (the rounded similarity-aligned mean of a set of
real 300-W-style annotations, symmetrised; eye corners at ``(±0.5, 0)``), then
per identity (face width, jaw length and chin, eye spacing, size and opening,
brow height and thickness, nose length and width, mouth width, position and
lips), per sample (expression: mouth opening, smile, brow raise; a yaw-like
turn that projects a depth per point, so one side is compressed and the nose
moves towards it) and finally a similarity (scale, in-plane rotation,
translation) into the image.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.synthetic import _render as R
from kplearn.data.synthetic.textures import BACKGROUND_IMAGES, grey_texture, random_crop

__all__ = ["make_faces", "FACE_TEMPLATE"]

#: Mean face in units of the inter-ocular distance (outer eye corners 36, 45 at (-0.5, 0), (0.5, 0)),
#: x to the image's right, y down, iBUG 300-W order. Derived by aligning and averaging real
#: annotations, then symmetrising; rounded to 3 decimals.
FACE_TEMPLATE = np.array([
    (-0.867, 0.028), (-0.856, 0.256), (-0.819, 0.463), (-0.776, 0.663),
    (-0.705, 0.885), (-0.581, 1.070), (-0.445, 1.192), (-0.269, 1.301),
    (0.000, 1.371), (0.269, 1.301), (0.445, 1.192), (0.581, 1.070),
    (0.705, 0.885), (0.776, 0.663), (0.819, 0.463), (0.856, 0.256),
    (0.867, 0.028), (-0.659, -0.183), (-0.557, -0.250), (-0.431, -0.271),
    (-0.315, -0.259), (-0.211, -0.230), (0.211, -0.230), (0.315, -0.259),
    (0.431, -0.271), (0.557, -0.250), (0.659, -0.183), (0.000, 0.017),
    (0.000, 0.171), (0.000, 0.316), (0.000, 0.439), (-0.140, 0.528),
    (-0.080, 0.545), (0.000, 0.564), (0.080, 0.545), (0.140, 0.528),
    (-0.500, 0.000), (-0.419, -0.029), (-0.316, -0.029), (-0.222, 0.013),
    (-0.310, 0.043), (-0.417, 0.042), (0.222, 0.013), (0.316, -0.029),
    (0.419, -0.029), (0.500, 0.000), (0.417, 0.042), (0.310, 0.043),
    (-0.296, 0.811), (-0.195, 0.748), (-0.067, 0.710), (0.000, 0.723),
    (0.067, 0.710), (0.195, 0.748), (0.296, 0.811), (0.190, 0.901),
    (0.100, 0.952), (0.000, 0.961), (-0.100, 0.952), (-0.190, 0.901),
    (-0.274, 0.807), (-0.087, 0.786), (0.000, 0.783), (0.087, 0.786),
    (0.274, 0.807), (0.086, 0.847), (0.000, 0.856), (-0.086, 0.847),
])  # fmt: skip
FACE_TEMPLATE.setflags(write=False)

# How far each landmark stands out of the face's mean surface (towards the camera), for the yaw
# projection; the surface itself is a paraboloid that recedes towards the sides of the head.
_PROTRUSION = np.zeros(68)
_PROTRUSION[6:11] = 0.04
_PROTRUSION[17:27] = 0.08
_PROTRUSION[27:31] = (0.10, 0.20, 0.30, 0.40)
_PROTRUSION[31:36] = (0.15, 0.22, 0.25, 0.22, 0.15)
_PROTRUSION[36:48] = -0.05
_PROTRUSION[48:60] = 0.12
_PROTRUSION[[48, 54]] = 0.05
_PROTRUSION[60:68] = 0.10
_SIDE_DEPTH = 0.6  # depth lost at the face's side (jaw points 0 and 16), inter-ocular units

# Default framing, taken from the real faces68 crops: inter-ocular distance ~0.375 of the image,
# the face's centre (canonical (0, 0.55)) at about 0.52 of the height.
_IO_FRACTION = 0.375
_FACE_CENTRE = np.array([0.0, 0.55])
_FRAME_CENTRE = (0.5, 0.516)

_SKIN_TONES = np.array([
    (255, 224, 196), (241, 194, 160), (224, 172, 130), (198, 134, 96),
    (161, 102, 68), (120, 74, 50), (89, 56, 40),
], dtype=np.float64)  # fmt: skip
_HAIR_COLOURS = np.array([
    (30, 25, 22), (70, 45, 30), (110, 75, 45), (200, 170, 110), (150, 70, 35), (165, 160, 155),
], dtype=np.float64)  # fmt: skip
_IRIS_COLOURS = np.array([
    (90, 55, 30), (50, 35, 25), (70, 110, 160), (80, 120, 80), (120, 100, 50),
], dtype=np.float64)  # fmt: skip
_SKIN_TEXTURES = ("gravel", "moon", "grass")  # fine-grained; brick would draw lines on the skin
_SCLERA = np.array((236.0, 230.0, 222.0))
_MOUTH_INSIDE = np.array((70.0, 22.0, 28.0))
_TEETH = np.array((235.0, 232.0, 220.0))

_STREAM_SAMPLE, _STREAM_IDENTITY = 101, 102
_MIN_CONTRAST = 50.0  # grey levels between the mean background and the skin
MIN_IMAGE_SIZE = 24


def _identity(seed: int, index: int) -> dict:
    """Shape and appearance of one person (everything that does not change between their images)."""
    rng = R.sample_rng(seed, _STREAM_IDENTITY, index)
    t = rng.uniform(0, len(_SKIN_TONES) - 1)
    i = int(t)
    skin = _SKIN_TONES[i] + (t - i) * (
        _SKIN_TONES[min(i + 1, len(_SKIN_TONES) - 1)] - _SKIN_TONES[i]
    )
    skin = skin * rng.uniform(0.95, 1.05, 3)
    hair = _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS))] * rng.uniform(0.85, 1.15)
    lips = np.clip(
        skin * np.array((0.78, 0.52, 0.55)) + np.array((25.0, 0.0, 5.0)), 0, 255
    ) * rng.uniform(0.85, 1.1)
    return {
        "face_width": rng.uniform(0.9, 1.1),
        "jaw_length": rng.uniform(0.9, 1.1),
        "chin": rng.uniform(-0.08, 0.08),
        "eye_spacing": rng.uniform(-0.04, 0.04),
        "eye_size": rng.uniform(0.9, 1.15),
        "eye_open": rng.uniform(1.0, 1.6),
        "brow_height": rng.uniform(-0.04, 0.06),
        "brow_thickness": rng.uniform(0.05, 0.09),
        "nose_length": rng.uniform(0.88, 1.12),
        "nose_width": rng.uniform(0.85, 1.25),
        "mouth_width": rng.uniform(0.88, 1.15),
        "mouth_shift": rng.uniform(-0.04, 0.04),
        "lip_thickness": rng.uniform(0.75, 1.3),
        "skin": skin,
        "skin_texture": _SKIN_TEXTURES[rng.integers(len(_SKIN_TEXTURES))],
        "skin_texture_amp": rng.uniform(0.03, 0.08),
        "hair": hair,
        "brow_colour": hair * 0.7,
        "bald": bool(rng.random() < 0.15),
        "hairline": rng.uniform(0.45, 0.75),
        "iris": _IRIS_COLOURS[rng.integers(len(_IRIS_COLOURS))],
        "lips": lips,
        "clothes": rng.uniform(20, 235, 3),
    }


def _neutral_shape(ident: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Canonical 68 points of one identity with a neutral face, and the three expression directions.

    The expression is linear: ``shape = neutral + opening * d_open + smile * d_smile + raise * d_brow``.
    """
    p = FACE_TEMPLATE.copy()
    # Face outline: width and the length of the lower face; the chin gets pointier or squarer.
    p[0:17, 0] *= ident["face_width"]
    low = p[0:17, 1] > 0
    p[0:17, 1][low] *= ident["jaw_length"]
    half = 0.867 * ident["face_width"]
    p[4:13, 1] += ident["chin"] * np.clip(1 - np.abs(p[4:13, 0]) / half, 0, 1) ** 2
    # Eyes: size and opening about each eye's centre, then spacing.
    for sl, sign in ((slice(36, 42), -1.0), (slice(42, 48), 1.0)):
        c = p[sl].mean(0)
        p[sl] = c + (p[sl] - c) * (ident["eye_size"], ident["eye_size"] * ident["eye_open"])
        p[sl, 0] += sign * ident["eye_spacing"]
    p[17:22, 0] -= ident["eye_spacing"]
    p[22:27, 0] += ident["eye_spacing"]
    p[17:27, 1] -= ident["brow_height"]
    # Nose length from the bridge top, nose base width.
    p[28:36, 1] = p[27, 1] + (p[28:36, 1] - p[27, 1]) * ident["nose_length"]
    p[31:36, 0] *= ident["nose_width"]
    # Mouth: a closed mouth has its inner lip pairs on one line (61/67, 62/66, 63/65).
    upper_in, lower_in = [61, 62, 63], [67, 66, 65]
    line = 0.5 * (p[upper_in] + p[lower_in])
    p[upper_in] = line
    p[lower_in] = line
    mouth_y = p[[60, 64], 1].mean()
    p[48:60, 1] = mouth_y + (p[48:60, 1] - mouth_y) * ident["lip_thickness"]
    p[48:68, 0] *= ident["mouth_width"]
    p[48:68, 1] += ident["mouth_shift"]
    # Expression directions: the lower lip and chin drop, the mouth corners rise, the brows rise.
    d_open = np.zeros((68, 2))
    d_open[[65, 66, 67, 55, 56, 57, 58, 59], 1] = 1.0
    jaw = np.arange(3, 14)
    d_open[jaw, 1] = np.clip(1 - (p[jaw, 0] / (0.8 * half)) ** 2, 0, 1)
    d_smile = np.zeros((68, 2))
    corners = [48, 54, 60, 64]
    d_smile[corners, 1] = -1.0
    d_smile[corners, 0] = 0.5 * np.sign(p[corners, 0])
    d_smile[[49, 53, 55, 59], 1] = -0.5
    d_brow = np.zeros((68, 2))
    d_brow[17:27, 1] = -np.r_[np.linspace(0.6, 1.0, 5), np.linspace(1.0, 0.6, 5)]
    return p, d_open, d_smile, d_brow


def _shape(ident: dict, mouth_open: float, smile: float, brow_raise: float) -> np.ndarray:
    """Canonical (unposed) 68 points of one identity with an expression."""
    if "_shape" not in ident:
        ident["_shape"] = _neutral_shape(ident)
    p, d_open, d_smile, d_brow = ident["_shape"]
    return p + mouth_open * d_open + smile * d_smile + brow_raise * d_brow


# Curves drawn through the landmarks (open Catmull-Rom splines), as one linear map of the 68 points.
_CURVES = {
    "jaw": (tuple(range(0, 17)), 5),
    "brow_r": ((17, 18, 19, 20, 21), 5),
    "brow_l": ((22, 23, 24, 25, 26), 5),
    "eye_r_up": ((36, 37, 38, 39), 5),
    "eye_r_lo": ((39, 40, 41, 36), 5),
    "eye_l_up": ((42, 43, 44, 45), 5),
    "eye_l_lo": ((45, 46, 47, 42), 5),
    "ridge": ((27, 28, 29, 30), 5),
    "base": ((31, 32, 33, 34, 35), 5),
    "lip_out_up": ((48, 49, 50, 51, 52, 53, 54), 4),
    "lip_out_lo": ((54, 55, 56, 57, 58, 59, 48), 4),
    "lip_in_up": ((60, 61, 62, 63, 64), 4),
    "lip_in_lo": ((64, 65, 66, 67, 60), 4),
}
_CURVE_M, _CURVE_D, _slices = R.spline_matrices(list(_CURVES.values()), 68)
_CURVE_SLICE = dict(zip(_CURVES, _slices, strict=True))

# Fixed parameter grids for the skull and hair arcs and the ramps of tapered bands.
_SKULL_T = np.linspace(0.0, math.pi, 40)[1:-1]
_SKULL_ARC = np.stack([np.cos(_SKULL_T), -np.sin(_SKULL_T)], axis=1)
_HAIR_T = np.linspace(0.0, 1.0, 30)
_NECK = np.array([(-0.46, 0.55), (0.46, 0.55), (0.52, 2.8), (-0.52, 2.8)])
_SHOULDERS = np.array(
    [(-0.5, 1.85), (-1.7, 2.15), (-2.4, 3.6), (2.4, 3.6), (1.7, 2.15), (0.5, 1.85), (0.0, 2.3)]
)


def _ramp(curve: str, start: float, stop: float) -> np.ndarray:
    sl = _CURVE_SLICE[curve]
    return np.linspace(start, stop, sl.stop - sl.start)


_BROW_RAMP = _ramp("brow_r", 0.55, 1.0)  # brows thicken towards the nose
_LID_RAMP = _ramp("eye_r_up", 0.6, 1.0)
_RIDGE_RAMP = _ramp("ridge", 0.35, 1.0)  # the nose widens towards the tip


def _project(
    p: np.ndarray, z: np.ndarray | float, yaw_deg: float, scale: float, angle_deg: float, centre
) -> np.ndarray:
    """Canonical face coordinates -> image pixels: a yaw-like turn (orthographic, about the vertical
    axis, using depth ``z``), then scale, in-plane rotation and translation about the face centre."""
    a = math.radians(yaw_deg)
    q = np.empty_like(p)
    q[:, 0] = p[:, 0] * math.cos(a) + z * math.sin(a) - _FACE_CENTRE[0]
    q[:, 1] = p[:, 1] - _FACE_CENTRE[1]
    return R.similarity(q, scale, angle_deg, centre)


class _Curves:
    """The landmark splines of one face in image pixels, with their unit normals."""

    def __init__(self, pts: np.ndarray) -> None:
        self.xy = _CURVE_M @ pts
        self.normal = R.unit_normals(_CURVE_D @ pts)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.xy[_CURVE_SLICE[name]]

    def band(self, name: str, thickness, away_from: np.ndarray) -> np.ndarray:
        """Band on the side of curve ``name`` that faces away from ``away_from`` (one edge is the curve)."""
        sl = _CURVE_SLICE[name]
        c, n = self.xy[sl], self.normal[sl]
        m = len(c) // 2
        side = 1.0 if float(np.dot(n[m], c[m] - away_from)) > 0 else -1.0
        t = np.asarray(thickness, dtype=np.float64)
        off = c + n * (side * (t[:, None] if t.ndim else t))
        return np.concatenate([c, off[::-1]])

    def line(self, name: str, width: float) -> np.ndarray:
        """Band of ``width`` centred on curve ``name``."""
        sl = _CURVE_SLICE[name]
        c, n = self.xy[sl], self.normal[sl] * (0.5 * width)
        return np.concatenate([c + n, (c - n)[::-1]])


def _render_face(rng: np.random.Generator, ident: dict, size: tuple[int, int], cfg: dict) -> tuple:
    w, h = size
    # --- per-sample parameters ---------------------------------------------------------------
    expr = cfg["expression"]
    is_open = rng.random() < cfg["mouth_open"]
    opening = float(rng.uniform(0.04, 0.3)) * expr if is_open else 0.0
    smile = float(rng.uniform(-0.03, 0.06)) * expr
    brow_raise = float(rng.uniform(-0.03, 0.08)) * expr
    yaw = R.uniform(rng, cfg["yaw"])
    angle = R.uniform(rng, cfg["rotation"])
    io_px = _IO_FRACTION * min(w, h) * R.uniform(rng, cfg["scale"])
    shift = np.array(
        [R.uniform(rng, cfg["translation"]) * w, R.uniform(rng, cfg["translation"]) * h]
    )
    # Fractions of the image span [-0.5, size - 0.5]: x = 0.5 is the exact middle, (w - 1) / 2.
    centre = np.array([_FRAME_CENTRE[0] * w, _FRAME_CENTRE[1] * h]) - 0.5 + shift
    gaze = rng.uniform(-1, 1, 2)
    light_gain = 1.0 + 0.5 * cfg["lighting"] * float(rng.uniform(-1, 1))
    light_dir = rng.normal(size=2)
    light_dir = (
        light_dir
        / max(float(np.hypot(*light_dir)), 1e-9)
        * cfg["lighting"]
        * float(rng.uniform(0, 1))
    )
    blur_sigma = R.uniform(rng, cfg["blur"])
    noise_std = R.uniform(rng, cfg["noise"])
    background = BACKGROUND_IMAGES[rng.integers(len(BACKGROUND_IMAGES))]

    # --- geometry: landmarks, then the unlabelled parts (skull, hair, neck, clothes) ---------------
    canon = _shape(ident, opening, smile, brow_raise)
    half_width = 0.867 * ident["face_width"]
    xc, yc = 0.5 * (canon[0, 0] + canon[16, 0]), 0.5 * (canon[0, 1] + canon[16, 1])
    a = 0.5 * (canon[16, 0] - canon[0, 0])
    extra = [_SKULL_ARC * (a, 1.25) + (xc, yc)]
    if not ident["bald"]:
        # The hairline stays well above the brows (their upper edges carry landmarks).
        top = max(ident["hairline"], 0.23 - float(canon[17:27, 1].min()))
        # Outer edge a little outside the skull, down to the temples (well above jaw points 0 and 16).
        t0 = math.asin(min(1.0, (yc - 0.05 + 0.45) / 1.32))
        tt = t0 + _HAIR_T * (math.pi - 2 * t0)
        outer = np.stack([xc + 1.07 * a * np.cos(tt), yc - 0.05 - 1.32 * np.sin(tt)], axis=1)
        ctrl = np.array(
            [outer[-1], (-0.55 * a, -top + 0.08), (xc, -top), (0.55 * a, -top + 0.08), outer[0]]
        )
        extra.append(np.concatenate([outer, R.catmull_rom(ctrl, steps=6)[1:-1]]))
    n_surface = sum(len(e) for e in extra)
    extra += [_NECK, _SHOULDERS]
    allc = np.concatenate([canon] + extra)
    z = -_SIDE_DEPTH * (allc[:, 0] / half_width) ** 2
    z[:68] += _PROTRUSION
    z[68 + n_surface : 68 + n_surface + len(_NECK)] = -0.45
    z[68 + n_surface + len(_NECK) :] = -0.5
    proj = _project(allc, z, yaw, io_px, angle, centre)
    pts = proj[:68]
    skull_px = proj[68 : 68 + len(_SKULL_ARC)]
    hair_px = proj[68 + len(_SKULL_ARC) : 68 + n_surface]
    neck_px = proj[68 + n_surface : 68 + n_surface + len(_NECK)]
    shoulders_px = proj[68 + n_surface + len(_NECK) :]
    cur = _Curves(pts)
    s = io_px  # pixels per inter-ocular unit

    # --- background, with enough contrast to the skin for the jaw line to be an edge -----------
    img = random_crop(rng, background, w, h, zoom=(0.3, 1.5))
    skin = ident["skin"] * light_gain
    # Push the background's mean away from the skin where they are close, towards the side with room.
    l_bg, l_skin = float(R.luminance(cv2.mean(img)[:3])), float(R.luminance(skin))
    if abs(l_bg - l_skin) < _MIN_CONTRAST:
        go_up = l_skin + _MIN_CONTRAST <= 235 and (l_bg >= l_skin or l_skin - _MIN_CONTRAST < 20)
        img += (l_skin + _MIN_CONTRAST - l_bg) if go_up else (l_skin - _MIN_CONTRAST - l_bg)
        np.clip(img, 0, 255, out=img)
    tex = grey_texture(rng, ident["skin_texture"], w, h, zoom=(1.0, 3.0))
    amp = ident["skin_texture_amp"]
    cv = R.Canvas(img)
    cv.add([neck_px], skin * 0.6, texture=tex, texture_amp=amp)
    cv.add([shoulders_px], ident["clothes"], texture=tex, texture_amp=0.15)
    cv.add([np.concatenate([cur["jaw"], skull_px])], skin, texture=tex, texture_amp=amp)
    if len(hair_px):
        cv.add([hair_px], ident["hair"], texture=tex, texture_amp=0.25)

    # --- brows: a band below each brow's upper edge, thicker at the inner end ----------------------
    bt = ident["brow_thickness"] * s
    eye_r, eye_l = pts[36:42].mean(0), pts[42:48].mean(0)
    # Below the upper edge: away from the point mirrored from the eye's centre over the brow's middle.
    m = len(_BROW_RAMP) // 2
    cv.add(
        [
            cur.band("brow_r", _BROW_RAMP * bt, 2 * cur["brow_r"][m] - eye_r),
            cur.band("brow_l", _BROW_RAMP[::-1] * bt, 2 * cur["brow_l"][m] - eye_l),
        ],
        ident["brow_colour"] * light_gain,
    )

    # --- eyes: white opening, iris and pupil clipped to it, lid lines outside ----------------------
    openings = [
        np.concatenate([cur["eye_r_up"], cur["eye_r_lo"][1:-1]]),
        np.concatenate([cur["eye_l_up"], cur["eye_l_lo"][1:-1]]),
    ]
    eye_w = np.hypot(*(pts[[39, 45]] - pts[[36, 42]]).T)
    eye_h = np.hypot(
        *(0.5 * (pts[[37, 43]] + pts[[38, 44]]) - 0.5 * (pts[[40, 46]] + pts[[41, 47]])).T
    )
    r_iris = np.minimum(0.75 * eye_h, 0.25 * eye_w)
    iris_c = np.stack([eye_r, eye_l]) + gaze * np.stack([0.12 * eye_w, 0.1 * eye_h], axis=1)
    lid_t = _LID_RAMP * (0.05 * s)
    # Small round things at once: irises, pupils, the nose-tip highlight and the nostrils.
    up = (pts[30] - pts[33]) / max(float(np.hypot(*(pts[30] - pts[33]))), 1e-9)
    tilt = math.degrees(math.atan2(up[0], -up[1]))
    blobs = R.ellipses(
        np.concatenate([iris_c, iris_c, pts[30:31], pts[[32, 34]] + up * 0.04 * s]),
        np.concatenate(
            [
                np.repeat(r_iris[:, None], 2, 1),
                0.45 * np.repeat(r_iris[:, None], 2, 1),
                [(0.045 * s, 0.035 * s)],
                [(0.045 * s, 0.022 * s)] * 2,
            ]
        ),
        np.array([0.0, 0.0, 0.0, 0.0, tilt, tilt, tilt]),
    )
    eyes = cv.add(openings, _SCLERA * light_gain)
    cv.add(blobs[0:2], ident["iris"] * light_gain, clip=eyes)
    cv.add(blobs[2:4], (15.0, 12.0, 12.0), clip=eyes)
    cv.add(
        [cur.band("eye_r_up", lid_t, eye_r), cur.band("eye_l_up", lid_t, eye_l)],
        ident["brow_colour"] * 0.6,
    )
    cv.add(
        [cur.band("eye_r_lo", 0.025 * s, eye_r), cur.band("eye_l_lo", 0.025 * s, eye_l)],
        skin * 0.78,
    )

    # --- nose: shaded and lit flanks meet on the ridge; shadowed underside above the base ---------
    taper = _RIDGE_RAMP * s
    toward_light = pts[30] + np.array([(1.0 if light_dir[0] >= 0 else -1.0) * s, 0.0])
    cv.add([cur.band("ridge", taper * 0.09, toward_light)], skin * 0.8)
    cv.add(
        [cur.band("ridge", taper * 0.04, 2 * pts[30] - toward_light)], np.minimum(skin * 1.12, 255)
    )
    cv.add([blobs[4]], np.minimum(skin * 1.18, 255))
    cv.add([cur.band("base", 0.06 * s, 2 * pts[33] - pts[30])], skin * 0.62)
    cv.add(blobs[5:7], skin * 0.3)

    # --- mouth ----------------------------------------------------------------------------------
    cv.add(
        [np.concatenate([cur["lip_out_up"], cur["lip_out_lo"][1:-1]])], ident["lips"] * light_gain
    )
    if opening > 0:
        mouth = cv.add(
            [np.concatenate([cur["lip_in_up"], cur["lip_in_lo"][1:-1]])], _MOUTH_INSIDE * light_gain
        )
        teeth_t = min(0.07, 0.45 * opening) * s
        cv.add([cur.band("lip_in_up", teeth_t, 2 * pts[62] - pts[66])], _TEETH, clip=mouth)
    else:
        cv.add([cur.line("lip_in_up", 0.03 * s)], ident["lips"] * 0.45)

    # --- occluder -------------------------------------------------------------------------------
    vis = np.full(68, 2.0)
    occluders = []
    if rng.random() < cfg["occlusion"]:
        face_size = float(np.hypot(*(pts[16] - pts[0])))
        major = R.uniform(rng, cfg["occluder_size"]) * face_size
        minor = major * float(rng.uniform(0.4, 1.0))
        lo, hi = pts.min(0), pts.max(0)
        oc = lo + rng.uniform(0, 1, 2) * (hi - lo)
        poly, fill, m = R.textured_occluder(rng, oc, major, minor, w, h)
        cv.add([poly], fill)
        vis[R.point_in_polygon(pts, poly)] = 1.0
        occluders.append(m)
    cv.render()

    inside = (
        (pts[:, 0] >= -0.5) & (pts[:, 0] <= w - 0.5) & (pts[:, 1] >= -0.5) & (pts[:, 1] <= h - 0.5)
    )
    vis[~inside] = 1.0

    R.apply_lighting(img, 1.0, (float(light_dir[0]), float(light_dir[1])))
    image = R.finish(img, blur_sigma, noise_std, rng, cfg["grayscale"], cfg["noise_bank"])
    meta = {
        "generator": "faces",
        "yaw": yaw,
        "rotation": angle,
        "interocular_px": io_px,
        "center": centre.tolist(),
        "mouth_open": opening,
        "smile": smile,
        "brow_raise": brow_raise,
        "light_gain": light_gain,
        "light_gradient": light_dir.tolist(),
        "blur_sigma": blur_sigma,
        "noise_std": noise_std,
        "background": background,
        "occluders": occluders,
    }
    return image, np.concatenate([pts, vis[:, None]], axis=1), meta


def make_faces(
    n: int = 256,
    image_size: int | tuple[int, int] = 96,
    seed: int = 0,
    *,
    n_identities: int | None = None,
    occlusion: float = 0.15,
    occluder_size: float | tuple[float, float] = (0.25, 0.6),
    rotation: float | tuple[float, float] = 15.0,
    yaw: float | tuple[float, float] = 20.0,
    scale: float | tuple[float, float] = (0.9, 1.1),
    translation: float | tuple[float, float] = 0.04,
    mouth_open: float = 0.4,
    expression: float = 1.0,
    lighting: float = 0.3,
    blur: float | tuple[float, float] = 0.8,
    noise: float | tuple[float, float] = 3.0,
    grayscale: bool = False,
    progress: bool = False,
) -> KeypointDataset:
    """Drawn faces with exact 68-point landmarks (layout ``"faces68"``).

    Sample ``i`` depends only on ``seed`` and ``i`` (and the identity it is
    given), so a larger ``n`` extends a smaller one.

    Parameters
    ----------
    n : int
        Number of images (``>= 0``).
    image_size : int or (int, int)
        Square size or ``(width, height)``, at least 24 pixels.
    seed : int
        Seed of everything random.
    n_identities : int, optional
        Number of people; sample ``i`` shows person ``i % n_identities`` and
        ``group`` is ``"id0000"``, ... Default ``max(1, n // 8)``.
    occlusion : float
        Probability that a textured rectangle or ellipse covers part of the face.
    occluder_size : float or (lo, hi)
        Occluder length as a fraction of the face width (jaw 0 to jaw 16); a
        number fixes it.
    rotation : float or (lo, hi)
        In-plane rotation in degrees, counter-clockwise on screen. A number
        ``a`` draws from ``[-a, a]``; a pair from ``[lo, hi]``, so ``(30, 30)``
        fixes every face at 30 degrees.
    yaw : float or (lo, hi)
        Yaw-like turn in degrees (positive: towards the image's right), drawn
        like ``rotation``; keep it within about 35 degrees.
    scale : float or (lo, hi)
        Multiplier of the default inter-ocular distance (0.375 of the smaller
        image side, as in the real faces68 crops); a number fixes it.
    translation : float or (lo, hi)
        Shift of the face centre as a fraction of the image size (``a``: ``[-a, a]``).
    mouth_open : float
        Probability that the mouth is open.
    expression : float
        Strength of the expression (mouth opening, smile, brow raise); 0 gives
        neutral faces.
    lighting : float
        Strength of the global brightness change and the light gradient.
    blur : float or (lo, hi)
        Gaussian blur sigma in pixels (``a``: ``[0, a]``).
    noise : float or (lo, hi)
        Standard deviation of additive Gaussian noise in grey levels (``a``: ``[0, a]``).
    grayscale : bool
        Return ``H x W`` grey images instead of RGB.
    progress : bool
        Show a progress bar.

    Returns
    -------
    KeypointDataset
        ``n`` samples, one instance each; ``boxes`` are the tight landmark
        boxes, ``group`` the identity and ``meta`` the parameters drawn for the
        image (pose, expression, lighting, blur, noise, occluders).

    Notes
    -----
    Visibility: ``v = 2`` for a landmark in view; ``v = 1`` when it lies inside
    an occluder or outside the image (``x`` outside ``[-0.5, W - 0.5]`` or ``y``
    outside ``[-0.5, H - 0.5]``); its ``x, y`` stay exact. Faces never use
    ``v = 0``. To build a test set at one level of a nuisance, give a pair
    with equal ends (``rotation=(30, 30)``, ``blur=(2, 2)``, ``noise=(10, 10)``)
    or ``occlusion=1.0, occluder_size=(0.5, 0.5)``.

    Examples
    --------
    >>> ds = make_faces(4, image_size=64, seed=0)
    >>> len(ds), ds.skeleton.name, ds[0].image.shape
    (4, 'faces68', (64, 64, 3))
    """
    n = R.check_count(n)
    seed = R.check_seed(seed)
    w, h = R.check_image_size(image_size, MIN_IMAGE_SIZE)
    if n_identities is None:
        n_identities = max(1, n // 8)
    n_identities = R.check_count(n_identities, "n_identities")
    if n_identities < 1:
        raise ValueError("n_identities must be >= 1")
    cfg = {
        "occlusion": R.check_probability(occlusion, "occlusion"),
        "occluder_size": R.check_range(
            occluder_size, "occluder_size", low=0.0, high=2.0, scalar="fixed"
        ),
        "rotation": R.check_range(rotation, "rotation", low=-180.0, high=180.0, scalar="symmetric"),
        "yaw": R.check_range(yaw, "yaw", low=-60.0, high=60.0, scalar="symmetric"),
        "scale": R.check_range(scale, "scale", low=0.05, high=4.0, scalar="fixed"),
        "translation": R.check_range(
            translation, "translation", low=-0.5, high=0.5, scalar="symmetric"
        ),
        "mouth_open": R.check_probability(mouth_open, "mouth_open"),
        "expression": R.check_level(expression, "expression", 0.0, 3.0),
        "lighting": R.check_level(lighting, "lighting", 0.0, 1.0),
        "blur": R.check_range(blur, "blur", low=0.0, high=20.0),
        "noise": R.check_range(noise, "noise", low=0.0, high=128.0),
        "grayscale": bool(grayscale),
        "noise_bank": R.NoiseBank(seed, w, h),
    }
    identities: dict[int, dict] = {}
    samples = []
    for i in R.progress_bar(range(n), progress, "synthetic faces"):
        k = i % n_identities
        if k not in identities:
            identities[k] = _identity(seed, k)
        rng = R.sample_rng(seed, _STREAM_SAMPLE, i)
        image, kp, meta = _render_face(rng, identities[k], (w, h), cfg)
        meta["identity"] = k
        samples.append(Sample(image, kp[None], name=f"face{i:05d}", group=f"id{k:04d}", meta=meta))
    return KeypointDataset(samples, "faces68", name="synthetic-faces")
