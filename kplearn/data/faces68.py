"""Real face crops with 68 landmarks, in the faces68 folder layout.

The folder holds ``keypoints.csv`` (header ``,0,1,…,135``, then
``name,x0,y0,…,x67,y67`` in pixels of each image) and ``images/NAME``. File
names are ``Person_Name_NN.jpg`` (a trailing ``b`` marks a second frame filed
under the same number), so each face knows its person and data can be held out
by person.

Examples
--------
>>> from kplearn.data.faces68 import person_from_name
>>> person_from_name("Abdullah_Gul_11b.jpg")
'Abdullah_Gul'
>>> from kplearn.data import load_faces68
>>> from kplearn.lessons import sample_path
>>> faces = load_faces68(sample_path("faces68_layout"))  # the 4-face sample in datasets/
>>> len(faces), len(set(faces.groups))
(4, 2)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.formats import PathLike, _read_images, check_file_name, read_faces68_csv

__all__ = ["load_faces68", "person_from_name", "default_faces68_root", "FACES68_ENV"]

#: Environment variable that points at the faces68 folder.
FACES68_ENV = "KPLEARN_FACES68"

_FRAME_SUFFIX = re.compile(r"_\d+b?$")


def person_from_name(name: str) -> str:
    """The person of a faces68 file name: the stem without its trailing ``_NN`` or ``_NNb``.

    Examples
    --------
    >>> person_from_name("Luis_Fonsi_21.jpg"), person_from_name("images/Ann_3b.png")
    ('Luis_Fonsi', 'Ann')
    """
    return _FRAME_SUFFIX.sub("", Path(name).stem)


def default_faces68_root() -> Path | None:
    """``$KPLEARN_FACES68`` if set, else ``None``."""
    env = os.environ.get(FACES68_ENV)
    return Path(env) if env else None


def load_faces68(
    root: PathLike,
    progress: bool = True,
    *,
    n: int | None = None,
    seed: int = 0,
    workers: int | None = None,
) -> KeypointDataset:
    """Load a faces68 folder as a single-instance ``faces68`` dataset.

    Parameters
    ----------
    root : path-like
        Folder with ``keypoints.csv`` and ``images/``.
    progress : bool
        Show a progress bar while the images are read (in threads).
    n : int, optional
        Load only a seeded random subset of ``n`` faces; the same faces, in the
        same order, as ``load_faces68(root).subset(n, seed)``, without reading
        the other images.
    seed : int
        Seed of that subset.
    workers : int, optional
        Threads that decode images (default ``2 × CPUs``, at most 8).

    Returns
    -------
    KeypointDataset
        Named ``"faces68"``, one sample per CSV row in file order: ``image`` RGB
        ``uint8``, ``keypoints`` ``(1, 68, 3)`` with ``v = 2`` everywhere (every
        landmark is labelled), ``boxes`` the tight landmark box, ``name`` the file
        name and ``group`` the person (:func:`person_from_name`).

    Raises
    ------
    FileNotFoundError
        No such folder, or no ``keypoints.csv`` in it.
    KplearnFormatError
        A malformed CSV row (wrong count, NaN, ...) or an image that is missing or
        cannot be decoded; the message names the CSV line and the file.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no faces68 folder (expected keypoints.csv and images/)")
    csv_path = root / "keypoints.csv"
    if not csv_path.is_file():
        raise FileNotFoundError(
            f"{csv_path}: no such file; a faces68 folder holds keypoints.csv and images/"
        )
    names, xy, lines = read_faces68_csv(csv_path, return_lines=True)
    index = np.arange(len(names))
    if n is not None:
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        if n < len(names):
            # The same draw as KeypointDataset.subset, so both give the same faces.
            index = np.sort(np.random.default_rng(seed).permutation(len(names))[:n])
    records = [f"line {lines[i]} (name={names[i]!r})" for i in index]
    for i, rec in zip(index, records, strict=True):  # a file inside images/: not absolute, no '..'
        check_file_name(names[i], csv_path, rec, "name")
    images = _read_images(
        [root / "images" / names[i] for i in index],
        records,
        csv_path,
        progress,
        "reading faces68",
        workers=workers,
    )
    samples = []
    for i, img in zip(index, images, strict=True):
        kp = np.concatenate([xy[i], np.full((68, 1), 2.0)], axis=1)[None]
        samples.append(
            Sample(image=img, keypoints=kp, name=names[i], group=person_from_name(names[i]))
        )
    return KeypointDataset(samples, "faces68", "faces68")
