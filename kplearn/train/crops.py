"""Network inputs from images: checks, crops and an in-memory cache of cropped instances.

Training a small network on a CPU is cheap only if feeding it is cheaper: every
instance is cropped once, at the network input size, into a ``uint8`` tensor
(:class:`CropSet`), and augmentation then warps whole batches of those crops
(:mod:`kplearn.train.augment`).

A crop is :func:`kplearn.geometry.crop_matrix` (the padded box, or the whole image)
applied by :func:`kplearn.geometry.crop_image`, with its Gaussian pre-blur when it
shrinks the image so that fine texture does not alias; ``check_image`` is
:func:`kplearn._checks.as_rgb` and ``check_boxes`` :func:`kplearn._checks.check_boxes`.

Examples
--------
>>> import numpy as np
>>> from kplearn.data.datasets import KeypointDataset, Sample
>>> kp = np.zeros((1, 5, 3)); kp[0, :, :2] = [[10, 12], [20, 12], [15, 16], [11, 21], [19, 21]]
>>> kp[..., 2] = 2
>>> ds = KeypointDataset([Sample(np.zeros((32, 32, 3), np.uint8), kp)], "faces5")
>>> crops = build_crops(ds, (16, 16))
>>> tuple(crops.images.shape), crops.keypoints[0, 0, 0].tolist()
((1, 3, 16, 16), [4.75, 5.75, 2.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from kplearn._checks import as_rgb as check_image
from kplearn._checks import check_boxes
from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.transforms import transform_keypoints
from kplearn.geometry import crop_image, crop_matrix

__all__ = [
    "check_image",
    "check_boxes",
    "crop_matrix",
    "crop_image",
    "CropSet",
    "build_crops",
    "BOX_MODES",
]

#: ``"image"``: the whole image is the crop (face crops, single-person crops);
#: ``"box"``: each instance's annotated box, padded (people in scenes).
BOX_MODES = ("image", "box")


@dataclass
class CropSet:
    """Cropped instances held in memory.

    Attributes
    ----------
    images : Tensor, uint8 (N, 3, h, w)
    keypoints : Tensor, float32 (N, M, K, 3)
        In crop pixels; ``M = 1`` for top-down crops, the people of the image for
        whole-image (bottom-up) crops, padded with ``v = 0``. Points outside the crop
        have ``v = 0``.
    matrices : ndarray (N, 2, 3)
        Image -> crop maps.
    sample_index, instance_index : ndarray (N,)
        Where each crop comes from (``instance_index = -1`` for whole-image crops of all people).
    """

    images: torch.Tensor
    keypoints: torch.Tensor
    matrices: np.ndarray
    sample_index: np.ndarray
    instance_index: np.ndarray

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def input_size(self) -> tuple[int, int]:
        return int(self.images.shape[3]), int(self.images.shape[2])


def labelled_instances(sample: Sample, index: int, box_mode: str, why: str) -> list[int]:
    """The instances of ``sample`` with at least one labelled keypoint.

    With ``box_mode="image"`` (one whole-image crop per sample) the sample must
    hold a single instance: else a ``ValueError`` naming the sample (``index``
    when it has no name), its number of people and then ``why``.
    """
    labelled = [m for m in range(sample.num_instances) if np.any(sample.keypoints[m, :, 2] > 0)]
    if box_mode == "image" and sample.num_instances > 1:
        raise ValueError(f"sample {sample.name or index!r} has {sample.num_instances} people{why}")
    return labelled


def _instances(dataset: KeypointDataset, box_mode: str, bottom_up: bool):
    """``(sample index, instance index or -1, box or None)`` for every crop to make."""
    for i, sample in enumerate(dataset):
        if bottom_up:
            yield i, -1, None
            continue
        labelled = labelled_instances(
            sample,
            i,
            box_mode,
            "; whole-image crops need one instance per image (use box mode 'box' for scenes)",
        )
        if box_mode == "image":
            yield i, (labelled[0] if labelled else 0), None
        else:
            for m in labelled:
                yield i, m, sample.boxes[m]


def build_crops(
    dataset: KeypointDataset,
    input_size: tuple[int, int],
    *,
    box_mode: str = "image",
    padding: float = 1.25,
    bottom_up: bool = False,
    progress: bool = False,
) -> CropSet:
    """Crop every instance of a dataset once, at the network input size.

    Cropping (and resizing) once up front is what lets every epoch of
    :func:`~kplearn.train.fit` work on cached arrays, with only the augmentation done
    per batch.

    Parameters
    ----------
    dataset : KeypointDataset
    input_size : (int, int)
        ``(width, height)``.
    box_mode : {"image", "box"}
        Whole images (one instance each) or the padded annotated box of every
        labelled instance.
    padding : float
        Enlargement of annotated boxes.
    bottom_up : bool
        One whole-image crop per sample carrying all its people (``M`` = the most
        people in an image), for bottom-up models.
    progress : bool
        Show a progress bar.
    """
    if box_mode not in BOX_MODES:
        raise ValueError(f"box_mode must be one of {BOX_MODES}, got {box_mode!r}")
    if len(dataset) == 0:
        raise ValueError("cannot train or evaluate on an empty dataset")
    from kplearn.train.progress import progress_bar

    w, h = int(input_size[0]), int(input_size[1])
    k = dataset.skeleton.num_keypoints
    items = list(_instances(dataset, box_mode, bottom_up))
    if not items:
        raise ValueError("the dataset has no instance with a labelled keypoint")
    m_max = max(1, max(dataset[i].num_instances for i, _, _ in items)) if bottom_up else 1
    images = np.zeros((len(items), h, w, 3), np.uint8)
    keypoints = np.zeros((len(items), m_max, k, 3), np.float32)
    matrices = np.zeros((len(items), 2, 3))
    for n, (i, m, box) in enumerate(progress_bar(items, progress, desc="cropping")):
        sample = dataset[i]
        img = check_image(sample.image, f"sample {sample.name or i!r}")
        mat = crop_matrix((img.shape[1], img.shape[0]), box, (w, h), padding)
        images[n] = crop_image(img, mat, (w, h))
        matrices[n] = mat
        people = sample.keypoints if m < 0 else sample.keypoints[m : m + 1]
        if len(people):
            keypoints[n, : len(people)] = transform_keypoints(people, mat, (w, h))
    return CropSet(
        images=torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
        keypoints=torch.from_numpy(keypoints),
        matrices=matrices,
        sample_index=np.array([i for i, _, _ in items]),
        instance_index=np.array([m for _, m, _ in items]),
    )
