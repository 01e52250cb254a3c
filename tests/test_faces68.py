"""The faces68 folder loader: on the sample folder, on broken copies, and on the real faces."""

from __future__ import annotations

import csv
import re
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kplearn.data import load_faces68
from kplearn.data.faces68 import person_from_name
from kplearn.data.formats import KplearnFormatError

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "faces68_layout"


@pytest.mark.parametrize(
    "name, person",
    [
        ("Abdullah_Gul_11b.jpg", "Abdullah_Gul"),
        ("Luis_Fonsi_21.jpg", "Luis_Fonsi"),
        ("Ann_3.png", "Ann"),
        ("images/Jo_Doe_07b.jpg", "Jo_Doe"),
        ("Plain.jpg", "Plain"),  # no frame number: the whole stem
        ("Agent_007_Smith_2.jpg", "Agent_007_Smith"),  # only the trailing number goes
    ],
)
def test_person_from_name(name, person):
    assert person_from_name(name) == person


def test_sample_folder_loads_with_persons_and_tight_boxes():
    ds = load_faces68(SAMPLE, progress=False)
    with open(SAMPLE / "keypoints.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    assert ds.name == "faces68" and ds.skeleton.name == "faces68"
    assert len(ds) == len(rows) == 4
    assert ds.groups == ["Ada_Example", "Ada_Example", "Ben_Sample", "Ben_Sample"]
    for s, row in zip(ds, rows, strict=True):
        xy = np.array([float(v) for v in row[1:]]).reshape(68, 2)
        assert s.name == row[0]
        assert s.keypoints.shape == (1, 68, 3)
        assert np.array_equal(s.keypoints[0, :, :2], xy)
        assert np.all(s.keypoints[0, :, 2] == 2)
        lo, hi = xy.min(0), xy.max(0)
        assert np.allclose(s.boxes[0], [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])
        assert s.image.dtype == np.uint8 and s.image.shape == (64, 64, 3)
    # RGB, not BGR: the drawn skin colour (222, 184, 150) is reddest in channel 0.
    centre = ds[0].image[28:36, 28:36].reshape(-1, 3).astype(int)
    assert np.median(centre[:, 0]) > np.median(centre[:, 2])


def test_subset_loading_matches_dataset_subset():
    full = load_faces68(SAMPLE, progress=False)
    part = load_faces68(SAMPLE, progress=False, n=2, seed=5)
    assert [s.name for s in part] == [s.name for s in full.subset(2, seed=5)]


def test_missing_folder_and_csv(tmp_path):
    with pytest.raises(FileNotFoundError, match="no faces68 folder"):
        load_faces68(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"keypoints\.csv: no such file"):
        load_faces68(tmp_path)


def test_missing_image_names_line_and_file(tmp_path):
    shutil.copytree(SAMPLE, tmp_path / "f")
    (tmp_path / "f" / "images" / "Ben_Sample_01.jpg").unlink()
    csv_path = tmp_path / "f" / "keypoints.csv"
    with pytest.raises(
        KplearnFormatError,
        match=re.escape(f"{csv_path}: line 4 (name='Ben_Sample_01.jpg'): image file ")
        + r".*Ben_Sample_01\.jpg' not found",
    ):
        load_faces68(tmp_path / "f", progress=False)


def test_bad_row_names_line(tmp_path):
    shutil.copytree(SAMPLE, tmp_path / "f")
    csv_path = tmp_path / "f" / "keypoints.csv"
    lines = csv_path.read_text().splitlines()
    fields = lines[2].split(",")
    fields[9] = "nan"  # value 8 = x4 (field 0 is the name)
    lines[2] = ",".join(fields)
    csv_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        KplearnFormatError, match=r"line 3 \(name='Ada_Example_02\.jpg'\): x4 is nan"
    ):
        load_faces68(tmp_path / "f", progress=False)


# --- the real faces (skipped when ../shared/data/faces68 is absent) --------------------------
@pytest.fixture(scope="module")
def real_faces(faces68_root):
    start = time.perf_counter()
    ds = load_faces68(faces68_root, progress=False)
    return ds, time.perf_counter() - start


@pytest.mark.realdata
def test_real_faces_all_load(real_faces, faces68_root):
    ds, seconds = real_faces
    assert len(ds) == 3601
    assert len(set(ds.groups)) == 295
    assert ds.images_array().shape == (3601, 160, 160, 3)
    kp = ds.keypoints_array()
    assert kp.shape == (3601, 68, 3) and np.all(kp[..., 2] == 2)
    # First and last rows against an independent parse of the CSV.
    with open(Path(faces68_root) / "keypoints.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    for i in (0, len(rows) - 1):
        assert ds[i].name == rows[i][0]
        assert np.array_equal(kp[i, :, :2].reshape(-1), np.array(rows[i][1:], dtype=float))
    print(f"loaded 3601 faces in {seconds:.1f} s")


@pytest.mark.realdata
def test_real_faces_split_by_person(real_faces):
    ds, _ = real_faces
    train, held = ds.split(0.1, seed=0)
    assert len(train) + len(held) == len(ds)
    assert not set(train.groups) & set(held.groups)
    assert 0.05 < len(held) / len(ds) < 0.2


@pytest.mark.realdata
def test_real_faces_draw_back(real_faces):
    """Draw every landmark of every face onto its image and find each dot where it belongs."""
    ds, _ = real_faces
    marker = (255, 0, 255)
    inside = drawn = 0
    for s in ds:
        canvas = s.image.copy()
        xy = s.keypoints[0, :, :2]
        px = np.round(xy).astype(int)
        ok = (px[:, 0] >= 0) & (px[:, 0] < 160) & (px[:, 1] >= 0) & (px[:, 1] < 160)
        for x, y in px[ok]:
            cv2.circle(canvas, (int(x), int(y)), 1, marker, -1)
        hit = np.all(canvas[px[ok, 1], px[ok, 0]] == marker, axis=1)
        inside += int(ok.sum())
        drawn += int(hit.sum())
        # the face is on the image: most landmarks fall inside the crop
        assert ok.mean() > 0.9, s.name
    assert drawn == inside
    assert inside > 0.99 * 3601 * 68
