"""The architecture diagrams draw what the networks built from the same config contain."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from kplearn.models import build_model
from kplearn.viz import drawn, plot_hourglass_diagram, plot_hrnet_diagram


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " " + fig.axes[0].get_title()


@pytest.mark.parametrize("stacks, depth", [(1, 1), (2, 2), (4, 3)])
def test_hourglass_blocks_match_the_config(stacks, depth):
    fig = plot_hourglass_diagram({"stacks": stacks, "depth": depth, "channels": 16, "stride": 4})
    assert len(drawn(fig, "stack-")) == stacks
    assert len(drawn(fig, "head-")) == len(drawn(fig, "loss-")) == stacks  # intermediate supervision
    assert len(drawn(fig, "merge-")) == stacks - 1
    for i in range(stacks):
        assert len(drawn(fig, f"level-{i}-")) == 2 * depth + 1
        assert len(drawn(fig, f"skip-{i}-")) == depth
    words = texts(fig)
    assert f"/{4 * 2**depth}" in words and f"hourglass {stacks}" in words and "loss" in words
    assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()


def test_hourglass_diagram_reads_the_network():
    net = build_model("hourglass", "faces68", preset="fast", input_size=(64, 64))
    fig = plot_hourglass_diagram(net)
    assert len(drawn(fig, "stack-")) == len(net.hourglasses)
    assert len(drawn(fig, "level-0-")) == 2 * net.config["depth"] + 1
    assert f"{net.config['channels']} channels" in fig.axes[0].get_title()


@pytest.mark.parametrize("branches, modules", [(1, 1), (3, 1), (4, 2)])
def test_hrnet_blocks_match_the_config(branches, modules):
    fig = plot_hrnet_diagram({"branches": branches, "modules": modules, "width": 8, "stride": 4})
    assert len(drawn(fig, "branch-")) == branches
    assert len(drawn(fig, "fusion-")) == (branches - 1) * modules
    # fuse module m of stage s (s + 1 branches) draws one block per branch
    assert len(drawn(fig, "module-")) == modules * sum(s + 1 for s in range(1, branches))
    words = texts(fig)
    for b in range(branches):
        assert f"stride {4 * 2**b}" in words and f"{8 * 2**b} ch" in words
    assert "heatmaps" in words


def test_hrnet_diagram_reads_the_network():
    net = build_model("hrnet", "faces68", preset="fast", input_size=(64, 64))
    fig = plot_hrnet_diagram(net)
    fusions = sum(len(stage) for stage in net.stages)
    assert len(drawn(fig, "fusion-")) == fusions
    assert len(drawn(fig, "branch-")) == len(net.transitions) + 1


@pytest.mark.parametrize("bad", [{"stacks": 0}, {"stacks": 1.5}, {"depth": "2"}, {"stacks": True}])
def test_hourglass_bad_settings(bad):
    key = next(iter(bad))
    with pytest.raises(ValueError, match=f"config\\['{key}'\\] must be a positive integer"):
        plot_hourglass_diagram(bad)


@pytest.mark.parametrize("bad", [{"branches": -1}, {"modules": None}, {"width": 0}])
def test_hrnet_bad_settings(bad):
    key = next(iter(bad))
    with pytest.raises(ValueError, match=f"config\\['{key}'\\] must be a positive integer"):
        plot_hrnet_diagram(bad)


def test_config_must_be_a_mapping():
    with pytest.raises(ValueError, match="config must be a dict"):
        plot_hrnet_diagram([3, 1])
