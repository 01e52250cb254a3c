"""File formats: round trips, hand-checked conversions and malformed input."""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.formats import (
    MPII16,
    KplearnFormatError,
    coco_to_dataset,
    dataset_to_coco,
    dataset_to_mpii,
    mpii_to_dataset,
    read_coco,
    read_faces68_csv,
    read_image,
    read_mpii_json,
    read_pts,
    read_pts_dir,
    write_coco,
    write_faces68_csv,
    write_image,
    write_mpii_json,
    write_pts,
)
from kplearn.skeletons import get_skeleton

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "datasets"
COCO_JSON = SAMPLES / "coco" / "person_keypoints_tiny.json"
MPII_JSON = SAMPLES / "mpii" / "mpii_tiny.json"


def _random_dataset(rng, n=4, layout="coco17", max_people=3):
    sk = get_skeleton(layout)
    samples = []
    for i in range(n):
        w, h = int(rng.integers(20, 40)), int(rng.integers(20, 40))
        m = int(rng.integers(0, max_people + 1))
        kp = np.zeros((m, sk.num_keypoints, 3))
        kp[..., 0] = rng.uniform(-0.5, w - 0.5, (m, sk.num_keypoints))
        kp[..., 1] = rng.uniform(-0.5, h - 0.5, (m, sk.num_keypoints))
        kp[..., 2] = rng.integers(0, 3, (m, sk.num_keypoints))
        kp[..., :2][kp[..., 2] == 0] = 0.0
        boxes = np.column_stack(
            [rng.uniform(0, 5, m), rng.uniform(0, 5, m), rng.uniform(1, 9, (m, 2))]
        )
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        samples.append(
            Sample(
                img,
                kp,
                boxes=boxes,
                areas=rng.uniform(1, 50, m),
                iscrowd=rng.random(m) < 0.3,
                name=f"img_{i}",
            )
        )
    return KeypointDataset(samples, layout, "random")


# --- images -----------------------------------------------------------------------
def test_image_round_trip_is_rgb(tmp_path):
    img = np.zeros((3, 4, 3), np.uint8)
    img[..., 0] = 200  # red in RGB
    img[1, 2] = (1, 2, 3)
    write_image(tmp_path / "a.png", img)
    # Independent check of the channel order: OpenCV reads BGR.
    bgr = cv2.imread(str(tmp_path / "a.png"))
    assert bgr[0, 0].tolist() == [0, 0, 200]
    assert np.array_equal(read_image(tmp_path / "a.png"), img)


