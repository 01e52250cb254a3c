"""Fetch the real datasets and prepare them as kplearn folders: ``kplearn data download``.

Two datasets can be downloaded, each checked file by file against the hashes of
a manifest shipped with the package (``kplearn/data/registry/NAME.csv``,
columns ``path, bytes, <hash algorithm>``), with :mod:`pooch`:

=======================  ============================================================
``faces68``              4,232 face crops with 68 landmarks, made from the public
                         ``udacity/P1_Facial_Keypoints`` repository (238 MB fetched)
``coco-val2017-person``  COCO 2017 validation images with labelled people and their
                         ``person_keypoints_val2017.json`` (241 MB + 778 MB fetched)
=======================  ============================================================

Where things go, for a root folder ``ROOT`` (``root=``, ``--root``; else
``$KPLEARN_DATA``; else the per-user cache ``pooch.os_cache("kplearn")``):

- ``ROOT/downloads/NAME/PATH``: the upstream files, ``PATH`` as in the manifest.
  Files already there with the right hash are not fetched again (a run that
  stopped resumes); a file with a wrong hash is deleted.
- ``ROOT/NAME/``: the prepared dataset, written under a temporary name and
  renamed when complete, so a failed run never leaves a folder that looks done.
  It holds a ``README.md`` dataset card and ``.kplearn-dataset.json``.

Examples
--------
>>> from kplearn.data.fetch import DATASETS, data_root
>>> sorted(DATASETS)
['coco-val2017-person', 'faces68']
>>> str(data_root("my-data"))
'my-data'
>>> from kplearn.data.fetch import download
>>> download("faces68")  # doctest: +SKIP
PosixPath('/home/me/.cache/kplearn/faces68')
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np

__all__ = [
    "DATA_ENV",
    "DATASETS",
    "DownloadError",
    "HashMismatchError",
    "RemoteDataset",
    "DatasetStatus",
    "data_root",
    "download",
    "list_datasets",
    "read_manifest",
    "faces68_crop_box",
    "faces68_crop",
    "prepare_faces68",
    "prepare_coco_val2017_person",
]

#: Environment variable naming the root folder of downloaded data.
DATA_ENV = "KPLEARN_DATA"

_REGISTRY = Path(__file__).resolve().parent / "registry"
_MARKER = ".kplearn-dataset.json"
_HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}

FACES68_COMMIT = "6e55adc6bd032d9fb1ad41a4c3e68aae847cdf81"
FACES68_URL = f"https://raw.githubusercontent.com/udacity/P1_Facial_Keypoints/{FACES68_COMMIT}/"
COCO_URL = "http://images.cocodataset.org/"
#: Side of a prepared faces68 crop, in pixels.
FACES68_SIZE = 160


class DownloadError(RuntimeError):
    """A file could not be fetched (network, HTTP status, hash) or prepared."""


class HashMismatchError(DownloadError):
    """A downloaded file's hash differs from the manifest's; the file was deleted."""


# --- manifests -------------------------------------------------------------------
def read_manifest(
    source: str | os.PathLike | Mapping[str, str],
) -> dict[str, tuple[int | None, str]]:
    """Read a download manifest: ``{path: (bytes or None, "alg:hexdigest")}``.

    Parameters
    ----------
    source : path-like or mapping
        A CSV file whose header is ``path,bytes,ALG`` (``ALG`` one of ``md5``,
        ``sha1``, ``sha256``) and whose rows give a path relative to the upstream
        root, its size in bytes (may be empty) and its hash; or a mapping
        ``{path: hash}`` with pooch-style hashes (``"sha1:..."``, ``"sha256:..."``,
        or a bare hex string, taken as SHA-256).

    Returns
    -------
    dict
        Paths in manifest order, each with its size (``None`` when not given) and
        its hash as ``"alg:hex"`` (lower case).

    Raises
    ------
    ValueError
        A malformed header, row, path (absolute, ``..``, backslash), size or hash;
        the message names the file and line.

    Examples
    --------
    >>> read_manifest({"a/b.txt": "sha1:" + "0" * 40})
    {'a/b.txt': (None, 'sha1:0000000000000000000000000000000000000000')}
    >>> m = read_manifest(_REGISTRY / "faces68.csv")
    >>> len(m), m["data/training/Luis_Fonsi_21.jpg"][0]
    (4234, 38650)
    """
    if isinstance(source, Mapping):
        out: dict[str, tuple[int | None, str]] = {}
        for path, h in source.items():
            alg, _, digest = str(h).rpartition(":")
            out[_check_path(path, "manifest")] = (
                None,
                _check_hash(alg or "sha256", digest, f"manifest entry {path!r}"),
            )
        return out
    path = Path(source)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or len(rows[0]) != 3 or [c.strip() for c in rows[0][:2]] != ["path", "bytes"]:
        raise ValueError(
            f"{path}: line 1 must be the header path,bytes,ALG (ALG: md5, sha1 or sha256)"
        )
    alg = rows[0][2].strip().lower()
    if alg not in _HASH_LENGTHS:
        raise ValueError(
            f"{path}: line 1: unknown hash algorithm {rows[0][2]!r} (md5, sha1 or sha256)"
        )
    out = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        where = f"{path}: line {line}"
        if len(row) != 3:
            raise ValueError(f"{where}: expected 3 fields path,bytes,{alg}, got {len(row)}")
        name = _check_path(row[0].strip(), where)
        if name in out:
            raise ValueError(f"{where}: {name!r} is listed twice")
        size_text = row[1].strip()
        if size_text and not size_text.isdigit():
            raise ValueError(f"{where}: bytes must be a whole number, got {row[1]!r}")
        out[name] = (int(size_text) if size_text else None, _check_hash(alg, row[2].strip(), where))
    if not out:
        raise ValueError(f"{path}: no files listed")
    return out


def _check_path(name: str, where: str) -> str:
    parts = name.split("/")
    if not name or name.startswith("/") or "\\" in name or ".." in parts or "" in parts:
        raise ValueError(f"{where}: {name!r} is not a relative path with '/' separators")
    return name


def _check_hash(alg: str, digest: str, where: str) -> str:
    alg = alg.lower()
    if alg not in _HASH_LENGTHS:
        raise ValueError(f"{where}: unknown hash algorithm {alg!r} (md5, sha1 or sha256)")
    if len(digest) != _HASH_LENGTHS[alg] or re.fullmatch(r"[0-9a-fA-F]+", digest) is None:
        raise ValueError(f"{where}: {digest!r} is not a {alg} hex digest")
    return f"{alg}:{digest.lower()}"


# --- the registry ----------------------------------------------------------------
@dataclass(frozen=True)
class RemoteDataset:
    """A dataset that ``kplearn data download`` can fetch and prepare.

    Attributes
    ----------
    name : str
        Its name on the command line and its folder name under the root.
    description : str
        One line for ``kplearn data list``.
    base_url : str
        Upstream location; each file's URL is ``base_url + path``.
    manifest : Path
        The packaged manifest (``path, bytes, hash``).
    prepare : callable
        ``prepare(source_dir, out_dir, progress)``: build the folder from the files.
    spec : callable
        ``spec(folder)``: the data spec that reads the prepared folder.
    """

    name: str
    description: str
    base_url: str
    manifest: Path
    prepare: Callable[[Path, Path, bool], dict]
    spec: Callable[[Path], str]


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The root folder of downloaded data: ``root``, else ``$KPLEARN_DATA``, else the user cache.

    Examples
    --------
    >>> data_root("/tmp/d").as_posix()
    '/tmp/d'
    >>> data_root().name  # doctest: +SKIP
    'kplearn'
    """
    if root is not None:
        return Path(root)
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    import pooch

    return Path(pooch.os_cache("kplearn"))


