"""Tests for kplearn.viz: what is drawn, where, and with which titles and labels."""

from __future__ import annotations

import importlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402

from kplearn import viz  # noqa: E402
from kplearn.data.datasets import KeypointDataset, Sample  # noqa: E402
from kplearn.skeletons import get_skeleton  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def collection(ax, gid):
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) <= 1
    return found[0] if found else None


def n_points(ax, gid) -> int:
    c = collection(ax, gid)
    return 0 if c is None else len(c.get_offsets())


def coco_pose(seed=0):
    rng = np.random.default_rng(seed)
    kp = np.column_stack([rng.uniform(5, 55, 17), rng.uniform(5, 75, 17), np.full(17, 2.0)])
    kp[[3, 8, 12], 2] = 1
    kp[[4, 15], 2] = 0
    kp[[4, 15], :2] = np.nan  # unlabelled: coordinates mean nothing, even NaN is fine
    return kp


def expected_edges(kp, skeleton, show_hidden=True):
    v = kp[..., 2]
    drawn = (v == 2) | ((v == 1) & show_hidden)
    return sum(bool(drawn[a] and drawn[b]) for a, b in skeleton.edges)


@pytest.mark.parametrize("module", ["classical", "interest", "keypoints", "tradeoff", "training"])
def test_package_exports_every_public_drawing(module):
    # Notebooks import from the package: each submodule's public names must be listed in
    # kplearn.viz.__all__ and be the very same objects there.
    sub = importlib.import_module(f"kplearn.viz.{module}")
    assert len(set(viz.__all__)) == len(viz.__all__)
    for name in sub.__all__:
        assert name in viz.__all__, name
        assert getattr(viz, name) is getattr(sub, name), name


def test_draw_keypoints_draws_visible_hidden_and_edges():
    sk = get_skeleton("coco17")
    kp = coco_pose()
    img = np.zeros((80, 60, 3), np.uint8)
    ax = viz.draw_keypoints(img, kp, sk)
    assert n_points(ax, "keypoints-visible") == 12
    assert n_points(ax, "keypoints-hidden") == 3
    np.testing.assert_allclose(
        collection(ax, "keypoints-visible").get_offsets(), kp[kp[:, 2] == 2, :2]
    )
    np.testing.assert_allclose(
        collection(ax, "keypoints-hidden").get_offsets(), kp[kp[:, 2] == 1, :2]
    )
    hidden_faces = collection(ax, "keypoints-hidden").get_facecolors()
    assert len(hidden_faces) == 0 or np.all(hidden_faces[:, 3] == 0)  # hollow
    edges = collection(ax, "skeleton-edges")
    assert isinstance(edges, LineCollection)
    assert len(edges.get_segments()) == expected_edges(kp, sk)
    assert ax.get_title() == "coco17: 12 visible, 3 hidden"
    assert ax.get_xlabel() and ax.get_ylabel()
    assert ax.get_xlim() == (-0.5, 59.5) and ax.get_ylim() == (79.5, -0.5)
    assert ax.get_legend() is None

    ax2 = viz.draw_keypoints(img, kp, sk, show_hidden=False, title="no hidden")
    assert n_points(ax2, "keypoints-hidden") == 0
    assert len(collection(ax2, "skeleton-edges").get_segments()) == expected_edges(kp, sk, False)
    assert ax2.get_title() == "no hidden"


def test_draw_keypoints_multi_instance_predictions_and_grey_image():
    sk = get_skeleton("coco17")
    kp = np.stack([coco_pose(0), coco_pose(1)])
    pred = np.nan_to_num(kp[..., :2]) + 1.5
    fig, ax = plt.subplots()
    out = viz.draw_keypoints(
        np.zeros((80, 60), np.uint8), kp, sk, ax=ax, predictions=pred, color_by="instance"
    )
    assert out is ax
    assert n_points(ax, "keypoints-visible") == 24
    assert n_points(ax, "predictions") == 34  # two columns: every prediction is drawn
    assert len(collection(ax, "errors").get_segments()) == 30  # to every labelled ground truth
    assert ax.get_legend() is not None
    assert ax.get_images()[0].get_cmap().name == "gray"
    # predictions with a third column: only points with a positive score are drawn
    pred3 = np.concatenate([pred, np.ones(pred.shape[:2] + (1,))], axis=2)
    pred3[0, :5, 2] = 0
    ax3 = viz.draw_keypoints(np.zeros((80, 60), np.uint8), kp, sk, predictions=pred3)
    assert n_points(ax3, "predictions") == 29


