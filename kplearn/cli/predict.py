"""``kplearn predict``: keypoints on image files, with faces found in whole photographs.

The command's help text, with its examples, is :data:`DESCRIPTION`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

__all__ = ["register", "read_image", "draw_prediction", "predict_files"]

DESCRIPTION = """\
Predict keypoints on image files; a face model finds the faces of whole photographs.

A model trained on real face crops (its run records "face_crop") finds the faces
itself with OpenCV's frontal-face detector, crops each as the model was trained,
and predicts every face found ("faces" in the JSON, each with its detector box,
crop, score, keypoints and keypoint scores). Other models treat each image as the
crop (--whole-image, the default for them), or crop the boxes of --boxes.

examples:
  kplearn predict runs/sdm photo.jpg --out preds.json --draw drawn/
  kplearn predict runs/hm face1.png face2.jpg --out preds.json --whole-image
  kplearn predict runs/people scene.jpg --out preds.json --boxes boxes.json
"""


def register(subparsers) -> None:
    """Add the ``predict`` command."""
    p = subparsers.add_parser("predict", help="predict keypoints on image files (faces found in photos)",
                              description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("run", metavar="RUN_DIR", help="a run directory (kplearn train --out)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    p.add_argument("--out", default=None, metavar="PREDS.json",
                   help="JSON file to write (default: print it)")  # fmt: skip
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--boxes", default=None, metavar="BOXES.json",
                      help="JSON list of [x, y, w, h] (or null: the whole image) per image, "
                           "instead of finding faces")  # fmt: skip
    mode.add_argument("--whole-image", action="store_true",
                      help="each image is the crop (no face finding)")  # fmt: skip
    p.add_argument("--draw", default=None, metavar="DIR", help="also write drawings into DIR")
    p.add_argument("--no-flip", action="store_true", help="no flip test-time augmentation")
    p.add_argument("--runtime", choices=("torch", "onnx"), default="torch",
                   help="run the network with torch, or with onnxruntime on the file of "
                        "kplearn export (deep models; needs kplearn[onnx])")  # fmt: skip
    p.add_argument("--onnx", default=None, metavar="MODEL.onnx",
                   help="with --runtime onnx: the file (default RUN_DIR/model.onnx)")  # fmt: skip
    p.set_defaults(func=_cmd_predict)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB ``uint8`` (grey and RGBA accepted; 16-bit refused with a message)."""
    import cv2

    from kplearn.train.crops import check_image

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"image {str(p)!r} not found")
    img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"image {str(p)!r} could not be read (not an image OpenCV knows?)")
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    return check_image(img, f"image {str(p)!r}")


