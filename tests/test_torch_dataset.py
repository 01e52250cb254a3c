"""Tests for kplearn.data.torch_dataset.TopDownDataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.torch_dataset import TopDownDataset
from kplearn.data.transforms import (
    AugmentConfig,
    apply_affine,
    from_tensor,
    invert_matrix,
    is_mirrored,
    warp_image,
)
from kplearn.skeletons import get_skeleton

torch.set_num_threads(1)


def faces(n=6, size=(40, 48), seed=0, grey_every=3) -> KeypointDataset:
    """Single-instance faces5 samples with random images and keypoints inside."""
    rng = np.random.default_rng(seed)
    w, h = size
    samples = []
    for i in range(n):
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        if grey_every and i % grey_every == 0:
            img = img[..., 0].copy()
        kp = np.column_stack(
            [rng.uniform(4, w - 5, 5), rng.uniform(4, h - 5, 5), rng.choice([1, 2], 5)]
        )
        kp[i % 5, 2] = 0
        kp[i % 5, :2] = 0
        samples.append(Sample(img, kp[None], name=f"face{i}", group=f"p{i % 2}"))
    return KeypointDataset(samples, "faces5", "toy faces")


def scenes(seed=1) -> KeypointDataset:
    """Multi-person coco17 scenes with annotated boxes, one unlabelled instance."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(3):
        img = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
        m = 2 + i % 2
        kp = np.zeros((m, 17, 3))
        boxes = np.zeros((m, 4))
        for j in range(m):
            x0, y0 = rng.uniform(0, 50), rng.uniform(0, 30)
            bw, bh = rng.uniform(10, 25), rng.uniform(15, 28)
            boxes[j] = (x0, y0, bw, bh)
            kp[j, :, 0] = rng.uniform(x0, x0 + bw, 17)
            kp[j, :, 1] = rng.uniform(y0, y0 + bh, 17)
            kp[j, :, 2] = rng.choice([0, 1, 2], 17)
        if i == 1:
            kp[0, :, 2] = 0  # an instance without labelled keypoints
        kp[kp[..., 2] == 0, :2] = 0
        samples.append(Sample(img, kp, boxes=boxes, name=f"scene{i}"))
    return KeypointDataset(samples, "coco17", "toy scenes")


def test_item_shapes_dtypes_and_default_collate():
    ds = TopDownDataset(faces(), input_size=(24, 32))
    assert len(ds) == 6
    item = ds[0]
    assert set(item) >= {"image", "keypoints", "matrix", "index", "instance", "box"}
    assert item["image"].shape == (3, 32, 24) and item["image"].dtype == torch.float32
    assert item["keypoints"].shape == (5, 3) and item["keypoints"].dtype == torch.float32
    assert item["matrix"].shape == (2, 3) and item["matrix"].dtype == torch.float32
    assert item["index"] == 0 and item["instance"] == 0
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 3, 32, 24)
    assert batch["keypoints"].shape == (4, 5, 3)
    assert batch["matrix"].shape == (4, 2, 3)
    assert batch["index"].tolist() == [0, 1, 2, 3]
    aug = TopDownDataset(faces(), input_size=16, augment=True)
    assert next(iter(DataLoader(aug, batch_size=3)))["image"].shape == (3, 3, 16, 16)


@pytest.mark.parametrize("box", ["image", "keypoints"])
def test_keypoints_map_back_to_the_original(box):
    data = faces()
    ds = TopDownDataset(data, input_size=(24, 32), box=box)
    for i in range(len(ds)):
        item = ds[i]
        kp = item["keypoints"].numpy().astype(np.float64)
        orig = data[item["index"]].keypoints[item["instance"]]
        back = apply_affine(kp[:, :2], invert_matrix(item["matrix"].numpy()))
        lab = orig[:, 2] > 0
        np.testing.assert_allclose(back[lab], orig[lab, :2], atol=1e-4)
        np.testing.assert_array_equal(kp[:, 2], orig[:, 2])  # nothing left these crops
        np.testing.assert_allclose(ds.original_keypoints(i), orig)


def test_whole_image_crop_content_matches_the_image():
    data = faces(grey_every=2)
    ds = TopDownDataset(data, input_size=(40, 48))  # the image size: the crop is the image
    for i in (0, 1):
        shown = from_tensor(ds[i]["image"])
        img = data[i].image
        expected = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img
        np.testing.assert_array_equal(shown, expected)
        np.testing.assert_allclose(ds[i]["matrix"].numpy(), [[1, 0, 0], [0, 1, 0]], atol=1e-6)


def test_multi_instance_items_use_boxes_and_skip_unlabelled_instances():
    data = scenes()
    ds = TopDownDataset(data, input_size=(32, 32))
    assert ds.box_mode == "box"
    n_instances = sum(s.num_instances for s in data)
    assert len(ds) == n_instances - 1 and ds.skipped == 1
    assert (1, 0) not in ds.items
    for i in range(len(ds)):
        item = ds[i]
        sample = data[item["index"]]
        orig = sample.keypoints[item["instance"]]
        np.testing.assert_allclose(item["box"].numpy(), sample.boxes[item["instance"]], rtol=1e-6)
        kp = item["keypoints"].numpy().astype(np.float64)
        back = apply_affine(kp[:, :2], invert_matrix(item["matrix"].numpy()))
        lab = orig[:, 2] > 0
        np.testing.assert_allclose(back[lab], orig[lab, :2], atol=1e-4)
        # the box centre is the crop centre
        centre = sample.boxes[item["instance"], :2] + sample.boxes[item["instance"], 2:] / 2
        np.testing.assert_allclose(
            apply_affine(centre, item["matrix"].numpy()), [15.5, 15.5], atol=1e-4
        )
    first = TopDownDataset(data, input_size=(32, 32), instance="first")
    assert len(first) == len(data)
    assert first.items[1] == (1, 1)  # the first instance with a labelled keypoint


