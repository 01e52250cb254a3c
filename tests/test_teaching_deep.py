"""Tests of kplearn.teaching_deep: hand-worked values, invariants and independent re-computations."""

import math

import numpy as np
import pytest

from kplearn import teaching_deep as td
from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.synthetic import make_faces, make_people_scenes
from kplearn.skeletons import faces68_to_faces5

# ----------------------------------------------------------------------------- spread_ratio


def _gt(xy):
    xy = np.asarray(xy, float)
    return np.concatenate([xy, np.full(xy.shape[:-1] + (1,), 2.0)], axis=-1)


def test_spread_ratio_hand_worked():
    gt = _gt([[[0.0, 0.0]], [[4.0, 0.0]]])
    mean = np.array([[2.0, 0.0]])
    assert td.spread_ratio(np.array([[[1.0, 0.0]], [[3.0, 0.0]]]), gt, mean) == 0.5
    assert td.spread_ratio(gt[..., :2], gt, mean) == 1.0
    assert td.spread_ratio(np.broadcast_to(mean, (2, 1, 2)), gt, mean) == 0.0


def test_spread_ratio_ignores_unlabelled_points():
    gt = _gt([[[0.0, 0.0], [0.0, 0.0]], [[4.0, 0.0], [0.0, 0.0]]])
    gt[:, 1, 2] = 0  # point 1 unlabelled: its (wild) prediction must not count
    pred = np.array([[[1.0, 0.0], [99.0, 99.0]], [[3.0, 0.0], [-99.0, 5.0]]])
    assert td.spread_ratio(pred, gt, np.array([[2.0, 0.0], [0.0, 0.0]])) == 0.5


def test_spread_ratio_rejects_bad_input():
    gt = _gt([[[0.0, 0.0]], [[4.0, 0.0]]])
    with pytest.raises(ValueError, match="shapes differ"):
        td.spread_ratio(np.zeros((3, 1, 2)), gt, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="NaN"):
        td.spread_ratio(np.full((2, 1, 2), np.nan), gt, np.zeros((1, 2)))
    with pytest.raises(ValueError, match="undefined"):
        td.spread_ratio(np.zeros((2, 1, 2)), _gt(np.zeros((2, 1, 2))), np.zeros((1, 2)))


# ------------------------------------------------------------------------ stage_predictions


def test_stage_predictions_match_predict_and_count_stages():
    from kplearn.models import build_model
    from kplearn.train import predict

    faces = make_faces(3, image_size=80, seed=1)
    images = [s.image for s in faces]
    net = build_model("cascade", "faces68", preset="fast", input_size=(64, 64), stages=3)
    stages = td.stage_predictions(net, images)
    assert len(stages) == 3 and all(s.shape == (3, 68, 2) for s in stages)
    # The last stage is what predict() returns without flip test (an independent code path).
    np.testing.assert_allclose(
        stages[-1], predict(net, images, flip_test=False)[..., :2], atol=1e-4
    )
    reg = build_model("regression", "faces68", preset="fast")
    assert len(td.stage_predictions(reg, images)) == 1
    with pytest.raises(ValueError, match="coordinate network"):
        td.stage_predictions(build_model("heatmap", "faces68", preset="fast"), images)


def test_heatmap_predictions_dark_matches_predict():
    from kplearn.models import build_model
    from kplearn.train import predict

    faces = make_faces(2, image_size=80, seed=2)
    images = [s.image for s in faces]
    net = build_model("heatmap", "faces68", preset="fast")
    decoded, maps = td.heatmap_predictions(net, images, ("argmax", "dark"))
    assert maps.shape == (2, 68, 16, 16)
    # predict() decodes with the torch twin of DARK: the same keypoints, by another code path.
    np.testing.assert_allclose(
        decoded["dark"], predict(net, images, flip_test=False)[..., :2], atol=1e-3
    )
    # argmax lands on a heatmap pixel centre: x' = (x + 0.5) * 64 / 80 / 4 - 0.5 is an integer.
    xh = (decoded["argmax"] + 0.5) * 64 / 80 / 4 - 0.5
    np.testing.assert_allclose(xh, np.round(xh), atol=1e-9)
    with pytest.raises(ValueError, match="heatmap network"):
        td.heatmap_predictions(build_model("regression", "faces68", preset="fast"), images)


# -------------------------------------------------------------------------- decoding_errors


