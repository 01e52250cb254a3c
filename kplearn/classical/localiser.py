"""What every classical localiser shares: the face-box frame, input checks, save and load.

A classical localiser predicts the keypoints of one object per image from
the image and a box around the object (for a face crop, the whole image).
The box is mapped to a square *working frame* of ``work_size`` pixels, where
all features are computed; predictions are mapped back to image pixels.

Box convention: ``[x, y, w, h]`` in kplearn's pixel frame, where integer
coordinates are pixel centres, so the box spans ``[x, x + w] × [y, y + h]``
and the whole ``W × H`` image is the box ``[-0.5, -0.5, W, H]``. The box is
stretched to the working frame on each axis separately: a model trained on
square crops should be given square boxes.

Saved models are a folder with ``config.json`` (``"family": "classical"``,
``"model"``, ``"skeleton"``, the hyper-parameters and training notes; read and
written by :mod:`kplearn.run_config`) and ``weights.npz`` (plain arrays, readable
with ``np.load(allow_pickle=False)``). Every localiser here fits the
:class:`kplearn.localiser.Localiser` protocol.

Examples
--------
>>> import numpy as np
>>> m = work_matrix(image_box(np.zeros((160, 120), np.uint8)), 80)
>>> to_work(np.array([[-0.5, -0.5], [119.5, 159.5]]), m)
array([[-0.5, -0.5],
       [79.5, 79.5]])
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from kplearn._checks import check_image, check_int
from kplearn.data.datasets import KeypointDataset
from kplearn.face_detect import face_crop_for
from kplearn.geometry import apply_affine, box_to_matrix, image_box, invert_matrix
from kplearn.run_config import config_path, read_config, write_config
from kplearn.skeletons import Skeleton, get_skeleton

__all__ = [
    "ClassicalLocaliser",
    "MIN_BOX_SIZE",
    "image_box",
    "work_matrix",
    "to_work",
    "from_work",
    "crop_to_work",
    "check_images",
    "check_boxes",
    "training_arrays",
    "work_frames",
    "Deadline",
    "progress_bar",
    "mirror_training_set",
]

#: Smallest face box (pixels, each side) a classical localiser accepts.
MIN_BOX_SIZE = 16
#: Largest working frame (pixels, each side); a saved model asking for more is refused.
MAX_WORK_SIZE = 1024


def work_matrix(box: np.ndarray, work_size: int) -> np.ndarray:
    """2×3 affine map from image pixels to the ``work_size`` square frame of ``box``.

    The box edges map to the frame edges ``-0.5`` and ``work_size - 0.5``, each axis
    scaled on its own: :func:`kplearn.geometry.box_to_matrix` with ``keep_aspect=False``.
    """
    return box_to_matrix(box, work_size, padding=1.0, keep_aspect=False)


#: Map ``(..., 2)`` image points into the working frame (:func:`kplearn.geometry.apply_affine`).
to_work = apply_affine


def from_work(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map ``(..., 2)`` working-frame points back to image pixels."""
    return apply_affine(points, invert_matrix(matrix))


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image


def _take(grey: np.ndarray, i0: int, i1: int, j0: int, j1: int) -> np.ndarray:
    """Rows ``i0:i1`` and columns ``j0:j1`` of ``grey``, repeating border pixels outside it."""
    h, w = grey.shape
    rows = np.clip(np.arange(i0, i1), 0, h - 1)
    cols = np.clip(np.arange(j0, j1), 0, w - 1)
    return grey[np.ix_(rows, cols)]


