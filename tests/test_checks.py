"""The checks module's one TypeError/ValueError rule, the geometry layer and COCO exchange."""

from __future__ import annotations

import numpy as np
import pytest

from kplearn import _checks as C
from kplearn import geometry as G


# --- one rule: TypeError for the wrong kind of object, ValueError for a wrong value -------------
@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: C.check_int(True, "n"), TypeError, "n: expected an integer, got bool"),
        (lambda: C.check_int("3", "n"), TypeError, "got the string '3'"),
        (lambda: C.check_int(2.5, "n"), ValueError, "expected a whole number, got 2.5"),
        (lambda: C.check_int(0, "n", minimum=1), ValueError, "must be at least 1"),
        (lambda: C.check_number(None, "x"), TypeError, "expected a number, got null"),
        (lambda: C.check_number(float("inf"), "x"), ValueError, "must be finite"),
        (lambda: C.check_size("64x64"), TypeError, "got the string '64x64'"),
        (lambda: C.check_size("64"), TypeError, "got the string '64'"),
        (lambda: C.check_size((64, 0)), ValueError, "size[1]: must be at least 1"),
        (lambda: C.check_size((1, 2, 3)), ValueError, "got 3 values"),
        (lambda: C.check_size((5000, 5), maximum=4096), ValueError, "must be at most 4096"),
        (lambda: C.check_image("img.png"), TypeError, "expected an image array, got the string"),
        (lambda: C.check_image(np.zeros((4, 4), np.uint16)), ValueError, "16-bit image"),
        (lambda: C.check_image(np.zeros((4, 4), np.float32)), ValueError, "expected uint8"),
        (lambda: C.check_image(np.zeros((4, 4, 2), np.uint8)), ValueError, "H×W grey or H×W×3"),
        (lambda: C.check_image(np.zeros((0, 4), np.uint8)), ValueError, "empty image"),
        (lambda: C.as_rgb(np.zeros((4, 4, 5), np.uint8)), ValueError, "H×W grey or H×W×3"),
        (lambda: C.check_keypoints([["1", "2", "2"]]), TypeError, "expected numbers"),
        (lambda: C.check_keypoints({"x": 1}), TypeError, "got dict"),
        (lambda: C.check_keypoints([[1.0, 2.0, 3.0]]), ValueError, "visibility must be 0, 1 or 2"),
        (lambda: C.check_keypoints([[np.nan, 2.0, 2.0]]), ValueError, "NaN or infinite"),
        (lambda: C.check_keypoints([[1.0, 2.0]]), ValueError, "expected shape (..., K, 3)"),
        (lambda: C.check_keypoints([[1.0, 2.0, -1.0]], visibility="nonnegative"), ValueError, ">= 0"),
        (lambda: C.check_box([0, 0, -1, 4]), ValueError, "width and height must be >= 0"),
        (lambda: C.check_box([0, 0, 0, 0]), ValueError, "zero size"),
        (lambda: C.check_box("0 0 4 4"), TypeError, "got the string"),
        (lambda: C.check_boxes([[100, 100, 5, 5]], [(32, 32)]), ValueError, "lies outside its 32×32 image"),
        (lambda: C.check_affine(np.eye(3) * 2), ValueError, "must be affine"),
        (lambda: C.check_homography(np.zeros((3, 3)), invertible=True), ValueError, "singular"),
        (lambda: C.check_homography(np.eye(2)), ValueError, "3×3"),
    ],
)
def test_one_rule_for_type_and_value_errors(call, error, message):
    with pytest.raises(error) as err:
        call()
    assert message in str(err.value)
    other = ValueError if error is TypeError else TypeError
    assert not isinstance(err.value, other)


def test_image_forms():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert C.check_image(grey) is grey
    rgb = C.as_rgb(grey)
    assert rgb.shape == (3, 4, 3) and np.array_equal(rgb[..., 1], grey)
    rgba = np.dstack([rgb, np.full((3, 4), 7, np.uint8)])
    assert np.array_equal(C.as_rgb(rgba), rgb) and np.array_equal(C.as_rgb(grey[..., None]), rgb)


def test_keypoints_copy_and_two_columns():
    kp = np.array([[1.0, 2.0, 2.0], [np.nan, np.nan, 0.0]])
    out = C.check_keypoints(kp)
    out[0, 0] = 9.0
    assert kp[0, 0] == 1.0  # a copy
    assert C.check_keypoints([[1.0, 2.0]], columns=(2, 3)).shape == (1, 2)


# --- geometry -----------------------------------------------------------------------------------
def test_stretched_box_matrix_is_the_classical_work_frame():
    box = np.array([10.25, 20.5, 40.0, 80.0])
    m = G.box_to_matrix(box, 80, padding=1.0, keep_aspect=False)
    sx, sy = 80 / 40.0, 80 / 80.0  # the old localiser.work_matrix, written out
    old = np.array([[sx, 0.0, -box[0] * sx - 0.5], [0.0, sy, -box[1] * sy - 0.5]])
    np.testing.assert_allclose(m, old, atol=1e-12)
    np.testing.assert_allclose(G.apply_affine([[10.25, 20.5], [50.25, 100.5]], m), [[-0.5, -0.5], [79.5, 79.5]])


def test_aspect_keeping_box_matrix_does_not_squash():
    m = G.box_to_matrix([0, 0, 40, 20], (64, 64), padding=1.0)
    assert m[0, 0] == pytest.approx(m[1, 1]) == pytest.approx(64 / 40)
    with pytest.raises(ValueError, match="positive width and height"):
        G.box_to_matrix([0, 0, 40, 0], 64, keep_aspect=False)


