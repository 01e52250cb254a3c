"""Tests for the accuracy-cost table (lesson 8) and its plot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kplearn.data.synthetic import make_faces
from kplearn.models import build_model
from kplearn.train.tradeoff import cost_accuracy_table, format_cost_table, time_samples
from kplearn.viz import plot_cost_accuracy

torch.set_num_threads(1)


class _MeanShape:
    """A classical stand-in: always predicts the same (given) face."""

    family = "classical"
    name = "fixed"

    def __init__(self, kp):
        from kplearn.skeletons import get_skeleton

        self.skeleton = get_skeleton("faces68")
        self.kp = kp

    def predict(self, images, boxes=None):
        return np.repeat(self.kp[None], len(images), 0)


@pytest.fixture(scope="module")
def faces():
    return make_faces(6, image_size=64, seed=4)


def test_rows_hold_sizes_times_and_the_held_out_metric(faces):
    small = build_model("regression", "faces68", preset="fast", input_size=(64, 64))
    big = build_model("regression", "faces68", input_size=(64, 64))
    oracle = _MeanShape(faces[0].keypoints[0])
    rows = cost_accuracy_table(
        {"small": small, "big": big, "fixed": oracle}, faces, runs=50, warmup=1
    )
    by = {r["name"]: r for r in rows}
    assert by["small"]["params"] == sum(p.numel() for p in small.parameters())
    assert by["big"]["params"] > by["small"]["params"]
    assert by["big"]["macs"] > by["small"]["macs"] > by["small"]["params"]
    assert by["fixed"]["params"] is None and by["fixed"]["macs"] is None
    for r in rows:
        assert r["runs"] == 50 and 0 < r["ms_p10"] <= r["ms"] <= r["ms_p90"]
        assert r["metric"] == "nme" and np.isfinite(r["nme"])
    # The fixed predictor is exact on the face it copies and wrong elsewhere.
    assert 0 < by["fixed"]["nme"] < 1
    text = format_cost_table(rows)
    assert text.splitlines()[0].split()[0] == "model" and "fixed" in text


def test_timing_is_at_one_thread_and_restores_the_thread_count(faces, monkeypatch):
    import kplearn.train.tradeoff as tradeoff

    torch.set_num_threads(2)
    seen = []
    timed = tradeoff.time_samples

    def recording(call, runs, warmup):
        def watched():
            seen.append(torch.get_num_threads())
            return call()

        return timed(watched, runs, warmup)

    monkeypatch.setattr(tradeoff, "time_samples", recording)
    net = build_model("regression", "faces68", preset="fast")
    cost_accuracy_table({"r": net}, faces[:2], runs=3, warmup=0)
    assert seen == [1, 1, 1]
    assert torch.get_num_threads() == 2
    torch.set_num_threads(1)


def test_time_samples_counts_runs_and_refuses_none():
    calls = []
    s = time_samples(lambda: calls.append(1), runs=7, warmup=2)
    assert s.shape == (7,) and len(calls) == 9 and np.all(s >= 0)
    with pytest.raises(ValueError, match="runs"):
        time_samples(lambda: None, runs=0)


def test_bad_inputs_are_refused(faces):
    with pytest.raises(ValueError, match="no models"):
        cost_accuracy_table({}, faces)
    with pytest.raises(ValueError, match="bottom-up"):
        cost_accuracy_table({"p": build_model("paf", "faces68", preset="fast")}, faces, runs=1)


def test_plot_has_a_pareto_front_and_a_compute_panel():
    rows = [
        {"name": n, "params": p, "macs": m, "ms": t, "ms_p10": t * 0.9, "ms_p90": t * 1.2,
         "runs": 50, "metric": "nme", "nme": e}
        for n, p, m, t, e in [("a", 1e5, 1e7, 1.0, 0.08), ("b", 1e6, 1e8, 3.0, 0.05),
                              ("c", 2e6, 2e8, 4.0, 0.06), ("sdm", None, None, 2.0, 0.07)]
    ]  # fmt: skip
    fig = plot_cost_accuracy(rows)
    left, right = fig.axes
    front = [ln for ln in left.get_lines() if ln.get_label() == "Pareto front"][0]
    # c is slower and worse than b, so the front is a (fastest), sdm, b.
    assert front.get_xdata().tolist() == [1.0, 2.0, 3.0]
    assert len(right.collections[0].get_offsets()) == 3  # the networks only
    with pytest.raises(ValueError, match="no rows"):
        plot_cost_accuracy([])
