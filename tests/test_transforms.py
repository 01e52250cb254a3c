"""Tests for kplearn.data.transforms: image and keypoints must move together."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from kplearn.data.transforms import (
    MEAN,
    STD,
    AugmentConfig,
    affine_matrix,
    apply_affine,
    box_to_matrix,
    compose_matrices,
    crop_batch,
    flip_horizontal,
    flip_keypoints,
    from_tensor,
    image_box,
    invert_matrix,
    is_mirrored,
    photometric,
    random_augment,
    random_erase,
    to_tensor,
    transform_keypoints,
    uncrop_keypoints,
    warp_image,
)
from kplearn.geometry import crop_image
from kplearn.skeletons import get_skeleton

NO_PHOTOMETRIC = dict(
    brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0, gamma=(1.0, 1.0),
    blur_prob=0.0, noise_prob=0.0, occlusion_prob=0.0,
)  # fmt: skip


# --- helpers (independent of the code under test) -----------------------------------------------


def dot_image(x: float, y: float, size=(128, 128), sigma: float = 1.6) -> np.ndarray:
    """A grey uint8 image with one Gaussian blob centred at the sub-pixel point (x, y)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]  # integer coordinates are pixel centres
    blob = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))
    return np.rint(250 * blob).astype(np.uint8)


def centroid(image: np.ndarray) -> np.ndarray:
    """Intensity-weighted centroid (x, y) of a grey image."""
    img = image.astype(np.float64)
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    return np.array([(img * xx).sum(), (img * yy).sum()]) / img.sum()


def random_affine(rng, in_size, out_size, points, margin=10.0):
    """A random general affine (rotation ±45°, scales 0.7–1.5 per axis, shear, translation)
    that keeps every point at least ``margin`` pixels inside the output."""
    w_out, h_out = out_size
    for _ in range(1000):
        t = math.radians(rng.uniform(-45, 45))
        rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
        lin = (
            rot
            @ np.diag(rng.uniform(0.7, 1.5, 2))
            @ np.array([[1, rng.uniform(-0.2, 0.2)], [0, 1]])
        )
        c_in = (np.array(in_size) - 1) / 2
        c_out = (np.array(out_size) - 1) / 2 + rng.uniform(-8, 8, 2)
        m = np.hstack([lin, (c_out - lin @ c_in)[:, None]])
        p = points @ lin.T + m[:, 2]
        if np.all((p >= margin) & (p <= np.array([w_out, h_out]) - 1 - margin)):
            return m
    raise AssertionError("could not draw an affine that keeps the points inside")


def dot_points(rng, k=5, size=(128, 128), margin=30):
    w, h = size
    return np.column_stack(
        [rng.uniform(margin, w - 1 - margin, k), rng.uniform(margin, h - 1 - margin, k)]
    )


# --- the acceptance dot test --------------------------------------------------------------------


@pytest.mark.parametrize("out_size", [(128, 128), (96, 80)])
def test_warped_dots_sit_at_warped_keypoints(out_size):
    rng = np.random.default_rng(42)
    errors = []
    for _ in range(25):
        pts = dot_points(rng)
        kp = np.column_stack([pts, np.full(len(pts), 2.0)])
        m = random_affine(rng, (128, 128), out_size, pts)
        warped_kp = transform_keypoints(kp, m, out_size)
        assert np.all(warped_kp[:, 2] == 2)
        for i, (x, y) in enumerate(pts):
            warped = warp_image(dot_image(x, y), m, out_size)
            assert warped.shape == (out_size[1], out_size[0])
            errors.append(np.linalg.norm(centroid(warped) - warped_kp[i, :2]))
    errors = np.array(errors)
    assert errors.max() < 0.5  # the acceptance criterion
    # Much tighter in practice: a half-pixel convention slip would show up as ~0.2–0.4 px.
    assert errors.max() < 0.1, errors.max()