def test_points_at_infinity_are_nan_in_every_homography_helper():
    from kplearn.classical.interest import warp_points
    from kplearn.data.synthetic import apply_homography as synthetic_apply

    H = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])  # w = x + 1
    pts = np.array([[-1.0, 0.0], [-3.0, 1.0], [1.0, 2.0]])  # on, behind, in front of the line
    for f in (lambda p: G.apply_homography(H, p), lambda p: warp_points(p, H), lambda p: synthetic_apply(H, p)):
        out = f(pts)
        assert np.isnan(out[:2]).all()
        np.testing.assert_allclose(out[2], [0.5, 1.0])


def test_invert_homography_round_trip():
    H = np.array([[1.2, 0.1, 3.0], [-0.2, 0.9, -1.0], [1e-3, 2e-3, 1.0]])
    pts = np.array([[5.0, 7.0], [20.0, -3.0]])
    back = G.apply_homography(G.invert_homography(H), G.apply_homography(H, pts))
    np.testing.assert_allclose(back, pts, atol=1e-9)
    assert G.invert_homography(H)[2, 2] == pytest.approx(1.0)


def test_crop_anti_aliasing_rule():
    img = np.zeros((64, 64), np.uint8)
    img[::3] = 255  # stripes with a period of 3 px: at a quarter of the size they alias
    shrink = G.box_to_matrix(G.image_box(img), 16, padding=1.0)
    blurred = G.crop_image(img, shrink, 16)
    aliased = G.warp_image(img, shrink, 16)
    assert np.ptp(blurred[2:-2, 2:-2]) < 10 < np.ptp(aliased[2:-2, 2:-2])
    same = G.box_to_matrix(G.image_box(img), 64, padding=1.0)  # scale 1: no blur at all
    np.testing.assert_array_equal(G.crop_image(img, same, 64), G.warp_image(img, same, 64))


def test_crop_batch_is_the_training_crop_and_uncrop_inverts_it():
    from kplearn.train.crops import crop_image, crop_matrix

    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (90, 120, 3), dtype=np.uint8), rng.integers(0, 256, (50, 40), dtype=np.uint8)]
    boxes = [[10.0, 5.0, 60.0, 70.0], None]
    crops, ms = G.crop_batch(images, boxes, (32, 32))
    m0 = crop_matrix((120, 90), boxes[0], (32, 32), 1.25)
    np.testing.assert_array_equal(ms[0], m0)
    np.testing.assert_array_equal(crops[0], crop_image(images[0], m0, (32, 32)))
    pts = np.array([[[30.0, 40.0, 0.7]], [[3.0, 4.0, 0.2]]])
    in_crop = pts.copy()
    for i in range(2):
        in_crop[i, :, :2] = G.apply_affine(pts[i, :, :2], ms[i])
    np.testing.assert_allclose(G.uncrop(in_crop, ms), pts, atol=1e-9)
    with pytest.raises(ValueError, match="mirrors"):
        G.uncrop(in_crop[:1], G.box_to_matrix([0, 0, 10, 10], 32, flip=True)[None])


# --- COCO exchange ------------------------------------------------------------------------------
def test_predictions_to_coco_rows_and_images():
    from kplearn.data.formats import predictions_to_coco

    kp = np.array([[[1.0, 2.0, 0.5]], [[3.0, 4.0, 0.25]]])
    dt = predictions_to_coco(kp, [0.5, 0.25], [7, 7], category_id=3, decimals=0)
    assert dt == [{"image_id": 7, "category_id": 3, "keypoints": [1.0, 2.0, 0.0], "score": 0.5},
                  {"image_id": 7, "category_id": 3, "keypoints": [3.0, 4.0, 0.0], "score": 0.25}]  # fmt: skip
    per_image = predictions_to_coco([kp, np.zeros((0, 1, 3))], [[0.5, 0.25], []])
    assert [d["image_id"] for d in per_image] == [1, 1]
    with pytest.raises(ValueError, match="2 detections but 1 scores"):
        predictions_to_coco(kp, [0.5])
    with pytest.raises(ValueError, match="scores must be finite"):
        predictions_to_coco(kp, [0.5, np.nan])
    with pytest.raises(TypeError, match="image id"):
        predictions_to_coco(kp, [0.5, 0.25], ["a", "b"])


def test_dataset_to_coco_with_predictions_scores_perfect_predictions_as_ap_1():
    from kplearn.data.datasets import KeypointDataset, Sample
    from kplearn.data.formats import dataset_to_coco, predictions_to_coco
    from kplearn.metrics import coco_keypoint_eval

    rng = np.random.default_rng(1)
    samples = []
    for _ in range(3):
        kp = np.concatenate([rng.uniform(20, 100, (2, 17, 2)), np.full((2, 17, 1), 2.0)], -1)
        kp[0, 3, 2] = 0
        samples.append(Sample(np.zeros((128, 128, 3), np.uint8), kp))
    ds = KeypointDataset(samples, "coco17")
    gt = dataset_to_coco(ds)
    people = [s.keypoints for s in ds]
    perfect = coco_keypoint_eval(gt, predictions_to_coco(people, [[0.9, 0.8]] * 3))
    assert perfect["AP"] == pytest.approx(1.0)
    moved = [p + np.array([40.0, 0.0, 0.0]) for p in people]
    assert coco_keypoint_eval(gt, predictions_to_coco(moved, [[0.9, 0.8]] * 3))["AP"] < 0.1