def test_unreadable_image_names_file(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(KplearnFormatError, match=r"bad\.png: cannot decode"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(FileNotFoundError, match="missing.png"):
        read_image(tmp_path / "missing.png")


# --- COCO -------------------------------------------------------------------------
def test_coco_file_round_trip(tmp_path):
    data = read_coco(COCO_JSON)
    write_coco(data, tmp_path / "copy.json")
    assert read_coco(tmp_path / "copy.json") == data


def test_coco_to_dataset_matches_json():
    raw = json.loads(COCO_JSON.read_text())
    ds = coco_to_dataset(COCO_JSON, SAMPLES / "coco" / "images", progress=False)
    assert ds.skeleton.name == "coco17"
    assert len(ds) == len(raw["images"])
    for sample, img in zip(ds, raw["images"], strict=True):
        anns = [a for a in raw["annotations"] if a["image_id"] == img["id"]]
        assert sample.name == img["file_name"]
        assert sample.image.shape == (img["height"], img["width"], 3)
        assert sample.num_instances == len(anns)
        for m, a in enumerate(anns):
            # COCO coordinates are used unchanged (no half-pixel shift).
            assert sample.keypoints[m].reshape(-1).tolist() == [float(v) for v in a["keypoints"]]
            assert sample.boxes[m].tolist() == a["bbox"]
            assert sample.areas[m] == a["area"]
            assert bool(sample.iscrowd[m]) == bool(a["iscrowd"])


def test_dataset_coco_round_trip(tmp_path):
    ds = _random_dataset(np.random.default_rng(0), n=5)
    names = [f"{i}.png" for i in range(len(ds))]
    for s, n in zip(ds, names, strict=True):
        write_image(tmp_path / "images" / n, s.image)
    write_coco(dataset_to_coco(ds, names), tmp_path / "ann.json")
    back = coco_to_dataset(tmp_path / "ann.json", tmp_path / "images", progress=False)
    assert back.skeleton.name == "coco17" and len(back) == len(ds)
    for a, b in zip(ds, back, strict=True):
        assert np.array_equal(a.image, b.image)
        assert np.array_equal(a.keypoints, b.keypoints)
        assert np.array_equal(a.boxes, b.boxes)
        assert np.array_equal(a.areas, b.areas)
        assert np.array_equal(a.iscrowd, b.iscrowd)


def test_dataset_to_coco_ids_start_at_one_and_skeleton_is_one_based():
    ds = _random_dataset(np.random.default_rng(1), n=3, max_people=2)
    coco = dataset_to_coco(ds)
    assert min(im["id"] for im in coco["images"]) == 1
    assert all(a["id"] >= 1 for a in coco["annotations"])
    # coco17 edge (15, 13) is left_ankle-left_knee: [16, 14] in the file, as in COCO.
    assert coco["categories"][0]["skeleton"][0] == [16, 14]
    for a in coco["annotations"]:
        v = a["keypoints"][2::3]
        assert a["num_keypoints"] == sum(x > 0 for x in v)


def test_coco_custom_category_builds_layout(tmp_path):
    data = {
        "images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 6}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 3,
                "keypoints": [1, 2, 2, 3, 4, 1, 0, 0, 0],
                "num_keypoints": 2,
                "bbox": [0, 0, 5, 5],
                "area": 25,
                "iscrowd": 0,
            }
        ],
        "categories": [
            {
                "id": 3,
                "name": "gadget",
                "keypoints": ["left_tip", "right_tip", "hub"],
                "skeleton": [[1, 3]],
            }
        ],
    }
    write_image(tmp_path / "a.png", np.zeros((6, 8, 3), np.uint8))
    ds = coco_to_dataset(data, tmp_path, progress=False)
    assert ds.skeleton.keypoint_names == ("left_tip", "right_tip", "hub")
    assert ds.skeleton.edges == ((0, 2),)
    assert ds.skeleton.flip_index.tolist() == [1, 0, 2]
    assert ds[0].keypoints[0].tolist() == [[1, 2, 2], [3, 4, 1], [0, 0, 0]]


# --- faces68 CSV -------------------------------------------------------------------------
def test_faces68_csv_round_trip_exact(tmp_path):
    rng = np.random.default_rng(2)
    kp = rng.uniform(-3, 163, (5, 68, 2))
    names = [f"Some_Person_{i}.jpg" for i in range(5)]
    write_faces68_csv(tmp_path / "k.csv", names, kp)
    names2, kp2 = read_faces68_csv(tmp_path / "k.csv")
    assert names2 == names
    assert np.array_equal(kp2, kp)  # exact: floats are written with repr
    # The header is the one of the faces68 folder.
    assert (tmp_path / "k.csv").read_text().splitlines()[0] == "," + ",".join(map(str, range(136)))


def test_faces68_csv_reads_hand_written_file(tmp_path):
    row = ",".join(str(v) for v in range(136))
    text = (
        "name,"
        + ",".join(f"{a}{j}" for j in range(68) for a in "xy")
        + "\n"
        + "A_1.jpg,"
        + row
        + "\n"
    )
    (tmp_path / "k.csv").write_text(text)
    names, kp = read_faces68_csv(tmp_path / "k.csv")
    assert names == ["A_1.jpg"]
    assert kp[0, 1].tolist() == [2.0, 3.0] and kp[0, 67].tolist() == [134.0, 135.0]


def test_faces68_csv_writer_refuses_unlabelled(tmp_path):
    kp = np.ones((1, 68, 3))
    kp[0, 5, 2] = 0
    with pytest.raises(ValueError, match="keypoint 5 is unlabelled"):
        write_faces68_csv(tmp_path / "k.csv", ["a.jpg"], kp)


