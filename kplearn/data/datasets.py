"""In-memory keypoint datasets and seeded splits.

A :class:`KeypointDataset` is a list of :class:`Sample` records sharing one
layout (:class:`~kplearn.skeletons.Skeleton`). Every sample holds one image and
``M >= 0`` annotated instances, so single-object data (face crops) and
multi-person scenes use the same container: a face crop simply has ``M = 1``.

Examples
--------
>>> import numpy as np
>>> from kplearn.data.datasets import KeypointDataset, Sample
>>> kp = np.zeros((1, 5, 3)); kp[..., 2] = 2
>>> ds = KeypointDataset([Sample(np.zeros((8, 8, 3), np.uint8), kp, name=f"s{i}",
...                              group=f"p{i % 3}") for i in range(6)], "faces5")
>>> train, val = ds.split(0.34, seed=0)
>>> len(train) + len(val), set(train.groups) & set(val.groups)
(6, set())
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from kplearn._checks import check_image
from kplearn.skeletons import Skeleton, get_skeleton

__all__ = ["Sample", "KeypointDataset", "validate_keypoints", "boxes_from_keypoints"]


def validate_keypoints(
    keypoints: np.ndarray, num_keypoints: int, where: str = "keypoints"
) -> np.ndarray:
    """Check an ``(M, K, 3)`` array of ``x, y, v`` and return it as float64.

    Raises ``ValueError`` naming ``where`` when the shape is wrong, a visibility
    is not 0, 1 or 2, or a labelled keypoint (``v > 0``) has a NaN or infinite
    coordinate. Coordinates of unlabelled keypoints are set to 0, since they carry
    no meaning.
    """
    kp = np.array(keypoints, dtype=np.float64)
    if kp.ndim == 2:
        kp = kp[None]
    if kp.ndim != 3 or kp.shape[1:] != (num_keypoints, 3):
        raise ValueError(
            f"{where}: expected shape (M, {num_keypoints}, 3), got {np.shape(keypoints)}"
        )
    v = kp[..., 2]
    if not np.all(np.isin(v, (0, 1, 2))):
        bad = np.unique(v[~np.isin(v, (0, 1, 2))])
        raise ValueError(f"{where}: visibility must be 0, 1 or 2, found {bad[:5].tolist()}")
    labelled = v > 0
    if not np.all(np.isfinite(kp[..., :2][labelled])):
        m, k = np.argwhere(labelled & ~np.isfinite(kp[..., :2]).all(-1))[0]
        raise ValueError(
            f"{where}: instance {m}, keypoint {k} is labelled but has a NaN or infinite coordinate"
        )
    kp[..., :2][~labelled] = 0.0
    return kp


def boxes_from_keypoints(keypoints: np.ndarray) -> np.ndarray:
    """Tight ``[x, y, w, h]`` boxes around the labelled keypoints of ``(M, K, 3)``.

    An instance without labelled keypoints gets ``[0, 0, 0, 0]``.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    boxes = np.zeros((kp.shape[0], 4))
    for m, inst in enumerate(kp):
        lab = inst[inst[:, 2] > 0, :2]
        if len(lab):
            lo, hi = lab.min(0), lab.max(0)
            boxes[m] = (lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
    return boxes


@dataclass
class Sample:
    """One image and its annotated instances.

    Parameters
    ----------
    image : ndarray
        ``H×W×3`` RGB or ``H×W`` grey, ``uint8``.
    keypoints : ndarray, shape (M, K, 3)
        ``x, y, v`` per instance (a ``(K, 3)`` array is taken as ``M = 1``).
    boxes : ndarray, shape (M, 4), optional
        ``[x, y, w, h]``; defaults to the tight box of each instance's labelled keypoints.
    areas : ndarray, shape (M,), optional
        Object areas for OKS; default ``w * h`` of the boxes.
    iscrowd : ndarray, shape (M,), optional
        COCO crowd flags (crowd instances are ignore regions in COCO AP).
    name : str
        Image identifier (file name for real data).
    group : str, optional
        Group for splitting, e.g. the identity of the person.
    meta : dict
        Anything else a generator or reader wants to keep (exact parameters, ...).
    """

    image: np.ndarray
    keypoints: np.ndarray
    boxes: np.ndarray | None = None
    areas: np.ndarray | None = None
    iscrowd: np.ndarray | None = None
    name: str = ""
    group: str | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        kp = np.asarray(self.keypoints, dtype=np.float64)
        if kp.ndim == 2:
            kp = kp[None]
        if kp.ndim != 3 or kp.shape[-1] != 3:
            raise ValueError(
                f"sample {self.name!r}: keypoints must be (M, K, 3), got {np.shape(self.keypoints)}"
            )
        self.keypoints = kp
        try:
            self.image = check_image(self.image, f"sample {self.name!r}: image")
        except ValueError as err:  # keep the message tests and users know: "image must be uint8 ..."
            raise ValueError(f"sample {self.name!r}: image must be uint8 H×W or H×W×3 RGB ({err})") from None
        m = kp.shape[0]
        self.boxes = (
            boxes_from_keypoints(kp)
            if self.boxes is None
            else np.asarray(self.boxes, float).reshape(m, 4)
        )
        if np.any(self.boxes[:, 2:] < 0):
            raise ValueError(f"sample {self.name!r}: box with negative width or height")
        self.areas = (
            self.boxes[:, 2] * self.boxes[:, 3]
            if self.areas is None
            else np.asarray(self.areas, float).reshape(m)
        )
        self.iscrowd = (
            np.zeros(m, bool) if self.iscrowd is None else np.asarray(self.iscrowd, bool).reshape(m)
        )

    @property
    def num_instances(self) -> int:
        return self.keypoints.shape[0]

    @property
    def image_size(self) -> tuple[int, int]:
        """``(width, height)`` of the image."""
        return int(self.image.shape[1]), int(self.image.shape[0])


class KeypointDataset(Sequence[Sample]):
    """A list of samples in one keypoint layout.

    Indexing with an int gives a :class:`Sample`; with a slice or an index
    array, a new dataset sharing the samples.
    """

    def __init__(self, samples: Sequence[Sample], skeleton: str | Skeleton, name: str = "") -> None:
        self.skeleton = get_skeleton(skeleton)
        self.samples = list(samples)
        self.name = name
        k = self.skeleton.num_keypoints
        for s in self.samples:
            if s.keypoints.shape[1] != k:
                raise ValueError(
                    f"{name or 'dataset'}: sample {s.name!r} has {s.keypoints.shape[1]} keypoints, "
                    f"layout {self.skeleton.name!r} has {k}"
                )

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, (int, np.integer)):
            return self.samples[int(index)]
        if isinstance(index, slice):
            return KeypointDataset(self.samples[index], self.skeleton, self.name)
        idx = np.asarray(index)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return KeypointDataset([self.samples[int(i)] for i in idx], self.skeleton, self.name)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __repr__(self) -> str:
        return f"KeypointDataset({self.name!r}, {len(self)} samples, layout={self.skeleton.name!r})"

    @property
    def groups(self) -> list[str]:
        """Group of each sample; a sample without a group is its own group."""
        return [
            s.group if s.group is not None else f"__sample_{i}" for i, s in enumerate(self.samples)
        ]

    @property
    def is_single_instance(self) -> bool:
        return all(s.num_instances == 1 for s in self.samples)

    def keypoints_array(self) -> np.ndarray:
        """``(N, K, 3)`` keypoints of a single-instance dataset."""
        if not self.is_single_instance:
            raise ValueError("keypoints_array needs exactly one instance per sample")
        if not self.samples:
            return np.zeros((0, self.skeleton.num_keypoints, 3))
        return np.stack([s.keypoints[0] for s in self.samples])

    def images_array(self) -> np.ndarray:
        """``(N, H, W[, 3])`` stack of images; they must all have the same size."""
        shapes = {s.image.shape for s in self.samples}
        if len(shapes) != 1:
            raise ValueError(f"images_array needs images of one size, found {sorted(shapes)[:3]}")
        return np.stack([s.image for s in self.samples])

    def split(
        self, fraction: float = 0.1, seed: int = 0, by_group: bool = True
    ) -> tuple[KeypointDataset, KeypointDataset]:
        """Seeded split into ``(train, held_out)``.

        With ``by_group`` (the default) whole groups go to one side, so no person
        is in both; the held-out side gets the groups whose samples first reach
        ``fraction`` of the data in a seeded random order of groups.
        """
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1), got {fraction}")
        if len(self) < 2:
            raise ValueError("need at least two samples to split")
        rng = np.random.default_rng(seed)
        if by_group:
            groups = np.array(self.groups)
            uniq = np.unique(groups)
            if len(uniq) < 2:
                raise ValueError("need at least two groups to split by group")
            order = rng.permutation(len(uniq))
            sizes = np.array([np.sum(groups == uniq[i]) for i in order])
            target = fraction * len(self)
            n_held = max(1, min(len(uniq) - 1, int(np.searchsorted(np.cumsum(sizes), target) + 1)))
            held_groups = set(uniq[order[:n_held]])
            held = np.array([g in held_groups for g in groups])
        else:
            n_held = max(1, min(len(self) - 1, int(round(fraction * len(self)))))
            held = np.zeros(len(self), bool)
            held[rng.permutation(len(self))[:n_held]] = True
        return self[~held], self[held]

    def subset(self, n: int, seed: int = 0) -> KeypointDataset:
        """A seeded random subset of ``n`` samples (all of them if ``n >= len``)."""
        if n >= len(self):
            return self
        idx = np.sort(np.random.default_rng(seed).permutation(len(self))[:n])
        return self[idx]
