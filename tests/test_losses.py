"""Tests for kplearn.losses: hand-worked values, stated reductions, gradcheck in float64."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from kplearn import losses as L

torch.set_num_threads(1)


def t(*values, shape=None) -> torch.Tensor:
    x = torch.tensor(values, dtype=torch.float64)
    return x.view(shape) if shape else x


# ------------------------------------------------------------------ hand values


def test_wing_hand_values_and_continuity():
    zero = torch.zeros(1, 1, 1, dtype=torch.float64)
    assert float(L.wing_loss(t(1.0, shape=(1, 1, 1)), zero)) == pytest.approx(4.0547, abs=1e-4)
    assert float(L.wing_loss(t(-1.0, shape=(1, 1, 1)), zero)) == pytest.approx(10 * math.log(1.5))
    c = 10 - 10 * math.log(6)  # -7.9176
    assert float(L.wing_loss(t(20.0, shape=(1, 1, 1)), zero)) == pytest.approx(20 - c)
    assert 20 - c == pytest.approx(27.9176, abs=1e-4)
    below = float(L.wing_loss(t(10.0 - 1e-9, shape=(1, 1, 1)), zero))
    above = float(L.wing_loss(t(10.0 + 1e-9, shape=(1, 1, 1)), zero))
    assert below == pytest.approx(17.9176, abs=1e-4) and above == pytest.approx(below, abs=1e-7)


def test_wing_reduction_sums_k_and_d_means_n():
    pred = t(1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, shape=(2, 2, 2))
    w1, w2 = 10 * math.log(1.5), 10 * math.log(2.0)
    # sample 0: |d| = 1 and 2 -> w1 + w2 ; sample 1: all zero -> 0 ; mean over N = 2
    assert float(L.wing_loss(pred, torch.zeros_like(pred))) == pytest.approx((w1 + w2) / 2)
    weights = t(1.0, 0.0, 1.0, 1.0, shape=(2, 2))  # drop keypoint 1 of sample 0
    assert float(L.wing_loss(pred, torch.zeros_like(pred), weights)) == pytest.approx(w1 / 2)


def test_adaptive_wing_hand_values_and_continuity():
    one, zero = (
        torch.ones(1, 1, 1, 1, dtype=torch.float64),
        torch.zeros(1, 1, 1, 1, dtype=torch.float64),
    )
    assert float(L.adaptive_wing_loss(one, zero)) == pytest.approx(8.4959, abs=1e-4)
    assert float(L.adaptive_wing_loss(zero, zero)) == 0.0
    # small-error branch with y = 0: omega ln(1 + (delta / eps)^alpha)
    p = torch.full((1, 1, 1, 1), 0.25, dtype=torch.float64)
    assert float(L.adaptive_wing_loss(p, zero)) == pytest.approx(14 * math.log1p(0.25**2.1))
    # continuous at delta = theta for a non-zero target
    y = torch.full((1, 1, 1, 1), 0.3, dtype=torch.float64)
    lo = float(L.adaptive_wing_loss(y + 0.5 - 1e-9, y))
    hi = float(L.adaptive_wing_loss(y + 0.5 + 1e-9, y))
    assert lo == pytest.approx(hi, abs=1e-6)


def test_heatmap_mse_half_convention():
    pred = torch.zeros(2, 3, 4, 5, dtype=torch.float64)
    target = torch.ones_like(pred)
    assert float(L.heatmap_mse(pred, pred)) == 0.0
    assert float(L.heatmap_mse(pred, target)) == 1.0
    assert float(L.heatmap_mse(pred, target, half=True)) == 0.5
    w = t(1, 0, 1, 0, 0, 0, shape=(2, 3))  # 2 of 6 keypoints kept; mean includes masked
    assert float(L.heatmap_mse(pred, target, w)) == pytest.approx(2 / 6)


def hrnet_joints_mse(pred, target, w):
    """HRNet's JointsMSELoss, written out: (1/K) sum_k 0.5 mean_{B,HW}((w P - w G)^2)."""
    n, k = pred.shape[:2]
    p, g = pred.reshape(n, k, -1), target.reshape(n, k, -1)
    total = 0.0
    for j in range(k):
        wj = w[:, j : j + 1]
        total = total + 0.5 * ((p[:, j] * wj - g[:, j] * wj) ** 2).mean()
    return total / k