# --- .pts ---------------------------------------------------------------------------------
def test_pts_round_trip_and_origin(tmp_path):
    pts = np.random.default_rng(3).uniform(0, 100, (68, 2))
    write_pts(tmp_path / "a.pts", pts)
    assert np.array_equal(read_pts(tmp_path / "a.pts"), pts)
    write_pts(tmp_path / "b.pts", np.array([[0.0, 0.0], [9.5, 3.0]]), origin=1)
    assert "1.0 1.0" in (tmp_path / "b.pts").read_text()  # 1-based on disk
    assert read_pts(tmp_path / "b.pts", origin=1).tolist() == [[0.0, 0.0], [9.5, 3.0]]


def test_pts_reads_ibug_style_text(tmp_path):
    (tmp_path / "x.pts").write_text("version: 1\nn_points:  3\n{\n1 2\n3.5 4\n  5 6  \n}\n")
    assert read_pts(tmp_path / "x.pts").tolist() == [[1, 2], [3.5, 4], [5, 6]]


def test_pts_dir_layout_from_count(tmp_path):
    for i in range(2):
        write_pts(tmp_path / f"f{i}.pts", np.full((5, 2), float(i)))
        write_image(tmp_path / f"f{i}.jpg", np.zeros((10, 10, 3), np.uint8))
    ds = read_pts_dir(tmp_path, progress=False)
    assert ds.skeleton.name == "faces5" and len(ds) == 2
    assert ds[1].keypoints[0, :, :2].tolist() == [[1.0, 1.0]] * 5
    assert np.all(ds[1].keypoints[..., 2] == 2)
    sample = read_pts_dir(SAMPLES / "pts", progress=False)
    assert sample.skeleton.name == "faces68"


# --- MPII ---------------------------------------------------------------------------------
def test_mpii_file_round_trip(tmp_path):
    records = read_mpii_json(MPII_JSON)
    write_mpii_json(records, tmp_path / "m.json")
    assert read_mpii_json(tmp_path / "m.json") == records


def test_mpii_to_dataset_is_zero_based_and_groups_images():
    raw = json.loads(MPII_JSON.read_text())
    ds = mpii_to_dataset(MPII_JSON, SAMPLES / "mpii" / "images", progress=False)
    assert ds.skeleton is MPII16
    assert len(ds) == len({r["image"] for r in raw})
    assert sum(s.num_instances for s in ds) == len(raw)
    first = ds[0]
    for m, r in enumerate([r for r in raw if r["image"] == first.name]):
        for j in range(16):
            if r["joints_vis"][j]:
                # the distributed JSON is 1-based: subtract 1
                assert first.keypoints[m, j].tolist() == [
                    r["joints"][j][0] - 1,
                    r["joints"][j][1] - 1,
                    2,
                ]
            else:
                assert first.keypoints[m, j, 2] == 0


def test_mpii_box_and_head_size_hand_worked(tmp_path):
    write_image(tmp_path / "p.png", np.zeros((100, 100, 3), np.uint8))
    rec = {
        "image": "p.png",
        "center": [51.0, 41.0],
        "scale": 0.4,
        "joints": [[11.0, 21.0]] * 16,
        "joints_vis": [1] * 16,
        "headbox": [[11.0, 21.0], [41.0, 61.0]],
    }
    ds = mpii_to_dataset([rec], tmp_path, progress=False)
    s = ds[0]
    # 0-based centre (50, 40); moved down by 15 * 0.4 = 6 px; side 0.4 * 200 = 80 px.
    assert np.allclose(s.boxes[0], [10.0, 6.0, 80.0, 80.0])
    assert np.isclose(s.areas[0], 6400.0)
    # Head box 30 x 40 -> diagonal 50 -> head size 0.6 * 50 = 30 px.
    assert np.isclose(s.meta["head_sizes"][0], 30.0)
    assert s.meta["headboxes"][0] == [[10.0, 20.0], [40.0, 60.0]]
    assert s.keypoints[0, 0].tolist() == [10.0, 20.0, 2.0]
    back = dataset_to_mpii(ds)
    assert np.allclose(back[0]["joints"], rec["joints"]) and np.allclose(
        back[0]["center"], rec["center"]
    )
    assert back[0]["scale"] == rec["scale"] and np.allclose(back[0]["headbox"], rec["headbox"])


