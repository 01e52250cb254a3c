"""``kplearn train`` and ``kplearn evaluate`` (``kplearn predict`` is :mod:`kplearn.cli.predict`).

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

from kplearn.cli._common import positive_float, positive_int

__all__ = ["register", "train_run", "split_data", "check_run_dir", "default_split", "SPLITS"]

#: What ``kplearn evaluate --split`` chooses from.
SPLITS = ("val", "train", "all")


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


TRAIN_DESCRIPTION = """\
Train a deep or classical model on data and save it in a run directory.

examples:
  kplearn train --data synthetic-faces --model heatmap --minutes 2 --out runs/hm
  kplearn train --data faces68:../shared/data/faces68 --model regression --minutes 6 --out runs/reg
  kplearn train --data synthetic-faces --model heatmap --epochs 3 --out runs/hm --overwrite

--model takes a deep model (regression, cascade, heatmap, hourglass, hrnet,
integral, paf, ...) or a classical one (mean-shape, hog-ridge, hog-svm, sdm,
...); a misspelt name lists them all. Unless --val SPEC is given, a seeded 10 %
of the data is held out for validation, by group (person) where the data names
groups, and the run records which samples those are: kplearn evaluate RUN_DIR
on the same data then scores only them.

--out must be a new or empty folder: an existing run is replaced only with
--overwrite, which deletes it first.

Progress shows the budget used, the running loss, the last epoch's validation
metric and the time elapsed against --minutes: a bar on a terminal, a line
every 30 s when the output goes to a log.
"""

EVALUATE_DESCRIPTION = """\
Score a trained run on data: NME, failure rate, PCK and AUC for faces, OKS AP
for people.

examples:
  kplearn evaluate runs/hm --data synthetic-faces --n 256 --image-size 64 --json
  kplearn evaluate runs/reg --data faces68:../shared/data/faces68 --split all

Which samples are scored (--split):
  default  on the data the run was trained on (same spec, and for synthetic
           data the same --n, --seed and --image-size): the run's held-out
           samples (val); on any other data: all of it
  val      the run's held-out samples only
  train    the samples the run was trained on
  all      every sample