def test_dot_test_can_fail_with_a_half_pixel_slip():
    """Negative control: the corner convention (x' = s*x on pixel corners) must miss the dots."""
    rng = np.random.default_rng(1)
    pts = dot_points(rng, 1)
    m = affine_matrix(pts[0], 40.0, 0.0, (64, 64))  # zoom x1.6 around the dot -> 64×64
    warped = warp_image(dot_image(*pts[0]), m, (64, 64))
    s = m[0, 0]
    # The same zoom written for pixel *corners*: x' + 0.5 = s * (x + 0.5) + t', so x' differs by
    # 0.5 * (s - 1) from the pixel-centre map.
    corner_kp = apply_affine(pts, m) + 0.5 * (s - 1)
    assert np.linalg.norm(centroid(warped) - corner_kp[0]) > 0.25
    assert np.linalg.norm(centroid(warped) - apply_affine(pts, m)[0]) < 0.05


def test_dots_follow_crop_matrices_with_flip_and_left_right_swap():
    """Crops from box_to_matrix with random rotation/zoom/shift/flip: keypoint j of the output
    is the dot of input keypoint flip_index[j] when the crop mirrors, and its own dot otherwise."""
    sk = get_skeleton("faces5")
    rng = np.random.default_rng(7)
    out_size = (64, 64)
    n_flipped = 0
    for _ in range(16):
        pts = dot_points(rng, 5, margin=44)
        kp = np.column_stack([pts, np.full(5, 2.0)])
        flip = bool(rng.random() < 0.5)
        m = box_to_matrix(
            [30, 30, 68, 68],
            out_size,
            padding=1.1,
            rotation=rng.uniform(-45, 45),
            scale=rng.uniform(0.8, 1.2),
            shift=rng.uniform(-0.05, 0.05, 2),
            flip=flip,
        )
        assert is_mirrored(m) == flip
        n_flipped += flip
        out = transform_keypoints(kp, m, out_size, sk)
        source = sk.flip_index if flip else np.arange(5)
        for j in range(5):
            warped = warp_image(dot_image(*pts[source[j]]), m, out_size)
            assert np.linalg.norm(centroid(warped) - out[j, :2]) < 0.1
    assert 0 < n_flipped < 16  # both branches ran


# --- flips --------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["coco17", "faces68"])
def test_flip_twice_is_identity(layout):
    sk = get_skeleton(layout)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (30, 41, 3), dtype=np.uint8)
    kp = np.column_stack([rng.uniform(0, 40, sk.num_keypoints), rng.uniform(0, 29, sk.num_keypoints),
                          rng.integers(0, 3, sk.num_keypoints)])  # fmt: skip
    img1, kp1 = flip_horizontal(img, kp, sk)
    assert not np.array_equal(img1, img)
    img2, kp2 = flip_horizontal(img1, kp1, sk)
    np.testing.assert_array_equal(img2, img)
    np.testing.assert_allclose(kp2, kp, atol=1e-12)
    grey = img[..., 0]
    np.testing.assert_array_equal(
        flip_horizontal(flip_horizontal(grey, kp, sk)[0], kp, sk)[0], grey
    )


def test_flip_moves_left_eye_to_where_right_eye_was_coco17():
    """On a symmetric pose the subject's left eye (its pixels and its mirrored coordinate) lands
    where the right eye was; the point there is then *named* right_eye, because in the mirrored
    image it is the right eye of the (mirrored) person -- that is what the flip pairs do."""
    sk = get_skeleton("coco17")
    w = 50
    kp = np.zeros((17, 3))
    kp[:, 2] = 2
    for name in sk.keypoint_names:  # a symmetric pose: left_* mirrors right_*
        if name.startswith("right_"):
            j, twin = sk.index(name), sk.index("left_" + name[6:])
            kp[j, :2] = (10.0 + j, 5.0 + 2 * j)
            kp[twin, :2] = (w - 1 - kp[j, 0], kp[j, 1])
    kp[0, :2] = ((w - 1) / 2, 3.0)
    le, re = sk.index("left_eye"), sk.index("right_eye")
    assert kp[re, 0] < kp[le, 0]  # frontal view: the subject's right eye is on the image's left
    img = np.zeros((60, w), np.uint8)
    img[int(kp[le, 1]), int(kp[le, 0])] = 255  # mark the subject's left eye in the image
    img_f, kp_f = flip_horizontal(img, kp, sk)
    # the left eye's pixels moved to where the right eye was ...
    assert img_f[int(kp[re, 1]), int(kp[re, 0])] == 255
    assert img_f[int(kp[le, 1]), int(kp[le, 0])] == 0
    # ... its mirrored coordinate is the old right-eye position ...
    np.testing.assert_allclose([w - 1 - kp[le, 0], kp[le, 1]], kp[re, :2])
    # ... and the keypoint found there is now labelled right_eye (still on the image's left)
    np.testing.assert_allclose(kp_f[re, :2], kp[re, :2])
    # in general: new left_eye = mirror of old right_eye, for every left/right pair
    for name in sk.keypoint_names:
        if name.startswith("left_"):
            a, b = sk.index(name), sk.index("right_" + name[5:])
            np.testing.assert_allclose(kp_f[a, :2], [w - 1 - kp[b, 0], kp[b, 1]])
    np.testing.assert_allclose(kp_f[0, :2], [w - 1 - kp[0, 0], kp[0, 1]])  # nose: unpaired
    np.testing.assert_allclose(kp_f[:, :2], kp[:, :2])  # a symmetric pose maps onto itself


