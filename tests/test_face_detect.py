"""Faces in whole photographs: the Haar detector, detector box -> crop, predict_faces, the CLI."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from skimage.data import astronaut

from kplearn.cli import main
from kplearn.data.datasets import KeypointDataset
from kplearn.face_detect import (
    FACES68_CROP_FRAMING,
    HAAR_TO_LANDMARK_BOX,
    NoFaceFound,
    crop_boxes,
    crop_framing,
    detect_faces,
    face_crop_config,
    face_crop_for,
    landmark_box,
)
from kplearn.train import predict_faces

torch.set_num_threads(1)

# Hand-placed on skimage's astronaut photo (512 × 512) by looking at a 4× enlargement
# with a 10 px grid; about ±3 px. The eyes' centres (pupils) and four points of the face.
ASTRONAUT_EYES = np.array([[204.0, 101.0], [246.0, 103.0]])
ASTRONAUT_FACE = {
    "brow_top": (224.0, 92.0),
    "mouth": (224.0, 144.0),
    "chin": (225.0, 186.0),
    "jaw_left": (182.0, 130.0),
    "jaw_right": (268.0, 130.0),
}


def _inside(points, box, upper_half: bool = False) -> bool:
    x, y, w, h = box
    p = np.asarray(points, np.float64).reshape(-1, 2)
    bottom = y + h / 2 if upper_half else y + h
    return bool(np.all((p[:, 0] >= x) & (p[:, 0] <= x + w) & (p[:, 1] >= y) & (p[:, 1] <= bottom)))


def _eye_centres(kp: np.ndarray) -> np.ndarray:
    """Mean of the six points of each eye (faces68 points 36-41 and 42-47)."""
    return np.stack([kp[36:42, :2].mean(0), kp[42:48, :2].mean(0)])


# --- the detector and the geometry (no model) ------------------------------------------------------
def test_astronaut_has_exactly_one_face_and_its_eyes_in_the_upper_half():
    boxes, scores = detect_faces(astronaut())
    assert boxes.shape == (1, 4) and scores.shape == (1,) and scores[0] > 0
    assert _inside(ASTRONAUT_EYES, boxes[0], upper_half=True)
    assert not _inside(ASTRONAUT_FACE["mouth"], boxes[0], upper_half=True)


def test_grey_and_rgba_photos_give_the_same_face():
    rgb = astronaut()
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    box = detect_faces(rgb)[0]
    np.testing.assert_array_equal(detect_faces(grey)[0], box)
    np.testing.assert_array_equal(detect_faces(rgba)[0], box)


@pytest.mark.parametrize(
    "image", [np.full((300, 400, 3), 128, np.uint8), np.zeros((10, 10), np.uint8)]
)
def test_no_face_is_an_empty_result(image):
    boxes, scores = detect_faces(image)
    assert boxes.shape == (0, 4) and scores.shape == (0,)


def test_detector_refuses_float_images():
    with pytest.raises(ValueError, match="uint8"):
        detect_faces(np.zeros((64, 64), np.float32))


def test_crop_box_from_the_astronaut_detector_box_holds_her_whole_face():
    det = detect_faces(astronaut())[0]
    crop = crop_boxes(det, face_crop_config())[0]
    assert crop[2] == crop[3]  # square, as the training crops
    assert _inside(list(ASTRONAUT_FACE.values()), crop)
    xs = [p[0] for p in ASTRONAUT_FACE.values()]
    ys = [p[1] for p in ASTRONAUT_FACE.values()]
    longer = max(max(xs) - min(xs), max(ys) - min(ys))  # her landmark box's longer side, ~94 px
    assert 1.3 * longer < crop[2] < 1.7 * longer  # the faces68 recipe: 1.5 x (jitter ±10 %)


def test_crop_boxes_follow_the_two_stored_relations():
    det = np.array([[100.0, 40.0, 80.0, 80.0]])
    fc = {"detector": "opencv-haar-frontalface-default",
          "landmark_box": {"centre": [0.1, 0.2], "side": 1.1},
          "crop": {"side": 1.5, "centre": [0.0, -0.05]}}  # fmt: skip
    # landmark centre (140 + 8, 80 + 16), side 88; crop side 132, centre moved up 6.6 px
    x, y, w, h = crop_boxes(det, fc)[0]
    assert (w, h) == pytest.approx((132.0, 132.0))
    assert (x + w / 2, y + h / 2) == pytest.approx((148.0, 96.0 - 6.6))
    with pytest.raises(ValueError, match="detector"):
        crop_boxes(det, {**fc, "detector": "some-cnn"})


def test_crop_framing_measures_the_faces68_recipe():
    rng = np.random.default_rng(0)
    kps, sizes = [], []
    for _ in range(41):
        pts = rng.uniform(0, 1, (68, 2)) * [70.0, 90.0]
        pts[0], pts[1] = (0.0, 0.0), (70.0, 90.0)  # landmark box exactly 70 x 90
        side = 1.5 * 90.0
        # the crop is centred on the landmark box, 1.5 x its longer side
        origin = (
            np.array([35.0, 45.0]) - side / 2 + 0.5
        )  # centre of a side-px crop is (side - 1) / 2
        kp = np.concatenate([pts - origin, np.full((68, 1), 2.0)], 1)
        kps.append(kp)
        sizes.append((int(side), int(side)))
    fr = crop_framing(kps, sizes)
    assert fr["side"] == pytest.approx(1.5, abs=0.01)
    assert fr["centre"] == pytest.approx([0.0, 0.0], abs=0.005)


def test_landmark_box_ignores_unlabelled_points():
    kp = np.array([[10.0, 10.0, 2], [50.0, 30.0, 2], [500.0, 500.0, 0]])
    assert landmark_box(kp).tolist() == [10.0, 10.0, 40.0, 20.0]
    with pytest.raises(ValueError, match="no labelled"):
        landmark_box(kp * [1, 1, 0])


def test_measured_constant_is_the_one_in_the_results_file():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "benchmarks/results/face_detect.txt").read_text()
    line = [ln for ln in text.splitlines() if ln.startswith("HAAR_TO_LANDMARK_BOX")][-1]
    c = HAAR_TO_LANDMARK_BOX
    assert line == (f"HAAR_TO_LANDMARK_BOX = {{'centre': ({c['centre'][0]:.4f}, {c['centre'][1]:.4f}), "
                    f"'side': {c['side']:.4f}}}")  # fmt: skip


# --- runs record the face crop ---------------------------------------------------------------------
def _renamed(data, name):
    return KeypointDataset(list(data), data.skeleton, name=name)


@pytest.fixture(scope="module")
def face_crop_run(tmp_path_factory):
    """A mean-shape face model whose training crops are not synthetic by name: it records a face crop."""
    from kplearn.classical.baselines import MeanShape
    from kplearn.data.synthetic import make_faces

    data = _renamed(make_faces(12, image_size=96, seed=3), "my-faces")
    run = tmp_path_factory.mktemp("runs") / "mean"
    MeanShape().fit(data, progress=False).save(run)
    return run


def test_face_crop_recorded_for_face_crops_only():
    from kplearn.data.synthetic import make_faces

    faces = make_faces(6, image_size=64, seed=0)
    assert face_crop_for(faces) is None  # synthetic drawings: the cascade does not find them
    fc = face_crop_for(_renamed(faces, "photos"))
    assert fc["detector"] == "opencv-haar-frontalface-default"
    assert fc["landmark_box"]["side"] == HAAR_TO_LANDMARK_BOX["side"]
    assert 1.0 < fc["crop"]["side"] < 2.5


def test_run_config_holds_the_face_crop_and_it_is_used(face_crop_run):
    from kplearn.train import load_run

    config = json.loads((face_crop_run / "config.json").read_text())
    assert config["face_crop"]["detector"] == "opencv-haar-frontalface-default"
    loc = load_run(face_crop_run)
    assert loc.face_crop == config["face_crop"]
    [faces] = predict_faces(loc, [astronaut()])
    assert len(faces) == 1
    np.testing.assert_allclose(faces.crops, crop_boxes(faces.boxes, config["face_crop"]))
    assert faces.keypoints.shape == (1, 68, 3) and faces.scores.shape == (1, 68)
    assert _inside(faces.keypoints[0, :, :2], faces.crops[0])  # image coordinates, in the crop


def test_predict_faces_with_given_boxes_skips_the_detector(face_crop_run):
    box = [176.5, 65.5, 95.0, 95.0]
    img = astronaut()
    [a, b] = predict_faces(str(face_crop_run), [img, img], boxes=[[box], None])
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert np.isnan(a.face_scores).all() and np.isfinite(b.face_scores).all()


def test_no_face_is_a_clear_error_naming_the_image(face_crop_run):
    grey = np.full((240, 320, 3), 128, np.uint8)
    with pytest.raises(NoFaceFound, match="no face found in flat.png "):
        predict_faces(face_crop_run, [astronaut(), grey], names=["astronaut.png", "flat.png"])


def test_predict_faces_refuses_a_model_that_is_not_a_face_model():
    from kplearn.models import build_model

    with pytest.raises(ValueError, match="not a face-crop model"):
        predict_faces(build_model("heatmap", "coco17", preset="fast"), [astronaut()])


def test_faces68_default_framing_for_a_bare_network():
    from kplearn.models import build_model

    net = build_model("regression", "faces68", preset="fast")
    [faces] = predict_faces(net, [astronaut()], flip_test=False)
    np.testing.assert_allclose(
        faces.crops, crop_boxes(faces.boxes, face_crop_config(FACES68_CROP_FRAMING))
    )


# --- the command ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def photo_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("photos")
    cv2.imwrite(str(d / "astronaut.png"), cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(d / "flat.png"), np.full((200, 300), 128, np.uint8))
    return d


def test_cli_predict_finds_the_face_and_draws_it(face_crop_run, photo_files, tmp_path):
    out, draw = tmp_path / "p.json", tmp_path / "drawn"
    photo = photo_files / "astronaut.png"
    assert (
        main(["predict", str(face_crop_run), str(photo), "--out", str(out), "--draw", str(draw)])
        == 0
    )
    result = json.loads(out.read_text())
    assert result["mode"] == "faces"
    [rec] = result["predictions"]
    [face] = rec["faces"]
    assert np.shape(face["keypoints"]) == (68, 2) and len(face["scores"]) == 68
    assert face["box"] == [176.5, 65.5, 95.0, 95.0] and face["score"] > 0
    drawn = cv2.imread(str(draw / "astronaut.png"))
    assert drawn.shape == (512, 512, 3)
    assert (drawn != cv2.imread(str(photo))).any(axis=2).sum() > 500  # points and outline drawn


def test_cli_predict_boxes_and_whole_image_override_face_finding(
    face_crop_run, photo_files, tmp_path
):
    photo = str(photo_files / "astronaut.png")
    out = tmp_path / "w.json"
    assert main(["predict", str(face_crop_run), photo, "--whole-image", "--out", str(out)]) == 0
    whole = json.loads(out.read_text())
    assert whole["mode"] == "whole image" and np.shape(whole["predictions"][0]["keypoints"]) == (
        68,
        2,
    )
    boxes = tmp_path / "b.json"
    boxes.write_text(json.dumps([[150, 60, 140, 140]]))
    assert (
        main(["predict", str(face_crop_run), photo, "--boxes", str(boxes), "--out", str(out)]) == 0
    )
    assert json.loads(out.read_text())["mode"] == "boxes"


def test_cli_predict_flat_grey_image_is_a_clear_message(
    face_crop_run, photo_files, tmp_path, capsys
):
    code = main(
        [
            "predict",
            str(face_crop_run),
            str(photo_files / "flat.png"),
            "--out",
            str(tmp_path / "p.json"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "no face found" in err and "flat.png" in err and "Traceback" not in err
    assert not (tmp_path / "p.json").exists()


# --- a real model on a real photo -------------------------------------------------------------------
@pytest.mark.realdata
def test_model_trained_on_faces68_puts_the_eyes_in_the_upper_half(faces68_root):
    from kplearn.classical.baselines import HogRidge
    from kplearn.data import load_faces68

    data = load_faces68(faces68_root, progress=False, n=400)
    model = HogRidge().fit(data, progress=False, seed=0)
    assert model.face_crop["crop"]["side"] == pytest.approx(1.5, abs=0.05)
    [faces] = predict_faces(model, [astronaut()])
    assert len(faces) == 1
    eyes = _eye_centres(faces.keypoints[0])
    assert _inside(eyes, faces.boxes[0], upper_half=True)
    # and near the hand-placed pupils (inter-ocular distance ~42 px; 1-2 px measured, 6-8 px
    # when the detector -> landmark box relation is left out)
    assert np.linalg.norm(eyes - ASTRONAUT_EYES, axis=1).max() < 5.0