def test_mpii_dataset_round_trip():
    records = read_mpii_json(MPII_JSON)
    ds = mpii_to_dataset(records, SAMPLES / "mpii" / "images", progress=False)
    back = dataset_to_mpii(ds)
    assert len(back) == len(records)
    for a, b in zip(records, back, strict=True):
        assert a["image"] == b["image"] and a["joints_vis"] == b["joints_vis"]
        assert np.allclose(a["joints"], b["joints"], atol=1e-9)
        assert np.allclose(a["center"], b["center"], atol=1e-9) and a["scale"] == b["scale"]


def test_mpii16_flip_pairs_swap_left_and_right():
    names = MPII16.keypoint_names
    for i, j in enumerate(MPII16.flip_index):
        a, b = names[i], names[j]
        assert a == b or {a[:2], b[:2]} == {"r_", "l_"} and a[2:] == b[2:]


# --- malformed input --------------------------------------------------------------------------
def _mutated_json(source: Path, name: str):
    """A maker of malformed files: ``source`` loaded, changed by ``mutate``, written as ``name``."""

    def make(tmp_path: Path, mutate) -> Path:
        data = copy.deepcopy(json.loads(source.read_text()))
        mutate(data)
        path = tmp_path / name
        path.write_text(json.dumps(data))
        return path

    return make


_coco = _mutated_json(COCO_JSON, "bad_coco.json")
_mpii = _mutated_json(MPII_JSON, "bad_mpii.json")


def _set(obj, key, value):
    obj[key] = value


COCO_CASES = [
    # (id, mutation, expected message)
    (
        "missing-annotations",
        lambda d: d.pop("annotations"),
        "missing top-level field 'annotations'",
    ),
    (
        "keypoint-count",
        lambda d: _set(d["annotations"][0], "keypoints", d["annotations"][0]["keypoints"][:-1]),
        "annotation #0 (id=1): keypoints has 50 values, layout coco17 needs 51",
    ),
    (
        "missing-bbox",
        lambda d: d["annotations"][1].pop("bbox"),
        "annotation #1 (id=2): missing field 'bbox'",
    ),
    (
        "nan",
        lambda d: _set(d["annotations"][0]["keypoints"], 3, math.nan),
        "annotation #0 (id=1): keypoints[3] is nan (NaN or infinite)",
    ),
    (
        "infinite",
        lambda d: _set(d["annotations"][2]["keypoints"], 0, math.inf),
        "annotation #2 (id=3): keypoints[0] is inf (NaN or infinite)",
    ),
    (
        "negative-box",
        lambda d: _set(d["annotations"][0], "bbox", [1, 2, -3, 4]),
        "annotation #0 (id=1): bbox [1.0, 2.0, -3.0, 4.0] has a negative width or height",
    ),
    (
        "visibility",
        lambda d: _set(d["annotations"][0]["keypoints"], 2, 3),
        "annotation #0 (id=1): keypoint 0 has visibility 3; must be 0, 1 or 2",
    ),
    (
        "num-keypoints",
        lambda d: _set(d["annotations"][0], "num_keypoints", 17),
        "annotation #0 (id=1): num_keypoints is 17 but 16 keypoints have v > 0",
    ),
    (
        "unknown-image",
        lambda d: _set(d["annotations"][1], "image_id", 99),
        "annotation #1 (id=2): image_id 99 is not an image id",
    ),
    (
        "duplicate-id",
        lambda d: _set(d["annotations"][1], "id", 1),
        "annotation #1 (id=1): duplicate annotation id 1",
    ),
    (
        "image-size",
        lambda d: _set(d["images"][0], "width", 0),
        "image #0 (id=1): width must be a positive integer, got 0",
    ),
    (
        "string-coordinate",
        lambda d: _set(d["annotations"][0]["keypoints"], 1, "12"),
        "annotation #0 (id=1): keypoints[1] is the string '12', not a number",
    ),
    (
        "negative-area",
        lambda d: _set(d["annotations"][0], "area", -1.0),
        "annotation #0 (id=1): area must be a finite number >= 0, got -1.0",
    ),
    (
        "skeleton-range",
        lambda d: d["categories"][0]["skeleton"].append([0, 18]),
        "category #0 (id=1): skeleton edge [0, 18] is not a pair of 1-based keypoint indices 1..17",
    ),
]


