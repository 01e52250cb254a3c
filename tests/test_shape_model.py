"""Procrustes alignment and the PCA shape model."""

from __future__ import annotations

import numpy as np
import pytest

from kplearn.classical.shape_model import (
    ShapeModel,
    apply_similarity,
    generalized_procrustes,
    similarity_transform,
)


def _rot(angle: float, scale: float = 1.0) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return scale * np.array([[c, -s], [s, c]])


def _base(k: int = 12, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(k, 2))


def test_similarity_transform_hand_worked():
    # Unit square, scaled by 2, turned by +90 degrees, moved by (3, -1): A = [[0, -2], [2, 0]].
    src = np.array([[0.0, 0], [1, 0], [1, 1], [0, 1]])
    dst = np.array([[3.0, -1], [3, 1], [1, 1], [1, -1]])
    A, t = similarity_transform(src, dst)
    np.testing.assert_allclose(A, [[0, -2], [2, 0]], atol=1e-12)
    np.testing.assert_allclose(t, [3, -1], atol=1e-12)
    np.testing.assert_allclose(apply_similarity(src, A, t), dst, atol=1e-12)


def test_similarity_transform_zero_weight_ignores_outlier():
    src = _base()
    dst = apply_similarity(src, _rot(0.4, 1.5), [2.0, 3.0])
    dst[0] += 50.0  # a wild point
    w = np.ones(len(src))
    w[0] = 0.0
    A, t = similarity_transform(src, dst, w)
    np.testing.assert_allclose(A, _rot(0.4, 1.5), atol=1e-10)
    np.testing.assert_allclose(t, [2, 3], atol=1e-10)


@pytest.mark.parametrize(
    "src, dst, match",
    [
        (np.zeros((4, 3)), np.zeros((4, 3)), "expected a \\(K, 2\\)"),
        (np.ones((4, 2)), np.ones((4, 2)), "coincide"),
        (np.array([[0.0, np.nan], [1, 1]]), np.ones((2, 2)), "NaN"),
        (np.zeros((4, 2)), np.zeros((5, 2)), "differ"),
    ],
)
def test_similarity_transform_bad_input(src, dst, match):
    with pytest.raises(ValueError, match=match):
        similarity_transform(src, dst)


def test_procrustes_removes_similarity():
    base = _base()
    rng = np.random.default_rng(1)
    shapes = np.stack([
        apply_similarity(base, _rot(rng.uniform(-1, 1), rng.uniform(0.5, 2)), rng.normal(size=2) * 10)
        for _ in range(6)
    ])
    mean, aligned = generalized_procrustes(shapes)
    # Pure similarity copies of one shape align onto one shape, the unit-norm centred base.
    np.testing.assert_allclose(aligned, np.broadcast_to(aligned[0], aligned.shape), atol=1e-9)
    np.testing.assert_allclose(mean.mean(0), 0, atol=1e-12)
    assert np.linalg.norm(mean) == pytest.approx(1.0)
    centred = base - base.mean(0)
    A, t = similarity_transform(centred / np.linalg.norm(centred), mean)
    assert np.hypot(A[0, 0], A[1, 0]) == pytest.approx(1.0)  # same size: only a rotation apart
    np.testing.assert_allclose(apply_similarity(centred / np.linalg.norm(centred), A, t), mean, atol=1e-9)


def _deformed_set(n=400, seed=0, sd=(0.08, 0.03)):
    """Shapes with exactly two deformation modes of known spread, at random poses."""
    rng = np.random.default_rng(seed)
    base = _base(10, seed=3)
    base = (base - base.mean(0)) / np.linalg.norm(base - base.mean(0))
    sim = ShapeModel._similarity_basis(base)
    d = rng.normal(size=(20, 2))
    d -= sim @ (sim.T @ d)  # deformations that no similarity can mimic
    q, _ = np.linalg.qr(d)
    coef = rng.normal(size=(n, 2)) * np.array(sd)
    shapes = base + (coef @ q.T).reshape(n, 10, 2)
    poses = [(_rot(rng.uniform(-0.5, 0.5), rng.uniform(20, 40)), rng.normal(size=2) * 30) for _ in range(n)]
    return np.stack([apply_similarity(s, A, t) for s, (A, t) in zip(shapes, poses, strict=True)]), np.array(sd)


