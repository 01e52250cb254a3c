"""Predict keypoints in original image coordinates, with flip test-time augmentation.

:func:`predict` crops each image (its box, padded, or the whole image), runs
the network, decodes, and maps the keypoints back through the inverse of the
crop's affine map, so they are in the pixels of the image given.

Flip test-time augmentation runs the network a second time on the mirrored
crop and maps that output back before averaging: heatmaps are mirrored and
their left/right channels swapped — on kplearn's unbiased heatmap grid
(``x' = (x + 0.5) / s - 0.5``) a mirrored input is exactly a mirrored heatmap, so no
one-pixel shift is needed — and coordinates are mirrored (``u -> -u`` in
normalised units) with left/right swapped.

Example
-------
>>> import numpy as np
>>> from kplearn.models import build_model
>>> net = build_model("heatmap", "faces68", input_size=(64, 64))
>>> kp = predict(net, [np.zeros((160, 160, 3), np.uint8)])
>>> kp.shape
(1, 68, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from kplearn.data.transforms import invert_matrix
from kplearn.models.base import KeypointNet
from kplearn.train.augment import normalize_images
from kplearn.train.crops import check_boxes, check_image, crop_image, crop_matrix

__all__ = [
    "predict",
    "predict_crops",
    "forward_batches",
    "as_image_list",
    "uncrop",
    "memory_format_for",
]


def _device_of(model: torch.nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def memory_format_for(device: torch.device) -> torch.memory_format:
    """``channels_last`` on the CPU (oneDNN convolutions run 1.2-2x faster), the default elsewhere.

    Training and prediction always use the same format, so a reloaded checkpoint
    predicts bit-identically.
    """
    return torch.channels_last if torch.device(device).type == "cpu" else torch.contiguous_format


@torch.no_grad()
def forward_batches(
    model: KeypointNet, images: torch.Tensor, flip_test: bool = True, batch_size: int = 64
):
    """Yield ``(start, output dict)`` for ``uint8`` crops ``(N, 3, h, w)``, flip-merged if asked."""
    was_training = model.training
    model.eval()
    device = _device_of(model)
    fmt = memory_format_for(device)
    model.to(memory_format=fmt)
    try:
        for start in range(0, images.shape[0], batch_size):
            x = normalize_images(images[start : start + batch_size].to(device)).contiguous(
                memory_format=fmt
            )
            out = model(x)
            if flip_test:
                out = model.merge_flip(out, model(x.flip(-1)))
            yield start, out
    finally:
        model.train(was_training)


def predict_crops(
    model: KeypointNet, images: torch.Tensor, flip_test: bool = True, batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints ``(N, K, 2)`` in crop pixels and scores ``(N, K)`` for ``uint8`` crops ``(N, 3, h, w)``."""
    n, k = images.shape[0], model.num_keypoints
    xy, scores = np.zeros((n, k, 2)), np.zeros((n, k))
    for start, out in forward_batches(model, images, flip_test, batch_size):
        p, s = model.decode(out)
        xy[start : start + len(p)], scores[start : start + len(p)] = p, s
    return xy, scores