def test_coco_not_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(COCO_JSON.read_text()[:-40])
    with pytest.raises(
        KplearnFormatError, match=r"broken\.json: not valid JSON \(line 1, column \d+"
    ):
        read_coco(path)


def test_coco_layout_mismatch_names_layout(tmp_path):
    with pytest.raises(
        KplearnFormatError,
        match=r"category #0 \(id=1\): has 17 keypoint names, layout faces68 has 68",
    ):
        read_coco(COCO_JSON, skeleton="faces68")


def test_coco_missing_image_on_disk(tmp_path):
    shutil.copytree(SAMPLES / "coco", tmp_path / "coco")
    (tmp_path / "coco" / "images" / "000000000002.png").unlink()
    ann = tmp_path / "coco" / "person_keypoints_tiny.json"
    with pytest.raises(
        KplearnFormatError,
        match=re.escape(f"{ann}: image #1 (id=2): image file ") + r".*000000000002\.png' not found",
    ):
        coco_to_dataset(ann, tmp_path / "coco" / "images", progress=False)


def test_coco_image_size_disagrees_with_file(tmp_path):
    path = _coco(tmp_path, lambda d: _set(d["images"][2], "width", 50))
    with pytest.raises(
        KplearnFormatError,
        match=r"image #2 \(id=3\): image file .* is 48x48, the annotation says 50x48",
    ):
        coco_to_dataset(path, SAMPLES / "coco" / "images", progress=False)


def _csv(tmp_path, rows, header=None):
    header = header if header is not None else "," + ",".join(str(j) for j in range(136))
    path = tmp_path / "keypoints.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


_GOOD_ROW = "A_1.jpg," + ",".join(["1.5"] * 136)

CSV_CASES = [
    (
        "short-row",
        [_GOOD_ROW, "B_2.jpg," + ",".join(["1"] * 135)],
        "line 3 (name='B_2.jpg'): has 135 values, layout faces68 needs 136",
    ),
    (
        "nan",
        ["B_2.jpg," + ",".join(["nan"] + ["1"] * 135)],
        "line 2 (name='B_2.jpg'): x0 is nan (NaN or infinite)",
    ),
    (
        "inf",
        ["B_2.jpg," + ",".join(["1"] * 5 + ["-inf"] + ["1"] * 130)],
        "line 2 (name='B_2.jpg'): y2 is -inf (NaN or infinite)",
    ),
    (
        "text",
        ["B_2.jpg," + ",".join(["1"] * 3 + ["abc"] + ["1"] * 132)],
        "line 2 (name='B_2.jpg'): y1 is 'abc', not a number",
    ),
    (
        "empty-value",
        ["B_2.jpg," + ",".join([""] + ["1"] * 135)],
        "line 2 (name='B_2.jpg'): x0 is '', not a number",
    ),
    (
        "duplicate",
        [_GOOD_ROW, _GOOD_ROW],
        "line 3 (name='A_1.jpg'): duplicate name (first on line 2)",
    ),
    ("no-rows", [], "no landmark rows after the header"),
]


def test_faces68_csv_without_header(tmp_path):
    path = _csv(tmp_path, [_GOOD_ROW], header=_GOOD_ROW)
    with pytest.raises(
        KplearnFormatError, match=re.escape(f"{path}: line 1: expected a header row")
    ):
        read_faces68_csv(path)