The report names the split, its size and whether the flip test was on.
"""


def register(subparsers) -> None:
    """Add the ``train`` and ``evaluate`` commands (``predict`` is :mod:`kplearn.cli.predict`)."""
    from kplearn.data.specs import SPEC_KINDS

    spec_help = "data spec: " + ", ".join(SPEC_KINDS)

    p = subparsers.add_parser("train", help="train a deep or classical model and save a run directory",
                              description=TRAIN_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--data", required=True, metavar="SPEC", help=spec_help)
    p.add_argument("--model", required=True, metavar="NAME", help="deep or classical model name")
    p.add_argument("--out", required=True, metavar="RUN_DIR",
                   help="run directory to write: a new or empty folder (see --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run already in RUN_DIR (deleted first)")  # fmt: skip
    p.add_argument("--minutes", type=positive_float, default=None,
                   help="wall-clock budget in minutes (data loading excluded)")  # fmt: skip
    p.add_argument("--epochs", type=positive_int, default=None, help="epoch budget (deep models)")
    p.add_argument(
        "--val", metavar="SPEC", default=None, help="validation data (default: hold out 10%%)"
    )
    p.add_argument(
        "--val-fraction", type=float, default=0.1, help="held-out fraction without --val (0.1)"
    )
    p.add_argument(
        "--n", type=positive_int, default=None, help="number of samples (synthetic) / subset size"
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
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    p.add_argument(
        "--device", default=None, help="cpu, cuda or mps (default: the fastest available)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_train)

    p = subparsers.add_parser("evaluate", help="score a run on data (NME, PCK, OKS AP)",
                              description=EVALUATE_DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("run", metavar="RUN_DIR", help="a run directory written by kplearn train")
    p.add_argument("--data", required=True, metavar="SPEC", help=spec_help)
    p.add_argument("--split", choices=SPLITS, default=None,
                   help="val, train or all (default: val on the run's own data, else all)")  # fmt: skip
    p.add_argument("--n", type=positive_int, default=None, help="number of samples / subset size")
    p.add_argument("--image-size", type=_size, default=None, metavar="N|WxH",
                   help="synthetic: generated size; files: resize")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="seed of the data or subset (0)")
    p.add_argument("--no-flip", action="store_true", help="no flip test-time augmentation")
    p.add_argument("--json", action="store_true", help="print a JSON object of metrics")
    p.set_defaults(func=_cmd_evaluate)


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
            from kplearn.run_config import update_config

            update_config(out, info)
        return loc
    raise ValueError(
        f"unknown model {model!r}; deep: {', '.join(names['deep'])}; classical: {', '.join(names['classical']) or '(none)'}"
    )


def check_run_dir(out: str | Path, overwrite: bool = False) -> bool:
    """Check that ``kplearn train --out`` may write ``out``; True when a run there is to be replaced.

    ``out`` may be missing or an empty folder. A folder that holds a run
    (``config.json``) is replaced only with ``overwrite``; any other non-empty
    folder, or a file, is refused either way (nothing but a run is ever deleted).

    Examples
    --------
    >>> import tempfile
    >>> check_run_dir(Path(tempfile.mkdtemp()) / "new")
    False
    """
    out = Path(out)
    if not out.exists():
        return False
    if not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file, not a run directory")
    if not any(out.iterdir()):
        return False
    if not (out / "config.json").is_file():
        raise ValueError(
            f"--out {str(out)!r} is a folder with files but not a kplearn run (no config.json); "
            "choose a new or empty folder"
        )
    if not overwrite:
        raise ValueError(
            f"--out {str(out)!r} already holds a trained run; pass --overwrite to replace it "
            "or choose another --out"
        )
    return True


def _summary_text(summary: dict) -> str:
    """``key=value`` pairs, numbers rounded for reading."""
    from kplearn.train.progress import format_value

    return " ".join(
        f"{k}={format_value(v) if isinstance(v, float) and k != 'seconds' else v}"
        for k, v in summary.items()
    )


def _cmd_train(args: argparse.Namespace) -> int:
    from kplearn.train.runs import model_names

    names = model_names()
    if args.model not in names["deep"] + names["classical"]:
        raise ValueError(
            f"unknown model {args.model!r}; deep: {', '.join(names['deep'])}; "
            f"classical: {', '.join(names['classical']) or '(none)'}"
        )
    replace = check_run_dir(args.out, args.overwrite)
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
    info = {"data": args.data, "n": args.n, "seed": args.seed, "image_size": args.image_size,
            "split": split}  # fmt: skip
    if replace:  # only now that the data loaded: a bad spec leaves the old run alone
        import shutil

        shutil.rmtree(args.out)
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
                       metric=hist.metric, best_value=hist.best_value, split="val",
                       flip_test=False, stop=hist.stop_reason)  # fmt: skip
    if args.json:
        print(json.dumps(summary))
    else:
        print(_summary_text(summary))
    return 0


# --- evaluate -------------------------------------------------------------------------------------
def _trained_on(config: dict, args: argparse.Namespace) -> bool:
    """Whether ``--data`` (with its options) is the data the run was trained on."""
    from kplearn.data.specs import parse_spec

    if config.get("data") != args.data:
        return False
    if parse_spec(args.data)[0].startswith("synthetic"):
        # Generated samples are named by index: only the same settings give the same samples.
        seed = config.get("seed", config.get("split", {}).get("seed"))
        return (config.get("n"), seed, config.get("image_size")) == (args.n, args.seed,
                                                                      args.image_size)  # fmt: skip
    return True  # files: sample names are file names


def _training_settings(config: dict) -> str:
    parts = [f"--data {config.get('data')}"]
    for key in ("n", "seed", "image_size"):
        value = config.get(key, config.get("split", {}).get(key))
        if value is not None:
            shown = "x".join(map(str, value)) if isinstance(value, list) else value
            parts.append(f"--{key.replace('_', '-')} {shown}")
    return " ".join(parts)


def default_split(config: dict, same_data: bool) -> tuple[str, str | None]:
    """``(split, warning)``: what ``evaluate`` scores without ``--split``.

    The run's held-out samples on the data it was trained on, all samples of any
    other data. ``warning`` is set when the default scores training samples.

    Examples
    --------
    >>> default_split({"split": {"val_names": ["a"]}}, same_data=True)
    ('val', None)
    >>> default_split({"split": {"val_names": ["a"]}}, same_data=False)
    ('all', None)
    """
    recorded = config.get("split", {})
    if not same_data:
        return "all", None
    if recorded.get("val_names") is not None:
        return "val", None
    val_spec = recorded.get("val_spec")
    return "all", (
        "the run was trained on all of this data"
        + (f" (validated on {val_spec}); evaluate with --data {val_spec} for held-out scores"
           if val_spec else "; these are training scores")  # fmt: skip
    )


def _select_split(data, config: dict, split: str, same_data: bool = True):
    if split == "all":
        return data
    recorded = config.get("split", {})
    names = recorded.get("val_names")
    if names is None:
        where = f" (it was validated on {recorded['val_spec']})" if recorded.get("val_spec") else ""
        raise ValueError(f"this run has no recorded held-out split{where}; use --split all")
    if not same_data:
        raise ValueError(
            f"--split {split} names samples of the data the run was trained on "
            f"({_training_settings(config)}); use that data, or --split all"
        )
    wanted = set(names)
    keep = np.array([(s.name in wanted) == (split == "val") for s in data])
    if not keep.any():
        raise ValueError(f"no sample of the data is in the run's {split!r} split (other data?)")
    return data[keep]


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from kplearn.run_config import read_config
    from kplearn.train.evaluate import evaluate
    from kplearn.train.runs import load_run

    config = read_config(args.run)
    loc = load_run(args.run)
    same = _trained_on(config, args)
    split, warning = (args.split, None) if args.split else default_split(config, same)
    data = _load(args.data, args.n, args.seed, args.image_size, progress=not args.json)
    data = _select_split(data, config, split, same)
    metrics = evaluate(loc, data, flip_test=not args.no_flip)
    report = {"run": str(args.run), "data": args.data, "split": split, "split_size": len(data),
              "flip_test": bool(metrics.pop("flip_test", not args.no_flip)), **metrics}  # fmt: skip
    if warning:
        print(f"kplearn evaluate: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(report))
    else:
        from kplearn.cli import plural
        from kplearn.train.progress import format_value

        print(f"{args.run} on {args.data}: split {split} ({plural(len(data), 'sample')}), "
              f"flip test {'on' if report['flip_test'] else 'off'}")  # fmt: skip
        for k, v in metrics.items():
            print(f"{k:>14s}  {format_value(v) if isinstance(v, float) else v}")
    return 0
