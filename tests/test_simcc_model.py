"""Tests for the SimCC (RTMPose-style) model: shapes, codec round trip, training, flip test, reload."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from kplearn.codecs import encode_simcc
from kplearn.data.synthetic import make_faces
from kplearn.models import DEEP_MODELS, build_model, default_settings
from kplearn.models.simcc import SimCCNet, decode_simcc_logits, flip_simcc, refine_simcc_parabola
from kplearn.skeletons import get_skeleton
from kplearn.train import fit, load_checkpoint, predict, save_checkpoint
from kplearn.train.predict import predict_crops

torch.set_num_threads(1)
FACES68 = get_skeleton("faces68")


@pytest.fixture(scope="module")
def faces():
    return make_faces(8, image_size=64, seed=0)


@pytest.fixture(scope="module")
def overfit(faces):
    """A fast SimCC net fitted to 8 synthetic faces (no augmentation) and its history."""
    net = build_model("simcc", "faces68", preset="fast", input_size=(64, 64), seed=0)
    hist = fit(net, faces, faces, epochs=50, batch_size=8, augment=False, lr=3e-3, warmup=0.05,
               progress=False, seed=0)  # fmt: skip
    return net, hist


# --- registry and shapes ------------------------------------------------------------------------
def test_simcc_is_registered_with_defaults_for_faces_and_people():
    assert DEEP_MODELS["simcc"] is SimCCNet
    faces = default_settings("simcc", "faces")
    people = default_settings("simcc", "people")
    assert faces["model"]["split_ratio"] == 2.0 and faces["model"]["input_size"] == [80, 80]
    assert people["model"]["input_size"] == [64, 64]
    assert people["train"]["augment"]["rotation"] > faces["train"]["augment"]["rotation"]
    fast = default_settings("simcc", "faces", "fast")["model"]
    assert fast["widths"][-1] < faces["model"]["widths"][-1]


@pytest.mark.parametrize("size, ratio", [((64, 64), 2.0), ((48, 64), 2.0), ((64, 48), 1.5)])
def test_outputs_have_one_bin_per_split_ratio_pixel(size, ratio):
    net = build_model("simcc", "coco17", preset="fast", input_size=size, split_ratio=ratio)
    w, h = size
    out = net(torch.zeros(2, 3, h, w))
    assert out["simcc_x"].shape == (2, 17, round(w * ratio))
    assert out["simcc_y"].shape == (2, 17, round(h * ratio))
    xy, scores = net.eval().decode(net(torch.zeros(1, 3, h, w)))
    assert xy.shape == (1, 17, 2) and scores.shape == (1, 17)
    assert np.all((scores > 0) & (scores <= 1))


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="multiple of the encoder stride 16"):
        build_model("simcc", "faces68", preset="fast", input_size=(72, 64))
    with pytest.raises(ValueError, match="final_kernel"):
        build_model("simcc", "faces68", preset="fast", final_kernel=4)


# --- decoding -----------------------------------------------------------------------------------
def test_parabola_refinement_is_exact_for_log_gaussians_and_zero_at_the_ends():
    bins = np.arange(40.0)
    mus = np.array([5.3, 17.0, 30.72])
    logits = -0.5 * (bins - mus[:, None]) ** 2 / 2.5**2
    idx = np.rint(mus).astype(int)
    np.testing.assert_allclose(idx + refine_simcc_parabola(logits, idx), mus, atol=1e-9)
    edge = -0.5 * (bins - 0.2) ** 2
    assert refine_simcc_parabola(edge[None], np.array([0])).tolist() == [0.0]
    flat = np.zeros((1, 40))
    assert refine_simcc_parabola(flat, np.array([7])).tolist() == [0.0]


def test_codec_labels_decode_back_to_the_keypoints_through_the_model():
    net = build_model("simcc", "faces5", preset="fast", input_size=(64, 48), sigma=2.5,
                      label_softmax=False)  # fmt: skip
    rng = np.random.default_rng(3)
    kp = np.concatenate([rng.uniform(4, 44, (6, 5, 2)), np.full((6, 5, 1), 2.0)], -1)
    kp[..., 0] *= 60 / 44  # x in [5.5, 60], y in [4, 44]
    tx, ty, w = net.targets(torch.as_tensor(kp[:, None]))
    assert w.tolist() == np.ones((6, 5)).tolist()
    # Normalised labels are distributions; their logs are the logits of that distribution.
    out = {"simcc_x": torch.log(tx), "simcc_y": torch.log(ty)}
    xy, _ = net.decode(out)
    np.testing.assert_allclose(xy, kp[..., :2], atol=2e-4)
    # Argmax alone is off by up to half a bin (a quarter pixel at split ratio 2).
    net.config["refine"] = False
    coarse, _ = net.decode(out)
    err = np.abs(coarse - kp[..., :2])
    assert err.max() <= 0.25 + 1e-6 and err.max() > 0.1


def test_label_softmax_targets_decode_within_a_small_fraction_of_a_bin():
    tx, ty, _ = encode_simcc(np.array([[[20.3, 30.8, 2.0]]]), (64, 64), sigma=4.0, normalize=False)
    xy, scores = decode_simcc_logits(10 * tx, 10 * ty, (64, 64))
    np.testing.assert_allclose(xy, [[[20.3, 30.8]]], atol=0.05)
    assert 0 < scores[0, 0] < 1


# --- training -------------------------------------------------------------------------------------
def test_a_small_net_overfits_eight_faces(overfit):
    _, hist = overfit
    first = hist.epochs[0]["val"]["nme"]
    assert first > 0.5  # an untrained net is far off
    assert hist.best_value < 0.03, hist.best_value  # under 3 % inter-ocular NME


def test_loss_ignores_unlabelled_keypoints():
    net = build_model("simcc", "faces5", preset="fast", input_size=(64, 64))
    out = net(torch.randn(2, 3, 64, 64))
    kp = torch.full((2, 1, 5, 3), 30.0)
    kp[..., 2] = 2
    moved = kp.clone()
    moved[:, :, 3, :2] = 5.0
    a, _ = net.loss(out, kp)
    b, _ = net.loss(out, moved)
    assert float(a) != float(b)
    kp[:, :, 3, 2] = 0
    moved[:, :, 3, 2] = 0
    a, _ = net.loss(out, kp)
    b, _ = net.loss(out, moved)
    assert float(a) == float(b)


# --- flip test ------------------------------------------------------------------------------------
def _mirror_symmetric(image: np.ndarray) -> np.ndarray:
    img = image.astype(np.uint16)
    return ((img + img[:, ::-1]) // 2).astype(np.uint8)


def test_flip_simcc_reverses_x_and_swaps_pairs():
    sx = torch.arange(2 * 68 * 6, dtype=torch.float32).view(2, 68, 6)
    sy = sx[..., :4] + 1000
    fi = torch.as_tensor(np.asarray(FACES68.flip_index))
    fx, fy = flip_simcc(sx, sy, fi)
    # faces68: point 0 (jaw, image left) pairs with point 16.
    assert fx[0, 0].tolist() == sx[0, 16].flip(0).tolist()
    assert fy[1, 16].tolist() == sy[1, 0].tolist()
    assert fx[0, 30].tolist() == sx[0, 30].flip(0).tolist()  # the nose tip is its own pair


def test_flip_test_on_a_symmetric_image_gives_a_symmetric_face(overfit, faces):
    net, _ = overfit
    img = _mirror_symmetric(faces[0].image)
    w = img.shape[1]
    fi = np.asarray(FACES68.flip_index)
    pairs = fi != np.arange(68)
    kp = predict(net, [img], flip_test=True)[0]
    np.testing.assert_allclose(kp[pairs, 0] + kp[fi[pairs], 0], w - 1, atol=1e-6)
    np.testing.assert_allclose(kp[:, 1], kp[fi, 1], atol=1e-9)
    # Without flip test the trained net is only roughly symmetric.
    plain = predict(net, [img], flip_test=False)[0]
    assert np.abs(plain[pairs, 0] + plain[fi[pairs], 0] - (w - 1)).max() > 1e-3
    # The merged x-distributions are exact mirror images of their partners' (centre-line
    # points of themselves). Such a point still decodes off-centre when its symmetric
    # distribution has two peaks: argmax takes the first.
    x = torch.from_numpy(img).permute(2, 0, 1)[None]
    from kplearn.train.predict import forward_batches

    ((_, merged),) = list(forward_batches(net, x, flip_test=True))
    sx = merged["simcc_x"][0]
    assert torch.equal(sx, sx[torch.as_tensor(fi)].flip(-1))
    assert torch.equal(merged["simcc_y"][0], merged["simcc_y"][0, torch.as_tensor(fi)])


def test_flip_merge_without_the_left_right_swap_is_not_symmetric(overfit, faces):
    net, _ = overfit
    img = _mirror_symmetric(faces[0].image)
    fi = np.asarray(FACES68.flip_index)
    saved = net.flip_index.clone()
    try:
        net.flip_index = torch.arange(68)  # a wrong flip map: reverses x but swaps nothing
        kp = predict(net, [img], flip_test=True)[0]
    finally:
        net.flip_index = saved
    assert np.abs(kp[:, 0] + kp[fi, 0] - (img.shape[1] - 1)).max() > 1.0


# --- checkpoints ----------------------------------------------------------------------------------
def test_reloaded_checkpoint_predicts_bit_identically(overfit, faces, tmp_path):
    net, _ = overfit
    save_checkpoint(net, tmp_path / "run")
    again, config = load_checkpoint(tmp_path / "run")
    assert config["model"] == "simcc" and config["codec"]["kind"] == "simcc"
    images = torch.stack([torch.from_numpy(s.image).permute(2, 0, 1) for s in faces])
    a = predict_crops(net, images)
    b = predict_crops(again, images)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_cli_trains_evaluates_and_predicts_a_simcc_run(tmp_path):
    import cv2

    from kplearn.cli import main

    run = tmp_path / "run"
    assert main(["train", "--data", "synthetic-faces", "--n", "40", "--image-size", "64",
                 "--model", "simcc", "--preset", "fast", "--epochs", "1", "--quiet",
                 "--out", str(run)]) == 0  # fmt: skip
    assert json.loads((run / "config.json").read_text())["model"] == "simcc"
    assert main(["evaluate", str(run), "--data", "synthetic-faces", "--n", "4",
                 "--image-size", "64", "--json"]) == 0  # fmt: skip
    img = make_faces(1, image_size=64, seed=5)[0].image
    cv2.imwrite(str(tmp_path / "face.png"), img[..., ::-1])
    out = tmp_path / "preds.json"
    assert main(["predict", str(run), str(tmp_path / "face.png"), "--out", str(out)]) == 0
    preds = json.loads(out.read_text())["predictions"]
    assert np.asarray(preds[0]["keypoints"]).shape == (68, 2)