def test_flip_moves_left_eye_to_where_right_eye_was_faces68():
    sk = get_skeleton("faces68")
    w = 80
    rng = np.random.default_rng(3)
    kp = np.column_stack([rng.uniform(0, w - 1, 68), rng.uniform(0, 60, 68), np.full(68, 2.0)])
    out = flip_keypoints(kp, w, sk)
    # iBUG order: right eye 36-41 (36 outer corner), left eye 42-47 (45 outer corner)
    pairs = {36: 45, 37: 44, 38: 43, 39: 42, 40: 47, 41: 46}
    for r, left in pairs.items():
        np.testing.assert_allclose(out[left, :2], [w - 1 - kp[r, 0], kp[r, 1]])
        np.testing.assert_allclose(out[r, :2], [w - 1 - kp[left, 0], kp[left, 1]])
    # the nose ridge is unpaired: only x mirrors
    np.testing.assert_allclose(
        out[27:31, :2], np.column_stack([w - 1 - kp[27:31, 0], kp[27:31, 1]])
    )
    # an image with a dot on each outer eye corner: the left corner's dot lands on the right one
    kp[45, :2] = (w - 1 - kp[36, 0], kp[36, 1])
    img = np.zeros((61, w), np.uint8)
    img[int(round(kp[45, 1])), int(round(kp[45, 0]))] = 255
    img_f, kp_f = flip_horizontal(img, kp, sk)
    assert img_f[int(round(kp[36, 1])), int(round(kp[36, 0]))] == 255
    np.testing.assert_allclose(kp_f[36, :2], kp[36, :2])  # and it is labelled 36 (right corner)


