"""Tests for kplearn.train: fit budgets, checkpoints, predict geometry, flip test, augmentation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from torch import nn

from kplearn.codecs import encode_heatmaps_torch
from kplearn.data.datasets import KeypointDataset, Sample
from kplearn.data.transforms import MEAN, STD, AugmentConfig
from kplearn.models import build_model
from kplearn.models.base import KeypointNet, flip_heatmaps
from kplearn.skeletons import get_skeleton
from kplearn.train import (
    DeepLocaliser,
    evaluate,
    fit,
    load_checkpoint,
    load_run,
    predict,
    save_checkpoint,
)
from kplearn.train.augment import affine_grid_theta, augment_batch
from kplearn.train.crops import build_crops, check_image
from kplearn.train.fit import lr_factor
from kplearn.train.predict import predict_crops

torch.set_num_threads(1)
FACES5 = get_skeleton("faces5")


# --- a hand-made, flip-equivariant "network" -------------------------------------------------------
class DotOracle(KeypointNet):
    """Finds five bright blobs and names them as a faces5 face, so it is flip-equivariant by construction.

    Top two blobs are the eyes, the middle one the nose, the bottom two the mouth
    corners; within a pair the one on the image's left is the subject's *right*
    (as a trained network would learn). It outputs exact Gaussian heatmaps at the
    blob centroids (``kind="heatmaps"``) or their normalised coordinates.
    """

    def __init__(
        self, kind: str = "heatmaps", input_size=(64, 64), stride: int = 4, sigma: float = 1.5
    ):
        super().__init__({"name": "oracle", "skeleton": "faces5", "num_keypoints": 5, "input_size": list(input_size), "stride": stride,
                          "sigma": sigma, "decoder": "dark", "flip_index": FACES5.flip_index.tolist()})  # fmt: skip
        self.output_kind = kind
        self.anchor = nn.Parameter(torch.zeros(1))

    def find(self, x: torch.Tensor) -> torch.Tensor:
        grey = (x[:, 0] * float(STD[0]) + float(MEAN[0])).numpy()
        out = torch.zeros(len(grey), 5, 3, dtype=torch.float64)
        for n, g in enumerate(grey):
            labels, count = ndi.label(g > 0.1)
            assert count == 5, f"expected 5 blobs, found {count}"
            cents = np.array(ndi.center_of_mass(g, labels, range(1, 6)))[:, ::-1]  # (x, y)
            cents = cents[np.argsort(cents[:, 1])]
            eyes, nose, mouth = cents[:2], cents[2], cents[3:]
            eyes, mouth = eyes[np.argsort(eyes[:, 0])], mouth[np.argsort(mouth[:, 0])]
            out[n, :, :2] = torch.as_tensor(np.stack([eyes[0], eyes[1], nose, mouth[0], mouth[1]]))
            out[n, :, 2] = 2
        return out

    def forward(self, x: torch.Tensor) -> dict:
        kp = self.find(x)
        if self.output_kind == "heatmaps":
            hm, _ = encode_heatmaps_torch(
                kp, self.input_size, self.heatmap_size, self.config["sigma"]
            )
            return {"heatmaps": hm.float() + 0 * self.anchor}
        return {"coords": self.to_normalized(kp).float() + 0 * self.anchor}


def face_image(size=(200, 150), center=(90.0, 70.0), scale=1.0, sigma=2.0, nose_dx=0.5):
    """A dark image with five Gaussian dots laid out like a face, and their (K, 3) positions."""
    w, h = size
    offsets = (
        np.array([[-12.0, -10.0], [12.0, -10.0], [nose_dx, 2.0], [-9.0, 14.0], [9.0, 14.0]]) * scale
    )
    # Image-left eye is the subject's right eye (index 0), as in faces5.
    pts = np.asarray(center) + offsets
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w), np.float64)
    for x, y in pts:
        img = np.maximum(img, np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * (sigma * scale) ** 2)))
    rgb = np.repeat((img * 255).round().astype(np.uint8)[..., None], 3, axis=2)
    kp = np.concatenate([pts, np.full((5, 1), 2.0)], 1)
    return rgb, kp


@pytest.mark.parametrize("kind", ["heatmaps", "coords"])
def test_predict_maps_back_to_image_pixels_through_a_box(kind):
    img, kp = face_image(center=(120.3, 80.7), scale=1.5)
    box = [85.0, 50.0, 70.0, 72.0]  # around the face, not square, not at the origin
    pred = predict(DotOracle(kind), [img], boxes=[box], flip_test=False)
    assert pred.shape == (1, 5, 3)
    np.testing.assert_allclose(pred[0, :, :2], kp[:, :2], atol=0.25)
    assert np.all(pred[..., 2] == 2)


def test_predict_whole_image_without_box():
    img, kp = face_image(size=(96, 96), center=(47.0, 45.0), scale=1.2)
    pred = predict(DotOracle(), [img], flip_test=False)
    np.testing.assert_allclose(pred[0, :, :2], kp[:, :2], atol=0.25)


@pytest.mark.parametrize("kind", ["heatmaps", "coords"])
def test_flip_test_returns_the_same_keypoints_for_an_equivariant_model(kind):
    img, kp = face_image(center=(101.2, 66.9), scale=1.3)
    box = [70.0, 40.0, 64.0, 60.0]
    plain = predict(DotOracle(kind), [img], boxes=[box], flip_test=False)
    flipped = predict(DotOracle(kind), [img], boxes=[box], flip_test=True)
    np.testing.assert_allclose(flipped, plain, atol=0.02)
    np.testing.assert_allclose(flipped[0, :, :2], kp[:, :2], atol=0.25)


def test_flip_merge_would_fail_without_the_left_right_swap():
    # The check above can fail: averaging with mirrored maps whose channels are *not* swapped
    # puts each eye half-way between the two eyes.
    net = DotOracle()
    img, _ = face_image(size=(64, 64), center=(32.0, 30.0))
    x = torch.as_tensor(((img / 255.0 - MEAN) / STD).transpose(2, 0, 1)[None], dtype=torch.float32)
    out, out_f = net(x), net(x.flip(-1))
    good = net.decode(net.merge_flip(out, out_f))[0]
    bad = net.decode({"heatmaps": 0.5 * (out["heatmaps"] + out_f["heatmaps"].flip(-1))})[0]
    right = flip_heatmaps(out_f["heatmaps"], net.flip_index)
    assert torch.allclose(right, out["heatmaps"], atol=1e-6)
    assert np.abs(good - net.decode(out)[0]).max() < 0.02
    assert np.abs(bad - net.decode(out)[0]).max() > 5


def test_flip_test_on_msra_shifted_maps_is_misaligned():
    # On the unbiased grid a mirrored input is a mirrored heatmap; a one-pixel shift (MSRA style)
    # would move every point by a stride: the oracle would then disagree with itself.
    net = DotOracle()
    img, _ = face_image(size=(64, 64), center=(31.0, 30.0))
    x = torch.as_tensor(((img / 255.0 - MEAN) / STD).transpose(2, 0, 1)[None], dtype=torch.float32)
    out_f = net(x.flip(-1))
    shifted = flip_heatmaps(out_f["heatmaps"], net.flip_index).roll(1, -1)
    moved = net.decode({"heatmaps": shifted})[0] - net.decode(net(x))[0]
    assert np.allclose(moved[..., 0], 4.0, atol=0.05)


# --- image checks ------------------------------------------------------------------------------------
def test_grey_and_rgba_images_are_accepted_and_16_bit_refused():
    img, kp = face_image(size=(96, 96), center=(47.0, 45.0), scale=1.2)
    grey = img[..., 0]
    rgba = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], 2)
    rgb_pred = predict(DotOracle(), [img], flip_test=False)
    np.testing.assert_array_equal(predict(DotOracle(), [grey], flip_test=False), rgb_pred)
    np.testing.assert_array_equal(predict(DotOracle(), [rgba], flip_test=False), rgb_pred)
    with pytest.raises(ValueError, match="16-bit"):
        predict(DotOracle(), [img.astype(np.uint16) * 257])
    with pytest.raises(ValueError, match="uint8"):
        predict(DotOracle(), [img.astype(np.float32)])
    with pytest.raises(ValueError, match="list"):
        predict(DotOracle(), img)
    with pytest.raises(ValueError, match="channels|shape"):
        check_image(np.zeros((8, 8, 2), np.uint8))


def test_boxes_outside_the_image_or_malformed_are_errors():
    img, _ = face_image(size=(96, 96), center=(47.0, 45.0))
    with pytest.raises(ValueError, match="outside"):
        predict(DotOracle(), [img], boxes=[[200.0, 10.0, 30.0, 30.0]])
    with pytest.raises(ValueError, match="outside"):
        predict(DotOracle(), [img], boxes=[[-50.0, 10.0, 20.0, 30.0]])
    with pytest.raises(ValueError, match="NaN"):
        predict(DotOracle(), [img], boxes=[[np.nan, 10.0, 30.0, 30.0]])
    with pytest.raises(ValueError, match="2 boxes"):
        predict(DotOracle(), [img], boxes=[[0, 0, 10, 10], [0, 0, 10, 10]])
    with pytest.raises(ValueError, match="width and height"):
        predict(DotOracle(), [img], boxes=[[10.0, 10.0, -5.0, 30.0]])


# --- crops and augmentation ---------------------------------------------------------------------------
def _dataset(n=6, size=(96, 96)):
    samples = []
    for i in range(n):
        img, kp = face_image(
            size=size, center=(size[0] / 2 + i - 2.0, size[1] / 2 - i / 2), scale=1.1
        )
        samples.append(Sample(img, kp[None], name=f"s{i}", group=f"g{i % 3}"))
    return KeypointDataset(samples, "faces5")


def test_crops_hold_keypoints_in_crop_pixels():
    ds = _dataset(2, size=(96, 96))
    crops = build_crops(ds, (48, 48))
    # Whole-image crop at half size: x' = (x + 0.5) / 2 - 0.5.
    expected = (ds[1].keypoints[0, :, :2] + 0.5) / 2 - 0.5
    np.testing.assert_allclose(crops.keypoints[1, 0, :, :2].numpy(), expected, atol=1e-5)
    xy, _ = predict_crops(DotOracle(input_size=(48, 48)), crops.images, flip_test=False)
    np.testing.assert_allclose(xy[1], expected, atol=0.2)


def test_affine_grid_theta_reproduces_a_pixel_shift():
    img = torch.zeros(1, 1, 8, 8)
    img[0, 0, 3, 2] = 1.0
    m = np.array([[[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]]])  # content moves 2 right, 1 down
    theta = torch.as_tensor(affine_grid_theta(m, (8, 8), (8, 8)), dtype=torch.float32)
    grid = torch.nn.functional.affine_grid(theta, [1, 1, 8, 8], align_corners=False)
    out = torch.nn.functional.grid_sample(img, grid, align_corners=False)
    assert out[0, 0, 4, 4].item() == pytest.approx(1.0, abs=1e-5)
    assert out.sum().item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("flip", [0.0, 1.0])
def test_augmented_keypoints_follow_the_image_content(flip):
    ds = _dataset(4, size=(64, 64))
    crops = build_crops(ds, (64, 64))
    cfg = AugmentConfig(rotation=20.0, scale=(0.9, 1.1), shift=0.05, flip_prob=flip, brightness=0.0,
                        contrast=0.0, saturation=0.0, hue=0.0, gamma=(1.0, 1.0), blur_prob=0.0,
                        noise_prob=0.0, occlusion_prob=0.0)  # fmt: skip
    x, kp = augment_batch(
        crops.images, crops.keypoints, cfg, np.random.default_rng(1), FACES5.flip_index
    )
    found = DotOracle().find(x)  # names the blobs by their place in the (possibly mirrored) face
    np.testing.assert_allclose(kp[:, 0, :, :2].numpy(), found[..., :2].numpy(), atol=0.3)


def test_augmentation_is_seeded():
    crops = build_crops(_dataset(3, size=(64, 64)), (64, 64))
    a = augment_batch(
        crops.images, crops.keypoints, AugmentConfig(), np.random.default_rng(5), FACES5.flip_index
    )
    b = augment_batch(
        crops.images, crops.keypoints, AugmentConfig(), np.random.default_rng(5), FACES5.flip_index
    )
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_erased_keypoints_become_hidden():
    crops = build_crops(_dataset(3, size=(64, 64)), (64, 64))
    cfg = AugmentConfig(rotation=0.0, scale=(1.0, 1.0), shift=0.0, flip_prob=0.0, occlusion_prob=1.0,
                        occlusion_size=(0.99, 1.0))  # fmt: skip
    _, kp = augment_batch(
        crops.images, crops.keypoints, cfg, np.random.default_rng(0), FACES5.flip_index
    )
    assert set(np.unique(kp[..., 2].numpy())) == {1.0}


# --- schedule and fit -------------------------------------------------------------------------------------
def test_lr_schedule_values():
    assert lr_factor(0.0, "cosine", 0.1) == pytest.approx(0.01)
    assert lr_factor(0.05, "cosine", 0.1) == pytest.approx(0.01 + 0.99 * 0.5)
    assert lr_factor(0.55, "cosine", 0.1) == pytest.approx(0.01 + 0.99 * 0.5)  # half-way down
    assert lr_factor(1.0, "cosine", 0.1) == pytest.approx(0.01)
    assert lr_factor(0.7, "constant") == 1.0
    with pytest.raises(ValueError, match="schedule"):
        lr_factor(0.5, "linear")


@pytest.fixture(scope="module")
def faces():
    from kplearn.data.synthetic import make_faces

    return make_faces(40, image_size=64, seed=0)


def test_fit_respects_an_epoch_budget(faces):
    net = build_model("regression", "faces68", preset="fast")
    hist = fit(net, faces[:32], faces[32:], epochs=2, batch_size=8, progress=False)
    assert len(hist.epochs) == 2 and hist.stop_reason == "epochs"
    assert hist.steps == 2 * (32 // 8)
    assert hist.metric == "nme" and hist.best_epoch in (1, 2)
    assert all("nme" in e["val"] for e in hist.epochs)


def test_fit_respects_a_minutes_budget(faces):
    net = build_model("heatmap", "faces68", preset="fast")
    hist = fit(
        net, faces[:32], faces[32:], epochs=10_000, minutes=0.1, batch_size=8, progress=False
    )
    assert hist.stop_reason == "time"
    # The budget, plus one step and one validation on a busy machine.
    assert hist.seconds < 6.0 + 30.0
    assert len(hist.epochs) < 10_000


def test_fit_keeps_the_best_epoch_and_stops_early(faces, tmp_path):
    net = build_model("regression", "faces68", preset="fast")
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.0  # frozen running statistics
    # lr 0 and frozen statistics: nothing improves after the first epoch, patience 1 stops at 2.
    hist = fit(net, faces[:16], faces[32:], epochs=5, batch_size=8, lr=0.0, patience=1, progress=False,
               out=tmp_path / "run")  # fmt: skip
    assert hist.stop_reason == "early stopping" and len(hist.epochs) == 2 and hist.best_epoch == 1
    assert (tmp_path / "run" / "model.pt").is_file()
    assert json.loads((tmp_path / "run" / "history.json").read_text())["best_epoch"] == 1


def test_fit_refuses_other_layouts_and_bad_budgets(faces):
    net = build_model("regression", "faces5", preset="fast")
    with pytest.raises(ValueError, match="keypoints"):
        fit(net, faces, epochs=1, progress=False)
    net = build_model("regression", "faces68", preset="fast")
    with pytest.raises(ValueError, match="epochs"):
        fit(net, faces, epochs=0, progress=False)
    with pytest.raises(ValueError, match="minutes"):
        fit(net, faces, minutes=-1, progress=False)


# --- checkpoints ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained_run(faces, tmp_path_factory):
    loc = DeepLocaliser("heatmap", "faces68", preset="fast")
    loc.fit(faces[:32], faces[32:], epochs=1, progress=False, batch_size=8)
    run = tmp_path_factory.mktemp("run")
    loc.save(run)
    return loc, run


def test_reloaded_checkpoint_gives_bit_identical_predictions(trained_run, faces):
    loc, run = trained_run
    images = [s.image for s in faces[32:]]
    before, sb = loc.predict(images, return_scores=True)
    again = load_run(run)
    after, sa = again.predict(images, return_scores=True)
    assert np.array_equal(before, after) and np.array_equal(sb, sa)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loc.model.eval()(x)["heatmaps"], again.model(x)["heatmaps"])


def test_checkpoint_is_a_weights_only_state_dict_and_json_config(trained_run):
    _, run = trained_run
    state = torch.load(run / "model.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    config = json.loads((run / "config.json").read_text())
    assert config["family"] == "deep" and config["model"] == "heatmap"
    assert config["skeleton"]["name"] == "faces68" and config["input_size"] == [64, 64]
    assert config["codec"]["decoder"] == "dark" and config["codec"]["encoding"] == "unbiased"


class _NotATensor:
    pass


def test_pickled_objects_in_model_pt_are_refused(trained_run, tmp_path):
    _, run = trained_run
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((run / "config.json").read_text())
    torch.save({"weights": _NotATensor()}, bad / "model.pt")
    with pytest.raises(ValueError, match="weights-only"):
        load_checkpoint(bad)


def test_checkpoint_for_another_layout_is_a_clear_error(trained_run, tmp_path, faces):
    loc, run = trained_run
    # A faces5 model's config with the faces68 weights: the state dict does not fit.
    other = build_model("heatmap", "faces5", preset="fast")
    save_checkpoint(other, tmp_path / "f5")
    (tmp_path / "f5" / "model.pt").write_bytes((run / "model.pt").read_bytes())
    with pytest.raises(ValueError, match="does not match"):
        load_checkpoint(tmp_path / "f5")
    # Evaluating a faces68 run on faces5 data names both layouts.
    data5 = _dataset(3)
    with pytest.raises(ValueError, match="faces68.*faces5"):
        evaluate(loc, data5)


def test_missing_run_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_run(tmp_path / "empty")


# --- evaluate -----------------------------------------------------------------------------------------------
def test_evaluate_faces_reports_face_metrics(trained_run, faces):
    loc, _ = trained_run
    m = evaluate(loc, faces[32:])
    assert {"nme", "failure_rate", "pck@0.05", "pck@0.1", "auc_ced@0.1"} <= set(m)
    assert m["n"] == 8 and m["flip_test"] is True


def test_evaluate_of_a_perfect_oracle_is_perfect():
    ds = _dataset(4)
    for kind in ("heatmaps", "coords"):
        m = evaluate(DotOracle(kind), ds)
        assert m["epe"] < 0.25 and m["pck@0.05"] == 1.0


def test_evaluate_people_reports_pck_and_oks_ap():
    from kplearn.data.synthetic import make_people

    people = make_people(16, image_size=64, seed=0)
    loc = DeepLocaliser("heatmap", "coco17", preset="fast")
    loc.fit(people[:12], epochs=1, batch_size=6, progress=False)
    m = evaluate(loc, people[12:])
    assert {"pck@0.05", "pck@0.1", "epe", "ap", "ap50", "ap75", "ar"} <= set(m)
    assert -1.0 <= m["ap"] <= 1.0


@pytest.mark.parametrize("name", ["regression", "cascade", "integral", "hourglass", "hrnet"])
def test_every_deep_model_trains_and_predicts(name, faces):
    loc = DeepLocaliser(name, "faces68", preset="fast")
    loc.fit(faces[:16], faces[32:], epochs=1, batch_size=8, progress=False)
    kp = loc.predict([faces[33].image])
    assert kp.shape == (1, 68, 3) and np.isfinite(kp).all()


def test_bottom_up_paf_model_trains_evaluates_and_finds_people():
    from kplearn.data.synthetic import make_people_scenes

    scenes = make_people_scenes(6, image_size=64, seed=0)
    loc = DeepLocaliser("paf", "coco17", preset="fast", model={"input_size": [64, 64]})
    loc.fit(scenes[:4], scenes[4:], epochs=1, batch_size=2, progress=False)
    assert loc.history.metric == "loss"
    m = evaluate(loc, scenes[4:])
    assert {"ap", "ap50", "ar", "detections"} <= set(m)
    ((people, scores),) = loc.predict_people([scenes[5].image])
    assert people.ndim == 3 and people.shape[1:] == (17, 3) and len(scores) == len(people) <= 20
    with pytest.raises(ValueError, match="predict_people"):
        predict(loc, [scenes[5].image])


def test_training_plots(trained_run):
    from kplearn.viz.training import draw_cascade_stages, plot_history

    loc, _ = trained_run
    fig = plot_history(loc.history)
    assert [ax.get_title() for ax in fig.axes] == ["training loss", "validation nme"]
    img, kp = face_image(size=(64, 64), center=(32.0, 30.0))
    fig = draw_cascade_stages(
        img, [kp[:, :2] + 2, kp[:, :2]], "faces5", truth=kp, crop_half_sizes=[6.0]
    )
    assert len(fig.axes) == 2 and "mean error 0.00" in fig.axes[1].get_title()
    with pytest.raises(ValueError, match="stages"):
        draw_cascade_stages(img, [kp[:3, :2]], "faces5")


def test_weight_averaging_update_and_fit_option(faces):
    from kplearn.train.fit import _update_ema

    net = nn.Sequential(nn.Linear(1, 1, bias=False), nn.BatchNorm1d(1))
    with torch.no_grad():
        net[0].weight.fill_(1.0)
    ema = {k: torch.zeros_like(v) for k, v in net.state_dict().items()}
    _update_ema(ema, net, 0.75)
    assert ema["0.weight"].item() == pytest.approx(0.25)
    assert ema["1.num_batches_tracked"].item() == 0  # integers are copied, not averaged
    model = build_model("regression", "faces68", preset="fast")
    hist = fit(model, faces[:16], faces[32:], epochs=1, batch_size=8, ema=0.9, progress=False)
    assert hist.best_epoch == 1


def test_label_offset_is_measured_and_given_back(tmp_path):
    from kplearn.train.mirror import estimate_label_offset

    samples = []
    for i in range(8):
        img, kp = face_image(
            size=(64, 64), center=(31.5 + (i % 3) - 1, 30.0), scale=1.1, nose_dx=0.0
        )
        kp[:, 0] += 0.8  # labels 0.8 px right of the (mirror-symmetric) content
        samples.append(Sample(img, kp[None], name=f"s{i}", group=f"g{i}"))
    ds = KeypointDataset(samples, "faces5")
    crops = build_crops(ds, (64, 64))
    expected = 0.8
    found = estimate_label_offset(crops.images.numpy(), crops.keypoints.numpy(), FACES5.flip_index)
    assert found == pytest.approx(expected, abs=0.06)
    net = build_model("regression", "faces5", preset="fast")
    fit(net, ds, epochs=1, batch_size=4, label_offset="auto", progress=False)
    assert net.config["label_offset"][0] == pytest.approx(expected, abs=0.1)
    # Decoding gives the offset back: the same output decodes 0.8 px further right.
    out = {"coords": torch.zeros(1, 5, 2)}
    shifted = net.decode(out)[0]
    net.config["label_offset"] = [0.0, 0.0]
    assert np.allclose(shifted - net.decode(out)[0], [expected, 0.0], atol=0.1)
    with pytest.raises(ValueError, match="label_offset"):
        fit(net, ds, epochs=1, batch_size=4, label_offset="sometimes", progress=False)