def test_heatmap_mse_matches_hrnet_and_mmpose_for_binary_weights():
    g = torch.Generator().manual_seed(0)
    pred = torch.rand(3, 4, 6, 5, generator=g, dtype=torch.float64)
    target = torch.rand(3, 4, 6, 5, generator=g, dtype=torch.float64)
    w = (torch.rand(3, 4, generator=g) > 0.4).double()
    hrnet = hrnet_joints_mse(pred, target, w)
    assert float(L.heatmap_mse(pred, target, w, half=True)) == pytest.approx(float(hrnet))
    # MMPose 1.x KeypointMSELoss: mean of (w d^2) over everything = 2x HRNet
    mmpose = ((pred - target) ** 2 * w[..., None, None]).mean()
    assert float(L.heatmap_mse(pred, target, w)) == pytest.approx(float(mmpose))
    assert float(mmpose) == pytest.approx(2 * float(hrnet))


def test_ohkm_hand_value_and_errors():
    pred = t(1.0, 2.0, 3.0, shape=(1, 3, 1, 1))
    target = torch.zeros_like(pred)
    assert float(L.ohkm_mse(pred, target, topk=2)) == pytest.approx((4 + 9) / 2)
    assert float(L.ohkm_mse(pred, target, t(1.0, 1.0, 0.0, shape=(1, 3)), topk=2)) == pytest.approx(
        2.5
    )
    with pytest.raises(ValueError, match="topk"):
        L.ohkm_mse(pred, target, topk=4)
    # per sample: sample 1's hardest keypoints, not the batch's
    pred2 = t(1.0, 2.0, 3.0, 0.0, 0.0, 5.0, shape=(2, 3, 1, 1))
    assert float(L.ohkm_mse(pred2, torch.zeros_like(pred2), topk=1)) == pytest.approx((9 + 25) / 2)


def test_coordinate_losses_hand_values_and_torch_equivalence():
    pred = t(3.0, 4.0, 0.5, -2.0, shape=(1, 2, 2))
    zero = torch.zeros_like(pred)
    assert float(L.coordinate_mse(pred, zero)) == pytest.approx((9 + 16 + 0.25 + 4) / 4)
    assert float(L.l1(pred, zero)) == pytest.approx((3 + 4 + 0.5 + 2) / 4)
    assert float(L.smooth_l1(pred, zero)) == pytest.approx((2.5 + 3.5 + 0.125 + 1.5) / 4)
    w = t(0.0, 1.0, shape=(1, 2))
    assert float(L.coordinate_mse(pred, zero, w)) == pytest.approx((0.25 + 4) / 4)
    assert float(L.l1(pred, zero, w)) == pytest.approx(2.5 / 4)
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(4, 5, 2, generator=g), torch.randn(4, 5, 2, generator=g)
    assert torch.allclose(L.coordinate_mse(a, b), F.mse_loss(a, b))
    assert torch.allclose(L.l1(a, b), F.l1_loss(a, b))
    assert torch.allclose(L.smooth_l1(a, b, beta=0.5), F.smooth_l1_loss(a, b, beta=0.5))


def test_spatial_softmax_ce_values():
    target = torch.zeros(1, 1, 3, 4, dtype=torch.float64)
    target[0, 0, 2, 1] = 5.0  # scale does not matter: the target is normalised
    uniform = torch.zeros_like(target)
    assert float(L.spatial_softmax_ce(uniform, target)) == pytest.approx(math.log(12))
    # minimum = entropy of the target distribution, reached at logits = log target
    g = torch.Generator().manual_seed(2)
    q = torch.rand(2, 3, 4, 4, generator=g, dtype=torch.float64) + 0.1
    p = q / q.sum(dim=(-2, -1), keepdim=True)
    logits = p.log().requires_grad_(True)
    loss = L.spatial_softmax_ce(logits, q)
    entropy = -(p * p.log()).sum(dim=(-2, -1)).mean()
    assert float(loss.detach()) == pytest.approx(float(entropy))
    loss.backward()
    assert float(logits.grad.abs().max()) < 1e-12
    # an empty target channel contributes nothing
    two = torch.zeros(1, 2, 3, 4, dtype=torch.float64)
    two[0, 0] = target[0, 0]
    assert float(L.spatial_softmax_ce(torch.zeros_like(two), two)) == pytest.approx(
        math.log(12) / 2
    )