def test_points_outside_the_crop_are_unlabelled():
    img = np.zeros((50, 50, 3), np.uint8)
    kp = np.array([[10, 10, 2], [14, 14, 2], [12, 12, 1], [45, 45, 2], [11, 13, 2]], float)
    data = KeypointDataset([Sample(img, kp[None], boxes=[[9, 9, 6, 6]])] * 2, "faces5")
    ds = TopDownDataset(data, input_size=16, box="box", padding=1.0)
    assert ds.box_mode == "box"
    assert ds[0]["keypoints"][:, 2].tolist() == [2, 2, 1, 0, 2]


def test_augmentation_is_deterministic_by_seed_epoch_and_index():
    data = faces()
    a = TopDownDataset(data, input_size=24, augment=True, seed=3)
    b = TopDownDataset(data, input_size=24, augment=True, seed=3)
    c = TopDownDataset(data, input_size=24, augment=True, seed=4)
    b_items = {i: b[i] for i in reversed(range(len(b)))}  # a different order
    for i in range(len(a)):
        for key in ("image", "keypoints", "matrix"):
            assert torch.equal(a[i][key], b_items[i][key])
    assert not torch.equal(a[2]["image"], c[2]["image"])
    before = a[2]["image"]
    a.set_epoch(1)
    assert not torch.equal(a[2]["image"], before)
    a.set_epoch(0)
    assert torch.equal(a[2]["image"], before)


def test_augmented_keypoints_still_map_back_with_left_right_swap():
    data = faces(n=10)
    sk = get_skeleton("faces5")
    cfg = AugmentConfig(rotation=30, scale=(0.8, 1.2), flip_prob=0.5, occlusion_prob=0.0)
    ds = TopDownDataset(data, input_size=32, augment=cfg, seed=0)
    n_flipped = 0
    for i in range(len(ds)):
        item = ds[i]
        m = item["matrix"].numpy().astype(np.float64)
        orig = data[item["index"]].keypoints[0]
        kp = item["keypoints"].numpy().astype(np.float64)
        flipped = is_mirrored(m)
        n_flipped += flipped
        source = sk.flip_index if flipped else np.arange(5)
        back = apply_affine(kp[:, :2], invert_matrix(m))
        lab = kp[:, 2] > 0
        np.testing.assert_allclose(back[lab], orig[source][lab, :2], atol=1e-3)
        assert np.all(orig[source][lab, 2] > 0)  # only labelled points stay labelled
    assert 0 < n_flipped < len(ds)


def test_bad_arguments():
    with pytest.raises(TypeError, match="KeypointDataset"):
        TopDownDataset([1, 2, 3])
    with pytest.raises(ValueError, match="instance"):
        TopDownDataset(faces(), instance="some")
    with pytest.raises(ValueError, match="box"):
        TopDownDataset(faces(), box="head")
    with pytest.raises(ValueError, match="input_size"):
        TopDownDataset(faces(), input_size=(0, 8))
    with pytest.raises(TypeError, match="augment"):
        TopDownDataset(faces(), augment="yes")
    one_point = np.zeros((1, 5, 3))
    one_point[0, 0] = (5, 5, 2)
    degenerate = KeypointDataset(
        [Sample(np.zeros((9, 9), np.uint8), one_point, name="dot")], "faces5"
    )
    with pytest.raises(ValueError, match="'dot'.*degenerate"):
        TopDownDataset(degenerate, box="keypoints")
    with pytest.raises(IndexError):
        TopDownDataset(faces(n=2))[2]


def test_with_synthetic_faces_if_available():
    synthetic = pytest.importorskip("kplearn.data.synthetic")
    if not hasattr(synthetic, "make_faces"):
        pytest.skip("kplearn.data.synthetic.make_faces is not available yet")
    data = synthetic.make_faces(n=4, image_size=48, seed=0)
    ds = TopDownDataset(data, input_size=32, augment=True)
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 3, 32, 32)
    assert batch["keypoints"].shape == (4, 68, 3)
    plain = TopDownDataset(data, input_size=32)[0]
    orig = data[0].keypoints[0]
    back = apply_affine(
        plain["keypoints"].numpy()[:, :2].astype(float), invert_matrix(plain["matrix"].numpy())
    )
    lab = orig[:, 2] > 0
    np.testing.assert_allclose(back[lab], orig[lab, :2], atol=1e-4)
    # the crop is the warp of the image by the returned matrix (to one grey level: the returned
    # matrix is rounded to float32, which can tip an interpolated value across a rounding edge)
    img = data[0].image
    rgb = np.repeat(img[..., None], 3, 2) if img.ndim == 2 else img
    expected = warp_image(rgb, plain["matrix"].numpy().astype(float), 32).astype(int)
    assert np.abs(from_tensor(plain["image"]).astype(int) - expected).max() <= 1