def crop_to_work(image: np.ndarray, box: np.ndarray, work_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Grey ``float32`` working image in ``[0, 1]`` of the ``box`` and its image->work matrix.

    Shrinking uses area averaging (no aliasing); parts of the box outside the
    image repeat the border pixels. A box whose edges lie on pixel edges
    (``x + 0.5``, ``y + 0.5``, ``w``, ``h`` whole numbers, e.g. the whole
    image) is cut out and resized exactly, so a face gives the same working
    image whether it is its own image or sits in a larger one.
    """
    grey = _grey(image)
    m = work_matrix(box, work_size)
    x, y, w, h = (float(v) for v in box)
    left, top = x + 0.5, y + 0.5  # box edges as pixel indices
    if all(abs(v - round(v)) < 1e-6 for v in (left, top, w, h)):
        i0, j0 = round(top), round(left)
        crop = _take(grey, i0, i0 + round(h), j0, j0 + round(w))
        out = cv2.resize(crop, (work_size, work_size), interpolation=cv2.INTER_AREA)
        return out.astype(np.float32) / 255.0, m
    # General box: cut the covering pixels (one more each side), shrink by area
    # averaging, then a near-unit-scale warp places the box exactly.
    i0, j0 = int(np.floor(top)) - 1, int(np.floor(left)) - 1
    crop = _take(grey, i0, int(np.ceil(top + h)) + 1, j0, int(np.ceil(left + w)) + 1)
    ch, cw = crop.shape
    sx, sy = m[0, 0], m[1, 1]
    nw, nh = max(1, round(cw * min(sx, 1.0))), max(1, round(ch * min(sy, 1.0)))
    if (nw, nh) != (cw, ch):
        crop = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA)
    fx, fy = nw / cw, nh / ch
    # resized crop pixel u1 -> image pixel u = (u1 + 0.5) / f - 0.5 + offset, then -> work.
    m2 = np.array([
        [sx / fx, 0.0, sx * (0.5 / fx - 0.5 + j0) + m[0, 2]],
        [0.0, sy / fy, sy * (0.5 / fy - 0.5 + i0) + m[1, 2]],
    ])
    out = cv2.warpAffine(crop, m2, (work_size, work_size), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    return out.astype(np.float32) / 255.0, m


def check_images(images: Sequence[np.ndarray] | np.ndarray, *, need_texture: bool = True) -> list[np.ndarray]:
    """Validate a batch of uint8 images and return it as a list.

    Raises ``ValueError`` naming the image for an empty batch, a wrong dtype or
    shape, an empty image, or (when ``need_texture``) a constant image, from
    which no gradient feature can be computed.
    """
    if isinstance(images, np.ndarray):
        if images.ndim not in (3, 4):
            raise ValueError(
                f"images: expected a list of images or an (N, H, W[, 3]) array, got shape {images.shape}"
            )
        images = list(images)
    images = list(images)
    if not images:
        raise ValueError("images: empty batch")
    for i, img in enumerate(images):
        img = check_image(img, f"image {i}")
        if need_texture and img.min() == img.max():
            raise ValueError(
                f"image {i}: constant image (all pixels {int(img.flat[0])}); "
                "there is no gradient to localise keypoints from"
            )
        images[i] = img
    return images


def check_boxes(boxes: Any, images: list[np.ndarray]) -> np.ndarray:
    """``(N, 4)`` boxes, whole images where ``boxes`` (or one of its entries) is None; checks size and values."""
    if boxes is None:
        out = np.stack([image_box(img) for img in images])
    else:
        if not isinstance(boxes, np.ndarray) and len(boxes) == len(images):
            boxes = [image_box(img) if b is None else b for b, img in zip(boxes, images, strict=True)]
        out = np.asarray(boxes, dtype=np.float64)
        if out.shape != (len(images), 4):
            raise ValueError(f"boxes: expected shape ({len(images)}, 4) [x, y, w, h], got {out.shape}")
        if not np.all(np.isfinite(out)):
            raise ValueError(f"boxes: box {int(np.argwhere(~np.isfinite(out))[0, 0])} is not finite")
    small = np.flatnonzero(out[:, 2:].min(1) < MIN_BOX_SIZE)
    if len(small):
        i = int(small[0])
        raise ValueError(
            f"image {i}: face box {out[i, 2]:g}×{out[i, 3]:g} px is smaller than the "
            f"{MIN_BOX_SIZE} px minimum (one HOG patch)"
        )
    return out


def training_arrays(data: KeypointDataset, what: str = "train") -> tuple[list[np.ndarray], np.ndarray]:
    """Images and ``(N, K, 3)`` keypoints of a single-instance dataset, checked for training."""
    if not isinstance(data, KeypointDataset):
        raise ValueError(f"{what}: expected a KeypointDataset, got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError(f"{what}: empty dataset")
    if not data.is_single_instance:
        raise ValueError(
            f"{what}: classical localisers need one instance per image; crop multi-person images first"
        )
    kp = data.keypoints_array()
    images = check_images([s.image for s in data], need_texture=False)
    check_boxes(None, images)
    return images, kp


def work_frames(data: KeypointDataset, work_size: int = 80, what: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Grey working images and keypoints of a single-instance dataset, as the localisers see them.

    Each whole image is its box (:func:`~kplearn.geometry.image_box`), cut and resized
    to a ``work_size`` square by :func:`crop_to_work`; the keypoints move with it.
    :meth:`ClassicalLocaliser.fit` trains on exactly these frames.

    Returns
    -------
    works : ndarray, shape (N, work_size, work_size), float32 in [0, 1]
    keypoints : ndarray, shape (N, K, 3)
        ``x, y`` in working-frame pixels, ``v`` unchanged.

    Examples
    --------
    >>> from kplearn.data.datasets import KeypointDataset, Sample
    >>> kp = np.zeros((1, 5, 3)); kp[0, :, 0] = 39.5; kp[0, :, 2] = 2
    >>> ds = KeypointDataset([Sample(np.zeros((40, 80), np.uint8), kp)], "faces5")
    >>> works, kpw = work_frames(ds, 40)
    >>> works.shape, float(kpw[0, 0, 0])
    ((1, 40, 40), 19.5)
    """
    images, kp = training_arrays(data, what)
    works, out = [], kp.copy()
    for i, img in enumerate(images):
        w, m = crop_to_work(img, image_box(img), work_size)
        works.append(w)
        out[i, :, :2] = to_work(kp[i, :, :2], m)
    return np.stack(works), out


def mirror_training_set(
    works: np.ndarray, target: np.ndarray, groups: np.ndarray, flip_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Append mirrored copies of aligned working crops, with labels that stay consistent.

    A plain flip maps a label ``x`` to ``W - 1 - x``. When a dataset's labels sit a
    constant ``dx`` to one side of the content's mirror line (faces68's do, by
    about 0.9 % of the crop; see :func:`kplearn.train.mirror.estimate_label_offset`),
    the plain flip teaches ``-dx`` on the mirrored half and the model learns the
    average, 0. Mirrored labels are therefore placed at ``W - 1 - x + 2 dx``, with
    ``dx`` measured on the crops themselves (about 0 for exact synthetic labels).

    Parameters
    ----------
    works : array (N, S, S)
        Grey working crops.
    target : array (N, K, 2)
        Their (fully labelled) keypoints in working pixels.
    groups : array (N,)
        Person of each crop; the mirrored copies keep it.
    flip_index : array (K,)
        The layout's left/right permutation.

    Returns
    -------
    works, target, groups : arrays of length 2N
    dx : float
        The measured label offset (working pixels).
    """
    from kplearn.train.mirror import estimate_label_offset

    labelled = np.concatenate([target, np.full(target.shape[:2] + (1,), 2.0)], axis=-1)
    dx = float(estimate_label_offset(works, labelled, flip_index)) if len(works) >= 2 else 0.0
    mirrored = target[:, flip_index].copy()
    mirrored[..., 0] = works.shape[2] - 1 - mirrored[..., 0] + 2.0 * dx
    return (np.concatenate([works, works[:, :, ::-1]]), np.concatenate([target, mirrored]),
            np.concatenate([groups, groups]), dx)


def progress_bar(iterable, progress: bool, desc: str):
    """Progress over ``iterable`` (:func:`kplearn.progress.progress_bar`: bar, log lines or off)."""
    from kplearn.progress import progress_bar as _progress_bar

    return _progress_bar(iterable, progress, desc=desc)


class Deadline:
    """A time budget: ``Deadline(minutes)`` (``None`` = unlimited)."""

    def __init__(self, minutes: float | None) -> None:
        if minutes is not None and not minutes > 0:
            raise ValueError(f"minutes must be positive, got {minutes}")
        self.start = time.perf_counter()
        self.seconds = None if minutes is None else 60.0 * float(minutes)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        """Seconds left (``inf`` without a budget)."""
        return np.inf if self.seconds is None else self.seconds - self.elapsed

    def allows(self, seconds: float, fraction: float = 1.0) -> bool:
        """Whether ``seconds`` more work ends before ``fraction`` of the budget."""
        if self.seconds is None:
            return True
        return self.elapsed + seconds <= fraction * self.seconds


class ClassicalLocaliser:
    """Base class: the Localiser protocol for models without a network.

    Subclasses set ``name``, implement ``_fit(images, keypoints, deadline, rng,
    progress)`` and ``_predict_work(work_images) -> (N, K, 2)`` in the working
    frame, and list their learnt arrays in ``_array_names``.
    """

    name: ClassVar[str] = "classical"
    family: ClassVar[str] = "classical"
    _array_names: ClassVar[tuple[str, ...]] = ()
    #: Whether a constant image is an error (models that look at gradients).
    _needs_texture: ClassVar[bool] = True

    def __init__(self, work_size: int = 80) -> None:
        self.work_size = check_int(work_size, "work_size", minimum=32, maximum=MAX_WORK_SIZE)
        self.skeleton: Skeleton | None = None
        self.train_info: dict[str, Any] = {}
        #: How a face detector's box becomes this model's crop (faces68 models; see kplearn.face_detect).
        self.face_crop: dict | None = None

    # -- hyper-parameters -------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, as stored in ``config.json``."""
        return {"work_size": self.work_size}

    # -- protocol ---------------------------------------------------------------------
    def fit(
        self,
        train: KeypointDataset,
        val: KeypointDataset | None = None,
        minutes: float | None = None,
        seed: int = 0,
        progress: bool = True,
    ) -> ClassicalLocaliser:
        """Learn from single-instance ``train`` crops (the whole image is the box).

        ``val`` is used only to report an error after training (``train_info``),
        never to choose settings, so figures measured on it stay honest.
        Regularisation is chosen on people held out *inside* ``train``.
        ``minutes`` caps the training time (see each model for what it cuts).
        """
        deadline = Deadline(minutes)
        works, kp_work = work_frames(train, self.work_size)
        if val is not None:
            self._check_same_layout(train.skeleton, val.skeleton, "val")
        self.skeleton = train.skeleton
        self.face_crop = face_crop_for(train)
        groups = np.array(train.groups)
        rng = np.random.default_rng(seed)
        self._fit(works, kp_work, groups, deadline, rng, progress)
        self.train_info.update(
            n_train=len(train), seconds=round(deadline.elapsed, 2), seed=int(seed), minutes=minutes
        )
        if val is not None and len(val) and deadline.left() > 0:
            # A report only (at most 200 faces, and only while the budget lasts).
            val = val.subset(200, seed)
            pred = self.predict([s.image for s in val])
            gt = val.keypoints_array()
            lab = gt[..., 2] > 0
            err = np.linalg.norm(pred[..., :2] - gt[..., :2], axis=-1)[lab]
            self.train_info["val_mean_error_px"] = round(float(err.mean()), 4)
        return self

    def predict(self, images: Sequence[np.ndarray] | np.ndarray, boxes: Any = None, *,
                return_scores: bool = False):  # fmt: skip
        """Keypoints ``(N, K, 3)`` in image pixels (``v = 2``) for each image and face box.

        ``boxes`` is ``(N, 4)`` ``[x, y, w, h]`` (or a list with ``None`` for whole
        images), or None for whole-image boxes. With ``return_scores``, also
        ``(N, K)`` scores, all 1 (classical models give no confidence).
        """
        self._check_fitted()
        images = check_images(images, need_texture=self._needs_texture)
        boxes = check_boxes(boxes, images)
        works, mats = zip(
            *(crop_to_work(img, b, self.work_size) for img, b in zip(images, boxes, strict=True)), strict=True
        )
        pts = self._predict_work(np.stack(works))
        out = np.empty(pts.shape[:2] + (3,))
        for i, m in enumerate(mats):
            out[i, :, :2] = from_work(pts[i], m)
        out[..., 2] = 2.0
        return (out, np.ones(out.shape[:2])) if return_scores else out

    def check_layout(self, data: KeypointDataset | Skeleton | str) -> None:
        """Raise ``ValueError`` unless ``data`` uses the layout this model was trained on."""
        self._check_fitted()
        sk = data.skeleton if isinstance(data, KeypointDataset) else get_skeleton(data)
        self._check_same_layout(self.skeleton, sk, "data")

    def learnt_arrays(self) -> dict[str, np.ndarray]:
        """The arrays this model fitted to its training data, by name (what :meth:`save` stores).

        Their total size is the classical counterpart of a network's parameter count.

        Examples
        --------
        >>> from kplearn.classical.baselines import MeanShape
        >>> from kplearn.data.synthetic import make_faces
        >>> arrays = MeanShape().fit(make_faces(4, seed=0), progress=False).learnt_arrays()
        >>> {name: a.shape for name, a in arrays.items()}
        {'mean_shape': (68, 2)}
        """
        self._check_fitted()
        return {k: np.asarray(getattr(self, k)) for k in self._array_names}

    # -- persistence ------------------------------------------------------------------
    def save(self, run_dir: str | Path) -> Path:
        """Write ``config.json`` and ``weights.npz`` (no pickle) into ``run_dir``."""
        self._check_fitted()
        run = Path(run_dir)
        config = {
            "family": "classical",
            "model": self.name,
            "skeleton": self.skeleton.name,
            "num_keypoints": self.skeleton.num_keypoints,
            "params": self.get_params(),
            "train_info": self.train_info,
        }
        if self.face_crop is not None:
            config["face_crop"] = self.face_crop
        write_config(run, config)
        np.savez_compressed(run / "weights.npz", **self.learnt_arrays())
        return run

    @classmethod
    def load(cls, run_dir: str | Path) -> ClassicalLocaliser:
        """Rebuild a model saved by :meth:`save`."""
        run = Path(run_dir)
        cfg_path = config_path(run)
        config = read_config(run, family="classical")
        if config.get("model") != cls.name:
            raise ValueError(f"{cfg_path}: model is {config.get('model')!r}, expected {cls.name!r}")
        try:
            model = cls(**config.get("params", {}))
        except (TypeError, ValueError) as err:  # unknown, mistyped or out-of-range parameters
            raise ValueError(f"{cfg_path}: parameters do not fit {cls.name} ({err})") from None
        model.skeleton = get_skeleton(config["skeleton"])
        if model.skeleton.num_keypoints != config.get("num_keypoints"):
            raise ValueError(
                f"{cfg_path}: layout {model.skeleton.name!r} has {model.skeleton.num_keypoints} "
                f"keypoints, the model was saved with {config.get('num_keypoints')}"
            )
        model.train_info = dict(config.get("train_info", {}))
        model.face_crop = config.get("face_crop")
        weights = run / "weights.npz"
        if not weights.is_file():
            raise FileNotFoundError(f"{weights}: missing")
        with np.load(weights, allow_pickle=False) as npz:
            missing = [k for k in cls._array_names if k not in npz]
            if missing:
                raise ValueError(f"{weights}: missing arrays {missing}")
            for k in cls._array_names:
                setattr(model, k, npz[k])
        model._after_load()
        return model

    # -- helpers for subclasses -------------------------------------------------------
    def _after_load(self) -> None:
        """Hook: rebuild derived state after arrays are loaded."""

    def _check_fitted(self) -> None:
        if self.skeleton is None:
            raise ValueError(f"{self.name}: model is not fitted; call fit() or load()")

    @staticmethod
    def _check_same_layout(a: Skeleton, b: Skeleton, what: str) -> None:
        if a.name != b.name or a.num_keypoints != b.num_keypoints:
            raise ValueError(
                f"{what}: layout {b.name!r} ({b.num_keypoints} keypoints) differs from the "
                f"model's layout {a.name!r} ({a.num_keypoints} keypoints)"
            )

    def _regression_set(
        self, works: np.ndarray, kp_work: np.ndarray, groups, min_images: int, flip: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fully labelled crops, their ``(N, K, 2)`` targets and groups, mirrored when ``flip``.

        Regression targets need every point, so images with an unlabelled point are left
        out; fewer than ``min_images`` left is a ``ValueError``. The measured mirror label
        offset goes to ``train_info["label_offset_px"]``.
        """
        full = (kp_work[..., 2] > 0).all(1)
        if full.sum() < min_images:
            count = {2: "two", 4: "four"}.get(min_images, str(min_images))
            raise ValueError(
                f"{self.name}: needs at least {count} training images with every keypoint labelled"
            )
        works, target, groups = works[full], kp_work[full, :, :2], np.asarray(groups)[full]
        if flip:
            works, target, groups, dx = mirror_training_set(works, target, groups, self.skeleton.flip_index)
            self.train_info["label_offset_px"] = round(dx, 4)
        return works, target, groups

    def _fit(self, works, kp_work, groups, deadline, rng, progress) -> None:  # pragma: no cover
        raise NotImplementedError

    def _predict_work(self, works: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError
