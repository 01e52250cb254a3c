"""Run directories and the localiser interface shared by deep and classical models.

``kplearn train`` writes a run directory; ``kplearn evaluate`` and
``kplearn predict`` read it back with :func:`load_run`, which looks at
``config.json["family"]``: ``"deep"`` runs become a :class:`DeepLocaliser`,
``"classical"`` ones are loaded by :func:`kplearn.classical.registry.load_classical`.
Both have the Localiser interface: ``name``, ``family``, ``skeleton``,
``fit(train, val=None, minutes=None, seed=0, progress=True)``,
``predict(images, boxes=None) -> (N, K, 3)``, ``save(run_dir)``.

Example
-------
>>> import tempfile
>>> from kplearn.data.synthetic import make_faces
>>> loc = DeepLocaliser("regression", "faces68", preset="fast")
>>> _ = loc.fit(make_faces(16, image_size=64, seed=0), epochs=1, progress=False)
>>> d = tempfile.mkdtemp(); _ = loc.save(d)
>>> load_run(d).name
'regression'
"""

from __future__ import annotations

from pathlib import Path

from kplearn.data.datasets import KeypointDataset
from kplearn.models.base import KeypointNet
from kplearn.models.registry import DEEP_MODELS, build_model, data_kind, default_settings
from kplearn.skeletons import Skeleton, get_skeleton
from kplearn.train.checkpoint import load_checkpoint, read_config, save_checkpoint

__all__ = ["DeepLocaliser", "load_run", "as_localiser", "model_names"]


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
        self.box_mode = "image" if (self.name == "paf" or train.is_single_instance) else "box"
        self.padding = float(settings.pop("padding", self.padding))
        self.history = fit(self.model, train, val, epochs=epochs, minutes=minutes, seed=self.seed,
                           progress=progress, out=out, box_mode=self.box_mode, padding=self.padding,
                           checkpoint_extra=self._extra(), **settings)  # fmt: skip
        return self

    def _extra(self) -> dict:
        extra = {"kind": self.kind, "preset": self.preset, "train_settings": self.train_settings()}
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
                batch_size: int = 64):  # fmt: skip
        """Keypoints ``(N, K, 3)`` in image pixels (see :func:`kplearn.train.predict`)."""
        from kplearn.train.predict import predict

        self._need_model()
        return predict(self, images, boxes, flip_test=flip_test, return_scores=return_scores,
                       batch_size=batch_size)  # fmt: skip

    def predict_people(self, images, *, flip_test: bool = True, **kwargs):
        """Several people per image (PAF models); see :func:`kplearn.train.predict.predict_people`."""
        from kplearn.train.predict import predict_people

        self._need_model()
        return predict_people(self, images, flip_test=flip_test, **kwargs)

    # --- persistence --------------------------------------------------------------------------
    def save(self, run_dir: str | Path) -> Path:
        """Write ``config.json`` + ``model.pt`` (+ ``history.json``) into ``run_dir``."""
        model = self._need_model()
        run = save_checkpoint(
            model, run_dir, box_mode=self.box_mode, padding=self.padding, extra=self._extra()
        )
        if self.history is not None:
            import json

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


def load_run(run_dir: str | Path):
    """Load a run directory of either family (dispatching on ``config.json["family"]``)."""
    config = read_config(run_dir)
    family = config["family"]
    if family == "deep":
        return DeepLocaliser.load(run_dir)
    if family == "classical":
        from kplearn.classical.registry import load_classical

        return load_classical(run_dir)
    raise ValueError(f"{str(Path(run_dir) / 'config.json')!r}: unknown model family {family!r}")


def as_localiser(obj):
    """A localiser from a run directory path, a :class:`KeypointNet`, or a localiser (returned as is)."""
    if isinstance(obj, (str, Path)):
        return load_run(obj)
    if isinstance(obj, KeypointNet):
        return DeepLocaliser.from_model(obj)
    if hasattr(obj, "predict") and hasattr(obj, "skeleton"):
        return obj
    raise ValueError(f"expected a model, a localiser or a run directory, got {type(obj).__name__}")