def test_kl_1d_values():
    onehot = torch.zeros(1, 1, 8, dtype=torch.float64)
    onehot[0, 0, 3] = 1.0
    uniform_logits = torch.zeros_like(onehot)
    assert float(L.kl_1d(uniform_logits, onehot)) == pytest.approx(math.log(8) / 8)
    assert float(L.kl_1d(onehot.clamp(min=1e-300).log(), onehot)) == pytest.approx(0.0, abs=1e-12)
    g = torch.Generator().manual_seed(3)
    tgt = torch.softmax(torch.randn(2, 3, 10, generator=g, dtype=torch.float64), -1)
    assert float(L.kl_1d(tgt.log(), tgt)) == pytest.approx(0.0, abs=1e-12)
    # beta sharpens the prediction: beta * (log t / beta) = log t
    assert float(L.kl_1d(tgt.log() / 4, tgt, beta=4.0)) == pytest.approx(0.0, abs=1e-12)
    # label softmax: t = softmax(label_beta * target)
    sm = torch.softmax(10.0 * onehot, -1)
    assert float(L.kl_1d(sm.log(), onehot, label_softmax=True)) == pytest.approx(0.0, abs=1e-12)
    w = t(1.0, 0.0, shape=(1, 2))
    two = torch.cat([onehot, onehot], 1)
    assert float(L.kl_1d(torch.zeros_like(two), two, w)) == pytest.approx(math.log(8) / 16)
    px = torch.zeros_like(onehot)
    assert float(L.simcc_kl(px, px, onehot, onehot)) == pytest.approx(2 * math.log(8) / 8)


# ------------------------------------------------------------------ gradcheck


CASES = [
    (L.coordinate_mse, (2, 3, 2), (2, 3), {}),
    (L.l1, (2, 3, 2), (2, 3), {}),
    (L.smooth_l1, (2, 3, 2), (2, 3), {"beta": 0.7}),
    (L.wing_loss, (2, 3, 2), (2, 3), {"omega": 1.0, "epsilon": 0.5}),
    (L.adaptive_wing_loss, (2, 2, 3, 3), (2, 2), {}),
    (L.heatmap_mse, (2, 2, 3, 3), (2, 2), {"half": True}),
    (L.ohkm_mse, (2, 3, 3, 3), (2, 3), {"topk": 2}),
    (L.spatial_softmax_ce, (2, 2, 3, 3), (2, 2), {}),
    (L.kl_1d, (2, 3, 7), (2, 3), {"beta": 2.0}),
]


