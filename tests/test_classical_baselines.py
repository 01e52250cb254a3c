"""Mean shape and HOG + ridge baselines, the registry, the face-box frame and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kplearn.classical.baselines import HogRidge, MeanShape
from kplearn.classical.localiser import crop_to_work, from_work, image_box, to_work, work_matrix
from kplearn.classical.registry import CLASSICAL_MODELS, load_classical, make_classical
from kplearn.data.datasets import KeypointDataset, Sample


def _faces5_set(n=6, size=40, seed=0):
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        img = rng.integers(0, 255, (size, size), dtype=np.uint8)
        kp = np.c_[rng.uniform(5, size - 5, (5, 2)), np.full(5, 2.0)]
        samples.append(Sample(img, kp, name=f"s{i}", group=f"p{i % 3}"))
    return KeypointDataset(samples, "faces5")


@pytest.fixture(scope="module")
def faces():
    from kplearn.data.synthetic import make_faces

    return make_faces(120, image_size=64, seed=11).split(0.2, seed=0)


# ---- the working frame ---------------------------------------------------------------------------


def test_work_matrix_maps_box_edges_to_frame_edges():
    m = work_matrix([10.0, 20.0, 40.0, 80.0], 80)
    np.testing.assert_allclose(to_work(np.array([[10.0, 20.0], [50.0, 100.0]]), m), [[-0.5, -0.5], [79.5, 79.5]])
    pts = np.random.default_rng(0).uniform(0, 100, (7, 2))
    np.testing.assert_allclose(from_work(to_work(pts, m), m), pts)


def test_crop_of_whole_image_box_equals_crop_of_same_region_in_larger_canvas():
    rng = np.random.default_rng(1)
    face = rng.integers(0, 255, (40, 40), dtype=np.uint8)
    canvas = np.zeros((100, 120), np.uint8)
    canvas[30:70, 50:90] = face
    a, _ = crop_to_work(face, image_box(face), 40)
    b, _ = crop_to_work(canvas, np.array([49.5, 29.5, 40.0, 40.0]), 40)
    np.testing.assert_allclose(a, b, atol=1e-6)  # same pixels: unit scale, pure translation


# ---- mean shape ----------------------------------------------------------------------------------


def test_mean_shape_hand_worked_and_placed_in_box():
    img = np.full((20, 20), 7, np.uint8)
    kp1 = np.array([[2.0, 4.0, 2], [10.0, 10.0, 2], [0.0, 0.0, 0]])
    kp2 = np.array([[4.0, 6.0, 2], [12.0, 14.0, 2], [8.0, 8.0, 2]])
    sk = "faces5"
    pad = np.array([[1.0, 1.0, 2]] * 2)
    data = KeypointDataset([Sample(img, np.r_[kp1, pad], group="a"), Sample(img, np.r_[kp2, pad], group="b")], sk)
    model = MeanShape(work_size=40).fit(data, progress=False)
    # Whole-image box: the per-keypoint mean over labelled points (point 2 only in image 2).
    pred = model.predict([img])[0]
    np.testing.assert_allclose(pred[:3, :2], [[3, 5], [11, 12], [8, 8]], atol=1e-9)
    assert np.all(pred[:, 2] == 2)
    # A box twice the size, moved: the same shape scaled by 2 about the box corner.
    big = np.zeros((60, 60), np.uint8)
    pred2 = model.predict([big], boxes=[[9.5, 4.5, 40.0, 40.0]])[0]
    np.testing.assert_allclose(pred2[:3, :2], (np.array([[3, 5], [11, 12], [8, 8]]) + 0.5) * 2 + [9.5, 4.5],
                               atol=1e-9)


@pytest.fixture(scope="module")
def ridge(faces):
    return HogRidge().fit(faces[0], progress=False)


def test_mean_shape_accepts_constant_image_but_hog_models_do_not(faces, ridge):
    train, _ = faces
    const = np.full((64, 64, 3), 128, np.uint8)
    assert MeanShape().fit(train, progress=False).predict([const]).shape == (1, 68, 3)
    with pytest.raises(ValueError, match="image 0: constant image"):
        ridge.predict([const])


# ---- HOG + ridge ---------------------------------------------------------------------------------


def test_hog_ridge_beats_mean_shape_and_round_trips(faces, ridge, tmp_path):
    train, test = faces
    gt = test.keypoints_array()
    images = [s.image for s in test]
    mean = MeanShape().fit(train, progress=False)

    def err(p):
        return np.linalg.norm(p[..., :2] - gt[..., :2], axis=-1).mean()

    assert err(ridge.predict(images)) < 0.85 * err(mean.predict(images))
    assert ridge.train_info["alpha"] in ridge.alphas
    ridge.save(tmp_path)
    np.testing.assert_array_equal(load_classical(tmp_path).predict(images), ridge.predict(images))


def test_flip_augmentation_doubles_training_images(faces, ridge):
    assert ridge.flip and ridge.train_info["images_used"] == 2 * len(faces[0])


# ---- registry and persistence --------------------------------------------------------------------


def test_registry_names_and_factory():
    assert set(CLASSICAL_MODELS) == {"mean-shape", "hog-ridge", "hog-svm", "hog-svm-noprior", "sdm"}
    for name, cls in CLASSICAL_MODELS.items():
        assert cls.name == name
        assert isinstance(make_classical(name), cls)
    with pytest.raises(ValueError, match="unknown classical model 'cnn'"):
        make_classical("cnn")


def test_saved_files_have_no_pickle_and_config_says_classical(tmp_path):
    data = _faces5_set()
    MeanShape().fit(data, progress=False).save(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["family"] == "classical"
    assert config["model"] == "mean-shape"
    assert config["skeleton"] == "faces5"
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    assert isinstance(load_classical(tmp_path), MeanShape)


def test_learnt_arrays_are_what_save_stores(ridge, tmp_path):
    arrays = ridge.learnt_arrays()
    assert set(arrays) == {"weights", "bias"} and arrays["weights"].size > 0
    ridge.save(tmp_path)
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as npz:
        assert set(npz.files) == set(arrays)
        for name, array in arrays.items():
            np.testing.assert_array_equal(npz[name], array)
    with pytest.raises(ValueError, match="not fitted"):
        MeanShape().learnt_arrays()


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_classical(tmp_path / "missing")
    (tmp_path / "config.json").write_text(json.dumps({"family": "deep", "model": "simple"}))
    with pytest.raises(ValueError, match="family is 'deep'"):
        load_classical(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"family": "classical", "model": "nope"}))
    with pytest.raises(ValueError, match="unknown classical model 'nope'"):
        load_classical(tmp_path)
    data = _faces5_set()
    MeanShape().fit(data, progress=False).save(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["num_keypoints"] = 68
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="saved with 68"):
        load_classical(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        load_classical(tmp_path)


# ---- bad input -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mean_model():
    return MeanShape().fit(_faces5_set(), progress=False)


@pytest.mark.parametrize(
    "images, match",
    [
        ([], "empty batch"),
        ([np.zeros((0, 40), np.uint8)], "image 0: empty image"),
        ([np.zeros((40, 40), np.float32)], "image 0: expected uint8"),
        ([np.zeros((40, 40, 4), np.uint8)], "image 0: expected H×W grey or H×W×3"),
        (np.zeros((40, 40), np.uint8), "expected a list of images"),
        ([np.zeros((40, 40), np.uint8), np.zeros((10, 10), np.uint8)], "image 1: face box 10×10 px is smaller"),
    ],
)
def test_bad_images(mean_model, images, match):
    with pytest.raises(ValueError, match=match):
        mean_model.predict(images)


@pytest.mark.parametrize(
    "boxes, match",
    [
        ([[0, 0, 30, 30]] * 2, "expected shape \\(1, 4\\)"),
        ([[0, 0, np.nan, 30]], "not finite"),
        ([[0, 0, 8, 30]], "smaller than the 16 px minimum"),
    ],
)
def test_bad_boxes(mean_model, boxes, match):
    with pytest.raises(ValueError, match=match):
        mean_model.predict([np.zeros((40, 40), np.uint8)], boxes=boxes)


def test_layout_checks(mean_model, faces):
    train, _ = faces
    mean_model.check_layout("faces5")
    with pytest.raises(ValueError, match="layout 'faces68' \\(68 keypoints\\) differs from the model's layout 'faces5'"):
        mean_model.check_layout(train)
    with pytest.raises(ValueError, match="val: layout 'faces68'"):
        MeanShape().fit(_faces5_set(), val=train, progress=False)


def test_multi_instance_and_empty_training_sets_are_rejected():
    img = np.zeros((40, 40), np.uint8)
    kp = np.zeros((2, 5, 3))
    kp[..., 2] = 2
    with pytest.raises(ValueError, match="one instance per image"):
        MeanShape().fit(KeypointDataset([Sample(img, kp)], "faces5"), progress=False)
    with pytest.raises(ValueError, match="empty dataset"):
        MeanShape().fit(KeypointDataset([], "faces5"), progress=False)
    with pytest.raises(ValueError, match="minutes must be positive"):
        MeanShape().fit(_faces5_set(), minutes=0, progress=False)


def test_keypoints_outside_the_image_are_used(faces):
    """Documented: labelled points outside the image still count (the mean may leave the frame)."""
    img = np.full((30, 30), 9, np.uint8)
    kp = np.array([[-10.0, 5.0, 2], [40.0, 35.0, 2], [5, 5, 2], [6, 6, 2], [7, 7, 2]])
    data = KeypointDataset([Sample(img, kp), Sample(img, kp)], "faces5")
    pred = MeanShape().fit(data, progress=False).predict([img])[0]
    np.testing.assert_allclose(pred[:2, :2], [[-10, 5], [40, 35]], atol=1e-9)


def test_mirror_training_set_keeps_labels_consistent_with_an_offset():
    """Labels shifted by dx from a symmetric face: mirrored labels get the same shift, not -dx."""
    from kplearn.classical.localiser import mirror_training_set
    from kplearn.data.synthetic import make_faces
    from kplearn.skeletons import get_skeleton

    sk = get_skeleton("faces68")
    faces = make_faces(40, image_size=64, seed=3)
    works = np.stack([s.image.mean(-1) for s in faces])
    truth = faces.keypoints_array()[..., :2]
    for dx in (0.0, 1.2):
        w2, t2, g2, found = mirror_training_set(works, truth + [dx, 0.0], np.arange(40), sk.flip_index)
        assert abs(found - dx) < 0.35
        assert w2.shape == (80, 64, 64) and t2.shape == (80, 68, 2) and list(g2[40:]) == list(range(40))
        # The mirrored copy of face i: its truth (mirrored exactly) plus the same offset.
        exact = truth[:, sk.flip_index].copy()
        exact[..., 0] = 63 - exact[..., 0]
        err = t2[40:] - (exact + [dx, 0.0])
        assert np.abs(err[..., 1]).max() == 0
        assert np.abs(err[..., 0]).max() < 0.7
