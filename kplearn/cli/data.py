"""``kplearn data``: download, list, show, count and export keypoint data.

Every command names its data with one spec string (see :mod:`kplearn.data.specs`);
``download`` fetches the real datasets (see :mod:`kplearn.data.fetch`).

Examples
--------
    kplearn data download faces68
    kplearn data list
    kplearn data show synthetic-faces --n 16 --out grid.png
    kplearn data stats coco:ann/person_keypoints_val.json:images --json
    kplearn data export synthetic-people --format coco --out exported/
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from kplearn.cli._common import add_command, options, positive_int
from kplearn.data.specs import SPEC_KINDS, dataset_stats, load_data
from kplearn.skeletons import get_skeleton, list_skeletons

__all__ = ["register", "export_dataset"]

_SPEC_HELP = "data spec: " + ", ".join(SPEC_KINDS) + " (see `kplearn data list`)"


def _image_size(text: str) -> int | tuple[int, int]:
    """``96`` or ``128x96`` (width x height)."""
    try:
        if "x" in text.lower():
            w, h = text.lower().split("x")
            return int(w), int(h)
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or WxH, got {text!r}") from None


def _add_data_args(p: argparse.ArgumentParser, n_default: int | None, n_help: str) -> None:
    p.add_argument("spec", metavar="SPEC", help=_SPEC_HELP)
    p.add_argument("--n", type=positive_int, default=n_default, help=n_help)
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the generator or subset (default 0)"
    )
    p.add_argument(
        "--image-size",
        type=_image_size,
        default=None,
        metavar="N|WxH",
        help="synthetic: size to generate; files: resize every image (default: as stored)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def _load(args: argparse.Namespace):
    return load_data(
        args.spec,
        n=args.n,
        seed=args.seed,
        image_size=args.image_size,
        progress=not args.no_progress,
    )


# --- list ----------------------------------------------------------------------
def _cmd_list(args: argparse.Namespace) -> int:
    try:  # importing the generators registers their layouts (shapes, ...)
        import kplearn.data.synthetic  # noqa: F401
    except ImportError:  # pragma: no cover - only while the generators are missing
        pass
    import kplearn.data.formats  # noqa: F401  (registers mpii16)

    width = max(len(k) for k in SPEC_KINDS)
    print("Data specs:")
    for kind, text in SPEC_KINDS.items():
        print(f"  {kind:<{width}}  {text}")
    print("\nLayouts:")
    for name in list_skeletons():
        sk = get_skeleton(name)
        sig = "OKS sigmas" if sk.sigmas is not None else "no OKS sigmas"
        pairs = len(sk.flip_pairs)
        print(f"  {name:<16} {sk.num_keypoints:>3} keypoints, {_plural(pairs, 'flip pair')}, {sig}")
    _print_downloads(args.root)
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _print_downloads(root: str | None) -> None:
    from kplearn.data.fetch import DATA_ENV, data_root, list_datasets

    base = data_root(root)
    where = "--root" if root else (f"${DATA_ENV}" if os.environ.get(DATA_ENV) else "default")
    print(f"\nDownloadable datasets (root {base}, {where}):")
    statuses = list_datasets(root)
    width = max(len(s.name) for s in statuses)
    for s in statuses:
        if s.prepared:
            count = f"{s.images:,} images, " if s.images is not None else ""
            print(f"  {s.name:<{width}}  downloaded: {s.path} ({count}spec {s.spec})")
        else:
            raw = (
                f"; {s.raw_present} of {_plural(s.raw_total, 'raw file')} fetched"
                if s.raw_present
                else ""
            )
            root_opt = f" --root {root}" if root else ""
            print(f"  {s.name:<{width}}  not downloaded{raw}: {s.description}")
            print(f"  {'':<{width}}  get it with: kplearn data download {s.name}{root_opt}")


# --- download ------------------------------------------------------------------
def _cmd_download(args: argparse.Namespace) -> int:
    from kplearn.data.fetch import DownloadError, download

    try:
        download(
            args.name,
            args.root,
            progress=not args.no_progress,
            **options(args, "base_url", "manifest", "workers", "force"),
        )
    except DownloadError as err:
        print(f"kplearn data download: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "kplearn data download: interrupted; files fetched so far are kept, "
            "run the same command again to fetch the rest",
            file=sys.stderr,
        )
        return 130
    return 0


# --- show ----------------------------------------------------------------------
def _cmd_show(args: argparse.Namespace) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")  # write a file; never open a window
    from kplearn.viz import show_grid

    ds = _load(args)
    if len(ds) == 0:
        raise ValueError(f"{args.spec}: no samples to show")
    images = [s.image for s in ds]
    keypoints = [s.keypoints for s in ds]
    titles = [(s.name or f"#{i}")[:24] for i, s in enumerate(ds)]
    ncols = args.ncols or int(np.ceil(np.sqrt(len(ds))))
    fig = show_grid(images, keypoints, ds.skeleton, ncols, titles)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=args.dpi)
    import matplotlib.pyplot as plt

    plt.close(fig)
    print(f"wrote {out} ({len(ds)} images, layout {ds.skeleton.name})")
    return 0


# --- stats ---------------------------------------------------------------------
def _cmd_stats(args: argparse.Namespace) -> int:
    ds = _load(args)
    stats = {"spec": args.spec, **dataset_stats(ds)}
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    print(f"{args.spec}  ({ds.name})")
    for key in (
        "images",
        "instances",
        "crowd_instances",
        "images_without_instances",
        "labelled_keypoints",
        "visible_keypoints",
        "groups",
    ):
        print(f"  {key.replace('_', ' '):<26} {stats[key]}")
    size = stats["image_size"]
    print(f"  {'image size (w x h)':<26} {size['min']} .. {size['max']}")
    for name, lay in stats["layouts"].items():
        print(
            f"  layout {name} ({lay['num_keypoints']} keypoints): labelled / visible per keypoint"
        )
        for kname, c in lay["per_keypoint"].items():
            print(f"    {kname:<24} {c['labelled']:>7} {c['visible']:>7}")
    return 0


# --- export --------------------------------------------------------------------
def export_dataset(ds, fmt: str, out: str | Path, progress: bool = True) -> Path:
    """Write ``ds`` to folder ``out`` as ``coco`` or ``faces68``; return the annotation file.

    ``coco``: ``out/person_keypoints.json`` and ``out/images/*.png`` (read it back
    with the spec ``coco:out/person_keypoints.json:out/images``).
    ``faces68``: ``out/keypoints.csv`` and ``out/images/*.png`` (spec
    ``faces68:out``); single-instance ``faces68`` data only, every point labelled.
    A sample's group survives as the person part of its file name
    (``GROUP_NNNNN.png``), so a split by person still works after reading back.
    """
    from kplearn.data.faces68 import person_from_name
    from kplearn.data.formats import (
        dataset_to_coco,
        export_names,
        progress_bar,
        write_coco,
        write_faces68_csv,
        write_image,
    )

    out = Path(out)
    if fmt == "faces68":
        if ds.skeleton.num_keypoints != 68:
            raise ValueError(
                f"--format faces68 needs the 68-point layout, {ds.name or 'the data'} has "
                f"{ds.skeleton.name!r} ({ds.skeleton.num_keypoints} keypoints); use --format coco"
            )
        if not ds.is_single_instance:
            raise ValueError("--format faces68 needs exactly one face per image; use --format coco")
        kp = ds.keypoints_array()
        if np.any(kp[..., 2] == 0):
            i, j = np.argwhere(kp[..., 2] == 0)[0]
            raise ValueError(
                f"--format faces68 cannot store unlabelled points: sample {i} "
                f"({ds[int(i)].name!r}) keypoint {j} has v=0; use --format coco"
            )
    names = export_names(ds, ".png")
    for i, s in enumerate(ds):
        if s.group is not None and person_from_name(names[i]) != s.group:
            safe = "".join(c if c.isalnum() or c in "-" else "_" for c in str(s.group))
            names[i] = f"{safe}_{i:05d}.png"
    if len(set(names)) != len(names):  # pragma: no cover - group rename made a clash
        names = [f"{i:06d}.png" for i in range(len(ds))]
    out.mkdir(parents=True, exist_ok=True)
    pairs = list(zip(ds, names, strict=True))
    for s, name in progress_bar(pairs, progress, desc="writing images", unit="img"):
        write_image(out / "images" / name, s.image)
    if fmt == "coco":
        ann = out / "person_keypoints.json"
        write_coco(dataset_to_coco(ds, names), ann)
    else:
        ann = out / "keypoints.csv"
        write_faces68_csv(ann, names, ds.keypoints_array())
    return ann


def _cmd_export(args: argparse.Namespace) -> int:
    ds = _load(args)
    ann = export_dataset(ds, args.format, args.out, progress=not args.no_progress)
    out = Path(args.out)
    if args.format == "coco":
        spec = f"coco:{ann}:{out / 'images'}"
    else:
        spec = f"faces68:{out}"
    print(f"wrote {len(ds)} images and {ann}; read back with the spec {spec}")
    return 0


# Each command's help as it prints: summary line, description, examples (_common.add_command).
_HELP = {
    "data": f"""\
list, show, count and export keypoint data

Keypoint data named by a spec string: {"; ".join(SPEC_KINDS)}.

examples:
  kplearn data list
  kplearn data stats synthetic-faces --json
  kplearn data download faces68
""",
    "list": """\
the data spec forms, the keypoint layouts and the downloaded datasets

Print every data spec form with a one-line description, the layouts, and which datasets 'kplearn data download' has prepared and where.

examples:
  kplearn data list
  kplearn data list --root data
""",
    "download": """\
fetch and prepare a real dataset (faces68, coco-val2017-person)

Fetch every file of NAME, check its hash, and prepare the dataset folder ROOT/NAME. A run that stops resumes: files already there with the right hash are not fetched again.

examples:
  kplearn data download faces68                 # into the per-user data folder
  kplearn data download faces68 --root data     # data/downloads/ and data/faces68/
  kplearn data download coco-val2017-person --base-url http://mirror.example/coco/
""",
    "show": """\
draw a grid of samples with their keypoints to an image file

Draw the first samples of SPEC (a seeded subset for files) as a grid.

examples:
  kplearn data show synthetic-people --n 9 --out people.png
  kplearn data show faces68:data/faces68 --n 16 --seed 1
""",
    "stats": """\
count images, instances and labelled/visible keypoints

Count images, instances (crowd included), labelled (v>0) and visible (v=2) keypoints, per layout and per keypoint.

examples:
  kplearn data stats synthetic-faces
  kplearn data stats coco:ann.json:images --json
""",
    "export": """\
write images and annotations as COCO or faces68

coco: OUT/person_keypoints.json + OUT/images/*.png. faces68: OUT/keypoints.csv + OUT/images/*.png (single 68-point faces only).

examples:
  kplearn data export synthetic-people --n 50 --format coco --out people/
  kplearn data export synthetic-faces --n 100 --format faces68 --out faces/
""",
}


def register(subparsers) -> None:
    """Add ``kplearn data`` and its subcommands."""
    data = add_command(subparsers, "data", None, _HELP["data"])
    sub = data.add_subparsers(dest="data_command", metavar="SUBCOMMAND", required=True)

    from kplearn.data.fetch import DATA_ENV, DATASETS

    root_help = (
        f"root data folder (default ${DATA_ENV}, else the per-user cache folder): raw files "
        "go to ROOT/downloads/NAME/, the prepared dataset to ROOT/NAME/"
    )
    p = add_command(sub, "list", _cmd_list, _HELP["list"])
    p.add_argument("--root", metavar="DIR", default=None, help=root_help)

    p = add_command(sub, "download", _cmd_download, _HELP["download"])
    p.add_argument(
        "name",
        metavar="NAME",
        choices=list(DATASETS),
        help="dataset to fetch: " + "; ".join(f"{k}: {d.description}" for k, d in DATASETS.items()),
    )
    p.add_argument("--root", metavar="DIR", default=None, help=root_help)
    p.add_argument(
        "--base-url",
        metavar="URL",
        default=None,
        help="fetch each file from URL + its manifest path instead of upstream (a mirror)",
    )
    p.add_argument(
        "--manifest",
        metavar="CSV",
        default=None,
        help="files to fetch (path,bytes,sha256 or path,bytes,sha1) instead of the packaged list",
    )
    p.add_argument(
        "--workers", type=positive_int, default=4, help="files fetched at a time (default 4)"
    )
    p.add_argument(
        "--force", action="store_true", help="prepare again even if ROOT/NAME is already complete"
    )
    p.add_argument("--no-progress", action="store_true", help="hide progress bars and messages")

    p = add_command(sub, "show", _cmd_show, _HELP["show"])
    _add_data_args(p, 16, "number of samples to draw (default 16)")
    p.add_argument("--out", default="grid.png", help="image file to write (default grid.png)")
    p.add_argument(
        "--ncols", type=positive_int, default=None, help="grid columns (default ~sqrt(n))"
    )
    p.add_argument(
        "--dpi", type=positive_int, default=100, help="resolution of the file (default 100)"
    )

    p = add_command(sub, "stats", _cmd_stats, _HELP["stats"])
    _add_data_args(p, None, "count only a seeded subset of N samples (default: all)")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")

    p = add_command(sub, "export", _cmd_export, _HELP["export"])
    _add_data_args(p, None, "export a seeded subset of N samples (synthetic: N to generate)")
    p.add_argument("--format", required=True, choices=("coco", "faces68"), help="output format")
    p.add_argument("--out", required=True, help="output folder (created)")


if __name__ == "__main__":  # pragma: no cover
    from kplearn.cli import main

    sys.exit(main(["data", *sys.argv[1:]]))
