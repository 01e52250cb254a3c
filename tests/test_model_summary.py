"""kplearn.models.model_summary: one row per layer with its output shape and parameters."""

import pytest
import torch
from torch import nn

from kplearn.models import build_model, count_parameters, model_summary


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 2, 1))
        self.frozen = nn.Linear(2, 2)
        self.frozen.requires_grad_(False)

    def forward(self, x):
        y = self.body(x)
        return {"maps": y, "pooled": self.frozen(y.mean((2, 3)))}


def _rows(text):
    return [line.split() for line in text.splitlines()]


def test_summary_lists_nested_layers_with_shapes_and_parameters():
    net = TwoOutputs().train()
    text = model_summary(net, (6, 5), depth=2)
    rows = _rows(text)
    assert rows[0][0] == "layer"
    by_name = {r[0]: r for r in rows[1:-1]}
    assert list(by_name) == ["body", "body.0", "body.1", "frozen"]
    assert by_name["body"][1:] == ["Sequential", "(2,", "5,", "6)", "122"]  # (C, H, W) of one image
    assert by_name["body.0"][-1] == str(3 * 4 * 9 + 4)
    assert by_name["frozen"][2:4] == ["(2,)", "6"]
    assert rows[-1] == ["total", f"{count_parameters(net):,}", "(122", "trainable)"]
    assert net.training  # the mode is restored
    # Depth 1: the direct children only; their parameters add up to the total.
    top = _rows(model_summary(net, (6, 5), depth=1))
    assert [r[0] for r in top[1:-1]] == ["body", "frozen"]
    assert sum(int(r[-1]) for r in top[1:-1]) == count_parameters(net)


def test_summary_of_a_kplearn_network_uses_its_input_size():
    net = build_model("regression", "faces68", preset="fast")
    text = model_summary(net, depth=1)
    assert "(68, 2)" in text.splitlines()[2]  # head: 68 (x, y) per image
    assert "(128, 4, 4)" in text  # the last encoder map: stride 16 on 64 x 64
    assert text.splitlines()[-1].split()[-1] == f"{count_parameters(net):,}"
    with torch.no_grad():
        assert net(torch.zeros(2, 3, 64, 64))["coords"].shape == (2, 68, 2)


def test_summary_needs_an_input_size_and_a_depth():
    with pytest.raises(ValueError, match="input_size"):
        model_summary(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="depth"):
        model_summary(TwoOutputs(), (4, 4), depth=0)