def test_flip_image_and_keypoints_agree_on_pixel_centres():
    sk = get_skeleton("faces5")
    kp = np.array([[3.0, 2.0, 2], [10.0, 4.0, 2], [7.0, 6.0, 2], [0.0, 0.0, 2], [12.0, 7.0, 2]])
    img = np.zeros((8, 13), np.uint8)
    for x, y, _ in kp:
        img[int(y), int(x)] = 200
    img_f, kp_f = flip_horizontal(img, kp, sk)
    for x, y, _ in kp_f:
        assert img_f[int(y), int(x)] == 200
    # the matrix form of the flip gives the same result as flip_horizontal
    m = np.array([[-1.0, 0.0, 12.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(warp_image(img, m, (13, 8), interpolation="nearest"), img_f)
    np.testing.assert_allclose(transform_keypoints(kp, m, (13, 8), sk), kp_f)


# --- marking points that leave the frame --------------------------------------------------------


def test_points_outside_the_output_frame_become_unlabelled():
    kp = np.array([
        [5.0, 5.0, 2],     # inside
        [-0.5, 3.0, 2],    # on the left edge of the frame: inside
        [-0.51, 3.0, 2],   # just outside
        [19.5, 9.5, 1],    # bottom-right corner of a 20×10 frame: inside, stays hidden
        [19.6, 5.0, 1],    # outside on the right
        [5.0, 10.0, 2],    # outside at the bottom
        [5.0, 5.0, 0],     # unlabelled stays unlabelled
    ])  # fmt: skip
    identity = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    out = transform_keypoints(kp, identity, (20, 10))
    assert out[:, 2].tolist() == [2, 2, 0, 1, 0, 0, 0]
    np.testing.assert_array_equal(out[:, :2], kp[:, :2])  # coordinates kept for debugging
    # a shift pushes the first point out: the crop marks it
    out = transform_keypoints(kp[:1], [[1.0, 0, -6.0], [0, 1.0, 0]], (20, 10))
    assert out[0, 2] == 0 and out[0, 0] == -1.0
    # no output size: nothing is marked
    assert transform_keypoints(kp, identity, None)[:, 2].tolist() == kp[:, 2].tolist()
    # batches (M, K, 3) work the same way
    assert (
        transform_keypoints(np.stack([kp, kp]), identity, (20, 10))[:, :, 2].tolist()
        == [[2, 2, 0, 1, 0, 0, 0]] * 2
    )


# --- matrices -----------------------------------------------------------------------------------


def test_box_to_matrix_hand_values():
    # 40×20 box into a 64×64 crop, no padding: widened to 40×40, scale 64/40 = 1.6
    m = box_to_matrix([10, 20, 40, 20], (64, 64), padding=1.0)
    np.testing.assert_allclose(
        m, [[1.6, 0, -0.5 - 1.6 * 10], [0, 1.6, -0.5 - 1.6 * 10]], atol=1e-12
    )
    # box with the output's aspect ratio: the corners go to the frame corners
    m = box_to_matrix([10, 20, 40, 20], (64, 32), padding=1.0)
    np.testing.assert_allclose(apply_affine([[10, 20], [50, 40]], m), [[-0.5, -0.5], [63.5, 31.5]])
    # tall box in a wide crop: the height sets the scale (32 / 40), centred horizontally
    m = box_to_matrix([0, 0, 10, 40], (64, 32), padding=1.0)
    np.testing.assert_allclose(apply_affine([[5, 20], [0, 0], [10, 40]], m),
                               [[31.5, 15.5], [27.5, -0.5], [35.5, 31.5]])  # fmt: skip
    # padding 1.25: the box covers the middle 1/1.25 of the crop
    m = box_to_matrix([10, 20, 40, 20], (64, 32), padding=1.25)
    np.testing.assert_allclose(
        apply_affine([[10, 30], [50, 30]], m), [[31.5 - 25.6, 15.5], [31.5 + 25.6, 15.5]]
    )


@pytest.mark.parametrize("seed", range(5))
def test_box_to_matrix_centre_aspect_and_rotation(seed):
    rng = np.random.default_rng(seed)
    box = np.r_[rng.uniform(0, 50, 2), rng.uniform(5, 60, 2)]
    out = (int(rng.integers(16, 100)), int(rng.integers(16, 100)))
    rot, zoom = rng.uniform(-180, 180), rng.uniform(0.5, 2)
    m = box_to_matrix(box, out, padding=1.3, rotation=rot, scale=zoom)
    centre = box[:2] + box[2:] / 2
    np.testing.assert_allclose(
        apply_affine(centre, m), [(out[0] - 1) / 2, (out[1] - 1) / 2], atol=1e-9
    )
    # isotropic: no squash, no shear (aspect ratio preserved)
    a = m[:, :2]
    np.testing.assert_allclose(a @ a.T, np.eye(2) * np.linalg.det(a), atol=1e-9)
    # same linear part as OpenCV's rotation matrix (an independent reference) for the same angle
    s = math.sqrt(np.linalg.det(a))
    np.testing.assert_allclose(a, cv2.getRotationMatrix2D((0.0, 0.0), rot, s)[:, :2], atol=1e-9)
    # the padded box fits inside the crop and touches it along one axis
    s0 = min(out[0] / (box[2] * 1.3), out[1] / (box[3] * 1.3))
    np.testing.assert_allclose(s, s0 * zoom, rtol=1e-9)


def test_box_to_matrix_shift_and_flip():
    box = [10, 10, 20, 20]
    m = box_to_matrix(box, (32, 32), padding=1.0, shift=(0.25, -0.5))
    # the crop centre moved by a quarter of the box width right and half its height up
    np.testing.assert_allclose(apply_affine([20 + 5, 20 - 10], m), [15.5, 15.5])
    mf = box_to_matrix(box, (32, 32), padding=1.0, flip=True)
    assert is_mirrored(mf) and not is_mirrored(box_to_matrix(box, (32, 32)))
    np.testing.assert_allclose(mf, compose_matrices(box_to_matrix(box, (32, 32), padding=1.0),
                                                    [[-1, 0, 31], [0, 1, 0]]))  # fmt: skip


def test_rotation_is_counter_clockwise_on_screen():
    m = affine_matrix((50, 50), 101.0, 90.0, (101, 101))  # unit scale
    # a point right of the centre ends up above it (smaller y) on screen
    np.testing.assert_allclose(apply_affine([60, 50], m), [50, 40], atol=1e-9)


def test_image_box_whole_image_crop_is_identity():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (24, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(image_box(img), [-0.5, -0.5, 30, 24])
    m = box_to_matrix(image_box(img), (30, 24), padding=1.0)
    np.testing.assert_allclose(m, [[1, 0, 0], [0, 1, 0]], atol=1e-12)
    np.testing.assert_array_equal(warp_image(img, m, (30, 24)), img)


def test_invert_and_compose_round_trip():
    rng = np.random.default_rng(5)
    for _ in range(20):
        m = np.hstack([rng.normal(size=(2, 2)) + 2 * np.eye(2), rng.normal(0, 20, (2, 1))])
        inv = invert_matrix(m)
        np.testing.assert_allclose(compose_matrices(m, inv), [[1, 0, 0], [0, 1, 0]], atol=1e-9)
        np.testing.assert_allclose(inv, cv2.invertAffineTransform(m), atol=1e-9)
        pts = rng.uniform(-50, 150, (7, 2))
        np.testing.assert_allclose(apply_affine(apply_affine(pts, m), inv), pts, atol=1e-8)
        n = np.hstack([rng.normal(size=(2, 2)), rng.normal(size=(2, 1))])
        m3 = np.vstack([m, [0, 0, 1]])
        n3 = np.vstack([n, [0, 0, 1]])
        np.testing.assert_allclose(compose_matrices(m, n), (n3 @ m3)[:2], atol=1e-9)
    with pytest.raises(ValueError, match="singular"):
        invert_matrix([[1, 2, 0], [2, 4, 0]])


def test_warp_image_hand_example_and_shapes():
    img = np.arange(20, dtype=np.uint8).reshape(4, 5)
    shift = [[1.0, 0, 1.0], [0, 1.0, 0]]  # content one pixel right
    out = warp_image(img, shift, (5, 4))
    np.testing.assert_array_equal(out[:, 1:], img[:, :4])
    np.testing.assert_array_equal(out[:, 0], 0)
    assert warp_image(np.zeros((4, 5, 3), np.uint8), shift, (7, 3)).shape == (3, 7, 3)
    assert warp_image(img, shift, 6).shape == (6, 6)
    filled = warp_image(img, shift, (5, 4), border_value=9)
    np.testing.assert_array_equal(filled[:, 0], 9)


# --- photometric and augmentation ---------------------------------------------------------------


def test_photometric_is_uint8_seeded_and_identity_when_off():
    rng0 = np.random.default_rng(0)
    img = rng0.integers(0, 256, (16, 20, 3), dtype=np.uint8)
    a = photometric(img, np.random.default_rng(1))
    b = photometric(img, np.random.default_rng(1))
    c = photometric(img, np.random.default_rng(2))
    assert a.dtype == np.uint8 and a.shape == img.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    off = photometric(img, np.random.default_rng(1), 0.0, 0.0, 0.0, 0.0, (1.0, 1.0))
    np.testing.assert_array_equal(off, img)
    grey = img[..., 0]
    g = photometric(grey, np.random.default_rng(1))
    assert g.shape == grey.shape and g.dtype == np.uint8
    # brightness only, hand-checked: every pixel scales by the same factor
    flat = np.full((4, 4, 3), 100, np.uint8)
    out = photometric(flat, np.random.default_rng(3), 0.5, 0.0, 0.0, 0.0, (1.0, 1.0))
    factor = np.random.default_rng(3).uniform(0.5, 1.5)
    np.testing.assert_array_equal(out, np.full((4, 4, 3), round(100 * factor), np.uint8))


def test_random_erase_hides_visible_points_under_the_patch():
    img = np.full((40, 40, 3), 128, np.uint8)
    ys, xs = np.mgrid[0:40:4, 0:40:4]
    kp = np.column_stack([xs.ravel(), ys.ravel(), np.full(xs.size, 2.0)])
    kp[::7, 2] = 0
    out, kp2 = random_erase(img, np.random.default_rng(4), (0.3, 0.5), kp)
    changed = np.any(out != img, axis=2)
    if not changed.any():  # the random colour happened to equal the background
        pytest.skip("occluder colour equals background")
    rows, cols = np.flatnonzero(changed.any(1)), np.flatnonzero(changed.any(0))
    under = (
        (kp[:, 0] >= cols[0])
        & (kp[:, 0] <= cols[-1])
        & (kp[:, 1] >= rows[0])
        & (kp[:, 1] <= rows[-1])
    )
    np.testing.assert_array_equal(kp2[:, 2], np.where(under & (kp[:, 2] == 2), 1, kp[:, 2]))
    assert (kp2[:, 2] == 1).sum() > 0


def test_random_augment_is_seeded_and_consistent():
    sk = get_skeleton("faces5")
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    kp = np.column_stack([rng.uniform(8, 32, 5), rng.uniform(8, 40, 5), np.full(5, 2.0)])
    a = random_augment(img, kp, sk, np.random.default_rng(11))
    b = random_augment(img, kp, sk, np.random.default_rng(11))
    c = random_augment(img, kp, sk, np.random.default_rng(12))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == img.shape and a[1].shape == kp.shape

    # with photometric steps off, the output is exactly the (anti-aliased) crop of the returned matrix
    cfg = AugmentConfig(rotation=40, scale=(0.7, 1.4), shift=0.1, flip_prob=1.0, **NO_PHOTOMETRIC)
    out, kp_out, m = random_augment(
        img, kp, sk, np.random.default_rng(5), cfg, output_size=(32, 32)
    )
    assert is_mirrored(m)
    np.testing.assert_array_equal(out, crop_image(img, m, (32, 32)))
    np.testing.assert_allclose(kp_out, transform_keypoints(kp, m, (32, 32), sk))
    # flipped: the output's left eye is the input's right eye, moved by the matrix
    le, re = sk.index("left_eye"), sk.index("right_eye")
    np.testing.assert_allclose(kp_out[le, :2], apply_affine(kp[re, :2], m))


def test_augment_config_validation():
    with pytest.raises(ValueError, match="scale"):
        AugmentConfig(scale=(1.2, 0.8))
    with pytest.raises(ValueError, match="flip_prob"):
        AugmentConfig(flip_prob=1.5)
    with pytest.raises(ValueError, match="rotation"):
        AugmentConfig(rotation=-1)
    with pytest.raises(TypeError):
        random_augment(np.zeros((8, 8), np.uint8), np.zeros((5, 3)), "faces5",
                       np.random.default_rng(0), {"rotation": 3})  # fmt: skip


# --- tensors and prediction crops ---------------------------------------------------------------


def test_to_tensor_and_back():
    img = np.zeros((2, 3, 3), np.uint8)
    img[0, 0] = 255
    t = to_tensor(img)
    assert t.shape == (3, 2, 3) and str(t.dtype) == "torch.float32"
    np.testing.assert_allclose(t[:, 0, 0].numpy(), (1 - MEAN) / STD, rtol=1e-6)
    np.testing.assert_allclose(t[:, 1, 1].numpy(), -MEAN / STD, rtol=1e-6)
    grey = np.full((4, 5), 51, np.uint8)
    tg = to_tensor(grey)
    assert tg.shape == (3, 4, 5)
    np.testing.assert_allclose(tg[:, 0, 0].numpy(), (0.2 - MEAN) / STD, rtol=1e-5)
    batch = np.random.default_rng(0).integers(0, 256, (2, 6, 7, 3), dtype=np.uint8)
    tb = to_tensor(batch)
    assert tb.shape == (2, 3, 6, 7)
    np.testing.assert_array_equal(from_tensor(tb), batch)
    np.testing.assert_array_equal(from_tensor(to_tensor(batch[0])), batch[0])
    with pytest.raises(ValueError, match="uint8"):
        to_tensor(np.zeros((4, 4, 3), np.float32))


def test_crop_batch_and_uncrop_round_trip():
    rng = np.random.default_rng(0)
    images = [
        rng.integers(0, 256, (50, 60, 3), dtype=np.uint8),
        rng.integers(0, 256, (40, 30), dtype=np.uint8),
    ]
    boxes = np.array([[10, 5, 30, 20], [3, 4, 20, 30]], float)
    crops, ms = crop_batch(images, boxes, (32, 48))
    assert crops.shape == (2, 48, 32, 3) and crops.dtype == np.uint8 and ms.shape == (2, 2, 3)
    np.testing.assert_allclose(ms[0], box_to_matrix(boxes[0], (32, 48), padding=1.25))
    np.testing.assert_array_equal(crops[1, ..., 0], warp_image(images[1], ms[1], (32, 48)))
    pts = np.stack(
        [np.column_stack([rng.uniform(10, 40, 4), rng.uniform(5, 25, 4), rng.random(4)])] * 2
    )
    in_crop = np.stack(
        [np.column_stack([apply_affine(pts[i, :, :2], ms[i]), pts[i, :, 2]]) for i in range(2)]
    )
    np.testing.assert_allclose(uncrop_keypoints(in_crop, ms), pts, atol=1e-9)
    whole, mw = crop_batch(images[:1], None, (60, 50))
    np.testing.assert_array_equal(whole[0], images[0])  # whole image, same size: unchanged
    with pytest.raises(ValueError, match="boxes"):
        crop_batch(images, boxes[:1], (32, 32))
    with pytest.raises(ValueError, match="mirrors"):
        uncrop_keypoints(in_crop, np.stack([box_to_matrix(boxes[0], 32, flip=True)] * 2))


# --- bad input ----------------------------------------------------------------------------------


def test_bad_inputs_raise_clear_errors():
    kp = np.zeros((5, 3))
    kp[:, 2] = 2
    eye = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    with pytest.raises(ValueError, match="uint8"):
        warp_image(np.zeros((8, 8), np.float32), eye, (8, 8))
    with pytest.raises(ValueError, match="H×W"):
        warp_image(np.zeros((8, 8, 4), np.uint8), eye, (8, 8))
    with pytest.raises(ValueError, match="2×3"):
        warp_image(np.zeros((8, 8), np.uint8), np.eye(2), (8, 8))
    with pytest.raises(ValueError, match="output_size"):
        warp_image(np.zeros((8, 8), np.uint8), eye, (0, 8))
    with pytest.raises(ValueError, match="NaN"):
        transform_keypoints(np.where(np.arange(15).reshape(5, 3) == 3, np.nan, kp), eye, (8, 8))
    nan_unlabelled = kp.copy()
    nan_unlabelled[1] = (np.nan, np.nan, 0)
    assert transform_keypoints(nan_unlabelled, eye, (8, 8))[1, 2] == 0  # allowed: v = 0
    with pytest.raises(ValueError, match="visibility"):
        transform_keypoints(np.full((5, 3), 3.0), eye, (8, 8))
    with pytest.raises(ValueError, match=r"\(\.\.\., K, 3\)"):
        transform_keypoints(np.zeros((5, 2)), eye, (8, 8))
    with pytest.raises(ValueError, match="mirrors"):
        transform_keypoints(kp, [[-1.0, 0, 7], [0, 1.0, 0]], (8, 8))
    with pytest.raises(ValueError, match="layout 'faces5'"):
        flip_keypoints(np.zeros((17, 3)), 10, "faces5")
    with pytest.raises(ValueError, match="zero size"):
        box_to_matrix([1, 1, 0, 0], (8, 8))
    with pytest.raises(ValueError, match="negative"):
        box_to_matrix([1, 1, -3, 4], (8, 8))
    with pytest.raises(ValueError, match="NaN"):
        box_to_matrix([1, np.nan, 3, 4], (8, 8))
    with pytest.raises(ValueError, match="uint8"):
        photometric(np.zeros((4, 4, 3), np.float64), np.random.default_rng(0))