def draw_prediction(
    image: np.ndarray, keypoints: np.ndarray, skeleton, radius: int | None = None, boxes=None
) -> np.ndarray:
    """The image with keypoints (K, 2|3) or people (M, K, 3), skeleton edges and boxes drawn (RGB uint8).

    For the faces68 layout the edges are the face outline (jaw, brows, nose, eyes, lips).
    ``boxes`` (M, 4) ``[x, y, w, h]`` are drawn as thin rectangles (the face detector's boxes).
    """
    import cv2

    out = np.ascontiguousarray(image.copy())
    people = keypoints[None] if keypoints.ndim == 2 else keypoints
    r = radius or max(1, round(max(image.shape[:2]) / 300))
    for box in [] if boxes is None else boxes:
        x, y, w, h = (float(v) for v in box)
        cv2.rectangle(out, (round(x + 0.5), round(y + 0.5)), (round(x + w - 0.5), round(y + h - 0.5)),
                      (60, 220, 60), max(1, r // 2), cv2.LINE_AA)  # fmt: skip
    for person in people:
        shown = person[:, 2] > 0 if person.shape[1] > 2 else np.ones(len(person), bool)
        for a, b in skeleton.edges:
            if shown[a] and shown[b]:
                pa = tuple(int(round(v)) for v in person[a, :2])
                pb = tuple(int(round(v)) for v in person[b, :2])
                cv2.line(out, pa, pb, (0, 200, 255), max(1, r // 2), cv2.LINE_AA)
        for k, (x, y) in enumerate(person[:, :2]):
            if shown[k]:
                cv2.circle(out, (int(round(x)), int(round(y))), r, (255, 60, 0), -1, cv2.LINE_AA)
    return out


def _read_boxes(path: str, n: int) -> list:
    bp = Path(path)
    if not bp.is_file():
        raise FileNotFoundError(f"boxes file {str(bp)!r} not found")
    try:
        boxes = json.loads(bp.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{str(bp)!r} is not valid JSON: {err}") from None
    if not isinstance(boxes, list) or len(boxes) != n:
        raise ValueError(f"{str(bp)!r} must hold a list of {n} boxes ([x, y, w, h] or null)")
    return boxes


def predict_files(loc, paths: list[str], *, boxes=None, whole_image: bool = False,
                  flip_test: bool = True) -> tuple[dict, list]:  # fmt: skip
    """The ``kplearn predict`` JSON for image files, and per image ``(keypoints, boxes)`` to draw."""
    from kplearn.train.runs import predict, predict_faces, predict_people

    images = [read_image(p) for p in paths]
    deep = getattr(loc, "family", "classical") == "deep"
    sk = loc.skeleton
    records, drawn = [], []
    find_faces = boxes is None and not whole_image and getattr(loc, "face_crop", None) is not None
    if deep and loc.model.output_kind == "paf":
        if boxes is not None:
            raise ValueError("--boxes does not apply to a bottom-up (PAF) model")
        mode = "people"
        for path, (people, scores) in zip(paths, predict_people(loc, images, flip_test=flip_test),
                                          strict=True):  # fmt: skip
            records.append(
                {"image": str(path), "people": people.tolist(), "scores": scores.tolist()}
            )
            drawn.append((people.reshape(-1, sk.num_keypoints, 3), None))
    elif find_faces:
        mode = "faces"
        found = predict_faces(loc, images, flip_test=flip_test, names=[repr(str(p)) for p in paths])
        for path, faces in zip(paths, found, strict=True):
            records.append({"image": str(path), "faces": [
                {"box": faces.boxes[j].tolist(), "crop": faces.crops[j].tolist(),
                 "score": float(faces.face_scores[j]), "keypoints": faces.keypoints[j, :, :2].tolist(),
                 "scores": faces.scores[j].tolist()} for j in range(len(faces))]})  # fmt: skip
            drawn.append((faces.keypoints, faces.boxes))
    else:
        mode = "boxes" if boxes is not None else "whole image"
        kp, scores = predict(loc, images, boxes, flip_test=flip_test, return_scores=True)
        for i, path in enumerate(paths):
            rec = {
                "image": str(path),
                "keypoints": kp[i, :, :2].tolist(),
                "scores": scores[i].tolist(),
            }
            if boxes is not None:
                rec["box"] = boxes[i]
            records.append(rec)
            drawn.append((kp[i], None))
    result = {"model": loc.name, "skeleton": sk.name, "mode": mode,
              "keypoint_names": list(sk.keypoint_names), "coordinates": "image pixels, pixel centres",
              "predictions": records}  # fmt: skip
    return result, list(zip(images, drawn, strict=True))


def _cmd_predict(args: argparse.Namespace) -> int:
    import cv2

    from kplearn.train.runs import load_run

    loc = load_run(args.run)
    if args.runtime == "onnx":  # same crops, flip test and decoding; only the network differs
        from kplearn.export import onnx_path_for, use_onnx_runtime

        try:
            use_onnx_runtime(loc, onnx_path_for(args.run, args.onnx))
        except ImportError as err:
            raise ValueError(str(err)) from None
    boxes = None if args.boxes is None else _read_boxes(args.boxes, len(args.images))
    result, drawn = predict_files(loc, list(args.images), boxes=boxes, whole_image=args.whole_image,
                                  flip_test=not args.no_flip)  # fmt: skip
    result = {"run": str(args.run), "runtime": args.runtime, **result}
    text = json.dumps(result, indent=1)
    if args.out is None:
        print(text)
    else:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    if args.draw is not None:
        d = Path(args.draw)
        d.mkdir(parents=True, exist_ok=True)
        for path, (img, (kp, face_boxes)) in zip(args.images, drawn, strict=True):
            pic = draw_prediction(img, kp, loc.skeleton, boxes=face_boxes)
            cv2.imwrite(str(d / (Path(path).stem + ".png")), cv2.cvtColor(pic, cv2.COLOR_RGB2BGR))
    n = sum(len(r.get("faces", r.get("people", [None]))) for r in result["predictions"])
    where = "standard output" if args.out is None else args.out
    print(f"kplearn predict: {n} predictions ({result['mode']}) for {len(args.images)} images "
          f"written to {where}", file=sys.stderr)  # fmt: skip
    return 0
