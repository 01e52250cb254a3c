"""Read and write keypoint annotation files.

Four formats, each with a reader that validates and a writer that round-trips:

- **COCO keypoints JSON** (``person_keypoints_*.json``): :func:`read_coco`,
  :func:`write_coco`, :func:`coco_to_dataset`, :func:`dataset_to_coco`; COCO results
  (predictions) with :func:`predictions_to_coco`.
- **faces68 landmark CSV** (header ``,0,1,…,135``, then ``name,x0,y0,…,x67,y67``):
  :func:`read_faces68_csv`, :func:`write_faces68_csv`.
- **iBUG .pts** (``version: 1`` / ``n_points: 68`` / ``{ … }``): :func:`read_pts`,
  :func:`write_pts`, :func:`read_pts_dir`.
- **MPII in the JSON layout of HRNet and MMPose** (a list of records with
  ``image``, ``center``, ``scale``, ``joints`` (16×2) and ``joints_vis`` (16)):
  :func:`read_mpii_json`, :func:`write_mpii_json`, :func:`mpii_to_dataset`,
  :func:`dataset_to_mpii`. The 16-joint layout is registered here as ``"mpii16"``.

Every problem in a file raises :class:`KplearnFormatError` (a ``ValueError``) whose
message names the file, the record and the problem, e.g.
``"ann.json: annotation #12 (id=57): keypoints has 50 values, layout coco17 needs 51"``.

Coordinate conventions (kplearn: integer coordinates are pixel centres, an image
spans ``[-0.5, W - 0.5]``):

- COCO keypoints, boxes and areas are read and written **unchanged**. The COCO
  files are 0-based and kplearn treats their numbers as the same continuous
  coordinates; no half-pixel shift is applied either way.
- faces68 CSV and ``.pts`` coordinates are read unchanged by default. iBUG's own
  300-W ``.pts`` files are usually taken to be 1-based (MATLAB): pass ``origin=1``
  to subtract 1 on reading (and add it on writing).
- MPII: the JSON files that HRNet and MMPose distribute keep the 1-based MATLAB
  coordinates of the original annotation (both subtract 1 when they load them), so
  :func:`mpii_to_dataset` subtracts ``origin=1`` from joints, centres and head boxes
  and :func:`dataset_to_mpii` adds it back. :func:`read_mpii_json` and
  :func:`write_mpii_json` return and write the records exactly as stored.

Examples
--------
>>> import numpy as np, tempfile, os
>>> from kplearn.data.formats import write_pts, read_pts
>>> path = os.path.join(tempfile.mkdtemp(), "face.pts")
>>> write_pts(path, np.array([[1.5, 2.0], [3.0, 4.25]]))
>>> read_pts(path).tolist()
[[1.5, 2.0], [3.0, 4.25]]
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kplearn import _checks
from kplearn._checks import MAX_COORDINATE, check_image_file
from kplearn._checks import kind as _kind
from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.skeletons import MPII16, Skeleton, get_skeleton, list_skeletons

__all__ = [
    "KplearnFormatError",
    "MPII16",
    "read_coco",
    "write_coco",
    "validate_coco",
    "coco_to_dataset",
    "dataset_to_coco",
    "predictions_to_coco",
    "check_file_name",
    "set_image_limits",
    "read_faces68_csv",
    "write_faces68_csv",
    "read_pts",
    "write_pts",
    "read_pts_dir",
    "read_mpii_json",
    "write_mpii_json",
    "validate_mpii",
    "mpii_to_dataset",
    "dataset_to_mpii",
    "read_image",
    "write_image",
    "export_names",
    "progress_bar",
]

PathLike = str | os.PathLike


class KplearnFormatError(ValueError):
    """A file breaks its format. The message names the file, the record and the problem.

    Attributes
    ----------
    path : str
        The file (or ``"<coco dict>"`` etc. for in-memory data).
    record : str or None
        Which record, e.g. ``"annotation #12 (id=57)"`` or ``"line 5 (name='a.jpg')"``.
    problem : str
        What is wrong with it.
    """

    def __init__(self, path: PathLike, problem: str, record: str | None = None) -> None:
        self.path = str(path)
        self.record = record
        self.problem = problem
        where = f"{self.path}: {record}: " if record else f"{self.path}: "
        super().__init__(where + problem)


# --- MPII 16-joint layout (defined in kplearn.skeletons) -------------------
#: MPII's person-scale unit: ``scale`` is the person's height in units of 200 px.
MPII_SCALE_UNIT = 200.0
#: MPII head size for PCKh is this factor times the head-box diagonal.
MPII_HEAD_SIZE_FACTOR = 0.6


# --- small validation helpers ------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _numbers(
    value: Any, count: int | None, path: PathLike, record: str, field: str, need: str = ""
) -> list[float]:
    """Check that ``value`` is a list of finite numbers (of length ``count``) and return it."""
    if not isinstance(value, list):
        raise KplearnFormatError(
            path, f"{field} must be a list of numbers, got {_kind(value)}", record
        )
    if count is not None and len(value) != count:
        need = need or f"needs {count}"
        raise KplearnFormatError(path, f"{field} has {len(value)} values, {need}", record)
    for j, x in enumerate(value):
        if not _is_number(x):
            raise KplearnFormatError(path, f"{field}[{j}] is {_kind(x)}, not a number", record)
        if not math.isfinite(x):
            raise KplearnFormatError(path, f"{field}[{j}] is {x} (NaN or infinite)", record)
        if abs(x) > MAX_COORDINATE:
            raise KplearnFormatError(
                path, f"{field}[{j}] is {x:g}, beyond ±{MAX_COORDINATE:g} px (not an image coordinate)",
                record,
            )
    return [float(x) for x in value]


def _require(obj: dict, fields: Sequence[str], path: PathLike, record: str) -> None:
    for f in fields:
        if f not in obj:
            raise KplearnFormatError(path, f"missing field {f!r}", record)


def _load_json(path: PathLike) -> Any:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such annotation file")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise KplearnFormatError(
            path, f"not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    except UnicodeDecodeError as err:
        raise KplearnFormatError(path, f"not UTF-8 text ({err.reason})") from None
    except RecursionError:
        raise KplearnFormatError(path, "JSON nested too deeply to be an annotation file") from None


#: Longest ``file_name`` (characters) an annotation may give an image.
MAX_FILE_NAME = 1024


def check_file_name(name: Any, path: PathLike, record: str, field: str = "file_name") -> str:
    """An image file name from an annotation: relative, inside the image folder, of sane length.

    Refused with :class:`KplearnFormatError`: a non-string or empty name, one longer
    than :data:`MAX_FILE_NAME` characters (or with a path component over 255), a NUL
    byte, an absolute path (``/x``, ``C:\\x``, ``\\\\server``), and any ``..`` component:
    a file name is read relative to the image folder and must not leave it.

    Examples
    --------
    >>> check_file_name("train/0001.jpg", "ann.json", "image #0")
    'train/0001.jpg'
    >>> check_file_name("../../etc/passwd", "ann.json", "image #0")
    Traceback (most recent call last):
    ...
    kplearn.data.formats.KplearnFormatError: ann.json: image #0: file_name '../../etc/passwd' leaves the image folder ('..')
    """
    if not isinstance(name, str) or not name:
        raise KplearnFormatError(path, f"{field} must be a non-empty string, got {_kind(name)}", record)
    if len(name) > MAX_FILE_NAME:
        raise KplearnFormatError(
            path, f"{field} is {len(name)} characters long, over the {MAX_FILE_NAME} allowed", record
        )
    if "\x00" in name:
        raise KplearnFormatError(path, f"{field} {name[:40]!r} holds a NUL byte", record)
    parts = re.split(r"[\\/]", name)
    if name[0] in "/\\" or re.match(r"^[A-Za-z]:", name):
        raise KplearnFormatError(
            path, f"{field} {name[:60]!r} is an absolute path; names are relative to the image folder",
            record,
        )
    if ".." in parts:
        raise KplearnFormatError(path, f"{field} {name[:60]!r} leaves the image folder ('..')", record)
    if any(len(part) > 255 for part in parts):
        raise KplearnFormatError(path, f"{field} has a path component over 255 characters", record)
    return name


def _dump_json(data: Any, path: PathLike, indent: int | None) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        # allow_nan=False: a NaN that slipped past validation must not produce a non-JSON file.
        json.dump(data, f, indent=indent, allow_nan=False)
        f.write("\n")


# --- images ------------------------------------------------------------------
def set_image_limits(max_pixels: int | None = None, max_bytes: int | None = None) -> dict:
    """Change the size limits under which image files are decoded; returns the previous ones.

    Every reader refuses, before decoding, an image file larger than ``max_bytes``
    on disk or whose header declares more than ``max_pixels`` pixels (defaults:
    100 megapixels and 512 MiB, or the environment variables
    ``KPLEARN_MAX_IMAGE_PIXELS`` and ``KPLEARN_MAX_IMAGE_BYTES``). ``None`` keeps a limit.

    Examples
    --------
    >>> old = set_image_limits(max_pixels=4096 * 4096)
    >>> _ = set_image_limits(**old)  # restore
    """
    old = {"max_pixels": _checks.MAX_IMAGE_PIXELS, "max_bytes": _checks.MAX_IMAGE_BYTES}
    if max_pixels is not None:
        _checks.MAX_IMAGE_PIXELS = _checks.check_int(max_pixels, "max_pixels", minimum=1)
    if max_bytes is not None:
        _checks.MAX_IMAGE_BYTES = _checks.check_int(max_bytes, "max_bytes", minimum=1)
    return old


def read_image(path: PathLike) -> np.ndarray:
    """Read an image file as ``uint8`` RGB ``H×W×3`` (grey files are expanded to 3 channels).

    Raises ``FileNotFoundError`` for a missing file and :class:`KplearnFormatError`
    for a file OpenCV cannot decode, or one over the size limits (checked on the
    file size and the header before decoding; see :func:`set_image_limits`).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        check_image_file(path)
    except ValueError as err:
        raise KplearnFormatError(path, str(err).removeprefix(f"{path}: ")) from None
    data = np.fromfile(str(path), dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise KplearnFormatError(path, "cannot decode the image")
    return np.ascontiguousarray(bgr[..., ::-1])


def write_image(path: PathLike, image: np.ndarray) -> None:
    """Write a ``uint8`` RGB (or grey) image; the format follows the file extension."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"{path}: image must be uint8, got {img.dtype}")
    out = img[..., ::-1] if img.ndim == 3 else img
    ok, buf = cv2.imencode(path.suffix or ".png", np.ascontiguousarray(out))
    if not ok:
        raise ValueError(f"{path}: OpenCV cannot encode an image with extension {path.suffix!r}")
    buf.tofile(str(path))


def progress_bar(iterable, progress: bool = True, **kwargs):
    """``tqdm(iterable, **kwargs)``, switched off by ``progress=False``.

    With ``progress=True`` tqdm's own defaults apply, so ``TQDM_DISABLE=1`` still
    hides the bar (an explicit ``disable=False`` would override it). The bar
    appears only once the job has run for ``delay`` seconds (default 2).
    """
    from kplearn.progress import progress_bar as _progress_bar

    kwargs.setdefault("delay", 2.0)  # quick jobs print no bar at all
    return _progress_bar(iterable, progress, **kwargs)


def _read_images(
    paths: Sequence[Path],
    records: Sequence[str],
    source: PathLike,
    progress: bool,
    desc: str,
    sizes: Sequence[tuple[int, int] | None] | None = None,
    workers: int | None = None,
) -> list[np.ndarray]:
    """Read many images in threads (OpenCV decodes without the GIL), in order.

    Every file is checked for existence first, so a missing image is reported
    (with its record in ``source``) before any time is spent decoding.
    """
    for p, rec in zip(paths, records, strict=True):
        if not p.is_file():
            raise KplearnFormatError(source, f"image file {str(p)!r} not found", rec)
        try:
            check_image_file(p)  # sizes first: a huge file is refused before any decoding
        except ValueError as err:
            raise KplearnFormatError(source, f"image file {err}", rec) from None

    def load(i: int) -> np.ndarray:
        try:
            img = read_image(paths[i])
        except KplearnFormatError as err:
            raise KplearnFormatError(
                source, f"image file {str(paths[i])!r}: {err.problem}", records[i]
            ) from None
        if sizes is not None and sizes[i] is not None:
            w, h = sizes[i]
            if (img.shape[1], img.shape[0]) != (w, h):
                raise KplearnFormatError(
                    source,
                    f"image file {str(paths[i])!r} is {img.shape[1]}x{img.shape[0]}, "
                    f"the annotation says {w}x{h}",
                    records[i],
                )
        return img

    if workers is None:
        workers = max(1, min(8, (os.cpu_count() or 1) * 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        it = pool.map(load, range(len(paths)))
        return list(progress_bar(it, progress, total=len(paths), desc=desc, unit="img"))


def _check_image_dir(image_dir: PathLike, source: PathLike) -> None:
    if not Path(image_dir).is_dir():
        raise FileNotFoundError(f"{image_dir}: no such image folder (images of {source})")


def export_names(dataset: KeypointDataset, extension: str = ".png") -> list[str]:
    """Unique, file-system-safe file names for the samples of ``dataset``.

    A sample's name keeps its stem (characters outside ``[A-Za-z0-9._-]`` become
    ``_``) with ``extension``; samples without a name, or whose names collide, get
    ``{index:06d}`` instead.
    """
    names: list[str] = []
    seen: set[str] = set()
    for i, s in enumerate(dataset):
        stem = Path(s.name).stem if s.name else ""
        stem = "".join(c if c.isalnum() or c in "._-" else "_" for c in stem).strip(".")
        name = f"{stem}{extension}" if stem else f"{i:06d}{extension}"
        if name in seen:
            name = f"{i:06d}{extension}"
        if name in seen:  # pragma: no cover - a stem that is itself a six-digit index
            name = f"{i:06d}_{len(seen)}{extension}"
        seen.add(name)
        names.append(name)
    return names


# --- COCO keypoints JSON -----------------------------------------------------
def _layout_from_names(names: Sequence[str]) -> Skeleton | None:
    """The registered layout whose keypoint names are exactly ``names``, if any."""
    for lname in list_skeletons():
        sk = get_skeleton(lname)
        if sk.keypoint_names == tuple(names):
            return sk
    return None


def _layout_from_category(cat: dict) -> Skeleton:
    """A layout for a COCO category: a registered one with the same names, or one built from it."""
    names = tuple(cat["keypoints"])
    sk = _layout_from_names(names)
    if sk is not None:
        return sk
    edges = [(a - 1, b - 1) for a, b in cat.get("skeleton", [])]
    # Infer left/right pairs from the names ("left_x" <-> "right_x", "l_x" <-> "r_x").
    flips = []
    for i, n in enumerate(names):
        for left, right in (("left_", "right_"), ("l_", "r_")):
            if n.startswith(left) and right + n[len(left) :] in names:
                flips.append((i, names.index(right + n[len(left) :])))
    return Skeleton(
        name=str(cat.get("name", "coco")), keypoint_names=names, edges=edges, flip_pairs=flips
    )


def validate_coco(
    data: Any, path: PathLike = "<coco dict>", skeleton: str | Skeleton | None = None
) -> dict:
    """Check a COCO keypoints dictionary; return it unchanged or raise :class:`KplearnFormatError`.

    Checks: the three top-level lists; unique image, annotation and category ids;
    image ``file_name`` and positive ``width``/``height``; category ``keypoints``
    names and a 1-based ``skeleton``; and for each annotation the fields ``id``,
    ``image_id`` (an existing image), ``category_id`` (an existing category),
    ``keypoints`` (``3 K`` finite numbers, visibility 0, 1 or 2), ``num_keypoints``
    (equal to the number of keypoints with ``v > 0``, the field pycocotools uses),
    ``bbox`` (4 finite numbers, no negative size), ``area`` (finite, ``>= 0``) and
    ``iscrowd`` (0 or 1). With ``skeleton`` given, every category must have that
    layout's number of keypoints; otherwise ``K`` comes from each category.
    """
    if not isinstance(data, dict):
        raise KplearnFormatError(
            path,
            f"top level must be an object with images, annotations and categories, got {_kind(data)}",
        )
    for key in ("images", "annotations", "categories"):
        if key not in data:
            raise KplearnFormatError(path, f"missing top-level field {key!r}")
        if not isinstance(data[key], list):
            raise KplearnFormatError(
                path, f"top-level field {key!r} must be a list, got {_kind(data[key])}"
            )
    layout = get_skeleton(skeleton) if skeleton is not None else None

    cat_k: dict[int, tuple[int, str]] = {}
    for i, cat in enumerate(data["categories"]):
        rec = f"category #{i} (id={cat.get('id') if isinstance(cat, dict) else '?'})"
        if not isinstance(cat, dict):
            raise KplearnFormatError(path, f"must be an object, got {_kind(cat)}", rec)
        _require(cat, ("id", "name", "keypoints"), path, rec)
        if not _is_int(cat["id"]):
            raise KplearnFormatError(path, f"id must be an integer, got {_kind(cat['id'])}", rec)
        if cat["id"] in cat_k:
            raise KplearnFormatError(path, f"duplicate category id {cat['id']}", rec)
        names = cat["keypoints"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise KplearnFormatError(path, "keypoints must be a list of keypoint names", rec)
        if len(set(names)) != len(names):
            raise KplearnFormatError(path, "keypoint names are not unique", rec)
        k = len(names)
        if layout is not None and k != layout.num_keypoints:
            raise KplearnFormatError(
                path,
                f"has {k} keypoint names, layout {layout.name} has {layout.num_keypoints}",
                rec,
            )
        if not isinstance(cat.get("skeleton", []), list):
            raise KplearnFormatError(
                path, f"skeleton must be a list of [a, b] edges, got {_kind(cat['skeleton'])}", rec
            )
        for pair in cat.get("skeleton", []):
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(_is_int(a) and 1 <= a <= k for a in pair)
            ):
                raise KplearnFormatError(
                    path,
                    f"skeleton edge {pair!r} is not a pair of 1-based keypoint indices 1..{k}",
                    rec,
                )
        if layout is not None:
            what = f"layout {layout.name}"
        else:
            found = _layout_from_names(names)
            what = f"layout {found.name}" if found else f"category {cat['id']} ({k} keypoints)"
        cat_k[cat["id"]] = (k, what)

    image_ids: set[int] = set()
    for i, img in enumerate(data["images"]):
        rec = f"image #{i} (id={img.get('id') if isinstance(img, dict) else '?'})"
        if not isinstance(img, dict):
            raise KplearnFormatError(path, f"must be an object, got {_kind(img)}", rec)
        _require(img, ("id", "file_name", "width", "height"), path, rec)
        if not _is_int(img["id"]):
            raise KplearnFormatError(path, f"id must be an integer, got {_kind(img['id'])}", rec)
        if img["id"] in image_ids:
            raise KplearnFormatError(path, f"duplicate image id {img['id']}", rec)
        image_ids.add(img["id"])
        check_file_name(img["file_name"], path, rec)
        for f in ("width", "height"):
            if not _is_int(img[f]) or img[f] <= 0:
                raise KplearnFormatError(
                    path, f"{f} must be a positive integer, got {img[f]!r}", rec
                )

    ann_ids: set[int] = set()
    fields = (
        "id",
        "image_id",
        "category_id",
        "keypoints",
        "num_keypoints",
        "bbox",
        "area",
        "iscrowd",
    )
    for i, ann in enumerate(data["annotations"]):
        rec = f"annotation #{i} (id={ann.get('id') if isinstance(ann, dict) else '?'})"
        if not isinstance(ann, dict):
            raise KplearnFormatError(path, f"must be an object, got {_kind(ann)}", rec)
        _require(ann, fields, path, rec)
        if not _is_int(ann["id"]):
            raise KplearnFormatError(path, f"id must be an integer, got {_kind(ann['id'])}", rec)
        if ann["id"] in ann_ids:
            raise KplearnFormatError(path, f"duplicate annotation id {ann['id']}", rec)
        ann_ids.add(ann["id"])
        for f in ("image_id", "category_id"):
            if not _is_int(ann[f]):
                raise KplearnFormatError(path, f"{f} must be an integer, got {_kind(ann[f])}", rec)
        if ann["image_id"] not in image_ids:
            raise KplearnFormatError(path, f"image_id {ann['image_id']!r} is not an image id", rec)
        if ann["category_id"] not in cat_k:
            raise KplearnFormatError(
                path, f"category_id {ann['category_id']!r} is not a category id", rec
            )
        k, what = cat_k[ann["category_id"]]
        kp = _numbers(ann["keypoints"], 3 * k, path, rec, "keypoints", f"{what} needs {3 * k}")
        vis = kp[2::3]
        bad = [j for j, v in enumerate(vis) if v not in (0.0, 1.0, 2.0)]
        if bad:
            raise KplearnFormatError(
                path, f"keypoint {bad[0]} has visibility {vis[bad[0]]:g}; must be 0, 1 or 2", rec
            )
        n_labelled = sum(v > 0 for v in vis)
        if not _is_int(ann["num_keypoints"]) or ann["num_keypoints"] != n_labelled:
            raise KplearnFormatError(
                path,
                f"num_keypoints is {ann['num_keypoints']!r} but {n_labelled} keypoints have v > 0",
                rec,
            )
        box = _numbers(ann["bbox"], 4, path, rec, "bbox", "a box needs 4 (x, y, w, h)")
        if box[2] < 0 or box[3] < 0:
            raise KplearnFormatError(path, f"bbox {box} has a negative width or height", rec)
        if not _is_number(ann["area"]) or not math.isfinite(ann["area"]) or ann["area"] < 0:
            raise KplearnFormatError(
                path, f"area must be a finite number >= 0, got {ann['area']!r}", rec
            )
        if ann["area"] > MAX_COORDINATE**2:
            raise KplearnFormatError(
                path, f"area is {ann['area']:g}, over {MAX_COORDINATE**2:g} px² (not an image area)", rec
            )
        if ann["iscrowd"] not in (0, 1) or isinstance(ann["iscrowd"], bool):
            raise KplearnFormatError(path, f"iscrowd must be 0 or 1, got {ann['iscrowd']!r}", rec)
    return data


def read_coco(path: PathLike, skeleton: str | Skeleton | None = None) -> dict:
    """Read and validate a COCO keypoints annotation file (see :func:`validate_coco`).

    Parameters
    ----------
    path : path-like
        A ``person_keypoints_*.json``-style file.
    skeleton : str or Skeleton, optional
        Require every category to have this layout's number of keypoints.

    Returns
    -------
    dict
        The parsed JSON, unchanged.

    Examples
    --------
    >>> from kplearn.data.formats import read_coco
    >>> from kplearn.lessons import sample_path
    >>> coco = read_coco(sample_path("coco", "person_keypoints_tiny.json"))
    >>> len(coco["images"]), len(coco["annotations"])
    (3, 4)
    """
    return validate_coco(_load_json(path), path, skeleton)


def write_coco(data: dict, path: PathLike, *, indent: int | None = None) -> None:
    """Validate ``data`` and write it as a COCO keypoints JSON file."""
    validate_coco(data, path)
    _dump_json(data, path, indent)


def coco_to_dataset(
    coco: dict | PathLike,
    image_dir: PathLike,
    skeleton: str | Skeleton | None = None,
    *,
    category_id: int | None = None,
    progress: bool = True,
    name: str = "",
) -> KeypointDataset:
    """Turn a COCO keypoints dictionary (or file) and its image folder into a dataset.

    Every image becomes one :class:`~kplearn.data.datasets.Sample` (in file order)
    holding all annotations of the chosen category, in file order, with their
    ``bbox``, ``area`` and ``iscrowd``; an image without annotations gets ``M = 0``.
    Coordinates are used unchanged (see the module notes).

    Parameters
    ----------
    coco : dict or path-like
        The annotations; a path is read with :func:`read_coco`.
    image_dir : path-like
        Folder holding each image's ``file_name``.
    skeleton : str or Skeleton, optional
        The layout. By default, the registered layout whose keypoint names equal the
        category's (``coco17`` for the COCO person category), or else one built
        from the category (its skeleton, left/right pairs from the names).
    category_id : int, optional
        Which category to read when the file has more than one.
    progress : bool
        Show a progress bar while reading the images.
    name : str
        Dataset name (default: the file's stem, or ``"coco"``).

    Raises
    ------
    KplearnFormatError
        A malformed file, a missing or unreadable image, or an image whose size
        differs from its ``width``/``height``.
    """
    if isinstance(coco, dict):
        source: PathLike = "<coco dict>"
        data = validate_coco(coco, source, skeleton)
    else:
        source = coco
        data = read_coco(coco, skeleton)
    cats = data["categories"]
    if category_id is None:
        if len(cats) != 1:
            ids = [c["id"] for c in cats]
            raise KplearnFormatError(
                source, f"{len(cats)} categories {ids}; pass category_id to choose one"
            )
        cat = cats[0]
    else:
        matching = [c for c in cats if c["id"] == category_id]
        if not matching:
            raise KplearnFormatError(source, f"no category with id {category_id}")
        cat = matching[0]
    layout = get_skeleton(skeleton) if skeleton is not None else _layout_from_category(cat)
    k = layout.num_keypoints

    _check_image_dir(image_dir, source)
    by_image: dict[int, list[dict]] = {img["id"]: [] for img in data["images"]}
    for ann in data["annotations"]:
        if ann["category_id"] == cat["id"]:
            by_image[ann["image_id"]].append(ann)
    root = Path(image_dir)
    records = [f"image #{i} (id={img['id']})" for i, img in enumerate(data["images"])]
    images = _read_images(
        [root / img["file_name"] for img in data["images"]],
        records,
        source,
        progress,
        "reading COCO images",
        sizes=[(img["width"], img["height"]) for img in data["images"]],
    )
    samples = []
    for img, pixels in zip(data["images"], images, strict=True):
        anns = by_image[img["id"]]
        kp = np.array([a["keypoints"] for a in anns], dtype=np.float64).reshape(len(anns), k, 3)
        kp[..., :2][kp[..., 2] == 0] = 0.0  # unlabelled points carry no position
        samples.append(
            Sample(
                image=pixels,
                keypoints=kp,
                boxes=np.array([a["bbox"] for a in anns], dtype=np.float64).reshape(len(anns), 4),
                areas=np.array([a["area"] for a in anns], dtype=np.float64),
                iscrowd=np.array([a["iscrowd"] for a in anns], dtype=bool),
                name=img["file_name"],
                meta={"image_id": img["id"], "annotation_ids": [a["id"] for a in anns]},
            )
        )
    default_name = Path(source).stem if not isinstance(coco, dict) else "coco"
    return KeypointDataset(samples, layout, name or default_name)


def dataset_to_coco(
    dataset: KeypointDataset,
    image_names: Sequence[str] | None = None,
    *,
    category_name: str | None = None,
    category_id: int = 1,
) -> dict:
    """COCO keypoints dictionary for ``dataset`` (write the images separately).

    Image ids and annotation ids count from 1: pycocotools treats id 0 as "no
    match", so an annotation with id 0 could never be matched.

    Parameters
    ----------
    dataset : KeypointDataset
    image_names : sequence of str, optional
        ``file_name`` of each image; default :func:`export_names` with ``.png``.
    category_name : str, optional
        Default ``"person"`` for ``coco17`` and ``mpii16``, else the layout name.
    category_id : int
        The category id to use.

    Examples
    --------
    >>> import numpy as np
    >>> from kplearn.data.datasets import KeypointDataset, Sample
    >>> kp = np.zeros((1, 17, 3)); kp[0, :2] = [[4, 5, 2], [6, 5, 1]]
    >>> ds = KeypointDataset([Sample(np.zeros((8, 8, 3), np.uint8), kp, name="a")], "coco17")
    >>> ann = dataset_to_coco(ds)["annotations"][0]
    >>> ann["num_keypoints"], ann["keypoints"][:6]
    (2, [4.0, 5.0, 2, 6.0, 5.0, 1])
    """
    sk = dataset.skeleton
    if image_names is None:
        image_names = export_names(dataset, ".png")
    if len(image_names) != len(dataset):
        raise ValueError(f"{len(image_names)} image names for {len(dataset)} samples")
    if category_name is None:
        category_name = "person" if sk.name in ("coco17", "mpii16") else sk.name
    images, annotations = [], []
    ann_id = 1
    for i, (s, fname) in enumerate(zip(dataset, image_names, strict=True)):
        w, h = s.image_size
        images.append({"id": i + 1, "file_name": fname, "width": w, "height": h})
        for m in range(s.num_instances):
            kp = s.keypoints[m]
            flat: list[float | int] = []
            for x, y, v in kp:
                flat += [0.0, 0.0, 0] if v == 0 else [float(x), float(y), int(v)]
            annotations.append(
                {
                    "id": ann_id,
                    "image_id": i + 1,
                    "category_id": category_id,
                    "keypoints": flat,
                    "num_keypoints": int(np.sum(kp[:, 2] > 0)),
                    "bbox": [float(b) for b in s.boxes[m]],
                    "area": float(s.areas[m]),
                    "iscrowd": int(s.iscrowd[m]),
                }
            )
            ann_id += 1
    category = {
        "id": category_id,
        "name": category_name,
        "supercategory": category_name,
        "keypoints": list(sk.keypoint_names),
        "skeleton": [[a + 1, b + 1] for a, b in sk.edges],
    }
    return {
        "info": {
            "description": f"kplearn export of {dataset.name or 'a dataset'}",
            "version": "1.0",
        },
        "images": images,
        "annotations": annotations,
        "categories": [category],
    }


def predictions_to_coco(
    keypoints,
    scores,
    image_ids: Sequence[int] | None = None,
    *,
    category_id: int = 1,
    decimals: int | None = None,
) -> list[dict]:
    """COCO keypoint results (the ``loadRes`` / ``coco_keypoint_eval`` list) from predictions.

    The one builder of COCO results in kplearn: top-down predictions (one row per
    detection) and bottom-up ones (the people found in each image) both go through it.

    Parameters
    ----------
    keypoints : array (N, K, 2 or 3), or a sequence over images of (M_i, K, 2 or 3) arrays
        An array gives one detection per row; a sequence of per-image arrays gives
        the people found in each image (``M_i`` may be 0). ``x, y`` are image pixels;
        a third column is written as each keypoint's third value (a confidence,
        which COCO AP ignores), else 1. NaN coordinates (a keypoint not found) are
        kept: :func:`kplearn.metrics.coco_keypoint_eval` counts them as misses.
    scores : array (N,), or a sequence of (M_i,) arrays
        Detection scores (they rank detections for AP); finite.
    image_ids : sequence of int, optional
        The image of each row (array form) or of each image (sequence form); by
        default ``1, 2, ...``, the ids :func:`dataset_to_coco` gives samples.
    category_id : int
    decimals : int, optional
        Round coordinates and third values to this many decimals (smaller files);
        scores are never rounded.

    Returns
    -------
    list of dict
        ``{"image_id", "category_id", "keypoints" (3 K flat values), "score"}``.

    Examples
    --------
    >>> import numpy as np
    >>> dt = predictions_to_coco(np.array([[[4.0, 5.0, 0.9], [6.0, 7.0, 0.8]]]), [0.85])
    >>> dt[0]["image_id"], dt[0]["keypoints"], dt[0]["score"]
    (1, [4.0, 5.0, 0.9, 6.0, 7.0, 0.8], 0.85)
    >>> people = [np.zeros((0, 2, 3)), np.ones((2, 2, 2))]  # nobody in image 1, two in image 2
    >>> [(d["image_id"], d["keypoints"][:3]) for d in predictions_to_coco(people, [[], [0.9, 0.5]])]
    [(2, [1.0, 1.0, 1]), (2, [1.0, 1.0, 1])]
    """
    _checks.check_int(category_id, "category_id")
    per_image = not isinstance(keypoints, np.ndarray) or keypoints.ndim == 4
    if per_image:
        people = [np.asarray(p, dtype=np.float64) for p in keypoints]
        if people and all(p.ndim == 2 for p in people):  # a list of (K, C) rows: one per detection
            per_image, people = False, [np.stack(people)]
    if not per_image:
        people = [np.asarray(keypoints, dtype=np.float64)]
        score_list = [np.asarray(scores, dtype=np.float64).reshape(-1)]
        n = len(people[0])
        ids = list(range(1, n + 1)) if image_ids is None else list(image_ids)
        if len(ids) != n:
            raise ValueError(f"{n} detections but {len(ids)} image ids")
        row_ids = [ids]
    else:
        score_list = [np.asarray(sc, dtype=np.float64).reshape(-1) for sc in scores]
        if len(score_list) != len(people):
            raise ValueError(f"keypoints for {len(people)} images but scores for {len(score_list)}")
        ids = list(range(1, len(people) + 1)) if image_ids is None else list(image_ids)
        if len(ids) != len(people):
            raise ValueError(f"{len(people)} images but {len(ids)} image ids")
        row_ids = [[iid] * len(p) for iid, p in zip(ids, people, strict=True)]
    results: list[dict] = []
    for i, (kp, sc, rids) in enumerate(zip(people, score_list, row_ids, strict=True)):
        where = f"image {i}" if per_image else "predictions"
        if kp.size == 0 and len(sc) == 0:
            continue
        if kp.ndim != 3 or kp.shape[-1] not in (2, 3):
            raise ValueError(f"{where}: keypoints must be (M, K, 2 or 3), got shape {kp.shape}")
        if len(sc) != len(kp):
            raise ValueError(f"{where}: {len(kp)} detections but {len(sc)} scores")
        if not np.all(np.isfinite(sc)):
            raise ValueError(f"{where}: scores must be finite, got {sc[~np.isfinite(sc)][:3].tolist()}")
        if kp.shape[-1] == 3 and not np.all(np.isfinite(kp[..., 2])):
            raise ValueError(f"{where}: the third column (confidence) must be finite")
        if decimals is not None:
            kp = np.round(kp, decimals)
        for row, score, iid in zip(kp, sc, rids, strict=True):
            _checks.check_int(iid, f"{where}: image id")
            third = row[:, 2].tolist() if row.shape[1] == 3 else [1] * len(row)
            flat = [v for (x, y), t in zip(row[:, :2].tolist(), third, strict=True) for v in (x, y, t)]
            results.append({"image_id": int(iid), "category_id": int(category_id),
                            "keypoints": flat, "score": float(score)})  # fmt: skip
    return results


# --- faces68 landmark CSV ----------------------------------------------------
def _csv_header_ok(fields: list[str], k: int) -> bool:
    rest = [f.strip() for f in fields[1:]]
    numbered = [str(j) for j in range(2 * k)]
    named = [f"{a}{j}" for j in range(k) for a in ("x", "y")]
    return fields[0].strip().lower() in ("", "name") and rest in (numbered, named)


def _parse_row(texts: list[str], path: PathLike, rec: str) -> np.ndarray:
    """Coordinates of one CSV row as floats, or an error naming the first bad column."""
    try:
        values = np.array(texts, dtype=np.float64)  # fast path: one C-level parse
    except ValueError:
        values = None
    if values is not None and np.all(np.isfinite(values)):
        return values
    for j, text in enumerate(texts):
        col = f"{'xy'[j % 2]}{j // 2}"
        try:
            x = float(text)
        except ValueError:
            raise KplearnFormatError(path, f"{col} is {text!r}, not a number", rec) from None
        if not math.isfinite(x):
            raise KplearnFormatError(path, f"{col} is {text.strip()} (NaN or infinite)", rec)
    raise AssertionError("unreachable: a bad value was found above")  # pragma: no cover


def read_faces68_csv(
    path: PathLike, *, num_keypoints: int = 68, origin: float = 0.0, return_lines: bool = False
) -> tuple[list[str], np.ndarray] | tuple[list[str], np.ndarray, list[int]]:
    """Read a landmark CSV in the faces68 layout.

    The first row is a header, ``,0,1,…,135`` (as in the faces68 folder) or
    ``name,x0,y0,…``; every other row is ``name,x0,y0,…,x67,y67``.

    Parameters
    ----------
    path : path-like
    num_keypoints : int
        Landmarks per row (68 for faces68).
    origin : float
        Subtracted from every coordinate (0: the file is already 0-based).
    return_lines : bool
        Also return the line of the file each row is on (blank lines and a
        byte-order mark are skipped, so messages about a row can name its line).

    Returns
    -------
    names : list of str
    keypoints : ndarray, shape (N, num_keypoints, 2)
    lines : list of int, if ``return_lines``

    Raises
    ------
    KplearnFormatError
        No or a wrong header, a row with the wrong number of values, an empty,
        non-numeric, NaN or infinite value, an empty or duplicate name, no rows.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such landmark CSV file")
    k = num_keypoints
    want = 1 + 2 * k
    names: list[str] = []
    rows: list[list[float]] = []
    seen: dict[str, int] = {}
    lines: list[int] = []
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: a byte-order mark is skipped
        reader = csv.reader(f)
        try:
            header = next(reader, None)
            if header is None:
                raise KplearnFormatError(
                    path, "empty file (expected a header row and one row per image)"
                )
            if not _csv_header_ok(header, k):
                shown = ",".join(header[:4]) + ("," if len(header) > 4 else "")
                raise KplearnFormatError(
                    path,
                    f"expected a header row ',0,1,…,{2 * k - 1}' or 'name,x0,y0,…' with {want} "
                    f"columns, got {len(header)} columns starting {shown!r}",
                    "line 1",
                )
            for fields in reader:
                line = reader.line_num
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # blank line
                name = fields[0].strip()
                rec = f"line {line} (name={name!r})"
                if len(fields) != want:
                    need = "layout faces68 needs" if k == 68 else f"{k} landmarks need"
                    raise KplearnFormatError(
                        path, f"has {len(fields) - 1} values, {need} {2 * k}", rec
                    )
                if not name:
                    raise KplearnFormatError(path, "empty image name", rec)
                if name in seen:
                    raise KplearnFormatError(
                        path, f"duplicate name (first on line {seen[name]})", rec
                    )
                seen[name] = line
                values = _parse_row(fields[1:], path, rec)
                big = np.flatnonzero(np.abs(values) > MAX_COORDINATE)
                if len(big):
                    j = int(big[0])
                    raise KplearnFormatError(
                        path, f"{'xy'[j % 2]}{j // 2} is {values[j]:g}, beyond ±{MAX_COORDINATE:g} px", rec
                    )
                names.append(name)
                rows.append(values)
                lines.append(line)
        except csv.Error as err:
            raise KplearnFormatError(
                path, f"malformed CSV: {err}", f"line {reader.line_num}"
            ) from None
        except UnicodeDecodeError as err:
            raise KplearnFormatError(path, f"not UTF-8 text ({err.reason})") from None
    if not rows:
        raise KplearnFormatError(path, "no landmark rows after the header")
    kp = np.array(rows, dtype=np.float64).reshape(len(rows), k, 2) - origin
    return (names, kp, lines) if return_lines else (names, kp)


