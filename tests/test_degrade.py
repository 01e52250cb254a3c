"""Degraded copies of a dataset (kplearn.data.degrade)."""

import numpy as np
import pytest

from kplearn.data.degrade import DEGRADATIONS, degrade
from kplearn.data.synthetic import make_faces, make_people_scenes


@pytest.fixture(scope="module")
def faces():
    return make_faces(4, image_size=64, seed=0)


def test_degrade_level_zero_is_identity(faces):
    for kind in DEGRADATIONS:
        out = degrade(faces, kind, 0.0)
        for a, b in zip(faces, out, strict=True):
            assert np.array_equal(a.image, b.image)
            assert np.array_equal(a.keypoints, b.keypoints)
            assert a.group == b.group


def test_degrade_rotation_moves_points_with_the_image(faces):
    out = degrade(faces, "rotation", 90.0)
    x, y = faces[0].keypoints[0, :, 0], faces[0].keypoints[0, :, 1]
    # 90 degrees counter-clockwise on screen about the centre (31.5, 31.5): (x, y) -> (y, 63 - x).
    np.testing.assert_allclose(out[0].keypoints[0, :, 0], y, atol=1e-9)
    np.testing.assert_allclose(out[0].keypoints[0, :, 1], 63 - x, atol=1e-9)
    # An exact quarter turn of the pixel grid: the image is np.rot90 of the original.
    np.testing.assert_array_equal(out[0].image, np.rot90(faces[0].image))


def test_degrade_occlusion_paints_one_square_and_hides_points(faces):
    out = degrade(faces, "occlusion", 0.4, seed=3)
    for a, b in zip(faces, out, strict=True):
        changed = np.any(a.image != b.image, axis=-1)
        rows, cols = np.nonzero(changed)
        assert len(rows) > 0
        # Everything changed lies in one square of side 0.4 * the larger box side (+ 1 px rounding).
        side = 0.4 * a.boxes[0, 2:].max()
        assert rows.max() - rows.min() <= side + 1 and cols.max() - cols.min() <= side + 1
        hidden = (a.keypoints[0, :, 2] == 2) & (b.keypoints[0, :, 2] == 1)
        assert hidden.any()  # the square is centred on a keypoint
        np.testing.assert_array_equal(a.keypoints[0, :, :2], b.keypoints[0, :, :2])


def test_degrade_blur_and_noise_keep_keypoints(faces):
    for kind, level in (("blur", 2.0), ("noise", 10.0)):
        out = degrade(faces, kind, level, seed=1)
        assert not np.array_equal(out[0].image, faces[0].image)
        np.testing.assert_array_equal(out[0].keypoints, faces[0].keypoints)
    blurred = degrade(faces, "blur", 2.0)[0].image.astype(float)
    # Blur lowers the image's total variation.
    tv = lambda im: np.abs(np.diff(im, axis=0)).sum() + np.abs(np.diff(im, axis=1)).sum()  # noqa: E731
    assert tv(blurred) < tv(faces[0].image.astype(float))


def test_degrade_rejects_bad_input(faces):
    with pytest.raises(ValueError, match="unknown degradation"):
        degrade(faces, "fog", 1.0)
    with pytest.raises(ValueError, match="level"):
        degrade(faces, "blur", -1.0)
    scenes = make_people_scenes(2, image_size=64, seed=0, min_people=2, max_people=2)
    with pytest.raises(ValueError, match="one instance"):
        degrade(scenes, "blur", 1.0)
