"""Tests for kplearn.data.synthetic: exact ground truth, visibility rules, determinism, arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from kplearn.data.synthetic import (
    FACE_TEMPLATE,
    SHAPE_KINDS,
    HomographyPair,
    make_faces,
    make_homography_pairs,
    make_people,
    make_people_scenes,
    make_shapes,
)
from kplearn.data.synthetic import _render as R
from kplearn.data.synthetic import faces as faces_mod
from kplearn.data.synthetic import shapes as shapes_mod
from kplearn.skeletons import get_skeleton

CLEAN = {"blur": 0.0, "noise": 0.0}


def _grey(img: np.ndarray) -> np.ndarray:
    img = img.astype(np.float64)
    return img if img.ndim == 2 else img @ np.array([0.299, 0.587, 0.114])


def _shoelace(poly: np.ndarray) -> tuple[float, np.ndarray]:
    """Signed area and centroid, written out independently of the package."""
    x, y = poly[:, 0], poly[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = cross.sum() / 2
    cx = ((x + x1) * cross).sum() / (6 * area)
    cy = ((y + y1) * cross).sum() / (6 * area)
    return area, np.array([cx, cy])


def _flat_textures(monkeypatch, module, colour=(30.0, 90.0, 200.0)) -> None:
    """Replace texture crops by flat colours, so that drawn edges are clean steps."""

    def crop(rng, name, width, height, zoom=(0.5, 2.0), rotate=True):
        rng.uniform()  # keep the generator's stream moving like the real crop does
        return np.broadcast_to(np.array(colour, np.float32), (height, width, 3)).copy()

    def grey(rng, name, width, height, zoom=(0.5, 1.5)):
        rng.uniform()
        return np.zeros((height, width), np.float32)

    monkeypatch.setattr(module, "random_crop", crop)
    monkeypatch.setattr(module, "grey_texture", grey)


def _same(a, b) -> bool:
    return all(
        np.array_equal(x.image, y.image) and np.array_equal(x.keypoints, y.keypoints)
        for x, y in zip(a, b, strict=True)
    )


# --- rasteriser -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "poly",
    [
        np.array([(10.25, 10.5), (22.25, 10.5), (22.25, 18.5), (10.25, 18.5)]),
        np.array([(10.7, 11.3), (22.7, 14.3), (14.7, 21.3)]),
        np.array([(5.1, 30.2), (20.0, 3.3), (31.9, 28.7), (18.4, 19.9)]),  # concave
    ],
)
def test_coverage_area_and_centroid_exact(poly):
    cov = R.coverage([poly], 40, 40).astype(np.float64)
    area, centre = _shoelace(poly)
    assert cov.min() >= 0 and cov.max() <= 1
    assert cov.sum() == pytest.approx(abs(area), abs=1e-4)
    # Box filtering keeps the first moment for polygons whose edges are straight inside each pixel
    # only approximately; the centroid must still agree to a few thousandths of a pixel.
    ys, xs = np.mgrid[0:40, 0:40]
    got = np.array([(cov * xs).sum(), (cov * ys).sum()]) / cov.sum()
    assert np.abs(got - centre).max() < 0.01


def test_coverage_pixel_aligned_square_and_clipping():
    # A square from pixel edge -0.5 to 4.5 covers pixels 0..4 exactly.
    square = np.array([(-0.5, -0.5), (4.5, -0.5), (4.5, 4.5), (-0.5, 4.5)])
    cov = R.coverage([square], 8, 8)
    expected = np.zeros((8, 8))
    expected[:5, :5] = 1
    np.testing.assert_allclose(cov, expected, atol=1e-6)
    # Half off the image: only the part inside counts (hand-worked: 3.5 x 2 pixels).
    rect = np.array([(-3.0, 1.5), (3.0, 1.5), (3.0, 3.5), (-3.0, 3.5)])
    assert R.coverage([rect], 8, 8).sum() == pytest.approx(3.5 * 2, abs=1e-6)


def test_rasterise_layers_match_single_coverage():
    polys = [
        R.ellipse((12.3, 9.8), (6.0, 3.5), 30.0),
        np.array([(2.0, 2.0), (30.0, 4.0), (16.0, 25.0)]),
    ]
    layers = R.rasterise([[polys[0]], [], [polys[1]]], 32, 28)
    assert layers[1] is None
    for layer, poly in zip((layers[0], layers[2]), polys, strict=True):
        (x0, y0, x1, y1), cov = layer
        full = np.zeros((28, 32), np.float32)
        full[y0:y1, x0:x1] = cov
        np.testing.assert_allclose(full, R.coverage([poly], 32, 28), atol=1e-6)


# --- faces -----------------------------------------------------------------------------------
def test_faces_shapes_layout_and_groups():
    ds = make_faces(16, image_size=(80, 64), seed=1)
    assert ds.skeleton.name == "faces68" and len(ds) == 16
    kp = ds.keypoints_array()
    assert kp.shape == (16, 68, 3)
    assert set(np.unique(kp[..., 2])) <= {1.0, 2.0}
    for s in ds:
        assert s.image.dtype == np.uint8 and s.image.shape == (64, 80, 3)
    # n // 8 = 2 identities, sample i shows identity i % 2.
    assert ds.groups == [f"id{i % 2:04d}" for i in range(16)]
    train, held = ds.split(0.3, seed=0)
    assert set(train.groups).isdisjoint(held.groups)
    grey = make_faces(2, image_size=48, seed=1, grayscale=True)
    assert grey[0].image.shape == (48, 48)


def test_faces_deterministic_and_prefix_stable():
    a = make_faces(6, image_size=48, seed=3, n_identities=2)
    b = make_faces(6, image_size=48, seed=3, n_identities=2)
    c = make_faces(6, image_size=48, seed=4, n_identities=2)
    assert _same(a, b)
    assert not np.array_equal(a[0].image, c[0].image)
    assert not np.allclose(a.keypoints_array(), c.keypoints_array())
    # Item i depends on (seed, i) only: a shorter run is a prefix of a longer one.
    assert _same(make_faces(3, image_size=48, seed=3, n_identities=2), a[:3])


def test_faces_template_proportions():
    # Outer eye corners at (+-0.5, 0); left/right mirror through the flip pairs.
    t = FACE_TEMPLATE
    np.testing.assert_allclose(t[[36, 45]], [[-0.5, 0.0], [0.5, 0.0]], atol=1e-9)
    flip = get_skeleton("faces68").flip_index
    mirrored = t[flip] * (-1.0, 1.0)
    np.testing.assert_allclose(mirrored, t, atol=2e-3)


def test_faces_neutral_pose_matches_template(monkeypatch):
    """No identity change, expression, pose or yaw: landmarks are the template, scaled and placed."""

    original = faces_mod._identity

    # Neutral: every shape scale factor 1, every shape offset 0.
    scales = ("face_width", "jaw_length", "eye_size", "eye_open", "nose_length", "nose_width",
              "mouth_width", "lip_thickness")  # fmt: skip
    offsets = ("chin", "eye_spacing", "brow_height", "mouth_shift")

    def neutral(seed, index):
        ident = original(seed, index)
        ident.update(dict.fromkeys(scales, 1.0), **dict.fromkeys(offsets, 0.0))
        return ident

    monkeypatch.setattr(faces_mod, "_identity", neutral)
    ds = make_faces(
        2,
        image_size=100,
        seed=0,
        rotation=(0, 0),
        yaw=(0, 0),
        scale=(1, 1),
        translation=(0, 0),
        expression=0.0,
        occlusion=0.0,
        **CLEAN,
    )
    kp = ds[0].keypoints[0, :, :2]
    io = 0.375 * 100
    expected = (FACE_TEMPLATE - (0.0, 0.55)) * io + (0.5 * 100 - 0.5, 0.516 * 100 - 0.5)
    keep = np.r_[np.arange(0, 61), 64]  # a closed mouth moves the inner lip pairs (next check)
    np.testing.assert_allclose(kp[keep], expected[keep], atol=1e-9)
    # Closed mouth: 61/67, 62/66, 63/65 coincide, halfway between the template's pairs.
    for a, b in ((61, 67), (62, 66), (63, 65)):
        np.testing.assert_allclose(kp[a], kp[b], atol=1e-9)
        np.testing.assert_allclose(kp[a], 0.5 * (expected[a] + expected[b]), atol=1e-9)


def test_faces_rotation_level_is_exact():
    """rotation=(30, 30) turns the eye line by exactly 30 degrees counter-clockwise on screen."""
    ds = make_faces(4, image_size=96, seed=2, rotation=(30, 30), yaw=(0, 0), **CLEAN)
    kp = ds.keypoints_array()
    d = kp[:, 45, :2] - kp[:, 36, :2]
    # Counter-clockwise on screen with y down: the right-hand eye corner moves up (negative y).
    angles = np.degrees(np.arctan2(-d[:, 1], d[:, 0]))
    np.testing.assert_allclose(angles, 30.0, atol=1e-6)
    assert [s.meta["rotation"] for s in ds] == [30.0] * 4


def test_level_arguments():
    """A number is a symmetric range for angles and fixes sizes; a pair is used as given."""
    ds = make_faces(12, image_size=80, seed=3, rotation=10.0, scale=1.2, yaw=(5, 6))
    rot = np.array([s.meta["rotation"] for s in ds])
    assert np.all(np.abs(rot) <= 10) and rot.min() < 0 < rot.max()
    np.testing.assert_allclose([s.meta["interocular_px"] for s in ds], 0.375 * 80 * 1.2)
    yaw = np.array([s.meta["yaw"] for s in ds])
    assert np.all((yaw >= 5) & (yaw <= 6))
    blurs = [s.meta["blur_sigma"] for s in make_faces(6, image_size=48, seed=3, blur=(2, 2))]
    assert blurs == [2.0] * 6


def _profile_edge(
    grey: np.ndarray, point: np.ndarray, normal: np.ndarray, reach: float = 3.0
) -> float:
    """Signed offset along ``normal`` of the half-way crossing of the step through ``point``."""
    t = np.linspace(-reach, reach, 121)
    xy = point[None] + t[:, None] * normal[None]
    prof = ndimage.map_coordinates(grey, [xy[:, 1], xy[:, 0]], order=1, mode="nearest")
    lo, hi = prof[0], prof[-1]
    mid = 0.5 * (lo + hi)
    s = np.sign(hi - lo)
    above = s * (prof - mid) > 0
    j = int(np.argmax(above))
    # Linear interpolation between samples j - 1 and j.
    f = (mid - prof[j - 1]) / (prof[j] - prof[j - 1])
    return float(t[j - 1] + f * (t[j] - t[j - 1]))


def _normals_of(pts: np.ndarray, idx: list[int]) -> np.ndarray:
    p = pts[idx]
    d = np.gradient(p, axis=0)
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def test_faces_landmarks_lie_on_drawn_edges(monkeypatch):
    """With flat textures and no blur/noise/lighting, each edge crosses half-way exactly at its landmark."""
    _flat_textures(monkeypatch, faces_mod)
    ds = make_faces(
        6, image_size=160, seed=5, occlusion=0.0, lighting=0.0, rotation=(-10, 10), **CLEAN
    )
    offsets = []
    for s in ds:
        g = _grey(s.image)
        pts = s.keypoints[0, :, :2]
        # Jaw (skin against background or neck), brow upper edges (inner points), outer lip contour.
        for idx in (
            list(range(1, 16)),
            [18, 19, 20],
            [23, 24, 25],
            [49, 50, 51, 52, 53],
            [55, 56, 57, 58, 59],
        ):
            for p, n in zip(
                pts[idx],
                _normals_of(pts, [i - 1 for i in idx] + [idx[-1] + 1])[: len(idx)],
                strict=True,
            ):
                offsets.append(_profile_edge(g, p, n, reach=1.5))
    offsets = np.array(offsets)
    # Reading an oblique anti-aliased edge through bilinear samples errs by up to ~0.15 px either way;
    # a drawing offset (half a pixel, say) would shift them all.
    assert abs(offsets.mean()) < 0.03
    assert np.median(np.abs(offsets)) < 0.08
    assert np.abs(offsets).max() < 0.3


def test_faces_landmarks_on_visible_structure():
    """Real textures: local contrast at the landmarks is far above that of the cheeks."""
    ds = make_faces(8, image_size=96, seed=6, occlusion=0.0, **CLEAN)
    at_kp, at_cheek = [], []
    for s in ds:
        g = _grey(s.image)
        rng_ = ndimage.maximum_filter(g, 3) - ndimage.minimum_filter(g, 3)
        kp = s.keypoints[0, :, :2]
        ij = np.round(kp).astype(int)
        at_kp.append(rng_[ij[:, 1], ij[:, 0]])
        # Cheeks: between eye corner, nose base and mouth corner on each side.
        for a, b, c in ((36, 31, 48), (45, 35, 54)):
            q = np.round((kp[a] + kp[b] + kp[c]) / 3).astype(int)
            at_cheek.append(rng_[q[1], q[0]])
    at_kp = np.concatenate(at_kp)
    assert np.median(at_kp) > 2.5 * np.median(at_cheek)
    assert np.mean(at_kp > 15) > 0.85


def test_faces_occluder_sets_visibility():
    ds = make_faces(
        12,
        image_size=96,
        seed=7,
        occlusion=1.0,
        occluder_size=(0.5, 0.7),
        translation=(0, 0),
        rotation=(0, 0),
        **CLEAN,
    )
    n_hidden = 0
    for s in ds:
        (occ,) = s.meta["occluders"]
        kp = s.keypoints[0]
        c, (major, minor), ang = np.array(occ["center"]), occ["size"], math.radians(occ["angle"])
        d = kp[:, :2] - c
        u = d[:, 0] * math.cos(ang) + d[:, 1] * math.sin(ang)
        w = -d[:, 0] * math.sin(ang) + d[:, 1] * math.cos(ang)
        if occ["kind"] == "ellipse":
            inside = (u / (major / 2)) ** 2 + (w / (minor / 2)) ** 2 < 1
        else:
            inside = (np.abs(u) < major / 2) & (np.abs(w) < minor / 2)
        np.testing.assert_array_equal(kp[:, 2] == 1, inside)
        n_hidden += int(inside.sum())
        # Coordinates of hidden landmarks stay exact (still the template's geometry, not zeroed).
        assert np.all(np.isfinite(kp[:, :2])) and np.all(kp[:, :2] != 0)
    assert n_hidden > 20
    clear = make_faces(6, image_size=96, seed=7, occlusion=0.0, translation=(0, 0))
    assert np.all(clear.keypoints_array()[..., 2] == 2)


def test_faces_out_of_frame_is_labelled_hidden():
    ds = make_faces(12, image_size=64, seed=8, translation=(0.3, 0.45), occlusion=0.0)
    kp = ds.keypoints_array()
    out = (kp[..., 0] < -0.5) | (kp[..., 0] > 63.5) | (kp[..., 1] < -0.5) | (kp[..., 1] > 63.5)
    assert out.any()
    np.testing.assert_array_equal(kp[..., 2] == 1, out)
    assert not np.any(kp[..., 2] == 0)


def test_faces_boxes_are_landmark_boxes():
    ds = make_faces(4, image_size=64, seed=9)
    for s in ds:
        kp = s.keypoints[0, :, :2]
        lo, hi = kp.min(0), kp.max(0)
        np.testing.assert_allclose(s.boxes[0], [lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]])


# --- people ----------------------------------------------------------------------------------
def _check_people_sample(s, w, h):
    kp = s.keypoints
    true = s.meta["true_keypoints"]
    assert kp.shape[1:] == (17, 3) and true.shape == (kp.shape[0], 17, 2)
    out = (
        (true[..., 0] < -0.5)
        | (true[..., 0] > w - 0.5)
        | (true[..., 1] < -0.5)
        | (true[..., 1] > h - 0.5)
    )
    np.testing.assert_array_equal(kp[..., 2] == 0, out)
    assert np.all(kp[kp[..., 2] == 0][:, :2] == 0)
    np.testing.assert_allclose(kp[..., :2][~out], true[~out])
    for inst, box, area in zip(kp, s.boxes, s.areas, strict=True):
        x, y, bw, bh = box
        assert x >= -0.5 and y >= -0.5 and x + bw <= w - 0.5 + 1e-9 and y + bh <= h - 0.5 + 1e-9
        assert (
            0 < area <= bw * bh + 2 * (bw + bh)
        )  # anti-aliased fringe pixels lie just outside the box
        vis = inst[inst[:, 2] == 2, :2]
        assert np.all((vis >= (x - 1, y - 1)) & (vis <= (x + bw + 1, y + bh + 1)))
    assert not s.iscrowd.any()


def test_people_crops():
    ds = make_people(12, image_size=(72, 96), seed=2)
    assert ds.skeleton.name == "coco17" and ds.is_single_instance
    for s in ds:
        assert s.image.shape == (96, 72, 3) and s.image.dtype == np.uint8
        _check_people_sample(s, 72, 96)
    v = ds.keypoints_array()[..., 2]
    assert np.mean(v == 2) > 0.6
    # Left is the subject's left: facing the camera, left shoulders are mostly on the image's right.
    kp = ds.keypoints_array()
    both = (kp[:, 5, 2] > 0) & (kp[:, 6, 2] > 0)
    assert np.mean(kp[both, 5, 0] > kp[both, 6, 0]) > 0.8


def test_people_out_of_frame_unlabelled():
    ds = make_people(10, image_size=64, seed=3, translation=(0.35, 0.45), occlusion=0.0)
    v = ds.keypoints_array()[..., 2]
    assert (v == 0).any()
    for s in ds:
        _check_people_sample(s, 64, 64)


def test_people_occluder_hides_keypoints():
    ds = make_people(10, image_size=96, seed=4, occlusion=1.0, occluder_size=(0.4, 0.4))
    hidden = 0
    for s in ds:
        (occ,) = s.meta["occluders"]
        kp = s.keypoints[0]
        c, (major, minor), ang = np.array(occ["center"]), occ["size"], math.radians(occ["angle"])
        d = s.meta["true_keypoints"][0] - c
        u = d[:, 0] * math.cos(ang) + d[:, 1] * math.sin(ang)
        w = -d[:, 0] * math.sin(ang) + d[:, 1] * math.cos(ang)
        if occ["kind"] == "ellipse":
            inside = (u / (major / 2)) ** 2 + (w / (minor / 2)) ** 2 < 0.98
        else:
            inside = (np.abs(u) < 0.49 * major) & (np.abs(w) < 0.49 * minor)
        in_frame = kp[:, 2] > 0
        assert np.all(kp[inside & in_frame, 2] == 1)
        hidden += int((inside & in_frame).sum())
    assert hidden > 0


def test_people_scenes_boxes_areas_and_depth():
    ds = make_people_scenes(8, image_size=128, seed=5, max_people=5, min_people=3)
    counts = [s.num_instances for s in ds]
    assert max(counts) >= 3 and all(c <= 5 for c in counts)
    n_occluded = 0
    for s in ds:
        assert s.image.shape == (128, 128, 3)
        _check_people_sample(s, 128, 128)
        assert np.all(s.areas >= 24)
        assert np.all((s.keypoints[..., 2] > 0).any(axis=1))  # every drawn person has a label
        n_occluded += int((s.keypoints[..., 2] == 1).sum())
        # Back to front: the lowest foot comes later (people lower in the picture stand closer).
        feet = s.meta["true_keypoints"][:, 15:17, 1].max(axis=1)
        assert np.all(np.diff(feet) >= 0)
    assert n_occluded > 0


def test_people_deterministic():
    a = make_people(4, seed=11)
    assert _same(a, make_people(4, seed=11))
    assert not np.array_equal(a[0].image, make_people(4, seed=12)[0].image)
    s1 = make_people_scenes(2, image_size=96, seed=1)
    assert _same(s1, make_people_scenes(2, image_size=96, seed=1))
    assert all(
        np.array_equal(x.boxes, y.boxes)
        for x, y in zip(s1, make_people_scenes(2, image_size=96, seed=1), strict=True)
    )


# --- shapes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(SHAPE_KINDS))
def test_shapes_layouts_and_geometry(kind):
    ds = make_shapes(6, image_size=80, seed=1, kind=kind)
    sk = get_skeleton(SHAPE_KINDS[kind])
    assert ds.skeleton == sk
    kp = ds.keypoints_array()
    assert kp.shape == (6, sk.num_keypoints, 3)
    assert np.all(kp[..., 2] == 2)  # default framing keeps the object inside, no occluder
    for s in ds:
        outline = np.asarray(s.meta["outline"])
        if kind != "checkerboard":
            order = _star_order() if kind == "star" else list(range(len(outline)))
            np.testing.assert_allclose(s.keypoints[0, order, :2], outline)
            np.testing.assert_allclose(s.keypoints[0, -1, :2], _shoelace(outline)[1], atol=1e-9)
            # Corners run clockwise on screen (y down: positive shoelace area).
            assert _shoelace(outline)[0] > 0
    # A horizontal flip with the layout's flip pairs keeps the clockwise order.
    if kind != "checkerboard":
        s = ds[0]
        ncorner = sk.num_keypoints - 1
        flipped = s.keypoints[0, sk.flip_index, :2] * (-1, 1) + (79, 0)
        assert _shoelace(flipped[:ncorner] if kind != "star" else flipped[_star_order()])[0] > 0


def _star_order() -> list[int]:
    return [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]


def test_shapes_drawn_area_is_exact(monkeypatch):
    """Flat colours, no blur: the covered fraction of each pixel adds up to the polygon's area."""
    bg = (40.0, 40.0, 40.0)
    _flat_textures(monkeypatch, shapes_mod, bg)
    ds = make_shapes(4, image_size=64, seed=3, kind="pentagon", distractors=0, **CLEAN)
    for s in ds:
        outline = np.asarray(s.meta["outline"])
        centre = np.round(s.keypoints[0, -1, :2]).astype(int)
        img = s.image.astype(np.float64)
        fill = img[centre[1], centre[0]]
        frac = ((img - bg) @ (fill - bg)) / ((fill - bg) @ (fill - bg))
        assert frac.sum() == pytest.approx(abs(_shoelace(outline)[0]), rel=0.01)
        assert s.areas[0] == pytest.approx(abs(_shoelace(outline)[0]))