def _fmt(x: float) -> str:
    # repr() is the shortest string that reads back as the same float: exact round trip.
    return repr(float(x))


def write_faces68_csv(
    path: PathLike,
    names: Sequence[str],
    keypoints: np.ndarray,
    *,
    origin: float = 0.0,
) -> None:
    """Write a landmark CSV in the faces68 layout (header ``,0,1,…``; exact float round trip).

    Parameters
    ----------
    path : path-like
    names : sequence of str
        One image file name per row (unique, without commas or line breaks).
    keypoints : ndarray, shape (N, K, 2) or (N, K, 3)
        With a visibility column, every point must be labelled (``v > 0``): the
        CSV cannot store an unlabelled point.
    origin : float
        Added to every coordinate.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] not in (2, 3):
        raise ValueError(f"keypoints must be (N, K, 2) or (N, K, 3), got {kp.shape}")
    if len(names) != len(kp):
        raise ValueError(f"{len(names)} names for {len(kp)} keypoint rows")
    if kp.shape[-1] == 3 and np.any(kp[..., 2] <= 0):
        i, j = np.argwhere(kp[..., 2] <= 0)[0]
        raise ValueError(
            f"{path}: sample {i} ({names[i]!r}) keypoint {j} is unlabelled (v=0); "
            "a landmark CSV stores every point, so it cannot hold unlabelled ones"
        )
    xy = kp[..., :2]
    if not np.all(np.isfinite(xy)):
        i = int(np.argwhere(~np.isfinite(xy))[0][0])
        raise ValueError(f"{path}: sample {i} ({names[i]!r}) has a NaN or infinite coordinate")
    for n in names:
        if not n or any(c in n for c in ',"\n\r'):
            raise ValueError(f"{path}: name {n!r} is empty or holds a comma, quote or line break")
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: names are not unique")
    k = kp.shape[1]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("," + ",".join(str(j) for j in range(2 * k)) + "\n")
        for n, row in zip(names, xy + origin, strict=True):
            f.write(n + "," + ",".join(_fmt(v) for v in row.reshape(-1)) + "\n")


# --- iBUG .pts ---------------------------------------------------------------
def read_pts(path: PathLike, *, origin: float = 0.0) -> np.ndarray:
    """Read an iBUG ``.pts`` landmark file.

    Layout::

        version: 1
        n_points:  68
        {
        x0 y0
        ...
        }

    Parameters
    ----------
    path : path-like
    origin : float
        Subtracted from every coordinate; use 1 for iBUG's 1-based 300-W files.

    Returns
    -------
    ndarray, shape (n_points, 2)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such .pts file")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise KplearnFormatError(path, f"not UTF-8 text ({err.reason})") from None
    # Keep 1-based line numbers for messages; drop blank lines.
    numbered = [(i + 1, ln.strip()) for i, ln in enumerate(lines) if ln.strip()]
    header: dict[str, str] = {}
    pos = 0
    while pos < len(numbered) and numbered[pos][1] != "{":
        lineno, text = numbered[pos]
        if ":" not in text:
            raise KplearnFormatError(
                path, f"expected 'key: value' header or '{{', got {text!r}", f"line {lineno}"
            )
        key, value = text.split(":", 1)
        header[key.strip().lower()] = value.strip()
        pos += 1
    if "n_points" not in header:
        raise KplearnFormatError(path, "missing header field 'n_points'")
    try:
        n = int(header["n_points"])
    except ValueError:
        raise KplearnFormatError(
            path, f"n_points is {header['n_points']!r}, not an integer"
        ) from None
    if n <= 0:
        raise KplearnFormatError(path, f"n_points must be positive, got {n}")
    if pos >= len(numbered):
        raise KplearnFormatError(path, "missing '{' before the points")
    body = numbered[pos + 1 :]
    if not body or body[-1][1] != "}":
        raise KplearnFormatError(path, "missing closing '}' after the points")
    body = body[:-1]
    if len(body) != n:
        raise KplearnFormatError(path, f"n_points says {n} but the file lists {len(body)} points")
    pts = np.empty((n, 2))
    for j, (lineno, text) in enumerate(body):
        parts = text.split()
        rec = f"line {lineno} (point {j})"
        if len(parts) != 2:
            raise KplearnFormatError(path, f"expected 'x y', got {text!r}", rec)
        try:
            pts[j] = [float(parts[0]), float(parts[1])]
        except ValueError:
            raise KplearnFormatError(path, f"expected two numbers, got {text!r}", rec) from None
        if not np.all(np.isfinite(pts[j])):
            raise KplearnFormatError(path, f"coordinate is NaN or infinite: {text!r}", rec)
        if np.any(np.abs(pts[j]) > MAX_COORDINATE):
            raise KplearnFormatError(path, f"coordinate beyond ±{MAX_COORDINATE:g} px: {text!r}", rec)
    return pts - origin


