"""Region-overlap repeatability (Mikolajczyk et al. 2005) under known homographies.

The expected numbers are derived by hand in the comments: disc areas, the lens area of two
equal discs, and which detections a zoom by 2 about the origin keeps in the shared region.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from kplearn.classical import geometry_eval as geo
from kplearn.classical.interest import Keypoints, warp_points
from kplearn.geometry import centred_similarity


def _equal_discs_error(r: float, d: float) -> float:
    # Two discs of radius r whose centres are d apart: the lens has area
    # 2 r² acos(d / 2r) - (d / 2) sqrt(4 r² - d²); the union is 2 π r² minus the lens.
    lens = 2 * r**2 * math.acos(d / (2 * r)) - 0.5 * d * math.sqrt(4 * r**2 - d**2)
    return 1 - lens / (2 * math.pi * r**2 - lens)


def test_disc_overlap_error_by_hand():
    assert geo.disc_overlap_error([0, 0], 3.0, [0, 0], 3.0) == pytest.approx(0.0)
    assert geo.disc_overlap_error([0, 0], 1.0, [5, 0], 1.0) == pytest.approx(1.0)  # apart
    # Concentric radii 2 and 4: intersection 4π, union 16π -> error 3/4.
    assert geo.disc_overlap_error([0, 0], 2.0, [0, 0], 4.0) == pytest.approx(0.75)
    # A small disc anywhere inside a large one: the same 1 - (r / R)².
    assert geo.disc_overlap_error([1, 1], 2.0, [0, 0], 4.0) == pytest.approx(0.75)
    for d in (0.5, 1.0, 3.0, 7.9):
        assert geo.disc_overlap_error([0, 0], 4.0, [d, 0], 4.0) == pytest.approx(
            _equal_discs_error(4.0, d), abs=1e-12
        )
    assert _equal_discs_error(4.0, 1.0) == pytest.approx(0.27399, abs=1e-5)
    # Broadcasting over many pairs, and symmetry.
    c = np.array([[0.0, 0.0], [2.0, 1.0]])
    np.testing.assert_allclose(
        geo.disc_overlap_error(c, [1.0, 2.0], c[::-1], [2.0, 1.0]),
        geo.disc_overlap_error(c[::-1], [2.0, 1.0], c, [1.0, 2.0]),
    )


def test_homography_area_scale_is_the_jacobian_determinant():
    assert geo.homography_area_scale(np.diag([3.0, 3.0, 1.0]), [[5.0, 7.0]]) == pytest.approx(9.0)
    H = np.array([[0.9, 0.2, 10.0], [-0.1, 1.1, 5.0], [4e-4, -3e-4, 1.0]])
    x = np.array([[40.0, 30.0]])
    h = 1e-5  # central differences of the mapped point
    cols = [(warp_points(x + e, H) - warp_points(x - e, H))[0] / (2 * h) for e in ([h, 0], [0, h])]
    jacobian = np.column_stack(cols)
    assert geo.homography_area_scale(H, x)[0] == pytest.approx(
        abs(np.linalg.det(jacobian)), rel=1e-6
    )
    assert geo.homography_area_scale(5.0 * H, x)[0] == pytest.approx(
        geo.homography_area_scale(H, x)[0]
    )


def test_region_repeatability_under_a_zoom_by_two():
    # H doubles every coordinate (a zoom by 2 about the origin); both images are 64×64.
    H = np.diag([2.0, 2.0, 1.0])
    size = (64, 64)
    kp1 = np.array([
        [10.0, 10.0, 4.0],  # A: radius 2 -> maps to (20, 20), radius 4
        [20.0, 5.0, 4.0],   # B: -> (40, 10), radius 4
        [5.0, 25.0, 6.0],   # C: -> (10, 50), radius 6
        [40.0, 40.0, 4.0],  # D: -> (80, 80), outside image 2: not shared
    ])  # fmt: skip
    kp2 = np.array([
        [20.0, 20.0, 8.0],  # A exactly: error 0
        [41.0, 10.0, 8.0],  # B, 1 px off, equal radii 4: error 0.27399 < 0.4
        [10.0, 50.0, 6.0],  # C's position but radius 3 (did not grow): error 1 - (3/6)² = 0.75
    ])  # fmt: skip
    # Shared: A, B, C of image 1 (D leaves image 2); all three of image 2 map back inside.
    assert geo.region_repeatability_counts(kp1, kp2, H, size) == (2, 3, 3)
    assert geo.region_pairs(kp1, kp2, H, size).tolist() == [[0, 0], [1, 1]]
    assert geo.region_repeatability(kp1, kp2, H, size) == pytest.approx(2 / 3)
    # The distance test ignores the scale: all three are within 3 px.
    assert geo.repeatability(kp1[:, :2], kp2[:, :2], H, size, eps=3.0) == 1.0
    # A stricter threshold drops B (0.27399 > 0.25) but not A.
    assert geo.region_repeatability(kp1, kp2, H, size, max_overlap_error=0.25) == pytest.approx(
        1 / 3
    )


def test_region_pairs_take_the_lowest_error_first_one_to_one():
    H = np.diag([2.0, 2.0, 1.0])
    kp1 = np.array([[10.0, 10.0, 4.0]])
    kp2 = np.array([[20.5, 20.0, 8.0], [20.0, 20.0, 8.0]])  # both overlap A; the second exactly
    assert geo.region_pairs(kp1, kp2, H, (64, 64)).tolist() == [[0, 1]]


@pytest.mark.parametrize("zoom, fixed_scale_repeated", [(1.25, True), (1.5, False), (2.0, False)])
def test_fixed_scale_regions_fail_beyond_the_threshold_zoom(zoom, fixed_scale_repeated):
    # Concentric discs with radius ratio z: error 1 - 1/z², below 0.4 only for z < 1.29.
    size = (100, 100)
    H = centred_similarity(size, scale=zoom)
    xy1 = np.array([[45.0, 50.0], [52.0, 47.0], [50.0, 55.0]])
    xy2 = warp_points(xy1, H)
    kp1 = Keypoints(xy=xy1, scale=np.full(3, 5.0), angle=np.full(3, np.nan), response=np.ones(3))
    follows = Keypoints(
        xy=xy2, scale=np.full(3, 5.0 * zoom), angle=kp1.angle, response=kp1.response
    )
    fixed = Keypoints(xy=xy2, scale=kp1.scale, angle=kp1.angle, response=kp1.response)
    assert geo.region_repeatability(kp1, follows, H, size) == 1.0
    assert geo.region_repeatability(kp1, fixed, H, size) == (1.0 if fixed_scale_repeated else 0.0)
    assert geo.repeatability(kp1, fixed, H, size) == 1.0


def test_region_repeatability_is_nan_without_shared_points_and_rejects_bad_input():
    empty = np.zeros((0, 3))
    assert np.isnan(geo.region_repeatability(empty, [[5.0, 5.0, 3.0]], np.eye(3), (32, 32)))
    with pytest.raises(ValueError, match="max_overlap_error"):
        geo.region_pairs(empty, empty, np.eye(3), (32, 32), max_overlap_error=0.0)
    with pytest.raises(ValueError, match="> 0"):
        geo.region_pairs([[5.0, 5.0, 0.0]], empty, np.eye(3), (32, 32))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        geo.region_pairs([[5.0, 5.0]], empty, np.eye(3), (32, 32))
    with pytest.raises(ValueError, match="radii"):
        geo.disc_overlap_error([0, 0], 0.0, [0, 0], 1.0)


def test_evaluate_pair_reports_region_repeatability():
    skimage_data = pytest.importorskip("skimage.data")
    image = skimage_data.astronaut()[::2, ::2].copy()
    same = geo.evaluate_pair(image, image, np.eye(3), "sift", max_points=100)
    assert same["region_repeatability"] == 1.0
    assert same["n_region_repeated"] == same["n_repeated"]
    size = (image.shape[1], image.shape[0])
    H = centred_similarity(size, scale=1.6)
    zoomed = cv2.warpPerspective(image, H, size)
    harris = geo.evaluate_pair(image, zoomed, H, "harris", max_points=100)
    assert harris["region_repeatability"] == 0.0  # one 3 px window at every zoom
    assert harris["repeatability"] > 0.3  # ... although its corners come back within 3 px
