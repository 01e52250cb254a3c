"""Score a trained model (deep or classical) on a dataset with the :mod:`kplearn.metrics`.

Faces (the ``faces68`` layout) get :func:`kplearn.metrics.face_metrics`: NME
(inter-ocular, outer eye corners), failure rate, PCK@0.05, PCK@0.1 and AUC.
Other layouts get :func:`kplearn.metrics.body_metrics` (PCK with the box
normaliser, AUC, EPE) and, when the layout has OKS sigmas, COCO keypoint AP
from :func:`kplearn.metrics.coco_keypoint_eval` (``ap``, ``ap50``, ``ap75``, ``ar``):
top-down models are run on every labelled instance's ground-truth box (the
"GT boxes" protocol), each prediction scored by its mean keypoint confidence;
bottom-up (PAF) models find the people themselves.

Example
-------
>>> from kplearn.data.synthetic import make_faces
>>> from kplearn.models import build_model
>>> sorted(evaluate(build_model("heatmap", "faces68"), make_faces(4, image_size=64)))
['auc', 'failure_rate', 'flip_test', 'n', 'nme', 'pck@0.05', 'pck@0.1']
"""

from __future__ import annotations

import numpy as np

from kplearn.data.datasets import KeypointDataset
from kplearn.train.runs import as_localiser

__all__ = ["evaluate", "predict_dataset", "coco_ground_truth"]


def predict_dataset(
    localiser, data: KeypointDataset, *, flip_test: bool = True, batch_size: int = 64
):
    """Top-down predictions for every labelled instance of ``data``.

    Returns ``(pred (N, K, 3), scores (N, K), gt (N, K, 3), boxes (N, 4), index (N, 2))``
    with ``index`` the (sample, instance) of each row; keypoints in image pixels.
    """
    box_mode = getattr(localiser, "box_mode", None)
    if box_mode is None:
        box_mode = "image" if data.is_single_instance else "box"
    rows, images, boxes = [], [], []
    for i, s in enumerate(data):
        labelled = [m for m in range(s.num_instances) if np.any(s.keypoints[m, :, 2] > 0)]
        if box_mode == "image":
            if s.num_instances > 1:
                raise ValueError(
                    f"sample {s.name or i!r} has {s.num_instances} people but the model crops whole "
                    "images (it was trained on one instance per image)"
                )
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


def coco_ground_truth(data: KeypointDataset) -> dict:
    """COCO keypoints ground truth of every instance of ``data`` (image ids = sample index + 1)."""
    anns = []
    for i, s in enumerate(data):
        for m in range(s.num_instances):
            kp = s.keypoints[m]
            anns.append({
                "id": len(anns) + 1, "image_id": i + 1, "category_id": 1,
                "keypoints": kp.reshape(-1).tolist(), "num_keypoints": int((kp[:, 2] > 0).sum()),
                "area": float(s.areas[m]), "bbox": [float(v) for v in s.boxes[m]],
                "iscrowd": int(s.iscrowd[m]),
            })  # fmt: skip
    return {
        "images": [{"id": i + 1} for i in range(len(data))],
        "categories": [{"id": 1}],
        "annotations": anns,
    }


def _oks_stats(data: KeypointDataset, dt: list) -> dict:
    from kplearn.metrics import coco_keypoint_eval

    stats = coco_keypoint_eval(coco_ground_truth(data), dt, sigmas=data.skeleton.sigma_array)
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
        dt = []
        for (i, _), kp, sc in zip(rows, pred, scores, strict=True):
            flat = np.concatenate([kp[:, :2], sc[:, None]], 1).reshape(-1)
            dt.append({"image_id": int(i) + 1, "category_id": 1, "keypoints": flat.tolist(),
                       "score": float(np.clip(sc, 0, None).mean())})  # fmt: skip
        result.update(_oks_stats(data, dt))
    return result


def _evaluate_bottom_up(loc, data: KeypointDataset, flip_test: bool) -> dict:
    if data.skeleton.sigmas is None:
        raise ValueError(
            f"layout {data.skeleton.name!r} has no OKS sigmas: cannot score multi-person output"
        )
    found = loc.predict_people([s.image for s in data], flip_test=flip_test)
    dt = []
    for i, (people, scores) in enumerate(found):
        for person, score in zip(people, scores, strict=True):
            dt.append({"image_id": i + 1, "category_id": 1, "keypoints": person.reshape(-1).tolist(),
                       "score": float(score)})  # fmt: skip
    result = {"n": int(sum(s.num_instances for s in data)), "flip_test": bool(flip_test),
              "detections": len(dt)}  # fmt: skip
    result.update(_oks_stats(data, dt))
    return result