def test_colours_by_part_and_side():
    coco = get_skeleton("coco17")
    part = viz.keypoint_colors(coco, "part")
    assert part.shape == (17, 4)
    assert np.all(part[0] == part[4]) and not np.all(part[0] == part[5])  # head vs arm
    side = viz.keypoint_colors(coco, "side")
    le, re, lw = coco.index("left_eye"), coco.index("right_eye"), coco.index("left_wrist")
    assert np.all(side[le] == side[lw]) and not np.all(side[le] == side[re])
    f68 = viz.keypoint_colors("faces68", "part")
    assert len({tuple(c) for c in f68}) == 9  # nine face parts
    with pytest.raises(ValueError, match="color_by"):
        viz.keypoint_colors(coco, "no-such-colour")


def test_show_grid_and_show_dataset():
    sk = get_skeleton("faces5")
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (20, 24, 3), dtype=np.uint8) for _ in range(5)]
    kps = [
        np.column_stack([rng.uniform(2, 20, 5), rng.uniform(2, 17, 5), np.full(5, 2.0)])
        for _ in range(5)
    ]
    fig = viz.show_grid(images, kps, sk, ncols=3, titles=list("abcde"))
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:5]] == list("abcde")
    assert not fig.axes[5].axison
    assert fig.get_suptitle()
    assert sum(n_points(ax, "keypoints-visible") for ax in fig.axes) == 25
    fig2 = viz.show_grid(np.stack(images[:2]), np.stack(kps[:2]), sk, predictions=np.stack(kps[:2]))
    assert len(fig2.axes) == 2 and "prediction" in fig2.get_suptitle()
    assert np.allclose(fig2.get_size_inches(), (5.2, 3.0))

    data = KeypointDataset([Sample(im, k[None], name=f"img{i}") for i, (im, k) in enumerate(zip(images, kps, strict=True))],
                           sk, "toy")  # fmt: skip
    fig3 = viz.show_dataset(data, n=4, ncols=2)
    assert [ax.get_title() for ax in fig3.axes] == ["img0", "img1", "img2", "img3"]
    assert "toy" in fig3.get_suptitle()


def test_overlay_heatmaps_places_heatmap_pixels_on_image_pixels():
    img = np.zeros((64, 48, 3), np.uint8)
    hm = np.zeros((2, 16, 12))
    hm[0, 5, 7] = 1.0
    hm[1, 10, 2] = 0.5
    ax = viz.overlay_heatmaps(img, hm, keypoints=np.array([[29.5, 21.5, 2]]), alpha=0.4)
    layer = [im for im in ax.get_images() if im.get_gid() == "heatmap-overlay"][0]
    # stride 4: heatmap pixel j covers image [4j - 0.5, 4j + 3.5], so the extent is the image's
    assert tuple(layer.get_extent()) == (-0.5, 47.5, 63.5, -0.5)
    data = layer.get_array()
    assert data.shape == (16, 12) and data.max() == 1.0 and data[10, 2] == 0.5  # max over keypoints
    assert layer.get_alpha() == 0.4
    assert n_points(ax, "keypoints-visible") == 1
    assert "stride 4" in ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    ax2 = viz.overlay_heatmaps(img, hm, channels=[1], title="channel 1")
    layer2 = [im for im in ax2.get_images() if im.get_gid() == "heatmap-overlay"][0]
    assert layer2.get_array()[10, 2] == 1.0  # normalised to its own max
    assert ax2.get_title() == "channel 1"


def test_overlay_with_skeleton_and_torch_heatmaps():
    torch = pytest.importorskip("torch")
    kp = np.array([[5, 5, 2], [15, 5, 2], [10, 10, 1], [6, 15, 2], [14, 15, 0]], float)
    ax = viz.overlay_heatmaps(
        np.zeros((20, 20), np.uint8), torch.zeros(5, 5, 5), kp, skeleton="faces5"
    )
    assert n_points(ax, "keypoints-visible") == 3 and n_points(ax, "keypoints-hidden") == 1