@dataclass(frozen=True)
class DatasetStatus:
    """Where one downloadable dataset stands under a root (see :func:`list_datasets`)."""

    name: str
    description: str
    path: Path
    prepared: bool
    images: int | None
    spec: str
    raw_present: int
    raw_total: int


def list_datasets(root: str | os.PathLike | None = None) -> list[DatasetStatus]:
    """Which datasets are downloaded under ``root`` (see :func:`data_root`) and where.

    A dataset counts as downloaded when its prepared folder holds the marker that
    the last step of :func:`download` writes. Raw files are counted by presence
    only (hashes are checked by :func:`download`).

    Examples
    --------
    >>> import tempfile
    >>> [(s.name, s.prepared) for s in list_datasets(tempfile.mkdtemp())]
    [('faces68', False), ('coco-val2017-person', False)]
    """
    base = data_root(root)
    out = []
    for ds in DATASETS.values():
        folder = base / ds.name
        marker = folder / _MARKER
        info = {}
        if marker.is_file():
            try:
                info = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                info = {}
        files = read_manifest(ds.manifest)
        raw = base / "downloads" / ds.name
        present = sum((raw / p).is_file() for p in files) if raw.is_dir() else 0
        out.append(
            DatasetStatus(
                name=ds.name,
                description=ds.description,
                path=folder,
                prepared=bool(info),
                images=info.get("images"),
                spec=ds.spec(folder),
                raw_present=present,
                raw_total=len(files),
            )
        )
    return out