def uncrop(xy: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Crop-pixel points ``(N, ..., 2)`` -> image pixels through the inverse of each image -> crop map."""
    out = np.empty_like(np.asarray(xy, np.float64))
    for i, m in enumerate(matrices):
        inv = invert_matrix(m)
        out[i] = xy[i] @ inv[:, :2].T + inv[:, 2]
    return out


def as_image_list(images) -> list[np.ndarray]:
    """Images as a list of checked ``H×W×3`` uint8 arrays (a single image is refused: wrap it in a list)."""
    if isinstance(images, np.ndarray):
        if images.ndim == 2 or (images.ndim == 3 and images.shape[-1] in (3, 4)):
            # A lone image would be read as a stack of rows: ask for a list instead.
            raise ValueError(
                "predict takes a list (or N-stack) of images; wrap a single image in a list"
            )
        imgs = list(images)
    else:
        imgs = list(images)
    if not imgs:
        raise ValueError("no images to predict on")
    return [check_image(img, f"image {i}") for i, img in enumerate(imgs)]


def predict(
    model,
    images: Sequence[np.ndarray] | np.ndarray,
    boxes=None,
    *,
    flip_test: bool = True,
    batch_size: int = 64,
    return_scores: bool = False,
    padding: float | None = None,
):
    """Keypoints in original image pixels for a list of images.

    Parameters
    ----------
    model : KeypointNet, a run loaded by :func:`kplearn.train.load_run`, or a run directory
    images : list of ndarray or ndarray (N, H, W[, C])
        uint8 grey, RGB or RGBA (alpha ignored); sizes may differ.
    boxes : array (N, 4) or list of ``[x, y, w, h]`` / ``None``, optional
        One box per image, enlarged by ``padding`` (the run's, 1.25 by default) and
        cropped to the network input; ``None`` crops the whole image. A box wholly
        outside its image is an error.
    flip_test : bool
        Average with the prediction on the mirrored crop (left/right handled).
    batch_size : int
    return_scores : bool
        Also return per-keypoint confidences ``(N, K)``.

    Returns
    -------
    keypoints : ndarray (N, K, 3)
        ``x, y`` in image pixels and ``v = 2`` (predicted).
    scores : ndarray (N, K), if ``return_scores``
    """
    from kplearn.train.runs import as_localiser

    loc = as_localiser(model)
    if getattr(loc, "family", "classical") != "deep":
        kp = loc.predict(images, boxes)
        return (kp, np.ones(kp.shape[:2])) if return_scores else kp
    net = loc.model
    if net.output_kind == "paf":
        raise ValueError("a PAF model finds several people per image: use predict_people")
    pad = loc.padding if padding is None else float(padding)
    imgs = as_image_list(images)
    sizes = [(im.shape[1], im.shape[0]) for im in imgs]
    box_list = check_boxes(boxes, sizes)
    w, h = net.input_size
    crops = np.zeros((len(imgs), h, w, 3), np.uint8)
    matrices = np.zeros((len(imgs), 2, 3))
    for i, (img, box) in enumerate(zip(imgs, box_list, strict=True)):
        matrices[i] = crop_matrix(sizes[i], box, (w, h), pad)
        crops[i] = crop_image(img, matrices[i], (w, h))
    tensor = torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous()
    xy, scores = predict_crops(net, tensor, flip_test, batch_size)
    out = np.concatenate([uncrop(xy, matrices), np.full(xy.shape[:2] + (1,), 2.0)], axis=-1)
    return (out, scores) if return_scores else out


def predict_people(model, images, *, flip_test: bool = True, batch_size: int = 16, **group_kwargs):
    """Several people per image with a bottom-up (PAF) model.

    Returns a list with, per image, ``(people (M, K, 3), scores (M,))``: ``x, y`` in
    image pixels and the peak value as third column (0 for keypoints not found).
    """
    from kplearn.train.runs import as_localiser

    net = as_localiser(model).model
    if net.output_kind != "paf":
        raise ValueError(
            "predict_people needs a bottom-up PAF model; use predict for top-down models"
        )
    imgs = as_image_list(images)
    w, h = net.input_size
    crops = np.zeros((len(imgs), h, w, 3), np.uint8)
    matrices = np.zeros((len(imgs), 2, 3))
    for i, img in enumerate(imgs):
        matrices[i] = crop_matrix((img.shape[1], img.shape[0]), None, (w, h))
        crops[i] = crop_image(img, matrices[i], (w, h))
    tensor = torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous()
    results = []
    for start, out in forward_batches(net, tensor, flip_test, batch_size):
        for j, (people, scores) in enumerate(net.decode_people(out, **group_kwargs)):
            if len(people):
                xy = uncrop(people[None, ..., :2], matrices[start + j : start + j + 1])[0]
                people = np.concatenate(
                    [np.where(people[..., 2:] > 0, xy, 0.0), people[..., 2:]], -1
                )
            results.append((people, scores))
    return results
