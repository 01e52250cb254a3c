"""Tests for `kplearn train`, `kplearn evaluate` and `kplearn predict`."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from kplearn.cli import main

torch.set_num_threads(1)

TINY = ["--data", "synthetic-faces", "--n", "32", "--image-size", "64", "--quiet"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "reg"
    code = main(["train", *TINY, "--model", "regression", "--preset", "fast", "--epochs", "1",
                 "--out", str(out), "--json"])  # fmt: skip
    assert code == 0
    return out


@pytest.fixture(scope="module")
def face_files(tmp_path_factory):
    from kplearn.data.synthetic import make_faces

    d = tmp_path_factory.mktemp("imgs")
    faces = make_faces(3, image_size=64, seed=5)
    paths = []
    for i, s in enumerate(faces):
        p = d / f"face{i}.png"
        cv2.imwrite(str(p), cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR))
        paths.append(p)
    grey = d / "grey.png"
    cv2.imwrite(str(grey), cv2.cvtColor(faces[0].image, cv2.COLOR_RGB2GRAY))
    rgba = d / "rgba.png"
    cv2.imwrite(str(rgba), cv2.cvtColor(faces[0].image, cv2.COLOR_RGB2BGRA))
    deep = d / "deep16.png"
    cv2.imwrite(str(deep), faces[0].image.astype(np.uint16) * 257)
    return {"faces": paths, "grey": grey, "rgba": rgba, "deep": deep}


def test_train_writes_a_run_with_a_recorded_split(run_dir, capsys):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["family"] == "deep" and config["model"] == "regression"
    assert config["data"] == "synthetic-faces"
    split = config["split"]
    # 32 synthetic faces of 4 identities: 10 % by identity holds out one identity (8 faces).
    assert split["by_group"] is True and len(split["val_names"]) == 8
    assert (run_dir / "model.pt").is_file() and (run_dir / "history.json").is_file()


def test_evaluate_json_prints_face_metrics(run_dir, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--data", "synthetic-faces", "--n", "32", "--image-size", "64",
                 "--split", "val", "--json"]) == 0  # fmt: skip
    metrics = json.loads(capsys.readouterr().out)
    assert {"nme", "failure_rate", "pck@0.05", "pck@0.1", "auc_ced@0.1"} <= set(metrics)
    assert metrics["n"] == 8


def test_predict_writes_json_and_drawings(run_dir, face_files, tmp_path):
    out = tmp_path / "preds.json"
    draw = tmp_path / "drawn"
    paths = [str(p) for p in face_files["faces"]]
    assert main(["predict", str(run_dir), *paths, "--out", str(out), "--draw", str(draw)]) == 0
    preds = json.loads(out.read_text())
    assert preds["skeleton"] == "faces68" and len(preds["predictions"]) == 3
    first = preds["predictions"][0]
    assert first["image"] == paths[0] and np.shape(first["keypoints"]) == (68, 2)
    assert sorted(p.name for p in draw.iterdir()) == ["face0.png", "face1.png", "face2.png"]


def test_predict_accepts_grey_and_rgba_files_like_rgb(run_dir, face_files, tmp_path):
    outs = {}
    for key in ("grey", "rgba"):
        out = tmp_path / f"{key}.json"
        assert main(["predict", str(run_dir), str(face_files[key]), "--out", str(out)]) == 0
        outs[key] = np.array(json.loads(out.read_text())["predictions"][0]["keypoints"])
    rgb_out = tmp_path / "rgb.json"
    assert main(["predict", str(run_dir), str(face_files["faces"][0]), "--out", str(rgb_out)]) == 0
    rgb = np.array(json.loads(rgb_out.read_text())["predictions"][0]["keypoints"])
    np.testing.assert_array_equal(outs["rgba"], rgb)  # alpha is dropped
    assert outs["grey"].shape == rgb.shape


def test_predict_refuses_16_bit_images(run_dir, face_files, tmp_path, capsys):
    code = main(
        ["predict", str(run_dir), str(face_files["deep"]), "--out", str(tmp_path / "p.json")]
    )
    assert code == 2
    assert "16-bit" in capsys.readouterr().err


def test_predict_box_outside_the_image_is_an_error(run_dir, face_files, tmp_path, capsys):
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([[500, 500, 20, 20]]))
    code = main(["predict", str(run_dir), str(face_files["faces"][0]), "--boxes", str(boxes),
                 "--out", str(tmp_path / "p.json")])  # fmt: skip
    assert code == 2
    assert "outside" in capsys.readouterr().err


def test_bad_data_spec_is_a_clean_error(tmp_path, capsys):
    code = main(["train", "--data", "nonsense:spec:x:y", "--model", "heatmap", "--epochs", "1",
                 "--out", str(tmp_path / "x"), "--quiet"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "kplearn train: error:" in err and "nonsense" in err


def test_unknown_model_is_a_clean_error(tmp_path, capsys):
    code = main(
        ["train", *TINY, "--model", "resnet9000", "--epochs", "1", "--out", str(tmp_path / "x")]
    )
    assert code == 2
    assert "unknown model 'resnet9000'" in capsys.readouterr().err


def test_evaluate_on_another_layout_is_a_clean_error(run_dir, capsys):
    code = main(
        ["evaluate", str(run_dir), "--data", "synthetic-people", "--n", "4", "--image-size", "64"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "faces68" in err and "coco17" in err


def test_evaluate_missing_run_is_a_clean_error(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "none"), "--data", "synthetic-faces"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_classical_model_through_the_same_command(tmp_path, capsys):
    registry = pytest.importorskip("kplearn.classical.registry")
    if "mean-shape" not in registry.CLASSICAL_MODELS:
        pytest.skip("no mean-shape baseline registered")
    out = tmp_path / "mean"
    assert main(["train", *TINY, "--model", "mean-shape", "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["family"] == "classical"
    capsys.readouterr()
    assert main(["evaluate", str(out), "--data", "synthetic-faces", "--n", "32", "--image-size", "64",
                 "--split", "val", "--json"]) == 0  # fmt: skip
    assert "nme" in json.loads(capsys.readouterr().out)


@pytest.mark.realdata
def test_train_on_real_faces_holds_out_whole_people(faces68_root, tmp_path, capsys):
    out = tmp_path / "real"
    spec = f"faces68:{faces68_root}"
    code = main(["train", "--data", spec, "--n", "80", "--model", "regression", "--preset", "fast",
                 "--epochs", "1", "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 0
    config = json.loads((out / "config.json").read_text())
    held = set(config["split"]["val_names"])
    from kplearn.data.specs import load_data

    data = load_data(spec, n=80, progress=False)
    held_people = {s.group for s in data if s.name in held}
    kept_people = {s.group for s in data if s.name not in held}
    assert held and not held_people & kept_people
    capsys.readouterr()
    assert (
        main(["evaluate", str(out), "--data", spec, "--n", "80", "--split", "val", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out)["n"] == len(held)