# --- fetching --------------------------------------------------------------------
class _SharedBar:
    """One byte bar over many files; hands each download a pooch-style progress object."""

    def __init__(self, bar):
        self.bar = bar
        self.lock = threading.Lock()

    def for_file(self) -> _FileShare:
        return _FileShare(self)

    def add(self, n: int) -> None:
        with self.lock:
            self.bar.update(n)


class _FileShare:
    # pooch's HTTPDownloader sets .total, calls update(chunk) per chunk, then
    # reset() + update(total) + close(): what this file adds to the bar is its size.
    def __init__(self, shared: _SharedBar):
        self.shared, self.n, self.total = shared, 0, 0

    def update(self, k: int) -> None:
        self.n += k
        self.shared.add(k)

    def reset(self) -> None:
        self.shared.add(-self.n)
        self.n = 0

    def close(self) -> None:
        pass


class _CheckedDownloader:
    """pooch's HTTP downloader, plus a hash check that names the file and both hashes."""

    def __init__(self, path: str, dest: Path, known_hash: str, progressbar, timeout: float):
        import pooch

        self.path, self.dest, self.known_hash = path, dest, known_hash
        self.http = pooch.HTTPDownloader(
            progressbar=progressbar or False, timeout=timeout, chunk_size=1 << 16
        )

    def __call__(self, url, output_file, pooch_obj, check_only=False):
        import pooch

        result = self.http(url, output_file, pooch_obj, check_only=check_only)
        if check_only:
            return result
        alg, expected = self.known_hash.split(":")
        actual = pooch.file_hash(str(output_file), alg=alg)
        if actual.lower() != expected:
            # pooch deletes the temporary file this was streamed into.
            raise HashMismatchError(
                f"{self.dest}: the file downloaded from {url} has {alg} {actual}, "
                f"expected {expected}; it was deleted (a transfer error, or the upstream file or "
                "the mirror differs from the manifest)"
            )
        return None


def _short_reason(err: BaseException) -> str:
    import requests

    if isinstance(err, requests.HTTPError) and err.response is not None:
        return f"HTTP {err.response.status_code} {err.response.reason}"
    text = str(err)
    m = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if m:
        return m.group(0)
    if isinstance(err, requests.Timeout):
        return "timed out"
    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        return "connection broken during the transfer"
    return f"{type(err).__name__}: {text[:200]}"


@contextmanager
def _quiet_pooch():
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    try:
        yield
    finally:
        logger.setLevel(level)


def _fetch(
    name: str,
    files: Mapping[str, tuple[int | None, str]],
    base_url: str,
    downloads: Path,
    *,
    manifest_text: str,
    progress: bool,
    workers: int,
    timeout: float,
) -> tuple[int, int]:
    """Fetch every missing file into ``downloads``; return ``(fetched, already_present)``."""
    import pooch

    from kplearn.progress import progress_bar

    todo = []
    for path, (_, known) in files.items():
        dest = downloads / path
        if dest.is_file():
            alg, expected = known.split(":")
            if pooch.file_hash(str(dest), alg=alg) == expected:
                continue
            dest.unlink()  # wrong content (an older or broken copy): fetch it again
        todo.append(path)
    present = len(files) - len(todo)
    if not todo:
        return 0, present
    sizes = [files[p][0] for p in todo]
    total = sum(sizes) if all(s is not None for s in sizes) else None
    if progress:
        size_text = f" ({_mb(total)})" if total is not None else ""
        print(
            f"{name}: fetching {len(todo)} of {len(files)} files{size_text} from {base_url} "
            f"into {downloads}",
            file=sys.stderr,
        )
    for path in todo:  # made here: pooch's makedirs races between threads
        (downloads / path).parent.mkdir(parents=True, exist_ok=True)
    pup = pooch.create(
        path=downloads,
        base_url=base_url,
        registry={p: files[p][1] for p in todo},
        urls={p: base_url + quote(p) for p in todo},
        retry_if_failed=0,
    )
    bar = progress_bar(
        None, progress, total=total, unit="B", unit_scale=True, desc=f"downloading {name}"
    )
    shared = _SharedBar(bar)

    def one(path: str) -> None:
        dl = _CheckedDownloader(
            path, downloads / path, files[path][1], shared.for_file() if progress else None, timeout
        )
        pup.fetch(path, downloader=dl)

    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    futures = {pool.submit(one, p): p for p in todo}
    try:
        # On the first failure, queued files are dropped; those in flight finish
        # (or clean up their temporary file). Ctrl-C does the same.
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    errors = [
        (futures[f], f.exception())
        for f in futures
        if not f.cancelled() and f.exception() is not None
    ]
    if errors:
        path, err = errors[0]
        missing = [p for p in files if not (downloads / p).is_file()]
        more = f" ({len(errors) - 1} more files failed)" if len(errors) > 1 else ""
        if isinstance(err, HashMismatchError):
            head = str(err)
        elif isinstance(err, OSError | ValueError) and not _is_requests_error(err):
            raise err
        else:
            url = base_url + quote(path)
            head = f"could not download {url}: {_short_reason(err)}"
        kind = HashMismatchError if isinstance(err, HashMismatchError) else DownloadError
        raise kind(
            f"{head}{more}. {len(files) - len(missing)} of {len(files)} files are in {downloads}; "
            f"run the same command again to fetch the other {len(missing)} (files already there "
            f"with the right hash are kept). Without network: fetch them from a machine that has "
            f"it, place each at {downloads}/PATH (e.g. {downloads / missing[0]}), PATH being the "
            f"path listed in {manifest_text}, and run the command again; or use --base-url for a mirror."
        ) from err
    return len(todo), present