def write_pts(path: PathLike, points: np.ndarray, *, origin: float = 0.0) -> None:
    """Write ``(K, 2)`` points (or ``(K, 3)`` with every ``v > 0``) as an iBUG ``.pts`` file."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] not in (2, 3) or len(pts) == 0:
        raise ValueError(f"{path}: points must be (K, 2) or (K, 3) with K > 0, got {pts.shape}")
    if pts.shape[1] == 3 and np.any(pts[:, 2] <= 0):
        j = int(np.flatnonzero(pts[:, 2] <= 0)[0])
        raise ValueError(f"{path}: point {j} is unlabelled (v=0); a .pts file cannot hold it")
    if not np.all(np.isfinite(pts[:, :2])):
        raise ValueError(f"{path}: NaN or infinite coordinate")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["version: 1", f"n_points:  {len(pts)}", "{"]
    lines += [f"{_fmt(x)} {_fmt(y)}" for x, y in pts[:, :2] + origin]
    lines.append("}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".PNG", ".JPG", ".JPEG")


def _layout_for_count(k: int) -> Skeleton:
    preferred = {68: "faces68", 5: "faces5", 17: "coco17", 16: "mpii16"}
    if k in preferred:
        return get_skeleton(preferred[k])
    found = [get_skeleton(n) for n in list_skeletons() if get_skeleton(n).num_keypoints == k]
    if len(found) == 1:
        return found[0]
    raise ValueError(
        f"no single registered layout has {k} keypoints"
        + (f" (candidates: {', '.join(s.name for s in found)})" if found else "")
    )


def read_pts_dir(
    directory: PathLike, *, origin: float = 0.0, progress: bool = True, skeleton: str | None = None
) -> KeypointDataset:
    """Read every ``*.pts`` file in ``directory`` with the image of the same stem beside it.

    The layout follows the point count (68 -> ``faces68``, 5 -> ``faces5``, ...)
    unless ``skeleton`` is given; all files must have the same count. Every point
    is labelled and visible (``v = 2``): the format has no visibility.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such folder of .pts files")
    files = sorted(directory.glob("*.pts"))
    if not files:
        raise FileNotFoundError(f"{directory}: no .pts files")
    points = [read_pts(f, origin=origin) for f in files]
    first = len(points[0])
    for f, p in zip(files, points, strict=True):
        if len(p) != first:
            raise KplearnFormatError(f, f"has {len(p)} points, {files[0].name} has {first}")
    layout = get_skeleton(skeleton) if skeleton else _layout_for_count(first)
    if layout.num_keypoints != len(points[0]):
        raise KplearnFormatError(
            files[0],
            f"has {len(points[0])} points, layout {layout.name} needs {layout.num_keypoints}",
        )
    image_paths = []
    for f in files:
        img = next(
            (f.with_suffix(ext) for ext in _IMAGE_EXTENSIONS if f.with_suffix(ext).is_file()), None
        )
        if img is None:
            raise KplearnFormatError(f, f"no image {f.stem}.png/.jpg beside it")
        image_paths.append(img)
    images = _read_images(
        image_paths, [f.name for f in files], directory, progress, "reading .pts images"
    )
    samples = []
    for img_path, img, pts in zip(image_paths, images, points, strict=True):
        kp = np.concatenate([pts, np.full((len(pts), 1), 2.0)], axis=1)[None]
        samples.append(Sample(image=img, keypoints=kp, name=img_path.name))
    return KeypointDataset(samples, layout, directory.name or "pts")


