"""Data spec strings: parsing, loading every kind, subsets, resizing and stats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kplearn.data import load_data
from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.specs import dataset_stats, parse_spec, resize_dataset

SAMPLES = Path(__file__).resolve().parents[1] / "datasets"
COCO_SPEC = f"coco:{SAMPLES}/coco/person_keypoints_tiny.json:{SAMPLES}/coco/images"
MPII_SPEC = f"mpii:{SAMPLES}/mpii/mpii_tiny.json:{SAMPLES}/mpii/images"


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("synthetic-faces", ("synthetic-faces", {})),
        ("synthetic-people-scenes", ("synthetic-people-scenes", {})),
        ("faces68:/data/faces68", ("faces68", {"root": "/data/faces68"})),
        ("faces68", ("faces68", {})),
        ("coco:a/b.json:imgs", ("coco", {"annotations": "a/b.json", "image_dir": "imgs"})),
        # colons inside the paths (Windows drives) survive: the split is at ".json:"
        (
            r"mpii:C:\d\m.JSON:D:\img",
            ("mpii", {"annotations": r"C:\d\m.JSON", "image_dir": r"D:\img"}),
        ),
        ("pts:some/dir", ("pts", {"dir": "some/dir"})),
    ],
)
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "empty data spec"),
        ("imagenet", "unknown data spec 'imagenet'; use one of: synthetic-faces"),
        ("coco:ann.json", "coco needs coco:ANNOTATIONS.json:IMAGE_DIR"),
        ("coco:ann.json:", "coco needs an image folder after ann.json:"),
        ("mpii:ann.txt:imgs", "mpii needs mpii:ANNOTATIONS.json:IMAGE_DIR"),
        ("pts:", "pts needs a folder"),
        ("synthetic-faces:12", "synthetic-faces takes no arguments"),
    ],
)
def test_parse_spec_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(spec)


def test_load_every_file_kind():
    coco = load_data(COCO_SPEC, progress=False)
    mpii = load_data(MPII_SPEC, progress=False)
    faces = load_data(f"faces68:{SAMPLES}/faces68_layout", progress=False)
    pts = load_data(f"pts:{SAMPLES}/pts", progress=False)
    assert (coco.skeleton.name, len(coco)) == ("coco17", 3)
    assert (mpii.skeleton.name, len(mpii)) == ("mpii16", 2)
    assert (faces.skeleton.name, len(faces)) == ("faces68", 4)
    assert (pts.skeleton.name, len(pts)) == ("faces68", 2)


def test_faces68_without_path_uses_environment(monkeypatch):
    monkeypatch.setenv("KPLEARN_FACES68", str(SAMPLES / "faces68_layout"))
    assert len(load_data("faces68", progress=False)) == 4
    monkeypatch.delenv("KPLEARN_FACES68")
    with pytest.raises(ValueError, match="set \\$KPLEARN_FACES68"):
        load_data("faces68", progress=False)


def test_subset_is_seeded():
    a = load_data(f"faces68:{SAMPLES}/faces68_layout", n=2, seed=3, progress=False)
    b = load_data(f"faces68:{SAMPLES}/faces68_layout", n=2, seed=3, progress=False)
    assert len(a) == 2 and [s.name for s in a] == [s.name for s in b]
    assert len(load_data(COCO_SPEC, n=2, seed=0, progress=False)) == 2
    with pytest.raises(ValueError, match="n must be positive"):
        load_data(COCO_SPEC, n=0, progress=False)


def test_resize_follows_pixel_centre_convention():
    kp = np.array([[[10.0, 20.0, 2.0], [-0.5, -0.5, 1.0], [5.0, 5.0, 0.0]]])
    img = np.zeros((40, 64, 3), np.uint8)
    ds = KeypointDataset([Sample(img, np.tile(kp, (1, 5, 1))[:, :5], name="a")], "faces5")
    out = resize_dataset(ds, (32, 20))
    s = out[0]
    assert s.image.shape == (20, 32, 3)
    # x' = (x + 0.5) * 0.5 - 0.5: 10 -> 4.75, 20 -> 9.75; the image corner -0.5 stays at -0.5.
    assert s.keypoints[0, 0].tolist() == [4.75, 9.75, 2.0]
    assert s.keypoints[0, 1].tolist() == [-0.5, -0.5, 1.0]
    assert s.keypoints[0, 2].tolist() == [0.0, 0.0, 0.0]  # unlabelled stays unused
    assert np.allclose(s.areas, ds[0].areas * 0.25)
    assert s.meta["resized_from"] == (64, 40)


def test_load_with_image_size_resizes_files():
    ds = load_data(f"faces68:{SAMPLES}/faces68_layout", image_size=32, progress=False)
    assert ds[0].image.shape == (32, 32, 3)


def test_dataset_stats_hand_counted():
    kp1 = np.zeros((2, 5, 3))
    kp1[0, :, 2] = [2, 2, 1, 0, 0]  # 3 labelled, 2 visible
    kp1[1, :, 2] = [1, 1, 1, 1, 1]  # 5 labelled, 0 visible
    kp2 = np.zeros((0, 5, 3))
    ds = KeypointDataset(
        [
            Sample(np.zeros((10, 20, 3), np.uint8), kp1, iscrowd=[False, True], group="p"),
            Sample(np.zeros((30, 5), np.uint8), kp2, group="q"),
        ],
        "faces5",
    )
    st = dataset_stats(ds)
    assert (st["images"], st["instances"], st["crowd_instances"]) == (2, 2, 1)
    assert st["images_without_instances"] == 1
    assert (st["labelled_keypoints"], st["visible_keypoints"]) == (8, 2)
    assert st["groups"] == 2
    assert st["image_size"] == {"min": [5, 10], "max": [20, 30]}
    per = st["layouts"]["faces5"]["per_keypoint"]
    assert per["right_eye"] == {"labelled": 2, "visible": 1}
    assert per["right_mouth_corner"] == {"labelled": 1, "visible": 0}


@pytest.mark.parametrize(
    "spec, layout",
    [
        ("synthetic-faces", "faces68"),
        ("synthetic-people", "coco17"),
        ("synthetic-people-scenes", "coco17"),
    ],
)
def test_synthetic_specs(spec, layout):
    a = load_data(spec, n=3, seed=4, image_size=64, progress=False)
    b = load_data(spec, n=3, seed=4, image_size=64, progress=False)
    assert len(a) == 3 and a.skeleton.name == layout
    assert a[0].image.shape[:2] == (64, 64)
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert all(np.array_equal(x.keypoints, y.keypoints) for x, y in zip(a, b, strict=True))


def test_synthetic_shapes_spec():
    ds = load_data("synthetic-shapes", n=3, seed=0, image_size=48, progress=False)
    assert len(ds) == 3 and ds[0].image.shape[:2] == (48, 48)