def _is_requests_error(err: BaseException) -> bool:
    import requests

    return isinstance(err, requests.RequestException)


def _mb(n: int | None) -> str:
    return "unknown size" if n is None else f"{n / 2**20:,.0f} MB"


# --- preparing: a temporary folder, renamed when complete --------------------------
@contextmanager
def _atomic_folder(final: Path):
    """Yield a fresh temporary folder beside ``final``; rename it to ``final`` on success."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)  # left by an earlier run that stopped
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = final.parent / f".{final.name}.old"
    if final.exists():
        if old.exists():
            shutil.rmtree(old)
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _write_marker(folder: Path, name: str, base_url: str, summary: dict) -> None:
    from kplearn import __version__

    info = {"dataset": name, "source": base_url, "kplearn": __version__, **summary}
    (folder / _MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


# --- faces68 ---------------------------------------------------------------------
def faces68_crop_box(landmarks: np.ndarray, name: str) -> tuple[float, float, float]:
    """The jittered square ``(x0, y0, side)`` that faces68 crops a face to.

    ``side = 1.5 × longer side of the landmarks' box × (1 + u1)``, centre = box
    centre ``+ (u2, u3) × side``, with ``u1 ~ U(-0.10, 0.10)`` then
    ``(u2, u3) ~ U(-0.08, 0.08)`` drawn by ``numpy.random.default_rng(seed)``,
    ``seed = int(sha256(name).hexdigest()[:8], 16)``: the same box for the same
    upstream file name on every machine.

    Parameters
    ----------
    landmarks : ndarray, shape (68, 2)
        Upstream landmarks, pixels of the upstream image.
    name : str
        The upstream file name (``"Luis_Fonsi_21.jpg"``), the seed of the jitter.

    Examples
    --------
    >>> xy = np.array([[10.0, 20.0], [50.0, 40.0]])
    >>> x0, y0, side = faces68_crop_box(xy, "Ann_01.jpg")
    >>> bool(0.9 * 60 <= side <= 1.1 * 60)  # 1.5 × 40, ±10 %
    True
    """
    xy = np.asarray(landmarks, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0 or not np.all(np.isfinite(xy)):
        raise ValueError(f"{name}: landmarks must be a finite (K, 2) array, got shape {xy.shape}")
    seed = int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:8], 16)
    rng = np.random.default_rng(seed)
    u1 = rng.uniform(-0.1, 0.1)
    shift = rng.uniform(-0.08, 0.08, 2)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    side = 1.5 * float((hi - lo).max()) * (1 + u1)
    if side <= 0:
        raise ValueError(f"{name}: the landmarks' box is empty (all points at one place)")
    centre = (lo + hi) / 2 + shift * side
    return float(centre[0] - side / 2), float(centre[1] - side / 2), side


def faces68_crop(image, landmarks: np.ndarray, name: str, size: int = FACES68_SIZE):
    """Crop one upstream face the faces68 way: ``(PIL RGB image size × size, landmarks)``.

    The square of :func:`faces68_crop_box` is resampled with Pillow's
    ``Image.transform(EXTENT, BILINEAR)`` (output column ``i`` samples the source
    at ``x0 + (i + 0.5) · side / size``; black outside the frame) and the
    landmarks are mapped by ``(p − (x0, y0)) × size / side``.

    Parameters
    ----------
    image : PIL.Image.Image or ndarray
        The upstream image (any mode; converted to RGB first).
    landmarks : ndarray, shape (68, 2)
    name : str
        Upstream file name, the seed of the jitter.
    size : int
        Output side in pixels.

    Examples
    --------
    >>> img = np.zeros((100, 120, 3), np.uint8)
    >>> crop, xy = faces68_crop(img, np.array([[30.0, 30.0], [70.0, 60.0]]), "Ann_01.jpg")
    >>> crop.size, xy.shape
    ((160, 160), (2, 2))
    """
    from PIL import Image

    if not isinstance(image, Image.Image):
        image = Image.fromarray(np.asarray(image))
    x0, y0, side = faces68_crop_box(landmarks, name)
    crop = image.convert("RGB").transform(
        (size, size),
        Image.Transform.EXTENT,
        (x0, y0, x0 + side, y0 + side),
        Image.Resampling.BILINEAR,
    )
    xy = (np.asarray(landmarks, dtype=np.float64) - (x0, y0)) * size / side
    return crop, xy


_FACES68_SPLITS = (
    ("training", "data/training_frames_keypoints.csv", ""),
    ("test", "data/test_frames_keypoints.csv", "b"),
)


def prepare_faces68(
    source: str | os.PathLike, out: str | os.PathLike, progress: bool = True
) -> dict:
    """Build the faces68 folder in ``out`` from the upstream files in ``source``.

    Parameters
    ----------
    source : path-like
        The upstream repository layout: ``data/training_frames_keypoints.csv``,
        ``data/test_frames_keypoints.csv``, ``data/training/NAME``, ``data/test/NAME``.
    out : path-like
        Folder to write (created; normally a temporary one, see :func:`download`):
        ``keypoints.csv`` (header ``,0,1,…,135``, then ``name,x0,y0,…`` with two
        decimals; training rows, then test rows, in upstream order) and
        ``images/NAME`` (160 × 160 RGB JPEG, quality 90). Test rows get a ``b``
        before ``.jpg``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict
        ``{"images": N, "people": P}``.

    Raises
    ------
    FileNotFoundError
        A CSV or an image it names is missing (the message names both).
    KplearnFormatError, ValueError
        A malformed CSV row, an image that cannot be decoded, or two rows that map
        to one output name.

    Examples
    --------
    >>> prepare_faces68("P1_Facial_Keypoints", "faces68")  # doctest: +SKIP
    {'images': 4232, 'people': 645}
    """
    from PIL import Image

    from kplearn.data.faces68 import person_from_name
    from kplearn.data.formats import read_faces68_csv
    from kplearn.progress import progress_bar

    source, out = Path(source), Path(out)
    jobs = []  # (source image, upstream name, output name, landmarks, record)
    seen: dict[str, str] = {}
    for split, csv_rel, suffix in _FACES68_SPLITS:
        csv_path = source / csv_rel
        if not csv_path.is_file():
            raise FileNotFoundError(f"{csv_path}: no such file (the upstream {split} landmarks)")
        names, xy = read_faces68_csv(csv_path)
        for i, (name, pts) in enumerate(zip(names, xy, strict=True)):
            record = f"{csv_path}: line {i + 2} (name={name!r})"
            stem, ext = os.path.splitext(name)
            out_name = f"{stem}{suffix}{ext}"
            if out_name in seen:
                raise ValueError(f"{record} maps to {out_name!r}, as does {seen[out_name]}")
            seen[out_name] = record
            jobs.append((source / "data" / split / name, name, out_name, pts, record))
    for src, _, _, _, record in jobs:  # before any work: a missing file fails at once
        if not src.is_file():
            raise FileNotFoundError(f"{record}: image {src} is missing")
    (out / "images").mkdir(parents=True, exist_ok=True)

    def one(job) -> np.ndarray:
        src, name, out_name, pts, record = job
        try:
            with Image.open(src) as img:
                crop, new_xy = faces68_crop(img, pts, name)
        except OSError as err:
            raise ValueError(f"{record}: cannot decode {src}: {err}") from err
        buf = io.BytesIO()
        crop.save(buf, format="JPEG", quality=90)
        (out / "images" / out_name).write_bytes(buf.getvalue())
        return new_xy

    workers = min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(
            progress_bar(
                pool.map(one, jobs), progress, total=len(jobs), desc="preparing faces68", unit="img"
            )
        )
    header = "," + ",".join(str(i) for i in range(136))
    lines = [header]
    for (_, _, out_name, _, _), new_xy in zip(jobs, results, strict=True):
        lines.append(out_name + "," + ",".join(f"{v:.2f}" for v in new_xy.ravel()))
    (out / "keypoints.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    people = len({person_from_name(j[2]) for j in jobs})
    summary = {"images": len(jobs), "people": people}
    (out / "README.md").write_text(_faces68_card(summary), encoding="utf-8")
    return summary


def _faces68_card(summary: dict) -> str:
    return f"""# faces68 — real faces with 68 landmarks

