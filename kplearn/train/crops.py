"""Network inputs from images: checks, crops and an in-memory cache of cropped instances.

Training a small network on a CPU is cheap only if feeding it is cheaper: every
instance is cropped once, at the network input size, into a ``uint8`` tensor
(:class:`CropSet`), and augmentation then warps whole batches of those crops
(:mod:`kplearn.train.augment`).

A crop is the affine map of :func:`kplearn.data.transforms.box_to_matrix` (pixel-centre
convention, as OpenCV), applied with a Gaussian pre-blur when it shrinks the image
so that fine texture does not alias.

Example
-------
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

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from kplearn.data.datasets import KeypointDataset
from kplearn.data.transforms import box_to_matrix, image_box, transform_keypoints, warp_image

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


def check_image(image, where: str = "image") -> np.ndarray:
    """Return an image as ``H×W×3`` uint8 RGB, or raise ``ValueError`` saying what is wrong.

    Accepted: uint8 grey ``H×W`` or ``H×W×1`` (repeated to three channels), RGB
    ``H×W×3``, and RGBA ``H×W×4`` (the alpha channel is dropped, as the networks
    see colour only). Refused with a message: 16-bit and float images (convert them
    to 8 bits first, e.g. ``(img >> 8).astype(np.uint8)`` for 16-bit), other channel
    counts, and empty images.
    """
    img = np.asarray(image)
    if img.dtype == np.uint16:
        raise ValueError(
            f"{where}: 16-bit image; kplearn models take 8-bit images, convert it first "
            "(e.g. (image >> 8).astype(np.uint8))"
        )
    if img.dtype != np.uint8:
        raise ValueError(f"{where}: expected a uint8 image, got dtype {img.dtype}")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    elif img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(
            f"{where}: expected H×W grey, H×W×3 RGB or H×W×4 RGBA, got shape {img.shape}"
        )
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"{where}: empty image of shape {img.shape}")
    return np.ascontiguousarray(img)


def check_boxes(boxes, image_sizes: Sequence[tuple[int, int]]) -> list[np.ndarray | None]:
    """Validate one ``[x, y, w, h]`` box (or ``None``) per image against that image.

    Raises ``ValueError`` naming the box when it has the wrong shape, a NaN/inf, a
    negative or zero size, or lies wholly outside its image ``[-0.5, W-0.5] × [-0.5, H-0.5]``.
    """
    if boxes is None:
        return [None] * len(image_sizes)
    boxes = list(boxes)
    if len(boxes) != len(image_sizes):
        raise ValueError(f"got {len(image_sizes)} images but {len(boxes)} boxes")
    out: list[np.ndarray | None] = []
    for i, (box, (w, h)) in enumerate(zip(boxes, image_sizes, strict=True)):
        if box is None:
            out.append(None)
            continue
        b = np.asarray(box, dtype=np.float64)
        if b.shape != (4,):
            raise ValueError(f"box {i}: expected [x, y, w, h], got shape {b.shape}")
        if not np.all(np.isfinite(b)):
            raise ValueError(f"box {i}: has a NaN or infinite value: {b.tolist()}")
        if b[2] < 0 or b[3] < 0 or (b[2] == 0 and b[3] == 0):
            raise ValueError(
                f"box {i}: width and height must be >= 0 and not both 0, got {b.tolist()}"
            )
        if b[0] + b[2] < -0.5 or b[1] + b[3] < -0.5 or b[0] > w - 0.5 or b[1] > h - 0.5:
            raise ValueError(f"box {i} {b.tolist()} lies outside its {w}×{h} image")
        out.append(b)
    return out


def crop_matrix(
    image_size: tuple[int, int], box, input_size: tuple[int, int], padding: float = 1.25
) -> np.ndarray:
    """Image -> input affine map: the whole image (``box=None``, no padding) or the padded box."""
    if box is None:
        return box_to_matrix(image_box(image_size), input_size, padding=1.0)
    return box_to_matrix(box, input_size, padding=padding)


def crop_image(image: np.ndarray, matrix: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """Warp ``image`` with ``matrix`` to ``input_size``, blurring first when it shrinks.

    Bilinear warping of a shrunk image aliases; a Gaussian of std
    ``0.5 * sqrt(1 / s**2 - 1)`` for a scale ``s < 1`` removes what the smaller grid cannot hold.
    """
    scale = float(np.sqrt(abs(np.linalg.det(np.asarray(matrix)[:, :2]))))
    if scale < 0.9:
        sigma = 0.5 * np.sqrt(1.0 / scale**2 - 1.0)
        image = cv2.GaussianBlur(
            image, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE
        )
    return warp_image(image, matrix, input_size)


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


def _instances(dataset: KeypointDataset, box_mode: str, bottom_up: bool):
    """``(sample index, instance index or -1, box or None)`` for every crop to make."""
    for i, sample in enumerate(dataset):
        if bottom_up:
            yield i, -1, None
            continue
        labelled = [m for m in range(sample.num_instances) if np.any(sample.keypoints[m, :, 2] > 0)]
        if box_mode == "image":
            if sample.num_instances > 1:
                raise ValueError(
                    f"sample {sample.name or i!r} has {sample.num_instances} people; whole-image crops "
                    "need one instance per image (use box mode 'box' for scenes)"
                )
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
