"""Tests for kplearn.codecs: conventions, hand-worked values, round trips, flips, torch twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kplearn.codecs import (
    DECODE_METHODS,
    ENCODINGS,
    decode_heatmaps,
    decode_heatmaps_torch,
    decode_simcc,
    denormalize_keypoints,
    encode_heatmaps,
    encode_heatmaps_torch,
    encode_simcc,
    gaussian_blur,
    heatmap_expectation,
    heatmap_maximum,
    heatmap_to_input,
    input_to_heatmap,
    normalize_keypoints,
    refine_dark,
    refine_quarter,
    simcc_bins,
    soft_argmax,
)

torch.set_num_threads(1)

IN = (192, 256)  # (w, h)
HM = (48, 64)
S = 4.0  # stride
PROPS = settings(max_examples=40, deadline=None, derandomize=True)

# Keypoints at least 8 heatmap px (32 input px) from the border.
xs = st.floats(32.0, IN[0] - 33.0, allow_nan=False)
ys = st.floats(32.0, IN[1] - 33.0, allow_nan=False)


def one(x: float, y: float, v: float = 2.0) -> np.ndarray:
    return np.array([[[x, y, v]]])


def gaussian_ref(mu_x: float, mu_y: float, size, sigma: float) -> np.ndarray:
    """Independent per-pixel Gaussian (loops, no vectorisation)."""
    w, h = size
    out = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            out[i, j] = math.exp(-((j - mu_x) ** 2 + (i - mu_y) ** 2) / (2 * sigma**2))
    return out


# ----------------------------------------------------------------- coordinate maps


def test_coordinate_maps_hand_values():
    # unbiased: the image extent [-0.5, w-0.5] is the heatmap extent [-0.5, W'-0.5].
    np.testing.assert_allclose(input_to_heatmap(np.array([-0.5, -0.5]), IN, HM), [-0.5, -0.5])
    np.testing.assert_allclose(input_to_heatmap(np.array([191.5, 255.5]), IN, HM), [47.5, 63.5])
    np.testing.assert_allclose(input_to_heatmap(np.array([1.5, 5.5]), IN, HM), [0.0, 1.0])
    # msra: heatmap pixel i is input pixel i * s.
    np.testing.assert_allclose(
        input_to_heatmap(np.array([100.0, 8.0]), IN, HM, "msra"), [25.0, 2.0]
    )
    # udp: corners map to corners.
    np.testing.assert_allclose(
        input_to_heatmap(np.array([191.0, 255.0]), IN, HM, "udp"), [47.0, 63.0]
    )
    np.testing.assert_allclose(input_to_heatmap(np.array([0.0, 0.0]), IN, HM, "udp"), [0.0, 0.0])


@PROPS
@given(x=st.floats(-50, 250), y=st.floats(-50, 300), enc=st.sampled_from(ENCODINGS))
def test_coordinate_maps_invert(x, y, enc):
    xy = np.array([x, y])
    back = heatmap_to_input(input_to_heatmap(xy, IN, HM, enc), IN, HM, enc)
    np.testing.assert_allclose(back, xy, atol=1e-9)


def test_coordinate_maps_torch_match_numpy():
    xy = np.array([[10.25, 200.5], [3.0, 4.0]])
    for enc in ENCODINGS:
        t = input_to_heatmap(torch.tensor(xy), IN, HM, enc)
        np.testing.assert_allclose(t.numpy(), input_to_heatmap(xy, IN, HM, enc), atol=1e-12)


# ------------------------------------------------------------------------ encoding


def test_msra_target_matches_published_rule():
    # Reference item 18: peak 1.0 at int(x/4 + 0.5), 169 non-zero pixels at sigma 2.
    hm, w = encode_heatmaps(one(101.0, 102.0), IN, HM, 2.0, "msra")
    assert hm.shape == (1, 1, 64, 48) and w.tolist() == [[1.0]]
    ch = hm[0, 0]
    iy, ix = np.unravel_index(ch.argmax(), ch.shape)
    assert (ix, iy) == (25, 26)  # 101/4 = 25.25 -> 25 ; 102/4 = 25.5 -> 26 (half up)
    assert ch.max() == 1.0
    assert int((ch > 0).sum()) == 169
    ref = gaussian_ref(25, 26, HM, 2.0)
    ref[np.abs(np.arange(64) - 26) > 6, :] = 0
    ref[:, np.abs(np.arange(48) - 25) > 6] = 0
    np.testing.assert_allclose(ch, ref, atol=1e-7)


def test_unbiased_target_is_exact_gaussian():
    hm, _ = encode_heatmaps(one(101.0, 121.0), IN, HM, 2.0, "unbiased", dtype=np.float64)
    mu_x, mu_y = (101.0 + 0.5) / 4 - 0.5, (121.0 + 0.5) / 4 - 0.5  # 24.875, 29.875
    np.testing.assert_allclose(hm[0, 0], gaussian_ref(mu_x, mu_y, HM, 2.0), atol=1e-12)
    # Sub-pixel centre: the peak is below 1 (0.125 px off in x and y).
    assert hm.max() == pytest.approx(math.exp(-2 * 0.125**2 / 8))


def test_udp_target_is_exact_gaussian():
    hm, _ = encode_heatmaps(one(100.0, 60.0), IN, HM, 1.5, "udp", dtype=np.float64)
    ref = gaussian_ref(100.0 * 47 / 191, 60.0 * 63 / 255, HM, 1.5)
    np.testing.assert_allclose(hm[0, 0], ref, atol=1e-12)


def test_per_keypoint_sigma_and_two_columns():
    kp = np.array([[50.0, 60.0], [120.0, 130.0]])
    hm, w = encode_heatmaps(kp, IN, HM, sigma=[1.0, 3.0], dtype=np.float64)
    assert w.tolist() == [1.0, 1.0]
    mu = input_to_heatmap(kp, IN, HM)
    np.testing.assert_allclose(hm[1], gaussian_ref(*mu[1], HM, 3.0), atol=1e-12)
    np.testing.assert_allclose(hm[0], gaussian_ref(*mu[0], HM, 1.0), atol=1e-12)


def test_invisible_and_far_outside_get_empty_channel_and_zero_weight():
    kp = np.array(
        [
            [100.0, 100.0, 0.0],  # unlabelled
            [np.nan, np.nan, 0.0],  # unlabelled, coordinates meaningless
            [100.0, 100.0, 1.0],  # labelled but hidden: trained on
            [-30.0, 100.0, 2.0],  # 3-sigma window wholly left of the map
            [-20.0, 100.0, 2.0],  # window still reaches pixel 0
            [100.0, 400.0, 2.0],  # far below
        ]
    )
    for enc in ENCODINGS:
        hm, w = encode_heatmaps(kp, IN, HM, 2.0, enc)
        np.testing.assert_array_equal(w, [0, 0, 1, 0, 1, 0], err_msg=enc)
        np.testing.assert_array_equal(hm.max(axis=(-2, -1)) > 0, w > 0, err_msg=enc)


def test_msra_boundary_quirk_avoided():
    # MMPose keeps weight 1 with an empty channel when the window's right edge lands on 0
    # (x = -30 at stride 4, sigma 2). kplearn gives weight 0 and an empty channel.
    hm, w = encode_heatmaps(one(-30.0, 100.0), IN, HM, 2.0, "msra")
    assert w[0, 0] == 0 and not hm.any()


@PROPS
@given(
    x=st.floats(-80, 280),
    y=st.floats(-80, 340),
    enc=st.sampled_from(ENCODINGS),
    sigma=st.floats(0.5, 4.0),
)
def test_weight_one_iff_channel_nonempty(x, y, enc, sigma):
    hm, w = encode_heatmaps(one(x, y), IN, HM, sigma, enc)
    assert (w[0, 0] == 1) == bool(hm.max() > 0)
    # and a usable channel peaks within half a pixel of the (clipped) centre
    if w[0, 0]:
        mu = input_to_heatmap(np.array([x, y]), IN, HM, enc)
        iy, ix = np.unravel_index(hm[0, 0].argmax(), hm.shape[-2:])
        lim = np.array(HM) - 1
        assert np.all(np.abs(np.array([ix, iy]) - np.clip(mu, 0, lim)) <= 1.0 + 1e-9)


def test_encode_bad_input():
    with pytest.raises(ValueError, match="index \\(0, 1\\)"):
        encode_heatmaps(np.array([[[1.0, 2.0, 2.0], [np.nan, 3.0, 2.0]]]), IN, HM)
    with pytest.raises(ValueError, match="shape"):
        encode_heatmaps(np.zeros((2, 4)), IN, HM)
    with pytest.raises(ValueError, match="method"):
        encode_heatmaps(np.zeros((1, 3)), IN, HM, method="dark")
    with pytest.raises(ValueError, match="sigma"):
        encode_heatmaps(np.zeros((1, 3)), IN, HM, sigma=0.0)
    with pytest.raises(ValueError, match="sigma"):
        encode_heatmaps(np.zeros((2, 3)), IN, HM, sigma=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="input_size"):
        encode_heatmaps(np.zeros((1, 3)), (192,), HM)
    with pytest.raises(ValueError, match="heatmap_size"):
        encode_heatmaps(np.zeros((1, 3)), IN, (0, 64))
    with pytest.raises(ValueError, match="heatmap_size"):
        encode_heatmaps(np.zeros((1, 3)), IN, (47.5, 64))
    with pytest.raises(ValueError, match="visibility"):
        encode_heatmaps(np.array([[1.0, 1.0, -1.0]]), IN, HM)
    with pytest.raises(ValueError, match="udp"):
        encode_heatmaps(np.zeros((1, 3)), IN, (1, 64), method="udp")


def test_encode_empty_batch():
    hm, w = encode_heatmaps(np.zeros((0, 17, 3)), IN, HM)
    assert hm.shape == (0, 17, 64, 48) and w.shape == (0, 17)


# ------------------------------------------------------------------------ decoding


def test_argmax_ties_first_in_row_major_order():
    hm = np.zeros((1, 8, 8))
    hm[0, 3, 1] = hm[0, 2, 5] = 1.0  # (x=1, y=3) and (x=5, y=2): row 2 comes first
    xy, s = heatmap_maximum(hm)
    assert xy.tolist() == [[5.0, 2.0]] and s.tolist() == [1.0]
    # a constant positive map decodes to pixel (0, 0) -> input (1.5, 1.5) at stride 4
    kp, s = decode_heatmaps(np.full((1, 64, 48), 0.3), IN, "argmax")
    assert kp.tolist() == [[1.5, 1.5]] and s.tolist() == [0.3]


@pytest.mark.parametrize("method", DECODE_METHODS)
def test_invalid_maps_decode_to_nan_with_score_0(method):
    hm = np.zeros((2, 3, 64, 48))
    hm[0, 1] = -0.25
    hm[1, 2, 30, 20] = 0.9
    kp, s = decode_heatmaps(hm, IN, method)
    valid = np.zeros((2, 3), bool)
    valid[1, 2] = True
    np.testing.assert_array_equal(np.isnan(kp).all(-1), ~valid)
    np.testing.assert_array_equal(np.isnan(kp).any(-1), ~valid)
    # an all-negative map and an all-zero one: no peak, so NaN with score 0 (not the maximum)
    assert s[0, 1] == 0.0 and s[0, 0] == 0.0 and s[1, 2] == pytest.approx(0.9)
    assert np.count_nonzero(s) == 1
    kt, st_ = decode_heatmaps_torch(torch.from_numpy(hm), IN, method)
    np.testing.assert_array_equal(torch.isnan(kt).all(-1).numpy(), ~valid)
    np.testing.assert_allclose(st_.numpy(), s)


def test_softargmax_with_beta_treats_maps_as_logits():
    hm = np.full((1, 5, 5), -3.0)
    kp, s = decode_heatmaps(hm, (5, 5), "softargmax", beta=1.0)
    np.testing.assert_allclose(kp, [[2.0, 2.0]])  # uniform distribution: the centre
    np.testing.assert_allclose(s, [1 / 25])


def test_quarter_hand_example_and_borders():
    hm = np.zeros((1, 20, 20))
    hm[0, 10, 10], hm[0, 10, 11], hm[0, 10, 9] = 1.0, 0.8, 0.5
    np.testing.assert_allclose(refine_quarter(hm, np.array([[10.0, 10.0]])), [[10.25, 10.0]])
    # through decode_heatmaps with stride 1 (unbiased is then the identity)
    kp, _ = decode_heatmaps(hm, (20, 20), "quarter")
    np.testing.assert_allclose(kp, [[10.25, 10.0]])
    # equal neighbours: no shift
    hm[0, 10, 9] = 0.8
    np.testing.assert_allclose(decode_heatmaps(hm, (20, 20), "quarter")[0], [[10.0, 10.0]])
    # x = 1 has both neighbours and is refined (MMPose skips it); x = 0 and x = W'-1 are not
    edge = np.zeros((3, 20, 20))
    edge[0, 5, 1], edge[0, 5, 2], edge[0, 4, 1] = 1.0, 0.5, 0.3
    edge[1, 5, 0], edge[1, 5, 1] = 1.0, 0.5
    edge[2, 0, 19], edge[2, 0, 18], edge[2, 1, 19] = 1.0, 0.5, 0.5
    kp, _ = decode_heatmaps(edge, (20, 20), "quarter")
    np.testing.assert_allclose(kp, [[1.25, 4.75], [0.0, 5.0], [19.0, 0.0]])


def test_msra_round_trip_published_values():
    # Reference item 18 / 2.2: at stride 4, 100 -> 100, 101 -> 100, 102 -> 104.
    kp = np.array([[[100.0, 100.0, 2], [101.0, 101.0, 2], [102.0, 102.0, 2]]])
    hm, _ = encode_heatmaps(kp, IN, HM, 2.0, "msra")
    for method in DECODE_METHODS:
        xy, _ = decode_heatmaps(hm, IN, method, "msra")
        np.testing.assert_allclose(xy[0, :, 0], [100.0, 100.0, 104.0], atol=1e-6, err_msg=method)


def test_dark_published_round_trip():
    # Reference item 23: (100.5, 130.3) recovered to within 2e-3 px.
    for xy in ([100.5, 130.3], [50.2, 60.7]):
        hm, _ = encode_heatmaps(one(*xy), IN, HM, 2.0)
        kp, _ = decode_heatmaps(hm, IN, "dark", blur_kernel=11)
        np.testing.assert_allclose(kp[0, 0], xy, atol=2e-3)


def test_dark_skips_singular_hessian_border_and_long_steps():
    x = np.arange(20.0)
    ridge = np.exp(-((x - 10.3) ** 2) / 8)[None, :].repeat(30, axis=0)  # constant along y
    hm = ridge[None]
    # log of the blurred ridge is flat in y: dyy = dxy = 0, the Hessian is singular
    np.testing.assert_array_equal(refine_dark(hm, np.array([[10.0, 15.0]])), [[10.0, 15.0]])
    # the same ridge times a Gaussian in y is regular and refines to the x centre
    bump = hm * np.exp(-((np.arange(30.0) - 15) ** 2) / 8)[:, None]
    out = refine_dark(bump, np.array([[10.0, 15.0]]))
    assert abs(out[0, 0] - 10.3) < 0.02 and abs(out[0, 1] - 15.0) < 1e-9
    # within 2 px of the border: no refinement
    g = gaussian_ref(1.3, 10.2, (20, 20), 2.0)[None]
    np.testing.assert_array_equal(refine_dark(g, np.array([[1.0, 10.0]])), [[1.0, 10.0]])
    # a step longer than max_offset is not applied unless the guard is off
    g = gaussian_ref(10.0, 10.0, (20, 20), 2.0)[None]
    np.testing.assert_array_equal(refine_dark(g, np.array([[13.0, 10.0]])), [[13.0, 10.0]])
    far = refine_dark(g, np.array([[13.0, 10.0]]), max_offset=None)
    np.testing.assert_allclose(far, [[10.0, 10.0]], atol=0.05)


def test_gaussian_blur_matches_opencv_zero_padded():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(3)
    img = rng.random((17, 23))
    padded = np.pad(img, 5)
    ref = cv2.GaussianBlur(padded, (11, 11), 0, borderType=cv2.BORDER_CONSTANT)[5:-5, 5:-5]
    np.testing.assert_allclose(gaussian_blur(img[None], 11)[0], ref, atol=1e-12)


def test_batched_decoding_equals_per_map_decoding():
    rng = np.random.default_rng(7)
    kp = np.concatenate([rng.uniform(10, 180, (4, 5, 2)), np.full((4, 5, 1), 2.0)], -1)
    hm, _ = encode_heatmaps(kp, IN, HM)
    hm = hm + rng.normal(0, 0.02, hm.shape)
    for method in DECODE_METHODS:
        batch, scores = decode_heatmaps(hm, IN, method)
        for n in range(4):
            for k in range(5):
                single, s = decode_heatmaps(hm[n, k], IN, method)
                np.testing.assert_allclose(batch[n, k], single, atol=1e-12)
                assert scores[n, k] == s


def test_decode_bad_input_and_empty():
    with pytest.raises(ValueError, match="NaN"):
        decode_heatmaps(np.full((1, 4, 4), np.nan), (16, 16))
    with pytest.raises(ValueError, match="method"):
        decode_heatmaps(np.zeros((1, 4, 4)), (16, 16), method="quarterly")
    with pytest.raises(ValueError, match="encoding"):
        decode_heatmaps(np.zeros((1, 4, 4)), (16, 16), encoding="mmpose")
    with pytest.raises(ValueError, match="odd"):
        decode_heatmaps(np.ones((1, 8, 8)), (16, 16), "dark", blur_kernel=10)
    with pytest.raises(ValueError, match="dimensions"):
        decode_heatmaps(np.zeros(5), (16, 16))
    kp, s = decode_heatmaps(np.zeros((0, 17, 64, 48)), IN, "dark")
    assert kp.shape == (0, 17, 2) and s.shape == (0, 17)
    kt, stt = decode_heatmaps_torch(torch.zeros(0, 17, 64, 48), IN, "dark")
    assert kt.shape == (0, 17, 2) and stt.shape == (0, 17)
    with pytest.raises(ValueError, match="NaN"):
        decode_heatmaps_torch(torch.full((1, 4, 4), float("nan")), (16, 16))


# ------------------------------------------------------------- round-trip properties

# Stated bounds, per axis, input px (stride 4): argmax s/2, quarter s/4; DARK and the
# normalised expectation are exact up to the blur/truncation: 5e-3 and 2e-3 px.
BOUNDS = {"argmax": S / 2, "quarter": S / 4, "dark": 5e-3, "softargmax": 2e-3}


@PROPS
@given(x=xs, y=ys, enc=st.sampled_from(("unbiased", "udp")), method=st.sampled_from(DECODE_METHODS))
def test_round_trip_within_stated_bound(x, y, enc, method):
    hm, _ = encode_heatmaps(one(x, y), IN, HM, 2.0, enc)
    kp, _ = decode_heatmaps(hm, IN, method, enc)
    stride = np.array([191 / 47, 255 / 63]) if enc == "udp" else S
    bound = BOUNDS[method] * (stride / S) if method in ("argmax", "quarter") else BOUNDS[method]
    assert np.all(np.abs(kp[0, 0] - [x, y]) <= bound + 1e-6)


@PROPS
@given(x=xs, y=ys, method=st.sampled_from(DECODE_METHODS))
def test_msra_round_trip_is_the_rounding(x, y, method):
    hm, _ = encode_heatmaps(one(x, y), IN, HM, 2.0, "msra")
    kp, _ = decode_heatmaps(hm, IN, method, "msra")
    expected = np.floor(np.array([x, y]) / S + 0.5) * S
    np.testing.assert_allclose(kp[0, 0], expected, atol=1e-6)
    assert np.all(np.abs(kp[0, 0] - [x, y]) <= S / 2 + 1e-9)


@PROPS
@given(x=xs, y=ys, sigma=st.floats(1.0, 2.0))
def test_refined_decoders_per_point(x, y, sigma):
    # 8 heatmap px from the border is >= 4 sigma: the expectation is not truncated
    # (at 2.7 sigma, sigma = 3, it is pulled ~0.1 px towards the map centre).
    hm, _ = encode_heatmaps(one(x, y), IN, HM, sigma)
    err = {m: np.abs(decode_heatmaps(hm, IN, m)[0][0, 0] - [x, y]).max() for m in DECODE_METHODS}
    assert err["dark"] <= 0.01 and err["softargmax"] <= 0.01
    assert err["quarter"] <= S / 4 + 1e-9


def test_quarter_beats_argmax_mean():
    rng = np.random.default_rng(0)
    kp = np.stack([rng.uniform(32, 159, 500), rng.uniform(32, 223, 500), np.full(500, 2.0)], -1)
    hm, _ = encode_heatmaps(kp[:, None], IN, HM)
    err = {
        m: np.linalg.norm(decode_heatmaps(hm, IN, m)[0][:, 0] - kp[:, :2], axis=-1).mean()
        for m in DECODE_METHODS
    }
    assert err["quarter"] < 0.6 * err["argmax"]
    assert err["dark"] <= 0.05 and err["softargmax"] <= 0.05  # issue's acceptance
    # argmax error is the rounding to a 4 x 4 grid: mean s (sqrt2 + ln(1 + sqrt2)) / 6 = 1.53
    assert err["argmax"] == pytest.approx(
        S * (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6, rel=0.05
    )


# ---------------------------------------------------------------------------- flips


def _no_tie(v: float) -> bool:
    frac = v - math.floor(v)
    return abs(frac - 0.5) > 1e-3


@PROPS
@given(x=xs, y=ys, enc=st.sampled_from(("unbiased", "udp")), method=st.sampled_from(DECODE_METHODS))
def test_flip_heatmap_equals_flip_keypoint(x, y, enc, method):
    mu = input_to_heatmap(np.array([x, y]), IN, HM, enc)
    assume(_no_tie(mu[0]) and _no_tie(mu[1]))  # two equal maxima: argmax takes the first
    hm, _ = encode_heatmaps(one(x, y), IN, HM, 2.0, enc)
    a, _ = decode_heatmaps(hm[..., ::-1], IN, method, enc)
    b, _ = decode_heatmaps(hm, IN, method, enc)
    np.testing.assert_allclose(a[0, 0], [IN[0] - 1 - b[0, 0, 0], b[0, 0, 1]], atol=1e-6)
    a, _ = decode_heatmaps(hm[..., ::-1, :], IN, method, enc)  # and vertically
    np.testing.assert_allclose(a[0, 0], [b[0, 0, 0], IN[1] - 1 - b[0, 0, 1]], atol=1e-6)


@PROPS
@given(seed=st.integers(0, 2**31 - 1), method=st.sampled_from(DECODE_METHODS))
def test_flip_property_on_random_maps(seed, method):
    # arbitrary (network-like) maps: a few blobs plus noise, continuous values, no ties
    rng = np.random.default_rng(seed)
    kp = np.concatenate([rng.uniform(0, 191, (3, 2)), np.full((3, 1), 2.0)], -1)
    hm = encode_heatmaps(kp[None], IN, HM, rng.uniform(1, 3))[0].sum(1, dtype=np.float64)
    hm = hm + rng.normal(0, 0.05, hm.shape)
    a, sa = decode_heatmaps(hm[..., ::-1], IN, method)
    b, sb = decode_heatmaps(hm, IN, method)
    np.testing.assert_allclose(a[..., 0], IN[0] - 1 - b[..., 0], atol=1e-6)
    np.testing.assert_allclose(a[..., 1], b[..., 1], atol=1e-6)
    np.testing.assert_allclose(sa, sb)


@PROPS
@given(x=xs, y=ys, method=st.sampled_from(DECODE_METHODS))
def test_msra_flip_is_misaligned_by_stride_minus_one(x, y, method):
    hm, _ = encode_heatmaps(one(x, y), IN, HM, 2.0, "msra")
    a, _ = decode_heatmaps(hm[..., ::-1], IN, method, "msra")
    b, _ = decode_heatmaps(hm, IN, method, "msra")
    # decode(flip) = (W'-1-i) s = w - s - i s, flip(decode) = w - 1 - i s: off by s - 1
    np.testing.assert_allclose(a[0, 0, 0] - (IN[0] - 1 - b[0, 0, 0]), -(S - 1), atol=1e-6)


# ------------------------------------------------------------------- torch twins


@pytest.mark.parametrize("enc", ENCODINGS)
def test_torch_decode_equals_numpy(enc):
    rng = np.random.default_rng(11)
    kp = np.concatenate([rng.uniform(-5, 200, (6, 17, 2)), rng.integers(0, 3, (6, 17, 1))], -1)
    hm, _ = encode_heatmaps(kp, IN, HM, 2.0, enc, dtype=np.float64)
    hm = hm + rng.normal(0, 0.01, hm.shape)
    hm[0, 0] = 0.0
    hm[0, 1] = -1.0
    for method in DECODE_METHODS:
        for beta in (None, 4.0) if method == "softargmax" else (None,):
            a, sa = decode_heatmaps(hm, IN, method, enc, beta=beta)
            b, sb = decode_heatmaps_torch(torch.from_numpy(hm), IN, method, enc, beta=beta)
            assert b.dtype == torch.float64
            np.testing.assert_array_equal(np.isnan(a), torch.isnan(b).numpy())
            np.testing.assert_allclose(b.numpy(), a, atol=1e-5, equal_nan=True)
            np.testing.assert_allclose(sb.numpy(), sa, atol=1e-5)
            # float32 in, float32 out: the same within float32 rounding of ~200 px
            c, _ = decode_heatmaps_torch(torch.from_numpy(hm).float(), IN, method, enc, beta=beta)
            assert c.dtype == torch.float32
            a32, _ = decode_heatmaps(hm.astype(np.float32), IN, method, enc, beta=beta)
            np.testing.assert_allclose(c.numpy(), a32, atol=2e-5, equal_nan=True)


@pytest.mark.parametrize("enc", ENCODINGS)
def test_torch_encode_equals_numpy(enc):
    rng = np.random.default_rng(5)
    kp = np.concatenate([rng.uniform(-40, 230, (4, 9, 2)), rng.integers(0, 3, (4, 9, 1))], -1)
    h1, w1 = encode_heatmaps(kp, IN, HM, 2.0, enc)
    h2, w2 = encode_heatmaps_torch(torch.from_numpy(kp), IN, HM, 2.0, enc)
    np.testing.assert_allclose(h2.numpy(), h1, atol=1e-6)
    np.testing.assert_array_equal(w2.numpy(), w1)
    with pytest.raises(ValueError, match="NaN"):
        encode_heatmaps_torch(torch.tensor([[float("nan"), 1.0, 2.0]]), IN, HM)


# ----------------------------------------------------- soft-argmax and normalisation


def test_heatmap_expectation_hand_value():
    hm = np.zeros((1, 4, 6))
    hm[0, 1, 2], hm[0, 3, 4], hm[0, 0, 0] = 1.0, 3.0, -5.0  # the negative is clipped away
    np.testing.assert_allclose(heatmap_expectation(hm), [[(2 + 12) / 4, (1 + 9) / 4]])


def test_soft_argmax_matches_numpy_and_is_differentiable():
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 2, (2, 3, 8, 6))
    for beta in (0.5, 1.0, 10.0):
        t = soft_argmax(torch.from_numpy(logits), beta, input_size=(24, 32))
        a, _ = decode_heatmaps(logits, (24, 32), "softargmax", beta=beta)
        np.testing.assert_allclose(t.numpy(), a, atol=1e-10)
        np.testing.assert_allclose(
            soft_argmax(torch.from_numpy(logits), beta).numpy(),
            heatmap_expectation(logits, beta),
            atol=1e-10,
        )
    x = torch.tensor(rng.normal(0, 1, (1, 2, 5, 4)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: soft_argmax(z, 2.0, input_size=(16, 20)), (x,))


def test_soft_argmax_sharp_logits_find_the_peak():
    f = torch.full((1, 1, 8, 8), -30.0)
    f[0, 0, 5, 2] = 30.0
    np.testing.assert_allclose(soft_argmax(f).numpy(), [[[2.0, 5.0]]], atol=1e-6)
    # small beta pulls the estimate to the centre of the map
    np.testing.assert_allclose(soft_argmax(f, beta=1e-9).numpy(), [[[3.5, 3.5]]], atol=1e-5)


def test_normalize_hand_values_and_flip():
    kp = np.array([[-0.5, -0.5, 2.0], [191.5, 255.5, 1.0], [95.5, 127.5, 0.0]])
    np.testing.assert_allclose(normalize_keypoints(kp, IN), [[-1, -1, 2], [1, 1, 1], [0, 0, 0]])
    np.testing.assert_allclose(
        normalize_keypoints(kp[:, :2], IN, (0, 1)), [[0, 0], [1, 1], [0.5, 0.5]]
    )
    x = np.array([[10.0, 20.0]])
    flipped = np.array([[IN[0] - 1 - 10.0, 20.0]])
    assert normalize_keypoints(flipped, IN)[0, 0] == pytest.approx(
        -normalize_keypoints(x, IN)[0, 0]
    )


@PROPS
@given(x=st.floats(-100, 300), y=st.floats(-100, 300), lo=st.sampled_from([-1.0, 0.0]))
def test_normalize_round_trip(x, y, lo):
    kp = np.array([x, y])
    back = denormalize_keypoints(normalize_keypoints(kp, IN, (lo, 1.0)), IN, (lo, 1.0))
    np.testing.assert_allclose(back, kp, atol=1e-9)


def test_normalize_torch_differentiable_and_bad_input():
    t = torch.tensor([[10.0, 20.0, 2.0]], dtype=torch.float64, requires_grad=True)
    u = normalize_keypoints(t, IN)
    u[..., :2].sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [[2 / 192, 2 / 256, 0.0]])
    with pytest.raises(ValueError, match="bounds"):
        normalize_keypoints(np.zeros((1, 2)), IN, (1.0, 1.0))
    with pytest.raises(ValueError, match="shape"):
        normalize_keypoints(np.zeros((1, 1)), IN)


# ---------------------------------------------------------------------------- SimCC


def test_simcc_labels_and_round_trip():
    assert simcc_bins((192, 256), 2.0) == (384, 512)
    kp = np.array([[[60.3, 40.8, 2.0], [10.0, 10.0, 0.0], [-40.0, 50.0, 2.0]]])
    tx, ty, w = encode_simcc(kp, (128, 96), sigma=4.0, split_ratio=2.0, dtype=np.float64)
    assert tx.shape == (1, 3, 256) and ty.shape == (1, 3, 192)
    np.testing.assert_array_equal(w, [[1, 0, 0]])
    np.testing.assert_allclose(tx[0, 0].sum(), 1.0)
    assert not tx[0, 1:].any() and not ty[0, 1:].any()
    mu = (60.3 + 0.5) * 2 - 0.5  # bin coordinates at split ratio 2
    g = np.exp(-((np.arange(256) - mu) ** 2) / 32)
    np.testing.assert_allclose(tx[0, 0], g / g.sum(), atol=1e-12)
    xy, s = decode_simcc(tx, ty, (128, 96), "expectation")
    np.testing.assert_allclose(xy[0, 0], [60.3, 40.8], atol=1e-6)
    assert np.isnan(xy[0, 1:]).all() and np.all(s[0, 1:] <= 0)
    xy, _ = decode_simcc(tx, ty, (128, 96), "argmax")
    assert np.all(np.abs(xy[0, 0] - [60.3, 40.8]) <= 0.25 + 1e-9)  # half a bin


@PROPS
@given(x=st.floats(20, 100), y=st.floats(20, 70))
def test_simcc_round_trip_property(x, y):
    tx, ty, _ = encode_simcc(one(x, y), (128, 96), sigma=3.0, dtype=np.float64)
    np.testing.assert_allclose(
        decode_simcc(tx, ty, (128, 96), "expectation")[0][0, 0], [x, y], atol=1e-6
    )
    # logits = log labels decode exactly with softmax (beta 1)
    lx, ly = np.log(np.maximum(tx, 1e-300)), np.log(np.maximum(ty, 1e-300))
    xy, _ = decode_simcc(lx, ly, (128, 96), "expectation", beta=1.0)
    np.testing.assert_allclose(xy[0, 0], [x, y], atol=1e-6)


def test_simcc_bad_input():
    with pytest.raises(ValueError, match="leading"):
        decode_simcc(np.zeros((2, 10)), np.zeros((3, 10)), (5, 5))
    with pytest.raises(ValueError, match="split_ratio"):
        encode_simcc(np.zeros((1, 3)), (5, 5), split_ratio=0)
    with pytest.raises(ValueError, match="method"):
        decode_simcc(np.zeros((1, 10)), np.zeros((1, 10)), (5, 5), "dark")


# ------------------------------------------------------------------------ benchmark


def test_benchmark_quick_smoke(capsys, load_benchmark):
    load_benchmark("bench_codecs").main(["--quick"])
    out = capsys.readouterr().out
    assert "unbiased   dark" in out and "maps/s" in out


# ---------------------------------------------------------------------- codec objects


def test_heatmap_codec_is_the_functions_with_its_settings():
    from kplearn.codecs import HeatmapCodec

    rng = np.random.default_rng(5)
    kp = np.concatenate([rng.uniform(10, 180, (3, 4, 2)), rng.integers(0, 3, (3, 4, 1))], -1)
    codec = HeatmapCodec(IN, HM, sigma=1.5, encoding="msra", decoder="quarter", blur_kernel=5)
    hm, w = codec.encode(kp)
    ref, ref_w = encode_heatmaps(kp, IN, HM, 1.5, "msra")
    np.testing.assert_array_equal(hm, ref)
    np.testing.assert_array_equal(w, ref_w)
    noisy = hm + rng.normal(0, 0.01, hm.shape)
    xy, sc = codec.decode(noisy)
    ref_xy, ref_sc = decode_heatmaps(noisy, IN, "quarter", "msra", blur_kernel=5)
    np.testing.assert_array_equal(xy, ref_xy)
    np.testing.assert_array_equal(sc, ref_sc)
    # tensors in, tensors out: the torch twins with the same settings
    dark = HeatmapCodec(IN, HM, sigma=1.5, blur_kernel=5)
    ht, wt = dark.encode(torch.as_tensor(kp))
    assert ht.dtype == torch.float64
    ref_t, _ = encode_heatmaps_torch(torch.as_tensor(kp), IN, HM, 1.5, "unbiased", torch.float64)
    assert torch.equal(ht, ref_t)
    xt, st_ = dark.decode(ht)
    ref_xt, ref_st = decode_heatmaps_torch(ht, IN, "dark", "unbiased", blur_kernel=5)
    torch.testing.assert_close(xt, ref_xt, rtol=0, atol=0, equal_nan=True)
    assert torch.equal(st_, ref_st)


def test_heatmap_codec_blur_default_config_round_trip_and_errors():
    import json

    from kplearn.codecs import HeatmapCodec

    # DARK's blur follows sigma unless given: 11 taps for sigma 2, 7 for 1.5
    assert HeatmapCodec(IN, HM).blur_kernel == 11
    assert HeatmapCodec(IN, HM, sigma=1.5).blur_kernel == 7
    codec = HeatmapCodec.from_stride((64, 48), 4, sigma=3.0, decoder="argmax")
    assert codec.heatmap_size == (16, 12) and codec.stride == (4.0, 4.0)
    cfg = json.loads(json.dumps(codec.to_config()))
    assert cfg == {"type": "heatmap", "input_size": [64, 48], "heatmap_size": [16, 12],
                   "sigma": 3.0, "encoding": "unbiased", "decoder": "argmax",
                   "blur_kernel": 17}  # fmt: skip
    assert HeatmapCodec.from_config(cfg) == codec
    with pytest.raises(ValueError, match="unknown keys 'sigm'"):
        HeatmapCodec.from_config({**cfg, "sigm": 2})
    with pytest.raises(ValueError, match="missing 'heatmap_size'"):
        HeatmapCodec.from_config({"input_size": [64, 48]})
    with pytest.raises(ValueError, match="type 'simcc'"):
        HeatmapCodec.from_config({**cfg, "type": "simcc"})
    with pytest.raises(ValueError, match="must be a dict"):
        HeatmapCodec.from_config([64, 48])
    with pytest.raises(ValueError, match="decoder must be one of"):
        HeatmapCodec(IN, HM, decoder="darkk")
    with pytest.raises(ValueError, match="encoding must be one of"):
        HeatmapCodec(IN, HM, encoding="MSRA")
    with pytest.raises(ValueError, match="sigma"):
        HeatmapCodec(IN, HM, sigma=0.0)
    with pytest.raises(ValueError, match="blur_kernel must be odd"):
        HeatmapCodec(IN, HM, blur_kernel=4)
    with pytest.raises(ValueError, match="not a multiple of stride 4"):
        HeatmapCodec.from_stride((66, 64), 4)
    with pytest.raises(ValueError, match=r"do not match the codec's heatmap size \(48, 64\)"):
        codec = HeatmapCodec(IN, HM)
        codec.decode(np.zeros((1, 48, 64)))  # (H, W) given the wrong way round


def test_simcc_codec_is_the_functions_with_its_settings():
    import json

    from kplearn.codecs import SimCCCodec

    kp = np.array([[[60.3, 40.8, 2.0], [10.0, 10.0, 0.0]]])
    codec = SimCCCodec((128, 96), sigma=4.0, split_ratio=2.0, decoder="expectation")
    assert codec.bins == (256, 192)
    tx, ty, w = codec.encode(kp)
    rx, ry, rw = encode_simcc(kp, (128, 96), sigma=4.0, split_ratio=2.0)
    assert np.array_equal(tx, rx) and np.array_equal(ty, ry) and np.array_equal(w, rw)
    xy, s = codec.decode(torch.as_tensor(tx), ty)
    np.testing.assert_allclose(xy[0, 0], [60.3, 40.8], atol=1e-4)
    # no peak: NaN with score 0, as for heatmaps
    assert np.isnan(xy[0, 1]).all() and s[0, 1] == 0.0
    assert SimCCCodec.from_config(json.loads(json.dumps(codec.to_config()))) == codec
    with pytest.raises(ValueError, match="unknown keys 'bins'"):
        SimCCCodec.from_config({**codec.to_config(), "bins": 3})
    with pytest.raises(ValueError, match="do not match the codec's"):
        codec.decode(tx[..., :-1], ty)
    with pytest.raises(ValueError, match="beta must be a positive"):
        SimCCCodec((128, 96), beta=0)


def test_invalid_maps_are_nan_with_score_0_through_predict():
    """A network whose maps have no positive value for some keypoints: the one rule end to end."""
    from kplearn.models import build_model
    from kplearn.train.predict import predict

    net = build_model("heatmap", "faces5", input_size=(64, 64), preset="fast")

    class Fixed(type(net)):
        def forward(self, x):
            hm = torch.full((x.shape[0], 5, 16, 16), -0.5) + 0 * x.mean()
            hm[:, 0, 8, 4] = 1.0  # keypoint 0 has a peak; 1..4 have none
            return {"heatmaps": hm}

    fixed = Fixed(net.config)
    kp, scores = predict(fixed, [np.zeros((64, 64, 3), np.uint8)], flip_test=False,
                         return_scores=True)  # fmt: skip
    # heatmap pixel (4, 8) at stride 4 on the unbiased grid: x = 4 * 4 + 1.5, y = 8 * 4 + 1.5
    np.testing.assert_allclose(kp[0, 0], [17.5, 33.5, 2.0])
    assert np.isnan(kp[0, 1:, :2]).all() and np.all(kp[0, 1:, 2] == 0)
    assert scores[0, 0] == 1.0 and np.all(scores[0, 1:] == 0)
    # the network's own decode, the codec and the metrics agree on it
    xy, s = fixed.decode(fixed(torch.zeros(1, 3, 64, 64)))
    assert np.isnan(xy[0, 1:]).all() and np.all(s[0, 1:] == 0)
    from kplearn.metrics import pck

    gt = np.zeros((1, 5, 3))
    gt[0, :, :2], gt[0, :, 2] = kp[0, 0, :2], 2
    assert pck(kp, gt, normalizer=10.0, threshold=0.1, average="pooled") == pytest.approx(0.2)


def test_networks_decode_and_encode_with_the_codec_of_their_config():
    from kplearn.codecs import HeatmapCodec
    from kplearn.models import build_model, gaussian_targets

    net = build_model("heatmap", "faces5", input_size=(64, 48), preset="fast", sigma=1.5)
    assert net.codec == HeatmapCodec((64, 48), (16, 12), sigma=1.5, decoder="dark")
    kp = torch.tensor([[[[20.0, 30.0, 2.0]] * 5]])
    t, w = net.targets(kp)
    ref, ref_w = gaussian_targets(kp, (64, 48), (16, 12), 1.5)
    assert torch.equal(t, ref) and torch.equal(w, ref_w)
    rng = torch.Generator().manual_seed(0)
    out = {"heatmaps": torch.rand(2, 5, 12, 16, generator=rng)}
    for decoder in ("argmax", "softargmax"):
        net.config["decoder"] = decoder  # the codec follows the config
        xy, _ = net.decode(out)
        ref_xy, _ = decode_heatmaps(out["heatmaps"].numpy(), (64, 48), decoder, blur_kernel=7)
        np.testing.assert_allclose(xy, ref_xy, atol=1e-5)


def test_a_run_stores_the_codec_and_refuses_one_that_disagrees(tmp_path):
    import json

    from kplearn.codecs import HeatmapCodec
    from kplearn.models import build_model
    from kplearn.train.checkpoint import load_checkpoint, save_checkpoint

    net = build_model("heatmap", "faces5", input_size=(64, 64), preset="fast", decoder="quarter")
    save_checkpoint(net, tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    stored = {k: v for k, v in cfg["codec"].items() if k != "kind"}
    assert HeatmapCodec.from_config(stored) == HeatmapCodec(
        (64, 64), (16, 16), 1.5, decoder="quarter"
    )
    model, _ = load_checkpoint(tmp_path)
    assert model.codec == net.codec
    cfg["codec"]["blur_kernel"] = 3
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="config.json.*'codec'.*disagrees"):
        load_checkpoint(tmp_path)