def test_checkerboard_corners_are_grid_crossings(monkeypatch):
    _flat_textures(monkeypatch, shapes_mod)
    ds = make_shapes(4, image_size=96, seed=4, kind="checkerboard", distractors=0, **CLEAN)
    for s in ds:
        g = _grey(s.image)
        for x, y, _ in s.keypoints[0]:
            # The four quadrants around an inner corner alternate dark and light.
            q = [
                ndimage.map_coordinates(g, [[y + dy], [x + dx]], order=1)[0]
                for dx, dy in ((2, 2), (-2, -2), (2, -2), (-2, 2))
            ]
            assert abs(q[0] - q[1]) < 10 and abs(q[2] - q[3]) < 10
            assert abs((q[0] + q[1]) - (q[2] + q[3])) > 60


def test_shapes_occluder_and_determinism():
    ds = make_shapes(8, seed=5, kind="star", occlusion=1.0, occluder_size=(0.5, 0.5))
    assert (ds.keypoints_array()[..., 2] == 1).any()
    assert _same(ds, make_shapes(8, seed=5, kind="star", occlusion=1.0, occluder_size=(0.5, 0.5)))
    assert not np.array_equal(ds[0].image, make_shapes(1, seed=6, kind="star")[0].image)


# --- homographies -----------------------------------------------------------------------------
def _bilinear(img: np.ndarray, hmat: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """Reference warp: sample ``img`` at H^-1 of every pixel centre (scipy, order 1)."""
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    pts = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    src = np.linalg.inv(hmat) @ pts
    sx, sy = src[0] / src[2], src[1] / src[2]
    inside = (sx >= 0) & (sx <= img.shape[1] - 1) & (sy >= 0) & (sy <= img.shape[0] - 1)
    chans = [img] if img.ndim == 2 else [img[..., c] for c in range(img.shape[2])]
    out = np.stack(
        [ndimage.map_coordinates(c.astype(np.float64), [sy, sx], order=1) for c in chans], -1
    )
    return out.reshape(h, w, -1), inside.reshape(h, w)


@pytest.mark.parametrize("source", ["synthetic", "skimage"])
def test_homography_pairs_are_exact(source):
    pairs = make_homography_pairs(2, image_size=(96, 72), seed=1, source=source)
    for p in pairs:
        assert isinstance(p, HomographyPair)
        assert p.image.shape == p.warped.shape == (72, 96, 3) and p.warped.dtype == np.uint8
        assert p.homography.shape == (3, 3) and p.homography[2, 2] == pytest.approx(1.0)
        assert p.valid.all()
        ref, inside = _bilinear(p.image, p.homography, p.image.shape[:2])
        # Away from the first view's border (where the warp saw canvas pixels outside it).
        inner = ndimage.binary_erosion(inside, iterations=2)
        err = np.abs(ref[inner] - p.warped[inner].astype(np.float64))
        assert inner.sum() > 0.3 * inner.size
        assert err.mean() < 1.0 and np.percentile(err, 99) < 4.0
        # A half-pixel convention slip would show: the same comparison shifted by 0.5 px fails.
        shift = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
        ref2, _ = _bilinear(p.image, shift @ p.homography, p.image.shape[:2])
        assert np.abs(ref2[inner] - p.warped[inner]).mean() > 2 * err.mean()


def test_homography_moves_a_dot_exactly():
    img = np.zeros((120, 160), np.uint8)
    ys, xs = np.mgrid[0:120, 0:160]
    x0, y0 = 83.3, 58.7
    img[:] = np.round(200 * np.exp(-((xs - x0) ** 2 + (ys - y0) ** 2) / (2 * 1.5**2))).astype(
        np.uint8
    )
    (p,) = make_homography_pairs(1, seed=2, source=[img], viewpoint=0.1, rotation=20.0)
    assert p.image.shape == p.warped.shape == (120, 160)
    np.testing.assert_array_equal(p.image, img)
    q = p.homography @ np.array([x0, y0, 1.0])
    qx, qy = q[0] / q[2], q[1] / q[2]
    win = (np.abs(xs - qx) < 8) & (np.abs(ys - qy) < 8)
    wgt = p.warped.astype(np.float64) * win
    cx, cy = (wgt * xs).sum() / wgt.sum(), (wgt * ys).sum() / wgt.sum()
    assert abs(cx - qx) < 0.1 and abs(cy - qy) < 0.1
    assert p.valid.mean() < 1.0  # the view leaves a canvas that is just the image itself


def test_homography_photometric_and_determinism():
    a = make_homography_pairs(2, image_size=64, seed=3, photometric=0.8)
    b = make_homography_pairs(2, image_size=64, seed=3, photometric=0.8)
    c = make_homography_pairs(2, image_size=64, seed=3, photometric=0.0)
    for x, y, z in zip(a, b, c, strict=True):
        assert np.array_equal(x.warped, y.warped) and np.array_equal(x.homography, y.homography)
        np.testing.assert_array_equal(x.homography, z.homography)  # geometry does not depend on it
        assert x.meta["photometric"] and not z.meta["photometric"]
        assert np.abs(x.warped.astype(float) - z.warped).mean() > 2
    d = make_homography_pairs(1, image_size=64, seed=4)
    assert not np.array_equal(a[0].homography, d[0].homography)


# --- arguments --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_faces(-1), "n must be >= 0"),
        (lambda: make_faces(2, image_size=8), "too small"),
        (lambda: make_faces(2, image_size=(96,)), "image_size"),
        (lambda: make_faces(2, seed=-3), "seed"),
        (lambda: make_faces(2, occlusion=1.5), "occlusion"),
        (lambda: make_faces(2, rotation=(10, 5)), "lo > hi"),
        (lambda: make_faces(2, blur=float("nan")), "finite"),
        (lambda: make_faces(2, n_identities=0), "n_identities"),
        (lambda: make_people(-2), "n must be >= 0"),
        (lambda: make_people(2, image_size=16), "too small"),
        (lambda: make_people_scenes(2, max_people=0), "min_people"),
        (lambda: make_shapes(2, kind="hexagon"), "unknown shape kind"),
        (lambda: make_shapes(2, size=(0.5, 1.5)), "size"),
        (lambda: make_homography_pairs(1, source="nowhere"), "source"),
        (lambda: make_homography_pairs(1, source=[]), "empty"),
        (lambda: make_homography_pairs(1, source=[np.zeros((40, 40), np.float32)]), "uint8"),
        (lambda: make_homography_pairs(1, viewpoint=1.5), "viewpoint"),
        (lambda: make_homography_pairs(1, image_size=(10, 10)), "too small"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_wrong_types_raise():
    with pytest.raises(TypeError, match="n must be an int"):
        make_faces(2.5)
    with pytest.raises(TypeError, match="seed"):
        make_shapes(2, seed="a")


def test_empty_datasets():
    assert len(make_faces(0)) == 0 and len(make_people(0)) == 0 and len(make_shapes(0)) == 0
    assert make_homography_pairs(0) == []


def test_benchmark_quick_runs(capsys, load_benchmark):
    load_benchmark("bench_synthetic").main(["--quick"])
    out = capsys.readouterr().out
    for name in ("faces", "people", "people_scenes", "shapes", "homography_pairs"):
        assert name in out