def test_plot_heatmap_channels():
    hm = np.random.default_rng(0).random((5, 8, 8))
    fig = viz.plot_heatmap_channels(hm, "faces5", ncols=3)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == list(get_skeleton("faces5").keypoint_names)
    assert fig.get_suptitle()
    fig2 = viz.plot_heatmap_channels(hm, channels=[4, 1], image=np.zeros((32, 32, 3), np.uint8))
    assert [ax.get_title() for ax in fig2.axes if ax.get_title()] == ["keypoint 4", "keypoint 1"]
    with pytest.raises(ValueError, match="layout"):
        viz.plot_heatmap_channels(hm, "coco17")


def test_plot_pck_curves_plots_the_given_values():
    t = np.linspace(0, 0.5, 11)
    curves = {"a": (t, t), "b": (t, np.sqrt(t), 0.42)}
    fig = viz.plot_pck_curves(curves, title="faces", xlabel="threshold (NME)")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["a", "b (AUC 0.420)"]
    np.testing.assert_allclose(lines[1].get_xdata(), t)
    np.testing.assert_allclose(lines[1].get_ydata(), np.sqrt(t))
    assert ax.get_title() == "faces" and ax.get_xlabel() == "threshold (NME)" and ax.get_ylabel()
    assert ax.get_ylim()[1] == pytest.approx(1.02)
    assert viz.plot_pck_curves({"pct": (t, 100 * t)}).axes[0].get_ylim()[1] == pytest.approx(102)


def test_plot_bar_table_bars_equal_values():
    table = {"mean-shape": {"nme": 0.12, "pck": 0.4}, "cnn": {"nme": 0.05}}
    fig = viz.plot_bar_table(table, title="faces", lower_is_better=["nme"])
    assert fig.get_suptitle() == "faces"
    nme_ax, pck_ax = fig.axes
    assert nme_ax.get_title() == "nme" and "lower" in nme_ax.get_ylabel()
    assert "higher" in pck_ax.get_ylabel() and pck_ax.get_xlabel() == "method"
    heights = [p.get_height() for p in nme_ax.patches]
    np.testing.assert_allclose(heights, [0.12, 0.05])
    assert [t.get_text() for t in pck_ax.texts] == ["0.4", "n/a"]
    assert [t.get_text() for t in nme_ax.get_xticklabels()] == ["mean-shape", "cnn"]


def test_bad_inputs():
    sk = get_skeleton("faces5")
    kp = np.array([[5, 5, 2], [15, 5, 2], [10, 10, 2], [6, 15, 2], [14, 15, 2]], float)
    img = np.zeros((20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        viz.draw_keypoints(img.astype(np.float32), kp, sk)
    with pytest.raises(ValueError, match="H×W"):
        viz.draw_keypoints(np.zeros((20, 20, 4), np.uint8), kp, sk)
    with pytest.raises(ValueError, match="layout 'faces5'"):
        viz.draw_keypoints(img, kp[:4], sk)
    bad = kp.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        viz.draw_keypoints(img, bad, sk)
    bad[2, 2] = 0
    viz.draw_keypoints(img, bad, sk)  # unlabelled NaN is fine
    with pytest.raises(ValueError, match="visibility"):
        viz.draw_keypoints(img, np.column_stack([kp[:, :2], np.full(5, 3.0)]), sk)
    with pytest.raises(ValueError, match="predictions"):
        viz.draw_keypoints(img, kp, sk, predictions=kp[:3])
    with pytest.raises(ValueError, match="entries"):
        viz.show_grid([img, img], [kp], sk)
    with pytest.raises(ValueError, match="no images"):
        viz.show_grid([], [], sk)
    with pytest.raises(ValueError, match="NaN"):
        viz.overlay_heatmaps(img, np.full((5, 4, 4), np.nan))
    with pytest.raises(ValueError, match="shape"):
        viz.overlay_heatmaps(img, np.zeros((1, 2, 3, 4)))
    with pytest.raises(ValueError, match="no curves"):
        viz.plot_pck_curves({})
    with pytest.raises(ValueError, match="thresholds"):
        viz.plot_pck_curves({"a": ([0, 0.1], [0.5])})
    with pytest.raises(ValueError, match="increase"):
        viz.plot_pck_curves({"a": ([0.1, 0.0], [0.5, 0.6])})
    with pytest.raises(ValueError, match="empty"):
        viz.plot_bar_table({})
    assert isinstance(
        collection(viz.draw_keypoints(img, kp, sk), "keypoints-visible"), PathCollection
    )
