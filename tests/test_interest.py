"""Tests for kplearn.classical.interest and kplearn.classical.geometry_eval."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from kplearn.classical.geometry_eval import (
    corner_error,
    correct_matches,
    evaluate_pair,
    image_corners,
    inside_image,
    matching_score,
    repeatability,
    repeatability_counts,
    repeated_pairs,
    shared_masks,
)
from kplearn.classical.interest import (
    METHODS,
    MIN_IMAGE_SIDE,
    Keypoints,
    describe,
    detect,
    detect_and_describe,
    detect_harris,
    detect_orb,
    detect_shi_tomasi,
    estimate_homography,
    match_descriptors,
    warp_points,
)

ORIENTED = ("sift", "orb", "akaze")
DESCRIPTOR_SHAPE = {
    "harris": (128, np.float32),
    "shi-tomasi": (128, np.float32),
    "fast": (128, np.float32),
    "sift": (128, np.float32),
    "orb": (32, np.uint8),
    "akaze": (61, np.uint8),
}


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    """A 320×240 RGB crop with texture and corners."""
    return np.ascontiguousarray(skimage.data.astronaut()[40:280, 100:420])


def random_homography(rng: np.random.Generator, size: tuple[int, int], jitter: float) -> np.ndarray:
    """A homography moving each image corner by up to ``jitter`` px (independent of kplearn)."""
    width, height = size
    src = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    dst = src + rng.uniform(-jitter, jitter, src.shape).astype(np.float32)
    return cv2.getPerspectiveTransform(src, dst).astype(np.float64)


def warp(image: np.ndarray, H: np.ndarray) -> np.ndarray:
    """cv2.warpPerspective works on pixel indices, i.e. pixel centres, like kplearn."""
    return cv2.warpPerspective(image, H, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR)


# --------------------------------------------------------------------------------------
# Detectors: arrays, input handling
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_detector_returns_documented_arrays(rgb, method):
    kp = detect(rgb, method, max_points=150)
    n = len(kp)
    assert 10 <= n <= 150
    assert kp.method == method
    assert kp.xy.shape == (n, 2) and kp.xy.dtype == np.float64
    for name in ("scale", "angle", "response"):
        assert getattr(kp, name).shape == (n,)
    assert inside_image(kp.xy, (rgb.shape[1], rgb.shape[0])).all()
    assert (kp.scale > 0).all()
    assert np.all(np.diff(kp.response) <= 0), "points must come strongest first"
    if method in ORIENTED:
        assert np.all((kp.angle >= 0) & (kp.angle < 360))
    else:
        assert np.isnan(kp.angle).all()
    assert kp.to_array().shape == (n, 5)


@pytest.mark.parametrize("method", METHODS)
def test_grey_input_equals_rgb_with_equal_channels(rgb, method):
    grey = rgb[..., 1].copy()
    from_grey = detect(grey, method, max_points=100)
    from_rgb = detect(np.dstack([grey] * 3), method, max_points=100)
    np.testing.assert_array_equal(from_grey.xy, from_rgb.xy)


def test_max_points_and_none(rgb):
    assert len(detect(rgb, "fast", max_points=7)) == 7
    assert len(detect(rgb, "fast", max_points=None)) > 500
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="max_points"):
            detect(rgb, "fast", max_points=bad)


def test_unknown_method_and_parameter(rgb):
    with pytest.raises(ValueError, match="unknown method"):
        detect(rgb, "surf")
    with pytest.raises(TypeError):
        detect(rgb, "sift", not_a_parameter=3)
    assert detect(rgb, "shi_tomasi", max_points=5).method == "shi-tomasi"


@pytest.mark.parametrize(
    "image, error, message",
    [
        (np.zeros((64, 64), np.float64), ValueError, "uint8"),
        (np.zeros((64, 64), np.uint16), ValueError, "uint8"),
        (np.zeros((64, 64, 4), np.uint8), ValueError, "H×W×3"),
        (np.zeros((64, 64, 1), np.uint8), ValueError, "H×W×3"),
        (np.zeros(64, np.uint8), ValueError, "H×W"),
        (np.zeros((0, 0), np.uint8), ValueError, "empty"),
        (np.zeros((0, 10, 3), np.uint8), ValueError, "empty"),
        (np.zeros((8, 200), np.uint8), ValueError, "smaller than"),
        ([[0, 1], [2, 3]], TypeError, "numpy array"),
    ],
)
@pytest.mark.parametrize("method", METHODS)
def test_bad_images_raise(method, image, error, message):
    with pytest.raises(error, match=message):
        detect(image, method)


@pytest.mark.parametrize("method", METHODS)
def test_constant_image_gives_zero_points(method):
    image = np.full((64, 80, 3), 128, np.uint8)
    kp, descriptors = detect_and_describe(image, method)
    assert len(kp) == 0 and kp.xy.shape == (0, 2)
    width, dtype = DESCRIPTOR_SHAPE[method]
    assert descriptors.shape == (0, width) and descriptors.dtype == dtype


@pytest.mark.parametrize("method", METHODS)
def test_smallest_accepted_image_does_not_crash(method):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (MIN_IMAGE_SIDE, MIN_IMAGE_SIDE), dtype=np.uint8)
    kp, descriptors = detect_and_describe(image, method)
    assert len(kp) == len(descriptors)


def test_orb_finds_nothing_below_its_border():
    # Documented: ORB ignores a 31 px border, so a 60×60 image has no ORB points.
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (60, 60), dtype=np.uint8)
    assert len(detect_orb(image)) == 0


# --------------------------------------------------------------------------------------
# Conventions: pixel centres and angles
# --------------------------------------------------------------------------------------
def _flip_discrepancy(xy: np.ndarray, xy_flipped: np.ndarray, axis: int, size: int):
    """Signed mean of x - (size - 1 - x') over points found in both images."""
    mirrored = xy_flipped.copy()
    mirrored[:, axis] = size - 1 - mirrored[:, axis]
    distance, nearest = cKDTree(mirrored).query(xy)
    close = distance < 1.5
    return (xy[close, axis] - mirrored[nearest[close], axis]).mean(), close.mean()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("axis", [0, 1])
def test_flip_maps_points_to_mirror_position(rgb, method, axis):
    # Pixel-centre convention: a point at x in the image is at W - 1 - x in its mirror image.
    flipped = np.ascontiguousarray(rgb[:, ::-1] if axis == 0 else rgb[::-1])
    size = rgb.shape[1 - axis]
    bias, found = _flip_discrepancy(
        detect(rgb, method, 200).xy, detect(flipped, method, 200).xy, axis, size
    )
    assert found > 0.8
    assert abs(bias) < 0.03


def test_flip_check_catches_opencv_orb_raw_positions(rgb):
    # The same check on OpenCV's uncorrected ORB positions fails: the test has teeth.
    orb = cv2.ORB_create(200)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    raw = np.array([k.pt for k in orb.detect(grey, None)])
    raw_flipped = np.array([k.pt for k in orb.detect(np.ascontiguousarray(grey[:, ::-1]), None)])
    bias, _ = _flip_discrepancy(raw, raw_flipped, 0, rgb.shape[1])
    assert abs(bias) > 0.1


def test_harris_subpixel_finds_true_square_corners():
    # A white square over rows/cols 20..43 has its corners at 19.5 and 43.5 (pixel edges).
    image = np.zeros((64, 64), np.uint8)
    image[20:44, 20:44] = 255
    expected = np.array([[19.5, 19.5], [43.5, 19.5], [43.5, 43.5], [19.5, 43.5]])
    for detector in (detect_harris, detect_shi_tomasi):
        integer = detector(image, min_distance=5)
        assert len(integer) == 4
        # Without refinement the corner lands on the square's corner pixel (inside).
        assert sorted(set(integer.xy.ravel())) == [20.0, 43.0]
        refined = detector(image, min_distance=5, subpixel=True)
        distance = cdist(expected, refined.xy).min(axis=1)
        assert distance.max() < 0.2


@pytest.mark.parametrize("method", ORIENTED)
def test_angle_turns_with_the_image(rgb, method):
    # np.rot90 turns the image 90° counter-clockwise on screen: (x, y) -> (y, W - 1 - x),
    # and a direction at angle a (from +x towards +y) goes to a - 90.
    width = rgb.shape[1]
    kp = detect(rgb, method, 200)
    kp_rot = detect(np.ascontiguousarray(np.rot90(rgb)), method, 200)
    moved = np.column_stack([kp.xy[:, 1], width - 1 - kp.xy[:, 0]])
    distance, nearest = cKDTree(kp_rot.xy).query(moved)
    close = distance < 0.5
    assert close.mean() > 0.7
    change = (kp_rot.angle[nearest[close]] - kp.angle[close]) % 360
    assert abs(np.median(change) - 270.0) < 2.0


# --------------------------------------------------------------------------------------
# Descriptors
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_detect_and_describe_shapes_and_describe_agrees(rgb, method):
    kp, descriptors = detect_and_describe(rgb, method, max_points=100)
    width, dtype = DESCRIPTOR_SHAPE[method]
    assert descriptors.shape == (len(kp), width) and descriptors.dtype == dtype
    # Describing the detected points again gives the same rows.
    kp_again, descriptors_again = describe(rgb, detect(rgb, method, max_points=100))
    np.testing.assert_array_equal(kp_again.xy, kp.xy)
    np.testing.assert_allclose(descriptors_again, descriptors, atol=1e-4)


def test_describe_drops_border_points_in_order(rgb):
    # ORB cannot describe points within 31 px of the border: they are dropped, order kept.
    xy = np.array([[5.0, 5.0], [160.0, 120.0], [100.0, 60.0], [318.0, 100.0], [200.0, 150.0]])
    n = len(xy)
    kp = Keypoints(xy, np.full(n, 7.0), np.full(n, np.nan), np.arange(n, 0, -1.0), "fast")
    kept, descriptors = describe(rgb, kp, "orb")
    np.testing.assert_array_equal(kept.xy, xy[[1, 2, 4]])
    assert descriptors.shape == (3, 32)
    # Described one at a time, each row is the same.
    for row, index in enumerate([1, 2, 4]):
        _, single = describe(rgb, kp[index], "orb")
        np.testing.assert_array_equal(single[0], descriptors[row])


def test_describe_refuses_impossible_combinations(rgb):
    kp = detect(rgb, "fast", 10)
    with pytest.raises(ValueError, match="AKAZE"):
        describe(rgb, kp, "akaze")
    with pytest.raises(ValueError, match="no descriptor"):
        describe(rgb, kp, "harris")
    unlabelled = Keypoints(kp.xy, kp.scale, kp.angle, kp.response)
    with pytest.raises(ValueError, match="method"):
        describe(rgb, unlabelled)
    bad = Keypoints(np.array([[np.nan, 3.0]]), [7.0], [np.nan], [1.0], "fast")
    with pytest.raises(ValueError, match="non-finite"):
        describe(rgb, bad)


def test_keypoints_validation_and_indexing():
    with pytest.raises(ValueError, match="xy"):
        Keypoints(np.zeros((3, 3)), np.zeros(3), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="scale"):
        Keypoints(np.zeros((3, 2)), np.zeros(2), np.zeros(3), np.zeros(3))
    kp = Keypoints(np.arange(6.0).reshape(3, 2), [1, 2, 3], [0, 0, 0], [3, 2, 1], "sift")
    assert len(kp[1:]) == 2 and kp[2].xy.tolist() == [[4.0, 5.0]]
    assert kp[np.array([True, False, True])].scale.tolist() == [1.0, 3.0]


# --------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------
def _reference_matches(dist: np.ndarray, ratio, mutual) -> set:
    """A loop-by-loop reference of the ratio test and mutual check."""
    pairs = set()
    for i in range(dist.shape[0]):
        order = np.argsort(dist[i], kind="stable")
        j = order[0]
        if ratio is not None and len(order) > 1 and not dist[i, j] < ratio * dist[i, order[1]]:
            continue
        if mutual and np.argmin(dist[:, j]) != i:
            continue
        pairs.add((i, int(j)))
    return pairs


@pytest.mark.parametrize("ratio", [None, 0.8])
@pytest.mark.parametrize("mutual", [False, True])
def test_matching_l2_against_reference(ratio, mutual):
    rng = np.random.default_rng(3)
    d1 = rng.normal(size=(40, 16)).astype(np.float32)
    d2 = np.concatenate([d1[:25] + rng.normal(0, 0.1, (25, 16)), rng.normal(size=(30, 16))])
    d2 = d2.astype(np.float32)
    matches = match_descriptors(d1, d2, ratio=ratio, mutual=mutual)
    reference = _reference_matches(cdist(d1, d2), ratio, mutual)
    assert {tuple(m) for m in matches.tolist()} == reference
    if ratio is not None and mutual:
        assert {(i, i) for i in range(25)} <= reference  # the noisy copies are found


def test_matching_hamming_against_unpacked_bits():
    rng = np.random.default_rng(4)
    d1 = rng.integers(0, 256, (30, 32), dtype=np.uint8)
    flips = rng.random((30, 32 * 8)) < 0.05
    d2 = np.packbits(np.unpackbits(d1, axis=1) ^ flips, axis=1)[::-1].copy()
    dist = cdist(np.unpackbits(d1, axis=1), np.unpackbits(d2, axis=1), metric="hamming") * 256
    matches = match_descriptors(d1, d2, ratio=0.8)
    assert {tuple(m) for m in matches.tolist()} == _reference_matches(dist, 0.8, True)
    assert {tuple(m) for m in matches.tolist()} == {(i, 29 - i) for i in range(30)}


def test_ratio_test_rejects_duplicated_descriptors():
    # d2 holds two identical copies of d1's first descriptor: ambiguous, rejected.
    d1 = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 5.0]], np.float32)
    d2 = np.array([[0.0, 0.0, 0.1], [0.0, 0.0, 0.1], [5.0, 5.0, 5.2]], np.float32)
    assert match_descriptors(d1, d2, ratio=0.8).tolist() == [[1, 2]]
    # Without the ratio test the duplicate is matched (to the first copy).
    assert match_descriptors(d1, d2, ratio=None).tolist() == [[0, 0], [1, 2]]


