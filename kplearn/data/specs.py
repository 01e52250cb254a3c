"""Name any keypoint data with one spec string.

Every ``kplearn`` command, and :func:`load_data`, takes data as a spec:

=================================  ==============================================================
``synthetic-faces``                procedural faces, 68 landmarks (``faces68``), one per image
``synthetic-people``               procedural people crops, COCO 17 keypoints, one per image
``synthetic-people-scenes``        procedural scenes with several people (``coco17``, boxes)
``synthetic-shapes``               procedural objects with corner/part keypoints
``faces68:PATH``                   real face crops in the faces68 folder layout
``coco:ANNOTATIONS.json:IMAGE_DIR``  COCO keypoints JSON and its image folder
``mpii:ANNOTATIONS.json:IMAGE_DIR``  MPII annotations (HRNet/MMPose JSON) and the image folder
``pts:DIR``                        iBUG ``.pts`` files with same-stem images beside them
=================================  ==============================================================

``faces68`` alone uses the folder in ``$KPLEARN_FACES68``.

Examples
--------
>>> from kplearn.data.specs import parse_spec
>>> parse_spec("coco:ann/person_keypoints_val.json:images/val")
('coco', {'annotations': 'ann/person_keypoints_val.json', 'image_dir': 'images/val'})
>>> parse_spec("synthetic-faces")
('synthetic-faces', {})
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from kplearn.data import formats
from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.faces68 import FACES68_ENV, default_faces68_root, load_faces68
from kplearn.skeletons import get_skeleton

__all__ = ["SPEC_KINDS", "parse_spec", "load_data", "dataset_stats", "resize_dataset"]

#: Spec forms and what each names (``kplearn data list`` prints this).
SPEC_KINDS: dict[str, str] = {
    "synthetic-faces": "procedural faces with 68 landmarks (faces68), one per image",
    "synthetic-people": "procedural people crops with COCO 17 keypoints, one per image",
    "synthetic-people-scenes": "procedural scenes with several people (coco17, boxes, crowd flags)",
    "synthetic-shapes": "procedural objects with corner and part keypoints",
    "faces68:PATH": "real face crops: PATH/keypoints.csv + PATH/images/ (faces68 layout)",
    "coco:ANNOTATIONS.json:IMAGE_DIR": "COCO keypoints JSON and the folder of its images",
    "mpii:ANNOTATIONS.json:IMAGE_DIR": "MPII annotations in the HRNet/MMPose JSON layout + images",
    "pts:DIR": "iBUG .pts landmark files with same-stem .png/.jpg images beside them",
}

_SYNTHETIC = {
    "synthetic-faces": "make_faces",
    "synthetic-people": "make_people",
    "synthetic-people-scenes": "make_people_scenes",
    "synthetic-shapes": "make_shapes",
}

_USAGE = "; ".join(SPEC_KINDS)


def _split_json_and_dir(kind: str, rest: str, spec: str) -> dict[str, str]:
    # Split at ".json:" rather than at any colon, so paths may hold colons (C:\...).
    low = rest.lower()
    cut = low.find(".json:")
    if cut < 0:
        raise ValueError(
            f"data spec {spec!r}: {kind} needs {kind}:ANNOTATIONS.json:IMAGE_DIR "
            "(the annotation file must end in .json, then ':' and the image folder)"
        )
    ann, image_dir = rest[: cut + 5], rest[cut + 6 :]
    if not image_dir:
        raise ValueError(f"data spec {spec!r}: {kind} needs an image folder after {ann}:")
    return {"annotations": ann, "image_dir": image_dir}


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split a data spec into its kind and arguments.

    Returns
    -------
    kind : str
        ``"synthetic-faces"``, ..., ``"faces68"``, ``"coco"``, ``"mpii"`` or ``"pts"``.
    args : dict
        ``{}`` for synthetic kinds; ``{"root": PATH}`` for faces68 (``{}`` when no
        path is given, meaning ``$KPLEARN_FACES68``); ``{"annotations", "image_dir"}``
        for coco and mpii; ``{"dir": DIR}`` for pts.

    Raises
    ------
    ValueError
        An unknown kind or missing parts, with the list of valid forms.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"empty data spec; use one of: {_USAGE}")
    spec = spec.strip()
    kind, sep, rest = spec.partition(":")
    if kind in _SYNTHETIC:
        if sep:
            raise ValueError(
                f"data spec {spec!r}: {kind} takes no arguments (use --n, --seed, ...)"
            )
        return kind, {}
    if kind == "faces68":
        return kind, ({"root": rest} if rest else {})
    if kind in ("coco", "mpii"):
        return kind, _split_json_and_dir(kind, rest, spec)
    if kind == "pts":
        if not rest:
            raise ValueError(f"data spec {spec!r}: pts needs a folder, pts:DIR")
        return kind, {"dir": rest}
    raise ValueError(f"unknown data spec {spec!r}; use one of: {_USAGE}")


def _call_generator(kind: str, n: int | None, seed: int, image_size, progress: bool):
    from kplearn.data import synthetic  # imported here: the generators are heavy and optional

    make = getattr(synthetic, _SYNTHETIC[kind])
    kwargs: dict[str, Any] = {"seed": seed}
    if n is not None:
        kwargs["n"] = n
    if image_size is not None:
        kwargs["image_size"] = image_size
    if "progress" in inspect.signature(make).parameters:
        kwargs["progress"] = progress
    return make(**kwargs)


def resize_dataset(dataset: KeypointDataset, image_size: int | tuple[int, int]) -> KeypointDataset:
    """Resize every image to ``image_size`` (int: square; else ``(w, h)``), moving the labels along.

    Keypoints follow the pixel-centre convention, ``x' = (x + 0.5) * sx - 0.5``
    with ``sx = w' / w`` (and the same in y); boxes scale about the image corner,
    areas by ``sx * sy``. Images of another aspect ratio are stretched.
    """
    import cv2

    w2, h2 = (image_size, image_size) if np.isscalar(image_size) else tuple(image_size)
    w2, h2 = int(w2), int(h2)
    if w2 <= 0 or h2 <= 0:
        raise ValueError(f"image_size must be positive, got {image_size!r}")
    out = []
    for s in dataset:
        w, h = s.image_size
        sx, sy = w2 / w, h2 / h
        interp = cv2.INTER_AREA if sx * sy < 1 else cv2.INTER_LINEAR
        img = cv2.resize(s.image, (w2, h2), interpolation=interp)
        kp = s.keypoints.copy()
        lab = kp[..., 2] > 0
        kp[..., 0] = np.where(lab, (kp[..., 0] + 0.5) * sx - 0.5, 0.0)
        kp[..., 1] = np.where(lab, (kp[..., 1] + 0.5) * sy - 0.5, 0.0)
        boxes = s.boxes * np.array([sx, sy, sx, sy])
        meta = dict(s.meta, resized_from=(w, h))
        out.append(Sample(img, kp, boxes, s.areas * sx * sy, s.iscrowd, s.name, s.group, meta))
    return KeypointDataset(out, dataset.skeleton, dataset.name)


def load_data(
    spec: str,
    *,
    n: int | None = None,
    seed: int = 0,
    image_size: int | tuple[int, int] | None = None,
    progress: bool = True,
) -> KeypointDataset:
    """Load the data a spec names (see the module docstring for the forms).

    Parameters
    ----------
    spec : str
        E.g. ``"synthetic-faces"``, ``"faces68:../shared/data/faces68"``,
        ``"coco:ann.json:images"``.
    n : int, optional
        Synthetic: the number of samples to generate (default: the generator's).
        Files: a seeded random subset of ``n`` samples (default: all).
    seed : int
        Seed of the generator, or of the subset.
    image_size : int or (w, h), optional
        Synthetic: the generated size. Files: resize every image to it
        (:func:`resize_dataset`); default: as stored.
    progress : bool
        Progress bars while reading or generating.

    Examples
    --------
    >>> from kplearn.data import load_data
    >>> faces = load_data("synthetic-faces", n=8, seed=1)
    >>> faces.skeleton.name
    'faces68'
    """
    kind, args = parse_spec(spec)
    if n is not None and n <= 0:
        raise ValueError(f"n must be positive, got {n}")
    if kind in _SYNTHETIC:
        return _call_generator(kind, n, seed, image_size, progress)
    if kind == "faces68":
        root = args.get("root") or default_faces68_root()
        if root is None:
            raise ValueError(
                f"data spec {spec!r}: give the folder, faces68:PATH, or set ${FACES68_ENV}"
            )
        ds = load_faces68(root, progress=progress, n=n, seed=seed)
        n = None  # already subset
    elif kind == "coco":
        ds = formats.coco_to_dataset(args["annotations"], args["image_dir"], progress=progress)
    elif kind == "mpii":
        ds = formats.mpii_to_dataset(args["annotations"], args["image_dir"], progress=progress)
    else:
        ds = formats.read_pts_dir(args["dir"], progress=progress)
    if n is not None:
        ds = ds.subset(n, seed)
    if image_size is not None:
        ds = resize_dataset(ds, image_size)
    return ds


def dataset_stats(dataset: KeypointDataset) -> dict[str, Any]:
    """Counts that describe a dataset (what ``kplearn data stats`` prints).

    Returns
    -------
    dict
        ``images``, ``instances`` (all, crowd included), ``crowd_instances``,
        ``images_without_instances``, ``labelled_keypoints`` (``v > 0``),
        ``visible_keypoints`` (``v == 2``), ``groups`` (distinct groups, or None
        when no sample has one), ``image_size`` (min and max ``[w, h]``) and
        ``layouts``: per layout name, its ``num_keypoints``, ``instances``,
        ``labelled_keypoints``, ``visible_keypoints`` and ``per_keypoint``
        (``{name: {"labelled": ..., "visible": ...}}``).
    """
    sk = get_skeleton(dataset.skeleton)
    k = sk.num_keypoints
    labelled = np.zeros(k, dtype=np.int64)
    visible = np.zeros(k, dtype=np.int64)
    instances = crowd = empty = 0
    sizes = []
    for s in dataset:
        v = s.keypoints[..., 2]
        labelled += np.sum(v > 0, axis=0)
        visible += np.sum(v == 2, axis=0)
        instances += s.num_instances
        crowd += int(np.sum(s.iscrowd))
        empty += s.num_instances == 0
        sizes.append(s.image_size)
    groups = [s.group for s in dataset if s.group is not None]
    size_arr = np.array(sizes).reshape(-1, 2)
    layout = {
        "num_keypoints": k,
        "instances": instances,
        "labelled_keypoints": int(labelled.sum()),
        "visible_keypoints": int(visible.sum()),
        "per_keypoint": {
            name: {"labelled": int(lab), "visible": int(vis)}
            for name, lab, vis in zip(sk.keypoint_names, labelled, visible, strict=True)
        },
    }
    return {
        "dataset": dataset.name,
        "images": len(dataset),
        "instances": instances,
        "crowd_instances": crowd,
        "images_without_instances": int(empty),
        "labelled_keypoints": int(labelled.sum()),
        "visible_keypoints": int(visible.sum()),
        "groups": len(set(groups)) if groups else None,
        "image_size": {
            "min": size_arr.min(0).tolist() if len(size_arr) else None,
            "max": size_arr.max(0).tolist() if len(size_arr) else None,
        },
        "layouts": {sk.name: layout},
    }
