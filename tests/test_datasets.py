import numpy as np
import pytest

from kplearn.data.datasets import KeypointDataset, Sample, boxes_from_keypoints, validate_keypoints


def _dataset(n=20, groups=5):
    kp = np.zeros((1, 5, 3))
    kp[..., 2] = 2
    return KeypointDataset(
        [
            Sample(np.zeros((4, 4, 3), np.uint8), kp, name=f"s{i}", group=f"p{i % groups}")
            for i in range(n)
        ],
        "faces5",
    )


def test_split_by_group_never_shares_a_group_and_is_seeded():
    ds = _dataset(40, groups=10)
    train, val = ds.split(0.2, seed=3)
    assert len(train) + len(val) == 40
    assert not set(train.groups) & set(val.groups)
    assert len(val) >= 8  # at least the fraction requested
    train2, val2 = ds.split(0.2, seed=3)
    assert [s.name for s in val2] == [s.name for s in val]
    _, val3 = ds.split(0.2, seed=4)
    assert {s.name for s in val3} != {s.name for s in val} or len(set(ds.groups)) < 3


def test_split_by_image_and_subset():
    ds = _dataset(10)
    train, val = ds.split(0.3, seed=0, by_group=False)
    assert (len(train), len(val)) == (7, 3)
    assert len(ds.subset(4, seed=1)) == 4 and len(ds.subset(99)) == 10
    with pytest.raises(ValueError, match="fraction"):
        ds.split(1.5)


def test_indexing_and_arrays():
    ds = _dataset(6)
    assert isinstance(ds[0], Sample)
    assert len(ds[1:4]) == 3 and len(ds[np.array([0, 5])]) == 2
    assert ds.keypoints_array().shape == (6, 5, 3)
    assert ds.images_array().shape == (6, 4, 4, 3)


def test_validation_errors_name_the_problem():
    kp = np.zeros((1, 5, 3))
    kp[0, 2] = (np.nan, 1, 2)
    with pytest.raises(ValueError, match="instance 0, keypoint 2 is labelled but has a NaN"):
        validate_keypoints(kp, 5, "faces5 sample")
    kp[0, 2] = (1, 1, 3)
    with pytest.raises(ValueError, match="visibility must be 0, 1 or 2"):
        validate_keypoints(kp, 5)
    with pytest.raises(ValueError, match=r"expected shape \(M, 5, 3\)"):
        validate_keypoints(np.zeros((2, 4, 3)), 5)
    with pytest.raises(ValueError, match="image must be uint8"):
        Sample(np.zeros((4, 4, 3), np.float32), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="negative width"):
        Sample(np.zeros((4, 4), np.uint8), np.zeros((5, 3)), boxes=[0, 0, -1, 2])
    with pytest.raises(ValueError, match="layout 'faces68' has 68"):
        KeypointDataset([Sample(np.zeros((4, 4), np.uint8), np.zeros((5, 3)))], "faces68")


def test_unlabelled_coordinates_are_cleared_and_boxes_use_labelled_points():
    kp = np.array([[[1.0, 2.0, 2], [np.nan, 5.0, 0], [4.0, 9.0, 1]]])
    out = validate_keypoints(kp, 3)
    assert out[0, 1, 0] == 0.0
    np.testing.assert_allclose(boxes_from_keypoints(out), [[1, 2, 3, 7]])
