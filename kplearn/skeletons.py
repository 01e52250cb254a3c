"""Keypoint layouts: names, edges to draw, left/right flip pairs and OKS sigmas.

Every array of keypoints in kplearn has a layout, and the layout is a
:class:`Skeleton` registered by name. Every layout kplearn knows is defined here, so
:func:`get_skeleton` finds it as soon as this module is imported:

- ``"coco17"`` (COCO body), ``"mpii16"`` (MPII body), ``"faces68"`` (iBUG 300-W),
  ``"faces5"`` (eyes, nose, mouth corners), ``"knee6"`` (knee radiograph landmarks);
- the synthetic shapes' layouts (:data:`SHAPE_LAYOUTS`): ``"triangle3c"``, ``"quad4c"``,
  ``"pentagon5c"``, ``"star10c"``, ``"checker3x3"``.

Layouts read from a run directory or a file are registered when they are read. Left and right always mean the *subject's* left and right, as in COCO:
on a frontal face the subject's right eye appears on the image's left.

Examples
--------
>>> from kplearn.skeletons import get_skeleton
>>> coco = get_skeleton("coco17")
>>> coco.num_keypoints, coco.index("left_eye")
(17, 1)
>>> int(coco.flip_index[coco.index("left_eye")]) == coco.index("right_eye")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Skeleton",
    "get_skeleton",
    "register_skeleton",
    "list_skeletons",
    "faces68_to_faces5",
    "COCO17",
    "FACES68",
    "FACES5",
    "MPII16",
    "KNEE6",
    "SHAPE_LAYOUTS",
]


@dataclass(frozen=True)
class Skeleton:
    """A keypoint layout.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"coco17"``.
    keypoint_names : sequence of str
        One name per keypoint, in array order.
    edges : sequence of (int, int)
        Pairs of keypoint indices joined when drawing.
    flip_pairs : sequence of (int, int)
        Left/right pairs that swap under a horizontal flip.
    sigmas : sequence of float, optional
        Per-keypoint OKS sigmas (COCO convention: the paper's kappa is ``2 * sigma``).
    parts : sequence of str, optional
        A part label per keypoint (``"eye"``, ``"jaw"``, ...) used to colour drawings.
    """

    name: str
    keypoint_names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...] = ()
    flip_pairs: tuple[tuple[int, int], ...] = ()
    sigmas: tuple[float, ...] | None = None
    parts: tuple[str, ...] | None = None
    _flip_index: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        k = len(self.keypoint_names)
        if len(set(self.keypoint_names)) != k:
            raise ValueError(f"skeleton {self.name!r}: keypoint names are not unique")
        object.__setattr__(self, "keypoint_names", tuple(self.keypoint_names))
        object.__setattr__(self, "edges", tuple((int(a), int(b)) for a, b in self.edges))
        object.__setattr__(self, "flip_pairs", tuple((int(a), int(b)) for a, b in self.flip_pairs))
        for a, b in self.edges + self.flip_pairs:
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(
                    f"skeleton {self.name!r}: index pair ({a}, {b}) out of range 0..{k - 1}"
                )
        flip = np.arange(k)
        seen: set[int] = set()
        for a, b in self.flip_pairs:
            if a in seen or b in seen or a == b:
                raise ValueError(f"skeleton {self.name!r}: keypoint in more than one flip pair")
            seen.update((a, b))
            flip[a], flip[b] = b, a
        flip.setflags(write=False)
        object.__setattr__(self, "_flip_index", flip)
        if self.sigmas is not None:
            if len(self.sigmas) != k:
                raise ValueError(
                    f"skeleton {self.name!r}: {len(self.sigmas)} sigmas for {k} keypoints"
                )
            object.__setattr__(self, "sigmas", tuple(float(s) for s in self.sigmas))
        if self.parts is not None:
            if len(self.parts) != k:
                raise ValueError(
                    f"skeleton {self.name!r}: {len(self.parts)} part labels for {k} keypoints"
                )
            object.__setattr__(self, "parts", tuple(self.parts))

    @property
    def num_keypoints(self) -> int:
        """Number of keypoints ``K``."""
        return len(self.keypoint_names)

    @property
    def flip_index(self) -> np.ndarray:
        """Permutation ``p`` such that ``keypoints[p]`` swaps every left/right pair."""
        return self._flip_index

    @property
    def sigma_array(self) -> np.ndarray:
        """OKS sigmas as a float array; raises if the layout defines none."""
        if self.sigmas is None:
            raise ValueError(
                f"skeleton {self.name!r} defines no OKS sigmas; pass sigmas explicitly"
            )
        return np.asarray(self.sigmas, dtype=np.float64)

    def index(self, name: str) -> int:
        """Index of the keypoint called ``name``."""
        try:
            return self.keypoint_names.index(name)
        except ValueError:
            raise KeyError(f"skeleton {self.name!r} has no keypoint {name!r}") from None

    def check_keypoints(self, keypoints: np.ndarray, what: str = "keypoints") -> np.ndarray:
        """Check that ``keypoints`` has shape ``(..., K, 2 or 3)`` for this layout and return it as float."""
        arr = np.asarray(keypoints, dtype=np.float64)
        if arr.ndim < 2 or arr.shape[-1] not in (2, 3) or arr.shape[-2] != self.num_keypoints:
            raise ValueError(
                f"{what}: expected shape (..., {self.num_keypoints}, 2 or 3) for layout "
                f"{self.name!r}, got {arr.shape}"
            )
        return arr


_REGISTRY: dict[str, Skeleton] = {}


def register_skeleton(skeleton: Skeleton, *, overwrite: bool = False) -> Skeleton:
    """Register ``skeleton`` under its name so that :func:`get_skeleton` finds it."""
    if skeleton.name in _REGISTRY and not overwrite and _REGISTRY[skeleton.name] != skeleton:
        raise ValueError(f"a different skeleton is already registered as {skeleton.name!r}")
    _REGISTRY[skeleton.name] = skeleton
    return skeleton


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """Look a layout up by name (a :class:`Skeleton` is returned unchanged)."""
    if isinstance(name, Skeleton):
        return name
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown skeleton {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None


def list_skeletons() -> list[str]:
    """Names of all registered layouts."""
    return sorted(_REGISTRY)


def _chain(idx: Sequence[int], closed: bool = False) -> list[tuple[int, int]]:
    pairs = list(zip(idx[:-1], idx[1:], strict=True))
    if closed:
        pairs.append((idx[-1], idx[0]))
    return pairs


# --- COCO 17 body keypoints ------------------------------------------------
_COCO_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
# The COCO annotation file lists the skeleton 1-based; these are the same edges 0-based.
_COCO_EDGES = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
    (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
)  # fmt: skip
_COCO_SIGMAS = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
    0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
)  # fmt: skip
_COCO_PARTS = ("head",) * 5 + ("arm",) * 6 + ("leg",) * 6

COCO17 = register_skeleton(
    Skeleton(
        name="coco17",
        keypoint_names=_COCO_NAMES,
        edges=_COCO_EDGES,
        flip_pairs=tuple((i, i + 1) for i in range(1, 17, 2)),
        sigmas=_COCO_SIGMAS,
        parts=_COCO_PARTS,
    )
)

# --- iBUG 300-W 68 facial landmarks -----------------------------------------
# "right" is the subject's right: on a frontal face it appears on the image's left.
_F68_GROUPS = (
    ("jaw", 17), ("right_brow", 5), ("left_brow", 5), ("nose_bridge", 4), ("nose_base", 5),
    ("right_eye", 6), ("left_eye", 6), ("mouth_outer", 12), ("mouth_inner", 8),
)  # fmt: skip
_F68_NAMES = tuple(f"{g}_{i}" for g, n in _F68_GROUPS for i in range(n))
_F68_PARTS = tuple(g for g, n in _F68_GROUPS for _ in range(n))
_F68_FLIP = (
    tuple((i, 16 - i) for i in range(8))  # jaw
    + tuple((17 + i, 26 - i) for i in range(5))  # brows
    + ((31, 35), (32, 34))  # nostrils
    + ((36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46))  # eyes
    + ((48, 54), (49, 53), (50, 52), (59, 55), (58, 56))  # outer lips
    + ((60, 64), (61, 63), (67, 65))  # inner lips
)
_F68_EDGES = tuple(
    _chain(range(0, 17))
    + _chain(range(17, 22))
    + _chain(range(22, 27))
    + _chain(range(27, 31))
    + [(30, 33)]
    + _chain(range(31, 36))
    + _chain(range(36, 42), closed=True)
    + _chain(range(42, 48), closed=True)
    + _chain(range(48, 60), closed=True)
    + _chain(range(60, 68), closed=True)
)

FACES68 = register_skeleton(
    Skeleton(
        name="faces68",
        keypoint_names=_F68_NAMES,
        edges=_F68_EDGES,
        flip_pairs=_F68_FLIP,
        parts=_F68_PARTS,
    )
)

#: Indices of the outer eye corners in faces68 (the inter-ocular normaliser).
FACES68_OUTER_EYE_CORNERS = (36, 45)

FACES5 = register_skeleton(
    Skeleton(
        name="faces5",
        keypoint_names=("right_eye", "left_eye", "nose", "right_mouth_corner", "left_mouth_corner"),
        edges=((0, 1), (0, 2), (1, 2), (2, 3), (2, 4), (3, 4)),
        flip_pairs=((0, 1), (3, 4)),
        parts=("eye", "eye", "nose", "mouth", "mouth"),
    )
)


# --- MPII 16 body joints -------------------------------------------------------
# MPII's joint order (its own ids 0..15); r/l are the subject's right and left.
_MPII_NAMES = (
    "r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax",
    "upper_neck", "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow",
    "l_wrist",
)  # fmt: skip
_MPII_EDGES = (
    (0, 1), (1, 2), (2, 6), (6, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9),
    (7, 12), (12, 11), (11, 10), (7, 13), (13, 14), (14, 15),
)  # fmt: skip
# MPII defines no OKS sigmas; these are the values MMPose's MPII config adapts from COCO.
_MPII_SIGMAS = (
    0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026,
    0.062, 0.072, 0.179, 0.179, 0.072, 0.062,
)  # fmt: skip
_MPII_PARTS = ("leg",) * 6 + ("torso",) * 2 + ("head",) * 2 + ("arm",) * 6

MPII16 = register_skeleton(
    Skeleton(
        name="mpii16",
        keypoint_names=_MPII_NAMES,
        edges=_MPII_EDGES,
        flip_pairs=((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13)),
        sigmas=_MPII_SIGMAS,
        parts=_MPII_PARTS,
    )
)

# --- knee radiograph ------------------------------------------------------------
#: Six landmarks of a knee on an antero-posterior (AP) radiograph of a right knee (medial on
#: the image's right): a point on the femoral shaft axis, the lowest points of the two femoral
#: condyles, the outer corners of the tibial plateau and a point on the tibial shaft axis
#: (:func:`kplearn.data.synthetic.make_xrays`).
KNEE6 = register_skeleton(
    Skeleton(
        name="knee6",
        keypoint_names=(
            "femur_shaft",
            "lateral_femoral_condyle",
            "medial_femoral_condyle",
            "lateral_tibial_plateau",
            "medial_tibial_plateau",
            "tibia_shaft",
        ),
        edges=((0, 1), (0, 2), (1, 2), (3, 4), (3, 5), (4, 5), (1, 3), (2, 4)),
        parts=("femur", "femur", "femur", "tibia", "tibia", "tibia"),
    )
)


# --- synthetic shapes (kplearn.data.synthetic.make_shapes) ----------------------
def _polygon_layout(name: str, n: int) -> Skeleton:
    names = tuple(f"corner_{i}" for i in range(n)) + ("centre",)
    edges = [(i, (i + 1) % n) for i in range(n)] + [(i, n) for i in range(n)]
    flips = [(i, n - i) for i in range(1, n) if i < n - i]
    return Skeleton(name, names, edges, flips, parts=("corner",) * n + ("centre",))


def _star_layout() -> Skeleton:
    names = (
        tuple(f"tip_{i}" for i in range(5)) + tuple(f"inner_{i}" for i in range(5)) + ("centre",)
    )
    outline = []
    for i in range(5):
        outline += [(i, 5 + i), (5 + i, (i + 1) % 5)]
    # Mirroring about the vertical swaps tip i with tip -i and inner i with inner 4 - i.
    flips = [(1, 4), (2, 3), (5, 9), (6, 8)]
    return Skeleton(
        "star10c",
        names,
        outline + [(i, 10) for i in range(5)],
        flips,
        parts=("tip",) * 5 + ("inner",) * 5 + ("centre",),
    )


def _checker_layout() -> Skeleton:
    names = tuple(f"corner_r{r}c{c}" for r in range(3) for c in range(3))
    edges = [(3 * r + c, 3 * r + c + 1) for r in range(3) for c in range(2)]
    edges += [(3 * r + c, 3 * (r + 1) + c) for r in range(2) for c in range(3)]
    flips = [(3 * r, 3 * r + 2) for r in range(3)]
    return Skeleton("checker3x3", names, edges, flips, parts=("corner",) * 9)


#: The layout of each synthetic shape kind (see :mod:`kplearn.data.synthetic.shapes`).
SHAPE_LAYOUTS: dict[str, Skeleton] = {
    kind: register_skeleton(sk)
    for kind, sk in (
        ("triangle", _polygon_layout("triangle3c", 3)),
        ("quad", _polygon_layout("quad4c", 4)),
        ("pentagon", _polygon_layout("pentagon5c", 5)),
        ("star", _star_layout()),
        ("checkerboard", _checker_layout()),
    )
}


def faces68_to_faces5(keypoints: np.ndarray) -> np.ndarray:
    """Derive the 5-point layout from 68 landmarks.

    Eye centres are the mean of the six eye-contour points (36–41, 42–47), the
    nose is the nose tip (30) and the mouth corners are 48 and 54. A derived
    point's visibility is the minimum visibility of the points it is made of, so
    it is unlabelled (0) as soon as one of them is.

    Parameters
    ----------
    keypoints : ndarray, shape (..., 68, 3)

    Returns
    -------
    ndarray, shape (..., 5, 3)

    Examples
    --------
    >>> import numpy as np
    >>> kp = np.zeros((68, 3)); kp[:, 2] = 2; kp[36:42, 0] = 10.0
    >>> faces68_to_faces5(kp)[0].tolist()
    [10.0, 0.0, 2.0]
    """
    kp = FACES68.check_keypoints(keypoints, "faces68 keypoints")
    if kp.shape[-1] != 3:
        raise ValueError("faces68_to_faces5 needs (..., 68, 3) keypoints with visibility")
    groups = (range(36, 42), range(42, 48), (30,), (48,), (54,))
    out = np.zeros(kp.shape[:-2] + (5, 3))
    for j, idx in enumerate(groups):
        sel = kp[..., list(idx), :]
        vis = sel[..., 2].min(axis=-1)
        out[..., j, :2] = sel[..., :2].mean(axis=-2)
        out[..., j, 2] = vis
        out[..., j, :2] = np.where(vis[..., None] > 0, out[..., j, :2], 0.0)
    return out