# --- MPII (HRNet / MMPose JSON layout) ----------------------------------------
def validate_mpii(records: Any, path: PathLike = "<mpii records>") -> list[dict]:
    """Check MPII records in the HRNet/MMPose JSON layout; return them unchanged.

    Each record needs ``image`` (a file name), ``center`` (2 finite numbers),
    ``scale`` (a finite number > 0: person height / 200 px), ``joints`` (16 pairs
    of finite numbers) and ``joints_vis`` (16 values, 0 or 1). An optional
    ``headbox`` must be two corner points ``[[x1, y1], [x2, y2]]`` with
    ``x2 >= x1`` and ``y2 >= y1``.
    """
    if not isinstance(records, list):
        raise KplearnFormatError(
            path, f"top level must be a list of person records, got {_kind(records)}"
        )
    k = MPII16.num_keypoints
    for i, r in enumerate(records):
        name = r.get("image") if isinstance(r, dict) else None
        rec = f"record #{i} (image={name!r})"
        if not isinstance(r, dict):
            raise KplearnFormatError(path, f"must be an object, got {_kind(r)}", rec)
        _require(r, ("image", "center", "scale", "joints", "joints_vis"), path, rec)
        check_file_name(r["image"], path, rec, "image")
        _numbers(r["center"], 2, path, rec, "center", "a centre needs 2 (x, y)")
        scale = r["scale"]
        if not _is_number(scale) or not math.isfinite(scale):
            raise KplearnFormatError(path, f"scale must be a finite number, got {scale!r}", rec)
        if scale <= 0:
            raise KplearnFormatError(
                path, f"scale is {scale}; the person box size must be positive", rec
            )
        if scale * MPII_SCALE_UNIT > MAX_COORDINATE:
            raise KplearnFormatError(
                path, f"scale is {scale:g}: a person box of {scale * MPII_SCALE_UNIT:g} px "
                f"(at most {MAX_COORDINATE / MPII_SCALE_UNIT:g})", rec,
            )
        joints = r["joints"]
        if not isinstance(joints, list):
            raise KplearnFormatError(
                path, f"joints must be a list of [x, y], got {_kind(joints)}", rec
            )
        if len(joints) != k:
            raise KplearnFormatError(
                path, f"joints has {len(joints)} rows, layout mpii16 needs {k}", rec
            )
        for j, xy in enumerate(joints):
            _numbers(xy, 2, path, rec, f"joints[{j}]", "a joint needs 2 (x, y)")
        vis = _numbers(r["joints_vis"], k, path, rec, "joints_vis", f"layout mpii16 needs {k}")
        bad = [j for j, v in enumerate(vis) if v not in (0.0, 1.0)]
        if bad:
            raise KplearnFormatError(
                path, f"joints_vis[{bad[0]}] is {vis[bad[0]]:g}; must be 0 or 1", rec
            )
        if "headbox" in r:
            hb = r["headbox"]
            if not isinstance(hb, list) or len(hb) != 2:
                raise KplearnFormatError(path, "headbox must be [[x1, y1], [x2, y2]]", rec)
            (x1, y1), (x2, y2) = (_numbers(c, 2, path, rec, "headbox corner") for c in hb)
            if x2 < x1 or y2 < y1:
                raise KplearnFormatError(path, f"headbox {hb} has a negative width or height", rec)
    return records


