"""Random 3D body poses and their projections (kplearn.data.synthetic.poses3d)."""

import numpy as np

from kplearn.data.synthetic import make_poses_3d, project_poses


def test_make_poses_3d_bone_lengths_and_root():
    poses = make_poses_3d(50, seed=1)
    assert poses.shape == (50, 17, 3)
    np.testing.assert_allclose(poses[:, [11, 12]].mean(1), 0.0, atol=1e-12)
    bones = {(11, 13): 0.44, (12, 14): 0.44, (13, 15): 0.42, (14, 16): 0.42,
             (5, 7): 0.29, (6, 8): 0.29, (7, 9): 0.26, (8, 10): 0.26, (11, 12): 0.20, (5, 6): 0.36}  # fmt: skip
    for (a, b), length in bones.items():
        np.testing.assert_allclose(
            np.linalg.norm(poses[:, a] - poses[:, b], axis=-1), length, atol=1e-9
        )
    np.testing.assert_array_equal(poses, make_poses_3d(50, seed=1))
    assert not np.allclose(poses, make_poses_3d(50, seed=2))
    # The whole body turns freely about the vertical: the hip line points every way.
    hip = poses[:, 11] - poses[:, 12]
    angles = np.arctan2(hip[:, 2], hip[:, 0])
    assert np.ptp(angles) > np.pi


def test_knees_bend_backwards_and_thighs_swing_forwards():
    poses = make_poses_3d(200, seed=3)
    # Facing direction of each body: perpendicular to the hip line, horizontal (left x up = forward).
    left = poses[:, 11] - poses[:, 12]
    fwd = np.cross(left, [0.0, 1.0, 0.0])
    fwd /= np.linalg.norm(fwd, axis=1, keepdims=True)
    for hip, knee, ankle in ((11, 13, 15), (12, 14, 16)):
        thigh = poses[:, knee] - poses[:, hip]
        shin = poses[:, ankle] - poses[:, knee]
        # The shin turns away from the thigh towards the back: its forward component is smaller.
        thigh_u = thigh / np.linalg.norm(thigh, axis=1, keepdims=True)
        shin_u = shin / np.linalg.norm(shin, axis=1, keepdims=True)
        assert np.all(np.sum(shin_u * fwd, 1) <= np.sum(thigh_u * fwd, 1) + 1e-9)
        # Hips flex forwards (up to 70 degrees) more than they extend backwards (up to 20).
        assert np.sum(thigh_u * fwd, 1).max() > 0.8 and np.sum(thigh_u * fwd, 1).min() > -0.4


def test_project_poses():
    p = np.array([[[0.1, 0.5, -0.3], [1.0, -2.0, 4.0]]])
    np.testing.assert_allclose(project_poses(p), [[[0.1, -0.5], [1.0, 2.0]]])
    noisy = project_poses(np.zeros((200, 17, 3)), noise=0.01, seed=0)
    assert abs(noisy.std() - 0.01) < 0.001