def test_mutual_check_removes_many_to_one():
    d1 = np.array([[0.0], [0.4], [10.0]])
    d2 = np.array([[0.3], [10.0]])
    assert match_descriptors(d1, d2, ratio=None, mutual=False).tolist() == [[0, 0], [1, 0], [2, 1]]
    assert match_descriptors(d1, d2, ratio=None, mutual=True).tolist() == [[1, 0], [2, 1]]


def test_matching_bad_input():
    with pytest.raises(ValueError, match="widths"):
        match_descriptors(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="ratio"):
        match_descriptors(np.zeros((3, 4)), np.zeros((3, 4)), ratio=1.5)
    with pytest.raises(ValueError, match="uint8"):
        match_descriptors(np.zeros((3, 4)), np.zeros((3, 4)), norm="hamming")
    with pytest.raises(ValueError, match="NaN"):
        match_descriptors(np.full((3, 4), np.nan), np.zeros((3, 4)))
    assert match_descriptors(np.zeros((0, 4)), np.zeros((3, 4))).shape == (0, 2)


# --------------------------------------------------------------------------------------
# Homographies
# --------------------------------------------------------------------------------------
def test_warp_points_hand_worked():
    H = np.array([[2.0, 0.0, 1.0], [0.0, 1.0, -1.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(
        warp_points(np.array([[1.0, 2.0], [0.0, 0.0]]), H), [[3.0, 1.0], [1.0, -1.0]]
    )
    projective = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    out = warp_points(np.array([[1.0, 5.0], [-2.0, 0.0]]), projective)  # w = x + 1
    np.testing.assert_allclose(out[0], [0.5, 2.5])
    assert np.isnan(out[1]).all()  # w < 0: behind the line at infinity


def test_ransac_recovers_known_homography_with_outliers():
    rng = np.random.default_rng(5)
    H_true = random_homography(rng, (320, 240), jitter=40)
    pts1 = rng.uniform(0, [320, 240], (200, 2))
    pts2 = warp_points(pts1, H_true) + rng.normal(0, 0.3, (200, 2))
    outlier = rng.random(200) < 0.4
    pts2[outlier] = rng.uniform(0, [320, 240], (outlier.sum(), 2))
    H, inliers = estimate_homography(pts1, pts2, ransac_threshold=3.0, seed=0)
    assert corner_error(H, H_true, (320, 240)) < 0.5
    # Inliers: the clean points (an outlier can land within 3 px by chance, rarely).
    assert inliers[~outlier].mean() > 0.98
    assert inliers[outlier].mean() < 0.05
    again, _ = estimate_homography(pts1, pts2, ransac_threshold=3.0, seed=0)
    np.testing.assert_array_equal(H, again)


def test_estimate_homography_bad_input():
    with pytest.raises(ValueError, match="at least 4"):
        estimate_homography(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="differ"):
        estimate_homography(np.zeros((5, 2)), np.zeros((6, 2)))
    with pytest.raises(ValueError, match="NaN"):
        estimate_homography(np.full((5, 2), np.nan), np.zeros((5, 2)))
    collinear = np.column_stack([np.arange(10.0), np.arange(10.0)])
    H, inliers = estimate_homography(collinear, collinear * 2)
    assert H is None and not inliers.any()


# --------------------------------------------------------------------------------------
# Evaluation under known geometry
# --------------------------------------------------------------------------------------
def test_shared_region_and_corners():
    shift = np.array([[1.0, 0.0, 10.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    xy1 = np.array([[5.0, 5.0], [55.0, 5.0]])  # the second lands at x = 65 > 63.5
    xy2 = np.array([[5.0, 5.0], [30.0, 5.0]])  # the first comes from x = -5 < -0.5
    mask1, mask2 = shared_masks(xy1, xy2, shift, (64, 32))
    assert mask1.tolist() == [True, False] and mask2.tolist() == [False, True]
    np.testing.assert_array_equal(image_corners((64, 32))[2], [63.5, 31.5])


def test_repeatability_hand_worked():
    shift = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # 2 px right
    xy1 = np.array([[10.0, 10.0], [30.0, 30.0], [62.0, 40.0]])  # third leaves the image
    xy2 = np.array([[12.0, 10.0], [36.0, 30.0]])  # first repeated exactly, second 4 px off
    assert repeatability_counts(xy1, xy2, shift, (64, 64), eps=3.0) == (1, 2, 2)
    assert repeatability(xy1, xy2, shift, (64, 64), eps=3.0) == 0.5
    assert repeatability(xy1, xy2, shift, (64, 64), eps=4.0) == 1.0
    # Two detections competing for one repeated point count once; the closer one wins.
    xy1 = np.array([[10.0, 10.0], [10.5, 10.0]])
    xy2 = np.array([[12.4, 10.0], [40.0, 40.0]])  # 0.4 px from the first, 0.1 from the second
    assert repeated_pairs(xy1, xy2, shift, (64, 64)).tolist() == [[1, 0]]
    assert repeatability(xy1, xy2, shift, (64, 64)) == 0.5
    # No shared points: undefined.
    assert np.isnan(repeatability(np.zeros((0, 2)), xy2, shift, (64, 64)))


def _reference_repeatability(xy1, xy2, H, size, eps):
    """Brute-force reference: shared masks, then greedy pairing over a sorted pair list."""
    width, height = size

    def inside(p):
        return (-0.5 <= p[0] <= width - 0.5) and (-0.5 <= p[1] <= height - 0.5)

    def apply(M, p):
        q = M @ np.array([p[0], p[1], 1.0])
        return q[:2] / q[2]

    H_inv = np.linalg.inv(H)
    shared1 = [i for i in range(len(xy1)) if inside(apply(H, xy1[i]))]
    shared2 = [j for j in range(len(xy2)) if inside(apply(H_inv, xy2[j]))]
    candidates = sorted(
        (float(np.hypot(*(apply(H, xy1[i]) - xy2[j]))), i, j) for i in shared1 for j in shared2
    )
    used1, used2, count = set(), set(), 0
    for distance, i, j in candidates:
        if distance <= eps and i not in used1 and j not in used2:
            used1.add(i)
            used2.add(j)
            count += 1
    n = min(len(shared1), len(shared2))
    return float("nan") if n == 0 else count / n


@given(
    n1=st.integers(0, 25),
    n2=st.integers(0, 25),
    seed=st.integers(0, 2**16),
    eps=st.sampled_from([0.5, 2.0, 3.0, 8.0]),
)
@settings(max_examples=40, deadline=None)
def test_repeatability_matches_brute_force_reference(n1, n2, seed, eps):
    rng = np.random.default_rng(seed)
    size = (48, 32)
    H = random_homography(rng, size, jitter=6)
    xy1 = rng.uniform(-0.5, [47.5, 31.5], (n1, 2))
    # Half of image 2's points near warped points of image 1, half anywhere.
    near = warp_points(xy1[: n2 // 2], H) + rng.normal(0, 2.0, (min(n1, n2 // 2), 2))
    xy2 = np.concatenate([near, rng.uniform(-0.5, [47.5, 31.5], (n2 - len(near), 2))])
    expected = _reference_repeatability(xy1, xy2, H, size, eps)
    got = repeatability(xy1, xy2, H, size, eps=eps)
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected)


@pytest.mark.parametrize("method", METHODS)
def test_repeatability_is_one_for_identity(rgb, method):
    kp = detect(rgb, method, 200)
    assert repeatability(kp, kp, np.eye(3), (rgb.shape[1], rgb.shape[0]), eps=0.0) == 1.0


def test_matching_score_hand_worked():
    shift = np.array([[1.0, 0.0, 5.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # 5 px right
    xy1 = np.array([[10.0, 10.0], [30.0, 30.0], [50.0, 50.0], [60.0, 5.0]])  # last: x -> 65
    xy2 = np.array([[15.0, 10.0], [35.0, 30.0], [55.0, 50.0], [3.0, 5.0]])  # last: from -2
    # Shared: three points in each image. Matches: 0-0 correct, 1-2 wrong, 3-3 outside.
    matches = np.array([[0, 0], [1, 2], [3, 3]])
    assert correct_matches(xy1, xy2, matches, shift).tolist() == [True, False, False]
    assert matching_score(xy1, xy2, matches, shift, (64, 64)) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="one-to-one"):
        matching_score(xy1, xy2, np.array([[0, 0], [1, 0]]), shift, (64, 64))
    with pytest.raises(ValueError, match="outside"):
        matching_score(xy1, xy2, np.array([[0, 9]]), shift, (64, 64))


def test_corner_error_hand_worked():
    H_true = random_homography(np.random.default_rng(6), (320, 240), 30)
    assert corner_error(H_true, H_true, (320, 240)) == 0.0
    assert corner_error(3.0 * H_true, H_true, (320, 240)) == pytest.approx(0.0, abs=1e-9)
    shift = np.array([[1.0, 0.0, 3.0], [0.0, 1.0, 4.0], [0.0, 0.0, 1.0]])
    assert corner_error(shift, np.eye(3), (100, 50)) == pytest.approx(5.0)
    # Scaling by 2 about the origin moves corner (x, y) by |(x, y)|: hand-worked mean.
    scale = np.diag([2.0, 2.0, 1.0])
    corners = image_corners((10, 6))
    expected = np.linalg.norm(corners, axis=1).mean()
    assert corner_error(scale, np.eye(3), (10, 6)) == pytest.approx(expected)
    assert corner_error(None, np.eye(3), (10, 6)) == np.inf


@pytest.mark.parametrize("method", ["sift", "orb", "akaze", "shi-tomasi"])
def test_evaluate_pair_under_a_known_homography(rgb, method):
    H = random_homography(np.random.default_rng(7), (320, 240), jitter=25)
    result = evaluate_pair(rgb, warp(rgb, H), H, method, max_points=300)
    assert result["repeatability"] > 0.4
    assert 0 < result["matching_score"] <= result["repeatability"] + 0.05
    assert result["corner_error"] < 3.0
    assert result["ms_per_image"] > 0


def test_benchmark_quick_smoke(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_interest_points.py"
    spec = importlib.util.spec_from_file_location("bench_interest_points", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--quick", "--methods", "orb", "fast"]) == 0
    out = capsys.readouterr().out
    assert "viewpoint change" in out and "illumination change" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("orb ", "fast "))]
    assert len(rows) == 4
    for row in rows:
        repeat, score = float(row[2]), float(row[3])
        assert 0.0 <= score <= 1.0 and 0.0 < repeat <= 1.0


@pytest.mark.parametrize("source", ["synthetic", "skimage"])
def test_homography_pairs_from_the_generator_agree_with_our_geometry(source):
    # kplearn.data.synthetic's pairs use the same pixel-centre homographies: Harris corners
    # with sub-pixel refinement come back within a fraction of a pixel.
    from kplearn.data.synthetic import make_homography_pairs

    residuals = []
    for pair in make_homography_pairs(4, (160, 120), seed=0, source=source):
        kp1 = detect_harris(pair.image, 200, subpixel=True)
        kp2 = detect_harris(pair.warped, 200, subpixel=True)
        pairs = repeated_pairs(kp1, kp2, pair.homography, (160, 120), eps=1.5)
        residuals.append(warp_points(kp1.xy[pairs[:, 0]], pair.homography) - kp2.xy[pairs[:, 1]])
    residuals = np.concatenate(residuals)
    assert len(residuals) >= 40
    # A half-pixel convention slip would show as a median offset near 0.5 px.
    assert np.abs(np.median(residuals, axis=0)).max() < 0.1
