"""A torch ``Dataset`` of top-down crops: one item per annotated instance.

:class:`TopDownDataset` turns a :class:`~kplearn.data.datasets.KeypointDataset`
into fixed-size network inputs. Each item crops one instance (the whole image for
face crops, the padded box for people in scenes) to ``input_size``, optionally
with seeded random augmentation, and returns the keypoints in crop pixels together
with the image -> crop matrix, so predictions can be mapped back with
:func:`~kplearn.data.transforms.invert_matrix`. All tensors have a fixed shape,
so torch's default ``collate`` batches them.

Examples
--------
>>> import numpy as np
>>> from kplearn.data.datasets import KeypointDataset, Sample
>>> kp = np.zeros((1, 5, 3)); kp[0, :, :2] = [[10, 12], [20, 12], [15, 16], [11, 21], [19, 21]]
>>> kp[..., 2] = 2
>>> ds = KeypointDataset([Sample(np.zeros((32, 32, 3), np.uint8), kp)], "faces5")
>>> item = TopDownDataset(ds, input_size=(16, 16))[0]
>>> tuple(item["image"].shape), tuple(item["keypoints"].shape), item["keypoints"][0].tolist()
((3, 16, 16), (5, 3), [4.75, 5.75, 2.0])
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from kplearn.data.datasets import KeypointDataset
from kplearn.data.transforms import (
    AugmentConfig,
    box_to_matrix,
    crop_batch,
    image_box,
    random_augment,
    to_rgb,
    to_tensor,
    transform_keypoints,
    uncrop_keypoints,
    warp_image,
)

__all__ = ["TopDownDataset", "crop_batch", "uncrop_keypoints"]

_BOX_MODES = ("auto", "image", "box", "keypoints")


class TopDownDataset(Dataset):
    """Fixed-size crops of every instance of a keypoint dataset, as tensors.

    Parameters
    ----------
    dataset : KeypointDataset
    input_size : int or (int, int)
        ``(width, height)`` of the network input.
    augment : bool or AugmentConfig
        ``True`` uses :class:`~kplearn.data.transforms.AugmentConfig` defaults;
        ``False`` gives deterministic crops (for evaluation).
    seed : int
        The augmentation of instance ``m`` of sample ``i`` in epoch ``e`` draws from
        ``default_rng([seed, e, i, m])``, so it is reproducible whatever the order or
        worker that loads it. Call
        :meth:`set_epoch` each epoch to get fresh augmentations.
    instance : {"all", "first"}
        ``"all"``: one item per instance with at least one labelled keypoint.
        ``"first"``: one item per sample (its first instance with a labelled keypoint,
        or instance 0 if none has one), so items line up with samples.
        Samples without instances (and, for ``"all"``, instances without labelled
        keypoints) give no item; :attr:`skipped` counts them.
    padding : float
        Enlargement of annotated or keypoint boxes (not of the whole-image box).
    box : {"auto", "image", "box", "keypoints"}
        The region cropped: ``"image"`` the whole image (face crops); ``"box"`` the
        sample's annotated box; ``"keypoints"`` the tight box of the labelled
        keypoints. ``"auto"`` is ``"image"`` for single-instance datasets and
        ``"box"`` otherwise.

    Notes
    -----
    Each item is a dict:

    - ``"image"``: float32 ``(3, h, w)``, scaled to [0, 1] and normalised with
      :data:`~kplearn.data.transforms.MEAN` / :data:`~kplearn.data.transforms.STD`.
    - ``"keypoints"``: float32 ``(K, 3)`` in crop pixels; keypoints that left the
      crop have ``v = 0`` (their ``x, y`` mean nothing).
    - ``"matrix"``: float32 ``(2, 3)`` image -> crop map (mirrored when the
      augmentation flipped; the keypoints are then already left/right swapped).
    - ``"box"``: float32 ``(4,)`` the box that was cropped (before padding), image pixels.
    - ``"index"``: int, the sample index; ``"instance"``: int, the instance index.

    With a ``DataLoader`` that has ``num_workers > 0``, call :meth:`set_epoch` before
    creating each epoch's iterator; workers copy the dataset when the iterator
    starts, so with ``persistent_workers=True`` a later ``set_epoch`` never reaches them.
    """

    def __init__(
        self,
        dataset: KeypointDataset,
        input_size: int | tuple[int, int] = (64, 64),
        augment: bool | AugmentConfig = False,
        seed: int = 0,
        instance: str = "all",
        padding: float = 1.25,
        box: str = "auto",
    ) -> None:
        if not isinstance(dataset, KeypointDataset):
            raise TypeError(f"dataset must be a KeypointDataset, got {type(dataset).__name__}")
        if instance not in ("all", "first"):
            raise ValueError(f"instance must be 'all' or 'first', got {instance!r}")
        if box not in _BOX_MODES:
            raise ValueError(f"box must be one of {_BOX_MODES}, got {box!r}")
        if not padding > 0:
            raise ValueError(f"padding must be positive, got {padding}")
        if isinstance(input_size, (int, np.integer)):
            input_size = (int(input_size), int(input_size))
        w, h = input_size
        if int(w) != w or int(h) != h or w <= 0 or h <= 0:
            raise ValueError(
                f"input_size must be positive integers (width, height), got {input_size!r}"
            )
        if augment is True:
            augment = AugmentConfig()
        elif augment is False or augment is None:
            augment = None
        elif not isinstance(augment, AugmentConfig):
            raise TypeError(
                f"augment must be a bool or an AugmentConfig, got {type(augment).__name__}"
            )

        self.dataset = dataset
        self.skeleton = dataset.skeleton
        self.input_size = (int(w), int(h))
        self.augment: AugmentConfig | None = augment
        self.seed = int(seed)
        self.epoch = 0
        self.padding = float(padding)
        self.box_mode = ("image" if dataset.is_single_instance else "box") if box == "auto" else box

        self.items: list[tuple[int, int]] = []
        self.skipped = 0
        for i, sample in enumerate(dataset):
            labelled = (sample.keypoints[:, :, 2] > 0).any(axis=1)
            if instance == "first":
                if sample.num_instances == 0:
                    self.skipped += 1
                    continue
                chosen = [int(np.argmax(labelled))]  # first labelled, else 0
            else:
                chosen = [int(m) for m in np.flatnonzero(labelled)]
                self.skipped += sample.num_instances - len(chosen)
            for m in chosen:
                self._crop_box(i, m)  # fail early, naming the sample, on a degenerate box
                self.items.append((i, m))
        if not self.items:
            raise ValueError(
                f"dataset {dataset.name!r}: no instance to crop ({len(dataset)} samples)"
            )

    def __len__(self) -> int:
        return len(self.items)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose augmentations :meth:`__getitem__` draws."""
        self.epoch = int(epoch)

    def _crop_box(self, index: int, instance: int) -> tuple[np.ndarray, float]:
        sample = self.dataset[index]
        if self.box_mode == "image":
            return image_box(sample.image), 1.0
        if self.box_mode == "box":
            box = np.asarray(sample.boxes[instance], dtype=np.float64)
        else:
            kp = sample.keypoints[instance]
            lab = kp[kp[:, 2] > 0, :2]
            if len(lab) == 0:
                raise ValueError(
                    f"sample {index} ({sample.name!r}), instance {instance}: box='keypoints' "
                    "needs at least one labelled keypoint"
                )
            lo, hi = lab.min(0), lab.max(0)
            box = np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])
        if (
            not np.all(np.isfinite(box))
            or box[2] < 0
            or box[3] < 0
            or (box[2] <= 0 and box[3] <= 0)
        ):
            raise ValueError(
                f"sample {index} ({sample.name!r}), instance {instance}: cannot crop the "
                f"degenerate box {box.tolist()} (box={self.box_mode!r})"
            )
        return box, self.padding

    def original_keypoints(self, item: int) -> np.ndarray:
        """The ``(K, 3)`` keypoints of item ``item`` in image pixels (as stored)."""
        index, instance = self.items[item]
        return self.dataset[index].keypoints[instance].copy()

    def __getitem__(self, item: int) -> dict:
        if not -len(self) <= item < len(self):
            raise IndexError(f"item {item} out of range for {len(self)} items")
        index, instance = self.items[item % len(self)]
        sample = self.dataset[index]
        image = to_rgb(sample.image)
        kp = sample.keypoints[instance]
        box, padding = self._crop_box(index, instance)
        if self.augment is None:
            matrix = box_to_matrix(box, self.input_size, padding=padding)
            crop = warp_image(image, matrix, self.input_size)
            kp_crop = transform_keypoints(kp, matrix, self.input_size)
        else:
            rng = np.random.default_rng([self.seed, self.epoch, index, instance])
            crop, kp_crop, matrix = random_augment(
                image, kp, self.skeleton, rng, self.augment,
                box=box, output_size=self.input_size, padding=padding,
            )  # fmt: skip
        return {
            "image": to_tensor(crop),
            "keypoints": torch.from_numpy(kp_crop.astype(np.float32)),
            "matrix": torch.from_numpy(matrix.astype(np.float32)),
            "box": torch.from_numpy(box.astype(np.float32)),
            "index": index,
            "instance": instance,
        }

    def __repr__(self) -> str:
        return (
            f"TopDownDataset({len(self)} items from {self.dataset!r}, input_size={self.input_size}, "
            f"box={self.box_mode!r}, augment={self.augment is not None})"
        )