def read_mpii_json(path: PathLike) -> list[dict]:
    """Read and validate MPII annotations in the HRNet/MMPose JSON layout (records as stored).

    Examples
    --------
    >>> from kplearn.data.formats import read_mpii_json
    >>> from kplearn.lessons import sample_path
    >>> len(read_mpii_json(sample_path("mpii", "mpii_tiny.json")))
    3
    """
    return validate_mpii(_load_json(path), path)


def write_mpii_json(records: list[dict], path: PathLike, *, indent: int | None = None) -> None:
    """Validate MPII records and write them as a JSON list (the HRNet/MMPose layout)."""
    validate_mpii(records, path)
    _dump_json(records, path, indent)


def _mpii_box(center: np.ndarray, scale: float) -> list[float]:
    # As MMPose: MPII's centre sits on the torso, so move it down by 15 px per scale unit;
    # the person box is a square of side scale * 200 px.
    side = scale * MPII_SCALE_UNIT
    cx, cy = center[0], center[1] + 15.0 * scale
    return [cx - side / 2, cy - side / 2, side, side]


def mpii_to_dataset(
    records: list[dict] | PathLike,
    image_dir: PathLike,
    *,
    origin: float = 1.0,
    progress: bool = True,
    name: str = "",
) -> KeypointDataset:
    """MPII records (or a JSON file of them) and their images as an ``mpii16`` dataset.

    Records of the same image become instances of one sample, in file order.
    ``joints_vis = 1`` becomes ``v = 2`` (labelled; MPII's JSON does not say
    whether a labelled joint is occluded) and ``0`` becomes ``v = 0``.

    Per instance, ``origin`` (1 for the MATLAB coordinates of the distributed
    files) is subtracted from joints, centre and head box; the box is the square
    of side ``200 * scale`` around the centre moved down by ``15 * scale`` (as
    MMPose); the area is the box area. ``sample.meta`` keeps, per instance,
    ``centers``, ``scales``, and where given ``headboxes`` and ``head_sizes``
    (``0.6 ×`` head-box diagonal, the PCKh normaliser).
    """
    if isinstance(records, list):
        source: PathLike = "<mpii records>"
        recs = validate_mpii(records, source)
    else:
        source = records
        recs = read_mpii_json(records)
    _check_image_dir(image_dir, source)
    order: dict[str, list[int]] = {}
    for i, r in enumerate(recs):
        order.setdefault(r["image"], []).append(i)
    names = list(order)
    root = Path(image_dir)
    images = _read_images(
        [root / n for n in names],
        [f"record #{order[n][0]} (image={n!r})" for n in names],
        source,
        progress,
        "reading MPII images",
    )
    samples = []
    for n, pixels in zip(names, images, strict=True):
        group = [recs[i] for i in order[n]]
        kp = np.zeros((len(group), MPII16.num_keypoints, 3))
        boxes, centers, scales, headboxes = [], [], [], []
        for m, r in enumerate(group):
            vis = np.asarray(r["joints_vis"], dtype=np.float64) > 0
            kp[m, :, :2] = np.asarray(r["joints"], dtype=np.float64) - origin
            kp[m, :, 2] = np.where(vis, 2.0, 0.0)
            kp[m, ~vis, :2] = 0.0
            center = np.asarray(r["center"], dtype=np.float64) - origin
            centers.append(center.tolist())
            scales.append(float(r["scale"]))
            boxes.append(_mpii_box(center, float(r["scale"])))
            if "headbox" in r:
                headboxes.append((np.asarray(r["headbox"], dtype=np.float64) - origin).tolist())
        meta: dict[str, Any] = {"centers": centers, "scales": scales}
        if headboxes:
            if len(headboxes) != len(group):
                raise KplearnFormatError(
                    source, "some but not all records of this image have a headbox", f"image {n!r}"
                )
            meta["headboxes"] = headboxes
            meta["head_sizes"] = [
                MPII_HEAD_SIZE_FACTOR * float(np.linalg.norm(np.subtract(hb[1], hb[0])))
                for hb in headboxes
            ]
        boxes_arr = np.array(boxes, dtype=np.float64).reshape(-1, 4)
        samples.append(
            Sample(
                image=pixels,
                keypoints=kp,
                boxes=boxes_arr,
                areas=boxes_arr[:, 2] * boxes_arr[:, 3],
                name=n,
                meta=meta,
            )
        )
    default_name = "mpii" if isinstance(records, list) else Path(source).stem
    return KeypointDataset(samples, MPII16, name or default_name)