def test_decoding_errors_bounds_and_ordering():
    stride = 4
    err = td.decoding_errors(300, stride=stride, sigma=2.0, seed=0)
    # argmax can be off by at most half a heatmap pixel per axis.
    assert err["argmax"].max() <= stride / 2 * math.sqrt(2) + 1e-9
    # quarter offset at most halves the worst case; the sub-pixel decoders are near exact.
    assert err["quarter"].mean() < err["argmax"].mean()
    assert err["dark"].max() < 0.05 and err["softargmax"].max() < 0.05
    assert err["argmax"].mean() > 1.0  # uniform sub-pixel positions: ~0.38 stride on average


def test_decoding_errors_msra_targets_are_quantised():
    # MSRA targets are centred on a rounded heatmap pixel: every decoder finds that pixel,
    # so all decoders agree and the error is the rounding error alone (<= s/2 per axis).
    err = td.decoding_errors(200, stride=4, sigma=2.0, encoding="msra", seed=1)
    for method in ("quarter", "dark", "softargmax"):
        np.testing.assert_allclose(err[method], err["argmax"], atol=1e-6)
    assert err["argmax"].max() <= 2 * math.sqrt(2) + 1e-9
    # Decoding them with the unbiased inverse adds the (s - 1) / 2 = 1.5 px shift per axis.
    shifted = td.decoding_errors(200, stride=4, sigma=2.0, encoding="msra", decode_encoding="unbiased",
                                 methods=("argmax",), seed=1)  # fmt: skip
    assert shifted["argmax"].mean() > err["argmax"].mean() + 0.5


def test_decoding_errors_noise_hurts_softargmax_most():
    err = td.decoding_errors(200, sigma=2.0, noise=0.05, seed=2)
    assert err["softargmax"].mean() > err["dark"].mean()


def test_decoding_errors_rejects_bad_input():
    with pytest.raises(ValueError, match="too large"):
        td.decoding_errors(10, input_size=(32, 32), sigma=3.0)
    with pytest.raises(ValueError, match="multiple"):
        td.decoding_errors(10, input_size=(130, 128))
    with pytest.raises(ValueError, match="sigma"):
        td.decoding_errors(10, sigma=0.0)
    with pytest.raises(ValueError, match="n must"):
        td.decoding_errors(0)


# ---------------------------------------------------------------------------------- degrade


@pytest.fixture(scope="module")
def faces():
    return make_faces(4, image_size=64, seed=0)


def test_degrade_level_zero_is_identity(faces):
    for kind in td.DEGRADATIONS:
        out = td.degrade(faces, kind, 0.0)
        for a, b in zip(faces, out, strict=True):
            assert np.array_equal(a.image, b.image)
            assert np.array_equal(a.keypoints, b.keypoints)
            assert a.group == b.group


def test_degrade_rotation_moves_points_with_the_image(faces):
    out = td.degrade(faces, "rotation", 90.0)
    x, y = faces[0].keypoints[0, :, 0], faces[0].keypoints[0, :, 1]
    # 90 degrees counter-clockwise on screen about the centre (31.5, 31.5): (x, y) -> (y, 63 - x).
    np.testing.assert_allclose(out[0].keypoints[0, :, 0], y, atol=1e-9)
    np.testing.assert_allclose(out[0].keypoints[0, :, 1], 63 - x, atol=1e-9)
    # An exact quarter turn of the pixel grid: the image is np.rot90 of the original.
    np.testing.assert_array_equal(out[0].image, np.rot90(faces[0].image))


def test_degrade_occlusion_paints_one_square_and_hides_points(faces):
    out = td.degrade(faces, "occlusion", 0.4, seed=3)
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
        out = td.degrade(faces, kind, level, seed=1)
        assert not np.array_equal(out[0].image, faces[0].image)
        np.testing.assert_array_equal(out[0].keypoints, faces[0].keypoints)
    blurred = td.degrade(faces, "blur", 2.0)[0].image.astype(float)
    # Blur lowers the image's total variation.
    tv = lambda im: np.abs(np.diff(im, axis=0)).sum() + np.abs(np.diff(im, axis=1)).sum()  # noqa: E731
    assert tv(blurred) < tv(faces[0].image.astype(float))


def test_degrade_rejects_bad_input(faces):
    with pytest.raises(ValueError, match="unknown degradation"):
        td.degrade(faces, "fog", 1.0)
    with pytest.raises(ValueError, match="level"):
        td.degrade(faces, "blur", -1.0)
    scenes = make_people_scenes(2, image_size=64, seed=0, min_people=2, max_people=2)
    with pytest.raises(ValueError, match="one instance"):
        td.degrade(scenes, "blur", 1.0)


def test_time_per_image_divides_by_the_number_of_images():
    calls = []

    def slow(images):
        calls.append(len(images))
        import time

        time.sleep(0.002 * len(images))

    ms = td.time_per_image(slow, [0] * 5, repeats=2, warmup=1)
    assert calls == [1, 5, 5]
    assert 1.5 < ms < 20
    with pytest.raises(ValueError):
        td.time_per_image(slow, [])