@pytest.mark.parametrize("fn, shape, wshape, kwargs", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradcheck_float64(fn, shape, wshape, kwargs):
    g = torch.Generator().manual_seed(4)
    # keep |d| away from the kinks (0, beta, omega, theta) where one-sided derivatives differ
    target = torch.rand(shape, generator=g, dtype=torch.float64)
    sign = torch.where(torch.rand(shape, generator=g) > 0.5, 1.0, -1.0).double()
    offset = sign * (0.1 + 0.25 * torch.rand(shape, generator=g, dtype=torch.float64))
    if fn is L.kl_1d:
        target = torch.softmax(3 * target, -1)
    pred = (target + offset).requires_grad_(True)
    weights = torch.rand(wshape, generator=g, dtype=torch.float64) + 0.5
    assert torch.autograd.gradcheck(lambda p: fn(p, target, weights, **kwargs), (pred,))
    assert torch.autograd.gradcheck(lambda p: fn(p, target, None, **kwargs), (pred,))


def test_adaptive_wing_gradcheck_on_linear_branch():
    target = torch.full((1, 1, 2, 2), 0.2, dtype=torch.float64)
    pred = t(1.0, -0.6, 0.9, 1.5, shape=(1, 1, 2, 2)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: L.adaptive_wing_loss(p, target), (pred,))


def test_wing_gradcheck_on_linear_branch():
    target = torch.zeros(1, 2, 2, dtype=torch.float64)
    pred = t(12.0, -15.0, 0.5, -3.0, shape=(1, 2, 2)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p: L.wing_loss(p, target), (pred,))


# ------------------------------------------------------------------ modules and errors


def test_modules_equal_functions_and_registry():
    g = torch.Generator().manual_seed(5)
    a, b = torch.rand(2, 3, 2, generator=g), torch.rand(2, 3, 2, generator=g)
    h1, h2 = torch.rand(2, 3, 4, 4, generator=g), torch.rand(2, 3, 4, 4, generator=g)
    w = torch.ones(2, 3)
    pairs = [
        (L.CoordinateMSELoss(), L.coordinate_mse, a, b),
        (L.CoordinateL1Loss(), L.l1, a, b),
        (L.CoordinateSmoothL1Loss(beta=0.5), lambda p, q, w: L.smooth_l1(p, q, w, beta=0.5), a, b),
        (L.WingLoss(omega=1.0), lambda p, q, w: L.wing_loss(p, q, w, omega=1.0), a, b),
        (L.AdaptiveWingLoss(), L.adaptive_wing_loss, h1, h2),
        (L.HeatmapMSELoss(half=True), lambda p, q, w: L.heatmap_mse(p, q, w, half=True), h1, h2),
        (L.OHKMMSELoss(topk=2), lambda p, q, w: L.ohkm_mse(p, q, w, topk=2), h1, h2),
        (L.SpatialSoftmaxCELoss(), L.spatial_softmax_ce, h1, h2),
        (L.KL1DLoss(beta=2.0), lambda p, q, w: L.kl_1d(p, q, w, beta=2.0), a, b),
    ]
    for module, fn, p, q in pairs:
        assert torch.equal(module(p, q, w), fn(p, q, w)), type(module).__name__
    kinds = {name: spec.kind for name, spec in L.LOSSES.items()}
    assert kinds == {"l2": "coords", "l1": "coords", "smooth_l1": "coords", "wing": "coords",
                     "mse": "heatmaps", "ohkm": "heatmaps", "adaptive_wing": "heatmaps",
                     "ce": "heatmaps", "kl_1d": "simcc"}  # fmt: skip
    assert isinstance(L.get_loss("ohkm", topk=3), L.OHKMMSELoss)
    with pytest.raises(ValueError, match="unknown loss"):
        L.get_loss("focal")


def test_registry_losses_are_the_functions_with_the_network_settings():
    rng = torch.Generator().manual_seed(0)
    p, q = torch.rand(2, 5, 2, generator=rng), torch.rand(2, 5, 2, generator=rng)
    h1, h2 = torch.rand(2, 5, 4, 4, generator=rng), torch.rand(2, 5, 4, 4, generator=rng)
    w = torch.tensor([[1.0, 0, 1, 1, 1], [1, 1, 1, 0, 1]])
    assert torch.equal(L.coordinate_loss("l2", p, q, w), L.coordinate_mse(p, q, w))
    assert torch.equal(L.coordinate_loss("l1", p, q, w), L.l1(p, q, w))
    assert torch.equal(L.coordinate_loss("smooth_l1", p, q, w), L.smooth_l1(p, q, w, beta=0.02))
    # wing in [-1, 1] units: omega 0.1, epsilon 0.02, and the sum over keypoints made a mean
    wing = L.wing_loss(p, q, w, omega=0.1, epsilon=0.02) / 5
    assert torch.equal(L.coordinate_loss("wing", p, q, w), wing)
    assert torch.equal(L.heatmap_loss("mse", h1, h2, w), L.heatmap_mse(h1, h2, w))
    assert torch.equal(L.heatmap_loss("ce", h1, h2, w), L.spatial_softmax_ce(h1, h2, w))
    with pytest.raises(ValueError, match="'mse' compares heatmaps, not coords"):
        L.coordinate_loss("mse", p, q, w)
    with pytest.raises(ValueError, match="'l1' compares coords, not heatmaps"):
        L.heatmap_loss("l1", h1, h2, w)
    with pytest.raises(ValueError, match="unknown heatmaps loss 'focal'"):
        L.heatmap_loss("focal", h1, h2, w)


def test_bad_inputs_raise_clear_errors():
    a = torch.zeros(2, 3, 2)
    with pytest.raises(ValueError, match="differ in shape"):
        L.coordinate_mse(a, torch.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="weights must have shape"):
        L.l1(a, a, torch.ones(2, 2))
    with pytest.raises(ValueError, match="NaN"):
        L.wing_loss(a, torch.full_like(a, float("nan")))
    with pytest.raises(ValueError, match=">= 0"):
        L.smooth_l1(a, a, -torch.ones(2, 3))
    with pytest.raises(ValueError, match="4-D"):
        L.heatmap_mse(a, a)
    with pytest.raises(ValueError, match="3-D"):
        L.kl_1d(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="floating"):
        L.l1(torch.zeros(2, 3, 2, dtype=torch.long), torch.zeros(2, 3, 2, dtype=torch.long))