def _pts(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.pts"
    path.write_text(text)
    return path


PTS_CASES = [
    (
        "count",
        "version: 1\nn_points: 3\n{\n1 2\n3 4\n}\n",
        "n_points says 3 but the file lists 2 points",
    ),
    ("no-close", "version: 1\nn_points: 2\n{\n1 2\n3 4\n", "missing closing '}'"),
    (
        "nan",
        "version: 1\nn_points: 2\n{\n1 2\nnan 4\n}\n",
        "line 5 (point 1): coordinate is NaN or infinite",
    ),
    (
        "text",
        "version: 1\nn_points: 2\n{\n1 2\n3 x\n}\n",
        "line 5 (point 1): expected two numbers, got '3 x'",
    ),
    ("no-count", "version: 1\n{\n1 2\n}\n", "missing header field 'n_points'"),
]


def test_pts_dir_missing_image(tmp_path):
    write_pts(tmp_path / "lonely.pts", np.zeros((68, 2)))
    with pytest.raises(
        KplearnFormatError, match=r"lonely\.pts: no image lonely\.png/\.jpg beside it"
    ):
        read_pts_dir(tmp_path, progress=False)


MPII_CASES = [
    (
        "joint-count",
        lambda r: _set(r[1], "joints", r[1]["joints"][:15]),
        "record #1 (image='000000001.png'): joints has 15 rows, layout mpii16 needs 16",
    ),
    (
        "vis-count",
        lambda r: _set(r[2], "joints_vis", r[2]["joints_vis"][:15]),
        "record #2 (image='000000002.png'): joints_vis has 15 values, layout mpii16 needs 16",
    ),
    (
        "negative-scale",
        lambda r: _set(r[0], "scale", -0.5),
        "record #0 (image='000000001.png'): scale is -0.5; the person box size must be positive",
    ),
    (
        "missing-center",
        lambda r: r[0].pop("center"),
        "record #0 (image='000000001.png'): missing field 'center'",
    ),
    (
        "nan-joint",
        lambda r: _set(r[0]["joints"][4], 1, math.nan),
        "record #0 (image='000000001.png'): joints[4][1] is nan (NaN or infinite)",
    ),
    (
        "visibility",
        lambda r: _set(r[0]["joints_vis"], 3, 2),
        "record #0 (image='000000001.png'): joints_vis[3] is 2; must be 0 or 1",
    ),
    (
        "negative-headbox",
        lambda r: _set(r[0], "headbox", [[10, 10], [5, 20]]),
        "record #0 (image='000000001.png'): headbox [[10, 10], [5, 20]] has a negative width or height",
    ),
    (
        "missing-image",
        lambda r: r.__setitem__(slice(None), [{"a": 1}]),
        "record #0 (image=None): missing field 'image'",
    ),
]


# One test for every reader's table: (format, file maker, reader, cases of (id, change, message)).
MALFORMED = [
    ("coco", _coco, read_coco, COCO_CASES),
    ("faces68_csv", _csv, read_faces68_csv, CSV_CASES),
    ("pts", _pts, read_pts, PTS_CASES),
    ("mpii", _mpii, read_mpii_json, MPII_CASES),
]


@pytest.mark.parametrize(
    "make, read, change, message",
    [
        pytest.param(make, read, change, message, id=f"{fmt}-{name}")
        for fmt, make, read, cases in MALFORMED
        for name, change, message in cases
    ],
)
def test_malformed_names_file_and_place(tmp_path, make, read, change, message):
    """Each malformed file raises a ``KplearnFormatError`` starting with its path, then the place."""
    path = make(tmp_path, change)
    with pytest.raises(KplearnFormatError, match=re.escape(f"{path}: {message}")):
        read(path)


def test_mpii_top_level_must_be_list(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"image": "a.png"}))
    with pytest.raises(
        KplearnFormatError, match="top level must be a list of person records, got dict"
    ):
        read_mpii_json(path)


def test_mpii_missing_image_on_disk(tmp_path):
    with pytest.raises(
        KplearnFormatError, match=r"record #0 \(image='000000001.png'\): image file .* not found"
    ):
        mpii_to_dataset(MPII_JSON, tmp_path, progress=False)


def test_format_error_is_value_error_with_parts():
    err = KplearnFormatError("a.json", "keypoints has 50 values", "annotation #3 (id=9)")
    assert isinstance(err, ValueError)
    assert str(err) == "a.json: annotation #3 (id=9): keypoints has 50 values"
    assert (err.path, err.record, err.problem) == (
        "a.json",
        "annotation #3 (id=9)",
        "keypoints has 50 values",
    )


def test_missing_image_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such image folder"):
        coco_to_dataset(COCO_JSON, tmp_path / "nope", progress=False)
    with pytest.raises(FileNotFoundError, match="no such image folder"):
        mpii_to_dataset(MPII_JSON, tmp_path / "nope", progress=False)