{summary["images"]:,} face crops of {summary["people"]:,} people, from video frames of public
figures, each with the 68-point landmark layout of the iBUG 300-W scheme (jaw 0–16,
brows 17–26, nose 27–35, eyes 36–47, mouth 48–67). Made by `kplearn data download faces68`.

- `images/NAME.jpg`: RGB, {FACES68_SIZE} × {FACES68_SIZE} px, JPEG (quality 90).
- `keypoints.csv`: header row `,0,1,…,135`, then one row per image: the file name, then
  x0, y0, x1, y1, … x67, y67 in pixels of the crop (origin at the top-left corner; two decimals).

**Source.** The facial-keypoint data that Udacity published with its `P1_Facial_Keypoints`
project (github.com/udacity/P1_Facial_Keypoints, MIT-licensed repository), at commit
`{FACES68_COMMIT}`: both upstream splits, `training` and `test`, in one folder (test rows get a
`b` before `.jpg`, so `Name_NN.jpg` and `Name_NNb.jpg` can be two frames of one person). The
frames come from the **YouTube Faces database** (Wolf, Hassner and Maoz, CVPR 2011), which is
distributed **for research use**: check its terms before any other use.

**Crops.** Each face is cropped to a square around its landmarks: side = 1.5 × the longer
side of the landmarks' box × (1 + u1), centre = box centre + (u2, u3) × side, u1 in
[−0.10, 0.10] and u2, u3 in [−0.08, 0.08] drawn by `numpy.random.default_rng(seed)`,
seed = first 8 hex digits of the SHA-256 of the upstream file name; resampled to
{FACES68_SIZE} × {FACES68_SIZE} with Pillow's `Image.transform(EXTENT, BILINEAR)` (black
outside the frame); landmarks mapped by (p − corner) × {FACES68_SIZE} / side. The jitter stands
in for where a face detector's box would sit.

