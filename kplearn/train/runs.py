"""Run directories, and the front door that predicts with a model, a localiser or a run.

``kplearn train`` writes a run directory; ``kplearn evaluate`` and
``kplearn predict`` read it back with :func:`load_run`, which looks at
``config.json["family"]`` (read by :mod:`kplearn.run_config`): ``"deep"`` runs become a
:class:`DeepLocaliser`, ``"classical"`` ones are loaded by
:func:`kplearn.classical.registry.load_classical`. Both fit the
:class:`kplearn.localiser.Localiser` protocol.

:func:`predict`, :func:`predict_people` and :func:`predict_faces` accept a network,
a localiser or a run directory; network inference itself is
:mod:`kplearn.train.predict`. :func:`predict_faces` finds the faces of whole
photographs first (:mod:`kplearn.face_detect`).

Examples
--------
>>> import tempfile
>>> from kplearn.data.synthetic import make_faces
>>> loc = DeepLocaliser("regression", "faces68", preset="fast")
>>> _ = loc.fit(make_faces(16, image_size=64, seed=0), epochs=1, progress=False)
>>> d = tempfile.mkdtemp(); _ = loc.save(d)
>>> load_run(d).name
'regression'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kplearn.data.datasets import KeypointDataset
from kplearn.face_detect import face_crop_for
from kplearn.localiser import Localiser
from kplearn.models.base import KeypointNet
from kplearn.models.registry import DEEP_MODELS, build_model, data_kind, default_settings
from kplearn.run_config import box_mode_for, read_config
from kplearn.skeletons import Skeleton, get_skeleton
from kplearn.train.checkpoint import load_checkpoint, save_checkpoint
from kplearn.train.predict import as_image_list
from kplearn.train.predict import predict as predict_network
from kplearn.train.predict import predict_people as predict_people_network

__all__ = [
    "DeepLocaliser",
    "load_run",
    "as_localiser",
    "model_names",
    "predict",
    "predict_people",
    "predict_faces",
    "FacePredictions",
]


class DeepLocaliser:
    """A deep model with its training settings, behind the Localiser interface.

    Parameters
    ----------
    name : str
        A key of :data:`kplearn.models.DEEP_MODELS`.
    skeleton : str or Skeleton
    kind : str, optional
        Data kind for the defaults (``"faces"``, ``"people"``, ``"scenes"``,
        ``"objects"``); from the layout (and the data, at ``fit``) if omitted.
    preset : {"best", "fast"}
    model : dict, optional
        Network config overrides (``input_size``, ``stride``, ``sigma``, ...).
    train : dict, optional
        :func:`~kplearn.train.fit` keyword overrides (``lr``, ``batch_size``, ``augment``, ...).
    seed : int
    """

    family = "deep"

    def __init__(self, name: str, skeleton: str | Skeleton, *, kind: str | None = None, preset: str = "best",
                 model: dict | None = None, train: dict | None = None, seed: int = 0) -> None:  # fmt: skip
        if name not in DEEP_MODELS:
            raise KeyError(f"unknown deep model {name!r}; known: {', '.join(sorted(DEEP_MODELS))}")
        self.name = name
        self.skeleton = get_skeleton(skeleton)
        self.kind = kind
        self.preset = preset
        self.model_overrides = dict(model or {})
        self.train_overrides = dict(train or {})
        self.seed = seed
        self.model: KeypointNet | None = None
        self.box_mode = "image"
        self.padding = 1.25
        self.face_crop: dict | None = None
        self.history = None
        self.info: dict = {}

    # --- building and training ----------------------------------------------------------------
    def _kind_for(self, data: KeypointDataset | None) -> str:
        if self.kind is not None:
            return self.kind
        if self.name == "paf":
            return "scenes"
        single = True if data is None else data.is_single_instance
        return data_kind(self.skeleton, single)

    def build(self, data: KeypointDataset | None = None) -> KeypointNet:
        """Build the network (called by :meth:`fit`; call it yourself to inspect it first)."""
        kind = self._kind_for(data)
        self.kind = kind
        self.model = build_model(self.name, self.skeleton, kind=kind, preset=self.preset, seed=self.seed,
                                 **self.model_overrides)  # fmt: skip
        return self.model

    def train_settings(self) -> dict:
        """The :func:`~kplearn.train.fit` keyword arguments this localiser trains with."""
        settings = default_settings(self.name, self.kind or self._kind_for(None), self.preset)[
            "train"
        ]
        settings.update(self.train_overrides)
        return settings

    def fit(self, train: KeypointDataset, val: KeypointDataset | None = None, minutes: float | None = None,
            seed: int | None = None, progress: bool = True, *, epochs: int | None = None,
            out: str | Path | None = None, **fit_kwargs) -> DeepLocaliser:  # fmt: skip
        """Train on ``train`` (validating on ``val``) for ``minutes`` and/or ``epochs``.

        Without either budget the preset's epoch count is used. ``out`` writes the
        best checkpoint there while training. Other keywords go to :func:`~kplearn.train.fit`.
        """
        from kplearn.train.fit import fit

        if train.skeleton.name != self.skeleton.name:
            raise ValueError(
                f"data has layout {train.skeleton.name!r}, the model was set up for {self.skeleton.name!r}"
            )
        if seed is not None:
            self.seed = seed
        if self.model is None:
            self.build(train)
        settings = self.train_settings()
        default_epochs = settings.pop("epochs", 10)
        settings.update(fit_kwargs)
        if minutes is None and epochs is None:
            epochs = default_epochs
        self.box_mode = box_mode_for(
            single_instance=train.is_single_instance, bottom_up=self.name == "paf"
        )
        self.face_crop = face_crop_for(train) if self.box_mode == "image" else None
        self.padding = float(settings.pop("padding", self.padding))
        self.history = fit(self.model, train, val, epochs=epochs, minutes=minutes, seed=self.seed,
                           progress=progress, out=out, box_mode=self.box_mode, padding=self.padding,
                           checkpoint_extra=self._extra(), **settings)  # fmt: skip
        return self

    def _extra(self) -> dict:
        extra = {"kind": self.kind, "preset": self.preset, "train_settings": self.train_settings()}
        if self.face_crop is not None:
            extra["face_crop"] = self.face_crop
        extra.update(self.info)
        if self.history is not None:
            extra["history"] = self.history.to_dict()
        return extra

    # --- prediction ---------------------------------------------------------------------------
    def _need_model(self) -> KeypointNet:
        if self.model is None:
            raise ValueError(f"{self.name}: the model is not trained yet (call fit or load a run)")
        return self.model

    def predict(self, images, boxes=None, *, flip_test: bool = True, return_scores: bool = False,
                batch_size: int = 64, padding: float | None = None,
                return_outputs: bool = False):  # fmt: skip
        """Keypoints ``(N, K, 3)`` in image pixels (see :func:`kplearn.train.predict.predict`).

        Boxes are enlarged by the run's ``padding`` unless ``padding`` is given.
        """
        net = self._need_model()
        pad = self.padding if padding is None else float(padding)
        return predict_network(net, images, boxes, padding=pad, flip_test=flip_test,
                               batch_size=batch_size, return_scores=return_scores,
                               return_outputs=return_outputs)  # fmt: skip

    def predict_people(self, images, *, flip_test: bool = True, **kwargs):
        """Several people per image (PAF models); see :func:`kplearn.train.predict.predict_people`."""
        return predict_people_network(self._need_model(), images, flip_test=flip_test, **kwargs)

    # --- persistence --------------------------------------------------------------------------
    def save(self, run_dir: str | Path) -> Path:
        """Write ``config.json`` + ``model.pt`` (+ ``history.json``) into ``run_dir``."""
        model = self._need_model()
        run = save_checkpoint(
            model, run_dir, box_mode=self.box_mode, padding=self.padding, extra=self._extra()
        )
        if self.history is not None:
            (run / "history.json").write_text(json.dumps(self.history.to_dict(), indent=2))
        return run

    @classmethod
    def from_model(
        cls, model: KeypointNet, box_mode: str = "image", padding: float = 1.25
    ) -> DeepLocaliser:
        """Wrap a network (its config must name its ``skeleton``) without training settings."""
        if "skeleton" not in model.config:
            raise ValueError("the model's config does not name its layout ('skeleton')")
        loc = cls.__new__(cls)
        loc.__init__(model.config["name"] if model.config.get("name") in DEEP_MODELS else "heatmap",
                     model.config["skeleton"])  # fmt: skip
        loc.name = str(model.config.get("name", type(model).__name__))
        loc.model, loc.box_mode, loc.padding = model, box_mode, float(padding)
        return loc

    @classmethod
    def load(cls, run_dir: str | Path) -> DeepLocaliser:
        """Load a deep run directory (weights read with ``weights_only=True``)."""
        model, config = load_checkpoint(run_dir)
        loc = cls(config["model"], model.config["skeleton"], kind=config.get("kind"),
                  preset=config.get("preset", "best"))  # fmt: skip
        loc.model = model
        loc.box_mode = config.get("box_mode", "image")
        loc.padding = float(config.get("padding", 1.25))
        loc.face_crop = config.get("face_crop")
        loc.info = {k: v for k, v in config.items() if k in ("data", "val_data", "split")}
        loc.config = config
        return loc

    def __repr__(self) -> str:
        state = "trained" if self.model is not None else "untrained"
        return f"DeepLocaliser({self.name!r}, {self.skeleton.name!r}, {state})"


def model_names() -> dict[str, list[str]]:
    """``{"deep": [...], "classical": [...]}``: every name ``kplearn train --model`` accepts."""
    try:
        from kplearn.classical.registry import CLASSICAL_MODELS

        classical = sorted(CLASSICAL_MODELS)
    except ImportError:  # the classical registry is optional for deep-only use
        classical = []
    return {"deep": sorted(DEEP_MODELS), "classical": classical}


def load_run(run_dir: str | Path) -> Localiser:
    """Load a run directory of either family (dispatching on ``config.json["family"]``)."""
    config = read_config(run_dir)
    if config["family"] == "deep":
        return DeepLocaliser.load(run_dir)
    from kplearn.classical.registry import load_classical

    return load_classical(run_dir)


def as_localiser(obj) -> Localiser:
    """A localiser from a run directory path, a :class:`KeypointNet`, or a localiser (returned as is)."""
    if isinstance(obj, (str, Path)):
        return load_run(obj)
    if isinstance(obj, KeypointNet):
        return DeepLocaliser.from_model(obj)
    if isinstance(obj, Localiser) or (hasattr(obj, "predict") and hasattr(obj, "skeleton")):
        return obj  # a full Localiser, or any object with predict(images, boxes) and a skeleton
    raise ValueError(f"expected a model, a localiser or a run directory, got {type(obj).__name__}")


def _is_deep(loc) -> bool:
    return getattr(loc, "family", "classical") == "deep"


def predict(
    model,
    images,
    boxes=None,
    *,
    flip_test: bool = True,
    batch_size: int = 64,
    return_scores: bool = False,
    padding: float | None = None,
    return_outputs: bool = False,
):
    """Keypoints in original image pixels for a list of images, with any kind of model.

    Parameters
    ----------
    model : KeypointNet, a localiser (deep or classical), or a run directory
    images : list of ndarray or ndarray (N, H, W[, C])
        uint8 grey, RGB or RGBA (alpha ignored); sizes may differ.
    boxes : array (N, 4) or list of ``[x, y, w, h]`` / ``None``, optional
        One box per image; ``None`` is the whole image (a face crop, say). Deep
        models enlarge a box by ``padding`` (the run's, 1.25 by default). To find
        the faces of whole photographs first, use :func:`predict_faces`.
    flip_test : bool
        Deep models: average with the prediction on the mirrored crop.
    batch_size : int
    return_scores : bool
        Also return per-keypoint confidences ``(N, K)`` (1 for classical models).
    padding : float, optional
    return_outputs : bool
        Deep models: also return the network's outputs (see :func:`kplearn.train.predict.predict`).

    Returns
    -------
    keypoints : ndarray (N, K, 3)
        ``x, y`` in image pixels and ``v = 2`` (predicted).
    scores : ndarray (N, K), if ``return_scores``
    outputs : dict, if ``return_outputs``

    Examples
    --------
    >>> import numpy as np
    >>> from kplearn.models import build_model
    >>> predict(build_model("heatmap", "faces68", preset="fast"), [np.zeros((64, 64, 3), np.uint8)]).shape
    (1, 68, 3)
    """
    loc = as_localiser(model)
    if not _is_deep(loc):
        if return_outputs:
            raise ValueError(f"return_outputs applies to deep models; {loc.name!r} is classical")
        kp = np.asarray(loc.predict(images, boxes), np.float64)  # any object with a predict
        return (kp, np.ones(kp.shape[:2])) if return_scores else kp
    if loc.model is not None and loc.model.output_kind == "paf":
        raise ValueError("a PAF model finds several people per image: use predict_people")
    return loc.predict(images, boxes, flip_test=flip_test, return_scores=return_scores,
                       batch_size=batch_size, padding=padding, return_outputs=return_outputs)  # fmt: skip


def predict_people(model, images, *, flip_test: bool = True, batch_size: int = 16, **group_kwargs):
    """Several people per image with a bottom-up (PAF) model, a localiser or a run directory.

    Returns a list with, per image, ``(people (M, K, 3), scores (M,))``: ``x, y`` in
    image pixels and the peak value as third column (0 for keypoints not found).
    See :func:`kplearn.train.predict.predict_people`.
    """
    loc = as_localiser(model)
    if not _is_deep(loc):
        raise ValueError(f"predict_people needs a bottom-up PAF model; {loc.name!r} is classical")
    return predict_people_network(loc._need_model(), images, flip_test=flip_test,
                                        batch_size=batch_size, **group_kwargs)  # fmt: skip


@dataclass
class FacePredictions:
    """The faces :func:`predict_faces` found in one image (``M`` faces, best detection first).

    Attributes
    ----------
    keypoints : ndarray (M, K, 3)
        In image pixels, ``v = 2``.
    scores : ndarray (M, K)
        Per-keypoint confidences (1 for classical models).
    face_scores : ndarray (M,)
        One score per face: the detector's confidence (see
        :func:`kplearn.face_detect.detect_faces`); NaN for boxes given by the caller.
    boxes : ndarray (M, 4)
        The face boxes ``[x, y, w, h]`` (the detector's, or the caller's).
    crops : ndarray (M, 4)
        The square crop of each face that the model saw, ``[x, y, w, h]``.
    """

    keypoints: np.ndarray
    scores: np.ndarray
    face_scores: np.ndarray
    boxes: np.ndarray
    crops: np.ndarray

    def __len__(self) -> int:
        return int(len(self.keypoints))


def face_crop_of(loc) -> dict:
    """The ``"face_crop"`` entry of a face model (the faces68 recipe for a faces68 model without one)."""
    from kplearn.face_detect import face_crop_config

    face_crop = getattr(loc, "face_crop", None)
    if face_crop is not None:
        return face_crop
    sk = getattr(loc, "skeleton", None)
    if getattr(loc, "box_mode", "image") == "image" and sk is not None and sk.name == "faces68":
        return face_crop_config()
    raise ValueError(
        f"model {getattr(loc, 'name', '?')!r} (layout {getattr(sk, 'name', None)!r}) is not a face-crop "
        "model: finding faces needs a faces68 model trained on face crops; give boxes instead"
    )


def predict_faces(
    model,
    images,
    boxes=None,
    *,
    flip_test: bool = True,
    batch_size: int = 64,
    min_neighbors: int = 5,
    min_size: int | None = None,
    names=None,
) -> list[FacePredictions]:
    """Find the faces of whole photographs and predict the landmarks of each, in image pixels.

    Each face box (from OpenCV's Haar cascade, :func:`kplearn.face_detect.detect_faces`,
    unless ``boxes`` are given) becomes the square crop the model was trained on
    (:func:`kplearn.face_detect.crop_boxes`, with the run's ``"face_crop"``), and the
    model predicts in that crop.

    Parameters
    ----------
    model : a faces68 face-crop model: KeypointNet, localiser or run directory
    images : list of ndarray
    boxes : list, optional
        Per image, a list of face boxes ``[x, y, w, h]`` (or one box) to use
        instead of the detector's; ``None`` entries run the detector on that image.
    flip_test, batch_size : see :func:`predict`
    min_neighbors, min_size : detector settings (see :func:`~kplearn.face_detect.detect_faces`)
    names : list of str, optional
        Image names for the messages (default ``"image i"``).

    Returns
    -------
    list of FacePredictions, one per image

    Raises
    ------
    kplearn.face_detect.NoFaceFound
        (a ``ValueError``) naming every image where no face was found.

    Examples
    --------
    >>> from skimage.data import astronaut
    >>> from kplearn.models import build_model
    >>> found = predict_faces(build_model("regression", "faces68", preset="fast"), [astronaut()])
    >>> len(found[0]), found[0].keypoints.shape
    (1, (1, 68, 3))
    """
    from kplearn.face_detect import NoFaceFound, crop_boxes, detect_faces

    loc = as_localiser(model)
    face_crop = face_crop_of(loc)
    imgs = as_image_list(images)
    names = [f"image {i}" for i in range(len(imgs))] if names is None else [str(n) for n in names]
    if boxes is not None and len(boxes) != len(imgs):
        raise ValueError(f"got {len(imgs)} images but {len(boxes)} box lists")
    per_image, empty = [], []
    for i, img in enumerate(imgs):
        given = None if boxes is None else boxes[i]
        if given is None:
            found, scores = detect_faces(img, min_neighbors=min_neighbors, min_size=min_size)
        else:
            found = np.asarray(given, np.float64)
            found = found.reshape(1, 4) if found.shape == (4,) else found
            if found.ndim != 2 or found.shape[1] != 4:
                raise ValueError(f"{names[i]}: face boxes must be [x, y, w, h] or a list of them, "
                                 f"got shape {found.shape}")  # fmt: skip
            scores = np.full(len(found), np.nan)
        if len(found) == 0:
            empty.append(names[i])
        per_image.append((found, scores))
    if empty:
        raise NoFaceFound(
            f"no face found in {', '.join(empty)} (OpenCV frontal-face detector); give the face "
            "boxes yourself (--boxes), or use a larger, frontal, well-lit face"
        )
    flat_images, flat_crops = [], []
    for img, (found, _) in zip(imgs, per_image, strict=True):
        crops = crop_boxes(found, face_crop)
        flat_images += [img] * len(crops)
        flat_crops += list(crops)
    if _is_deep(loc):
        kp, sc = loc.predict(flat_images, np.asarray(flat_crops), flip_test=flip_test,
                             return_scores=True, batch_size=batch_size, padding=1.0)  # fmt: skip
    else:
        kp = np.asarray(loc.predict(flat_images, np.asarray(flat_crops)), np.float64)
        sc = np.ones(kp.shape[:2])
    out, start = [], 0
    for found, scores in per_image:
        m = len(found)
        out.append(FacePredictions(kp[start : start + m], sc[start : start + m], scores, found,
                                   np.asarray(flat_crops[start : start + m])))  # fmt: skip
        start += m
    return out