# ------------------------------------------------------------------------------ alignment


def test_canonical_faces5_is_symmetric_and_level():
    p = td.canonical_faces5((100, 100))
    assert abs(p[0, 1] - p[1, 1]) < 1e-9 and abs(p[3, 1] - p[4, 1]) < 1e-9
    np.testing.assert_allclose(p[0, 0] + p[1, 0], 99.0, atol=1e-9)  # mirror about x = 49.5
    assert p[0, 1] < p[2, 1] < p[3, 1]  # eyes above the nose above the mouth


def test_align_face_inverts_a_known_similarity():
    target = td.canonical_faces5((64, 64))
    ang = np.deg2rad(25.0)
    a = 1.7 * np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    src = target @ a.T + [13.0, -4.0]
    kp = np.concatenate([src, np.full((5, 1), 2.0)], axis=1)
    image = np.zeros((200, 200), np.uint8)
    _, moved, m = td.align_face(image, kp, (64, 64))
    np.testing.assert_allclose(moved[:, :2], target, atol=1e-9)
    np.testing.assert_allclose(m[:, :2] @ a, np.eye(2), atol=1e-12)


def test_align_face_levels_a_rotated_synthetic_face():
    face = make_faces(1, image_size=96, seed=5, rotation=(30, 30), occlusion=0.0)[0]
    crop, kp, _ = td.align_face(face.image, face.keypoints[0], (64, 64))
    assert crop.shape == (64, 64, 3)
    five = faces68_to_faces5(kp)
    # The least-squares fit of real (deformed) faces is not exact, but close.
    assert np.abs(five[:, :2] - td.canonical_faces5((64, 64))).max() < 4.0
    assert abs(five[0, 1] - five[1, 1]) < 2.0


def test_align_face_rejects_bad_input():
    with pytest.raises(ValueError, match="faces68"):
        td.align_face(np.zeros((10, 10), np.uint8), np.zeros((17, 3)))
    with pytest.raises(ValueError, match="two labelled"):
        td.align_face(np.zeros((10, 10), np.uint8), np.zeros((5, 3)))


# ------------------------------------------------------------------------------- tracking


def _dot_image(x, y, size=64):
    yy, xx = np.mgrid[:size, :size]
    dot = 255 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5**2))
    return np.clip(dot, 0, 255).astype(np.uint8)


def test_make_sequence_moves_keypoints_with_the_content():
    img = _dot_image(20.0, 30.0)
    frames, kp = td.make_sequence(img, np.array([[20.0, 30.0, 2.0]]), 12, seed=4, noise=0.0)
    assert np.array_equal(frames[0], img)
    for frame, k in zip(frames, kp, strict=True):
        y, x = np.unravel_index(np.argmax(frame), frame.shape)
        assert abs(x - k[0, 0]) <= 1.0 and abs(y - k[0, 1]) <= 1.0  # the dot is where the point is
    assert np.ptp(kp[:, 0, 0]) > 1.0  # it did move


def test_track_lucas_kanade_follows_a_known_translation():
    rng = np.random.default_rng(0)
    base = (rng.random((96, 96)) * 255).astype(np.uint8)
    import cv2

    base = cv2.GaussianBlur(base, (0, 0), 2.0)
    # 2 px right and 1 px down per frame.
    frames = [np.roll(base, (t, 2 * t), axis=(0, 1)) for t in range(5)]
    pts = np.array([[40.0, 40.0], [50.0, 45.0]])
    tracks, ok = td.track_lucas_kanade(frames, pts, win_size=15, levels=2)
    expected = pts[None] + np.arange(5)[:, None, None] * np.array([2.0, 1.0])
    np.testing.assert_allclose(tracks, expected, atol=0.1)
    assert ok.all()
    with pytest.raises(ValueError, match="points"):
        td.track_lucas_kanade(frames, np.array([[np.nan, 1.0]]))


# ------------------------------------------------------------------------------------ PAF


def test_oracle_grouping_recovers_the_people():
    from kplearn.metrics import coco_keypoint_eval
    from kplearn.train.evaluate import coco_ground_truth

    scenes = make_people_scenes(4, image_size=128, seed=0, max_people=3)
    results = td.oracle_grouping(scenes, stride=2)
    assert len(results) == len(scenes)
    stats = coco_keypoint_eval(coco_ground_truth(scenes), td.coco_detections(results))
    assert stats["AP"] > 0.85
    # Noise on the maps can only make the grouping worse here.
    noisy = td.oracle_grouping(scenes, stride=2, noise=0.3, seed=0)
    assert (
        coco_keypoint_eval(coco_ground_truth(scenes), td.coco_detections(noisy))["AP"] < stats["AP"]
    )


