"""ONNX export: onnxruntime gives the same keypoints as torch, for every registered model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip(
    "onnxruntime", reason="onnxruntime is not installed (pip install 'kplearn[onnx]')"
)
pytest.importorskip("onnx", reason="onnx is not installed (pip install 'kplearn[onnx]')")

from kplearn.data.synthetic import make_faces, make_people_scenes  # noqa: E402
from kplearn.export import (  # noqa: E402
    OnnxRuntimeNet,
    export_onnx,
    onnx_metadata,
    onnx_output_names,
    onnx_path_for,
)
from kplearn.models import DEEP_MODELS, build_model  # noqa: E402
from kplearn.train.predict import predict_crops, predict_people  # noqa: E402

torch.set_num_threads(1)
TOP_DOWN = sorted(n for n in DEEP_MODELS if n != "paf")


@pytest.fixture(scope="module")
def crops():
    faces = make_faces(6, image_size=64, seed=2)
    return torch.stack([torch.from_numpy(s.image).permute(2, 0, 1) for s in faces]).contiguous()


def _max_px_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    return float(np.abs(a[ok] - b[ok]).max())


@pytest.mark.parametrize("name", TOP_DOWN)
def test_onnxruntime_keypoints_equal_torch_within_a_hundredth_of_a_pixel(name, crops, tmp_path):
    net = build_model(name, "faces68", preset="fast", input_size=(64, 64), seed=1).eval()
    path = export_onnx(net, tmp_path / f"{name}.onnx")
    ort_net = OnnxRuntimeNet(net, path, threads=1)
    for flip in (False, True):
        xy_t, s_t = predict_crops(net, crops, flip_test=flip)
        xy_o, s_o = predict_crops(ort_net, crops, flip_test=flip)
        assert _max_px_diff(xy_t, xy_o) < 0.01, (name, flip)
        np.testing.assert_allclose(s_o, s_t, atol=1e-3)


def test_onnxruntime_people_equal_torch_for_the_bottom_up_model(tmp_path):
    net = build_model("paf", "coco17", preset="fast", input_size=(64, 64), seed=1).eval()
    ort_net = OnnxRuntimeNet(net, export_onnx(net, tmp_path / "paf.onnx"), threads=1)
    images = [s.image for s in make_people_scenes(3, image_size=64, seed=0)]
    a = predict_people(net, images)
    b = predict_people(ort_net, images)
    for (pa, sa), (pb, sb) in zip(a, b, strict=True):
        assert pa.shape == pb.shape
        if pa.size:
            assert np.abs(pa - pb).max() < 0.01
            np.testing.assert_allclose(sa, sb, atol=1e-3)


def test_the_graph_outputs_name_the_network_outputs_and_the_metadata_the_model(tmp_path):
    net = build_model("cascade", "faces68", preset="fast")
    assert onnx_output_names(net) == ["coords", "stages.0", "stages.1"]
    path = export_onnx(net, tmp_path / "c.onnx", exporter="torchscript")
    meta = onnx_metadata(path)
    assert meta["kplearn_config"]["name"] == "cascade"
    assert meta["kplearn_outputs"] == ["coords", "stages.0", "stages.1"]
    assert meta["kplearn_preprocessing"]["input"] == "image"
    assert "after the graph" in meta["kplearn_decoder"]
    assert meta["kplearn_exporter"]["exporter"] == "torchscript"
    out = OnnxRuntimeNet(net, path)(torch.zeros(1, 3, *net.input_size[::-1]))
    assert len(out["stages"]) == 2 and out["coords"].shape == (1, 68, 2)


def test_a_file_of_another_model_or_no_file_is_a_clear_error(tmp_path):
    a = build_model("heatmap", "faces68", preset="fast", input_size=(64, 64))
    b = build_model("heatmap", "faces68", preset="fast", input_size=(96, 96))
    path = export_onnx(a, tmp_path / "a.onnx")
    with pytest.raises(ValueError, match="exported from another model"):
        OnnxRuntimeNet(b, path)
    with pytest.raises(FileNotFoundError, match="kplearn export"):
        onnx_path_for(tmp_path / "run")
    with pytest.raises(ValueError, match="exporter must be one of"):
        export_onnx(a, tmp_path / "x.onnx", exporter="tflite")
    with pytest.raises(TypeError, match="predicts only"):
        OnnxRuntimeNet(a, path).loss({}, torch.zeros(1, 1, 68, 3))


def test_cli_export_then_predict_with_onnxruntime_matches_torch(tmp_path):
    import cv2

    from kplearn.cli import main
    from kplearn.train import DeepLocaliser

    faces = make_faces(8, image_size=64, seed=3)
    loc = DeepLocaliser("simcc", "faces68", preset="fast")
    loc.fit(faces, epochs=1, progress=False)
    run = loc.save(tmp_path / "run")
    assert main(["export", str(run), "--format", "onnx", "--json"]) == 0
    assert (run / "model.onnx").is_file()
    img = tmp_path / "face.png"
    cv2.imwrite(str(img), faces[0].image[..., ::-1])
    results = {}
    for runtime in ("torch", "onnx"):
        out = tmp_path / f"{runtime}.json"
        assert main(["predict", str(run), str(img), "--whole-image", "--runtime", runtime,
                     "--out", str(out)]) == 0  # fmt: skip
        doc = json.loads(out.read_text())
        assert doc["runtime"] == runtime
        results[runtime] = np.asarray(doc["predictions"][0]["keypoints"])
    assert results["torch"].shape == (68, 2)
    assert np.abs(results["torch"] - results["onnx"]).max() < 0.01
