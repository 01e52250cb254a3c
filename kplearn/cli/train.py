"""``kplearn train``, ``kplearn evaluate`` and ``kplearn predict``.

Examples
--------
    kplearn train --data synthetic-faces --model heatmap --minutes 2 --out runs/hm
    kplearn train --data faces68:../shared/data/faces68 --model regression --minutes 6 --out runs/reg
    kplearn evaluate runs/hm --data synthetic-faces --json
    kplearn evaluate runs/reg --data faces68:../shared/data/faces68 --split val --json
    kplearn predict runs/hm face1.png face2.jpg --out preds.json --draw drawn/

``--model`` takes a deep model name (regression, cascade, heatmap, hourglass,
hrnet, integral, paf) or a classical one (mean-shape, hog-ridge, hog-svm, ...).
Unless ``--val SPEC`` is given, a seeded 10 % of the training data is held out
for validation, by group (person) where the data names groups; the held-out
sample names are stored in the run, and ``evaluate --split val`` scores them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

if "torch" not in sys.modules:
    # Idle OpenMP threads sleep instead of spinning: on a busy laptop, spinning threads can make
    # training several times slower. Only effective before torch is first imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

__all__ = ["register", "train_run", "read_image", "split_data"]


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _size(text: str) -> list[int]:
    try:
        if "x" in text.lower():
            w, h = text.lower().split("x")
            return [int(w), int(h)]
        return [int(text), int(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or WxH, got {text!r}") from None


def _setting(text: str) -> tuple[str, object]:
    """``key=value`` with a JSON value (bare words are strings)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def register(subparsers) -> None:
    """Add the ``train``, ``evaluate`` and ``predict`` commands."""
    from kplearn.data.specs import SPEC_KINDS

    spec_help = "data spec: " + ", ".join(SPEC_KINDS)

    p = subparsers.add_parser("train", help="train a deep or classical model and save a run directory",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--data", required=True, metavar="SPEC", help=spec_help)
    p.add_argument("--model", required=True, metavar="NAME", help="deep or classical model name")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory to write")
    p.add_argument("--minutes", type=_positive_float, default=None, help="wall-clock budget")
    p.add_argument("--epochs", type=_positive_int, default=None, help="epoch budget (deep models)")
    p.add_argument(
        "--val", metavar="SPEC", default=None, help="validation data (default: hold out 10%%)"
    )
    p.add_argument(
        "--val-fraction", type=float, default=0.1, help="held-out fraction without --val (0.1)"
    )
    p.add_argument(
        "--n", type=_positive_int, default=None, help="number of samples (synthetic) / subset size"
    )
    p.add_argument("--image-size", type=_size, default=None, metavar="N|WxH",
                   help="synthetic: generated size; files: resize")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of data, split and training (0)")
    p.add_argument(
        "--preset", choices=("best", "fast"), default="best", help="deep model size preset"
    )
    p.add_argument(
        "--input-size", type=_size, default=None, metavar="N|WxH", help="network input size"
    )
    p.add_argument("--set", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                   help="network config override, e.g. --set stride=2 --set sigma=2.0")  # fmt: skip
    p.add_argument("--train-set", type=_setting, action="append", default=[], metavar="KEY=VALUE",
                   help="training setting override, e.g. --train-set lr=0.001")  # fmt: skip
    p.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads")
    p.add_argument(
        "--device", default=None, help="cpu, cuda or mps (default: the fastest available)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_train)

    p = subparsers.add_parser("evaluate", help="score a run on data (NME, PCK, OKS AP)")
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument("--data", required=True, metavar="SPEC", help=spec_help)
    p.add_argument("--split", choices=("all", "val", "train"), default="all",
                   help="all samples, or the run's held-out (val) / training samples")  # fmt: skip
    p.add_argument("--n", type=_positive_int, default=None, help="number of samples / subset size")
    p.add_argument("--image-size", type=_size, default=None, metavar="N|WxH")
    p.add_argument("--seed", type=int, default=0, help="seed of the data or subset (0)")
    p.add_argument("--no-flip", action="store_true", help="no flip test-time augmentation")
    p.add_argument("--json", action="store_true", help="print a JSON object of metrics")
    p.set_defaults(func=_cmd_evaluate)

    p = subparsers.add_parser("predict", help="predict keypoints on image files")
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--out", required=True, metavar="PREDS.json", help="JSON file to write")
    p.add_argument("--boxes", default=None, metavar="BOXES.json",
                   help="JSON list of [x, y, w, h] (or null) per image; default whole images")  # fmt: skip
    p.add_argument("--draw", default=None, metavar="DIR", help="also write drawings into DIR")
    p.add_argument("--no-flip", action="store_true", help="no flip test-time augmentation")
    p.set_defaults(func=_cmd_predict)


# --- data -------------------------------------------------------------------------------------
def split_data(data, fraction: float = 0.1, seed: int = 0):
    """Seeded ``(train, held_out)``, by group (person) when the samples name groups."""
    if not 0 < fraction < 1:
        raise ValueError(f"--val-fraction must be in (0, 1), got {fraction}")
    has_groups = any(s.group is not None for s in data)
    return data.split(fraction, seed=seed, by_group=has_groups)


def _load(spec: str, n=None, seed=0, image_size=None, progress=True):
    from kplearn.data.specs import load_data

    size = None if image_size is None else tuple(image_size)
    return load_data(spec, n=n, seed=seed, image_size=size, progress=progress)


# --- train --------------------------------------------------------------------------------------
def train_run(
    model: str,
    train,
    val=None,
    *,
    out: str | Path,
    minutes: float | None = None,
    epochs: int | None = None,
    seed: int = 0,
    preset: str = "best",
    model_config: dict | None = None,
    train_config: dict | None = None,
    progress: bool = True,
    info: dict | None = None,
    threads: int | None = None,
    device: str | None = None,
):
    """Train a deep or classical model by name and save it to ``out``; returns the localiser.

    This is what ``kplearn train`` runs after loading and splitting the data.
    """
    from kplearn.train.runs import DeepLocaliser, model_names

    names = model_names()
    if model in names["deep"]:
        loc = DeepLocaliser(
            model, train.skeleton, preset=preset, model=model_config, train=train_config, seed=seed
        )
        loc.info = dict(info or {})
        kwargs = {}
        if threads is not None:
            kwargs["num_threads"] = threads
        if device is not None:
            kwargs["device"] = device
        loc.fit(train, val, minutes=minutes, epochs=epochs, progress=progress, out=out, **kwargs)
        loc.save(out)
        return loc
    if model in names["classical"]:
        from kplearn.classical.registry import CLASSICAL_MODELS

        if model_config:
            raise ValueError("--set applies to deep models only")
        if epochs is not None:
            raise ValueError(
                "--epochs applies to deep models only; use --minutes for classical models"
            )
        loc = CLASSICAL_MODELS[model]()
        loc.fit(train, val, minutes=minutes, seed=seed, progress=progress)
        loc.save(out)
        if info:
            cfg_path = Path(out) / "config.json"
            cfg = json.loads(cfg_path.read_text())
            cfg.update({k: v for k, v in info.items() if k not in cfg})
            cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
        return loc
    raise ValueError(
        f"unknown model {model!r}; deep: {', '.join(names['deep'])}; classical: {', '.join(names['classical']) or '(none)'}"
    )


def _cmd_train(args: argparse.Namespace) -> int:
    from kplearn.train.runs import model_names

    names = model_names()
    if args.model not in names["deep"] + names["classical"]:
        raise ValueError(
            f"unknown model {args.model!r}; deep: {', '.join(names['deep'])}; "
            f"classical: {', '.join(names['classical']) or '(none)'}"
        )
    progress = not args.quiet
    data = _load(args.data, args.n, args.seed, args.image_size, progress)
    if args.val is not None:
        train, val = data, _load(args.val, None, args.seed, args.image_size, progress)
        split = {"val_spec": args.val}
    else:
        train, val = split_data(data, args.val_fraction, args.seed)
        split = {"fraction": args.val_fraction, "seed": args.seed,
                 "by_group": any(s.group is not None for s in data),
                 "val_names": [s.name for s in val]}  # fmt: skip
    model_config = dict(args.set)
    if args.input_size is not None:
        model_config["input_size"] = args.input_size
    info = {"data": args.data, "n": args.n, "image_size": args.image_size, "split": split}
    t0 = time.perf_counter()
    loc = train_run(args.model, train, val, out=args.out, minutes=args.minutes, epochs=args.epochs,
                    seed=args.seed, preset=args.preset, model_config=model_config,
                    train_config=dict(args.train_set), progress=progress, info=info,
                    threads=args.threads, device=args.device)  # fmt: skip
    summary = {"run": str(args.out), "model": args.model, "train": len(train), "val": len(val),
               "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
    hist = getattr(loc, "history", None)
    if hist is not None:
        summary.update(epochs=len(hist.epochs), steps=hist.steps, best_epoch=hist.best_epoch,
                       metric=hist.metric, best_value=hist.best_value, stop=hist.stop_reason)  # fmt: skip
    if args.json:
        print(json.dumps(summary))
    else:
        print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


# --- evaluate -------------------------------------------------------------------------------------
def _select_split(data, config: dict, split: str):
    if split == "all":
        return data
    names = config.get("split", {}).get("val_names")
    if names is None:
        raise ValueError(
            "this run has no recorded held-out split (trained with --val?); use --split all"
        )
    wanted = set(names)
    keep = np.array([(s.name in wanted) == (split == "val") for s in data])
    if not keep.any():
        raise ValueError(f"no sample of the data is in the run's {split!r} split (other data?)")
    return data[keep]


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from kplearn.train.checkpoint import read_config
    from kplearn.train.evaluate import evaluate
    from kplearn.train.runs import load_run

    config = read_config(args.run)
    loc = load_run(args.run)
    data = _load(args.data, args.n, args.seed, args.image_size, progress=not args.json)
    data = _select_split(data, config, args.split)
    metrics = evaluate(loc, data, flip_test=not args.no_flip)
    if args.json:
        print(json.dumps(metrics))
    else:
        for k, v in metrics.items():
            print(f"{k:>14s}  {v:.4f}" if isinstance(v, float) else f"{k:>14s}  {v}")
    return 0


# --- predict ----------------------------------------------------------------------------------------
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
    image: np.ndarray, keypoints: np.ndarray, skeleton, radius: int | None = None
) -> np.ndarray:
    """The image with keypoints (K, 2|3) or people (M, K, 3) and skeleton edges drawn (RGB uint8)."""
    import cv2

    out = image.copy()
    people = keypoints[None] if keypoints.ndim == 2 else keypoints
    r = radius or max(1, round(max(image.shape[:2]) / 120))
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


def _cmd_predict(args: argparse.Namespace) -> int:
    import cv2

    from kplearn.train.runs import load_run

    loc = load_run(args.run)
    images = [read_image(p) for p in args.images]
    boxes = None
    if args.boxes is not None:
        bp = Path(args.boxes)
        if not bp.is_file():
            raise FileNotFoundError(f"boxes file {str(bp)!r} not found")
        try:
            boxes = json.loads(bp.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{str(bp)!r} is not valid JSON: {err}") from None
        if not isinstance(boxes, list) or len(boxes) != len(images):
            raise ValueError(
                f"{str(bp)!r} must hold a list of {len(images)} boxes ([x, y, w, h] or null)"
            )
    deep = getattr(loc, "family", "classical") == "deep"
    sk = loc.skeleton
    records = []
    if deep and loc.model.output_kind == "paf":
        if boxes is not None:
            raise ValueError("--boxes does not apply to a bottom-up (PAF) model")
        for path, (people, scores) in zip(
            args.images, loc.predict_people(images, flip_test=not args.no_flip), strict=True
        ):
            records.append(
                {"image": str(path), "people": people.tolist(), "scores": scores.tolist()}
            )
        drawn = [np.asarray(r["people"]).reshape(-1, sk.num_keypoints, 3) for r in records]
    else:
        if deep:
            kp, scores = loc.predict(images, boxes, flip_test=not args.no_flip, return_scores=True)
        else:
            if boxes is not None and any(b is None for b in boxes):
                raise ValueError(
                    "classical models need a box for every image, or no --boxes at all"
                )
            kp = loc.predict(images, boxes)
            scores = np.ones(kp.shape[:2])
        for i, path in enumerate(args.images):
            rec = {
                "image": str(path),
                "keypoints": kp[i, :, :2].tolist(),
                "scores": scores[i].tolist(),
            }
            if boxes is not None:
                rec["box"] = boxes[i]
            records.append(rec)
        drawn = [kp[i] for i in range(len(images))]
    result = {"run": str(args.run), "model": loc.name, "skeleton": sk.name,
              "keypoint_names": list(sk.keypoint_names), "coordinates": "image pixels, pixel centres",
              "predictions": records}  # fmt: skip
    out = Path(args.out)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    if args.draw is not None:
        d = Path(args.draw)
        d.mkdir(parents=True, exist_ok=True)
        for path, img, kp_i in zip(args.images, images, drawn, strict=True):
            pic = draw_prediction(img, kp_i, sk)
            cv2.imwrite(str(d / (Path(path).stem + ".png")), cv2.cvtColor(pic, cv2.COLOR_RGB2BGR))
    print(f"wrote {len(records)} predictions to {out}", file=sys.stderr)
    return 0
