"""Tests for kplearn.models: shapes, targets, sizes, PAF grouping, flip maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from kplearn.codecs import encode_heatmaps
from kplearn.codecs.paf import limb_agreement
from kplearn.models import (
    DEEP_MODELS,
    build_model,
    count_macs,
    count_parameters,
    default_settings,
    encode_targets,
    gaussian_targets,
    group_people,
    model_profile,
)
from kplearn.models.base import blur_kernel_for, flip_coords
from kplearn.models.paf import find_peaks, paf_flip_map
from kplearn.models.regression import extract_patches
from kplearn.skeletons import Skeleton, get_skeleton

torch.set_num_threads(1)

# (name, overrides, expected output key and trailing shape) on a 64×64 faces68 input.
HEATMAP_CASES = [
    ("heatmap", {"stride": 4}, (16, 16)),
    ("heatmap", {"stride": 2}, (32, 32)),
    ("hourglass", {"stride": 4}, (16, 16)),
    ("hourglass", {"stride": 2}, (32, 32)),
    ("hrnet", {"stride": 4}, (16, 16)),
    ("hrnet", {"stride": 2}, (32, 32)),
]


@pytest.mark.parametrize("name, overrides, hw", HEATMAP_CASES)
def test_heatmap_models_output_k_maps_at_their_stride(name, overrides, hw):
    net = build_model(name, "faces68", preset="fast", input_size=(64, 64), **overrides)
    out = net(torch.zeros(2, 3, 64, 64))
    assert out["heatmaps"].shape == (2, 68, *hw)
    assert net.heatmap_size == hw[::-1]


def test_heatmap_stride_follows_non_square_input():
    net = build_model("heatmap", "coco17", preset="fast", input_size=(48, 64), stride=4)
    assert net(torch.zeros(1, 3, 64, 48))["heatmaps"].shape == (1, 17, 16, 12)


def test_hourglass_has_intermediate_supervision():
    net = build_model("hourglass", "faces5", preset="fast", stacks=2)
    out = net(torch.zeros(1, 3, 64, 64))
    assert len(out["intermediate"]) == 1
    kp = torch.zeros(1, 1, 5, 3)
    kp[..., :2], kp[..., 2] = 30.0, 2
    total, parts = net.loss(out, kp)
    assert set(parts) == {"out1", "out2"}
    assert float(total.detach()) == pytest.approx(sum(parts.values()), rel=1e-5)


@pytest.mark.parametrize("name", ["regression", "cascade", "integral"])
def test_coordinate_models_output_normalised_pairs(name):
    net = build_model(name, "faces68", preset="fast", input_size=(64, 64))
    out = net(torch.zeros(3, 3, 64, 64))
    assert out["coords"].shape == (3, 68, 2)


def test_cascade_has_one_output_per_stage_and_refines_from_crops():
    net = build_model("cascade", "faces5", preset="fast", stages=3)
    out = net.eval()(torch.zeros(1, 3, 64, 64))
    assert len(out["stages"]) == 3
    assert torch.equal(out["coords"], out["stages"][-1])
    # Crop side halves at each later stage.
    h = net.half_sizes()
    assert h[1] == pytest.approx(h[0] / 2)


def test_extract_patches_reads_the_pixels_around_the_centre():
    img = torch.zeros(1, 1, 32, 32)
    img[0, 0, 10, 20] = 1.0  # pixel centre (x=20, y=10)
    # Centre in normalised units (pixel-centre convention): u = (x + 0.5) / 32 * 2 - 1.
    c = torch.tensor([[[(20.5) / 16 - 1, (10.5) / 16 - 1]]])
    # A 4×4 crop of side 4 px (half side 2 px = 0.125 units): the pixel is at its centre cell (2, 2)
    # since crop samples sit at offsets -1.5, -0.5, 0.5, 1.5 px and bilinear weights split 1/4 each.
    p = extract_patches(img, c, 2 / 16, 4)[0, 0, 0]
    assert p.sum().item() == pytest.approx(1.0)
    assert p[1:3, 1:3].sum().item() == pytest.approx(1.0)


def test_paf_model_outputs_heatmaps_and_two_channels_per_edge():
    net = build_model("paf", "coco17", preset="fast", input_size=(64, 64))
    out = net(torch.zeros(1, 3, 64, 64))
    assert out["heatmaps"].shape == (1, 17, 16, 16)
    assert out["pafs"].shape == (1, 2 * len(get_skeleton("coco17").edges), 16, 16)


def test_every_registered_model_builds_with_defaults_for_each_kind():
    for name in DEEP_MODELS:
        settings = default_settings(name, "faces")
        assert "input_size" in settings["model"]
        assert settings["train"]["batch_size"] >= 2
    with pytest.raises(KeyError, match="unknown deep model"):
        default_settings("resnet152", "faces")
    with pytest.raises(ValueError, match="data kind"):
        default_settings("heatmap", "cats")


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="multiple"):
        build_model("heatmap", "faces68", input_size=(62, 64))
    with pytest.raises(ValueError, match="stride"):
        build_model("hrnet", "faces68", stride=8)


def test_seeded_builds_are_identical():
    a = build_model("heatmap", "faces5", preset="fast", seed=3)
    b = build_model("heatmap", "faces5", preset="fast", seed=3)
    c = build_model("heatmap", "faces5", preset="fast", seed=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


# --- sizes -----------------------------------------------------------------------------------------
def test_parameter_and_mac_counts_match_hand_counts():
    lin = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    assert count_parameters(lin) == 48 * 2 + 2
    assert count_macs(lin, (4, 4)) == 96
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=False)
    assert count_parameters(conv) == 3 * 5 * 9
    assert count_macs(conv, (8, 6)) == 3 * 5 * 9 * 8 * 6


def test_model_profile_reports_params_macs_and_time():
    net = build_model("regression", "faces5", preset="fast")
    prof = model_profile(net, repeats=2)
    assert prof["params"] == sum(p.numel() for p in net.parameters())
    assert prof["macs"] > prof["params"]  # convolutions reuse their weights over the image
    assert prof["ms_per_image"] > 0


# --- targets ---------------------------------------------------------------------------------------
def test_gaussian_targets_equal_the_numpy_codec():
    rng = np.random.default_rng(0)
    kp = np.zeros((2, 1, 5, 3))
    kp[..., :2] = rng.uniform(-4, 68, (2, 1, 5, 2))
    kp[..., 2] = rng.integers(0, 3, (2, 1, 5))
    hm, w = gaussian_targets(torch.as_tensor(kp), (64, 64), (16, 16), 1.5)
    ref, ref_w = encode_heatmaps(kp[:, 0], (64, 64), (16, 16), 1.5, "unbiased")
    np.testing.assert_allclose(hm.numpy(), ref, atol=1e-6)
    np.testing.assert_array_equal(w.numpy(), ref_w)


def test_gaussian_targets_merge_people_with_a_maximum():
    kp = torch.zeros(1, 2, 1, 3, dtype=torch.float64)
    kp[0, 0, 0] = torch.tensor([10.0, 10.0, 2])
    kp[0, 1, 0] = torch.tensor([50.0, 40.0, 2])
    hm, w = gaussian_targets(kp, (64, 64), (16, 16), 1.0)
    one, _ = gaussian_targets(kp[:, :1], (64, 64), (16, 16), 1.0)
    two, _ = gaussian_targets(kp[:, 1:], (64, 64), (16, 16), 1.0)
    assert torch.equal(hm, torch.maximum(one, two))
    assert w.tolist() == [[1.0]]


def test_blur_kernel_matches_opencv_sigma_rule():
    # OpenCV: sigma(k) = 0.3 ((k - 1) / 2 - 1) + 0.8; k = 11 -> 2.0 (DARK's default for sigma 2).
    assert blur_kernel_for(2.0) == 11
    assert blur_kernel_for(2.9) == 17


def test_flip_coords_mirrors_and_swaps():
    coords = torch.tensor([[[-0.5, 0.1], [0.25, 0.2], [0.0, 0.3], [0.1, 0.4], [0.2, 0.5]]])
    flipped = flip_coords(coords, torch.as_tensor(np.array(get_skeleton("faces5").flip_index)))
    # faces5 flip pairs (0, 1) and (3, 4): the new right eye is the old left eye mirrored.
    assert flipped[0, 0].tolist() == pytest.approx([-0.25, 0.2])
    assert flipped[0, 1].tolist() == pytest.approx([0.5, 0.1])
    assert flipped[0, 2].tolist() == pytest.approx([0.0, 0.3])
    assert flipped[0, 3].tolist() == pytest.approx([-0.2, 0.5])


# --- part affinity fields --------------------------------------------------------------------------
STICK = Skeleton("test_stick5", ("head", "left_hand", "right_hand", "left_foot", "right_foot"),
                 edges=((0, 1), (0, 2), (0, 3), (0, 4)), flip_pairs=((1, 2), (3, 4)))  # fmt: skip


def _stick_person(x, y, s=1.0):
    return np.array([[x, y, 2], [x + 14 * s, y + 10 * s, 2], [x - 14 * s, y + 10 * s, 2],
                     [x + 8 * s, y + 30 * s, 2], [x - 8 * s, y + 30 * s, 2]], float)  # fmt: skip


def test_paf_targets_are_unit_vectors_along_limbs():
    people = _stick_person(40, 20)[None]
    _, paf = encode_targets(people, (128, 128), (32, 32), STICK.edges, sigma=1.0, paf_width=1.0)
    fx, fy = paf[4], paf[5]  # edge 2 = (0, 3): head -> left foot, direction (8, 30)
    on = (fx != 0) | (fy != 0)
    assert on.sum() > 5
    np.testing.assert_allclose(np.hypot(fx[on], fy[on]), 1.0, atol=1e-6)
    u = np.array([8.0, 30.0]) / np.hypot(8, 30)
    np.testing.assert_allclose(fx[on], u[0], atol=1e-6)
    np.testing.assert_allclose(fy[on], u[1], atol=1e-6)


def test_limb_agreement_scores_direction_samples_and_map_edges():
    along_x = np.stack([np.ones((16, 16)), np.zeros((16, 16))])
    np.testing.assert_allclose(limb_agreement(along_x, (2.0, 5.0), (12.0, 5.0)), 1.0)
    np.testing.assert_allclose(limb_agreement(along_x, (12.0, 5.0), (2.0, 5.0)), -1.0)
    np.testing.assert_allclose(limb_agreement(along_x, (5.0, 2.0), (5.0, 12.0)), 0.0, atol=1e-12)
    np.testing.assert_allclose(limb_agreement(along_x, (2.0, 2.0), (10.0, 10.0)), np.sqrt(0.5))
    # A zero-length segment has no direction, so no agreement.
    np.testing.assert_array_equal(limb_agreement(along_x, (4.0, 4.0), (4.0, 4.0)), 0.0)
    right = along_x.copy()
    right[:, :, :8] = 0.0  # the field only on columns 8-15
    # Samples at x = -8 ... 7: clipped to column 0, never wrapped round to the right half.
    np.testing.assert_array_equal(limb_agreement(right, (-8.0, 3.0), (7.0, 3.0), samples=16), 0.0)
    np.testing.assert_array_equal(limb_agreement(right, (10.0, 3.0), (25.0, 3.0), samples=16), 1.0)
    # Nearest pixel: x = 2, 2.78, 3.56, ... 9 read columns 2, 3, 4, 4, 5, 6, 7, 7, 8, 9.
    left = along_x - right
    assert limb_agreement(left, (2.0, 3.0), (9.0, 3.0), samples=2).tolist() == [1.0, 0.0]
    assert limb_agreement(left, (2.0, 3.0), (9.0, 3.0)).mean() == pytest.approx(0.8)
    # Broadcast: every start against every end.
    starts = np.array([[2.0, 5.0], [12.0, 5.0]])
    ends = np.array([[12.0, 5.0], [2.0, 5.0], [5.0, 5.0]])
    assert limb_agreement(along_x, starts[:, None], ends[None], samples=4).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="field"):
        limb_agreement(np.ones((3, 4, 4)), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="samples"):
        limb_agreement(along_x, (0, 0), (1, 1), samples=0)


def test_group_people_recovers_each_person_from_true_maps():
    # Three people close enough that their hands interleave in x.
    truth = np.stack(
        [_stick_person(30, 20), _stick_person(60, 30, 0.9), _stick_person(92, 18, 1.1)]
    )
    hm, paf = encode_targets(truth, (128, 128), (32, 32), STICK.edges, sigma=1.0, paf_width=1.0)
    found, scores = group_people(hm, paf, STICK.edges, (128, 128))
    assert len(found) == 3 and np.all(np.diff(scores) <= 0)
    for person in truth:
        # The found person whose head is nearest must hold this person's every keypoint.
        match = found[np.argmin(np.linalg.norm(found[:, 0, :2] - person[0, :2], axis=1))]
        np.testing.assert_allclose(match[:, :2], person[:, :2], atol=1.0)
        assert np.all(match[:, 2] == 2)  # v: found (a confidence never goes in this column)


def test_group_people_does_not_pair_limbs_across_people():
    truth = np.stack([_stick_person(30, 20), _stick_person(64, 20)])
    hm, paf = encode_targets(truth, (128, 128), (32, 32), STICK.edges, sigma=1.0, paf_width=1.0)
    # Without the fields every pairing is possible; with them none crosses people.
    found, _ = group_people(hm, paf, STICK.edges, (128, 128))
    heads = found[:, 0, 0]
    for person in found:
        # Hands sit 14 px left/right of their own head: never 20 px away from it.
        assert np.all(np.abs(person[1:3, 0] - person[0, 0]) < 16)
    assert sorted(np.round(heads).tolist()) == [30.0, 64.0]


def test_group_people_with_empty_maps_finds_nobody():
    found, scores = group_people(
        np.zeros((5, 16, 16)), np.zeros((8, 16, 16)), STICK.edges, (64, 64)
    )
    assert found.shape == (0, 5, 3) and scores.shape == (0,)


def test_find_peaks_centroid_is_subpixel():
    hm = np.zeros((9, 9))
    hm[4, 4], hm[4, 5] = 1.0, 1.0
    peaks = find_peaks(hm, 0.5)
    # Two equal maxima side by side: both are peaks, each refined to the midpoint x = 4.5.
    np.testing.assert_allclose(peaks[:, :2], [[4.5, 4.0], [4.5, 4.0]])


def test_paf_flip_merge_of_true_maps_is_the_identity():
    register = pytest.importorskip("kplearn.skeletons").register_skeleton
    register(STICK)
    net = build_model("paf", STICK, preset="fast", input_size=(64, 64))
    truth = np.stack([_stick_person(20, 10, 0.5), _stick_person(40, 14, 0.6)])
    hm, paf = encode_targets(truth, (64, 64), (16, 16), STICK.edges, sigma=1.0, paf_width=1.0)
    mirrored = truth.copy()
    mirrored[..., 0] = 63 - mirrored[..., 0]
    mirrored = mirrored[:, STICK.flip_index]
    hm_f, paf_f = encode_targets(
        mirrored, (64, 64), (16, 16), STICK.edges, sigma=1.0, paf_width=1.0
    )
    out = {"heatmaps": torch.as_tensor(hm)[None], "pafs": torch.as_tensor(paf)[None]}
    out_f = {"heatmaps": torch.as_tensor(hm_f)[None], "pafs": torch.as_tensor(paf_f)[None]}
    merged = net.merge_flip(out, out_f)
    np.testing.assert_allclose(merged["heatmaps"][0].numpy(), hm, atol=1e-6)
    # Limb rasterisation is symmetric up to pixels exactly on the band edge: compare where both agree.
    np.testing.assert_allclose(merged["pafs"][0].numpy(), paf, atol=0.51)
    assert np.mean(np.abs(merged["pafs"][0].numpy() - paf) < 1e-6) > 0.97


def test_paf_flip_map_reverses_listed_direction():
    sk = Skeleton("test_chain3", ("l", "m", "r"), edges=((0, 1), (2, 1)), flip_pairs=((0, 2),))
    index, sign = paf_flip_map(sk.edges, sk.flip_index)
    # (0, 1) mirrors to (2, 1), listed as such: same sign; and back.
    assert index.tolist() == [1, 0] and sign.tolist() == [1.0, 1.0]
    sk2 = Skeleton("test_chain3b", ("l", "m", "r"), edges=((0, 1), (1, 2)), flip_pairs=((0, 2),))
    index, sign = paf_flip_map(sk2.edges, sk2.flip_index)
    assert index.tolist() == [1, 0] and sign.tolist() == [-1.0, -1.0]
