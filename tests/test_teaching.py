"""Tests of kplearn.teaching, the helpers the lesson notebooks share."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from kplearn import teaching
from kplearn.classical.hog_svm import HogGrid, window_features
from kplearn.classical.interest import Keypoints, warp_points
from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.metrics import coco_keypoint_eval, oks

# ----------------------------------------------------------------------------- files


def test_sample_path_finds_the_shipped_samples():
    path = teaching.sample_path("coco", "person_keypoints_tiny.json")
    assert path.is_file() and path.parent.name == "coco"
    assert teaching.sample_path("faces68_layout").is_dir()


def test_sample_path_names_what_it_tried():
    with pytest.raises(FileNotFoundError, match="no_such_file.json"):
        teaching.sample_path("coco", "no_such_file.json")


# ------------------------------------------------------------------------- front end


class _FakeKernel:
    def __init__(self, allow_stdin: bool):
        self._allow_stdin = allow_stdin


class _FakeShell:
    def __init__(self, allow_stdin: bool):
        self.kernel = _FakeKernel(allow_stdin)


def test_interactive_is_false_outside_a_kernel(monkeypatch):
    monkeypatch.delenv(teaching.INTERACTIVE_ENV, raising=False)
    assert teaching.interactive() is False


@pytest.mark.parametrize(("allow_stdin", "env", "expected"), [
    (True, None, True),    # a Jupyter front end
    (False, None, False),  # nbval / nbclient
    (True, "0", False),    # forced off
    (False, "1", True),    # forced on
])  # fmt: skip
def test_interactive_follows_the_front_end(monkeypatch, allow_stdin, env, expected):
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: _FakeShell(allow_stdin))
    if env is None:
        monkeypatch.delenv(teaching.INTERACTIVE_ENV, raising=False)
    else:
        monkeypatch.setenv(teaching.INTERACTIVE_ENV, env)
    assert teaching.interactive() is expected


# ---------------------------------------------------------------------- homographies


def test_centred_similarity_by_hand():
    size = (11, 7)  # centre (5, 3)
    H = teaching.centred_similarity(size, scale=2.0)
    np.testing.assert_allclose(warp_points(np.array([[5.0, 3.0], [6.0, 3.0]]), H), [[5.0, 3.0], [7.0, 3.0]])
    H = teaching.centred_similarity(size, angle_deg=90.0)
    # Counter-clockwise on screen (y down): a point right of the centre moves above it.
    np.testing.assert_allclose(warp_points(np.array([[7.0, 3.0]]), H), [[5.0, 1.0]], atol=1e-12)


@pytest.mark.parametrize("bad", [dict(scale=0.0), dict(scale=np.nan), dict(angle_deg=np.inf)])
def test_centred_similarity_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        teaching.centred_similarity((10, 10), **bad)


def test_warp_homography_moves_pixels_to_h_x():
    img = np.zeros((20, 30), np.uint8)
    img[4, 6] = 255
    H = np.array([[1.0, 0.0, 5.0], [0.0, 1.0, 3.0], [0.0, 0.0, 1.0]])
    out = teaching.warp_homography(img, H)
    assert out.shape == img.shape
    assert np.argwhere(out == 255).tolist() == [[7, 11]]
    rotated = teaching.warp_homography(img, teaching.centred_similarity((30, 20), angle_deg=90.0))
    y, x = np.unravel_index(np.argmax(rotated), rotated.shape)
    expected = warp_points(np.array([[6.0, 4.0]]), teaching.centred_similarity((30, 20), angle_deg=90.0))[0]
    assert abs(x - expected[0]) <= 1 and abs(y - expected[1]) <= 1


def test_warp_homography_rejects_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        teaching.warp_homography(np.zeros((5, 5)), np.eye(3))
    with pytest.raises(ValueError, match="3×3"):
        teaching.warp_homography(np.zeros((5, 5), np.uint8), np.eye(2))


# --------------------------------------------------------------------------- drawings


def test_plot_interest_points_and_matches_are_labelled():
    import matplotlib

    matplotlib.use("Agg")
    img = np.zeros((40, 50, 3), np.uint8)
    kp = Keypoints(xy=np.array([[10.0, 12.0], [30.0, 20.0]]), scale=np.array([6.0, 9.0]),
                   angle=np.array([np.nan, 45.0]), response=np.ones(2), method="sift")  # fmt: skip
    ax = teaching.plot_interest_points(img, kp)
    assert ax.get_title() == "sift: 2 points" and ax.get_xlabel() == "x (px)"
    ax = teaching.plot_matches(img, img, kp, kp, np.array([[0, 0], [1, 1]]), np.array([True, False]))
    assert ax.get_title() == "2 matches, 1 correct"
    assert ax.get_xlim() == (-0.5, 99.5)
    with pytest.raises(ValueError, match="same height"):
        teaching.plot_matches(img, img[:20], kp, kp, np.zeros((0, 2), int))
    with pytest.raises(ValueError, match="correct"):
        teaching.plot_matches(img, img, kp, kp, np.array([[0, 0]]), np.array([True, False]))


# -------------------------------------------------------------- simulated predictions


def test_simulate_predictions_has_the_errors_it_promises():
    gt = np.random.default_rng(3).uniform(0, 100, (50, 10, 3))
    exact = teaching.simulate_predictions(gt, np.random.default_rng(0), noise=0.0, bias=(1.5, -2.0))
    np.testing.assert_allclose(exact, gt[..., :2] + [1.5, -2.0])
    out = teaching.simulate_predictions(gt, np.random.default_rng(0), noise=0.0, outlier_fraction=0.2,
                                        outlier_error=7.0)  # fmt: skip
    err = np.linalg.norm(out - gt[..., :2], axis=-1)
    bad = np.all(np.isclose(err, 7.0), axis=1)
    assert bad.sum() == 10 and np.allclose(err[~bad], 0.0)
    noisy = teaching.simulate_predictions(gt, np.random.default_rng(0), noise=2.0)
    assert abs(np.std(noisy - gt[..., :2]) - 2.0) < 0.2
    with pytest.raises(ValueError):
        teaching.simulate_predictions(gt, np.random.default_rng(0), noise=-1.0)
    with pytest.raises(ValueError, match="shape"):
        teaching.simulate_predictions(gt[0, 0], np.random.default_rng(0))


def _toy_coco(n_images=6, seed=0):
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for i in range(n_images):
        images.append({"id": i + 1, "file_name": f"{i}.png", "width": 200, "height": 200})
        for _ in range(2):
            xy = rng.uniform(20, 180, (17, 2))
            v = np.where(rng.random(17) < 0.1, 0, 2)
            kp = np.column_stack([np.where(v[:, None] > 0, xy, 0), v]).ravel().tolist()
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": 1,
                                "keypoints": kp, "num_keypoints": int((v > 0).sum()),
                                "area": float(rng.uniform(2000, 12000)), "bbox": [10, 10, 100, 100],
                                "iscrowd": 0})  # fmt: skip
    annotations.append({"id": len(annotations) + 1, "image_id": 1, "category_id": 1,
                        "keypoints": [0] * 51, "num_keypoints": 0, "area": 500.0,
                        "bbox": [0, 0, 20, 20], "iscrowd": 1})  # fmt: skip
    return {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}


def test_simulate_detections_exact_detections_score_ap_one():
    gt = _toy_coco()
    dt = teaching.simulate_detections(gt, noise=0.0, miss_rate=0.0, false_positives=0)
    assert len(dt) == 12  # the crowd region is not "detected"
    assert all(set(d) == {"image_id", "category_id", "keypoints", "score"} for d in dt)
    stats = coco_keypoint_eval(gt, dt)
    assert stats["AP"] == pytest.approx(1.0) and stats["AR"] == pytest.approx(1.0)


def test_simulate_detections_error_scale_and_misses():
    gt = _toy_coco(20, seed=1)
    dt = teaching.simulate_detections(gt, seed=2, noise=1.0, miss_rate=0.25, false_positives=4)
    assert 30 - 20 + 4 <= len(dt) <= 40 + 4
    again = teaching.simulate_detections(gt, seed=2, noise=1.0, miss_rate=0.25, false_positives=4)
    assert dt == again
    # With noise = 1, d² / (σ² area) is chi-square with 2 degrees of freedom, so a keypoint's
    # similarity exp(-d² / (8 σ² area)) has mean 1 / (1 + 2/8) = 0.8.
    real = [a for a in gt["annotations"] if not a["iscrowd"]]
    sims = []
    for d in dt:
        for a in real:
            if a["image_id"] == d["image_id"]:
                pred = np.array(d["keypoints"], float).reshape(1, 17, 3)
                sims.append(oks(pred, np.array(a["keypoints"], float).reshape(1, 17, 3), [a["area"]])[0, 0])
    best = np.sort(sims)[-(len(dt) - 4):]
    assert 0.72 < np.median(best) < 0.88
    with pytest.raises(ValueError):
        teaching.simulate_detections(gt, miss_rate=1.5)


def test_simulate_detections_agree_with_pycocotools():
    pytest.importorskip("pycocotools")
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = _toy_coco(12, seed=4)
    dt = teaching.simulate_detections(gt, seed=5, noise=0.5, miss_rate=0.1, false_positives=6)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(copy.deepcopy(dt)), iouType="keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    ours = coco_keypoint_eval(gt, dt)
    np.testing.assert_allclose([ours[k] for k in ("AP", "AP50", "AP75", "AR")], ev.stats[[0, 1, 2, 5]],
                               atol=1e-12)  # fmt: skip


# ------------------------------------------------------------------ HOG patch experts


def _faces5_dataset(n=3, size=160):
    rng = np.random.default_rng(0)
    samples = []
    for i in range(n):
        kp = np.column_stack([rng.uniform(20, size - 20, (5, 2)), np.full(5, 2.0)])
        samples.append(Sample(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), kp, name=f"s{i}"))
    return KeypointDataset(samples, "faces5")


def test_work_frames_scales_pixel_centres():
    ds = _faces5_dataset()
    ds.samples[0].keypoints[0, 0, :2] = (79.5, 79.5)  # the centre of a 160 px image
    ds.samples[0].keypoints[0, 1, :2] = (-0.5, 159.5)  # its corner
    works, kp = teaching.work_frames(ds, 80)
    assert works.shape == (3, 80, 80) and works.dtype == np.float32
    assert 0.0 <= works.min() and works.max() <= 1.0
    np.testing.assert_allclose(kp[0, 0, :2], (39.5, 39.5))
    np.testing.assert_allclose(kp[0, 1, :2], (-0.5, 79.5))
    np.testing.assert_array_equal(kp[..., 2], ds.keypoints_array()[..., 2])
    with pytest.raises(ValueError, match="empty"):
        teaching.work_frames(ds[:0])


def test_window_features_at_snaps_to_the_grid():
    grid = HogGrid(80)
    rng = np.random.default_rng(1)
    blocks = [grid.blocks(rng.random((80, 80)).astype(np.float32)) for _ in range(2)]
    c = grid.centres()
    centres = np.array([[[c[10], c[12]], [c[3] + 0.4, c[30] - 0.3]], [[c[0], c[0]], [c[43], c[20]]]])
    feats = teaching.window_features_at(blocks, grid, centres)
    assert feats.shape == (4, grid.feature_size)
    expected = np.concatenate([window_features(blocks[0], grid, [12, 30], [10, 3]),
                               window_features(blocks[1], grid, [0, 20], [0, 43])])  # fmt: skip
    np.testing.assert_array_equal(feats, expected)
    with pytest.raises(ValueError, match="centres"):
        teaching.window_features_at(blocks, grid, centres[:1])


def test_sample_negative_centres_stay_in_the_ring_and_frame():
    for point in ((40.0, 40.0), (1.0, 78.0)):
        c = teaching.sample_negative_centres(point, 200, 4.0, 20.0, np.random.default_rng(0), 80)
        d = np.hypot(*(c - point).T)
        assert c.shape == (200, 2)
        assert np.all((d >= 4.0) & (d <= 20.0)) and np.all((c >= 0) & (c <= 79))
        # Uniform over the ring: about as many points inside radius 12 as the area share says.
    c = teaching.sample_negative_centres((40.0, 40.0), 4000, 4.0, 20.0, np.random.default_rng(1), 80)
    share = np.mean(np.hypot(*(c - 40.0).T) < 12.0)
    assert abs(share - (12**2 - 4**2) / (20**2 - 4**2)) < 0.03
    np.testing.assert_array_equal(
        teaching.sample_negative_centres((9.0, 9.0), 5, 2.0, 6.0, np.random.default_rng(7), 80),
        teaching.sample_negative_centres((9.0, 9.0), 5, 2.0, 6.0, np.random.default_rng(7), 80),
    )
    with pytest.raises(ValueError):
        teaching.sample_negative_centres((40.0, 40.0), 5, 5.0, 5.0, np.random.default_rng(0), 80)
    with pytest.raises(ValueError, match="outside"):
        teaching.sample_negative_centres((200.0, 40.0), 5, 1.0, 5.0, np.random.default_rng(0), 80)


def test_hard_negatives_are_the_best_far_windows():
    grid = HogGrid(80)
    rng = np.random.default_rng(2)
    blocks = [grid.blocks(rng.random((80, 80)).astype(np.float32)) for _ in range(2)]
    w = rng.normal(size=grid.feature_size).astype(np.float32)
    kp = np.array([[30.0, 30.0], [50.0, 20.0]])
    hard = teaching.hard_negatives(blocks, grid, w, 0.5, kp, min_dist=6.0, n_per_image=4)
    assert hard.shape == (2, 4, 2)
    c = grid.centres()
    gy, gx = np.meshgrid(np.arange(grid.size), np.arange(grid.size), indexing="ij")
    for i in range(2):
        scores = window_features(blocks[i], grid, gy.ravel(), gx.ravel()) @ w + 0.5
        far = np.hypot(c[gx.ravel()] - kp[i, 0], c[gy.ravel()] - kp[i, 1]) >= 6.0
        best = np.sort(scores[far])[::-1][:4]
        idx = grid.index_of(hard[i])
        got = window_features(blocks[i], grid, idx[:, 1], idx[:, 0]) @ w + 0.5
        np.testing.assert_allclose(np.sort(got)[::-1], best, rtol=1e-5)
        assert np.all(np.hypot(*(hard[i] - kp[i]).T) >= 6.0)
    with pytest.raises(ValueError, match="keypoints"):
        teaching.hard_negatives(blocks, grid, w, 0.0, kp[:1], 6.0)
