"""Face alignment onto canonical eye / nose / mouth positions (kplearn.alignment)."""

import numpy as np
import pytest

from kplearn.alignment import align_face, canonical_faces5
from kplearn.data.synthetic import make_faces
from kplearn.skeletons import faces68_to_faces5


def test_canonical_faces5_is_symmetric_and_level():
    p = canonical_faces5((100, 100))
    assert abs(p[0, 1] - p[1, 1]) < 1e-9 and abs(p[3, 1] - p[4, 1]) < 1e-9
    np.testing.assert_allclose(p[0, 0] + p[1, 0], 99.0, atol=1e-9)  # mirror about x = 49.5
    assert p[0, 1] < p[2, 1] < p[3, 1]  # eyes above the nose above the mouth


def test_align_face_inverts_a_known_similarity():
    target = canonical_faces5((64, 64))
    ang = np.deg2rad(25.0)
    a = 1.7 * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    src = target @ a.T + [13.0, -4.0]
    kp = np.concatenate([src, np.full((5, 1), 2.0)], axis=1)
    image = np.zeros((200, 200), np.uint8)
    _, moved, m = align_face(image, kp, (64, 64))
    np.testing.assert_allclose(moved[:, :2], target, atol=1e-9)
    np.testing.assert_allclose(m[:, :2] @ a, np.eye(2), atol=1e-12)


def test_align_face_levels_a_rotated_synthetic_face():
    face = make_faces(1, image_size=96, seed=5, rotation=(30, 30), occlusion=0.0)[0]
    crop, kp, _ = align_face(face.image, face.keypoints[0], (64, 64))
    assert crop.shape == (64, 64, 3)
    five = faces68_to_faces5(kp)
    # The least-squares fit of real (deformed) faces is not exact, but close.
    assert np.abs(five[:, :2] - canonical_faces5((64, 64))).max() < 4.0
    assert abs(five[0, 1] - five[1, 1]) < 2.0


def test_align_face_rejects_bad_input():
    with pytest.raises(ValueError, match="faces68"):
        align_face(np.zeros((10, 10), np.uint8), np.zeros((17, 3)))
    with pytest.raises(ValueError, match="two labelled"):
        align_face(np.zeros((10, 10), np.uint8), np.zeros((5, 3)))
