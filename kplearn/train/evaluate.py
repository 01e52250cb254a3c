"""Score a trained model (deep or classical) on a dataset with the :mod:`kplearn.metrics`.

Faces (the ``faces68`` layout) get :func:`kplearn.metrics.face_metrics`: NME
(inter-ocular, outer eye corners), failure rate, PCK@0.05, PCK@0.1 and AUC.
Other layouts get :func:`kplearn.metrics.body_metrics` (PCK with the box
normaliser, AUC, EPE) and, when the layout has OKS sigmas, COCO keypoint AP
from :func:`kplearn.metrics.coco_keypoint_eval` (``ap``, ``ap50``, ``ap75``, ``ar``):
top-down models are run on every labelled instance's ground-truth box (the
"GT boxes" protocol), each prediction scored by its mean keypoint confidence;
bottom-up (PAF) models find the people themselves.

Examples
--------
>>> from kplearn.data.synthetic import make_faces
>>> from kplearn.models import build_model
>>> sorted(evaluate(build_model("heatmap", "faces68"), make_faces(4, image_size=64)))
['auc_ced@0.1', 'failure_rate', 'flip_test', 'n', 'nme', 'pck@0.05', 'pck@0.1']
"""

from __future__ import annotations

import numpy as np

from kplearn.data.datasets import KeypointDataset
from kplearn.data.formats import dataset_to_coco, predictions_to_coco
from kplearn.run_config import box_mode_for
from kplearn.train.crops import labelled_instances
from kplearn.train.runs import as_localiser

__all__ = ["evaluate", "predict_dataset"]


def predict_dataset(
    localiser, data: KeypointDataset, *, flip_test: bool = True, batch_size: int = 64
):
    """Top-down predictions for every labelled instance of ``data``.

    Returns ``(pred (N, K, 3), scores (N, K), gt (N, K, 3), boxes (N, 4), index (N, 2))``
    with ``index`` the (sample, instance) of each row; keypoints in image pixels.
    """
    box_mode = getattr(localiser, "box_mode", None)
    if box_mode is None:
        box_mode = box_mode_for(single_instance=data.is_single_instance)
    rows, images, boxes = [], [], []
    for i, s in enumerate(data):
        labelled = labelled_instances(
            s,
            i,
            box_mode,
            " but the model crops whole images (it was trained on one instance per image)",
        )
        if box_mode == "image":
            labelled = labelled[:1]
        for m in labelled:
            rows.append((i, m))
            images.append(s.image)
            boxes.append(None if box_mode == "image" else s.boxes[m])
    if not rows:
        raise ValueError("no labelled instance to evaluate on")
    if getattr(localiser, "family", "classical") == "deep":
        pred, scores = localiser.predict(images, boxes, flip_test=flip_test, return_scores=True,
                                         batch_size=batch_size)  # fmt: skip
    else:
        pred = np.asarray(
            localiser.predict(images, None if box_mode == "image" else boxes), np.float64
        )
        scores = np.ones(pred.shape[:2])
    gt = np.stack([data[i].keypoints[m] for i, m in rows])
    gt_boxes = np.stack([data[i].boxes[m] for i, m in rows])
    return pred, scores, gt, gt_boxes, np.array(rows)


def _oks_stats(data: KeypointDataset, dt: list) -> dict:
    from kplearn.metrics import coco_keypoint_eval

    stats = coco_keypoint_eval(dataset_to_coco(data), dt, sigmas=data.skeleton.sigma_array)
    return {"ap": stats["AP"], "ap50": stats["AP50"], "ap75": stats["AP75"], "ar": stats["AR"]}


def evaluate(
    model_or_run, data: KeypointDataset, *, flip_test: bool = True, batch_size: int = 64
) -> dict:
    """Metrics of a model on ``data`` (a dict of floats; see the module docstring for the keys).

    Parameters
    ----------
    model_or_run : KeypointNet, localiser (deep or classical) or run directory
    data : KeypointDataset
        Must be in the layout the model was trained for.
    flip_test : bool
        Flip test-time augmentation (deep models).
    batch_size : int
    """
    loc = as_localiser(model_or_run)
    if not isinstance(data, KeypointDataset):
        raise ValueError(f"data must be a KeypointDataset, got {type(data).__name__}")
    if (
        loc.skeleton.name != data.skeleton.name
        or loc.skeleton.num_keypoints != data.skeleton.num_keypoints
    ):
        raise ValueError(
            f"the model was trained for layout {loc.skeleton.name!r} ({loc.skeleton.num_keypoints} "
            f"keypoints) but the data has layout {data.skeleton.name!r} ({data.skeleton.num_keypoints})"
        )
    deep = getattr(loc, "family", "classical") == "deep"
    if deep and loc.model.output_kind == "paf":
        return _evaluate_bottom_up(loc, data, flip_test)
    pred, scores, gt, boxes, rows = predict_dataset(
        loc, data, flip_test=flip_test, batch_size=batch_size
    )
    result: dict = {"n": int(len(pred)), "flip_test": bool(flip_test and deep)}
    if data.skeleton.name == "faces68":
        from kplearn.metrics import face_metrics

        result.update({k: float(v) for k, v in face_metrics(pred, gt).items()})
        return result
    from kplearn.metrics import body_metrics

    result.update({k: float(v) for k, v in body_metrics(pred, gt, boxes).items()})
    if data.skeleton.sigmas is not None:
        # Each detection scored by its mean keypoint confidence; image ids as dataset_to_coco's.
        dt = predictions_to_coco(np.concatenate([pred[..., :2], scores[..., None]], -1),
                                 np.clip(scores, 0, None).mean(1), rows[:, 0] + 1)  # fmt: skip
        result.update(_oks_stats(data, dt))
    return result


def _evaluate_bottom_up(loc, data: KeypointDataset, flip_test: bool) -> dict:
    if data.skeleton.sigmas is None:
        raise ValueError(
            f"layout {data.skeleton.name!r} has no OKS sigmas: cannot score multi-person output"
        )
    found = loc.predict_people([s.image for s in data], flip_test=flip_test)
    dt = predictions_to_coco([people for people, _ in found], [scores for _, scores in found])
    result = {"n": int(sum(s.num_instances for s in data)), "flip_test": bool(flip_test),
              "detections": len(dt)}  # fmt: skip
    result.update(_oks_stats(data, dt))
    return result