def test_coco_detections_layout():
    people = np.arange(2 * 3 * 3, dtype=float).reshape(2, 3, 3)
    dt = td.coco_detections([(people, np.array([0.5, 0.25])), (np.zeros((0, 3, 3)), np.zeros(0))])
    assert [d["image_id"] for d in dt] == [1, 1]
    assert dt[1]["keypoints"] == people[1].reshape(-1).tolist() and dt[1]["score"] == 0.25
    with pytest.raises(ValueError, match="image 0"):
        td.coco_detections([(people, np.array([0.5]))])


# -------------------------------------------------------------------------------- lifting


def test_make_poses_3d_bone_lengths_and_root():
    poses = td.make_poses_3d(50, seed=1)
    assert poses.shape == (50, 17, 3)
    np.testing.assert_allclose(poses[:, [11, 12]].mean(1), 0.0, atol=1e-12)
    bones = {(11, 13): 0.44, (12, 14): 0.44, (13, 15): 0.42, (14, 16): 0.42,
             (5, 7): 0.29, (6, 8): 0.29, (7, 9): 0.26, (8, 10): 0.26, (11, 12): 0.20, (5, 6): 0.36}  # fmt: skip
    for (a, b), length in bones.items():
        np.testing.assert_allclose(
            np.linalg.norm(poses[:, a] - poses[:, b], axis=-1), length, atol=1e-9
        )
    np.testing.assert_array_equal(poses, td.make_poses_3d(50, seed=1))
    assert not np.allclose(poses, td.make_poses_3d(50, seed=2))
    # The whole body turns freely about the vertical: the hip line points every way.
    hip = poses[:, 11] - poses[:, 12]
    angles = np.arctan2(hip[:, 2], hip[:, 0])
    assert np.ptp(angles) > np.pi


def test_knees_bend_backwards_and_thighs_swing_forwards():
    poses = td.make_poses_3d(200, seed=3)
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


def test_project_poses_and_mpjpe():
    p = np.array([[[0.1, 0.5, -0.3], [1.0, -2.0, 4.0]]])
    np.testing.assert_allclose(td.project_poses(p), [[[0.1, -0.5], [1.0, 2.0]]])
    noisy = td.project_poses(np.zeros((200, 17, 3)), noise=0.01, seed=0)
    assert abs(noisy.std() - 0.01) < 0.001
    assert td.mpjpe(p, p) == 0.0
    assert td.mpjpe(np.zeros((1, 2, 3)), [[[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]]]) == 3.0
    with pytest.raises(ValueError):
        td.mpjpe(np.zeros((1, 2, 3)), np.zeros((1, 3, 3)))


# --------------------------------------------------------------------------------- X-rays


def test_make_xrays_layout_and_reproducibility():
    ds = td.make_xrays(6, image_size=64, seed=0)
    assert isinstance(ds, KeypointDataset) and ds.skeleton.name == "knee6"
    assert ds[0].image.shape == (64, 64) and ds[0].image.dtype == np.uint8
    kp = ds.keypoints_array()
    assert np.all((kp[..., :2] > -0.5) & (kp[..., :2] < 63.5)) and np.all(kp[..., 2] == 2)
    # Image i depends on (seed, i) only.
    again = td.make_xrays(3, image_size=64, seed=0)
    assert np.array_equal(again[2].image, ds[2].image)
    assert not np.array_equal(td.make_xrays(1, 64, seed=1)[0].image, ds[0].image)


def test_make_xrays_condyle_landmarks_sit_on_the_bone_edge():
    ds = td.make_xrays(30, image_size=64, seed=1)
    diffs = []
    for s in ds:
        a = np.deg2rad(s.meta["rotation"])
        up = np.array([np.sin(a), -np.cos(a)])  # the image direction of the canonical "up"
        img = s.image.astype(float)
        for k in (1, 2):  # lowest points of the condyles: bone above, joint space below
            p = s.keypoints[0, k, :2]
            inside, below = np.rint(p + 2 * up).astype(int), np.rint(p - up).astype(int)
            diffs.append(img[inside[1], inside[0]] - img[below[1], below[0]])
    assert np.mean(diffs) > 30 and np.min(diffs) > 0


def test_make_xrays_rejects_bad_input():
    with pytest.raises(ValueError, match="image_size"):
        td.make_xrays(1, image_size=16)
    with pytest.raises(ValueError):
        td.make_xrays(-1)


def test_sample_is_a_plain_sample():
    s = td.make_xrays(1, 64)[0]
    assert isinstance(s, Sample) and s.group == s.name
