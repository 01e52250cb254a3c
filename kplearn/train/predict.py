"""Network inference: keypoints in original image coordinates, with flip test-time augmentation.

This module runs a :class:`~kplearn.models.base.KeypointNet` and nothing else; the
front door that also takes a localiser or a run directory (deep or classical) is
:func:`kplearn.train.runs.predict`, exported as :func:`kplearn.train.predict`.

:func:`predict` crops each image (its box, padded, or the whole image), runs
the network, decodes, and maps the keypoints back through the inverse of the
crop's affine map, so they are in the pixels of the image given.

Flip test-time augmentation runs the network a second time on the mirrored
crop and maps that output back before averaging: heatmaps are mirrored and
their left/right channels swapped — on kplearn's unbiased heatmap grid
(``x' = (x + 0.5) / s - 0.5``) a mirrored input is exactly a mirrored heatmap, so no
one-pixel shift is needed — and coordinates are mirrored (``u -> -u`` in
normalised units) with left/right swapped.

Examples
--------
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

from kplearn.geometry import uncrop  # re-exported: crop-pixel points -> image pixels
from kplearn.models.base import KeypointNet
from kplearn.train.augment import normalize_images
from kplearn.train.crops import check_boxes, check_image, crop_image, crop_matrix

__all__ = [
    "predict",
    "predict_people",
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
    model: KeypointNet,
    images: Sequence[np.ndarray] | np.ndarray,
    boxes=None,
    *,
    padding: float = 1.25,
    flip_test: bool = True,
    batch_size: int = 64,
    return_scores: bool = False,
    return_outputs: bool = False,
):
    """Keypoints in original image pixels from a network, for a list of images.

    The one inference path of the kplearn networks: crop, run (and flip-merge),
    decode, uncrop. To predict with a localiser or a run directory (deep or
    classical), use :func:`kplearn.train.predict`, which calls this for deep models.

    Parameters
    ----------
    model : KeypointNet
        A top-down network (a PAF model finds several people: :func:`predict_people`).
    images : list of ndarray or ndarray (N, H, W[, C])
        uint8 grey, RGB or RGBA (alpha ignored); sizes may differ.
    boxes : array (N, 4) or list of ``[x, y, w, h]`` / ``None``, optional
        One box per image, enlarged by ``padding`` and cropped to the network input;
        ``None`` crops the whole image (no padding). A box wholly outside its image
        is an error.
    padding : float
        Box enlargement (a run's ``padding``; 1.25 by default).
    flip_test : bool
        Average with the prediction on the mirrored crop (left/right handled).
    batch_size : int
    return_scores : bool
        Also return per-keypoint confidences ``(N, K)``.
    return_outputs : bool
        Also return a dict of what the network produced (see Returns).

    Returns
    -------
    keypoints : ndarray (N, K, 3)
        ``x, y`` in image pixels and ``v``: 2 where predicted, 0 where not (then ``x, y``
        are NaN and the score 0; see "Keypoint arrays" in :mod:`kplearn.codecs`).
    scores : ndarray (N, K), if ``return_scores``
    outputs : dict, if ``return_outputs``
        ``"matrices"``: the image -> network-input maps ``(N, 2, 3)``; every entry of
        the network's output dict (flip-merged when ``flip_test``) as float64 numpy,
        stacked over the images (e.g. ``"heatmaps"`` ``(N, K, H', W')``, ``"coords"``
        ``(N, K, 2)`` in ``[-1, 1]`` input units; a list entry such as a cascade's
        ``"stages"`` stays a list of arrays); and, for a network with ``"stages"``,
        ``"stage_keypoints"``: one ``(N, K, 2)`` array in image pixels per stage,
        decoded like the final keypoints (the last one equals ``keypoints[..., :2]``).

    Examples
    --------
    >>> import numpy as np
    >>> from kplearn.models import build_model
    >>> net = build_model("cascade", "faces68", preset="fast")
    >>> kp, out = predict(net, [np.zeros((80, 80, 3), np.uint8)], flip_test=False,
    ...                   return_outputs=True)
    >>> kp.shape, out["matrices"].shape, [p.shape for p in out["stage_keypoints"]]
    ((1, 68, 3), (1, 2, 3), [(1, 68, 2), (1, 68, 2)])
    """
    if not isinstance(model, KeypointNet):
        raise TypeError(
            f"kplearn.train.predict.predict takes a KeypointNet, got {type(model).__name__}; "
            "for a localiser or a run directory use kplearn.train.predict"
        )
    if model.output_kind == "paf":
        raise ValueError("a PAF model finds several people per image: use predict_people")
    imgs = as_image_list(images)
    sizes = [(im.shape[1], im.shape[0]) for im in imgs]
    box_list = check_boxes(boxes, sizes)
    w, h = model.input_size
    crops = np.zeros((len(imgs), h, w, 3), np.uint8)
    matrices = np.zeros((len(imgs), 2, 3))
    for i, (img, box) in enumerate(zip(imgs, box_list, strict=True)):
        matrices[i] = crop_matrix(sizes[i], box, (w, h), float(padding))
        crops[i] = crop_image(img, matrices[i], (w, h))
    tensor = torch.from_numpy(crops).permute(0, 3, 1, 2).contiguous()
    n, k = tensor.shape[0], model.num_keypoints
    xy, scores = np.zeros((n, k, 2)), np.zeros((n, k))
    raw: list[dict] = []
    for start, out in forward_batches(model, tensor, flip_test, batch_size):
        p, s = model.decode(out)
        xy[start : start + len(p)], scores[start : start + len(p)] = p, s
        if return_outputs:
            raw.append(_to_numpy(out))
    # The third column is v: 2 predicted, 0 not (NaN x, y) -- see "Keypoint arrays" in kplearn.codecs.
    v = np.where(np.isfinite(xy).all(-1), 2.0, 0.0)[..., None]
    kp = np.concatenate([uncrop(xy, matrices), v], axis=-1)
    result: tuple = (kp, scores) if return_scores else (kp,)
    if return_outputs:
        outputs = _stack_outputs(raw)
        outputs["matrices"] = matrices
        if "stages" in outputs:
            outputs["stage_keypoints"] = [
                uncrop(_coords_to_pixels(model, c), matrices) for c in outputs["stages"]
            ]
        result = result + (outputs,)
    return result if len(result) > 1 else result[0]


def _to_numpy(out: dict) -> dict:
    """A network output dict with tensors (and lists of tensors) as float64 numpy arrays."""
    conv = {}
    for key, value in out.items():
        if isinstance(value, torch.Tensor):
            conv[key] = value.detach().double().cpu().numpy()
        elif isinstance(value, (list, tuple)) and all(isinstance(v, torch.Tensor) for v in value):
            conv[key] = [v.detach().double().cpu().numpy() for v in value]
    return conv


def _stack_outputs(batches: list[dict]) -> dict:
    """Concatenate per-batch output dicts along the image axis."""
    first = batches[0]
    stacked = {}
    for key, value in first.items():
        if isinstance(value, list):
            stacked[key] = [np.concatenate([b[key][j] for b in batches]) for j in range(len(value))]
        else:
            stacked[key] = np.concatenate([b[key] for b in batches])
    return stacked


def _coords_to_pixels(model: KeypointNet, coords: np.ndarray) -> np.ndarray:
    """``[-1, 1]`` coordinates -> input pixels, with the model's label offset (as ``decode``)."""
    xy = model.to_pixels(torch.from_numpy(coords).float()).double().numpy()
    return xy + model.label_offset


def predict_people(
    model: KeypointNet, images, *, flip_test: bool = True, batch_size: int = 16, **group_kwargs
):
    """Several people per image with a bottom-up (PAF) model.

    Returns a list with, per image, ``(people (M, K, 3), scores (M,))``: ``x, y`` in
    image pixels and ``v`` as third column: 2 where found, 0 (with ``x = y = 0``) where not
    (see :func:`kplearn.codecs.group_people`).
    """
    if not isinstance(model, KeypointNet):
        raise TypeError(
            f"kplearn.train.predict.predict_people takes a KeypointNet, got {type(model).__name__}; "
            "for a localiser or a run directory use kplearn.train.predict_people"
        )
    net = model
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