**Use.** `kplearn data stats faces68:THIS_FOLDER`; `kplearn lessons run 06 --real THIS_FOLDER`
or `KPLEARN_FACES68=THIS_FOLDER` for the lessons' real-face sections. Frames of one person are
near-duplicates: hold data out **by person** (`kplearn.data.faces68.person_from_name`), never
by image.
"""


# --- COCO val2017 people ------------------------------------------------------------
_COCO_ANN_ZIP = "annotations/annotations_trainval2017.zip"
_COCO_ANN_MEMBER = "annotations/person_keypoints_val2017.json"
_COCO_IMG_ZIP = "zips/val2017.zip"
_COCO_IMG_DIR = "val2017/"
COCO_JSON = "person_keypoints_val2017.json"


def prepare_coco_val2017_person(
    source: str | os.PathLike, out: str | os.PathLike, progress: bool = True
) -> dict:
    """Build the coco-val2017-person folder in ``out`` from the two COCO zips in ``source``.

    Keeps the images with at least one person whose keypoints are labelled
    (an annotation with ``num_keypoints > 0``), every annotation of those images
    (crowd regions and people without keypoints included: COCO AP needs them),
    and the ``info``, ``licenses`` and ``categories`` of
    ``person_keypoints_val2017.json``.

    Parameters
    ----------
    source : path-like
        Holds ``annotations/annotations_trainval2017.zip`` and ``zips/val2017.zip``.
    out : path-like
        Folder to write: ``person_keypoints_val2017.json``, ``images/FILE_NAME``,
        ``README.md``. Read it with ``coco:OUT/person_keypoints_val2017.json:OUT/images``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    dict
        ``{"images": N, "people": number of annotations with keypoints}``.

    Raises
    ------
    FileNotFoundError
        A zip, or a member it should hold, is missing (named).
    ValueError
        The annotation file is not a COCO keypoints file.

    Examples
    --------
    >>> prepare_coco_val2017_person("downloads/coco-val2017-person", "coco")  # doctest: +SKIP
    {'images': 2346, 'people': 6352}
    """
    from kplearn.progress import progress_bar

    source, out = Path(source), Path(out)
    ann_zip, img_zip = source / _COCO_ANN_ZIP, source / _COCO_IMG_ZIP
    for z in (ann_zip, img_zip):
        if not z.is_file():
            raise FileNotFoundError(f"{z}: no such file")
    with zipfile.ZipFile(ann_zip) as zf:
        try:
            raw = zf.read(_COCO_ANN_MEMBER)
        except KeyError:
            raise FileNotFoundError(f"{ann_zip}: holds no {_COCO_ANN_MEMBER}") from None
    try:
        coco = json.loads(raw)
    except ValueError as err:
        raise ValueError(f"{ann_zip}!{_COCO_ANN_MEMBER}: not valid JSON: {err}") from err
    if not isinstance(coco, dict) or not all(
        isinstance(coco.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise ValueError(
            f"{ann_zip}!{_COCO_ANN_MEMBER}: expected a COCO file with lists "
            "'images', 'annotations' and 'categories'"
        )
    keep = set()
    for i, a in enumerate(coco["annotations"]):
        if not isinstance(a, dict) or "image_id" not in a:
            raise ValueError(f"{ann_zip}!{_COCO_ANN_MEMBER}: annotation {i} has no image_id")
        if int(a.get("num_keypoints", 0) or 0) > 0 and not a.get("iscrowd", 0):
            keep.add(a["image_id"])
    images = [im for im in coco["images"] if im.get("id") in keep]
    anns = [a for a in coco["annotations"] if a["image_id"] in keep]
    coco_out = {k: v for k, v in coco.items() if k not in ("images", "annotations")}
    coco_out["images"], coco_out["annotations"] = images, anns
    (out / "images").mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(img_zip) as zf:
        members = set(zf.namelist())
        for im in progress_bar(images, progress, desc="extracting val2017 people", unit="img"):
            name = str(im.get("file_name", ""))
            member = _COCO_IMG_DIR + name
            if "/" in name or "\\" in name or not name or member not in members:
                raise FileNotFoundError(
                    f"{img_zip}: holds no {member} (image id {im.get('id')} of {_COCO_ANN_MEMBER})"
                )
            with zf.open(member) as src, open(out / "images" / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    with open(out / COCO_JSON, "w", encoding="utf-8") as f:
        json.dump(coco_out, f, separators=(",", ":"))
    people = sum(int(a.get("num_keypoints", 0) or 0) > 0 for a in anns)
    summary = {"images": len(images), "people": people}
    (out / "README.md").write_text(_coco_card(summary), encoding="utf-8")
    return summary


def _coco_card(summary: dict) -> str:
    return f"""# coco-val2017-person — COCO 2017 validation images with labelled people