def test_shape_model_recovers_known_modes_and_is_pose_invariant():
    shapes, sd = _deformed_set()
    model = ShapeModel(variance=0.999).fit(shapes)
    assert len(model.eigenvalues) == 2
    # The generating spreads (independent of the code), up to sampling and tangent-space error.
    np.testing.assert_allclose(np.sqrt(model.eigenvalues), sd, rtol=0.1)
    # Orthonormal modes, orthogonal to every similarity change of the mean.
    np.testing.assert_allclose(model.modes.T @ model.modes, np.eye(2), atol=1e-10)
    np.testing.assert_allclose(ShapeModel._similarity_basis(model.mean).T @ model.modes, 0, atol=1e-10)
    # Moving every training shape by a new similarity changes nothing.
    rng = np.random.default_rng(5)
    moved = np.stack([apply_similarity(s, _rot(rng.uniform(-2, 2), rng.uniform(0.1, 9)), rng.normal(size=2))
                      for s in shapes])
    model2 = ShapeModel(variance=0.999).fit(moved)
    np.testing.assert_allclose(model2.eigenvalues, model.eigenvalues, rtol=1e-8)


def test_projection_of_in_model_shape_is_exact():
    shapes, _ = _deformed_set()
    model = ShapeModel(n_modes=2).fit(shapes)
    b = np.array([1.5, -2.0]) * np.sqrt(model.eigenvalues)
    A, t = _rot(0.7, 55.0), np.array([40.0, -12.0])
    y = model.shape(b, A, t)
    b_fit, A_fit, t_fit = model.fit_shape(y)
    np.testing.assert_allclose(b_fit, b, atol=1e-9)
    np.testing.assert_allclose(A_fit, A, atol=1e-8)
    np.testing.assert_allclose(t_fit, t, atol=1e-8)
    np.testing.assert_allclose(model.project(y), y, atol=1e-8)


def test_projection_clamps_coefficients():
    shapes, _ = _deformed_set()
    model = ShapeModel(n_modes=2, clamp=3.0).fit(shapes)
    sd = np.sqrt(model.eigenvalues)
    y = model.shape(np.array([10.0, 1.0]) * sd, _rot(-0.2, 30.0), np.array([5.0, 5.0]))
    b_fit, _, _ = model.fit_shape(y)
    assert b_fit[0] == pytest.approx(3.0 * sd[0])  # clamped at +3 sqrt(lambda)
    np.testing.assert_allclose(model.clamp_coefficients(np.array([-9.0, 0.5]) * sd), np.array([-3, 0.5]) * sd)
    # The projection is a plausible shape, so it no longer reproduces the exaggerated input.
    assert np.abs(model.project(y) - y).max() > 1e-3


def test_projection_ignores_zero_weight_outlier():
    shapes, _ = _deformed_set()
    model = ShapeModel(n_modes=2).fit(shapes)
    y = model.shape(np.array([1.0, 0.5]) * np.sqrt(model.eigenvalues), _rot(0.1, 30.0), np.zeros(2))
    bad = y.copy()
    bad[3] += 100.0
    w = np.ones(len(y))
    w[3] = 0.0
    np.testing.assert_allclose(model.project(bad, w), y, atol=1e-7)


def test_shape_model_bad_input():
    with pytest.raises(ValueError, match="at least two"):
        ShapeModel().fit(np.zeros((1, 5, 2)))
    with pytest.raises(ValueError, match="variance"):
        ShapeModel(variance=0.0)
    with pytest.raises(ValueError, match="not fitted"):
        ShapeModel().project(np.zeros((5, 2)))
    shapes, _ = _deformed_set(n=20)
    model = ShapeModel().fit(shapes)
    with pytest.raises(ValueError, match="expected shape"):
        model.project(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="weights"):
        model.project(shapes[0], np.zeros(10))