def dataset_to_mpii(
    dataset: KeypointDataset, image_names: Sequence[str] | None = None, *, origin: float = 1.0
) -> list[dict]:
    """MPII records (HRNet/MMPose JSON layout) for an ``mpii16`` dataset; inverse of :func:`mpii_to_dataset`.

    Centres and scales come from ``sample.meta`` when present, else from the boxes
    (``scale = max(w, h) / 200``, the centre undoing the 15-px-per-scale shift).
    Unlabelled joints are written as ``[-1, -1]`` with ``joints_vis = 0``, as in
    the distributed files.
    """
    if dataset.skeleton.num_keypoints != MPII16.num_keypoints:
        raise ValueError(
            f"MPII records need the 16-joint layout mpii16, dataset has {dataset.skeleton.name!r}"
        )
    if image_names is None:
        image_names = [s.name or f"{i:06d}.png" for i, s in enumerate(dataset)]
    records = []
    for s, fname in zip(dataset, image_names, strict=True):
        for m in range(s.num_instances):
            if "centers" in s.meta and "scales" in s.meta:
                center = np.asarray(s.meta["centers"][m], dtype=np.float64)
                scale = float(s.meta["scales"][m])
            else:
                x, y, w, h = s.boxes[m]
                scale = max(w, h) / MPII_SCALE_UNIT
                center = np.array([x + w / 2, y + h / 2 - 15.0 * scale])
            kp = s.keypoints[m]
            lab = kp[:, 2] > 0
            joints = np.where(lab[:, None], kp[:, :2] + origin, -1.0)
            rec: dict[str, Any] = {
                "image": fname,
                "center": [float(c) for c in center + origin],
                "scale": scale,
                "joints": joints.tolist(),
                "joints_vis": lab.astype(int).tolist(),
            }
            if "headboxes" in s.meta:
                rec["headbox"] = (np.asarray(s.meta["headboxes"][m]) + origin).tolist()
            records.append(rec)
    return records