{summary["images"]:,} images of the COCO 2017 validation set that hold at least one person with
labelled keypoints ({summary["people"]:,} such people), with their annotations. Made by
`kplearn data download coco-val2017-person`.

- `person_keypoints_val2017.json`: COCO's own file cut to these images; every annotation of a
  kept image is kept (crowd regions and people without keypoints too, as COCO AP needs them).
- `images/FILE_NAME`: the JPEG files, unchanged from `val2017.zip`.

Read it with the spec
`coco:THIS_FOLDER/person_keypoints_val2017.json:THIS_FOLDER/images` (layout `coco17`).

**Source.** cocodataset.org: `annotations/annotations_trainval2017.zip` and `zips/val2017.zip`
(SHA-1 checked). COCO's annotations are under CC BY 4.0; the images are Flickr photographs
under their own licences (see COCO's terms of use and each image's `license` field).
"""


# --- the registry of downloadable datasets ------------------------------------------
def _registered(
    name: str,
    description: str,
    base_url: str,
    prepare: Callable[[Path, Path, bool], dict],
    spec: Callable[[Path], str],
) -> RemoteDataset:
    """A :class:`RemoteDataset` whose manifest is the packaged ``_registry/NAME.csv``.

    Deriving the manifest from the name keeps the two from drifting apart.
    """
    return RemoteDataset(name, description, base_url, _REGISTRY / f"{name}.csv", prepare, spec)


DATASETS: dict[str, RemoteDataset] = {
    dataset.name: dataset
    for dataset in (
        _registered(
            "faces68",
            "4,232 real face crops with 68 landmarks (udacity/P1_Facial_Keypoints; 238 MB to fetch)",
            FACES68_URL, prepare_faces68,
            lambda folder: f"faces68:{folder}",
        ),
        _registered(
            "coco-val2017-person",
            "COCO 2017 validation images with labelled people (241 MB + 778 MB to fetch)",
            COCO_URL, prepare_coco_val2017_person,
            lambda folder: f"coco:{folder / COCO_JSON}:{folder / 'images'}",
        ),
    )
}


def download(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    base_url: str | None = None,
    progress: bool = True,
    manifest: str | os.PathLike | Mapping[str, str] | None = None,
    workers: int = 4,
    timeout: float = 60.0,
    force: bool = False,
) -> Path:
    """Fetch, check and prepare a dataset; return its prepared folder.

    Parameters
    ----------
    name : str
        ``"faces68"`` or ``"coco-val2017-person"`` (see :data:`DATASETS`).
    root : path-like, optional
        Holds everything of this call: raw files in ``root/downloads/NAME/``, the
        prepared dataset in ``root/NAME/``. Default :func:`data_root`
        (``$KPLEARN_DATA``, else ``pooch.os_cache("kplearn")``).
    base_url : str, optional
        Replaces the upstream location: each file is fetched from
        ``base_url + path`` (a mirror; a local server in tests).
    progress : bool
        A byte progress bar while fetching and a bar while preparing, plus a line
        on stderr at the start of a fetch and at the end.
    manifest : path-like or mapping, optional
        Files to fetch instead of the packaged manifest (see :func:`read_manifest`):
        for a mirror that holds a subset, or for tests.
    workers : int
        Files fetched at a time (threads).
    timeout : float
        Seconds to wait for a server before giving up on a file.
    force : bool
        Prepare again even when the prepared folder is already there.

    Returns
    -------
    Path
        ``root/NAME``. When it already holds a complete dataset (and not
        ``force``), nothing is fetched.

    Raises
    ------
    ValueError
        An unknown ``name`` or a malformed manifest.
    HashMismatchError
        A downloaded file has another hash than the manifest's; it was deleted;
        the message names the file and both hashes.
    DownloadError
        A file could not be fetched (no network, refused connection, HTTP error):
        the message names the URL and how to place the files by hand. Files fetched
        so far stay in ``root/downloads/NAME/``; the next call fetches only the rest.
        Also raised, naming the file, when preparing fails.

    Examples
    --------
    >>> download("faces68", "data")  # doctest: +SKIP
    faces68: fetching 4234 of 4234 files (238 MB) from https://raw.githubusercontent.com/...
    PosixPath('data/faces68')
    >>> download("faces70")
    Traceback (most recent call last):
    ...
    ValueError: unknown dataset 'faces70'; choose one of: faces68, coco-val2017-person
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    ds = DATASETS[name]
    base = data_root(root)
    final = base / name
    if (final / _MARKER).is_file() and not force:
        if progress:
            print(
                f"{name}: already prepared in {final} (--force to prepare it again)",
                file=sys.stderr,
            )
        return final
    files = read_manifest(manifest if manifest is not None else ds.manifest)
    manifest_text = (
        str(manifest)
        if isinstance(manifest, str | os.PathLike)
        else ("the manifest passed in" if manifest is not None else str(ds.manifest))
    )
    url = base_url if base_url is not None else ds.base_url
    if not url.endswith("/"):
        url += "/"
    downloads = base / "downloads" / name
    start = time.perf_counter()
    with _quiet_pooch():
        fetched, present = _fetch(
            name,
            files,
            url,
            downloads,
            manifest_text=manifest_text,
            progress=progress,
            workers=workers,
            timeout=timeout,
        )
    with _atomic_folder(final) as tmp:
        try:
            summary = ds.prepare(downloads, tmp, progress)
        except (FileNotFoundError, ValueError) as err:
            raise DownloadError(f"{name}: preparing {final} failed: {err}") from err
        _write_marker(tmp, name, url, {**summary, "files": len(files)})
    if progress:
        print(
            f"{name}: {fetched} files fetched, {present} already there; prepared "
            f"{summary['images']:,} images in {final} ({time.perf_counter() - start:.0f} s); "
            f"read it with the spec {ds.spec(final)}",
            file=sys.stderr,
        )
    return final
