"""Training, evaluation, prediction and checkpoints for the kplearn networks.

- :func:`fit` — train under an epoch or minutes budget (AdamW, cosine schedule,
  augmentation, validation each epoch, best weights kept, early stopping);
- :func:`evaluate` — a dict of metrics on a dataset, for deep or classical models;
- :func:`predict` — keypoints in original image pixels with a network, a localiser or a run
  directory (flip test-time augmentation for networks); :func:`predict_faces` finds the
  faces of whole photographs first;
- :func:`save_checkpoint` / :func:`load_checkpoint` — ``config.json`` + ``model.pt`` (weights only);
- :func:`load_run` — a run directory of either family; :class:`DeepLocaliser`.

Examples
--------
One epoch of training, then the landmarks of one face, in image pixels:

>>> from kplearn.data.synthetic import make_faces
>>> from kplearn.models import build_model
>>> faces = make_faces(24, image_size=64, seed=0)
>>> net = build_model("heatmap", "faces68", preset="fast")
>>> _ = fit(net, faces[:16], faces[16:], epochs=1, batch_size=8, progress=False)
>>> predict(net, [faces[20].image]).shape
(1, 68, 3)
"""

from kplearn.train.checkpoint import load_checkpoint, save_checkpoint
from kplearn.train.evaluate import evaluate
from kplearn.train.fit import History, fit
from kplearn.train.runs import (
    DeepLocaliser,
    FacePredictions,
    as_localiser,
    load_run,
    model_names,
    predict,
    predict_faces,
    predict_people,
)

__all__ = [
    "fit",
    "History",
    "evaluate",
    "predict",
    "predict_people",
    "predict_faces",
    "FacePredictions",
    "save_checkpoint",
    "load_checkpoint",
    "load_run",
    "as_localiser",
    "DeepLocaliser",
    "model_names",
]
